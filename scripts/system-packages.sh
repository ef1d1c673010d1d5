#!/usr/bin/env bash
# Install the Debian packages the tests need, when they are missing (needs root or sudo).
set -euo pipefail
wanted=()
command -v xmlsec1 >/dev/null 2>&1 || wanted+=(xmlsec1)
[ -x /usr/bin/chromium ] || wanted+=(chromium chromium-driver)
[ ${#wanted[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing Debian packages for the tests: ${wanted[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${wanted[@]}" >/dev/null
