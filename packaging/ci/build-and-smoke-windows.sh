#!/usr/bin/env bash
# Builds the Windows executables of xlbatch (xlbatch.exe and xlbatch-cli.exe) from build.spec under
# Wine, checks their headers and resources, smoke-tests them under Wine, then builds the installer with
# Inno Setup's own compiler (ISCC.exe, from the npm registry's innosetup package) and installs, runs and
# uninstalls it (packaging/ci/check_installer.py). The installer is $XLBATCH_WINDOWS_BUILD_DIR/installer/
# xlbatch-<version>-setup.exe.
#
#   bash packaging/ci/build-and-smoke-windows.sh
#
# Uses the Wine build kit (build-windows-exe.sh, wine-run.sh), found in `shared/wine` beside the clone
# or at $XLBATCH_WINE_KIT. The kit installs Wine and builds with the official Windows CPython; a second
# run reuses its Wine prefix and Python in $WORK. Every Wine call is bounded by `timeout`: under Wine a
# failure usually looks like a hang. Exit status non-zero on any failure.
#
# env: XLBATCH_WINE_KIT (<repo>/../shared/wine)  WORK (/tmp/wine-build: the kit's prefix and Python)
#      XLBATCH_WINDOWS_BUILD_DIR (/tmp/xlbatch-windows-build): dist/ and the smoke test's files
#      XLBATCH_CI_ONEFILE=1: also build and smoke-test the single-file programs
#      XLBATCH_WINDOW_RUNS (3): how many times to measure the time to the first window
set -euo pipefail
exec </dev/null
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/../.." && pwd))
KIT=${XLBATCH_WINE_KIT:-$ROOT/../shared/wine}
[[ -x $KIT/build-windows-exe.sh && -x $KIT/wine-run.sh ]] || { echo "Wine build kit not found in $KIT (set XLBATCH_WINE_KIT)"; exit 1; }
KIT=$(cd "$KIT" && pwd)
export WORK=${WORK:-/tmp/wine-build}
OUT=${XLBATCH_WINDOWS_BUILD_DIR:-/tmp/xlbatch-windows-build}
PY=${PYTHON:-python3}
SECONDS=0
step() { echo "=== [$(date +%T) +${SECONDS}s] $*"; }
declare -A took
stop_wine() { WINEPREFIX=$WORK/prefix timeout 60 wineserver -k 2>/dev/null || true; }
trap stop_wine EXIT

step "apt and pip packages for the smoke test"
t0=$SECONDS
# fonts-wine: the fonts Qt finds offscreen (wine-run.sh points QT_QPA_FONTDIR at them; without them the
# screenshot shows boxes); Xvfb and xdotool: the time-to-window probe. The kit installs Wine itself.
# wine32 (i386): Inno Setup's compiler and the setup programs it makes are 32-bit Windows programs;
# npm fetches the compiler.
APT_PACKAGES=(fonts-wine xvfb xauth xdotool wine32:i386)
command -v npm >/dev/null || APT_PACKAGES+=(npm)
if ! dpkg -s "${APT_PACKAGES[@]}" >/dev/null 2>&1; then
  dpkg --print-foreign-architectures | grep -qx i386 || dpkg --add-architecture i386
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
fi
# A prefix made before wine32 was there has no 32-bit half, and with wine32 installed `wine` then fails
# on every program ("could not load kernel32.dll"): start that prefix again.
if [[ -f $WORK/prefix.ready && ! -f $WORK/prefix/drive_c/windows/syswow64/kernel32.dll ]]; then
  echo "the Wine prefix in $WORK has no 32-bit part: making it again"
  rm -rf "$WORK/prefix" "$WORK/prefix.ready"
fi
# The smoke test generates workbooks with tests/corpus.py and watches processes with psutil.
"$PY" -c "import msoffcrypto, openpyxl, psutil, xlsxwriter" 2>/dev/null \
  || "$PY" -m pip install -q msoffcrypto-tool openpyxl psutil xlsxwriter
took[packages]=$((SECONDS - t0))

build() {  # build [onedir|onefile]
  local kind=$1 dist="$OUT/dist"
  [[ $kind == onefile ]] && dist="$OUT/dist-onefile"
  step "build-windows-exe.sh ($kind) -> $dist"
  local t0=$SECONDS
  rm -rf "$dist"
  XLBATCH_ONEFILE=$([[ $kind == onefile ]] && echo 1 || echo 0) DIST=$dist \
    timeout 2700 bash "$KIT/build-windows-exe.sh" "$ROOT"
  took[build_$kind]=$((SECONDS - t0))
}

smoke() {  # smoke FOLDER NAME [--onefile]
  local folder=$1 name=$2 extra=${3:-}
  step "executable headers and resources ($name)"
  PYTHONPATH="$WORK/hosttools" "$PY" "$ROOT/packaging/ci/check_pe.py" "$folder"
  step "smoke test under Wine ($name)"
  local t0=$SECONDS
  timeout 1800 "$PY" "$ROOT/packaging/ci/smoke.py" --wine-run "$KIT/wine-run.sh" \
    --cli "$folder/xlbatch-cli.exe" --gui "$folder/xlbatch.exe" --work "$OUT/smoke-$name" \
    --timeout 300 --window-time "${XLBATCH_WINDOW_RUNS:-3}" $extra
  took[smoke_$name]=$((SECONDS - t0))
  echo "screenshot of the window: $OUT/smoke-$name/window.png"
}

installer() {
  step "installer: Inno Setup under Wine; install, run, uninstall"
  local t0=$SECONDS
  timeout 2400 "$PY" "$ROOT/packaging/ci/check_installer.py" --dist "$OUT/dist/xlbatch" --out "$OUT/installer" \
    --wine-run "$KIT/wine-run.sh"
  took[installer]=$((SECONDS - t0))
}

mkdir -p "$OUT"
build onedir
smoke "$OUT/dist/xlbatch" onedir
installer
if [[ ${XLBATCH_CI_ONEFILE:-0} == 1 ]]; then
  build onefile
  smoke "$OUT/dist-onefile" onefile --onefile
fi

step "sizes and timings"
echo "one folder: $(du -sh "$OUT/dist/xlbatch" | cut -f1) in $OUT/dist/xlbatch ($(find "$OUT/dist/xlbatch" -type f | wc -l) files)"
ls -l "$OUT/dist/xlbatch/"*.exe | awk '{printf "  %-60s %6.1f MB\n", $NF, $5 / 1048576}'
echo "  largest parts:"
du -s "$OUT/dist/xlbatch/_internal"/* | sort -n | tail -6 | awk '{printf "    %6.1f MB  %s\n", $1 / 1024, $2}'
if [[ ${XLBATCH_CI_ONEFILE:-0} == 1 ]]; then
  ls -l "$OUT/dist-onefile"/*.exe | awk '{printf "single file: %-50s %6.1f MB\n", $NF, $5 / 1048576}'
fi
ls -l "$OUT/installer"/xlbatch-*-setup.exe | awk '{printf "installer: %-50s %6.1f MB\n", $NF, $5 / 1048576}'
for key in "${!took[@]}"; do echo "  $key: ${took[$key]} s"; done | sort
echo "Windows build and smoke test passed in ${SECONDS}s"
