/* test_azure_provider.c — the pure parts of the Azure provider: vault and App
 * Configuration URL building, ownership decisions on tags, Key Vault ids, token answer
 * parsing (Entra ID and IMDS shapes), form encoding, refresh timing, credential source
 * selection, backoff bounds and failure reasons. The wire behaviour against the fake is
 * tests/azure/test_azure_sync.sh. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/secbuf.h"
#include "common/str.h"
#include "syncer/provider.h"
#include "syncer/providers/azure/azure_appconfig.h"
#include "syncer/providers/azure/azure_auth.h"
#include "syncer/providers/azure/azure_client.h"
#include "syncer/providers/azure/azure_keyvault.h"
#include "syncer/providers/azure/provider_azure.h"

static void clear_env(void)
{
	static const char *const v[] = {
	    "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_ID",	  "AZURE_TENANT_ID",
	    "AZURE_CLIENT_SECRET",	  "AZURE_AUTHORITY_HOST", "AZURE_IMDS_ENDPOINT",
	    "IDENTITY_ENDPOINT",	  "IDENTITY_HEADER"};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		unsetenv(v[i]);
}

/* ---- URLs ---- */

Test(azure_url, vault_endpoint_wins_and_loses_trailing_slash)
{
	char *u = NULL;

	cr_assert_eq(azure_kv_vault_url("http://127.0.0.1:8080/", "smcvault", &u, NULL), 0);
	cr_assert_str_eq(u, "http://127.0.0.1:8080");
	free(u);
}

Test(azure_url, vault_name_as_url_is_used_as_is)
{
	char *u = NULL;

	cr_assert_eq(azure_kv_vault_url(NULL, "https://my-vault.vault.azure.net/", &u, NULL), 0);
	cr_assert_str_eq(u, "https://my-vault.vault.azure.net");
	free(u);
}

Test(azure_url, vault_name_gives_public_cloud_host)
{
	char *u = NULL;

	cr_assert_eq(azure_kv_vault_url("", "smcvault", &u, NULL), 0);
	cr_assert_str_eq(u, "https://smcvault.vault.azure.net");
	free(u);
}

Test(azure_url, bad_vault_names_and_endpoints_are_refused)
{
	struct err_ctx err = {{0}};
	char *u = NULL;

	cr_assert_neq(azure_kv_vault_url(NULL, "a.b", &u, &err), 0);
	cr_assert(strstr(err.msg, "vaultName") != NULL);
	cr_assert_neq(azure_kv_vault_url(NULL, "evil.com/x", &u, NULL), 0);
	cr_assert_neq(azure_kv_vault_url(NULL, "", &u, NULL), 0);
	cr_assert_neq(azure_kv_vault_url("ftp://x/", "smcvault", &u, &err), 0);
	cr_assert(strstr(err.msg, "endpoint") != NULL);
	cr_assert_null(u);
}

Test(azure_url, app_config_endpoint_explicit_or_derived)
{
	char *u = NULL;
	struct err_ctx err = {{0}};

	cr_assert_eq(azure_ac_endpoint("http://127.0.0.1:9/", "v", &u, NULL), 0);
	cr_assert_str_eq(u, "http://127.0.0.1:9");
	free(u);
	cr_assert_eq(azure_ac_endpoint(NULL, "smcvault", &u, NULL), 0);
	cr_assert_str_eq(u, "https://smcvault.azconfig.io");
	free(u);
	u = NULL;
	cr_assert_neq(azure_ac_endpoint(NULL, "https://x.vault.azure.net", &u, &err), 0);
	cr_assert(strstr(err.msg, "appConfigEndpoint") != NULL);
	cr_assert_neq(azure_ac_endpoint("file:///etc/passwd", "v", &u, NULL), 0);
}

