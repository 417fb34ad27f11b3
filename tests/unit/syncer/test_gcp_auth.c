/* test_gcp_auth.c — service-account keys and the RS256 JWT grant: a key made here with
 * OpenSSL is parsed, the assertion is split and its header and claims checked field by
 * field, and the signature is verified with OpenSSL against the public key (and fails once
 * a claim is altered). Other credential types are refused by name. The source chosen for
 * each spec.provider.gcp.auth.authType ("", jsonCredentials, workloadIdentity) is checked
 * with the config's Secret, GOOGLE_APPLICATION_CREDENTIALS and the metadata server each
 * present or absent (no network: gcp_auth_new only chooses and reads the key). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- source selection by authType ---- */

static char keypath[64];
static struct msg_credentials creds;

/* A key file for GOOGLE_APPLICATION_CREDENTIALS and a credentials Secret, both holding
 * keyjson; GOOGLE_APPLICATION_CREDENTIALS unset, GCE_METADATA_HOST set to a local port. */
static void make_sources(void)
{
	int fd;

	make_key();
	(void)memcpy(keypath, "/tmp/smc-gcp-auth-XXXXXX", 25);
	fd = mkstemp(keypath);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, keyjson, strlen(keyjson)), (ssize_t)strlen(keyjson));
	close(fd);
	memset(&creds, 0, sizeof(creds));
	creds.provider = "gcp";
	creds.origin = "Secret demo/gcp-key";
	cr_assert_eq(secbuf_from(&creds.secret, keyjson, strlen(keyjson)), 0);
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	setenv("GCE_METADATA_HOST", "127.0.0.1:1", 1);
}

static void drop_sources(void)
{
	unlink(keypath);
	secbuf_free(creds.secret);
	creds.secret = NULL;
	drop_key();
}

TestSuite(gcp_auth_type, .init = make_sources, .fini = drop_sources);

/* gcp_auth_new with the Secret (or not) and the key file (or not): the source, or -1 and
 * err filled when refused (rc returned through *rcp). */
static int pick(int with_secret, int with_file, const char *type, int *rcp, struct err_ctx *err)
{
	struct gcp_auth *a = NULL;
	int src = -1, rc;

	if (with_file)
		setenv("GOOGLE_APPLICATION_CREDENTIALS", keypath, 1);
	else
		unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	memset(err, 0, sizeof(*err));
	rc = gcp_auth_new(with_secret ? &creds : NULL, type, NULL, &a, err);
	if (rc == 0) {
		cr_assert_not_null(a);
		src = (int)gcp_auth_source(a);
		cr_assert_eq(gcp_auth_fetches(a), 0, "choosing fetches nothing");
		gcp_auth_free(a);
	} else {
		cr_assert_null(a, "no auth on failure");
	}
	if (rcp != NULL)
		*rcp = rc;
	return src;
}

Test(gcp_auth_type, absent_keeps_the_whole_chain)
{
	struct err_ctx err;
	static const char *types[] = {NULL, ""};

	for (size_t i = 0; i < 2; i++) {
		const char *t = types[i];

		cr_assert_eq(pick(1, 1, t, NULL, &err), GCP_AUTH_SECRET, "%s", err.msg);
		cr_assert_eq(pick(1, 0, t, NULL, &err), GCP_AUTH_SECRET, "%s", err.msg);
		cr_assert_eq(pick(0, 1, t, NULL, &err), GCP_AUTH_FILE, "%s", err.msg);
		cr_assert_eq(pick(0, 0, t, NULL, &err), GCP_AUTH_METADATA, "%s", err.msg);
	}
}

Test(gcp_auth_type, json_credentials_never_uses_the_metadata_server)
{
	struct err_ctx err;
	int rc = 0;

	cr_assert_eq(pick(1, 1, "jsonCredentials", NULL, &err), GCP_AUTH_SECRET, "%s", err.msg);
	cr_assert_eq(pick(1, 0, "jsonCredentials", NULL, &err), GCP_AUTH_SECRET, "%s", err.msg);
	cr_assert_eq(pick(0, 1, "jsonCredentials", NULL, &err), GCP_AUTH_FILE, "%s", err.msg);
	/* neither key: refused although a metadata server is configured */
	cr_assert_eq(pick(0, 0, "jsonCredentials", &rc, &err), -1);
	cr_assert_eq(rc, ERR_NOKEY);
	cr_assert(strstr(err.msg, "spec.provider.gcp.auth.authType jsonCredentials") != NULL, "%s",
		  err.msg);
	cr_assert(strstr(err.msg, "spec.provider.gcp.auth.secretName") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "GOOGLE_APPLICATION_CREDENTIALS") != NULL, "%s", err.msg);
	/* an empty GOOGLE_APPLICATION_CREDENTIALS counts as absent */
	setenv("GOOGLE_APPLICATION_CREDENTIALS", "", 1);
	cr_assert_eq(gcp_auth_new(NULL, "jsonCredentials", NULL, &(struct gcp_auth *){NULL}, &err),
		     ERR_NOKEY);
}

Test(gcp_auth_type, json_credentials_key_file_errors_name_the_file)
{
	struct err_ctx err = {{0}};
	struct gcp_auth *a = NULL;

	setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/smc-sa.json", 1);
	cr_assert_eq(gcp_auth_new(NULL, "jsonCredentials", NULL, &a, &err), ERR_IO);
	cr_assert_null(a);
	cr_assert(strstr(err.msg, "/nonexistent/smc-sa.json") != NULL, "%s", err.msg);
}

Test(gcp_auth_type, workload_identity_uses_the_metadata_server_only)
{
	struct err_ctx err;
	int rc = 0;

	/* GOOGLE_APPLICATION_CREDENTIALS is ignored, even when it names a valid key */
	cr_assert_eq(pick(0, 1, "workloadIdentity", NULL, &err), GCP_AUTH_METADATA, "%s", err.msg);
	cr_assert_eq(pick(0, 0, "workloadIdentity", NULL, &err), GCP_AUTH_METADATA, "%s", err.msg);
	/* ... and so is a broken one */
	setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/smc-sa.json", 1);
	{
		struct gcp_auth *a = NULL;

		cr_assert_eq(gcp_auth_new(NULL, "workloadIdentity", NULL, &a, &err), 0, "%s",
			     err.msg);
		cr_assert_eq(gcp_auth_source(a), GCP_AUTH_METADATA);
		gcp_auth_free(a);
	}
	/* a credentials Secret (smconfig refuses it) is refused here too, without its content */
	cr_assert_eq(pick(1, 0, "workloadIdentity", &rc, &err), -1);
	cr_assert_eq(rc, ERR_INVAL);
	cr_assert(strstr(err.msg, "spec.provider.gcp.auth.authType workloadIdentity") != NULL, "%s",
		  err.msg);
	cr_assert(strstr(err.msg, "Secret demo/gcp-key") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "PRIVATE KEY") == NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "kid123") == NULL, "%s", err.msg);
}

Test(gcp_auth_type, unknown_type_refused_by_name)
{
	struct err_ctx err;
	int rc = 0;

	cr_assert_eq(pick(1, 1, "accessKey", &rc, &err), -1);
	cr_assert_eq(rc, ERR_INVAL);
	cr_assert(strstr(err.msg, "spec.provider.gcp.auth.authType") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "accessKey") != NULL, "%s", err.msg);
}
