#!/usr/bin/env bash
# STYLE.md rule 10: strcpy, strcat, sprintf, vsprintf, strtok, atoi, atol, gets, system and
# popen are banned from every C file of the project (tests included).
set -euo pipefail
cd "$SMC_SOURCE_DIR"
hits=$(git ls-files '*.c' '*.h' 2>/dev/null | xargs grep -nHE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets|system|popen)[[:space:]]*\(' \
	| grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' || true)
if [ -n "$hits" ]; then
	echo "banned calls (STYLE.md rule 10):"
	echo "$hits"
	exit 1
fi
echo "no banned call in $(git ls-files '*.c' '*.h' | wc -l) C files"