Test(azure_url, token_url)
{
	char *u = NULL;

	cr_assert_eq(azure_auth_token_url("https://login.microsoftonline.com/", "t-1", &u), 0);
	cr_assert_str_eq(u, "https://login.microsoftonline.com/t-1/oauth2/v2.0/token");
	free(u);
	cr_assert_eq(azure_auth_token_url("http://127.0.0.1:5", "t-1", &u), 0);
	cr_assert_str_eq(u, "http://127.0.0.1:5/t-1/oauth2/v2.0/token");
	free(u);
	u = NULL;
	cr_assert_neq(azure_auth_token_url("https://login/", "../x", &u), 0);
	cr_assert_neq(azure_auth_token_url("https://login/", "a/b", &u), 0);
	cr_assert_neq(azure_auth_token_url("login", "t", &u), 0);
	cr_assert_null(u);
}

/* ---- names, ids, ownership ---- */

Test(azure_names, key_vault_names)
{
	char long_name[130];

	cr_assert(azure_kv_valid_name("payments-DB-PASSWORD"));
	cr_assert(azure_kv_valid_name("a"));
	cr_assert_not(azure_kv_valid_name(""));
	cr_assert_not(azure_kv_valid_name("DB_PASSWORD"));
	cr_assert_not(azure_kv_valid_name("a/b"));
	cr_assert_not(azure_kv_valid_name("a.b"));
	memset(long_name, 'a', 127);
	long_name[127] = '\0';
	cr_assert(azure_kv_valid_name(long_name));
	long_name[127] = 'a';
	long_name[128] = '\0';
	cr_assert_not(azure_kv_valid_name(long_name));
}

Test(azure_names, ids)
{
	char b[160];

	cr_assert_eq(
	    azure_kv_id_name("https://v.vault.azure.net/secrets/db-pw/0123abcd", b, sizeof(b)), 0);
	cr_assert_str_eq(b, "db-pw");
	cr_assert_eq(
	    azure_kv_id_version("https://v.vault.azure.net/secrets/db-pw/0123abcd", b, sizeof(b)),
	    0);
	cr_assert_str_eq(b, "0123abcd");
	cr_assert_eq(azure_kv_id_name("http://127.0.0.1:9/secrets/x", b, sizeof(b)), 0);
	cr_assert_str_eq(b, "x");
	cr_assert_eq(azure_kv_id_version("http://127.0.0.1:9/secrets/x", b, sizeof(b)), 0);
	cr_assert_str_eq(b, "");
	cr_assert_eq(azure_kv_id_name("https://v/deletedsecrets/gone", b, sizeof(b)), 0);
	cr_assert_str_eq(b, "gone");
	cr_assert_neq(azure_kv_id_name("https://v/keys/k", b, sizeof(b)), 0);
	cr_assert_neq(azure_kv_id_name(NULL, b, sizeof(b)), 0);
	cr_assert_neq(azure_kv_id_name("https://v/secrets/bad_name", b, sizeof(b)), 0);
}

Test(azure_owner, tags_decide_ownership)
{
	char other[64] = "";
	json_t *ours = json_pack("{s:s,s:s}", "managed-by", "secret-manager-controller", "owner",
				 "demo/example");
	json_t *none = json_pack("{s:s}", "team", "x");
	json_t *theirs = json_pack("{s:s,s:s}", "managed-by", "secret-manager-controller", "owner",
				   "prod/other");
	json_t *wrong = json_pack("{s:s,s:s}", "managed-by", "terraform", "owner", "demo/example");
	json_t *noowner = json_pack("{s:s}", "managed-by", "secret-manager-controller");

	cr_assert_eq(azure_kv_tags_owner(ours, "demo/example", other, sizeof(other)), 1);
	cr_assert_eq(azure_kv_tags_owner(none, "demo/example", other, sizeof(other)), 0);
	cr_assert_eq(azure_kv_tags_owner(NULL, "demo/example", other, sizeof(other)), 0);
	cr_assert_eq(azure_kv_tags_owner(wrong, "demo/example", other, sizeof(other)), 0);
	cr_assert_eq(azure_kv_tags_owner(theirs, "demo/example", other, sizeof(other)), -1);
	cr_assert_str_eq(other, "prod/other");
	cr_assert_eq(azure_kv_tags_owner(noowner, "demo/example", other, sizeof(other)), -1);
	cr_assert_str_eq(other, "?");
	json_decref(ours);
	json_decref(none);
	json_decref(theirs);
	json_decref(wrong);
	json_decref(noowner);
}

