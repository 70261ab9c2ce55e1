#!/usr/bin/env bash
# Archive and checksum stages against the usual tools, measured in one run (ratios).
#
#   benches/archive.sh            # builds rel --release, then runs all three measurements
#   REL=path/to/rel benches/archive.sh
#
# 1. tar.gz: 8 binaries of 20 MB (slices of the machine's real ELF files, so compressibility is
#    that of real executables) through a `prebuilt` build; rel's archive stage (its own timing,
#    from `rel -v`) vs `tar czf` run sequentially for the same 8 archives; sizes vs `gzip -6`.
# 2. checksums of 1 GiB (8 files of 128 MiB, `formats: [binary]`): rel's checksum stage vs
#    `sha256sum` over the same files.
# 3. peak RSS of `rel release` while archiving 1 GiB as tar.gz (/usr/bin/time -v).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${REL:-}" ]; then
  cargo build --release --quiet
  REL="$root/target/release/rel"
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install -y time)"; exit 1; }
par=${PARALLELISM:-$(nproc)}
reps=${REPS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A pool of real executable bytes to cut synthetic binaries from: the Go toolchain's own
# binaries (real Go executables, what rel's users ship) when present, else the machine's ELF
# files (POOL=elf forces that).
pool="$work/pool"
go_tools=$(ls -d "$root"/.tools/go/lib/python3*/site-packages/go 2>/dev/null | head -n1 || true)
if [ -z "$go_tools" ] && [ -n "${REL_TEST_GO:-}" ]; then go_tools=$(dirname "$(dirname "$REL_TEST_GO")"); fi
if [ "${POOL:-go}" = go ] && [ -n "$go_tools" ]; then
  corpus="Go toolchain binaries ($go_tools)"
  cat "$go_tools"/bin/* "$go_tools"/pkg/tool/*/* > "$pool"
else
  corpus="ELF files of /usr"
  find /usr/bin /usr/lib/x86_64-linux-gnu /usr/libexec -type f -size +200k 2>/dev/null | sort \
    | while read -r f; do [ "$(head -c 4 "$f" | tr -d '\177')" = ELF ] && cat "$f"; done > "$pool" || true
fi
pool_size=$(stat -c %s "$pool")

targets=(linux_amd64_v1 linux_arm64 linux_386 linux_arm_7 darwin_amd64_v1 darwin_arm64 freebsd_amd64_v1 freebsd_arm64)

# project DIR SIZE_BYTES FORMAT: 8 prebuilt binaries of SIZE bytes each, committed.
project() {
  local dir=$1 size=$2 format=$3 i=0
  mkdir -p "$dir"
  for t in "${targets[@]}"; do
    mkdir -p "$dir/prebuilt/$t"
    # Each binary starts at a different offset of the pool (wrapping around), so no two match.
    local off=$(( (i * 13 * 1024 * 1024 + i * 4099) % pool_size ))
    { tail -c +$((off + 1)) "$pool"; cat "$pool" "$pool"; } 2>/dev/null | head -c "$size" > "$dir/prebuilt/$t/hello" || true
    chmod 755 "$dir/prebuilt/$t/hello"
    i=$((i + 1))
  done
  cat > "$dir/.release.yaml" <<EOF
version: 1
project_name: bench
snapshot: {version_template: "{{ version }}-bench"}
builds:
  - builder: prebuilt
    targets: [$(IFS=,; echo "${targets[*]}")]
    path: "prebuilt/{{ target }}/hello"
archives:
  - formats: [$format]
    name_template: "{{ project_name }}-{{ target }}"
    files: []
EOF
  printf 'dist/\n' > "$dir/.gitignore"
  (cd "$dir" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm bench)
}

# stage_secs DIR STAGE [rel args...]: run a release, print the named stage's own time in seconds.
stage_secs() {
  local dir=$1 stage=$2; shift 2
  (cd "$dir" && "$REL" -v --color never release --snapshot --clean -p "$par" "$@" > "$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
  sed -n "s/.*$stage: done in \([0-9.]*\)\(m\?s\).*/\1 \2/p" "$work/log" \
    | awk '{ if ($2 == "ms") print $1 / 1000; else print $1 }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }

echo "corpus: $corpus, $pool_size bytes; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
parts=${PARTS:-1 2 3}
part() { case " $parts " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if part 1; then
echo "== 1. tar.gz of 8 x 20 MB (parallelism $par, $reps runs, median)"
p1="$work/p1"
project "$p1" $((20 * 1024 * 1024)) tar.gz
rel_t=$(for _ in $(seq "$reps"); do stage_secs "$p1" archive --skip checksum; done | median)
tar_t=$(for _ in $(seq "$reps"); do
  rm -rf "$work/tarout"; mkdir -p "$work/tarout"
  s=$(now)
  for t in "${targets[@]}"; do tar czf "$work/tarout/$t.tar.gz" -C "$p1/prebuilt/$t" hello; done
  e=$(now); echo "$e - $s" | bc -l
done | median)
rel_size=$(cat "$p1"/dist/*.tar.gz | wc -c)
gz_size=0
for t in "${targets[@]}"; do gz_size=$((gz_size + $(gzip -6 -c "$p1/prebuilt/$t/hello" | wc -c))); done
printf 'rel archive stage: %.2fs   tar czf x8 sequential: %.2fs   speed-up: %.2fx\n' "$rel_t" "$tar_t" "$(echo "$tar_t / $rel_t" | bc -l)"
# CPU seconds (user + sys) of the same work: what the speed-up is on idle cores.
rel_cpu=$(cd "$p1" && /usr/bin/time -f "%U %S" "$REL" -q release --snapshot --clean -p "$par" --skip checksum 2>&1 >/dev/null | tail -n1 | awk '{ print $1 + $2 }')
tar_cpu=$( { /usr/bin/time -f "%U %S" sh -c "for t in ${targets[*]}; do tar czf $work/tarout/\$t.tar.gz -C $p1/prebuilt/\$t hello; done" ; } 2>&1 | tail -n1 | awk '{ print $1 + $2 }')
printf 'CPU time: rel release (all stages) %.2fs, tar czf x8 %.2fs: %.2fx less CPU per archive\n' "$rel_cpu" "$tar_cpu" "$(echo "$tar_cpu / $rel_cpu" | bc -l)"
printf 'compressed: rel %d bytes, gzip -6 %d bytes, ratio %.4f (input %d bytes)\n' "$rel_size" "$gz_size" "$(echo "$rel_size / $gz_size" | bc -l)" $((8 * 20 * 1024 * 1024))

fi

if part 2; then
echo "== 2. checksums of 1 GiB (8 x 128 MiB)"
p2="$work/p2"
project "$p2" $((128 * 1024 * 1024)) binary
cat "$p2"/prebuilt/*/hello > /dev/null  # warm the page cache for both sides
rel_c=$(for _ in $(seq "$reps"); do stage_secs "$p2" checksum; done | median)
cat "$p2"/dist/bench-* > /dev/null
sha_t=$(for _ in $(seq "$reps"); do
  s=$(now); (cd "$p2/dist" && sha256sum bench-* > /dev/null); e=$(now); echo "$e - $s" | bc -l
done | median)
sha_p=$(for _ in $(seq "$reps"); do
  s=$(now); (cd "$p2/dist" && ls bench-* | xargs -P "$par" -n 1 sha256sum > /dev/null); e=$(now); echo "$e - $s" | bc -l
done | median)
printf 'rel checksum stage: %.2fs (%.0f MB/s)   sha256sum: %.2fs (%.0f MB/s)   ratio: %.2fx\n' \
  "$rel_c" "$(echo "1073.741824 / $rel_c" | bc -l)" "$sha_t" "$(echo "1073.741824 / $sha_t" | bc -l)" "$(echo "$sha_t / $rel_c" | bc -l)"
printf 'sha256sum with xargs -P %s: %.2fs   ratio rel vs that: %.2fx\n' "$par" "$sha_p" "$(echo "$sha_p / $rel_c" | bc -l)"
(cd "$p2/dist" && sha256sum -c --quiet bench_*checksums.txt) && echo "sha256sum -c on rel's file: OK"

rm -rf "$p2"
fi

if part 3; then
echo "== 3. peak RSS archiving 1 GiB as tar.gz"
p3="$work/p3"
project "$p3" $((128 * 1024 * 1024)) tar.gz
(cd "$p3" && /usr/bin/time -v "$REL" --color never release --snapshot --clean -p "$par" 2> "$work/time.txt" >/dev/null) || { cat "$work/time.txt"; exit 1; }
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt")
printf 'rel release (1 GiB in, tar.gz, -p %s): peak RSS %d KiB (%.1f MiB), wall %s\n' "$par" "$rss" "$(echo "$rss / 1024" | bc -l)" "$wall"
sed -i 's/formats: \[tar.gz\]/formats: [tar.xz]/' "$p3/.release.yaml"
(cd "$p3" && git -c user.name=b -c user.email=b@b commit -qam xz && /usr/bin/time -v "$REL" --color never release --snapshot --clean -p "$par" 2> "$work/time.txt" >/dev/null)
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
printf 'same as tar.xz: peak RSS %.1f MiB\n' "$(echo "$rss / 1024" | bc -l)"
fi
