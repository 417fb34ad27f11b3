/* test_gcp_provider.c — provider_gcp driven through open/begin/sync/commit against the fake
 * GCP server (tests/fakes/gcp_server.py, checked by gcloud in tests/fakes): the paths the
 * process-tree test (tests/gcp/test_gcp_sync.sh) cannot reach from `smc sync` — credentials
 * from the config's Secret (a service-account key in msg_credentials), an expired token
 * renewed once after a 401, refused credential types, dry_run, triggerUpdate off,
 * adoptExisting, another config's secret, configs kept in Secret Manager next to secrets
 * without pruning each other, binary values (CRC32C and base64 round trip), and
 * deletionPolicy Disable on parameters, HTTPS with a private CA (SSL_CERT_FILE). What the
 * fake holds is read from /_fake/state.
 * The tests share one fake: run them one at a time (ctest passes --jobs=1). */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/b64.h"
#include "common/secbuf.h"
#include "syncer/provider.h"
#include "syncer/providers/gcp/gcp_codec.h"
#include "syncer/providers/gcp/provider_gcp.h"

#define FAKE SMC_SOURCE_DIR "/tests/fakes/gcp_server.py"
#define SA SMC_SOURCE_DIR "/tests/fakes/gcp_sa.py"

static pid_t fake_pid = -1;

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &l) != 0)
		return -1;
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

struct mem {
	char *p;
	size_t n;
};

static size_t on_data(char *p, size_t s, size_t n, void *arg)
{
	struct mem *m = arg;
	char *q = realloc(m->p, m->n + s * n + 1);

	if (q == NULL)
		return 0;
	memcpy(q + m->n, p, s * n);
	m->p = q;
	m->n += s * n;
	m->p[m->n] = '\0';
	return s * n;
}

