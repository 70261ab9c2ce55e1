#!/usr/bin/env bash
# The gitops stage against the script it replaces, measured in one run (ratios).
#
#   benches/gitops.sh            # builds rel --release, then measures
#   REL=path/to/rel REPS=5 benches/gitops.sh
#
# A config repository of 3,000 files and 300 commits (a `file://` bare repository). rel's
# gitops stage (its own time, from `rel -v`: clone, four byte-preserving edits, one commit,
# push, read-back) against the usual CI script: `git clone`, four `sed -i`, `git commit`,
# `git push`. Both push a new reference each repetition. (rel also clones once in its
# preflight, before the build; that clone is the same cost again and not in the stage time.)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${REL:-}" ]; then
  cargo build --release --quiet
  REL="$root/target/release/rel"
fi
reps=${REPS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
stage_time() { sed -n "s/.*$1: done in \([0-9.]*\)\(m\?s\|µs\).*/\1 \2/p" "$2" | awk '{ if ($2 == "ms") print $1 / 1000; else if ($2 == "µs") print $1 / 1000000; else print $1 }'; }
g() { git -c user.name=b -c user.email=b@example.com -c commit.gpgsign=false "$@"; }

# The config repository.
seed="$work/seed"; bare="$work/config.git"
mkdir -p "$seed"
g init -q -b main "$seed"
python3 - "$seed" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(3000):
    d = os.path.join(root, "apps", f"svc{i // 10:03d}")
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, f"file{i % 10}.yaml"), "w").write(f"# service {i}\nkind: ConfigMap\ndata:\n  key: value-{i}\n" * 20)
os.makedirs(os.path.join(root, "apps/app"), exist_ok=True)
open(os.path.join(root, "apps/app/kustomization.yaml"), "w").write(
    "resources: [deployment.yaml]\nimages:\n  - name: acme/app\n    newName: old/acme/app\n    newTag: '0.9.0'\n    digest: sha256:0\n")
open(os.path.join(root, "apps/app/values.yaml"), "w").write(
    "image:\n  repository: old/acme/app\n  tag: \"0.9.0\"\n  digest: \"\"\n")
open(os.path.join(root, "apps/app/deployment.yaml"), "w").write(
    "spec:\n  containers:\n    - image: old/acme/app:0.9.0 # {\"$rel\": \"app\"}\n")
open(os.path.join(root, "apps/app/app.tf"), "w").write("image = \"old/acme/app:0.9.0\"\n")
PY
(cd "$seed" && g add -A && g commit -q -m seed)
for i in $(seq 1 300); do
  echo "change $i" >> "$seed/apps/svc000/file0.yaml"
  (cd "$seed" && g commit -qam "change $i")
done
g clone -q --bare "$seed" "$bare"

# A real registry for the image the references point at.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YAML
version: 0.1
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry=$!
trap 'kill $registry 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" > /dev/null && break; sleep 0.05; done

# The project: one tiny binary in one image, and the gitops entry with four updates.
p="$work/p"; mkdir -p "$p"
cat > "$p/.release.yaml" <<YAML
project_name: app
builds:
  - builder: command
    targets: [linux_amd64_v1]
    command: [sh, -c, "printf 'x' > {{ output }}"]
images:
  - id: app
    repository: "127.0.0.1:$port/acme/app"
    tags: ["{{ version }}"]
gitops:
  - repository:
      git: {url: "file://$bare"}
    updates:
      - {file: apps/app/kustomization.yaml, image: app, format: kustomize, name: acme/app}
      - {file: apps/app/values.yaml, image: app, format: helm}
      - {file: apps/app/deployment.yaml, image: app, format: yaml}
      - {file: apps/app/app.tf, image: app, format: regex, pattern: 'image = "([^"]+)"'}
YAML
(cd "$p" && g init -q -b main && echo dist/ > .gitignore && g add -A && g commit -q -m init)

rel_s=(); script_s=()
for r in $(seq 1 "$reps"); do
  # Each repetition moves to a new tag so there is something to commit.
  (cd "$p" && g tag -f "v1.0.$r" >/dev/null)
  (cd "$p" && DOCKER_CONFIG="$work/no-docker" "$REL" -v release --clean --skip publish > /dev/null 2> "$work/run.log") || { cat "$work/run.log"; exit 1; }
  rel_s+=("$(stage_time gitops "$work/run.log")")
  t0=$(now)
  c="$work/clone$r"
  g clone -q "file://$bare" "$c"
  sed -i "s|newName: .*|newName: 127.0.0.1:9/acme/app|; s|newTag: .*|newTag: '1.0.$r'|; s|digest: .*|digest: sha256:$r|" "$c/apps/app/kustomization.yaml"
  sed -i "s|repository: .*|repository: 127.0.0.1:9/acme/app|; s|tag: .*|tag: \"1.0.$r\"|; s|digest: .*|digest: \"sha256:$r\"|" "$c/apps/app/values.yaml"
  sed -i "s|image: [^ ]*|image: 127.0.0.1:9/acme/app:1.0.$r@sha256:$r|" "$c/apps/app/deployment.yaml"
  sed -i "s|image = \"[^\"]*\"|image = \"127.0.0.1:9/acme/app:1.0.$r@sha256:$r\"|" "$c/apps/app/app.tf"
  (cd "$c" && g commit -qam "deploy 1.0.$r" && g push -q origin HEAD:main)
  script_s+=("$(echo "$(now) - $t0" | bc)")
done
rel_m=$(printf '%s\n' "${rel_s[@]}" | median)
script_m=$(printf '%s\n' "${script_s[@]}" | median)
echo "config repository: 3000 files, 300 commits; $reps repetitions, medians"
echo "rel gitops stage (clone, 4 edits, commit, push, read back)  ${rel_m}s"
echo "script (clone, 4 sed -i, commit, push)                       ${script_m}s"
echo "rel / script: $(echo "scale=3; $rel_m / $script_m" | bc)"
