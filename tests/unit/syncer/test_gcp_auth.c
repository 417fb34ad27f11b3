/* test_gcp_auth.c — service-account keys and the RS256 JWT grant: a key made here with
 * OpenSSL is parsed, the assertion is split and its header and claims checked field by
 * field, and the signature is verified with OpenSSL against the public key (and fails once
 * a claim is altered). Other credential types are refused by name. */
#include <criterion/criterion.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/b64.h"
#include "common/err.h"
#include "common/secbuf.h"
#include "syncer/providers/gcp/gcp_auth.h"
#include "syncer/providers/gcp/gcp_codec.h"

static EVP_PKEY *pkey;
static char *keyjson;

static void make_key(void)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long n;
	json_t *j;

	pkey = EVP_RSA_gen(2048);
	cr_assert_not_null(pkey);
	cr_assert_eq(PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &pem);
	j = json_pack("{s:s,s:s,s:s%,s:s,s:s}", "type", "service_account", "private_key_id",
		      "kid123", "private_key", pem, (size_t)n, "client_email",
		      "smc@test-proj.iam.gserviceaccount.com", "token_uri",
		      "http://127.0.0.1:1/token");
	keyjson = json_dumps(j, 0);
	json_decref(j);
	BIO_free(b);
}

static void drop_key(void)
{
	EVP_PKEY_free(pkey);
	free(keyjson);
}

TestSuite(gcp_auth, .init = make_key, .fini = drop_key);

static json_t *part(const char *p, size_t n)
{
	struct secbuf *d = NULL;
	json_t *j;

	cr_assert_eq(b64_decode_secret(p, n, 4096, &d), 0);
	j = json_loadb((const char *)d->data, d->len, 0, NULL);
	secbuf_free(d);
	cr_assert_not_null(j);
	return j;
}

static int verify(const char *jwt, size_t len)
{
	const char *dot2 = memchr(memchr(jwt, '.', len) + 1, '.', len);
	struct secbuf *sig = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	cr_assert_eq(b64_decode_secret(dot2 + 1, len - (size_t)(dot2 + 1 - jwt), 1024, &sig), 0);
	cr_assert_eq(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey), 1);
	ok = EVP_DigestVerify(md, sig->data, sig->len, (const uint8_t *)jwt, (size_t)(dot2 - jwt));
	EVP_MD_CTX_free(md);
	secbuf_free(sig);
	return ok == 1;
}

Test(gcp_auth, jwt_signed_and_verifiable)
{
	struct gcp_sa_key k = {0};
	struct secbuf *jwt = NULL;
	struct err_ctx err = {{0}};
	const char *s, *d1, *d2;
	json_t *h, *c;
	char *copy;

	cr_assert_eq(gcp_sa_key_parse((const uint8_t *)keyjson, strlen(keyjson), "test", &k, &err),
		     0, "%s", err.msg);
	cr_assert_str_eq(k.client_email, "smc@test-proj.iam.gserviceaccount.com");
	cr_assert_eq(gcp_jwt_sign(&k, GCP_AUTH_SCOPE, 1700000000, &jwt, &err), 0, "%s", err.msg);
	s = (const char *)jwt->data;
	d1 = strchr(s, '.');
	cr_assert_not_null(d1);
	d2 = strchr(d1 + 1, '.');
	cr_assert_not_null(d2);
	cr_assert_null(strchr(d2 + 1, '.'));
	cr_assert_null(strpbrk(s, "+/="), "base64url without padding");
	h = part(s, (size_t)(d1 - s));
	cr_assert_str_eq(json_string_value(json_object_get(h, "alg")), "RS256");
	cr_assert_str_eq(json_string_value(json_object_get(h, "typ")), "JWT");
	cr_assert_str_eq(json_string_value(json_object_get(h, "kid")), "kid123");
	c = part(d1 + 1, (size_t)(d2 - d1 - 1));
	cr_assert_str_eq(json_string_value(json_object_get(c, "iss")),
			 "smc@test-proj.iam.gserviceaccount.com");
	cr_assert_str_eq(json_string_value(json_object_get(c, "scope")),
			 "https://www.googleapis.com/auth/cloud-platform");
	cr_assert_str_eq(json_string_value(json_object_get(c, "aud")), "http://127.0.0.1:1/token");
	cr_assert_eq(json_integer_value(json_object_get(c, "iat")), 1700000000);
	cr_assert_eq(json_integer_value(json_object_get(c, "exp")), 1700003600);
	cr_assert(verify(s, jwt->len), "the signature verifies with the public key");
	copy = strndup(s, jwt->len);
	copy[(d1 - s) + 3] ^= 1; /* alter the claims */
	cr_assert_not(verify(copy, jwt->len), "an altered assertion does not verify");
	free(copy);
	json_decref(h);
	json_decref(c);
	secbuf_free(jwt);
	gcp_sa_key_clear(&k);
}

Test(gcp_auth, refuses_other_types)
{
	static const char *ext = "{\"type\":\"external_account\",\"audience\":\"x\"}";
	static const char *usr = "{\"type\":\"authorized_user\"}";
	struct gcp_sa_key k = {0};
	struct err_ctx err = {{0}};

	cr_assert_eq(gcp_sa_key_parse((const uint8_t *)ext, strlen(ext), "cred.json", &k, &err),
		     ERR_UNSUPPORTED);
	cr_assert(strstr(err.msg, "external_account") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "cred.json") != NULL, "%s", err.msg);
	cr_assert_eq(gcp_sa_key_parse((const uint8_t *)usr, strlen(usr), "x", &k, &err),
		     ERR_UNSUPPORTED);
	cr_assert_eq(gcp_sa_key_parse((const uint8_t *)"[]", 2, "x", &k, &err), ERR_INVAL);
	cr_assert_eq(
	    gcp_sa_key_parse((const uint8_t *)"{\"type\":\"service_account\"}", 26, "x", &k, &err),
	    ERR_INVAL);
	cr_assert(strstr(err.msg, "client_email") != NULL, "%s", err.msg);
}

Test(gcp_auth, bad_private_key_named_without_value)
{
	static const char *bad = "{\"type\":\"service_account\",\"client_email\":\"a@b\","
				 "\"private_key\":\"not-a-pem-SECRETBITS\"}";
	struct gcp_sa_key k = {0};
	struct secbuf *jwt = NULL;
	struct err_ctx err = {{0}};

	cr_assert_eq(gcp_sa_key_parse((const uint8_t *)bad, strlen(bad), "x", &k, &err), 0);
	cr_assert_str_eq(k.token_uri, GCP_AUTH_DEFAULT_TOKEN_URI);
	cr_assert_eq(gcp_jwt_sign(&k, GCP_AUTH_SCOPE, 1, &jwt, &err), ERR_CRYPTO);
	cr_assert(strstr(err.msg, "private_key") != NULL);
	cr_assert(strstr(err.msg, "SECRETBITS") == NULL);
	gcp_sa_key_clear(&k);
}