/* ---- tokens ---- */

Test(azure_token, entra_answer)
{
	const char *a = "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
			"\"access_token\":\"eyJ0.abc.def\"}";
	struct secbuf *tok = NULL;
	int64_t exp = 0;

	cr_assert_eq(azure_auth_parse_token((const uint8_t *)a, strlen(a), 1000, &tok, &exp, NULL),
		     0);
	cr_assert(secbuf_eq_mem(tok, "eyJ0.abc.def", 12));
	cr_assert_eq(exp, 4599);
	secbuf_free(tok);
}

Test(azure_token, imds_answer_with_strings)
{
	const char *a =
	    "{\"access_token\":\"tok\",\"expires_in\":\"3599\",\"expires_on\":\"1795360000\","
	    "\"not_before\":\"1795356400\",\"resource\":\"https://vault.azure.net\","
	    "\"token_type\":\"Bearer\"}";
	const char *b = "{\"access_token\":\"tok\",\"expires_on\":\"1795360000\"}";
	struct secbuf *tok = NULL;
	int64_t exp = 0;

	cr_assert_eq(azure_auth_parse_token((const uint8_t *)a, strlen(a), 100, &tok, &exp, NULL),
		     0);
	cr_assert_eq(exp, 3699);
	secbuf_free(tok);
	tok = NULL;
	cr_assert_eq(azure_auth_parse_token((const uint8_t *)b, strlen(b), 100, &tok, &exp, NULL),
		     0);
	cr_assert_eq(exp, 1795360000);
	secbuf_free(tok);
}

Test(azure_token, malformed_answers_are_refused_without_echo)
{
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[]",
	    "{\"expires_in\":10}",
	    "{\"access_token\":\"\",\"expires_in\":1}",
	    "{\"access_token\":\"SECRETTOKEN\"}",
	    "{\"access_token\":\"SECRETTOKEN\",\"expires_in\":\"x\"}",
	    "{\"access_token\":5,\"expires_in\":1}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err_ctx err = {{0}};
		struct secbuf *tok = NULL;
		int64_t exp = 0;

		cr_assert_neq(azure_auth_parse_token((const uint8_t *)bad[i], strlen(bad[i]), 0,
						     &tok, &exp, &err),
			      0, "case %zu", i);
		cr_assert_null(tok);
		cr_assert_null(strstr(err.msg, "SECRETTOKEN"));
	}
}

Test(azure_token, refresh_five_minutes_before_expiry)
{
	cr_assert_not(azure_auth_needs_refresh(0, 3600, 3000));
	cr_assert_not(azure_auth_needs_refresh(0, 3600, 3299));
	cr_assert(azure_auth_needs_refresh(0, 3600, 3300));
	cr_assert(azure_auth_needs_refresh(0, 3600, 4000));
	/* short-lived: at half its life */
	cr_assert_not(azure_auth_needs_refresh(0, 100, 49));
	cr_assert(azure_auth_needs_refresh(0, 100, 50));
}

Test(azure_form, encoding)
{
	struct secbuf *b = NULL;
	const char *v = "a b&c=d/é+~";

	cr_assert_eq(secbuf_new(&b, 1024), 0);
	cr_assert_eq(azure_form_add(b, "grant_type", (const uint8_t *)"client_credentials", 18), 0);
	cr_assert_eq(azure_form_add(b, "client_secret", (const uint8_t *)v, strlen(v)), 0);
	cr_assert_eq(
	    azure_form_add(b, "scope", (const uint8_t *)"https://vault.azure.net/.default", 32), 0);
	cr_assert_str_eq((const char *)b->data,
			 "grant_type=client_credentials&client_secret=a+b%26c%3Dd%2F%C3%A9%2B~"
			 "&scope=https%3A%2F%2Fvault.azure.net%2F.default");
	secbuf_free(b);
}

/* ---- credential source selection ---- */

static struct msg_credentials *creds(const char *id, const char *secret)
{
	static struct msg_credentials c;

