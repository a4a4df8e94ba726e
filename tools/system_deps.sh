#!/usr/bin/env bash
# System packages the test suite needs: Debian's Chromium (browser tests; never a downloaded
# browser), libzbar0 (decoding printed QR codes in tests) and Node.js/npm (axe-core).
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ldconfig -p 2>/dev/null | grep -q libzbar.so.0 || need+=(libzbar0)
ldconfig -p 2>/dev/null | grep -q libcairo.so.2 || need+=(libcairo2)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing system packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
elif command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "Missing system packages: ${need[*]} (install them with apt-get; the tests that need them are skipped)" >&2
fi
