#!/usr/bin/env bash
# Makes a machine without a GPU able to run gpuframe's WGSL shaders: installs
# Mesa 25's lavapipe (software Vulkan) from Debian's bookworm-backports suite.
# Debian 12's stock Mesa 22 lavapipe gives Dawn no adapter (it lacks
# shader*ArrayDynamicIndexing). The backports suite is added with the mirror URI
# the machine's own Debian sources already use, so no host name lives in this repo.
#
# GLES alternative on stock Mesa (lower limits, no backports needed):
#   EGL_PLATFORM=surfaceless GPUFRAME_DAWN_OPTIONS=backend=opengles \
#   GPUFRAME_FEATURE_LEVEL=compatibility npm run probe
set -euo pipefail

if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null; then exec sudo -E bash "$0" "$@"; fi
  echo "setup-software-gpu: must run as root (apt-get)" >&2
  exit 1
fi

. /etc/os-release
codename="${VERSION_CODENAME:-}"
if [[ "$codename" != bookworm ]]; then
  echo "setup-software-gpu: written for Debian 12 (bookworm); this is '${PRETTY_NAME:-unknown}'" >&2
  exit 1
fi

# The URI of the main Debian archive, from deb822 sources or one-line sources.
mirror=""
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.sources; do
  mirror="$(awk -v cn="$codename" '
    /^[[:space:]]*$/ { if (uri != "" && suite) { print uri; exit } uri=""; suite=0; next }
    /^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { uri=$i; break } }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == cn) suite=1 }
    END { if (uri != "" && suite) print uri }' "$f" | head -n1)"
  [[ -n "$mirror" ]] && break
done
if [[ -z "$mirror" ]]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    mirror="$(awk -v cn="$codename" '
      $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i+1) == cn && $i !~ /security/) { print $i; exit } }' "$f")"
    [[ -n "$mirror" ]] && break
  done
fi
if [[ -z "$mirror" ]]; then
  echo "setup-software-gpu: found no Debian '$codename' source to take the mirror URI from" >&2
  exit 1
fi

list=/etc/apt/sources.list.d/gpuframe-backports.sources
if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat >"$list" <<SRC
Types: deb
URIs: ${mirror}
Suites: ${codename}-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  echo "setup-software-gpu: added ${codename}-backports from ${mirror}"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t "${codename}-backports" mesa-vulkan-drivers libvulkan1 >/dev/null

version="$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
echo "setup-software-gpu: mesa-vulkan-drivers ${version} (lavapipe)"
case "$version" in
  2[5-9].*|[3-9][0-9].*) ;;
  *) echo "setup-software-gpu: need Mesa 25 or newer, got ${version}" >&2; exit 1 ;;
esac
