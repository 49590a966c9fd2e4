#!/bin/sh
# Renders an etuner report with headless chromium (Debian's `chromium` package).
#
#   scripts/screenshot-report.sh runs/x/report.html runs/x/report.png [WIDTHxHEIGHT]
#
# Writes the PNG and prints chromium's log (console messages included) on stderr, so a
# caller can look for "Uncaught" or "CONSOLE" error lines. Every flag that could reach the
# network is off: the report must render with no network at all.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
  exit 2
fi
html=$1
png=$2
size=${3:-1280x2400}
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$chromium" ]; then
  echo "chromium not installed (apt-get install chromium)" >&2
  exit 3
fi
case $html in /*) ;; *) html=$(pwd)/$html ;; esac
case $png in /*) ;; *) png=$(pwd)/$png ;; esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --enable-logging=stderr --v=0 \
  --user-data-dir="$profile" --screenshot="$png" --window-size="$(echo "$size" | tr x ,)" \
  "file://$html"
