/* test_azure_client.c — the Azure client and provider against tests/fakes/azure_server.py
 * (started per test on a free port): token caching per audience and the one refresh after
 * a 401 (tokens revoked by the fake), retries of injected 503s (none for a once_on_5xx
 * call, whose 5xx is ambiguous), failure reasons naming the
 * code, operation and secret, and the policies the shell test does not walk through:
 * dry_run (no write), adopt_existing (an untagged secret taken over and tagged) and
 * triggerUpdate=false (create only). */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/secbuf.h"
#include "syncer/provider.h"
#include "syncer/providers/azure/azure_client.h"
#include "syncer/providers/azure/azure_keyvault.h"
#include "syncer/providers/azure/provider_azure.h"

#define FAKE SMC_SOURCE_DIR "/tests/fakes/azure_server.py"
#define TENANT "00000000-0000-0000-0000-00000000fa4e"

static pid_t fake_pid = -1;
static char base[64];

static int port_open(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM, 0), ok;

	ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (s >= 0)
		close(s);
	return ok;
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

static int tls_port = -1;
static char tls_dir[64];

/* Starts the fake on a free port (and a TLS one when tls) and waits until it accepts
 * connections. */
static void start_fake_opt(int tls)
{
	char portarg[16], tlsarg[16];
	int port;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int tries = 0; tries < 5; tries++) {
		cr_assert_gt(port = free_port(), 0);
		snprintf(portarg, sizeof(portarg), "%d", port);
		if (tls) {
			cr_assert_gt(tls_port = free_port(), 0);
			snprintf(tlsarg, sizeof(tlsarg), "%d", tls_port);
			snprintf(tls_dir, sizeof(tls_dir), "/tmp/smc-azfake-tls.%d", (int)getpid());
		}
		fake_pid = fork();
		if (fake_pid == 0) {
			int dn = open("/dev/null", O_RDWR);

			dup2(dn, 1);
			dup2(dn, 2);
			setpgid(0, 0);
			if (tls)
				execlp("python3", "python3", FAKE, "--port", portarg, "--client",
				       "smc-sp:sp-secret", "--tls-port", tlsarg, "--cert-dir",
				       tls_dir, (char *)NULL);
			else
				execlp("python3", "python3", FAKE, "--port", portarg, "--client",
				       "smc-sp:sp-secret", (char *)NULL);
			_exit(127);
		}
		for (int i = 0; i < 200; i++) {
			if (port_open(port) && (!tls || port_open(tls_port))) {
				snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
				setenv("AZURE_CLIENT_SECRET", "sp-secret", 1);
				setenv("AZURE_CLIENT_ID", "smc-sp", 1);
				setenv("AZURE_TENANT_ID", TENANT, 1);
				setenv("AZURE_AUTHORITY_HOST", base, 1);
				unsetenv("AZURE_FEDERATED_TOKEN_FILE");
				return;
			}
			if (waitpid(fake_pid, NULL, WNOHANG) == fake_pid)
				break; /* it exited (port taken meanwhile): try another */
			usleep(50000);
		}
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
	}
	cr_assert_fail("the fake did not start");
}

static void start_fake(void)
{
	start_fake_opt(0);
}

static void start_fake_tls(void)
{
	start_fake_opt(1);
}

static void stop_fake(void)
{
	if (tls_dir[0] != '\0') {
		char p[128];

		for (const char *const *f =
			 (const char *const[]){"ca.crt", "ca.key", "ca.srl", "server.crt",
					       "server.key", "server.csr", "server.ext", "ports",
					       NULL};
		     *f != NULL; f++) {
			snprintf(p, sizeof(p), "%s/%s", tls_dir, *f);
			unlink(p);
		}
		rmdir(tls_dir);
	}
	if (fake_pid > 0) {
		kill(-fake_pid, SIGTERM);
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
	}
}

static size_t sink(char *p, size_t s, size_t n, void *arg)
{
	struct secbuf *b = arg;

	return secbuf_put(b, p, s * n) == 0 ? s * n : 0;
}

