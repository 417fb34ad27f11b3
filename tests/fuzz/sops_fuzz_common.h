/* sops_fuzz_common.h — shared body of the SOPS store fuzz targets: any input must be
 * refused with a documented code and no output, or decrypt; a store parse that succeeds
 * must write out and parse again to the same text (the writer is a fixpoint). The keyring
 * holds the test age identity of fixtures/sops/fluxcd so seeds encrypted to it reach the
 * value decryption and MAC code. */
#ifndef SMC_SOPS_FUZZ_COMMON_H
#define SMC_SOPS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "decryptor/keyring.h"
#include "decryptor/sops/sops.h"
#include "decryptor/sops/sops_tree.h"

typedef int (*sops_fuzz_parse_fn)(const uint8_t *, size_t, struct sops_tree *, struct err_ctx *);
typedef int (*sops_fuzz_emit_fn)(const struct sops_tree *, struct secbuf *);

static struct keyring *sops_fuzz_keyring(void)
{
	static struct keyring *kr;
	static const char id[] = "AGE-SECRET-KEY-1RH87A5Z54ZGUR9S0AS3R6WHFSEFNPLYMAKF5Z2CEU7R06VRJ0A3Q7242AM\n";

	if (kr == NULL) {
		if (keyring_new(&kr) != 0 ||
		    keyring_add(kr, "fuzz.agekey", (const uint8_t *)id, sizeof(id) - 1, NULL) != 0)
			abort();
	}
	return kr;
}

static int sops_fuzz_one(const char *name, sops_fuzz_parse_fn parse, sops_fuzz_emit_fn emit,
			 const uint8_t *data, size_t size)
{
	struct err_ctx err = {{0}};
	struct secbuf *out = NULL, *o1 = NULL, *o2 = NULL;
	struct sops_tree t = {0}, t2 = {0};
	int rc;

	rc = sops_decrypt(sops_fuzz_keyring(), NULL, name, data, size, &out, &err);
	if (rc != 0) {
		if (out != NULL || err.msg[0] == '\0' || strstr(err.msg, name) == NULL)
			abort();
		if (!(rc == ERR_INVAL || rc == ERR_TOOBIG || rc == ERR_NOTFOUND || rc == ERR_NOKEY ||
		      rc == ERR_CRYPTO || rc == ERR_UNSUPPORTED || rc == ERR_NOMEM))
			abort();
	}
	secbuf_free(out);
	(void)sops_is_encrypted(name, data, size);
	if (parse(data, size, &t, &err) == 0) {
		if (secbuf_new(&o1, 256u << 20) != 0 || secbuf_new(&o2, 256u << 20) != 0)
			abort();
		if (emit(&t, o1) == 0) {
			/* what we write must read back and write identically */
			if (parse(o1->data, o1->len, &t2, &err) != 0)
				abort();
			if (emit(&t2, o2) != 0 || o1->len != o2->len ||
			    memcmp(o1->data, o2->data, o1->len) != 0)
				abort();
		}
		secbuf_free(o1);
		secbuf_free(o2);
	}
	sops_tree_clear(&t);
	sops_tree_clear(&t2);
	return 0;
}

#endif
