#!/usr/bin/env bash
# Second Quick start command: set up, then run every test (see test/run.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc -p tsconfig.json
exec node --import tsx test/run.ts "$@"