/* A control or data request to the fake; the answer as JSON (NULL when not JSON). */
static json_t *http(const char *method, const char *path, const char *body, const char *bearer)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct secbuf *b = NULL;
	char url[512], auth[2048];
	json_t *j;

	secbuf_new(&b, 1 << 20);
	snprintf(url, sizeof(url), "%s%s", base, path);
	if (bearer != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	j = json_loadb((const char *)b->data, b->len, 0, NULL);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	secbuf_free(b);
	return j;
}

static long counted(const char *op)
{
	json_t *j = http("GET", "/_fake/counts", NULL, NULL);
	long n = (long)json_integer_value(json_object_get(json_object_get(j, "counts"), op));

	json_decref(j);
	return n;
}

/* Puts a secret as someone else would (tags given as JSON text). */
static void put_by_hand(const char *name, const char *value, const char *tags)
{
	json_t *t =
	    http("POST", "/_fake/token", "{\"audience\":\"https://vault.azure.net\"}", NULL);
	char path[256], body[512];
	json_t *r;

	snprintf(path, sizeof(path), "/secrets/%s?api-version=7.5", name);
	snprintf(body, sizeof(body), "{\"value\":\"%s\",\"tags\":%s}", value, tags);
	r = http("PUT", path, body, json_string_value(json_object_get(t, "access_token")));
	cr_assert_not_null(json_object_get(r, "id"));
	json_decref(r);
	json_decref(t);
}

/* The latest version of a secret in the fake's state (borrowed from *st). */
static json_t *latest(json_t **st, const char *name)
{
	json_t *v;

	json_decref(*st);
	*st = http("GET", "/_fake/state", NULL, NULL);
	v = json_object_get(json_object_get(json_object_get(*st, "secrets"), name), "versions");
	return json_array_get(v, json_array_size(v) - 1);
}

static struct azure_call list_call(void)
{
	struct azure_call c = {
	    .method = "GET", .op = "secrets.list", .name = "*", .scope = AZURE_KV_SCOPE};
	char u[256];

	snprintf(u, sizeof(u), "%s/secrets?api-version=7.5", base);
	c.url = strdup(u);
	return c;
}

TestSuite(azure_client, .init = start_fake, .fini = stop_fake, .timeout = 60);

