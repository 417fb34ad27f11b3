/* age.c — age v1 on OpenSSL 3 (see age.h and docs/sops-age-format.md §10). */
#include "decryptor/age/age.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/xmalloc.h"
#include "decryptor/age/age_armor.h"
#include "decryptor/age/age_b64.h"
#include "decryptor/age/age_bech32.h"

static const char age_version_line[] = "age-encryption.org/v1\n";
static const char age_x25519_info[] = "age-encryption.org/v1/X25519";

struct age_identity {
	struct secbuf *scalar; /* 32 bytes */
	uint8_t pub[AGE_X25519_LEN];
};

/* ---- primitives ---------------------------------------------------------------- */

static int hkdf_sha256(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen,
		       const char *info, uint8_t out[32])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5], *p = params;
	int rc = ERR_CRYPTO;

	if (kdf == NULL)
		return ERR_CRYPTO;
	kctx = EVP_KDF_CTX_new(kdf);
	if (kctx == NULL)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
	if (saltlen > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
							 saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
						 strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, 32, params) == 1)
		rc = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

/* ChaCha20-Poly1305 with a 12-byte nonce and empty AAD. in = ciphertext||tag (open) or
 * plaintext (seal, tag appended). ctx is reused across calls when given. */
static int chacha_open(EVP_CIPHER_CTX *ctx, const uint8_t key[32], const uint8_t nonce[12],
		       const uint8_t *in, size_t n, uint8_t *out)
{
	int len = 0;

	if (n < AGE_TAG || n - AGE_TAG > (size_t)AGE_CHUNK * 2)
		return ERR_CRYPTO;
	if (EVP_DecryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AGE_TAG,
				(void *)(in + n - AGE_TAG)) != 1)
		return ERR_CRYPTO;
	if (n > AGE_TAG && EVP_DecryptUpdate(ctx, out, &len, in, (int)(n - AGE_TAG)) != 1)
		return ERR_CRYPTO;
	if (EVP_DecryptFinal_ex(ctx, out + len, &len) != 1)
		return ERR_CRYPTO;
	return 0;
}

static int chacha_seal(EVP_CIPHER_CTX *ctx, const uint8_t key[32], const uint8_t nonce[12],
		       const uint8_t *in, size_t n, uint8_t *out)
{
	int len = 0;

	if (n > (size_t)AGE_CHUNK * 2)
		return ERR_CRYPTO;
	if (EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, nonce) != 1)
		return ERR_CRYPTO;
	if (n > 0 && EVP_EncryptUpdate(ctx, out, &len, in, (int)n) != 1)
		return ERR_CRYPTO;
	if (EVP_EncryptFinal_ex(ctx, out + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AGE_TAG, out + n) != 1)
		return ERR_CRYPTO;
	return 0;
}

/* shared = X25519(scalar, point). All-zero output is refused (low-order point). */
static int x25519(const uint8_t *scalar, const uint8_t point[32], uint8_t shared[32])
{
	EVP_PKEY *priv = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 32;
	uint8_t acc = 0;
	int rc = ERR_CRYPTO, i;

	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, 32);
	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, point, 32);
	if (priv == NULL || peer == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new(priv, NULL);
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
	    EVP_PKEY_derive(ctx, shared, &len) != 1 || len != 32)
		goto out;
	for (i = 0; i < 32; i++)
		acc |= shared[i];
	rc = acc == 0 ? ERR_CRYPTO : 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(peer);
	return rc;
}

static int x25519_public(const uint8_t *scalar, uint8_t pub[32])
{
	EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, 32);
	size_t len = 32;
	int rc = ERR_CRYPTO;

	if (priv != NULL && EVP_PKEY_get_raw_public_key(priv, pub, &len) == 1 && len == 32)
		rc = 0;
	EVP_PKEY_free(priv);
	return rc;
}

/* ---- header -------------------------------------------------------------------- */

void age_header_free(struct age_header *h)
{
	size_t i, j;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++) {
		for (j = 0; j < h->stanzas[i].nargs; j++)
			free(h->stanzas[i].args[j]);
		free(h->stanzas[i].body);
	}
	free(h->stanzas);
	free(h);
}

