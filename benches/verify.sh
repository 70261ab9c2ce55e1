#!/usr/bin/env bash
# Benchmark: `rel verify` of a release published to the fake GitHub (tests/support/fake_github.rs,
# run as a process by the `fake_github_server` test target, on loopback without added latency).
#  1. 8 assets of 64 MiB (512 MiB) plus the checksum file: `rel verify` (list, download every
#     asset, hash, compare) against baselines over the same files: `sha256sum` of the files
#     already on disk (no download at all), `openssl dgst -sha256` of them (the same SHA
#     extensions rel's hasher uses, which coreutils' sha256sum may not), and `curl | sha256sum`
#     of each asset in turn (the download a script would do). Ratios of medians.
#  2. Peak RSS of `rel verify` with one 512 MiB asset next to one 1 KiB asset: downloads stream.
# Usage: benches/verify.sh   (needs hyperfine, curl, and the OpenAPI description that
# scripts/test.sh installs; SIZE_MB=64 COUNT=8 change the first release)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. benches/common.sh
export REL_GITHUB_OPENAPI=${REL_GITHUB_OPENAPI:-$root/.tools/openapi/node_modules/@octokit/openapi/generated/api.github.com.json}
if [ -z "${REL:-}" ]; then
  cargo build --release -q
  REL="$root/target/release/rel"
fi
FAKE=$(fake_github_server)
work=$(mktemp -d)
"$FAKE" serve > "$work/fake.out" &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^api=' "$work/fake.out" 2>/dev/null && break; sleep 0.1; done
read -r api_kv up_kv < "$work/fake.out"
API=${api_kv#api=}; UP=${up_kv#uploads=}
export GITHUB_TOKEN=fake-token
size_mb=${SIZE_MB:-64}
count=${COUNT:-8}

project() { # dir
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
publish() { # dir: a fresh fake, then the release
  curl -s -X POST "$API/__fake/reset" >/dev/null
  (cd "$1" && "$REL" release --clean --skip build -q)
}

# 1. COUNT assets of SIZE_MB MiB.
p="$work/many"; project "$p"
for i in $(seq 1 "$count"); do head -c "${size_mb}M" /dev/urandom > "assets/asset_$i.bin"; done
commit_tag
publish "$p"
"$REL" verify -q > "$work/report.txt" || { cat "$work/report.txt"; exit 1; }
names=$(cd assets && ls)
{
  echo '#!/usr/bin/env bash'
  echo 'set -euo pipefail'
  for n in $names; do
    echo "curl -sfL '$API/acme/demo/releases/download/v1.0.0/$n' | sha256sum >/dev/null"
  done
} > "$work/curl.sh"
chmod +x "$work/curl.sh"
echo "== $count assets of $size_mb MiB: rel verify vs sha256sum and openssl on disk vs curl | sha256sum per asset"
hyperfine -N --style basic --warmup 1 --runs "${REPS:-5}" --export-json "$work/h.json" \
  -n verify "$REL verify -q" \
  -n sha256sum "sha256sum $(for n in $names; do printf '%s ' "assets/$n"; done)" \
  -n openssl "openssl dgst -sha256 $(for n in $names; do printf '%s ' "assets/$n"; done)" \
  -n curl-sha256sum "$work/curl.sh"
python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
v = r["verify"]
print(f"median verify: {v:.3f}s  sha256sum: {r['sha256sum']:.3f}s  openssl: {r['openssl']:.3f}s  curl|sha256sum: {r['curl-sha256sum']:.3f}s")
print(f"verify / sha256sum: {v / r['sha256sum']:.2f}x  verify / openssl: {v / r['openssl']:.2f}x  verify / curl|sha256sum: {v / r['curl-sha256sum']:.2f}x")
PY

# 2. Peak RSS: one 512 MiB asset vs one 1 KiB asset.
rss() { # dir -> KiB
  publish "$1"
  (cd "$1" && peak_rss_kib "$REL" verify -q)
}
p="$work/big"; project "$p"; head -c 512M /dev/urandom > assets/big.bin; commit_tag
p="$work/small"; project "$p"; head -c 1024 /dev/urandom > assets/small.bin; commit_tag
big=$(rss "$work/big"); small=$(rss "$work/small")
echo "== peak RSS of rel verify: 512 MiB asset ${big} KiB ($((big / 1024)) MiB), 1 KiB asset ${small} KiB; ratio $(python3 -c "print(round($big/$small, 2))")"
