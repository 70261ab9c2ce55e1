#!/usr/bin/env bash
# The source archive against `git archive`, measured in one run (ratio).
#
#   benches/source.sh            # builds rel --release, then measures
#   REL=path/to/rel REPS=5 benches/source.sh
#
# Corpus: the Go standard library's source tree (`src/` of the toolchain in .tools/go, about
# 12,000 files and 160 MB), committed once into a fresh repository. rel's source stage (its
# own time, the `source: done in …` line of `rel -v`; `source.format: tar.gz`, no prefix) vs
# `git archive --format=tar.gz` of the same commit (git's built-in gzip, level 6). Runs
# alternate (rel, git, rel, git, …) so that load from anything else falls on both alike; the
# ratio is of medians. Sizes of both archives are printed too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${REL:-}" ]; then
  cargo build --release --quiet
  REL="$root/target/release/rel"
fi
go_root=$(ls -d "$root"/.tools/go/lib/python3*/site-packages/go 2>/dev/null | head -n1 || true)
[ -d "$go_root/src" ] || { echo "needs Go in .tools/go (scripts/test.sh installs it)"; exit 1; }
reps=${REPS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
stage_time() { sed -n "s/.*$1: done in \([0-9.]*\)\(m\?s\|µs\).*/\1 \2/p" "$2" | awk '{ if ($2 == "ms") print $1 / 1000; else if ($2 == "µs") print $1 / 1000000; else print $1 }'; }

p="$work/p"
mkdir -p "$p"
cp -r "$go_root/src/." "$p/"
cat > "$p/.release.yaml" <<'YAML'
project_name: gosrc
source:
  enabled: true
  format: tar.gz
YAML
printf 'dist/\n' >> "$p/.gitignore"
(cd "$p" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm bench)
files=$(git -C "$p" ls-files | wc -l)
bytes=$(du -sb --exclude=.git "$p" | cut -f1)

echo "== source archive of $files files ($((bytes / 1000000)) MB): rel's source stage vs git archive --format=tar.gz ($reps runs each, alternating, medians)"
: > "$work/rel_t"; : > "$work/git_t"
for _ in $(seq "$reps"); do
  (cd "$p" && "$REL" -v --color never release --snapshot --clean \
      --skip build,archive,checksum,changelog,publish > "$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
  stage_time source "$work/log" >> "$work/rel_t"
  s=$(now); git -C "$p" archive --format=tar.gz -o "$work/git.tar.gz" HEAD; e=$(now)
  echo "$e - $s" | bc -l >> "$work/git_t"
done
rel_t=$(median < "$work/rel_t")
git_t=$(median < "$work/git_t")
rel_size=$(stat -c %s "$p"/dist/gosrc-*.tar.gz)
git_size=$(stat -c %s "$work/git.tar.gz")
printf 'rel source stage: %.3fs   git archive: %.3fs   ratio rel / git: %.2f (target <= 1.5)\n' \
  "$rel_t" "$git_t" "$(echo "$rel_t / $git_t" | bc -l)"
printf 'sizes: rel %d bytes, git archive %d bytes (%.3f)\n' \
  "$rel_size" "$git_size" "$(echo "$rel_size / $git_size" | bc -l)"
