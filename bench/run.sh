#!/usr/bin/env bash
# Runs every benchmark scenario; prints ratios against baselines measured in the same run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/run.py" "$@"
