#!/usr/bin/env bash
# Benchmark: a pipelined release against its two baselines, in one run.
#   T_builds      the same 8 `go build` commands under `xargs -P $P`;
#   T_sequential  `rel release --no-pipeline` (every stage after the one before);
#   T_rel         `rel release` (each target's archive and upload start when its build ends);
#   T_upload      uploading the same archives alone (rel, `--skip build`, as extra files).
# The fixture is an 8-target Go program with a generated package of ~100k lines (so each
# target compiles for seconds) and 1 MB of embedded random data; every run starts from the
# same Go cache state (the standard library built for every target, the generated package
# not), restored before each run. Publishing goes to the fake GitHub (run as a process) with
# 100 ms latency per request and one shared upload bandwidth, set so that uploading alone
# takes about 60 % of building alone. Prints medians of RUNS alternating runs, the ratios,
# and rel's own peak RSS (VmHWM of the rel process, children excluded).
# Usage: benches/pipeline.sh   (needs Go from scripts/test.sh, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. benches/common.sh
RUNS=${RUNS:-3}
P=${P:-$(nproc)}
export REL_GITHUB_OPENAPI=${REL_GITHUB_OPENAPI:-$root/.tools/openapi/node_modules/@octokit/openapi/generated/api.github.com.json}
cargo build --release -q
REL="$root/target/release/rel"
FAKE=$(fake_github_server)
GO=${REL_TEST_GO:-$(ls "$root"/.tools/go/lib/python3*/site-packages/go/bin/go | head -n1)}
work=$(mktemp -d)
fake_pid=
trap '[ -n "$fake_pid" ] && kill $fake_pid 2>/dev/null; rm -rf "$work"' EXIT
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$work/gocache" GOPATH="$work/gopath" CGO_ENABLED=0
export PATH="$(dirname "$GO"):$PATH" GITHUB_TOKEN=fake-token

proj="$work/big"; mkdir -p "$proj/gen"; cd "$proj"
printf 'module example.com/big\n\ngo 1.21\n' > go.mod
python3 - <<'PY'
import random
random.seed(7)
for f in range(16):
    with open(f"gen/g{f}.go", "w") as o:
        o.write("package gen\n\n")
        for i in range(250):
            o.write(f"func F{f}_{i}(x int) int {{\n\tswitch x % 7 {{\n")
            for c in range(7):
                o.write(f"\tcase {c}:\n\t\tx = x*{random.randint(2, 99)} + {random.randint(1, 9999)}\n"
                        f"\t\tif x > {random.randint(100, 100000)} {{\n\t\t\tx -= {random.randint(1, 50)}\n\t\t}}\n")
            o.write("\t}\n\treturn x + Seed\n}\n\n")
        o.write(f"func Sum{f}(x int) int {{\n\ts := 0\n")
        for i in range(250):
            o.write(f"\ts += F{f}_{i}(x + {i})\n")
        o.write("\treturn s\n}\n")
open("blob.bin", "wb").write(random.Random(1).randbytes(1_000_000))
PY
cat > main.go <<'GO'
package main

import (
	_ "embed"
	"fmt"
	"os"

	"example.com/big/gen"
)

//go:embed blob.bin
var blob []byte

var version = "dev"

func main() {
	s := gen.Sum0(len(os.Args)) + gen.Sum1(1) + gen.Sum2(2) + gen.Sum3(3) + gen.Sum4(4) + gen.Sum5(5) + gen.Sum6(6) + gen.Sum7(7)
	s += gen.Sum8(8) + gen.Sum9(9) + gen.Sum10(10) + gen.Sum11(11) + gen.Sum12(12) + gen.Sum13(13) + gen.Sum14(14) + gen.Sum15(15)
	fmt.Println("big", version, s, len(blob))
}
GO
targets="linux/amd64 linux/arm64 linux/386 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64 windows/386"
xargs_build() {
  rm -rf xdist
  for t in $targets; do echo "$t"; done | xargs -P "$P" -I{} sh -c \
    'os=${1%/*}; arch=${1#*/}; GOOS=$os GOARCH=$arch go build -trimpath -ldflags="-s -w -X main.version=1.0.0" -o xdist/${os}_${arch}/big .' _ {}
}
# The fixed cache state: everything built once with another `Seed`, so the standard library
# is cached for every target and the generated package is not.
printf 'package gen\n\nconst Seed = 0\n' > gen/seed.go
xargs_build
cp -a "$GOCACHE" "$work/gocache.state"
printf 'package gen\n\nconst Seed = 1\n' > gen/seed.go
restore() { rm -rf "$GOCACHE" && cp -a "$work/gocache.state" "$GOCACHE"; }
# The configs name the fake's port, which changes: they stay out of git (a dirty tree would
# stop a release).
printf 'dist/\nxdist/\nup/\n.release.yaml\nupload.yaml\n' > .gitignore

