#!/usr/bin/env bash
# First Quick start command: set up, then run the whole system (see workers/system.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --import tsx workers/system.ts
