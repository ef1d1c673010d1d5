#!/usr/bin/env bash
# Install the Debian packages Lanyard needs, when they are missing (needs root or sudo).
#   scripts/system-packages.sh test   xmlsec1 (pysaml2 verifies signatures with it) and Chromium (browser tests)
#   scripts/system-packages.sh demo   xmlsec1 (the demo SP, djangosaml2, verifies Lanyard's signatures with it)
set -euo pipefail
purpose="${1:-test}"
wanted=()
command -v xmlsec1 >/dev/null 2>&1 || wanted+=(xmlsec1)
if [ "$purpose" = test ]; then
  [ -x /usr/bin/chromium ] || wanted+=(chromium chromium-driver)
fi
[ ${#wanted[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Lanyard's $purpose needs these packages, and this is not a Debian-like system: ${wanted[*]}. Install them, then run again." >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
why="xmlsec1 checks SAML signatures"
[ "$purpose" = test ] && why="$why, chromium runs the browser tests"
echo "Installing Debian packages the $purpose needs ($why): ${wanted[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${wanted[@]}" >/dev/null
