#!/usr/bin/env bash
# How many real GoReleaser configs `rel import` turns into a config that passes `rel check`,
# and how many import with nothing dropped.
#
#   benches/import.sh DIR        # DIR holds <owner>__<repo>.yaml files (not committed)
#   REL=path/to/rel benches/import.sh DIR
#
# Each config is imported and checked in a scratch Go project (go.mod, main.go, README,
# LICENSE, a tag); files a config names that only its own repository has (scripts, keys,
# Dockerfiles) are not there, so a check can fail for that alone: such failures are counted
# apart ("needs the project's files") from failures of the import itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${1:?usage: benches/import.sh DIR}
if [ -z "${REL:-}" ]; then
  cargo build --release --quiet
  REL="$root/target/release/rel"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
g() { git -c user.name=b -c user.email=b@example.com -c commit.gpgsign=false "$@"; }
total=0; imported=0; checked=0; clean=0; files=0
printf '%-45s %-8s %-8s %s\n' config dropped approx check
for f in "$dir"/*.yaml "$dir"/*.yml; do
  [ -f "$f" ] || continue
  total=$((total + 1))
  name=$(basename "$f"); name=${name%.*}
  p="$work/$name"; mkdir -p "$p"
  cp "$f" "$p/.goreleaser.yaml"
  # The module and the origin remote are the project's own, as GoReleaser derives the
  # project name (and so the default build id) from them.
  owner=${name%%__*}; repo=${name#*__}
  printf 'module github.com/%s/%s\n\ngo 1.21\n' "$owner" "$repo" > "$p/go.mod"
  printf 'package main\n\nfunc main() {}\n' > "$p/main.go"
  echo "# $name" > "$p/README.md"; echo MIT > "$p/LICENSE"
  (cd "$p" && g init -q -b main && g add -A && g commit -qm init && g tag v1.0.0 &&
    g remote add origin "https://github.com/$owner/$repo.git")
  if ! (cd "$p" && "$REL" import > "$work/$name.out" 2> "$work/$name.report"); then
    printf '%-45s %-8s %-8s %s\n' "$name" - - "import failed: $(tail -1 "$work/$name.report")"
    continue
  fi
  imported=$((imported + 1))
  d=$(grep -c ': dropped `' "$work/$name.report" || true)
  a=$(grep -c ': approximated `' "$work/$name.report" || true)
  [ "$d" -eq 0 ] && clean=$((clean + 1))
  if (cd "$p" && "$REL" check > /dev/null 2> "$work/$name.check"); then
    checked=$((checked + 1)); verdict=ok
  elif grep -qiE 'no such file|does not exist|cannot read|not found|matches no' "$work/$name.check"; then
    files=$((files + 1)); verdict="needs the project's files"
  elif grep -qE 'is not on PATH|\{\{ env\.' "$work/$name.check"; then
    files=$((files + 1)); verdict="needs the project's CI environment (tools, secrets)"
  else
    verdict="FAILS: $(grep -m1 'error' "$work/$name.check" | cut -c1-100)"
  fi
  printf '%-45s %-8s %-8s %s\n' "$name" "$d" "$a" "$verdict"
done
echo
echo "configs: $total; imported: $imported; pass rel check: $checked; need the project's own files or CI environment: $files; imported with nothing dropped: $clean"
