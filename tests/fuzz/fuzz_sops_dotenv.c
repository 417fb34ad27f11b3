/* fuzz_sops_dotenv.c — libFuzzer target for the SOPS dotenv store (decryptor/sops/sops_dotenv.c) and
 * sops_decrypt on it; the properties are in sops_fuzz_common.h. */
/* FUZZ_LINK: decryptor */
#include "decryptor/sops/sops_dotenv.h"
#include "tests/fuzz/sops_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return sops_fuzz_one("fuzz.env", sops_dotenv_parse, sops_dotenv_emit, data, size);
}