Test(azure_client, token_cached_per_audience_and_renewed_once_after_401)
{
	struct azure_auth_cfg cfg = {0};
	struct azure_client *c = NULL;
	struct azure_call call = list_call();
	struct err_ctx err = {{0}};

	cr_assert_eq(azure_client_new(&cfg, &c, &err), 0, "%s", err.msg);
	cr_assert_eq(azure_client_run(c, &call, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(call.rc, 0);
	cr_assert_eq(azure_client_run(c, &call, 1, &err), 0);
	cr_assert_eq(call.rc, 0);
	cr_assert_eq(counted("token"), 1, "one token for two calls");
	json_decref(http("POST", "/_fake/tokens/revoke", "{}", NULL));
	cr_assert_eq(azure_client_run(c, &call, 1, &err), 0);
	cr_assert_eq(call.rc, 0, "a 401 gets a new token and the call goes through");
	cr_assert_eq(call.attempts, 2);
	cr_assert_eq(counted("token"), 2);
	azure_call_clear(&call);
	azure_client_free(c);
}

Test(azure_client, injected_503s_are_retried)
{
	struct azure_auth_cfg cfg = {0};
	struct azure_client *c = NULL;
	struct azure_call call = list_call();
	struct err_ctx err = {{0}};

	cr_assert_eq(azure_client_new(&cfg, &c, &err), 0, "%s", err.msg);
	json_decref(http("POST", "/_fake/faults",
			 "{\"every\":1,\"status\":503,\"ops\":[\"secrets.list\"],\"count\":2}",
			 NULL));
	cr_assert_eq(azure_client_run(c, &call, 1, &err), 0);
	cr_assert_eq(call.rc, 0);
	cr_assert_eq(call.attempts, 3);
	azure_call_clear(&call);
	azure_client_free(c);
}

Test(azure_client, once_on_5xx_is_not_repeated_after_a_5xx_but_after_a_429)
{
	struct azure_auth_cfg cfg = {0};
	struct azure_client *c = NULL;
	struct azure_call call = list_call();
	struct err_ctx err = {{0}};

	call.once_on_5xx = 1;
	cr_assert_eq(azure_client_new(&cfg, &c, &err), 0, "%s", err.msg);
	json_decref(http("POST", "/_fake/faults",
			 "{\"every\":1,\"status\":503,\"after\":true,\"ops\":[\"secrets.list\"],"
			 "\"count\":1}",
			 NULL));
	cr_assert_eq(azure_client_run(c, &call, 1, &err), 0);
	cr_assert_eq(call.status, 503);
	cr_assert_eq(call.attempts, 1, "a 5xx may follow the write: not sent again");
	cr_assert(azure_call_ambiguous(&call));
	json_decref(http("POST", "/_fake/faults",
			 "{\"every\":1,\"status\":429,\"ops\":[\"secrets.list\"],\"count\":1}",
			 NULL));
	cr_assert_eq(azure_client_run(c, &call, 1, &err), 0);
	cr_assert_eq(call.rc, 0, "a 429 is refused before any work: retried");
	cr_assert_eq(call.attempts, 2);
	cr_assert_not(azure_call_ambiguous(&call));
	azure_call_clear(&call);
	azure_client_free(c);
}

Test(azure_client, ambiguous_only_for_lost_answers_and_5xx)
{
	struct azure_call call = {.rc = ERR_IO, .code = "Transport"};

	cr_assert(azure_call_ambiguous(&call));
	call = (struct azure_call){.rc = ERR_REMOTE, .status = 500};
	cr_assert(azure_call_ambiguous(&call));
	call = (struct azure_call){.rc = ERR_CONFLICT, .status = 412};
	cr_assert_not(azure_call_ambiguous(&call));
	call = (struct azure_call){.rc = ERR_REMOTE, .status = 429};
	cr_assert_not(azure_call_ambiguous(&call));
	call = (struct azure_call){.rc = ERR_PERM, .code = "NoToken"};
	cr_assert_not(azure_call_ambiguous(&call));
	call = (struct azure_call){.rc = 0, .status = 200};
	cr_assert_not(azure_call_ambiguous(&call));
}

Test(azure_client, failure_reason_names_code_operation_and_secret)
{
	struct azure_auth_cfg cfg = {0};
	struct azure_client *c = NULL;
	struct azure_call call = {.method = "GET",
				  .op = "secrets.get",
				  .name = "payments-DB-PASSWORD",
				  .scope = AZURE_KV_SCOPE};
	struct err_ctx err = {{0}};
	char u[256], reason[200];

	cr_assert_eq(azure_client_new(&cfg, &c, &err), 0, "%s", err.msg);
	snprintf(u, sizeof(u), "%s/secrets/payments-DB-PASSWORD/?api-version=7.5", base);
	call.url = strdup(u);
	cr_assert_eq(azure_client_run(c, &call, 1, &err), 0);
	cr_assert_eq(call.rc, ERR_NOTFOUND);
	azure_call_reason(&call, reason, sizeof(reason));
	cr_assert_str_eq(reason, "SecretNotFound on secrets.get for payments-DB-PASSWORD");
	azure_call_clear(&call);
	azure_client_free(c);
}

/* ---- the provider with policies ---- */

static struct job job_for(void)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.config.ns = (char *)"demo";
	j.config.name = (char *)"example";
	j.provider.kind = (char *)"azure";
	j.provider.vault_name = (char *)"smcvault";
	j.provider.endpoint = base;
	j.mode.environment = (char *)"dev";
	j.policy.trigger_update = true;
	return j;
}

static int sync1(const struct job *job, const char *name, const char *value, struct report *rep)
{
	struct secbuf *v = NULL;
	struct desired d = {.name = name, .key = "KEY"};
	struct err_ctx err = {{0}};
	void *st = NULL;
	int rc;

	cr_assert_eq(secbuf_from(&v, value, strlen(value)), 0);
	d.value = v;
	report_init(rep);
	cr_assert_eq(provider_azure.open(job, NULL, &st, &err), 0, "%s", err.msg);
	rc = provider_azure.sync(st, job, ITEM_SECRET, &d, 1, rep, &err);
	if (rc != 0)
		cr_log_error("sync: %s", err.msg);
	provider_azure.close(st);
	secbuf_free(v);
	return rc;
}

Test(azure_client, dry_run_writes_nothing)
{
	struct job j = job_for();
	struct report rep;

	j.policy.dry_run = true;
	cr_assert_eq(sync1(&j, "dry-one", "v1", &rep), 0);
	cr_assert_eq(report_count(&rep, ITEM_SECRET, ITEM_WRITTEN), 1);
	cr_assert_eq(counted("secrets.set"), 0);
	report_free(&rep);
}

Test(azure_client, adopt_existing_takes_over_and_tags)
{
	struct job j = job_for();
	struct report rep;
	json_t *st = NULL, *v;

	put_by_hand("adopt-me", "same", "{\"team\":\"x\"}");
	cr_assert_eq(sync1(&j, "adopt-me", "same", &rep), 0);
	cr_assert_eq(report_count(&rep, ITEM_SECRET, ITEM_REFUSED), 1, "not without adopt");
	report_free(&rep);
	j.policy.adopt_existing = true;
	cr_assert_eq(sync1(&j, "adopt-me", "same", &rep), 0);
	cr_assert_eq(report_count(&rep, ITEM_SECRET, ITEM_WRITTEN), 1);
	report_free(&rep);
	v = latest(&st, "adopt-me");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "tags"), "owner")),
			 "demo/example");
	j.policy.adopt_existing = false;
	cr_assert_eq(sync1(&j, "adopt-me", "same", &rep), 0);
	cr_assert_eq(report_count(&rep, ITEM_SECRET, ITEM_UNCHANGED), 1, "ours from now on");
	report_free(&rep);
	json_decref(st);
}