/* method on the fake; body may be NULL; auth adds a bearer token. Answer parsed as JSON. */
static json_t *req(const char *method, const char *path, const char *body, const char *auth)
{
	char url[512], hdr[400];
	struct mem m = {0};
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();
	json_t *j = NULL;

	snprintf(url, sizeof(url), "%s%s", getenv("T_FAKE"), path);
	if (auth != NULL) {
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", auth);
		h = curl_slist_append(h, hdr);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (curl_easy_perform(c) == CURLE_OK && m.p != NULL)
		j = json_loads(m.p, 0, NULL);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(m.p);
	return j;
}

static int run(char *const argv[])
{
	int st = -1;
	pid_t p = fork();

	if (p == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char dir[] = "/tmp/smc-gcp-test-XXXXXX", ps[16], ts[16], url[64], key[300], tok[300];
	char certs[300];
	int port = free_port(), tport = free_port();

	(void)set;
	if (mkdtemp(dir) == NULL || port < 0)
		return;
	snprintf(ps, sizeof(ps), "%d", port);
	snprintf(ts, sizeof(ts), "%d", tport);
	snprintf(certs, sizeof(certs), "%s/certs", dir);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", tport);
	setenv("T_TLS", url, 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	fake_pid = fork();
	if (fake_pid == 0) {
		FILE *f = freopen("/dev/null", "w", stdout);

		(void)f;
		setpgid(0, 0);
		execlp("python3", "python3", FAKE, "--port", ps, "--tls-port", ts, "--cert-dir",
		       certs, "--project", "test-proj", NULL);
		_exit(127);
	}
	setenv("T_FAKE", url, 1);
	setenv("T_DIR", dir, 1);
	for (int i = 0; i < 300; i++) {
		json_t *j = req("GET", "/_fake/counts", NULL, NULL);

		if (j != NULL) {
			json_decref(j);
			break;
		}
		usleep(100000);
	}
	snprintf(key, sizeof(key), "%s/ca.crt", certs);
	setenv("T_CA", key, 1);
	snprintf(key, sizeof(key), "%s/sa.json", dir);
	snprintf(tok, sizeof(tok), "%s/token", url);
	if (run((char *[]){"python3", SA, key, "--token-uri", tok, NULL}) == 0) {
		json_t *k = json_load_file(key, 0, NULL);
		char *s = json_dumps(k, 0);

		json_decref(req("POST", "/_fake/sa", s, NULL));
		free(s);
		json_decref(k);
		setenv("T_KEY", key, 1);
	}
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	if (fake_pid > 0) {
		kill(-fake_pid, SIGTERM);
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
	}
}

/* ---- per-test fixture ---- */

static struct job job;
static struct msg_credentials creds;
static const struct msg_credentials *credp;

static void setup(void)
{
	char *key;
	json_t *k;

	cr_assert_not_null(getenv("T_KEY"), "the fake did not start or the SA key was not made");
	json_decref(req("POST", "/_fake/reset", "{}", NULL));
	memset(&job, 0, sizeof(job));
	job.config.ns = "demo";
	job.config.name = "unit";
	job.provider.kind = "gcp";
	job.provider.project_id = "test-proj";
	job.provider.endpoint = getenv("T_FAKE");
	job.policy.prune = true;
	job.policy.trigger_update = true;
	job.policy.deletion = JOB_DELETION_DELETE;
	k = json_load_file(getenv("T_KEY"), 0, NULL);
	key = json_dumps(k, 0);
	json_decref(k);
	memset(&creds, 0, sizeof(creds));
	creds.provider = "gcp";
	creds.origin = "Secret demo/gcp-key";
	cr_assert_eq(secbuf_from(&creds.secret, key, strlen(key)), 0);
	free(key);
	credp = &creds;
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	unsetenv("GCE_METADATA_HOST");
	unsetenv("SSL_CERT_FILE");
}

static void teardown(void)
{
	secbuf_free(creds.secret);
	creds.secret = NULL;
}

TestSuite(gcp_provider, .init = setup, .fini = teardown, .timeout = 120);

struct items {
	struct desired d[8];
	struct secbuf *v[8];
	size_t n;
};

static void add(struct items *it, const char *name, const void *value, size_t len)
{
	cr_assert_eq(secbuf_from(&it->v[it->n], value, len), 0);
	it->d[it->n] = (struct desired){.name = name, .key = name, .value = it->v[it->n]};
	it->n++;
}

static void items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		secbuf_free(it->v[i]);
	it->n = 0;
}

/* open → sync(secrets) [→ sync(configs)] → commit → close; returns open's rc. */
static int sync2(struct items *sec, struct items *cfg, struct report *rep, struct err_ctx *err)
{
	void *st = NULL;
	int rc;

	report_init(rep);
	if ((rc = provider_gcp.open(&job, credp, &st, err)) != 0)
		return rc;
	cr_assert_eq(provider_gcp.begin(st, err), 0);
	cr_assert_eq(provider_gcp.sync(st, &job, ITEM_SECRET, sec ? sec->d : NULL, sec ? sec->n : 0,
				       rep, err),
		     0, "%s", err->msg);
	if (cfg != NULL)
		cr_assert_eq(provider_gcp.sync(st, &job, ITEM_CONFIG, cfg->d, cfg->n, rep, err), 0,
			     "%s", err->msg);
	cr_assert_eq(provider_gcp.commit(st, err), 0);
	provider_gcp.close(st);
	return 0;
}

static json_t *state_secret(json_t **st, const char *name)
{
	char k[200];

	*st = req("GET", "/_fake/state", NULL, NULL);
	cr_assert_not_null(*st);
	snprintf(k, sizeof(k), "projects/test-proj/secrets/%s", name);
	return json_object_get(json_object_get(*st, "secrets"), k);
}

static long counted(const char *op)
{
	json_t *c = req("GET", "/_fake/counts", NULL, NULL);
	long v = (long)json_integer_value(json_object_get(c, op));

	json_decref(c);
	return v;
}

static const char *outcome(struct report *r, enum item_kind k, const char *name)
{
	static const char *names[] = {"written", "unchanged", "pruned",
				      "refused", "failed",    "retained"};
	const struct result_item *it = report_find(r, k, name);

	return it ? names[it->outcome] : "(none)";
}

static const char *reason(struct report *r, enum item_kind k, const char *name)
{
	const struct result_item *it = report_find(r, k, name);

	return it && it->reason ? it->reason : "";
}

/* the newest version's value of a secret in the fake, decoded (owned secbuf) */
static struct secbuf *latest(const char *name, size_t *nversions)
{
	json_t *st, *s = state_secret(&st, name), *vs = json_object_get(s, "versions"), *v;
	struct secbuf *b = NULL;

	*nversions = json_array_size(vs);
	v = json_array_get(vs, json_array_size(vs) - 1);
	if (v != NULL) {
		const char *d = json_string_value(json_object_get(v, "value"));

		cr_assert_eq(b64_decode_secret(d, strlen(d), 1 << 20, &b), 0);
	}
	json_decref(st);
	return b;
}

Test(gcp_provider, secret_credentials_binary_values_and_token_renewal)
{
	static const uint8_t bin[] = {0, 1, 2, 0xff, 0xfe, 0, 'x'};
	struct items s = {0};
	struct report r;
	struct err_ctx err = {{0}};
	struct secbuf *got;
	size_t nv;

	add(&s, "unit-text", "hello", 5);
	add(&s, "unit-bin", bin, sizeof(bin));
	cr_assert_eq(sync2(&s, NULL, &r, &err), 0, "%s", err.msg);
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-text"), "written");
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-bin"), "written", "%s",
			 reason(&r, ITEM_SECRET, "unit-bin"));
	report_free(&r);
	cr_assert_eq(counted("token"), 1, "one JWT grant with the Secret's key");
	got = latest("unit-bin", &nv);
	cr_assert_eq(nv, 1);
	cr_assert(secbuf_eq_mem(got, bin, sizeof(bin)), "binary value stored byte for byte");
	secbuf_free(got);

	json_decref(req("POST", "/_fake/expire-tokens", "{}", NULL));
	/* a fresh provider fetches its own token: expire it mid-sync by expiring before a
	 * second sync on the same state */
	{
		void *st = NULL;

		report_init(&r);
		cr_assert_eq(provider_gcp.open(&job, credp, &st, &err), 0);
		cr_assert_eq(provider_gcp.sync(st, &job, ITEM_SECRET, s.d, s.n, &r, &err), 0);
		cr_assert_eq(counted("token"), 2);
		json_decref(req("POST", "/_fake/expire-tokens", "{}", NULL));
		report_free(&r);
		report_init(&r);
		cr_assert_eq(provider_gcp.sync(st, &job, ITEM_SECRET, s.d, s.n, &r, &err), 0, "%s",
			     err.msg);
		cr_assert_eq(report_count(&r, ITEM_SECRET, ITEM_UNCHANGED), 2,
			     "after a 401 the token is renewed and the sync goes on");
		cr_assert_eq(counted("token"), 3, "renewed exactly once");
		provider_gcp.close(st);
		report_free(&r);
	}
	items_free(&s);
}

Test(gcp_provider, refused_credentials_name_the_type)
{
	static const char ext[] = "{\"type\":\"external_account\",\"audience\":\"//iam\"}";
	struct report r;
	struct err_ctx err = {{0}};

	secbuf_free(creds.secret);
	cr_assert_eq(secbuf_from(&creds.secret, ext, strlen(ext)), 0);
	cr_assert_eq(sync2(NULL, NULL, &r, &err), ERR_UNSUPPORTED);
	cr_assert(strstr(err.msg, "external_account") != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "Secret demo/gcp-key") != NULL, "%s", err.msg);
	report_free(&r);
}