	memset(&c, 0, sizeof(c));
	c.provider = (char *)"azure";
	c.origin = (char *)"Secret demo/azure-creds";
	c.key_id = (char *)id;
	if (secret != NULL)
		cr_assert_eq(secbuf_from(&c.secret, secret, strlen(secret)), 0);
	return &c;
}

Test(azure_auth, config_secret_is_used_alone)
{
	struct azure_auth_cfg cfg = {.creds = creds("cid", "csecret"), .tenant_id = "tenant-1"};
	struct azure_auth *a = NULL;

	clear_env();
	setenv("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent", 1);
	cr_assert_eq(azure_auth_new(&cfg, &a, NULL), 0);
	cr_assert_eq(azure_auth_source(a), AZURE_AUTH_SECRET);
	azure_auth_free(a);
	secbuf_free(cfg.creds->secret);
}

Test(azure_auth, config_secret_without_secret_or_tenant_fails)
{
	struct azure_auth_cfg cfg = {.creds = creds("cid", NULL), .tenant_id = "tenant-1"};
	struct azure_auth *a = NULL;
	struct err_ctx err = {{0}};

	clear_env();
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0);
	cr_assert(strstr(err.msg, "Secret demo/azure-creds") != NULL);
	cfg.creds = creds("cid", "s3cr3t-value");
	cfg.tenant_id = NULL;
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0);
	cr_assert(strstr(err.msg, "tenant") != NULL);
	cr_assert_null(strstr(err.msg, "s3cr3t-value"));
	secbuf_free(cfg.creds->secret);
}

Test(azure_auth, chain_order)
{
	struct azure_auth_cfg cfg = {0};
	struct azure_auth *a = NULL;
	struct err_ctx err = {{0}};

	clear_env();
	cr_assert_eq(azure_auth_new(&cfg, &a, NULL), 0);
	cr_assert_eq(azure_auth_source(a), AZURE_AUTH_IMDS, "nothing set: managed identity");
	azure_auth_free(a);

	setenv("AZURE_CLIENT_SECRET", "x", 1);
	setenv("AZURE_CLIENT_ID", "cid", 1);
	setenv("AZURE_TENANT_ID", "tid", 1);
	cr_assert_eq(azure_auth_new(&cfg, &a, NULL), 0);
	cr_assert_eq(azure_auth_source(a), AZURE_AUTH_ENV);
	azure_auth_free(a);

	setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token",
	       1);
	cr_assert_eq(azure_auth_new(&cfg, &a, NULL), 0);
	cr_assert_eq(azure_auth_source(a), AZURE_AUTH_WORKLOAD, "token file wins over env secret");
	azure_auth_free(a);

	unsetenv("AZURE_TENANT_ID");
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0, "workload identity needs a tenant");
	cfg.tenant_id = "spec-tenant";
	cr_assert_eq(azure_auth_new(&cfg, &a, NULL), 0, "spec tenantId fills in");
	azure_auth_free(a);
	cfg.tenant_id = "bad/tenant";
	cr_assert_neq(azure_auth_new(&cfg, &a, NULL), 0);
	clear_env();
	setenv("AZURE_AUTHORITY_HOST", "not-a-url", 1);
	setenv("AZURE_CLIENT_SECRET", "x", 1);
	setenv("AZURE_CLIENT_ID", "cid", 1);
	cfg.tenant_id = "t";
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0);
	cr_assert(strstr(err.msg, "AZURE_AUTHORITY_HOST") != NULL);
	clear_env();
}

static enum azure_auth_source pick(const struct azure_auth_cfg *cfg)
{
	struct azure_auth *a = NULL;
	struct err_ctx err = {{0}};
	enum azure_auth_source src;

	cr_assert_eq(azure_auth_new(cfg, &a, &err), 0, "authType %s: %s",
		     cfg->auth_type != NULL ? cfg->auth_type : "(none)", err.msg);
	src = azure_auth_source(a);
	azure_auth_free(a);
	return src;
}

