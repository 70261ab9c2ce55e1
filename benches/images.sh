#!/usr/bin/env bash
# Push of a 4-platform image (20 MB binary per platform) to a local docker-registry:
# rel's push vs `skopeo copy --all` of the same OCI layout (rel's own dist/images/<id>/), each
# each to a fresh registry so every blob is uploaded. Prints medians and the ratio.
#
#   benches/images.sh [runs]        (default 5 runs; needs docker-registry, skopeo, cargo)
#
# rel's push time is the one it logs with -v ("images: pushed <id> in …"): the push phase
# alone, after the layout is assembled. The end-to-end `rel release` time (copying the
# binaries, writing the four gzip layers, pushing) is printed too, for context.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[ -n "${REL:-}" ] || cargo build --release --quiet
rel=${REL:-$(pwd)/target/release/rel}
work=$(mktemp -d)
trap 'kill $reg_pid 2>/dev/null || true; rm -rf "$work"' EXIT

# A fresh registry (new port, empty storage) for every push: neither tool can find the blobs
# already present or mount them (skopeo's blob-info cache would otherwise mount them from an
# earlier run's repository).
reg_pid=
start_registry() {
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null || true
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$work/data"
  cat > "$work/reg.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/data}}
http: {addr: 127.0.0.1:$port}
YML
  docker-registry serve "$work/reg.yml" > "$work/reg.log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && return; sleep 0.05; done
  echo "docker-registry did not start" >&2; exit 1
}

# A project with prebuilt 20 MB binaries (half random, half text-like, so gzip has work
# comparable to a real Go binary).
p="$work/proj"
mkdir -p "$p"
for t in linux_amd64 linux_arm64 linux_arm linux_386; do
  mkdir -p "$p/bin/$t"
  { head -c 10M /dev/urandom; (set +o pipefail; yes "the quick brown fox $t jumps over the lazy dog" | head -c 10M); } > "$p/bin/$t/app"
  chmod 755 "$p/bin/$t/app"
done
cat > "$p/.release.yaml" <<YML
version: 1
project_name: app
builds:
  - id: app
    builder: prebuilt
    goos: [linux]
    goarch: [amd64, arm64, arm, "386"]
    goarm: ["7"]
    path: "bin/{{ os }}_{{ arch }}/app"
images:
  - id: app
    repository: "{{ env.BENCH_REGISTRY }}/bench/app"
    tags: ["{{ version }}"]
YML
(cd "$p" && echo dist/ > .gitignore && git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm "feat: bench" && git tag v1.0.0)

now() { date +%s.%N; }
rel_push=(); rel_total=(); skopeo_push=()
for i in $(seq "$runs"); do
  start_registry
  s=$(now)
  (cd "$p" && BENCH_REGISTRY="127.0.0.1:$port" "$rel" release --clean -v --skip publish 2> "$work/rel.log")
  e=$(now)
  rel_total+=("$(echo "$e - $s" | bc -l)")
  rel_push+=("$(sed -n 's/.*images: pushed app in \([0-9.]*\)\(m\?s\).*/\1 \2/p' "$work/rel.log" | awk '{print ($2=="ms") ? $1/1000 : $1}')")
  start_registry
  s=$(now)
  skopeo copy -q --all --dest-tls-verify=false "oci:$p/dist/images/app:1.0.0" "docker://127.0.0.1:$port/bench/app:1.0.0"
  e=$(now)
  skopeo_push+=("$(echo "$e - $s" | bc -l)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mp=$(median "${rel_push[@]}"); mt=$(median "${rel_total[@]}"); ms=$(median "${skopeo_push[@]}")
echo "runs: $runs; layer blobs: $(du -sh "$p/dist/images/app/blobs" | cut -f1) in the layout"
printf 'rel push (4 platforms, fresh registry):     %.3f s (median)\n' "$mp"
printf 'skopeo copy --all (same layout):        %.3f s (median)\n' "$ms"
printf 'ratio rel push / skopeo:                %.2f\n' "$(echo "$mp / $ms" | bc -l)"
printf 'rel release end to end (copy+layers+push): %.3f s (median), ratio to skopeo %.2f\n' "$mt" "$(echo "$mt / $ms" | bc -l)"

# Peak memory of one whole `rel release` vs one `skopeo copy --all` (blobs are streamed, so
# neither should grow with the 80 MB of binaries).
start_registry
rss_rel=$(cd "$p" && BENCH_REGISTRY="127.0.0.1:$port" /usr/bin/time -f %M "$rel" release --clean -q --skip publish 2>&1 >/dev/null | tail -n1)
start_registry
rss_skopeo=$(/usr/bin/time -f %M skopeo copy -q --all --dest-tls-verify=false "oci:$p/dist/images/app:1.0.0" "docker://127.0.0.1:$port/bench/app:1.0.0" 2>&1 >/dev/null | tail -n1)
printf 'peak RSS: rel release %d MB, skopeo copy %d MB\n' "$((rss_rel / 1024))" "$((rss_skopeo / 1024))"