Test(gcp_provider, dry_run_writes_nothing)
{
	struct items s = {0};
	struct report r;
	struct err_ctx err = {{0}};
	json_t *st;

	add(&s, "unit-a", "a", 1);
	job.policy.dry_run = true;
	cr_assert_eq(sync2(&s, NULL, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-a"), "written");
	cr_assert(strstr(reason(&r, ITEM_SECRET, "unit-a"), "would") != NULL);
	cr_assert_null(state_secret(&st, "unit-a"));
	json_decref(st);
	cr_assert_eq(counted("secrets.create") + counted("secrets.addVersion"), 0);
	report_free(&r);
	items_free(&s);
}

Test(gcp_provider, trigger_update_off_creates_only)
{
	struct items s = {0}, s2 = {0};
	struct report r;
	struct err_ctx err = {{0}};
	struct secbuf *got;
	size_t nv;

	add(&s, "unit-a", "one", 3);
	cr_assert_eq(sync2(&s, NULL, &r, &err), 0);
	report_free(&r);
	job.policy.trigger_update = false;
	add(&s2, "unit-a", "two", 3);
	add(&s2, "unit-b", "new", 3);
	cr_assert_eq(sync2(&s2, NULL, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-a"), "unchanged");
	cr_assert(strstr(reason(&r, ITEM_SECRET, "unit-a"), "triggerUpdate") != NULL);
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-b"), "written");
	got = latest("unit-a", &nv);
	cr_assert_eq(nv, 1);
	cr_assert(secbuf_eq_mem(got, "one", 3));
	secbuf_free(got);
	report_free(&r);
	items_free(&s);
	items_free(&s2);
}

Test(gcp_provider, adopt_existing_and_other_owner)
{
	struct items s = {0};
	struct report r;
	struct err_ctx err = {{0}};
	json_t *t = req("POST", "/_fake/token", "{}", NULL), *st, *sec, *lab;
	const char *tok = json_string_value(json_object_get(t, "access_token"));
	struct secbuf *got;
	size_t nv;

	json_decref(req("POST", "/v1/projects/test-proj/secrets?secretId=unit-hand",
			"{\"labels\":{\"team\":\"x\"},\"replication\":{\"automatic\":{}}}", tok));
	json_decref(req("POST", "/v1/projects/test-proj/secrets/unit-hand:addVersion",
			"{\"payload\":{\"data\":\"aGFuZA==\"}}", tok));
	json_decref(req("POST", "/v1/projects/test-proj/secrets?secretId=unit-theirs",
			"{\"labels\":{\"managed-by\":\"secret-manager-controller\","
			"\"owner-namespace\":\"demo\",\"owner-name\":\"other\"},"
			"\"annotations\":{\"owner\":\"demo/other\"},"
			"\"replication\":{\"automatic\":{}}}",
			tok));
	json_decref(t);
	add(&s, "unit-hand", "from-git", 8);
	add(&s, "unit-theirs", "from-git", 8);
	cr_assert_eq(sync2(&s, NULL, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-hand"), "refused");
	cr_assert(strstr(reason(&r, ITEM_SECRET, "unit-hand"), "managed-by") != NULL);
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-theirs"), "refused");
	cr_assert(strstr(reason(&r, ITEM_SECRET, "unit-theirs"), "demo/other") != NULL);
	report_free(&r);
	job.policy.adopt_existing = true;
	cr_assert_eq(sync2(&s, NULL, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-hand"), "written", "%s",
			 reason(&r, ITEM_SECRET, "unit-hand"));
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-theirs"), "refused",
			 "adoption never takes another config's secret");
	sec = state_secret(&st, "unit-hand");
	lab = json_object_get(sec, "labels");
	cr_assert_str_eq(json_string_value(json_object_get(lab, "managed-by")),
			 "secret-manager-controller");
	cr_assert_str_eq(json_string_value(json_object_get(lab, "team")), "x", "labels kept");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(sec, "annotations"), "owner")),
	    "demo/unit");
	json_decref(st);
	got = latest("unit-hand", &nv);
	cr_assert_eq(nv, 2);
	cr_assert(secbuf_eq_mem(got, "from-git", 8));
	secbuf_free(got);
	report_free(&r);
	items_free(&s);
}

Test(gcp_provider, configs_in_secret_manager_do_not_prune_secrets)
{
	struct items s = {0}, c = {0};
	struct report r;
	struct err_ctx err = {{0}};
	json_t *st, *sec;

	job.configs.enabled = true;
	job.configs.store = "SecretManager"; /* case-insensitive */
	add(&s, "unit-s", "s", 1);
	add(&c, "unit-c", "c", 1);
	cr_assert_eq(sync2(&s, &c, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_CONFIG, "unit-c"), "written");
	report_free(&r);
	sec = state_secret(&st, "unit-c");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(sec, "labels"), "item-kind")),
	    "config");
	json_decref(st);
	/* secrets now empty (Delete policy): the secret goes, the config stays unreported */
	items_free(&s);
	cr_assert_eq(sync2(&s, &c, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-s"), "pruned");
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-c"), "(none)");
	cr_assert_str_eq(outcome(&r, ITEM_CONFIG, "unit-c"), "unchanged");
	cr_assert_null(state_secret(&st, "unit-s"));
	json_decref(st);
	cr_assert_not_null(state_secret(&st, "unit-c"));
	json_decref(st);
	report_free(&r);
	/* a secret and a config of one config at the same name: the config is not written */
	add(&s, "unit-same", "as-secret", 9);
	items_free(&c);
	add(&c, "unit-c", "c", 1);
	add(&c, "unit-same", "as-config", 9);
	cr_assert_eq(sync2(&s, &c, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-same"), "written");
	cr_assert_str_eq(outcome(&r, ITEM_CONFIG, "unit-same"), "failed");
	cr_assert(strstr(reason(&r, ITEM_CONFIG, "unit-same"), "same name") != NULL);
	{
		size_t nv;
		struct secbuf *got = latest("unit-same", &nv);

		cr_assert_eq(nv, 1);
		cr_assert(secbuf_eq_mem(got, "as-secret", 9));
		secbuf_free(got);
	}
	report_free(&r);
	items_free(&s);
	items_free(&c);
}

Test(gcp_provider, parameters_disable_policy_and_location)
{
	struct items c = {0}, none = {0};
	struct report r;
	struct err_ctx err = {{0}};
	json_t *st, *p, *vs, *v;
	size_t i;

	job.configs.enabled = true;
	job.configs.store = "parameterManager";
	job.provider.location = "europe-west1";
	job.policy.deletion = JOB_DELETION_DISABLE;
	add(&c, "unit-p", "x=1", 3);
	cr_assert_eq(sync2(NULL, &c, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_CONFIG, "unit-p"), "written");
	report_free(&r);
	/* a version made by hand (its own id) is the newest: put back as v2 */
	{
		json_t *t = req("POST", "/_fake/token", "{}", NULL);

		json_decref(req("POST",
				"/v1/projects/test-proj/locations/europe-west1/parameters/unit-p/"
				"versions?parameterVersionId=by-hand",
				"{\"payload\":{\"data\":\"eD0y\"}}",
				json_string_value(json_object_get(t, "access_token"))));
		json_decref(t);
	}
	cr_assert_eq(sync2(NULL, &c, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_CONFIG, "unit-p"), "written", "hand-made drift put back");
	report_free(&r);
	st = req("GET", "/_fake/state", NULL, NULL);
	vs = json_object_get(
	    json_object_get(json_object_get(st, "parameters"),
			    "projects/test-proj/locations/europe-west1/parameters/unit-p"),
	    "versions");
	cr_assert_eq(json_array_size(vs), 3);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(vs, 2), "id")), "v2");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(vs, 2), "value")),
			 "eD0x");
	json_decref(st);
	cr_assert_eq(sync2(NULL, &c, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_CONFIG, "unit-p"), "unchanged");
	report_free(&r);
	cr_assert_eq(sync2(NULL, &none, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_CONFIG, "unit-p"), "pruned");
	report_free(&r);
	st = req("GET", "/_fake/state", NULL, NULL);
	p = json_object_get(json_object_get(st, "parameters"),
			    "projects/test-proj/locations/europe-west1/parameters/unit-p");
	cr_assert_not_null(p, "the parameter lives in the job's location");
	vs = json_object_get(p, "versions");
	cr_assert_eq(json_array_size(vs), 3);
	json_array_foreach(vs, i, v) cr_assert(json_is_true(json_object_get(v, "disabled")));
	json_decref(st);
	/* back in Git: a new enabled version */
	cr_assert_eq(sync2(NULL, &c, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_CONFIG, "unit-p"), "written");
	report_free(&r);
	items_free(&c);
}

