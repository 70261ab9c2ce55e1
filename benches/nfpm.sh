#!/usr/bin/env bash
# Linux packages against Debian's own tool, measured in one run (ratios).
#
#   benches/nfpm.sh            # builds rel --release, then measures
#   REL=path/to/rel REPS=5 benches/nfpm.sh
#
# 8 .deb, 8 .rpm, 8 .apk and 8 Arch Linux packages (linux amd64, arm64, 386, arm 7, riscv64,
# ppc64le, s390x, loong64) of a 20 MB binary each (cut from the Go toolchain's executables, so
# compressibility is that of real Go binaries): rel's nfpm stage (its own time, from `rel -v`)
# against `dpkg-deb --build` of the same contents with the same compression (gzip -9), one
# after the other; sizes; rel's peak RSS. Then the repository stage (APT + YUM metadata of the
# 16 debs and rpms) against `dpkg-scanpackages` + `createrepo_c` on the same packages.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${REL:-}" ]; then
  cargo build --release --quiet
  REL="$root/target/release/rel"
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install -y time)"; exit 1; }
command -v dpkg-deb >/dev/null || { echo "needs dpkg-deb"; exit 1; }
par=${PARALLELISM:-$(nproc)}
reps=${REPS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pool="$work/pool"
go_tools=$(ls -d "$root"/.tools/go/lib/python3*/site-packages/go 2>/dev/null | head -n1 || true)
if [ -n "$go_tools" ]; then
  cat "$go_tools"/bin/* "$go_tools"/pkg/tool/*/* > "$pool"
else
  find /usr/bin -type f -size +200k | sort | head -n 200 | xargs cat > "$pool"
fi
pool_size=$(stat -c %s "$pool")
targets=(linux_amd64_v1 linux_arm64 linux_386 linux_arm_7 linux_riscv64 linux_ppc64le linux_s390x linux_loong64)
debarch=(amd64 arm64 i386 armhf riscv64 ppc64el s390x loong64)
size=$((20 * 1024 * 1024))

p="$work/p"
mkdir -p "$p"
i=0
for t in "${targets[@]}"; do
  mkdir -p "$p/prebuilt/$t"
  off=$(( (i * 13 * 1024 * 1024 + i * 4099) % pool_size ))
  { tail -c +$((off + 1)) "$pool"; cat "$pool" "$pool"; } 2>/dev/null | head -c "$size" > "$p/prebuilt/$t/bench" || true
  chmod 755 "$p/prebuilt/$t/bench"
  i=$((i + 1))
done
cat > "$p/.release.yaml" <<YAML
version: 1
project_name: bench
snapshot: {version_template: "{{ version }}"}
builds:
  - builder: prebuilt
    targets: [$(IFS=,; echo "${targets[*]}")]
    path: "prebuilt/{{ target }}/bench"
nfpms:
  - formats: [deb, rpm, apk, archlinux]
    maintainer: "Bench <bench@example.com>"
    description: A benchmark package.
package_repositories:
  - dir: repo
YAML
printf 'dist/\n' > "$p/.gitignore"
(cd "$p" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm bench)

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }

echo "== 8 .deb + 8 .rpm + 8 .apk + 8 Arch packages of 20 MB each: rel's nfpm stage (-p $par) vs dpkg-deb --build -Zgzip -z9 x8 ($reps runs, median)"
stage_time() { sed -n "s/.*$1: done in \([0-9.]*\)\(m\?s\).*/\1 \2/p" "$2" | awk '{ if ($2 == "ms") print $1 / 1000; else print $1 }'; }
: > "$work/repo_times"
rel_t=$(for _ in $(seq "$reps"); do
  (cd "$p" && "$REL" -v --color never release --snapshot --clean -p "$par" --skip archive,checksum > "$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
  stage_time repository "$work/log" >> "$work/repo_times"
  stage_time nfpm "$work/log"
done | median)
repo_t=$(median < "$work/repo_times")

# The same contents as rel's packages, laid out for dpkg-deb.
for i in "${!targets[@]}"; do
  t=${targets[$i]}; a=${debarch[$i]}
  d="$work/deb/$t"
  mkdir -p "$d/DEBIAN" "$d/usr/bin" "$d/usr/share/doc/bench"
  cp "$p/prebuilt/$t/bench" "$d/usr/bin/bench"
  printf 'Package: bench\nVersion: 0.0.0\nSection: utils\nPriority: optional\nArchitecture: %s\nMaintainer: Bench <bench@example.com>\nDescription: A benchmark package.\n' "$a" > "$d/DEBIAN/control"
  printf 'Files: *\nCopyright: bench\nLicense: unknown\n' > "$d/usr/share/doc/bench/copyright"
done
dpkg_t=$(for _ in $(seq "$reps"); do
  rm -rf "$work/debout"; mkdir -p "$work/debout"
  s=$(now)
  for t in "${targets[@]}"; do dpkg-deb --root-owner-group -Zgzip -z9 --build "$work/deb/$t" "$work/debout/$t.deb" > /dev/null; done
  e=$(now); echo "$e - $s" | bc -l
done | median)
printf 'rel nfpm stage: %.2fs   dpkg-deb x8 sequential: %.2fs   ratio dpkg-deb / rel: %.2fx\n' "$rel_t" "$dpkg_t" "$(echo "$dpkg_t / $rel_t" | bc -l)"
rel_size=$(cat "$p"/dist/*.deb | wc -c)  # the debs, against the debs
dpkg_size=$(cat "$work"/debout/*.deb | wc -c)
printf 'size: rel %d bytes, dpkg-deb %d bytes, ratio %.4f\n' "$rel_size" "$dpkg_size" "$(echo "$rel_size / $dpkg_size" | bc -l)"

if command -v dpkg-scanpackages >/dev/null && command -v createrepo_c >/dev/null; then
  echo "== repository metadata of 8 debs + 8 rpms: rel's repository stage vs dpkg-scanpackages + createrepo_c ($reps runs, median)"
  mkdir -p "$work/scan/pool" "$work/scan/yum"
  cp "$p"/dist/*.deb "$work/scan/pool/"; cp "$p"/dist/*.rpm "$work/scan/yum/"
  base_t=$(for _ in $(seq "$reps"); do
    rm -rf "$work/scan/yum/repodata"
    s=$(now)
    (cd "$work/scan" && dpkg-scanpackages --multiversion pool > Packages 2>/dev/null && gzip -9kf Packages)
    createrepo_c -q --no-database "$work/scan/yum" > /dev/null
    e=$(now); echo "$e - $s" | bc -l
  done | median)
  printf 'rel repository stage: %.2fs   dpkg-scanpackages + createrepo_c: %.2fs   ratio: %.2fx\n' "$repo_t" "$base_t" "$(echo "$base_t / $repo_t" | bc -l)"
fi

echo "== peak RSS of rel release (32 packages and the repositories, no archives)"
(cd "$p" && /usr/bin/time -v "$REL" --color never release --snapshot --clean -p "$par" --skip archive,checksum 2> "$work/time.txt" > /dev/null)
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
printf 'rel peak RSS: %d KiB (%.1f MiB)\n' "$rss" "$(echo "$rss / 1024" | bc -l)"
