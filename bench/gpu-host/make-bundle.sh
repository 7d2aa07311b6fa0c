#!/usr/bin/env bash
# Builds a self-contained bundle for running gpuframe's benchmarks on a GPU host that has no npm or apt
# access: this machine's Node binary, the compiled project, the runtime node_modules for x64 Linux, and
# the Vulkan loader package. It must stay under 64 MiB; the script fails if it does not.
#
#   bash bench/gpu-host/make-bundle.sh [--out DIR] [--no-build] [--tar]
#
#   --out DIR    where the bundle folder goes (default bench/gpu-host/out, git-ignored)
#   --no-build   use dist/ as it is instead of running tsc first
#   --tar        also write DIR/gpuframe-gpu-host.tar (the folder as one file; parts are already compressed)
#
# Then copy DIR/gpuframe-gpu-host/ to the host and run its run-on-host.sh (see bench/gpu-host/README.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$here/out"
build=1
make_tar=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --no-build) build=0; shift ;;
    --tar) make_tar=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "make-bundle: unknown option $1" >&2; exit 2 ;;
  esac
done

name=gpuframe-gpu-host
limit_bytes=$((64 * 1024 * 1024))
bundle="$out/$name"
stage="$out/.stage"
say() { echo "make-bundle: $*"; }

for tool in node xz tar apt-get sha256sum; do
  command -v "$tool" >/dev/null || { echo "make-bundle: '$tool' is needed on the build machine" >&2; exit 1; }
done
if [[ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]]; then
  echo "make-bundle: the bundle carries this machine's node binary and x64 Linux natives; run it on x86_64 Linux" >&2
  exit 1
fi

cd "$repo"
if [[ "$build" == 1 ]]; then
  say "compiling (npx tsc -p tsconfig.json)"
  npx tsc -p tsconfig.json
fi
for needed in dist/src/index.js dist/native/probe.js dist/bench/gpu-host/runtime-packages.js shaders package.json; do
  [[ -e "$needed" ]] || { echo "make-bundle: $needed is missing; build first" >&2; exit 1; }
done

rm -rf "$bundle" "$stage"
mkdir -p "$bundle" "$stage/app"
trap 'rm -rf "$stage"' EXIT

# The node binary as it is (not stripped: symbols make a crash on the host readable). -9 costs nothing
# on the host's side, and Node's 100 MB fit one xz block either way.
node_bin="$(command -v node)"
say "node $(node --version) from $node_bin"
xz -T2 -9 -c "$node_bin" >"$bundle/node.xz"

# The compiled project: what `npm start`, `npm run probe` and the benchmarks load. Tests, source maps
# and declarations are not needed to run.
say "compiled project"
tar -C "$repo" -cf - --exclude='*.map' --exclude='*.d.ts' dist/src dist/native dist/bench shaders package.json | tar -C "$stage/app" -xf -

# node_modules: the runtime closure only (production dependencies plus what the compiled benchmarks
# import), without type-only packages or other platforms' natives.
say "runtime node_modules"
package_list="$(node dist/bench/gpu-host/runtime-packages.js "$repo")"
mapfile -t packages <<<"$package_list"
tar -C "$repo" -cf - "${packages[@]}" | tar -C "$stage/app" -xf -
modules="$stage/app/node_modules"
# webgpu ships dawn.node for every platform; the host is x64 Linux. build/ is its install-time tooling.
find "$modules/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
rm -rf "$modules/webgpu/build"
# Nested node_modules of copied packages may hold declarations-only packages too.
find "$modules" -depth -type d \( -path '*/node_modules/@types' -o -path '*/node_modules/undici-types' -o -path '*/node_modules/typescript' \) -exec rm -rf {} +
# What nothing loads at run time: maps, declarations, TypeScript sources, docs (licences stay), package tests.
find "$modules" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.ts' -o -name '*.tsbuildinfo' \) -delete
find "$modules" -type f \( -iname '*.md' -o -iname '*.markdown' \) ! -iname 'licen[cs]e*' ! -iname 'notice*' -delete
for pkg in "${packages[@]}"; do
  for junk in test tests __tests__ docs doc samples example examples benchmark benchmarks .github; do
    rm -rf "$stage/app/$pkg/$junk"
  done
done
stray_natives="$(find "$modules" -name '*.node' | grep -v -e 'linux-x64' -e 'linux_x64' || true)"
if [[ -n "$stray_natives" ]]; then
  echo "make-bundle: native addons for another platform are left:" >&2
  echo "$stray_natives" >&2
  exit 1
fi

say "compressing the project and node_modules (xz -9)"
tar -C "$stage/app" --sort=name --owner=0 --group=0 --numeric-owner -cf - . | xz -T2 -9 -c >"$bundle/app.tar.xz"

# The Vulkan loader (libvulkan.so.1): Dawn dlopens it; GPU hosts often have the driver's ICD but no loader.
say "Vulkan loader package (apt-get download libvulkan1)"
# As root, apt's download sandbox user cannot write into this folder; say so rather than get a warning.
apt_options=()
[[ "$(id -u)" == 0 ]] && apt_options=(-o APT::Sandbox::User=root)
(cd "$bundle" && apt-get download -q "${apt_options[@]}" "libvulkan1:amd64" >/dev/null)
ls "$bundle"/libvulkan1_*_amd64.deb >/dev/null

cp "$here/run-on-host.sh" "$here/README.md" "$bundle/"
chmod +x "$bundle/run-on-host.sh"

# A manifest that says what is inside, and checksums run-on-host.sh verifies after the copy.
{
  echo "gpuframe GPU-host bundle, built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "node $(node --version) ($(uname -m)); needs glibc >= 2.34 and libstdc++ with GLIBCXX_3.4.30 (GCC 12) on the host"
  echo "benchmark script: $(node -p "require('./package.json').scripts.bench")"
  echo
  echo "uncompressed:"
  du -sh "$stage/app/dist" "$stage/app/shaders" "$stage/app/node_modules" | sed "s|$stage/app/|  app/|"
  du -sh "$stage/app/node_modules/"* "$stage/app/node_modules/"@*/* 2>/dev/null | sort -rh | awk 'NR <= 12' | sed "s|$stage/app/|    |"
  echo
  echo "packages (${#packages[@]}):"
  printf '  %s\n' "${packages[@]#node_modules/}"
} >"$bundle/MANIFEST.txt"
(cd "$bundle" && sha256sum node.xz app.tar.xz libvulkan1_*_amd64.deb >SHA256SUMS)

total=$(du -sb "$bundle" | cut -f1)
say "bundle $bundle"
(cd "$bundle" && for f in *; do printf '  %-40s %12s bytes  %s\n' "$f" "$(stat -c %s "$f")" "$(du -h "$f" | cut -f1)"; done)
printf '  %-40s %12s bytes  (limit %s)\n' total "$total" "$limit_bytes"
if ((total > limit_bytes)); then
  echo "make-bundle: the bundle is $total bytes, over the 64 MiB limit" >&2
  exit 1
fi
if [[ "$make_tar" == 1 ]]; then
  tar -C "$out" -cf "$out/$name.tar" "$name"
  say "$out/$name.tar: $(stat -c %s "$out/$name.tar") bytes"
fi