/* The line starting at pos, without its LF; ERR_INVAL when no LF ends it. */
static int header_line(const uint8_t *in, size_t n, size_t pos, size_t *len)
{
	const uint8_t *nl;

	if (pos >= n)
		return ERR_INVAL;
	nl = memchr(in + pos, '\n', n - pos);
	if (nl == NULL)
		return ERR_INVAL;
	*len = (size_t)(nl - (in + pos));
	return 0;
}

static int parse_stanza_line(const uint8_t *l, size_t len, struct age_stanza *st,
			     struct err_ctx *err)
{
	size_t i = 3, s;

	if (len < 3 || memcmp(l, "-> ", 3) != 0)
		return err_set(err, ERR_INVAL, "age header: stanza line does not start with '-> '");
	while (1) {
		s = i;
		while (i < len && l[i] != ' ') {
			if (l[i] < 0x21 || l[i] > 0x7e)
				return err_set(err, ERR_INVAL,
					       "age header: invalid character in stanza");
			i++;
		}
		if (i == s)
			return err_set(err, ERR_INVAL, "age header: empty stanza argument");
		if (st->nargs >= AGE_MAX_ARGS)
			return err_set(err, ERR_TOOBIG, "age header: too many stanza arguments");
		st->args[st->nargs] = xstrndup((const char *)l + s, i - s);
		if (st->args[st->nargs] == NULL)
			return ERR_NOMEM;
		st->nargs++;
		if (i == len)
			break;
		i++; /* the single space */
	}
	return 0;
}

int age_header_parse(const uint8_t *in, size_t n, struct age_header **out,
		     struct err_ctx *err)
{
	struct age_header *h = xcalloc(1, sizeof(*h));
	size_t pos, len, got, cap = 0;
	struct age_stanza *st;
	uint8_t tmp[48];
	int rc;

	if (h == NULL)
		return ERR_NOMEM;
	if (n < sizeof(age_version_line) - 1 ||
	    memcmp(in, age_version_line, sizeof(age_version_line) - 1) != 0) {
		rc = err_set(err, ERR_INVAL, "age header: not an age v1 file");
		goto out;
	}
	pos = sizeof(age_version_line) - 1;
	for (;;) {
		if (pos > AGE_MAX_HEADER) {
			rc = err_set(err, ERR_TOOBIG, "age header: too large");
			goto out;
		}
		if ((rc = header_line(in, n, pos, &len)) != 0) {
			err_set(err, rc, "age header: truncated");
			goto out;
		}
		if (len >= 3 && memcmp(in + pos, "---", 3) == 0) {
			if (h->n == 0) {
				rc = err_set(err, ERR_INVAL, "age header: no recipient stanza");
				goto out;
			}
			h->mac_covered = pos + 3;
			if (len != 3 + 1 + 43 || in[pos + 3] != ' ' ||
			    age_b64_decode((const char *)in + pos + 4, 43, 0, h->mac,
					   sizeof(h->mac), &got) != 0 || got != 32) {
				rc = err_set(err, ERR_INVAL, "age header: malformed MAC line");
				goto out;
			}
			h->payload_off = pos + len + 1;
			break;
		}
		if (h->n >= AGE_MAX_STANZAS) {
			rc = err_set(err, ERR_TOOBIG, "age header: too many stanzas");
			goto out;
		}
		if (h->n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct age_stanza *ns = xreallocarray(h->stanzas, ncap, sizeof(*ns));

			if (ns == NULL) {
				rc = ERR_NOMEM;
				goto out;
			}
			memset(ns + cap, 0, (ncap - cap) * sizeof(*ns));
			h->stanzas = ns;
			cap = ncap;
		}
		st = &h->stanzas[h->n++];
		if ((rc = parse_stanza_line(in + pos, len, st, err)) != 0)
			goto out;
		pos += len + 1;
		for (;;) {
			uint8_t *nb;

			if ((rc = header_line(in, n, pos, &len)) != 0) {
				err_set(err, rc, "age header: truncated stanza body");
				goto out;
			}
			if (len > 64 || age_b64_decode((const char *)in + pos, len, 0, tmp,
						       sizeof(tmp), &got) != 0) {
				rc = err_set(err, ERR_INVAL, "age header: invalid stanza body line");
				goto out;
			}
			if (st->body_len + got > AGE_MAX_BODY) {
				rc = err_set(err, ERR_TOOBIG, "age header: stanza body too large");
				goto out;
			}
			if (got > 0) {
				nb = realloc(st->body, st->body_len + got);
				if (nb == NULL) {
					rc = ERR_NOMEM;
					goto out;
				}
				st->body = nb;
				memcpy(st->body + st->body_len, tmp, got);
				st->body_len += got;
			}
			pos += len + 1;
			if (len < 64)
				break;
		}
	}
	*out = h;
	h = NULL;
	rc = 0;
out:
	age_header_free(h);
	return rc;
}

