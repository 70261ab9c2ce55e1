#!/usr/bin/env bash
# A copy-only Dockerfile built into a two-platform image and pushed: rel's daemonless path
# (its own layer, config and index, its own registry client) against `buildah bud` of the
# same Dockerfile for each platform plus `buildah manifest push --all`, in one run (ratios).
#
#   benches/docker.sh            # builds rel --release, then measures
#   REL=path/to/rel REPS=5 benches/docker.sh
#
# Two 20 MB binaries (linux/amd64 and linux/arm64, cut from the Go toolchain's executables so
# they compress like real Go binaries) on `scratch`. Both push to a fresh repository of the
# same local `docker-registry` each run, so every blob is uploaded. rel's time is the dockers
# stage's own (`rel -v`: `dockers: done in …`); buildah's is the build, index and push.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${REL:-}" ]; then
  cargo build --release --quiet
  REL="$root/target/release/rel"
fi
for t in buildah docker-registry skopeo bc; do
  command -v "$t" >/dev/null || { echo "needs $t (scripts/test.sh installs it)"; exit 1; }
done
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs} BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
reps=${REPS:-3}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
reg_pid=$!
trap 'kill $reg_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done

pool="$work/pool"
go_tools=$(ls -d "$root"/.tools/go/lib/python3*/site-packages/go 2>/dev/null | head -n1 || true)
if [ -n "$go_tools" ]; then
  cat "$go_tools"/bin/* "$go_tools"/pkg/tool/*/* > "$pool"
else
  find /usr/bin -type f -size +200k | sort | head -n 200 | xargs cat > "$pool"
fi
pool_size=$(stat -c %s "$pool")
size=$((20 * 1024 * 1024))
p="$work/p"
i=0
for t in linux_amd64_v1 linux_arm64; do
  mkdir -p "$p/prebuilt/$t"
  off=$(( (i * 13 * 1024 * 1024 + i * 4099) % pool_size ))
  { tail -c +$((off + 1)) "$pool"; cat "$pool" "$pool"; } 2>/dev/null | head -c "$size" > "$p/prebuilt/$t/bench" || true
  chmod 755 "$p/prebuilt/$t/bench"
  i=$((i + 1))
done
cat > "$p/Dockerfile" <<'DOCKERFILE'
FROM scratch
ARG TARGETPLATFORM
COPY $TARGETPLATFORM/bench /usr/bin/bench
ENTRYPOINT ["/usr/bin/bench"]
DOCKERFILE
cat > "$p/.release.yaml" <<YAML
version: 1
project_name: bench
builds:
  - builder: prebuilt
    targets: [linux_amd64_v1, linux_arm64]
    path: "prebuilt/{{ target }}/bench"
dockers_v2:
  - images: ["127.0.0.1:$port/rel/run{{ env.RUN }}"]
    platforms: [linux/amd64, linux/arm64]
    builder: rel
YAML
printf 'dist/\n' > "$p/.gitignore"
(cd "$p" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm bench && git tag v1.0.0)

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
stage_time() { sed -n "s/.*$1: done in \([0-9.]*\)\(m\?s\).*/\1 \2/p" "$2" | awk '{ if ($2 == "ms") print $1 / 1000; else print $1 }'; }

echo "== copy-only Dockerfile, linux/amd64 + linux/arm64, 20 MB binary each, built and pushed ($reps runs, median)"
rel_t=$(for r in $(seq "$reps"); do
  (cd "$p" && RUN="$r" "$REL" -v --color never release --clean --skip publish,archive,checksum,changelog > "$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
  stage_time dockers "$work/log"
done | median)
digest_rel=$(skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$port/rel/run1:1.0.0" | sha256sum | cut -c1-12)

# The same context for buildah: the binaries under their platform folders.
ctx="$work/ctx"
mkdir -p "$ctx/linux/amd64" "$ctx/linux/arm64"
cp "$p/prebuilt/linux_amd64_v1/bench" "$ctx/linux/amd64/bench"
cp "$p/prebuilt/linux_arm64/bench" "$ctx/linux/arm64/bench"
cp "$p/Dockerfile" "$ctx/Dockerfile"
bah_t=$(for r in $(seq "$reps"); do
  s=$(now)
  for plat in linux/amd64 linux/arm64; do
    buildah bud -q --timestamp 0 --platform "$plat" -t "localhost/bench:${plat//\//-}" -f "$ctx/Dockerfile" "$ctx" > /dev/null
  done
  buildah manifest create "localhost/bench-list-$$:$r" > /dev/null
  buildah manifest add "localhost/bench-list-$$:$r" localhost/bench:linux-amd64 > /dev/null
  buildah manifest add "localhost/bench-list-$$:$r" localhost/bench:linux-arm64 > /dev/null
  buildah manifest push -q --all --tls-verify=false "localhost/bench-list-$$:$r" "docker://127.0.0.1:$port/buildah/run$r:1.0.0" > /dev/null
  e=$(now); echo "$e - $s" | bc -l
  buildah manifest rm "localhost/bench-list-$$:$r" > /dev/null 2>&1 || true
  buildah rmi -f localhost/bench:linux-amd64 localhost/bench:linux-arm64 > /dev/null 2>&1 || true
done | median)
printf 'rel dockers stage: %.2fs   buildah bud x2 + manifest push: %.2fs   ratio buildah / rel: %.2fx\n' "$rel_t" "$bah_t" "$(echo "$bah_t / $rel_t" | bc -l)"
digest_rel2=$(skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$port/rel/run$reps:1.0.0" | sha256sum | cut -c1-12)
printf 'rel index digest identical across runs: %s\n' "$([ "$digest_rel" = "$digest_rel2" ] && echo yes || echo NO)"

echo "== peak RSS of rel release (the two-platform image, built and pushed)"
(cd "$p" && RUN=rss /usr/bin/time -v "$REL" --color never release --clean --skip publish,archive,checksum,changelog 2> "$work/time.txt" > /dev/null)
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
printf 'rel peak RSS: %d KiB (%.1f MiB)\n' "$rss" "$(echo "$rss / 1024" | bc -l)"
