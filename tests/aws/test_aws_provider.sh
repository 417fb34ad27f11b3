#!/usr/bin/env bash
# test_aws_provider.sh — ctest label `aws`: runs the provider_aws criterion suite
# (tests/unit/syncer/test_aws_provider.c), which starts moto in strict SigV4 mode, the
# fault-injecting proxy (throttle_proxy.py) and checks moto's state with boto3 (check.py).
set -euo pipefail
bin="${SMC_BINARY_DIR:?}/tests/unit_syncer_test_aws_provider"
if [ ! -x "$bin" ]; then
	echo "missing $bin: build target unit_syncer_test_aws_provider first" >&2
	exit 1
fi
exec "$bin" --jobs=1
