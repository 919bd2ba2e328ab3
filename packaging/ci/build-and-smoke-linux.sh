#!/usr/bin/env bash
# Builds the Linux bundle of xlbatch from build.spec and smoke-tests the built programs.
#
#   bash packaging/ci/build-and-smoke-linux.sh
#
# Self-contained: installs what it needs (apt: binutils for PyInstaller, the libraries Qt loads,
# Xvfb and xdotool for the time-to-window probe; pip: PyInstaller, the project, the generators' needs),
# builds one folder (dist/xlbatch/ with xlbatch and xlbatch-cli) outside the repository, runs
# packaging/ci/smoke.py on it, and prints sizes and timings. Exit status non-zero on any failure.
#
# env: XLBATCH_BUILD_DIR (/tmp/xlbatch-linux-build): build/, dist/ and the smoke test's files
#      XLBATCH_CI_ONEFILE=1: also build and smoke-test the single-file programs (XLBATCH_ONEFILE=1)
#      XLBATCH_WINDOW_RUNS (3): how many times to measure the time to the first window
set -euo pipefail
exec </dev/null
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${XLBATCH_BUILD_DIR:-/tmp/xlbatch-linux-build}
PY=${PYTHON:-python3}
SECONDS=0
step() { echo "=== [$(date +%T) +${SECONDS}s] $*"; }
declare -A took

step "apt packages"
t0=$SECONDS
# binutils: PyInstaller reads shared libraries with objdump; the others are what Qt's xcb and offscreen
# platforms load from the system (they are not bundled), Xvfb/xdotool for measuring the time to the window.
APT_PACKAGES=(binutils libglib2.0-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0 libxcb-render-util0 libxcb-image0
  fonts-dejavu-core xvfb xauth xdotool)
if ! dpkg -s "${APT_PACKAGES[@]}" >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
fi
took[apt]=$((SECONDS - t0))

step "pip packages"
t0=$SECONDS
"$PY" -c "import PyInstaller" 2>/dev/null || "$PY" -m pip install -q "pyinstaller>=6.10"
# The project and its runtime dependencies (an editable install keeps the working tree the one source).
"$PY" - "$ROOT" <<'EOF' || "$PY" -m pip install -q -e "$ROOT"
import importlib.metadata, sys
importlib.metadata.version("xlbatch")
import defusedxml, olefile, openpyxl, psutil, PySide6, python_calamine, xlsxwriter  # noqa: F401
EOF
# The smoke test generates its workbooks with tests/corpus.py (openpyxl, xlsxwriter, msoffcrypto-tool).
"$PY" -c "import msoffcrypto" 2>/dev/null || "$PY" -m pip install -q msoffcrypto-tool
took[pip]=$((SECONDS - t0))

build() {  # build [onefile]
  local kind=${1:-onedir} dist="$OUT/dist" work="$OUT/build"
  [[ $kind == onefile ]] && dist="$OUT/dist-onefile" work="$OUT/build-onefile"
  step "PyInstaller build.spec ($kind) -> $dist"
  local t0=$SECONDS log="$OUT/pyinstaller-$kind.log"
  mkdir -p "$OUT"
  if ! (cd "$ROOT" && XLBATCH_ONEFILE=$([[ $kind == onefile ]] && echo 1 || echo 0) timeout 1800 \
        "$PY" -m PyInstaller --noconfirm --clean --distpath "$dist" --workpath "$work" build.spec >"$log" 2>&1); then
    tail -40 "$log"
    echo "PyInstaller failed ($kind); full log: $log"
    exit 1
  fi
  took[build_$kind]=$((SECONDS - t0))
}

smoke() {  # smoke FOLDER NAME [--onefile]
  local folder=$1 name=$2 extra=${3:-}
  step "smoke test ($name)"
  local t0=$SECONDS
  timeout 1200 "$PY" "$ROOT/packaging/ci/smoke.py" --cli "$folder/xlbatch-cli" --gui "$folder/xlbatch" \
    --work "$OUT/smoke-$name" --timeout 180 --window-time "${XLBATCH_WINDOW_RUNS:-3}" $extra
  took[smoke_$name]=$((SECONDS - t0))
}

rm -rf "$OUT/dist" "$OUT/dist-onefile"
build onedir
smoke "$OUT/dist/xlbatch" onedir
if [[ ${XLBATCH_CI_ONEFILE:-0} == 1 ]]; then
  build onefile
  smoke "$OUT/dist-onefile" onefile --onefile
fi

step "sizes and timings"
echo "one folder: $(du -sh "$OUT/dist/xlbatch" | cut -f1) in $OUT/dist/xlbatch ($(find "$OUT/dist/xlbatch" -type f | wc -l) files)"
ls -l "$OUT/dist/xlbatch/xlbatch" "$OUT/dist/xlbatch/xlbatch-cli" | awk '{printf "  %-60s %6.1f MB\n", $NF, $5 / 1048576}'
echo "  largest parts:"
du -s "$OUT/dist/xlbatch/_internal"/* | sort -n | tail -6 | awk '{printf "    %6.1f MB  %s\n", $1 / 1024, $2}'
if [[ ${XLBATCH_CI_ONEFILE:-0} == 1 ]]; then
  ls -l "$OUT/dist-onefile"/* | awk '{printf "single file: %-50s %6.1f MB\n", $NF, $5 / 1048576}'
fi
for key in "${!took[@]}"; do echo "  $key: ${took[$key]} s"; done | sort
echo "Linux build and smoke test passed in ${SECONDS}s"