start_fake() { # extra args
  [ -n "$fake_pid" ] && kill $fake_pid 2>/dev/null && wait $fake_pid 2>/dev/null || true
  "$FAKE" serve --latency-ms 100 "$@" > "$work/fake.out" &
  fake_pid=$!
  for _ in $(seq 100); do grep -q '^api=' "$work/fake.out" 2>/dev/null && break; sleep 0.1; done
  read -r api_kv up_kv < "$work/fake.out"
  API=${api_kv#api=}; UP=${up_kv#uploads=}
  cat > .release.yaml <<YAML
project_name: big
builds:
  - goos: [linux, darwin, windows]
    goarch: [amd64, arm64, "386"]
    ignore: [{goos: darwin, goarch: "386"}]
    flags: [-trimpath]
    ldflags: ["-s -w -X main.version={{ version }}"]
archives:
  - formats: [tar.gz]
release:
  github: {owner: acme, name: demo}
  github_urls: {api: "$API", uploads: "$UP"}
changelog:
  disable: true
YAML
  cat > upload.yaml <<YAML
project_name: big
release:
  github: {owner: acme, name: demo}
  github_urls: {api: "$API", uploads: "$UP"}
  extra_files: [{glob: "up/*"}]
changelog:
  disable: true
YAML
}
start_fake
git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm init && git tag v1.0.0
timed() { # name, command...: seconds
  local s e; s=$(date +%s.%N); "${@:2}" > "$work/$1.log" 2>&1 || { cat "$work/$1.log" >&2; exit 1; }; e=$(date +%s.%N)
  python3 -c "print($e - $s)"
}
reset() { curl -s -X POST "$API/__fake/reset" > /dev/null; }

# Calibration: one build alone, and the archives' total size, set the bandwidth.
restore; t_b=$(timed xargs bash -c "$(declare -f xargs_build); targets='$targets' P=$P xargs_build")
restore; reset; "$REL" release --clean -q -p "$P" --skip publish
bytes=$(cat dist/*.tar.gz dist/*checksums.txt | wc -c)
kbps=$(python3 -c "print(max(1, int($bytes / (0.6 * $t_b) / 1000)))")
echo "calibration: builds alone ${t_b%.*} s; archives $((bytes / 1000000)) MB; bandwidth $kbps kB/s shared by all uploads"
rm -rf up && mkdir up && cp dist/*.tar.gz up/
start_fake --bandwidth-kbps "$kbps"

declare -A T
for i in $(seq "$RUNS"); do
  restore; T[builds]+=" $(timed xargs bash -c "$(declare -f xargs_build); targets='$targets' P=$P xargs_build")"
  restore; reset; T[sequential]+=" $(timed seq "$REL" release --clean -q -p "$P" --no-pipeline)"
  restore; reset; T[rel]+=" $(timed rel "$REL" release --clean -q -p "$P")"
  reset; T[upload]+=" $(timed up "$REL" release --clean -q -p "$P" --skip build --config upload.yaml)"
done

echo "== rel's own peak RSS during the pipelined release"
restore; reset
peak=$(peak_rss_kib "$REL" release --clean -q -p "$P")

python3 - "${T[builds]}" "${T[sequential]}" "${T[rel]}" "${T[upload]}" "$peak" "$P" "$RUNS" <<'PY'
import statistics, sys
b, s, r, u = (statistics.median(map(float, a.split())) for a in sys.argv[1:5])
peak, p, runs = int(sys.argv[5]), sys.argv[6], sys.argv[7]
print(f"== 8 Go targets, -p {p}, medians of {runs} alternating runs")
print(f"T_builds (xargs -P {p} go build)  {b:6.2f} s")
print(f"T_upload (uploads alone)          {u:6.2f} s   upload/builds = {u / b:.2f} (set >= 0.5)")
print(f"T_sequential (--no-pipeline)      {s:6.2f} s")
print(f"T_rel (pipelined)                 {r:6.2f} s")
print(f"T_rel / T_builds = {r / b:.3f} (target <= 1.2)")
print(f"T_sequential / T_rel = {s / r:.3f} (target >= 1.3)")
print(f"rel peak RSS (VmHWM) = {peak / 1024:.1f} MB (target < 64 MB)")
PY
