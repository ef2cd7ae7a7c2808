#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (tests/Faultline.BrowserTests), which drive it through
# Playwright with this path: the tests never download a browser. Does nothing when it is there already.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then exit 0; fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
