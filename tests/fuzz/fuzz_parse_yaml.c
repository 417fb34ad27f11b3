/* fuzz_parse_yaml.c — libFuzzer target for decryptor/parse_yaml.c; the properties are in
 * parse_fuzz_common.h. */
/* FUZZ_LINK: decryptor */
#include "decryptor/parse_yaml.h"
#include "tests/fuzz/parse_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return parse_fuzz_one(parse_yaml, 1, data, size);
}