/* ---- identities and recipients ---------------------------------------------------- */

void age_identity_free(struct age_identity *id)
{
	if (id == NULL)
		return;
	secbuf_free(id->scalar);
	free(id);
}

static int identity_from_scalar(const uint8_t scalar[32], struct age_identity **out)
{
	struct age_identity *id = xcalloc(1, sizeof(*id));
	int rc;

	if (id == NULL)
		return ERR_NOMEM;
	if ((rc = secbuf_from(&id->scalar, scalar, 32)) != 0 ||
	    (rc = x25519_public(id->scalar->data, id->pub)) != 0) {
		age_identity_free(id);
		return rc;
	}
	*out = id;
	return 0;
}

int age_identity_parse(const char *s, size_t n, struct age_identity **out,
		       struct err_ctx *err)
{
	char hrp[AGE_BECH32_MAX_HRP + 1];
	uint8_t data[64];
	size_t dlen = 0;
	int rc;

	if (n >= 19 && strncmp(s, "AGE-SECRET-KEY-PQ-1", 19) == 0)
		return err_set(err, ERR_UNSUPPORTED, "post-quantum age identity (unsupported)");
	if (n >= 11 && strncmp(s, "AGE-PLUGIN-", 11) == 0)
		return err_set(err, ERR_UNSUPPORTED, "age plugin identity (unsupported)");
	rc = age_bech32_decode(s, n, hrp, sizeof(hrp), data, sizeof(data), &dlen);
	if (rc != 0 || strcmp(hrp, "age-secret-key-") != 0 || dlen != 32) {
		rc = err_set(err, ERR_INVAL, "malformed age identity");
		goto out;
	}
	rc = identity_from_scalar(data, out);
out:
	OPENSSL_cleanse(data, sizeof(data));
	return rc;
}

int age_identity_generate(struct age_identity **out)
{
	uint8_t scalar[32];
	int rc;

	if (RAND_priv_bytes(scalar, sizeof(scalar)) != 1)
		return ERR_CRYPTO;
	rc = identity_from_scalar(scalar, out);
	OPENSSL_cleanse(scalar, sizeof(scalar));
	return rc;
}

int age_identity_recipient(const struct age_identity *id, char *out, size_t outcap)
{
	return age_bech32_encode("age", id->pub, 32, 0, out, outcap);
}

int age_identity_encode(const struct age_identity *id, struct secbuf **out)
{
	char s[128];
	int rc;

	rc = age_bech32_encode("age-secret-key-", id->scalar->data, 32, 1, s, sizeof(s));
	if (rc == 0)
		rc = secbuf_from(out, s, strlen(s));
	OPENSSL_cleanse(s, sizeof(s));
	return rc;
}

void age_identities_free(struct age_identity **ids, size_t n)
{
	size_t i;

	if (ids == NULL)
		return;
	for (i = 0; i < n; i++)
		age_identity_free(ids[i]);
	free(ids);
}

int age_identities_parse(const uint8_t *text, size_t n, struct age_identity ***ids,
			 size_t *nids, size_t *unusable, struct err_ctx *err)
{
	size_t pos = 0, s, e, found = 0;
	struct age_identity *id;
	int rc;

	if (n >= 14 && (memcmp(text, "age-encryption", 14) == 0 ||
			memcmp(text, "-----BEGIN AGE", 14) == 0))
		return err_set(err, ERR_UNSUPPORTED, "passphrase-protected age key file");
	while (pos < n) {
		s = pos;
		while (pos < n && text[pos] != '\n')
			pos++;
		e = pos;
		if (pos < n)
			pos++;
		while (s < e && (text[s] == ' ' || text[s] == '\t'))
			s++;
		while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r'))
			e--;
		if (s == e || text[s] == '#')
			continue;
		rc = age_identity_parse((const char *)text + s, e - s, &id, err);
		if (rc == ERR_UNSUPPORTED) {
			(*unusable)++;
			continue;
		}
		if (rc != 0)
			return rc;
		if (*nids >= AGE_MAX_IDENTITIES) {
			age_identity_free(id);
			return err_set(err, ERR_TOOBIG, "too many age identities");
		}
		{
			struct age_identity **na = xreallocarray(*ids, *nids + 1, sizeof(*na));

			if (na == NULL) {
				age_identity_free(id);
				return ERR_NOMEM;
			}
			*ids = na;
		}
		(*ids)[(*nids)++] = id;
		found++;
	}
	(void)found;
	return 0;
}

