/* sops_cipher.c — AES-256-GCM values (see sops_cipher.h). */
#include "decryptor/sops/sops_cipher.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "decryptor/age/age_b64.h"
#include "decryptor/sops/sops_value.h"

static const char enc_prefix[] = "ENC[AES256_GCM,data:";

int sops_cipher_is_enc(const void *s, size_t n)
{
	return n >= 15 && memcmp(s, enc_prefix, 15) == 0;
}

/* Finds needle in h[0..n) from the end (greedy groups of the sops regex). */
static const char *rfind(const char *h, size_t n, const char *needle)
{
	size_t l = strlen(needle), i;

	if (n < l)
		return NULL;
	for (i = n - l + 1; i-- > 0;)
		if (memcmp(h + i, needle, l) == 0)
			return h + i;
	return NULL;
}

int sops_cipher_decrypt(const uint8_t *key, const void *sv, size_t n, const char *aad,
			size_t aadlen, struct secbuf *out, enum sops_type *type, int *is_comment)
{
	const char *s = sv, *data, *iv, *tag, *ty, *end;
	uint8_t ivb[SOPS_MAX_IV], tagb[SOPS_GCM_TAG + 3], *ct = NULL, *pt = NULL;
	size_t data_len, ivn, tagn, ctn = 0;
	EVP_CIPHER_CTX *ctx = NULL;
	int rc = ERR_INVAL, len = 0, comment = 0;
	enum sops_type t = SOPS_T_STR;

	if (n < sizeof(enc_prefix) || memcmp(s, enc_prefix, sizeof(enc_prefix) - 1) != 0 ||
	    s[n - 1] != ']' || n > SOPS_MAX_VALUE * 2)
		return ERR_INVAL;
	data = s + sizeof(enc_prefix) - 1;
	end = s + n - 1;
	if ((ty = rfind(data, (size_t)(end - data), ",type:")) == NULL ||
	    (tag = rfind(data, (size_t)(ty - data), ",tag:")) == NULL ||
	    (iv = rfind(data, (size_t)(tag - data), ",iv:")) == NULL)
		return ERR_INVAL;
	data_len = (size_t)(iv - data);
	iv += 4;
	tag += 5;
	ty += 6;
	if ((size_t)(end - ty) == 7 && memcmp(ty, "comment", 7) == 0)
		comment = 1;
	else if (sops_value_type_from_name(ty, (size_t)(end - ty), &t) != 0)
		return ERR_INVAL;
	if (age_b64_decode(iv, (size_t)(tag - 5 - iv), 1, ivb, sizeof(ivb), &ivn) != 0 ||
	    ivn == 0 ||
	    age_b64_decode(tag, (size_t)(ty - 6 - tag), 1, tagb, sizeof(tagb), &tagn) != 0 ||
	    tagn != SOPS_GCM_TAG)
		return ERR_INVAL;
	ct = malloc(age_b64_decoded_max(data_len) + 1);
	pt = malloc(age_b64_decoded_max(data_len) + 1);
	if (ct == NULL || pt == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if (age_b64_decode(data, data_len, 1, ct, age_b64_decoded_max(data_len), &ctn) != 0)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	rc = ERR_CRYPTO;
	if (ctx == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)ivn, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, ivb) != 1 ||
	    (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &len, (const uint8_t *)aad,
					     (int)aadlen) != 1) ||
	    (ctn > 0 && EVP_DecryptUpdate(ctx, pt, &len, ct, (int)ctn) != 1) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SOPS_GCM_TAG, tagb) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + (ctn > 0 ? len : 0), &len) != 1)
		goto out;
	if ((rc = secbuf_put(out, pt, ctn)) != 0)
		goto out;
	*type = t;
	if (is_comment != NULL)
		*is_comment = comment;
	rc = 0;
out:
	if (pt != NULL) {
		OPENSSL_cleanse(pt, ctn);
		free(pt);
	}
	free(ct);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int sops_cipher_encrypt(const uint8_t *key, const void *pt, size_t n, const char *aad,
			size_t aadlen, const char *type_name, struct buf *out)
{
	uint8_t iv[SOPS_IV_LEN], tag[SOPS_GCM_TAG], *ct = NULL;
	char *b64 = NULL, small[64];
	EVP_CIPHER_CTX *ctx = NULL;
	size_t cap;
	int rc = ERR_CRYPTO, len = 0;

	if (n > SOPS_MAX_VALUE)
		return ERR_TOOBIG;
	ct = malloc(n + 1);
	cap = age_b64_encoded_len(n, 1) + 1;
	b64 = malloc(cap);
	if (ct == NULL || b64 == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if (RAND_bytes(iv, sizeof(iv)) != 1)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SOPS_IV_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) != 1 ||
	    (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *)aad,
					     (int)aadlen) != 1) ||
	    (n > 0 && EVP_EncryptUpdate(ctx, ct, &len, pt, (int)n) != 1) ||
	    EVP_EncryptFinal_ex(ctx, ct + (n > 0 ? len : 0), &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SOPS_GCM_TAG, tag) != 1)
		goto out;
	if ((rc = age_b64_encode(ct, n, 1, b64, cap)) != 0 ||
	    (rc = buf_put_str(out, "ENC[AES256_GCM,data:")) != 0 ||
	    (rc = buf_put_str(out, b64)) != 0 || (rc = buf_put_str(out, ",iv:")) != 0 ||
	    (rc = age_b64_encode(iv, sizeof(iv), 1, small, sizeof(small))) != 0 ||
	    (rc = buf_put_str(out, small)) != 0 || (rc = buf_put_str(out, ",tag:")) != 0 ||
	    (rc = age_b64_encode(tag, sizeof(tag), 1, small, sizeof(small))) != 0 ||
	    (rc = buf_put_str(out, small)) != 0 || (rc = buf_put_str(out, ",type:")) != 0 ||
	    (rc = buf_put_str(out, type_name)) != 0 || (rc = buf_put_u8(out, ']')) != 0)
		goto out;
	rc = 0;
out:
	free(ct);
	free(b64);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
