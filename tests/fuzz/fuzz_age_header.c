/* fuzz_age_header.c — libFuzzer target for the age header parser, armor and the whole
 * decryption path (decryptor/age). A parsed header must describe the input consistently;
 * decryption with the test identity must never release plaintext for a header, armor or
 * MAC failure. */
/* FUZZ_LINK: decryptor */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/secbuf.h"
#include "decryptor/age/age.h"
#include "decryptor/age/age_armor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct age_identity *id;
	static const char ident[] =
		"AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
	struct age_header *h = NULL;
	struct secbuf *out = NULL;
	enum age_result res;
	struct buf b;
	size_t i;
	int rc;

	if (id == NULL && age_identity_parse(ident, strlen(ident), &id, NULL) != 0)
		abort();
	if (age_header_parse(data, size, &h, NULL) == 0) {
		if (h->n == 0 || h->mac_covered > h->payload_off || h->payload_off > size ||
		    memcmp(data + h->mac_covered - 3, "---", 3) != 0)
			abort();
		for (i = 0; i < h->n; i++)
			if (h->stanzas[i].nargs == 0 || h->stanzas[i].args[0][0] == '\0')
				abort();
		age_header_free(h);
	}
	buf_init(&b, 1u << 26);
	if (age_armor_decode(data, size, &b, NULL) == 0) {
		struct buf again;

		/* canonical armor re-encodes to something that decodes to the same bytes */
		buf_init(&again, 1u << 27);
		if (age_armor_encode(b.data, b.len, &again) != 0)
			abort();
		buf_free(&again);
	}
	buf_free(&b);
	if (secbuf_new(&out, 64u << 20) != 0)
		abort();
	rc = age_decrypt_into((const struct age_identity *const *)&id, 1, data, size, out, &res,
			      NULL);
	if (rc != 0 && res != AGE_RES_PAYLOAD && out->len != 0)
		abort();
	if ((rc == 0) != (res == AGE_RES_OK))
		abort();
	secbuf_free(out);
	return 0;
}
