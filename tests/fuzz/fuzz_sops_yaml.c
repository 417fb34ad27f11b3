/* fuzz_sops_yaml.c — libFuzzer target for the SOPS yaml store (decryptor/sops/sops_yaml.c) and
 * sops_decrypt on it; the properties are in sops_fuzz_common.h. */
/* FUZZ_LINK: decryptor */
#include "decryptor/sops/sops_yaml.h"
#include "tests/fuzz/sops_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sops_fuzz_one("fuzz.yaml", sops_yaml_parse, sops_yaml_emit, data, size);
}
