#!/usr/bin/env bash
# The map UI's browser tests drive Debian's headless Chromium (Playwright, pinned in
# requirements.txt, drives it; no browser download). Installs the `chromium` package and the
# CJK fonts (Chinese labels in screenshots) when missing; needs root for apt-get.
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "setup_browser: Chromium or the CJK fonts are missing; install them with" >&2
    echo "  sudo apt-get install chromium fonts-noto-cjk" >&2
    exit 1
fi
echo "setup_browser: installing chromium and fonts-noto-cjk with apt-get" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
