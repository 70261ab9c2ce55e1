#!/usr/bin/env bash
# The universal stage against `llvm-lipo-14 -create` on the same two thin Mach-O binaries.
#
#   benches/universal.sh            # builds rel --release, then measures
#   REL=path/to/rel REPS=15 benches/universal.sh
#
# Inputs: the Go toolchain's own `go` command built for darwin/amd64 and darwin/arm64 (real Go
# executables of some size), handed to rel through a `prebuilt` build. rel's time is the stage's
# own (`universal: done in …` from `rel -v`) in a `--no-pipeline` run, so it starts after the
# build has finished and measures reading the headers, writing the file and hashing it; lipo's
# is the whole `llvm-lipo-14 -create` process. Runs alternate (rel, lipo, rel, lipo, …) so that
# load from anything else falls on both alike; the ratio is of medians. The two outputs are
# compared byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${REL:-}" ]; then
  cargo build --release --quiet
  REL="$root/target/release/rel"
fi
lipo=${LIPO:-llvm-lipo-14}
command -v "$lipo" >/dev/null || { echo "needs $lipo (apt-get install -y llvm-14)"; exit 1; }
go=${REL_TEST_GO:-$(ls "$root"/.tools/go/lib/python3*/site-packages/go/bin/go 2>/dev/null | head -n1 || true)}
[ -n "$go" ] || go=$(command -v go || true)
[ -n "$go" ] || { echo "needs Go: run scripts/test.sh, which installs it into .tools/go"; exit 1; }
reps=${REPS:-11}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

p="$work/p"
mkdir -p "$p/prebuilt/darwin_amd64_v1" "$p/prebuilt/darwin_arm64"
export GOCACHE="${GOCACHE:-$root/target/bench-go-cache}" GOTOOLCHAIN=local GOFLAGS= CGO_ENABLED=0
GOOS=darwin GOARCH=amd64 "$go" build -trimpath -o "$p/prebuilt/darwin_amd64_v1/hello" cmd/go
GOOS=darwin GOARCH=arm64 "$go" build -trimpath -o "$p/prebuilt/darwin_arm64/hello" cmd/go
amd64="$p/prebuilt/darwin_amd64_v1/hello"
arm64="$p/prebuilt/darwin_arm64/hello"
cat > "$p/.release.yaml" <<'EOF'
version: 1
project_name: hello
snapshot: {version_template: "{{ version }}-bench"}
builds:
  - builder: prebuilt
    targets: [darwin_amd64_v1, darwin_arm64]
    path: "prebuilt/{{ target }}/hello"
universal_binaries:
  - replace: true
EOF
printf 'dist/\n' > "$p/.gitignore"
(cd "$p" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm bench)

# rel_secs: one release; the universal stage's own time in seconds.
rel_secs() {
  (cd "$p" && "$REL" -v --color never release --snapshot --clean --no-pipeline -p 2 \
    --skip archive,checksum > "$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
  sed -n 's/.*universal: done in \([0-9.]*\)\(µs\|ms\|s\).*/\1 \2/p' "$work/log" \
    | awk '{ if ($2 == "ms") print $1 / 1000; else if ($2 == "µs") print $1 / 1000000; else print $1 }'
}
now() { date +%s.%N; }
lipo_secs() {
  local s e
  s=$(now)
  "$lipo" -create "$amd64" "$arm64" -output "$work/lipo"
  e=$(now)
  echo "$e - $s" | bc -l
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

cat "$amd64" "$arm64" > /dev/null  # warm the page cache for both sides
rel_secs > /dev/null
lipo_secs > /dev/null
: > "$work/rel.t"; : > "$work/lipo.t"
for _ in $(seq "$reps"); do
  rel_secs >> "$work/rel.t"
  lipo_secs >> "$work/lipo.t"
done
cmp "$p/dist/hello_darwin_all/hello" "$work/lipo" && echo "outputs: byte-identical"
size=$(stat -c %s "$work/lipo")
rel_t=$(median < "$work/rel.t")
lipo_t=$(median < "$work/lipo.t")
echo "inputs: $(stat -c %s "$amd64") + $(stat -c %s "$arm64") bytes; output $size bytes; $reps runs each, medians; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'rel universal stage: %.1f ms   llvm-lipo-14 -create: %.1f ms   ratio rel/lipo: %.2f\n' \
  "$(echo "$rel_t * 1000" | bc -l)" "$(echo "$lipo_t * 1000" | bc -l)" "$(echo "$rel_t / $lipo_t" | bc -l)"
