/* fuzz_parse_env.c — libFuzzer target for decryptor/parse_env.c; the properties are in
 * parse_fuzz_common.h. */
/* FUZZ_LINK: decryptor */
#include "decryptor/parse_env.h"
#include "tests/fuzz/parse_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return parse_fuzz_one(parse_env, 1, data, size);
}
