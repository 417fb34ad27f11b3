/* fuzz_sops_ini.c — libFuzzer target for the SOPS ini store (decryptor/sops/sops_ini.c) and
 * sops_decrypt on it; the properties are in sops_fuzz_common.h. */
/* FUZZ_LINK: decryptor */
#include "decryptor/sops/sops_ini.h"
#include "tests/fuzz/sops_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sops_fuzz_one("fuzz.ini", sops_ini_parse, sops_ini_emit, data, size);
}
