#!/usr/bin/env bash
# The Debian packages the test suite needs: the shared libraries Qt loads for its offscreen platform, and
# LibreOffice Calc (headless), which makes the .xls test files with saved formula results
# (tests/exact_files.py) and opens the copies find & replace writes.
# Safe to run again; uses sudo when not run as root.
set -euo pipefail
packages=(libglib2.0-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxcb-cursor0 libreoffice-calc-nogui)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