/* every source's variables set: each authType keeps only its own */
static void set_all_env(void)
{
	clear_env();
	setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/t", 1);
	setenv("AZURE_CLIENT_SECRET", "env-s3cr3t", 1);
	setenv("AZURE_CLIENT_ID", "cid", 1);
	setenv("AZURE_TENANT_ID", "tid", 1);
	setenv("AZURE_IMDS_ENDPOINT", "http://127.0.0.1:9", 1);
}

Test(azure_auth, auth_type_narrows_the_chain)
{
	struct azure_auth_cfg cfg = {0};

	set_all_env();
	cfg.auth_type = "";
	cr_assert_eq(pick(&cfg), AZURE_AUTH_WORKLOAD, "no authType: the chain, token file first");
	cfg.auth_type = NULL;
	cr_assert_eq(pick(&cfg), AZURE_AUTH_WORKLOAD);
	cfg.auth_type = "workloadIdentity";
	cr_assert_eq(pick(&cfg), AZURE_AUTH_WORKLOAD);
	cfg.auth_type = "servicePrincipal";
	cr_assert_eq(pick(&cfg), AZURE_AUTH_ENV, "servicePrincipal skips the token file");
	cfg.auth_type = "managedIdentity";
	cr_assert_eq(pick(&cfg), AZURE_AUTH_IMDS, "managedIdentity skips every other source");

	cfg.creds = creds("cid", "csecret");
	cfg.tenant_id = "tenant-1";
	cfg.auth_type = "servicePrincipal";
	cr_assert_eq(pick(&cfg), AZURE_AUTH_SECRET, "the config's Secret before the env secret");
	cfg.auth_type = "";
	cr_assert_eq(pick(&cfg), AZURE_AUTH_SECRET);
	secbuf_free(cfg.creds->secret);
	clear_env();
}

Test(azure_auth, workload_identity_names_what_is_missing)
{
	struct azure_auth_cfg cfg = {.auth_type = "workloadIdentity"};
	struct azure_auth *a = NULL;
	struct err_ctx err = {{0}};

	/* a service principal and IMDS would work: workloadIdentity must not fall back */
	clear_env();
	setenv("AZURE_CLIENT_SECRET", "env-s3cr3t", 1);
	setenv("AZURE_CLIENT_ID", "cid", 1);
	setenv("AZURE_TENANT_ID", "tid", 1);
	setenv("AZURE_IMDS_ENDPOINT", "http://127.0.0.1:9", 1);
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0);
	cr_assert_null(a);
	cr_assert(strstr(err.msg, "spec.provider.azure.auth.authType workloadIdentity") != NULL,
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "AZURE_FEDERATED_TOKEN_FILE") != NULL, "%s", err.msg);
	cr_assert_null(strstr(err.msg, "env-s3cr3t"));

	setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/t", 1);
	unsetenv("AZURE_CLIENT_ID");
	memset(&err, 0, sizeof(err));
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0);
	cr_assert(strstr(err.msg, "spec.provider.azure.auth.authType workloadIdentity") != NULL,
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "AZURE_CLIENT_ID") != NULL, "%s", err.msg);
	cfg.client_id = "spec-cid";
	cr_assert_eq(pick(&cfg), AZURE_AUTH_WORKLOAD, "spec clientId fills in");

	unsetenv("AZURE_TENANT_ID");
	memset(&err, 0, sizeof(err));
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0);
	cr_assert(strstr(err.msg, "spec.provider.azure.auth.authType workloadIdentity") != NULL,
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "AZURE_TENANT_ID") != NULL, "%s", err.msg);
	cfg.tenant_id = "spec-tenant";
	cr_assert_eq(pick(&cfg), AZURE_AUTH_WORKLOAD, "spec tenantId fills in");
	clear_env();
}

