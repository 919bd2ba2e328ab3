#!/usr/bin/env bash
# The Debian packages the test suite needs: python3-venv (the README's commands make a virtual environment:
# Debian and Ubuntu refuse pip in the system Python), the shared libraries Qt loads for its offscreen platform, and
# LibreOffice Calc (headless), which makes the .xls test files with saved formula results
# (tests/exact_files.py) and opens the copies find & replace writes.
# Safe to run again; uses sudo when not run as root.
#
#   bash .ci/system-packages.sh               # all of them
#   bash .ci/system-packages.sh python3-venv  # only these (the README's first command, when venv fails)
set -euo pipefail
packages=(python3-venv libglib2.0-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxcb-cursor0 libreoffice-calc-nogui)
[ $# -gt 0 ] && packages=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo  # a container's root has no sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
