#!/usr/bin/env bash
# Install rel's prebuilt release archive for this runner, checked against the release's own
# checksum file, and put it on PATH ($GITHUB_PATH). Used by action.yml and inlined by
# `rel ci github`. Needs REL_VERSION; REL_DOWNLOAD_BASE overrides where releases are fetched
# from (a mirror, or a file:// folder).
set -euo pipefail
: "${REL_VERSION:?set REL_VERSION, e.g. 0.2.0}"
case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) a=linux_amd64 ext=tar.gz ;;
  Linux/ARM64 | Linux/aarch64) a=linux_arm64 ext=tar.gz ;;
  macOS/X64 | Darwin/x86_64) a=darwin_amd64 ext=tar.gz ;;
  macOS/ARM64 | Darwin/arm64) a=darwin_arm64 ext=tar.gz ;;
  Windows/X64) a=windows_amd64 ext=zip ;;
  *) echo "no rel release for ${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" >&2; exit 1 ;;
esac
name="rel_${REL_VERSION}_${a}.${ext}"
sums="rel_${REL_VERSION}_checksums.txt"
dir="${RUNNER_TEMP:-/tmp}/rel-${REL_VERSION}"
base="${REL_DOWNLOAD_BASE:-https://github.com/rel-dev/rel/releases/download}/v${REL_VERSION}"
mkdir -p "$dir"
cd "$dir"
curl -fsSL --retry 3 -o "$name" "$base/$name"
curl -fsSL --retry 3 -o "$sums" "$base/$sums"
grep "  ${name}\$" "$sums" > "$name.sha256" || { echo "$name is not in $sums" >&2; exit 1; }
if command -v sha256sum > /dev/null; then sha256sum -c "$name.sha256"; else shasum -a 256 -c "$name.sha256"; fi
if [ "$ext" = tar.gz ]; then
  tar -xzf "$name"
elif command -v unzip > /dev/null; then
  unzip -qo "$name"
else
  powershell -NoProfile -Command "Expand-Archive -Force -Path '$name' -DestinationPath ."
fi
echo "$dir" >> "${GITHUB_PATH:-/dev/null}"
echo "rel ${REL_VERSION} installed in $dir"
