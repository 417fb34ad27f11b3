#!/usr/bin/env bash
# Runs every benchmark scenario; prints ratios against baselines measured in the same run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/sops_bench.py"   # issue 3: SOPS/age/PGP decryption against age -d and gpg
python3 "$here/aws_bench.py"    # issue 7: AWS (moto) — 200 configs x 20 secrets against boto3
exec python3 "$here/run.py" "$@"
