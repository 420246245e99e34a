#!/usr/bin/env bash
# Install the system packages the test suite drives for real, when missing and when we can (root + apt).
# Without them the affected tests skip loudly locally, and fail in CI (CI=true).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v pdfsig >/dev/null 2>&1 || need+=(poppler-utils)
command -v initdb >/dev/null 2>&1 || need+=(postgresql)
command -v zip >/dev/null 2>&1 || need+=(zip)  # bench/bundle.py --vs-bagit zips the stock bag
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  if [[ " ${need[*]} " == *" postgresql "* ]] && ! command -v initdb >/dev/null; then
    # Debian keeps the server binaries off PATH; link the newest version's tools.
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    for tool in initdb pg_ctl postgres; do ln -sf "$bindir/$tool" /usr/local/bin/$tool; done
  fi
else
  echo "system-deps: WARNING: missing ${need[*]} and cannot install them (not root or no apt-get);" >&2
  echo "system-deps: the tests that need them will be skipped (or fail when CI is set)." >&2
fi