int age_recipient_parse(const char *s, size_t n, struct age_recipient *out,
			struct err_ctx *err)
{
	char hrp[AGE_BECH32_MAX_HRP + 1];
	uint8_t data[64];
	size_t dlen = 0;

	if (n >= 4 && strncmp(s, "ssh-", 4) == 0)
		return err_set(err, ERR_UNSUPPORTED, "ssh age recipient (unsupported)");
	if (n >= 7 && strncmp(s, "age1pq1", 7) == 0)
		return err_set(err, ERR_UNSUPPORTED, "post-quantum age recipient (unsupported)");
	if (n > AGE_MAX_RECIPIENT_LEN)
		return err_set(err, ERR_INVAL, "malformed age recipient");
	if (age_bech32_decode(s, n, hrp, sizeof(hrp), data, sizeof(data), &dlen) != 0) {
		if (n > 4 && strncmp(s, "age1", 4) == 0 && memchr(s + 4, '1', n - 4) != NULL)
			return err_set(err, ERR_UNSUPPORTED, "age plugin recipient (unsupported)");
		return err_set(err, ERR_INVAL, "malformed age recipient");
	}
	if (strcmp(hrp, "age") != 0) {
		if (strncmp(hrp, "age1", 4) == 0)
			return err_set(err, ERR_UNSUPPORTED, "age plugin recipient (unsupported)");
		return err_set(err, ERR_INVAL, "malformed age recipient");
	}
	if (dlen != 32)
		return err_set(err, ERR_INVAL, "malformed age recipient");
	memcpy(out->pub, data, 32);
	return 0;
}

/* ---- decryption ------------------------------------------------------------------ */

static int set_res(enum age_result *res, enum age_result v, int rc)
{
	if (res != NULL)
		*res = v;
	return rc;
}

/* Tries every X25519 stanza with every identity. 0 and file_key, ERR_NOKEY when nothing
 * matched, ERR_INVAL when a stanza is malformed or gives a low-order share. */
static int unwrap_file_key(const struct age_identity *const *ids, size_t nids,
			   const struct age_header *h, uint8_t file_key[AGE_FILE_KEY_LEN],
			   struct err_ctx *err)
{
	uint8_t share[32], shared[32], salt[64], wrap[32], zero_nonce[12] = {0};
	uint8_t fk[AGE_FILE_KEY_LEN];
	EVP_CIPHER_CTX *cctx = NULL;
	size_t i, j, got;
	int rc = ERR_NOKEY, scrypt = 0;

	for (i = 0; i < h->n; i++) {
		const struct age_stanza *st = &h->stanzas[i];

		if (strcmp(st->args[0], "scrypt") == 0)
			scrypt = 1;
		if (strcmp(st->args[0], "X25519") != 0)
			continue;
		if (st->nargs != 2 || strlen(st->args[1]) != 43 ||
		    age_b64_decode(st->args[1], 43, 0, share, sizeof(share), &got) != 0 ||
		    got != 32 || st->body_len != 32)
			return err_set(err, ERR_INVAL, "age header: malformed X25519 stanza");
	}
	if (scrypt && h->n > 1)
		return err_set(err, ERR_INVAL, "age header: scrypt stanza not alone");
	cctx = EVP_CIPHER_CTX_new();
	if (cctx == NULL)
		return ERR_NOMEM;
	for (i = 0; i < h->n && rc == ERR_NOKEY; i++) {
		const struct age_stanza *st = &h->stanzas[i];

		if (strcmp(st->args[0], "X25519") != 0)
			continue;
		(void)age_b64_decode(st->args[1], 43, 0, share, sizeof(share), &got);
		for (j = 0; j < nids; j++) {
			if (x25519(ids[j]->scalar->data, share, shared) != 0) {
				rc = err_set(err, ERR_INVAL, "age header: low-order X25519 share");
				goto out;
			}
			memcpy(salt, share, 32);
			memcpy(salt + 32, ids[j]->pub, 32);
			if ((rc = hkdf_sha256(shared, 32, salt, 64, age_x25519_info, wrap)) != 0)
				goto out;
			if (chacha_open(cctx, wrap, zero_nonce, st->body, st->body_len, fk) == 0) {
				memcpy(file_key, fk, AGE_FILE_KEY_LEN);
				rc = 0;
				break;
			}
			rc = ERR_NOKEY;
		}
	}
	if (rc == ERR_NOKEY)
		err_set(err, ERR_NOKEY, "age: no identity matched any recipient");
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(wrap, sizeof(wrap));
	OPENSSL_cleanse(fk, sizeof(fk));
	EVP_CIPHER_CTX_free(cctx);
	return rc;
}

