#!/usr/bin/env bash
# SBOMs and signatures against the usual tools, measured in one run (ratios).
#
#   benches/sign.sh            # builds rel --release, then measures
#   REL=path/to/rel REPS=5 benches/sign.sh
#
# 1. SBOM of a Go binary with 180 modules (generated, served by a local file:// module proxy,
#    built once with the Go toolchain of .tools/go): rel's sbom stage (its own time, from
#    `rel -v`, one SPDX document of the binary) vs `go version -m` on the same binary.
# 2. Signing 20 assets (5 MB binaries uploaded as they are, `formats: [binary]`): rel's sign stage with the native OpenPGP
#    signer vs `gpg --detach-sign` run 20 times with the same (unprotected) key.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${REL:-}" ]; then
  cargo build --release --quiet
  REL="$root/target/release/rel"
fi
go=$(ls "$root"/.tools/go/lib/python3*/site-packages/go/bin/go 2>/dev/null | head -n1 || true)
[ -x "$go" ] || { echo "needs Go in .tools/go (scripts/test.sh installs it)"; exit 1; }
reps=${REPS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
stage_time() { sed -n "s/.*$1: done in \([0-9.]*\)\(m\?s\|µs\).*/\1 \2/p" "$2" | awk '{ if ($2 == "ms") print $1 / 1000; else if ($2 == "µs") print $1 / 1000000; else print $1 }'; }

# 180 modules in a local proxy, and a program importing them all.
proxy="$work/proxy"; src="$work/src"
mkdir -p "$src"
python3 - "$proxy" "$src" <<'PY'
import os, sys, zipfile
proxy, src = sys.argv[1], sys.argv[2]
n = 180
req, imports, calls = [], [], []
for i in range(n):
    path, ver = f"example.com/mod{i:03d}", f"v1.{i % 7}.{i % 5}"
    d = os.path.join(proxy, path, "@v"); os.makedirs(d, exist_ok=True)
    gomod = f"module {path}\n\ngo 1.21\n"
    open(os.path.join(d, "list"), "w").write(ver + "\n")
    open(os.path.join(d, ver + ".info"), "w").write('{"Version":"%s","Time":"2024-01-01T00:00:00Z"}' % ver)
    open(os.path.join(d, ver + ".mod"), "w").write(gomod)
    with zipfile.ZipFile(os.path.join(d, ver + ".zip"), "w") as z:
        z.writestr(f"{path}@{ver}/go.mod", gomod)
        z.writestr(f"{path}@{ver}/m.go", f"package mod{i:03d}\n\nfunc N() int {{ return {i} }}\n")
    req.append(f"\t{path} {ver}")
    imports.append(f'\tm{i:03d} "{path}"')
    calls.append(f"m{i:03d}.N()")
open(os.path.join(src, "go.mod"), "w").write("module example.com/big\n\ngo 1.21\n\nrequire (\n" + "\n".join(req) + "\n)\n")
open(os.path.join(src, "main.go"), "w").write("package main\n\nimport (\n\t\"fmt\"\n" + "\n".join(imports) + "\n)\n\nfunc main() { fmt.Println(" + " + ".join(calls) + ") }\n")
PY
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOSUMDB=off GOPROXY="file://$proxy" GOCACHE="$work/gocache" GOPATH="$work/gopath"
(cd "$src" && "$go" mod tidy 2>/dev/null && "$go" build -o "$work/big" .)
deps=$("$go" version -m "$work/big" | grep -c '^\s*dep')

p="$work/p"; mkdir -p "$p/prebuilt"
cp "$work/big" "$p/prebuilt/big"
cat > "$p/.release.yaml" <<YAML
project_name: big
builds:
  - builder: prebuilt
    targets: [linux_amd64_v1]
    path: prebuilt/big
sboms:
  - artifacts: binary
YAML
printf 'dist/\n' > "$p/.gitignore"
(cd "$p" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm bench)

echo "== SBOM of a Go binary with $deps modules: rel's sbom stage vs go version -m ($reps runs, median)"
rel_t=$(for _ in $(seq "$reps"); do
  (cd "$p" && "$REL" -v --color never release --snapshot --clean --skip archive,checksum > "$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
  stage_time sbom "$work/log"
done | median)
go_t=$(for _ in $(seq "$reps"); do
  s=$(now); "$go" version -m "$work/big" > /dev/null; e=$(now); echo "$e - $s" | bc -l
done | median)
printf 'rel sbom stage: %.3fs   go version -m: %.3fs   ratio rel / go: %.2f (target <= 1.5)\n' "$rel_t" "$go_t" "$(echo "$rel_t / $go_t" | bc -l)"

# 20 archives of 5 MB binaries, signed natively and by gpg.
export GNUPGHOME="$work/gnupg"; mkdir -m 700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key 'Bench <bench@example.com>' ed25519 sign never 2>/dev/null
q="$work/q"; mkdir -p "$q/prebuilt"
targets=(linux_amd64_v1 linux_amd64_v2 linux_amd64_v3 linux_amd64_v4 linux_arm64 linux_386
         linux_arm_5 linux_arm_6 linux_arm_7 linux_riscv64 linux_ppc64le linux_s390x linux_loong64
         linux_mips linux_mipsle linux_mips64 linux_mips64le
         linux_ppc64 freebsd_amd64_v1 freebsd_arm64)
for t in "${targets[@]}"; do
  mkdir -p "$q/prebuilt/$t"
  head -c $((5 * 1024 * 1024)) /dev/urandom > "$q/prebuilt/$t/tool"
done
mkdir -p "$q/keys"; gpg --batch --armor --export-secret-keys > "$q/keys/sign.asc"
cat > "$q/.release.yaml" <<YAML
project_name: tool
builds:
  - builder: prebuilt
    targets: [$(IFS=,; echo "${targets[*]}")]
    path: "prebuilt/{{ target }}/tool"
archives:
  - formats: [binary]
    name_template: "tool-{{ target }}"
signs:
  - signer: openpgp
    key_file: keys/sign.asc
    artifacts: archive
YAML
printf 'dist/\n' > "$q/.gitignore"
(cd "$q" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm bench)
echo "== signing 20 assets of 5 MB: rel's sign stage (openpgp) vs gpg --detach-sign x20 ($reps runs, median)"
rel_s=$(for _ in $(seq "$reps"); do
  (cd "$q" && "$REL" -v --color never release --snapshot --clean > "$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
  stage_time sign "$work/log"
done | median)
gpg_s=$(for _ in $(seq "$reps"); do
  rm -f "$q"/dist/*.gpgsig
  s=$(now)
  for a in $(find "$q/dist" -maxdepth 1 -type f -name "tool-*" ! -name "*.sig" ! -name "*checksums*"); do gpg --batch --yes --output "$a.gpgsig" --detach-sign "$a"; done
  e=$(now); echo "$e - $s" | bc -l
done | median)
printf 'rel sign stage: %.3fs   gpg x20: %.3fs   ratio gpg / rel: %.2fx\n' "$rel_s" "$gpg_s" "$(echo "$gpg_s / $rel_s" | bc -l)"
