/* sops_shamir.c — GF(2^8) Shamir (see sops_shamir.h). Constant-time multiply. */
#include "decryptor/sops/sops_shamir.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/err.h"

uint8_t sops_shamir_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;
	int i;

	for (i = 0; i < 8; i++) {
		r ^= (uint8_t)(-(b & 1) & a);
		a = (uint8_t)((a << 1) ^ (-(a >> 7) & 0x1b));
		b >>= 1;
	}
	return r;
}

static uint8_t gf_inv(uint8_t a)
{
	uint8_t r = 1;
	int i;

	/* a^254 */
	for (i = 0; i < 7; i++) {
		a = sops_shamir_mul(a, a);
		r = sops_shamir_mul(r, a);
	}
	return r;
}

int sops_shamir_combine(struct secbuf *const *shares, size_t n, struct secbuf **out)
{
	struct secbuf *s = NULL;
	size_t len, i, j, b;
	uint8_t acc, basis, x[SOPS_SHAMIR_MAX_PARTS];
	int rc;

	if (n < 2 || n > SOPS_SHAMIR_MAX_PARTS)
		return ERR_INVAL;
	len = shares[0]->len;
	if (len < 2)
		return ERR_INVAL;
	for (i = 0; i < n; i++) {
		if (shares[i]->len != len)
			return ERR_INVAL;
		x[i] = shares[i]->data[len - 1];
		for (j = 0; j < i; j++)
			if (x[j] == x[i])
				return ERR_INVAL;
	}
	if ((rc = secbuf_new(&s, len - 1)) != 0)
		return rc;
	for (b = 0; b < len - 1; b++) {
		acc = 0;
		for (i = 0; i < n; i++) {
			basis = 1;
			for (j = 0; j < n; j++) {
				if (j == i)
					continue;
				basis = sops_shamir_mul(basis,
							sops_shamir_mul(x[j], gf_inv(x[i] ^ x[j])));
			}
			acc ^= sops_shamir_mul(shares[i]->data[b], basis);
		}
		if ((rc = secbuf_put(s, &acc, 1)) != 0) {
			secbuf_free(s);
			return rc;
		}
	}
	acc = 0;
	*out = s;
	return 0;
}

int sops_shamir_split(const uint8_t *secret, size_t len, size_t nparts, size_t k,
		      struct secbuf **shares)
{
	uint8_t coef[SOPS_SHAMIR_MAX_PARTS], y, xp;
	size_t i, b, c;
	int rc = 0;

	if (nparts < 2 || nparts > SOPS_SHAMIR_MAX_PARTS - 1 || k < 2 || k > nparts || len == 0)
		return ERR_INVAL;
	for (i = 0; i < nparts; i++)
		shares[i] = NULL;
	for (i = 0; i < nparts && rc == 0; i++)
		rc = secbuf_new(&shares[i], len + 1);
	for (b = 0; b < len && rc == 0; b++) {
		coef[0] = secret[b];
		if (RAND_priv_bytes(coef + 1, (int)(k - 1)) != 1) {
			rc = ERR_CRYPTO;
			break;
		}
		for (i = 0; i < nparts && rc == 0; i++) {
			uint8_t x = (uint8_t)(i + 1);

			y = 0;
			xp = 1;
			for (c = 0; c < k; c++) {
				y ^= sops_shamir_mul(coef[c], xp);
				xp = sops_shamir_mul(xp, x);
			}
			rc = secbuf_put(shares[i], &y, 1);
		}
	}
	for (i = 0; i < nparts && rc == 0; i++) {
		uint8_t x = (uint8_t)(i + 1);

		rc = secbuf_put(shares[i], &x, 1);
	}
	OPENSSL_cleanse(coef, sizeof(coef));
	if (rc != 0) {
		for (i = 0; i < nparts; i++) {
			secbuf_free(shares[i]);
			shares[i] = NULL;
		}
	}
	return rc;
}
