#!/usr/bin/env bash
# Runs gpuframe's benchmark on a GPU host from the bundle make-bundle.sh built, with no npm, apt or root:
# unpacks Node and the project into a work folder, extracts the Vulkan loader into a private root (found
# through LD_LIBRARY_PATH), points it at the host's driver, checks that Dawn finds an adapter, then runs
# the benchmark `npm run bench` runs. Results: $OUT if set, else ./gpu-results.
#
#   ./run-on-host.sh [--probe-only] [--allow-software] [--host-loader] [--work DIR] [-- BENCH ARGS...]
#
#   --probe-only      stop after the adapter check
#   --allow-software  accept a software adapter (llvmpipe, SwiftShader); by default that is an error,
#                     since it means the host's GPU driver was not the one used
#   --host-loader     use the host's libvulkan.so.1 instead of the bundled one
#   --work DIR        unpack there and keep it (a second run with the same DIR skips the unpacking and
#                     reuses generated benchmark data); default: a temporary folder, removed at the end
#   BENCH ARGS        replace the default `--rows 1e8`
#
# The Vulkan driver: GPUFRAME_VK_ICD (an ICD JSON file, or several separated by ':') if set; else
# VK_DRIVER_FILES / VK_ICD_FILENAMES if set; else the first NVIDIA ICD JSON found in the usual places;
# else one written here for libGLX_nvidia.so.0 if the host has that library; else the loader's own search.
set -euo pipefail