Test(azure_client, trigger_update_off_creates_only)
{
	struct job j = job_for();
	struct report rep;
	json_t *st = NULL;

	j.policy.trigger_update = false;
	cr_assert_eq(sync1(&j, "create-only", "v1", &rep), 0);
	cr_assert_eq(report_count(&rep, ITEM_SECRET, ITEM_WRITTEN), 1, "created");
	report_free(&rep);
	cr_assert_eq(sync1(&j, "create-only", "v2", &rep), 0);
	cr_assert_eq(report_count(&rep, ITEM_SECRET, ITEM_UNCHANGED), 1, "not overwritten");
	report_free(&rep);
	cr_assert_str_eq(json_string_value(json_object_get(latest(&st, "create-only"), "value")),
			 "v1");
	json_decref(st);
}

/* ---- TLS: the fake's own CA through AZURE_CA_BUNDLE; refused without it ---- */

TestSuite(azure_tls, .init = start_fake_tls, .fini = stop_fake, .timeout = 60);

Test(azure_tls, https_with_the_ca_bundle_and_refused_without)
{
	struct azure_auth_cfg cfg = {0};
	struct azure_client *c = NULL;
	struct azure_call call = {
	    .method = "GET", .op = "secrets.list", .name = "*", .scope = AZURE_KV_SCOPE};
	struct err_ctx err = {{0}};
	char u[256], ca[128];

	snprintf(u, sizeof(u), "https://127.0.0.1:%d", tls_port);
	setenv("AZURE_AUTHORITY_HOST", u, 1);
	snprintf(u, sizeof(u), "https://127.0.0.1:%d/secrets?api-version=7.5", tls_port);
	snprintf(ca, sizeof(ca), "%s/ca.crt", tls_dir);
	cr_assert_eq(access(ca, R_OK), 0, "the fake made its CA");

	unsetenv("AZURE_CA_BUNDLE");
	cr_assert_eq(azure_client_new(&cfg, &c, &err), 0, "%s", err.msg);
	call.url = strdup(u);
	cr_assert_neq(azure_client_run(c, &call, 1, &err), 0, "an unknown CA is refused");
	cr_assert(strstr(err.msg, "token request") != NULL, "%s", err.msg);
	azure_call_clear(&call);
	azure_client_free(c);

	setenv("AZURE_CA_BUNDLE", ca, 1);
	cr_assert_eq(azure_client_new(&cfg, &c, &err), 0, "%s", err.msg);
	call.url = strdup(u);
	cr_assert_eq(azure_client_run(c, &call, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(call.rc, 0);
	azure_call_clear(&call);
	azure_client_free(c);
}