static int header_mac_ok(const uint8_t file_key[AGE_FILE_KEY_LEN], const uint8_t *in,
			 const struct age_header *h)
{
	uint8_t key[32], mac[32];
	unsigned int maclen = 0;
	int ok = 0;

	if (hkdf_sha256(file_key, AGE_FILE_KEY_LEN, NULL, 0, "header", key) == 0 &&
	    HMAC(EVP_sha256(), key, 32, in, h->mac_covered, mac, &maclen) != NULL &&
	    maclen == 32)
		ok = CRYPTO_memcmp(mac, h->mac, 32) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	return ok;
}

static void chunk_nonce(uint8_t nonce[12], uint64_t counter, int last)
{
	int i;

	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++)
		nonce[10 - i] = (uint8_t)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

/* A heap block for one plaintext chunk: locked and wiped on release. */
static uint8_t *chunk_alloc(size_t n)
{
	uint8_t *p = calloc(1, n);

	if (p != NULL)
		(void)mlock(p, n);
	return p;
}

static void chunk_release(uint8_t *p, size_t n)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, n);
	(void)munlock(p, n);
	free(p);
}

static int stream_decrypt(const uint8_t file_key[AGE_FILE_KEY_LEN], const uint8_t *p, size_t n,
			  struct secbuf *out, struct err_ctx *err)
{
	const size_t full = AGE_CHUNK + AGE_TAG;
	uint8_t key[32], nonce[12], *pt = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	uint64_t counter = 0;
	size_t pos = 16, take;
	int rc;