bundle="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
probe_only=0
allow_software=0
host_loader=0
work=""
bench_args=(--rows 1e8)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --probe-only) probe_only=1; shift ;;
    --allow-software) allow_software=1; shift ;;
    --host-loader) host_loader=1; shift ;;
    --work) work="$2"; shift 2 ;;
    --)
      shift
      if [[ $# -gt 0 ]]; then bench_args=("$@"); fi
      break
      ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run-on-host: unknown option $1 (benchmark arguments go after --)" >&2; exit 2 ;;
  esac
done

results="${OUT:-$PWD/gpu-results}"
mkdir -p "$results"
results="$(cd "$results" && pwd)"
log() { echo "run-on-host: $*" | tee -a "$results/run-on-host.log" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

[[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] || die "this bundle is for x86_64 Linux, not $(uname -s) $(uname -m)"
for tool in xz tar; do
  command -v "$tool" >/dev/null || die "'$tool' is needed to unpack the bundle (packages xz-utils, tar)"
done
for part in node.xz app.tar.xz; do
  [[ -f "$bundle/$part" ]] || die "$bundle/$part is missing: is this the folder make-bundle.sh wrote?"
done
debs=("$bundle"/libvulkan1_*_amd64.deb)
[[ -f "${debs[0]}" ]] || die "the Vulkan loader package (libvulkan1_*_amd64.deb) is missing from $bundle"
if command -v sha256sum >/dev/null && [[ -f "$bundle/SHA256SUMS" ]]; then
  (cd "$bundle" && sha256sum --quiet -c SHA256SUMS) || die "the bundle's files do not match SHA256SUMS: copy it again"
fi

if [[ -z "$work" ]]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/gpuframe-host.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
else
  mkdir -p "$work"
  work="$(cd "$work" && pwd)"
fi
log "bundle $bundle, work folder $work, results $results"

# Unpack once per bundle: the stamp is the bundle's checksums.
stamp="$(cat "$bundle/SHA256SUMS" 2>/dev/null || ls -l "$bundle")"
if [[ -f "$work/.unpacked" && "$(cat "$work/.unpacked")" == "$stamp" ]]; then
  log "reusing the unpacked bundle in $work"
else
  rm -rf "$work/bin" "$work/app" "$work/vulkan-root" "$work/.unpacked"
  mkdir -p "$work/bin" "$work/app" "$work/vulkan-root"
  xz -dc "$bundle/node.xz" >"$work/bin/node"
  chmod +x "$work/bin/node"
  tar -C "$work/app" -xJf "$bundle/app.tar.xz"
  if command -v dpkg >/dev/null; then
    dpkg -x "${debs[0]}" "$work/vulkan-root"
  else
    # No dpkg (RPM-based hosts): a .deb is an ar archive; take its data.tar.* member with the bundled node.
    "$work/bin/node" -e '
      const fs = require("fs");
      const [deb, dir] = process.argv.slice(1);
      const bytes = fs.readFileSync(deb);
      for (let at = 8; at + 60 <= bytes.length; ) {
        const name = bytes.toString("latin1", at, at + 16).trim().replace(/\/$/, "");
        const size = Number(bytes.toString("latin1", at + 48, at + 58).trim());
        if (name.startsWith("data.tar")) fs.writeFileSync(`${dir}/${name}`, bytes.subarray(at + 60, at + 60 + size));
        at += 60 + size + (size % 2);
      }' "${debs[0]}" "$work"
    tar -C "$work/vulkan-root" -xf "$work"/data.tar.*
    rm -f "$work"/data.tar.*
  fi
  echo "$stamp" >"$work/.unpacked"
fi
export PATH="$work/bin:$PATH"
node --version >/dev/null 2>"$work/node.stderr" || die "the bundled node does not run here (glibc 2.28 or newer is needed): $(cat "$work/node.stderr")"

# The loader from a private root, found through LD_LIBRARY_PATH: this needs no root and changes nothing
# on the host (no ldconfig, no files outside the work folder), so it is used with root too.
if [[ "$host_loader" == 1 ]]; then
  log "Vulkan loader: the host's (--host-loader)"
else
  libdir="$work/vulkan-root/usr/lib/x86_64-linux-gnu"
  [[ -e "$libdir/libvulkan.so.1" ]] || die "no libvulkan.so.1 in the extracted loader package ($libdir)"
  export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  log "Vulkan loader: $(basename "${debs[0]}") in $libdir"
fi

# The driver: which ICD JSON the loader reads.
icd=""
if [[ -n "${GPUFRAME_VK_ICD:-}" ]]; then
  IFS=: read -r -a listed <<<"$GPUFRAME_VK_ICD"
  for file in "${listed[@]}"; do
    [[ -f "$file" ]] || die "GPUFRAME_VK_ICD names $file, which does not exist"
  done
  icd="$GPUFRAME_VK_ICD"
elif [[ -n "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]]; then
  icd="${VK_DRIVER_FILES:-$VK_ICD_FILENAMES}"
else
  for candidate in \
    /usr/share/vulkan/icd.d/nvidia_icd.json \
    /etc/vulkan/icd.d/nvidia_icd.json \
    /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
    /usr/local/share/vulkan/icd.d/nvidia_icd.json \
    /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json \
    /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [[ -f "$candidate" ]]; then
      icd="$candidate"
      break
    fi
  done
  if [[ -z "$icd" ]]; then
    # NVIDIA's Vulkan driver lives in libGLX_nvidia.so.0; some containers mount it without the JSON.
    glx="$( (ldconfig -p 2>/dev/null || true) | awk '!found && /libGLX_nvidia\.so\.0 .*x86-64/ { print $NF; found = 1 }')"
    for dir in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/lib; do
      [[ -z "$glx" && -e "$dir/libGLX_nvidia.so.0" ]] && glx="$dir/libGLX_nvidia.so.0"
    done
    if [[ -n "$glx" ]]; then
      icd="$work/nvidia_icd.json"
      printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$glx" >"$icd"
      log "no NVIDIA ICD JSON on this host; wrote $icd for $glx"
    fi
  fi
fi
if [[ -n "$icd" ]]; then
  # VK_DRIVER_FILES is the current name (loader 1.3.207+), VK_ICD_FILENAMES the older one.
  export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
  log "Vulkan driver (ICD): $icd"
else
  log "no NVIDIA ICD JSON or libGLX_nvidia.so.0 found; the loader searches its default folders (set GPUFRAME_VK_ICD to choose)"
fi

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "uname: $(uname -a)"
  echo "glibc: $(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
  echo "node: $(node --version) ($(command -v node))"
  echo "cpus: $(nproc 2>/dev/null || echo unknown)"
  echo "memory: $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo 2>/dev/null || echo unknown)"
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
  [[ -n "$icd" ]] && { echo "ICD JSON:"; IFS=: read -r -a files <<<"$icd"; for f in "${files[@]}"; do cat "$f" 2>/dev/null; done; }
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
} >"$results/host.txt" 2>&1 || true

cd "$work/app"
log "probe: node dist/native/probe.js"
if ! node dist/native/probe.js >"$results/probe.json" 2>"$results/probe.stderr"; then
  cat "$results/probe.stderr" >&2
  # The loader's own account of what it found and why it failed.
  VK_LOADER_DEBUG=error,warn,driver node dist/native/probe.js >/dev/null 2>"$results/vulkan-loader-debug.log" || true
  die "no WebGPU adapter ($(tail -n 1 "$results/probe.stderr")). The loader's log is in $results/vulkan-loader-debug.log. Check that the ICD JSON names the host's driver (GPUFRAME_VK_ICD), that the driver's libraries are visible (in a container: NVIDIA_DRIVER_CAPABILITIES must include graphics), and for 'did not load' errors that the host has glibc >= 2.34 and GLIBCXX_3.4.30."
fi
adapter="$(node -e '
  const { adapter } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const soft = adapter.architecture === "software" || adapter.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(adapter.description + adapter.device);
  console.log(`${soft ? "software" : "hardware"}\t${adapter.vendor} ${adapter.device} (${adapter.architecture}) ${adapter.description}`);
' "$results/probe.json")"
kind="${adapter%%$'\t'*}"
log "adapter: ${adapter#*$'\t'} [$kind]"
if [[ "$kind" == software && "$allow_software" != 1 ]]; then
  die "Dawn's adapter is a software one: the host's GPU driver was not used (see $results/probe.json; --allow-software to accept it)"
fi
if [[ "$probe_only" == 1 ]]; then
  log "probe only: done"
  exit 0
fi

# The benchmark `npm run bench` runs, read from the bundled package.json: the node flags and the script
# after its `&& node`, e.g. `--expose-gc --max-old-space-size=16384 dist/bench/groupby.js`.
bench_words="$(node -e '
  const script = require("./package.json").scripts?.bench ?? "";
  const run = script.split("&&").map((part) => part.trim()).find((part) => /^node\s/.test(part));
  const words = run ? run.split(/\s+/).slice(1) : [];
  if (!words.some((word) => /^dist\/bench\/.+\.js$/.test(word))) process.exit(1);
  console.log(words.join("\n"));
')" || die "package.json's bench script is not 'npm run build && node ... dist/bench/<runner>.js'"
mapfile -t bench_cmd <<<"$bench_words"
log "benchmark: node ${bench_cmd[*]} ${bench_args[*]}"
set +e
node "${bench_cmd[@]}" "${bench_args[@]}" 2>&1 | tee "$results/bench.log"
status=${PIPESTATUS[0]}
set -e
if [[ -d bench/results ]]; then
  mkdir -p "$results/bench-results"
  cp -r bench/results/. "$results/bench-results/"
fi
log "benchmark exit code $status; results in $results"
exit "$status"
