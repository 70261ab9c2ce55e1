#!/usr/bin/env bash
# Benchmark: `rel changelog --all` against `git log` (the floor: reading the same commits)
# and git-cliff (default config) on a generated repository of 20,000 conventional commits
# and 40 tags, built with `git fast-import` in a temporary folder.
#
#   benches/changelog.sh            # needs: a release build (cargo build --release),
#                                   # hyperfine, /usr/bin/time; installs git-cliff into .tools/
# Env: COMMITS (20000), TAGS (40), RUNS (10).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
COMMITS=${COMMITS:-20000}
TAGS=${TAGS:-40}
RUNS=${RUNS:-10}

cargo build --release --quiet
rel=$root/target/release/rel
if [ ! -x .tools/cliff/bin/git-cliff ]; then
  python3 -m venv .tools/cliff
  .tools/cliff/bin/pip install --quiet git-cliff
fi
cliff=$root/.tools/cliff/bin/git-cliff
command -v hyperfine >/dev/null || { echo "hyperfine is missing (apt-get install -y hyperfine)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install -y time)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/repo
git init -q -b main "$repo"

# The fast-import stream: one file changed per commit, fixed dates, a tag every
# COMMITS/TAGS commits (v1.1.0 … v1.40.0, so name order and semver order differ).
python3 - "$COMMITS" "$TAGS" > "$work/stream" <<'PY'
import sys
n, tags = int(sys.argv[1]), int(sys.argv[2])
types = ["feat", "fix", "fix", "docs", "refactor", "perf", "chore", "test", "ci", "build"]
scopes = ["", "(cli)", "(api)", "(config)", "(build)", "(deps)"]
every = n // tags
out = sys.stdout
t0 = 1_600_000_000
for i in range(1, n + 1):
    ty = types[i % len(types)]
    scope = scopes[(i // 3) % len(scopes)]
    bang = "!" if i % 97 == 0 else ""
    if i % 53 == 0:
        msg = f"Update component {i} without a convention\n"
    else:
        msg = f"{ty}{scope}{bang}: change number {i} of the synthetic history\n"
    if i % 5 == 0:
        msg += f"\nA body explaining change {i} in a little more detail,\nover two lines.\n"
    if i % 211 == 0:
        msg += f"\nBREAKING CHANGE: option {i} was removed\n"
    if i % 7 == 0:
        msg += f"\nRefs: #{i}\n"
    data = msg.encode()
    blob = f"content {i}\n".encode()
    out.write(f"commit refs/heads/main\nmark :{i}\n")
    out.write(f"author Dev {i % 13} <dev{i % 13}@example.com> {t0 + i * 60} +0000\n")
    out.write(f"committer Dev {i % 13} <dev{i % 13}@example.com> {t0 + i * 60} +0000\n")
    out.write(f"data {len(data)}\n{msg}\n")
    if i > 1:
        out.write(f"from :{i - 1}\n")
    out.write(f"M 644 inline src/file{i % 100}.txt\ndata {len(blob)}\n")
    out.write(blob.decode())
    out.write("\n")
    if i % every == 0 and i // every <= tags:
        out.write(f"reset refs/tags/v1.{i // every}.0\nfrom :{i}\n\n")
PY
git -C "$repo" fast-import --quiet < "$work/stream"
git -C "$repo" reset -q --hard main
git -C "$repo" gc -q
echo "repository: $(git -C "$repo" rev-list --count HEAD) commits, $(git -C "$repo" tag | wc -l) tags"

# The same range for all three: the whole history up to the newest tag, which is HEAD.
[ "$(git -C "$repo" rev-parse "$(git -C "$repo" tag --sort=-v:refname | head -1)^{commit}")" = "$(git -C "$repo" rev-parse HEAD)" ]
newest=$(git -C "$repo" tag --sort=-v:refname | head -1)
format='%H%x1f%h%x1f%P%x1f%an%x1f%ae%x1f%ct%x1f%B'
gitlog="git -C $repo log -z --format='$format' $newest > /dev/null"
# The floor: hashes and messages only, the least any changelog must read.
floor="git -C $repo log --format=%H%x00%B $newest > /dev/null"
relcmd="cd $repo && $rel changelog --all --to $newest > /dev/null"
cliffcmd="cd $repo && $cliff --offline -o /dev/null 2>/dev/null"

# Sanity: rel lists every non-merge commit of the range once.
listed=$(cd "$repo" && "$rel" changelog --all --to "$newest" | grep -c '^\* ' || true)
echo "rel lists $listed entries (commits plus the breaking-changes section)"

hyperfine --warmup 2 --runs "$RUNS" --export-json "$work/h.json" \
  -n "floor" "$floor" -n "git log" "$gitlog" -n "rel changelog --all" "$relcmd" -n "git-cliff" "$cliffcmd" >&2

python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
f, g, rel, c = r["floor"], r["git log"], r["rel changelog --all"], r["git-cliff"]
print(f"mean: floor {f*1000:.0f} ms, git log (rel's fields) {g*1000:.0f} ms, rel {rel*1000:.0f} ms, git-cliff {c*1000:.0f} ms")
print(f"rel / floor    = {rel/f:.2f}  (target <= 1.5)")
print(f"rel / git log  = {rel/g:.2f}  (target <= 2)")
print(f"git-cliff / rel = {c/rel:.1f}x (target >= 10)")
PY

rss() { /usr/bin/time -v sh -c "$1" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {printf "%.1f", $2/1024}'; }
echo "peak RSS: rel $(rss "$relcmd") MB, git log $(rss "$gitlog") MB, git-cliff $(rss "$cliffcmd") MB (target: rel < 100 MB)"
