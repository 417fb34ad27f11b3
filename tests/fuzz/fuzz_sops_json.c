/* fuzz_sops_json.c — libFuzzer target for the SOPS json store (decryptor/sops/sops_json.c) and
 * sops_decrypt on it; the properties are in sops_fuzz_common.h. */
/* FUZZ_LINK: decryptor */
#include "decryptor/sops/sops_json.h"
#include "tests/fuzz/sops_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sops_fuzz_one("fuzz.json", sops_json_parse, sops_json_emit, data, size);
}
