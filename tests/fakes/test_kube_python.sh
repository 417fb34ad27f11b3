#!/bin/bash
# The fake kube API server checked by Debian's python3-kubernetes (an official client).
# The test itself is tests/fakes/test_kube_client.py; it starts its own server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export SMC_SOURCE_DIR=${SMC_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export PYTHONDONTWRITEBYTECODE=1
if ! /usr/bin/python3 -c 'import kubernetes' 2>/dev/null; then
	echo "FAIL: /usr/bin/python3 has no 'kubernetes' module: apt-get install -y python3-kubernetes" >&2
	exit 1
fi
exec timeout 120 /usr/bin/python3 "$here/test_kube_client.py"
