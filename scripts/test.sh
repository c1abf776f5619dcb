#!/usr/bin/env bash
# Second Quick start command: set up, then run every test (see test/run.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc -p tsconfig.json
# Lint (typescript-eslint, type-checked) and formatting (Prettier) are part of the whole run;
# a run of chosen test files (npm test -- <part of a path>) skips them (npm run lint runs them alone).
if [ "$#" -eq 0 ]; then
  npx eslint .
  npx prettier --check . >/dev/null || { npx prettier --list-different .; echo 'prettier: the files above are not formatted (npm run format)' >&2; exit 1; }
fi
exec node --import tsx test/run.ts "$@"
