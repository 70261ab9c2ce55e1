#!/usr/bin/env bash
# Benchmark: publishing to the fake GitHub (tests/support/fake_github.rs, run as a process by
# the `fake_github_server` test target) with 100 ms added latency per request.
#  1. 20 assets, default upload concurrency vs `release.upload_concurrency: 1`, alternating
#     runs in one invocation; prints the ratio of medians.
#  2. Peak RSS of rel (VmHWM via /usr/bin/time) publishing one 500 MB asset, next to a
#     1 KB asset as baseline.
# Usage: benches/publish.sh   (needs hyperfine, curl, /usr/bin/time, and the OpenAPI
# description that scripts/test.sh installs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. benches/common.sh
export REL_GITHUB_OPENAPI=${REL_GITHUB_OPENAPI:-$root/.tools/openapi/node_modules/@octokit/openapi/generated/api.github.com.json}
cargo build --release -q
REL="$root/target/release/rel"
FAKE=$(fake_github_server)
work=$(mktemp -d)
"$FAKE" serve --latency-ms 100 > "$work/fake.out" &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^api=' "$work/fake.out" 2>/dev/null && break; sleep 0.1; done
read -r api_kv up_kv < "$work/fake.out"
API=${api_kv#api=}; UP=${up_kv#uploads=}
export GITHUB_TOKEN=fake-token

project() { # dir, concurrency line
  mkdir -p "$1/assets"; cd "$1"
  cat > .release.yaml <<YAML
project_name: demo
release:
  github: {owner: acme, name: demo}
  github_urls: {api: "$API", uploads: "$UP"}
  extra_files: [{glob: "assets/*"}]
YAML
  printf 'dist/\n' > .gitignore
}
commit_tag() { git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm init && git tag v1.0.0; }

# 1. 20 assets of 256 KiB.
p="$work/twenty"; project "$p"
for i in $(seq -w 1 20); do head -c 262144 /dev/urandom > "assets/asset_$i.bin"; done
sed 's/^release:$/release:\n  upload_concurrency: 1/' .release.yaml > one.yaml
commit_tag
echo "== 20 assets, 100 ms latency per request: default concurrency vs concurrency 1"
hyperfine -N --style basic --runs 5 --export-json "$work/h.json" \
  --prepare "curl -s -X POST $API/__fake/reset" \
  -n default "$REL release --clean --skip build -q" \
  -n concurrency-1 "$REL release --clean --skip build -q --config one.yaml"
python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"median default: {r['default']:.3f}s  concurrency 1: {r['concurrency-1']:.3f}s  "
      f"speed-up: {r['concurrency-1'] / r['default']:.2f}x")
PY

# 2. Peak RSS: one 500 MB asset vs one 1 KB asset.
rss() { # dir -> KiB
  curl -s -X POST "$API/__fake/reset" >/dev/null
  (cd "$1" && /usr/bin/time -f '%M' -o "$work/rss" "$REL" release --clean --skip build -q)
  cat "$work/rss"
}
p="$work/big"; project "$p"; head -c 500M /dev/zero > assets/big.bin; commit_tag
p="$work/small"; project "$p"; head -c 1024 /dev/urandom > assets/small.bin; commit_tag
big=$(rss "$work/big"); small=$(rss "$work/small")
echo "== peak RSS of rel: 500 MB asset ${big} KiB ($((big / 1024)) MiB), 1 KB asset ${small} KiB; ratio $(python3 -c "print(round($big/$small, 2))")"
