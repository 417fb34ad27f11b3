/* fuzz_parse_properties.c — libFuzzer target for decryptor/parse_properties.c; the properties are in
 * parse_fuzz_common.h. */
/* FUZZ_LINK: decryptor */
#include "decryptor/parse_properties.h"
#include "tests/fuzz/parse_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return parse_fuzz_one(parse_properties, 0, data, size);
}