	if (n < 16)
		return err_set(err, ERR_INVAL, "age header: payload nonce truncated");
	if ((rc = hkdf_sha256(file_key, AGE_FILE_KEY_LEN, p, 16, "payload", key)) != 0)
		return rc;
	/* the plaintext is the payload less one tag per chunk: room for it in one step (a
	 * truncated payload reserves what it could at most hold, then fails below) */
	{
		size_t body = n - 16, tags = (body / full + (body % full != 0)) * AGE_TAG;

		if ((rc = secbuf_reserve(out, body > tags ? body - tags : 0)) != 0)
			return rc;
	}
	ctx = EVP_CIPHER_CTX_new();
	pt = chunk_alloc(AGE_CHUNK);
	if (ctx == NULL || pt == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (;;) {
		take = n - pos < full ? n - pos : full;
		if (take == 0) {
			rc = err_set(err, ERR_CRYPTO, "age payload: missing final chunk");
			goto out;
		}
		if (take < full) {
			if (counter > 0 && take == AGE_TAG) {
				rc = err_set(err, ERR_CRYPTO, "age payload: empty final chunk");
				goto out;
			}
			chunk_nonce(nonce, counter, 1);
			if (chacha_open(ctx, key, nonce, p + pos, take, pt) != 0) {
				rc = err_set(err, ERR_CRYPTO, "age payload: chunk %llu failed to "
					     "authenticate", (unsigned long long)counter);
				goto out;
			}
			if ((rc = secbuf_put(out, pt, take - AGE_TAG)) != 0) {
				err_set(err, rc, "age payload: plaintext too large");
				goto out;
			}
			rc = 0;
			goto out;
		}
		chunk_nonce(nonce, counter, 0);
		if (chacha_open(ctx, key, nonce, p + pos, take, pt) == 0) {
			if ((rc = secbuf_put(out, pt, AGE_CHUNK)) != 0) {
				err_set(err, rc, "age payload: plaintext too large");
				goto out;
			}
			pos += take;
			counter++;
			continue;
		}
		chunk_nonce(nonce, counter, 1);
		if (chacha_open(ctx, key, nonce, p + pos, take, pt) != 0) {
			rc = err_set(err, ERR_CRYPTO, "age payload: chunk %llu failed to "
				     "authenticate", (unsigned long long)counter);
			goto out;
		}
		/* a full final chunk is released before trailing data is noticed, as the
		 * reference reader does (CCTV's payload hashes include it) */
		if ((rc = secbuf_put(out, pt, AGE_CHUNK)) != 0) {
			err_set(err, rc, "age payload: plaintext too large");
			goto out;
		}
		if (pos + take != n) {
			rc = err_set(err, ERR_CRYPTO, "age payload: trailing data after the final "
				     "chunk");
			goto out;
		}
		rc = 0;
		goto out;
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	chunk_release(pt, AGE_CHUNK);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int age_decrypt_into(const struct age_identity *const *ids, size_t nids, const uint8_t *in,
		     size_t n, struct secbuf *out, enum age_result *res, struct err_ctx *err)
{
	struct age_header *h = NULL;
	uint8_t file_key[AGE_FILE_KEY_LEN];
	struct buf bin;
	int rc;

	buf_init(&bin, AGE_ARMOR_MAX_IN);
	if (age_armor_detect(in, n)) {
		if ((rc = age_armor_decode(in, n, &bin, err)) != 0) {
			set_res(res, AGE_RES_ARMOR, rc);
			goto out;
		}
		in = bin.data;
		n = bin.len;
	}
	if (in == NULL || n == 0) {
		rc = set_res(res, AGE_RES_HEADER, err_set(err, ERR_INVAL, "age: empty file"));
		goto out;
	}
	if ((rc = age_header_parse(in, n, &h, err)) != 0) {
		set_res(res, AGE_RES_HEADER, rc);
		goto out;
	}
	rc = unwrap_file_key(ids, nids, h, file_key, err);
	if (rc != 0) {
		set_res(res, rc == ERR_NOKEY ? AGE_RES_NO_MATCH : AGE_RES_HEADER, rc);
		goto out;
	}
	if (!header_mac_ok(file_key, in, h)) {
		rc = set_res(res, AGE_RES_HMAC, err_set(err, ERR_CRYPTO, "age: header MAC mismatch"));
		goto out;
	}
	if (n - h->payload_off < 16) {
		rc = set_res(res, AGE_RES_HEADER,
			     err_set(err, ERR_INVAL, "age: payload nonce truncated"));
		goto out;
	}
	rc = stream_decrypt(file_key, in + h->payload_off, n - h->payload_off, out, err);
	set_res(res, rc == 0 ? AGE_RES_OK : AGE_RES_PAYLOAD, rc);
out:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	age_header_free(h);
	buf_free(&bin);
	return rc;
}

int age_decrypt(const struct age_identity *const *ids, size_t nids, const uint8_t *in,
		size_t n, struct secbuf **plain, struct err_ctx *err)
{
	struct secbuf *s = NULL;
	int rc;

	if ((rc = secbuf_new(&s, AGE_MAX_PLAINTEXT)) != 0)
		return rc;
	rc = age_decrypt_into(ids, nids, in, n, s, NULL, err);
	if (rc != 0) {
		secbuf_free(s);
		return rc;
	}
	*plain = s;
	return 0;
}

/* ---- encryption ------------------------------------------------------------------ */

static int put_b64_lines(struct buf *b, const uint8_t *p, size_t n)
{
	char line[80];
	size_t i = 0, take;
	int rc;

	do {
		take = n - i > 48 ? 48 : n - i;
		if ((rc = age_b64_encode(p + i, take, 0, line, sizeof(line))) != 0 ||
		    (rc = buf_put_str(b, line)) != 0 || (rc = buf_put_u8(b, '\n')) != 0)
			return rc;
		i += take;
	} while (take == 48);
	return 0;
}

int age_encrypt(const struct age_recipient *rcpts, size_t nrcpts, const uint8_t *plain,
		size_t plen, int armor, struct buf *out, struct err_ctx *err)
{
	uint8_t file_key[AGE_FILE_KEY_LEN], eph[32], share[32], shared[32], salt[64], wrap[32];
	uint8_t body[AGE_FILE_KEY_LEN + AGE_TAG], zero_nonce[12] = {0}, key[32], mac[32];
	uint8_t nonce16[16], nonce[12], *ct = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	struct buf bin;
	char shares[64];
	unsigned int maclen = 0;
	uint64_t counter = 0;
	size_t i, pos = 0, take;
	int rc;

	buf_init(&bin, AGE_ARMOR_MAX_IN);
	if (nrcpts == 0)
		return err_set(err, ERR_INVAL, "age: no recipients");
	ctx = EVP_CIPHER_CTX_new();
	ct = malloc(AGE_CHUNK + AGE_TAG);
	if (ctx == NULL || ct == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if (RAND_priv_bytes(file_key, sizeof(file_key)) != 1 ||
	    RAND_bytes(nonce16, sizeof(nonce16)) != 1) {
		rc = ERR_CRYPTO;
		goto out;
	}
	if ((rc = buf_put_str(&bin, age_version_line)) != 0)
		goto out;
	for (i = 0; i < nrcpts; i++) {
		if (RAND_priv_bytes(eph, sizeof(eph)) != 1 || x25519_public(eph, share) != 0 ||
		    x25519(eph, rcpts[i].pub, shared) != 0) {
			rc = err_set(err, ERR_CRYPTO, "age: X25519 with recipient %zu failed", i);
			goto out;
		}
		memcpy(salt, share, 32);
		memcpy(salt + 32, rcpts[i].pub, 32);
		if ((rc = hkdf_sha256(shared, 32, salt, 64, age_x25519_info, wrap)) != 0 ||
		    (rc = chacha_seal(ctx, wrap, zero_nonce, file_key, AGE_FILE_KEY_LEN, body)) != 0)
			goto out;
		if ((rc = age_b64_encode(share, 32, 0, shares, sizeof(shares))) != 0 ||
		    (rc = buf_put_str(&bin, "-> X25519 ")) != 0 ||
		    (rc = buf_put_str(&bin, shares)) != 0 || (rc = buf_put_u8(&bin, '\n')) != 0 ||
		    (rc = put_b64_lines(&bin, body, sizeof(body))) != 0)
			goto out;
	}
	if ((rc = buf_put_str(&bin, "---")) != 0)
		goto out;
	if ((rc = hkdf_sha256(file_key, AGE_FILE_KEY_LEN, NULL, 0, "header", key)) != 0)
		goto out;
	if (HMAC(EVP_sha256(), key, 32, bin.data, bin.len, mac, &maclen) == NULL || maclen != 32) {
		rc = ERR_CRYPTO;
		goto out;
	}
	if ((rc = age_b64_encode(mac, 32, 0, shares, sizeof(shares))) != 0 ||
	    (rc = buf_put_u8(&bin, ' ')) != 0 || (rc = buf_put_str(&bin, shares)) != 0 ||
	    (rc = buf_put_u8(&bin, '\n')) != 0 || (rc = buf_put(&bin, nonce16, 16)) != 0)
		goto out;
	if ((rc = hkdf_sha256(file_key, AGE_FILE_KEY_LEN, nonce16, 16, "payload", key)) != 0)
		goto out;
	do {
		int last;

		take = plen - pos > AGE_CHUNK ? AGE_CHUNK : plen - pos;
		last = pos + take == plen;
		chunk_nonce(nonce, counter++, last);
		if ((rc = chacha_seal(ctx, key, nonce, plain + pos, take, ct)) != 0 ||
		    (rc = buf_put(&bin, ct, take + AGE_TAG)) != 0)
			goto out;
		pos += take;
	} while (pos < plen);
	if (armor)
		rc = age_armor_encode(bin.data, bin.len, out);
	else
		rc = buf_put(out, bin.data, bin.len);
out:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	OPENSSL_cleanse(eph, sizeof(eph));
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(wrap, sizeof(wrap));
	OPENSSL_cleanse(key, sizeof(key));
	if (ct != NULL) {
		OPENSSL_cleanse(ct, AGE_CHUNK + AGE_TAG);
		free(ct);
	}
	EVP_CIPHER_CTX_free(ctx);
	buf_free(&bin);
	return rc;
}
