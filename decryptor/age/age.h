/* age.h — native age v1 (C2SP age.md) on OpenSSL 3: X25519 identities and recipients,
 * strict header parsing, X25519 stanza unwrap, header MAC, STREAM payload, armor
 * (age_armor.h), and encryption. Only X25519 is implemented: post-quantum, plugin, ssh and
 * scrypt recipients are recognised and reported as unusable. */
#ifndef SMC_AGE_H
#define SMC_AGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/secbuf.h"

#define AGE_FILE_KEY_LEN 16
#define AGE_X25519_LEN 32
#define AGE_MAX_HEADER (1u << 20)        /* header bytes before "---" */
#define AGE_MAX_STANZAS 256
#define AGE_MAX_ARGS 16                  /* arguments per stanza, type included */
#define AGE_MAX_BODY (64u << 10)         /* decoded stanza body */
#define AGE_CHUNK 65536                  /* STREAM plaintext chunk */
#define AGE_TAG 16
#define AGE_MAX_PLAINTEXT (1024u << 20)  /* largest plaintext age_decrypt returns */
#define AGE_MAX_RECIPIENT_LEN 4096

/* Which stage refused a file (age testkit's "expect" values). */
enum age_result {
	AGE_RES_OK = 0,
	AGE_RES_ARMOR,     /* armor malformed */
	AGE_RES_HEADER,    /* header malformed, or a matching stanza malformed */
	AGE_RES_NO_MATCH,  /* no stanza opened with the identities given */
	AGE_RES_HMAC,      /* file key found, header MAC wrong */
	AGE_RES_PAYLOAD,   /* STREAM failure (some plaintext may have been released) */
};

struct age_stanza {
	char *args[AGE_MAX_ARGS]; /* owned; args[0] is the type ("X25519") */
	size_t nargs;
	uint8_t *body;            /* owned */
	size_t body_len;
};

struct age_header {
	struct age_stanza *stanzas; /* owned array */
	size_t n;
	uint8_t mac[32];
	size_t mac_covered;  /* bytes of the input covered by the header MAC */
	size_t payload_off;  /* offset of the payload (first byte after the MAC line) */
};

/* Strict header parse of a binary age file. Owned *out (age_header_free). ERR_INVAL with
 * a reason in err for any deviation from the grammar. */
int age_header_parse(const uint8_t *in, size_t n, struct age_header **out,
		     struct err_ctx *err);
void age_header_free(struct age_header *h);

/* An X25519 identity; its scalar lives in a secbuf. */
struct age_identity;

/* Parses one "AGE-SECRET-KEY-1..." string s[0..n). Owned *out. ERR_UNSUPPORTED for
 * post-quantum ("AGE-SECRET-KEY-PQ-1") and plugin identities, ERR_INVAL otherwise. */
int age_identity_parse(const char *s, size_t n, struct age_identity **out,
		       struct err_ctx *err);
/* A fresh random identity. Owned *out. */
int age_identity_generate(struct age_identity **out);
void age_identity_free(struct age_identity *id);
/* "age1..." recipient string of id into out[outcap]. */
int age_identity_recipient(const struct age_identity *id, char *out, size_t outcap);
/* "AGE-SECRET-KEY-1..." of id as an owned secbuf. */
int age_identity_encode(const struct age_identity *id, struct secbuf **out);

/* Parses an identity file (one identity per line; blank and '#' lines ignored). Appends
 * X25519 identities to *ids (owned array of owned identities, grown with realloc; free with
 * age_identities_free) and counts the recognised-but-unusable ones (PQ, plugin) in
 * *unusable. A passphrase-encrypted key file is ERR_UNSUPPORTED. */
#define AGE_MAX_IDENTITIES 256
int age_identities_parse(const uint8_t *text, size_t n, struct age_identity ***ids,
			 size_t *nids, size_t *unusable, struct err_ctx *err);
void age_identities_free(struct age_identity **ids, size_t n);

/* Decrypts an age file (binary, or armored: detected). Plaintext is appended to out
 * (caller-owned) chunk by chunk as each chunk authenticates, so on AGE_RES_PAYLOAD out
 * holds exactly what was released before the failure; callers that need all-or-nothing
 * use age_decrypt. *res (may be NULL) says which stage failed. Returns 0, ERR_INVAL
 * (armor/header), ERR_NOKEY (no match), ERR_CRYPTO (HMAC/payload), ERR_TOOBIG. */
int age_decrypt_into(const struct age_identity *const *ids, size_t nids, const uint8_t *in,
		     size_t n, struct secbuf *out, enum age_result *res, struct err_ctx *err);

/* All-or-nothing decryption. Owned *plain on success. */
int age_decrypt(const struct age_identity *const *ids, size_t nids, const uint8_t *in,
		size_t n, struct secbuf **plain, struct err_ctx *err);

/* An X25519 recipient. */
struct age_recipient {
	uint8_t pub[AGE_X25519_LEN];
};
/* Parses "age1..." (s[0..n)). ERR_UNSUPPORTED for age1pq1..., plugin (age1<name>1...) and
 * ssh recipients; ERR_INVAL when malformed. */
int age_recipient_parse(const char *s, size_t n, struct age_recipient *out,
			struct err_ctx *err);

/* Encrypts plain[0..plen) to the recipients; armored (1) or binary (0) age file appended
 * to out (caller-owned). */
int age_encrypt(const struct age_recipient *rcpts, size_t nrcpts, const uint8_t *plain,
		size_t plen, int armor, struct buf *out, struct err_ctx *err);

#endif
