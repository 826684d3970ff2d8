#!/usr/bin/env bash
# Runs every training recipe's self-test (models/*/selftest.py: hand-computed values, and
# torchvision's own implementations where the recipe mirrors one) with /usr/bin/python3,
# the interpreter that sees Debian's python3-torch, python3-torchvision, python3-onnx,
# python3-numpy, python3-opencv and python3-pil (a pyenv `python3` first on PATH does not).
# Each runs on its own; the script says how long each took and fails if any failed.
# Usage: bash scripts/test-py.sh  (npm run test:py)
set -uo pipefail
cd "$(dirname "$0")/.."

py="${SEGARENA_PYTHON:-/usr/bin/python3}"
shopt -s nullglob
tests=(models/*/selftest.py)
if [ ${#tests[@]} -eq 0 ]; then
  echo "test:py: no models/*/selftest.py found" >&2
  exit 1
fi

# Two threads: the self-tests are small, and the machine runs other suites beside them.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"

failed=()
for t in "${tests[@]}"; do
  start=$(date +%s.%N)
  log=$(mktemp)
  if "$py" "$t" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$t")
  fi
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  checks=$(grep -c '^ok ' "$log" || true)
  echo "test:py: $status $t ($checks checks, ${secs} s)"
  # A failure shows the whole output; a pass shows only the last line.
  if [ "$status" = FAILED ]; then sed 's/^/    /' "$log"; else tail -n 1 "$log" | sed 's/^/    /'; fi
  rm -f "$log"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "test:py: ${#failed[@]} of ${#tests[@]} self-tests failed: ${failed[*]}" >&2
  exit 1
fi
echo "test:py: all ${#tests[@]} recipe self-tests passed"
