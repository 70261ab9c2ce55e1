#!/usr/bin/env bash
# Benchmark: `rel build` of an 8-target Go project (warm Go cache) against the same 8
# `go build` commands run by `xargs -P` with the same parallelism; `rel check` latency;
# rel's own peak RSS (VmHWM of the rel process, not its children) during the build.
# Usage: benches/build.sh   (needs Go: scripts/test.sh installs it into .tools/go)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. benches/common.sh
cargo build --release -q
REL="$root/target/release/rel"
GO=${REL_TEST_GO:-$(ls "$root"/.tools/go/lib/python3*/site-packages/go/bin/go | head -n1)}
P=${P:-$(nproc)}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$work/gocache" GOPATH="$work/gopath" CGO_ENABLED=0
export PATH="$(dirname "$GO"):$PATH"

proj="$work/hello"; mkdir -p "$proj"; cd "$proj"
printf 'module example.com/hello\n\ngo 1.21\n' > go.mod
cat > main.go <<'GO'
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
)

var version = "dev"

func main() {
	_ = json.NewEncoder(os.Stdout)
	_ = http.DefaultClient
	fmt.Println("hello", version)
}
GO
cat > .release.yaml <<'YAML'
project_name: hello
builds:
  - main: .
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64, "386"]
    flags: ["-trimpath"]
    ldflags: ["-s -w -X main.version={{ version }}"]
YAML
printf 'dist/\nxdist/\n' > .gitignore
git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm init
targets="linux/amd64 linux/arm64 linux/386 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64 windows/386"
xargs_build() {
  rm -rf xdist
  for t in $targets; do echo "$t"; done | xargs -P "$P" -I{} sh -c \
    'os=${1%/*}; arch=${1#*/}; GOOS=$os GOARCH=$arch go build -trimpath -ldflags="-s -w -X main.version=0.0.0" -o xdist/${os}_${arch}/hello .' _ {}
}
export -f xargs_build; export targets P
"$REL" build --snapshot --clean -q -p "$P"   # warm the Go cache
xargs_build
echo "== rel build (8 targets, warm cache) vs xargs -P $P go build"
# Runs alternate (rel, xargs, rel, xargs, ...) so that load from anything else on the machine
# falls on both sides alike; the ratio is of medians.
python3 - "$REL" "$P" <<'PY'
import statistics, subprocess, sys, time
rel, p = sys.argv[1], sys.argv[2]
cmds = {"rel": [rel, "build", "--snapshot", "--clean", "-q", "-p", p], "xargs": ["bash", "-c", "xargs_build"]}
times = {k: [] for k in cmds}
for _ in range(10):
    for k, c in cmds.items():
        t = time.perf_counter(); subprocess.run(c, check=True); times[k].append(time.perf_counter() - t)
m = {k: statistics.median(v) for k, v in times.items()}
print(f"rel build median {m['rel']:.3f} s, xargs go build median {m['xargs']:.3f} s")
print(f"ratio rel/xargs = {m['rel'] / m['xargs']:.3f} (target <= 1.15)")
PY

echo "== rel check on .release.example.yaml"
hyperfine -N --warmup 3 --runs 50 --export-json "$work/check.json" "$REL check --config $root/.release.example.yaml"
python3 - "$work/check.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"rel check mean = {r['mean']*1000:.1f} ms (target < 20 ms)")
PY

echo "== rel's own peak RSS during the 8-target build"
peak=$(peak_rss_kib "$REL" build --snapshot --clean -q -p "$P")
echo "rel peak RSS (VmHWM) = $((peak / 1024)) MB (target < 30 MB)"
