#!/usr/bin/env bash
# Installs the app's packages if needed and starts it at http://localhost:5173
# Usage: bash scripts/start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
exec npm start -- --host 127.0.0.1
