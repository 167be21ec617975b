#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the console's browser tests
# (chromedp drives it headless) and prints its path. Installs the package
# `chromium` with apt when it is missing: as root, or through sudo.
set -euo pipefail

for name in "${LOGMON_CHROMIUM:-}" chromium chromium-browser google-chrome; do
  [ -n "$name" ] || continue
  if path=$(command -v "$name" 2>/dev/null); then echo "$path"; exit 0; fi
done

as_root=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo > /dev/null || { echo "Chromium is missing and this user cannot install it: apt-get install chromium (as root), or set LOGMON_CHROMIUM" >&2; exit 1; }
  as_root=(sudo -n)
fi
echo "installing Debian's chromium for the browser tests (apt-get, about a minute)" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq >&2 || true
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium >&2
command -v chromium