Test(gcp_provider, https_with_a_private_ca)
{
	struct items s = {0};
	struct report r;
	struct err_ctx err = {{0}};
	struct secbuf *got;
	size_t nv;

	add(&s, "unit-tls", "over-tls", 8);
	job.provider.endpoint = getenv("T_TLS");
	/* without the CA the certificate is refused: the whole sync fails (secrets.list) */
	report_init(&r);
	{
		void *st = NULL;

		cr_assert_eq(provider_gcp.open(&job, credp, &st, &err), 0);
		cr_assert_neq(provider_gcp.sync(st, &job, ITEM_SECRET, s.d, s.n, &r, &err), 0);
		provider_gcp.close(st);
	}
	report_free(&r);
	setenv("SSL_CERT_FILE", getenv("T_CA"), 1);
	cr_assert_eq(sync2(&s, NULL, &r, &err), 0);
	cr_assert_str_eq(outcome(&r, ITEM_SECRET, "unit-tls"), "written", "%s",
			 reason(&r, ITEM_SECRET, "unit-tls"));
	got = latest("unit-tls", &nv);
	cr_assert_eq(nv, 1);
	cr_assert(secbuf_eq_mem(got, "over-tls", 8));
	secbuf_free(got);
	report_free(&r);
	items_free(&s);
}

Test(gcp_provider, refused_project_names_action_and_resource)
{
	struct items s = {0};
	struct report r;
	struct err_ctx err = {{0}};
	void *st = NULL;

	add(&s, "unit-a", "secret-value-x", 14);
	job.provider.project_id = "other-proj"; /* the fake answers 403 for it */
	report_init(&r);
	cr_assert_eq(provider_gcp.open(&job, credp, &st, &err), 0);
	cr_assert_neq(provider_gcp.sync(st, &job, ITEM_SECRET, s.d, s.n, &r, &err), 0);
	cr_assert(
	    strstr(err.msg, "PERMISSION_DENIED on secrets.list for projects/other-proj/secrets") !=
		NULL,
	    "%s", err.msg);
	cr_assert(strstr(err.msg, "secret-value-x") == NULL);
	provider_gcp.close(st);
	report_free(&r);
	items_free(&s);
}