Test(azure_auth, service_principal_never_falls_back)
{
	struct azure_auth_cfg cfg = {.auth_type = "servicePrincipal"};
	struct azure_auth *a = NULL;
	struct err_ctx err = {{0}};

	/* a token file and IMDS are there, but no client secret anywhere */
	clear_env();
	setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/t", 1);
	setenv("AZURE_CLIENT_ID", "cid", 1);
	setenv("AZURE_TENANT_ID", "tid", 1);
	setenv("AZURE_IMDS_ENDPOINT", "http://127.0.0.1:9", 1);
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0);
	cr_assert_null(a);
	cr_assert(strstr(err.msg, "spec.provider.azure.auth.authType servicePrincipal") != NULL,
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "AZURE_CLIENT_SECRET") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "secretName") != NULL, "%s", err.msg);

	setenv("AZURE_CLIENT_SECRET", "env-s3cr3t", 1);
	cr_assert_eq(pick(&cfg), AZURE_AUTH_ENV);
	unsetenv("AZURE_TENANT_ID");
	memset(&err, 0, sizeof(err));
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0);
	cr_assert(strstr(err.msg, "spec.provider.azure.auth.authType servicePrincipal") != NULL,
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "AZURE_TENANT_ID") != NULL, "%s", err.msg);
	cr_assert_null(strstr(err.msg, "env-s3cr3t"));
	clear_env();
}

Test(azure_auth, managed_identity_ignores_the_other_sources)
{
	struct azure_auth_cfg cfg = {.auth_type = "managedIdentity", .client_id = "uami-1"};
	struct azure_auth *a = NULL;
	struct err_ctx err = {{0}};

	set_all_env();
	cfg.creds = creds("cid", "csecret");
	cr_assert_eq(pick(&cfg), AZURE_AUTH_IMDS, "not even the config's Secret");
	secbuf_free(cfg.creds->secret);
	cfg.creds = NULL;
	cfg.client_id = "bad/id";
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0, "a user-assigned client id is checked");
	cr_assert(strstr(err.msg, "client id") != NULL, "%s", err.msg);
	clear_env();
	cfg.client_id = NULL;
	cr_assert_eq(pick(&cfg), AZURE_AUTH_IMDS, "nothing set: system-assigned identity");
}

Test(azure_auth, unknown_auth_type_is_refused)
{
	struct azure_auth_cfg cfg = {.auth_type = "irsa"};
	struct azure_auth *a = NULL;
	struct err_ctx err = {{0}};

	set_all_env();
	cr_assert_neq(azure_auth_new(&cfg, &a, &err), 0);
	cr_assert(strstr(err.msg, "spec.provider.azure.auth.authType") != NULL, "%s", err.msg);
	clear_env();
}

/* ---- retries and reasons ---- */

Test(azure_retry, backoff_bounds_and_retry_after)
{
	uint64_t rng = 12345;

	for (unsigned a = 1; a < 12; a++) {
		long w = azure_retry_backoff_ms(&rng, a, -1);
		long cap = AZURE_RETRY_BASE_MS << (a < 8 ? a : 8);

		if (cap > AZURE_RETRY_CAP_MS)
			cap = AZURE_RETRY_CAP_MS;
		cr_assert(w >= 0 && w <= cap, "attempt %u: %ld > %ld", a, w, cap);
		cr_assert_geq(azure_retry_backoff_ms(&rng, a, 2), 2000);
	}
	cr_assert(azure_retry_should(-4, 0));
	cr_assert(azure_retry_should(0, 429));
	cr_assert(azure_retry_should(0, 503));
	cr_assert(azure_retry_should(0, 500));
	cr_assert_not(azure_retry_should(0, 403));
	cr_assert_not(azure_retry_should(0, 409));
	cr_assert_not(azure_retry_should(0, 404));
}

Test(azure_retry, reason_names_code_operation_and_secret)
{
	struct azure_call c = {
	    .op = "secrets.set", .name = "payments-DB-PASSWORD", .status = 403, .rc = ERR_PERM};
	char r[200];

	str_copy(c.code, sizeof(c.code), "Forbidden");
	azure_call_reason(&c, r, sizeof(r));
	cr_assert_str_eq(r, "Forbidden on secrets.set for payments-DB-PASSWORD");
	c.code[0] = '\0';
	c.status = 418;
	azure_call_reason(&c, r, sizeof(r));
	cr_assert_str_eq(r, "HTTP 418 on secrets.set for payments-DB-PASSWORD");
}

Test(azure_provider, registered)
{
	cr_assert_eq(provider_find("azure"), &provider_azure);
	cr_assert_not(provider_azure.transactional);
}
