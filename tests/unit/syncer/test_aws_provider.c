/* test_aws_provider.c — provider_aws driven through open/begin/sync/commit against a real
 * moto server in strict SigV4 mode (INITIAL_NO_AUTH_ACTION_COUNT: only the IAM set-up and
 * the unsigned STS AssumeRoleWithWebIdentity get a free pass; every other request's
 * signature, session token and IAM policy is checked by moto). Credentials come from STS
 * web identity with a token file the test writes. A counting / fault-injecting proxy
 * (tests/aws/throttle_proxy.py) sits between the provider and moto; what moto holds is
 * read back with boto3 (tests/aws/check.py). Skipped only when moto is not installed. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/secbuf.h"
#include "syncer/provider.h"
#include "syncer/providers/aws/aws_client.h"
#include "syncer/providers/aws/aws_retry.h"
#include "syncer/providers/aws/aws_secrets.h"
#include "syncer/providers/aws/provider_aws.h"

#define CHECK SMC_SOURCE_DIR "/tests/aws/check.py"
#define PROXY SMC_SOURCE_DIR "/tests/aws/throttle_proxy.py"
#define OUT_MAX 8192

static pid_t moto_pid = -1, proxy_pid = -1;

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

static int port_open(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM, 0), ok;

	ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(s);
	return ok;
}

static pid_t spawn(char *const argv[], const char *logfile)
{
	pid_t p = fork();

	if (p == 0) {
		FILE *f = fopen(logfile, "w");

		if (f != NULL) {
			dup2(fileno(f), 1);
			dup2(fileno(f), 2);
		}
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	return p;
}

/* Runs argv, its stdout into out (may be NULL); returns the exit status. */
static int run(char *out, size_t cap, char *const argv[])
{
	int pfd[2], st = -1;
	size_t n = 0;
	ssize_t r;
	pid_t p;

	if (pipe(pfd) != 0)
		return -1;
	p = fork();
	if (p == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((r = read(pfd[0], out ? out + n : (char[256]){0}, out ? cap - 1 - n : 256)) > 0)
		if (out)
			n += (size_t)r;
	close(pfd[0]);
	if (out)
		out[n] = '\0';
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int http_post(const char *url, const char *body)
{
	CURL *c = curl_easy_init();
	long code = 0;
	FILE *devnull = fopen("/dev/null", "w");

	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/plain");

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	fclose(devnull);
	return (int)code;
}

static json_t *http_get_json(const char *url)
{
	char path[256];
	FILE *f;
	CURL *c = curl_easy_init();
	json_t *j;

	snprintf(path, sizeof(path), "%s/counts.json", getenv("T_DIR"));
	f = fopen(path, "w");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_perform(c);
	curl_easy_cleanup(c);
	fclose(f);
	j = json_load_file(path, 0, NULL);
	return j;
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char dir[] = "/tmp/smc-aws-test-XXXXXX", log[300], mp[16], pp[16], up[64];
	int mport, pport;

	(void)set;
	if (run(NULL, 0, (char *[]){"python3", "-c", "import moto.server, boto3", NULL}) != 0) {
		setenv("T_NO_MOTO", "1", 1);
		return;
	}
	if (mkdtemp(dir) == NULL)
		return;
	mport = free_port();
	pport = free_port();
	snprintf(mp, sizeof(mp), "%d", mport);
	snprintf(pp, sizeof(pp), "%d", pport);
	snprintf(up, sizeof(up), "http://127.0.0.1:%d", mport);
	setenv("INITIAL_NO_AUTH_ACTION_COUNT", "5", 1);
	snprintf(log, sizeof(log), "%s/moto.log", dir);
	moto_pid = spawn((char *[]){"python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", mp, NULL},
			 log);
	unsetenv("INITIAL_NO_AUTH_ACTION_COUNT");
	snprintf(log, sizeof(log), "%s/proxy.log", dir);
	proxy_pid = spawn((char *[]){"python3", PROXY, pp, up, NULL}, log);
	for (int i = 0; i < 300 && !(port_open(mport) && port_open(pport)); i++)
		usleep(100000);
	setenv("T_DIR", dir, 1);
	setenv("T_MOTO", up, 1);
	snprintf(up, sizeof(up), "http://127.0.0.1:%d", pport);
	setenv("T_PROXY", up, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	if (proxy_pid > 0)
		kill(-proxy_pid, SIGTERM);
	if (moto_pid > 0)
		kill(-moto_pid, SIGTERM);
	if (proxy_pid > 0)
		waitpid(proxy_pid, NULL, 0);
	if (moto_pid > 0)
		waitpid(moto_pid, NULL, 0);
}

/* ---- per-test helpers ---- */

static char credfile[300];
static FILE *helper_in, *helper_out; /* check.py repl of this test process */

static void helper_start(void)
{
	int in[2], out[2];
	pid_t p;

	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	p = fork();
	cr_assert_geq(p, 0);
	if (p == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execlp("python3", "python3", CHECK, getenv("T_MOTO"), credfile, "repl", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	helper_in = fdopen(in[1], "w");
	helper_out = fdopen(out[0], "r");
	cr_assert(helper_in && helper_out);
}

/* One check.py command through the helper; its output into out (may be NULL). */
static int check(char *out, const char *cmd, const char *a1, const char *a2)
{
	char *line = NULL;
	size_t cap = 0;
	json_t *j;
	int rc;

	fprintf(helper_in, "%s%s%s%s%s\n", cmd, a1 ? "\t" : "", a1 ? a1 : "", a2 ? "\t" : "",
		a2 ? a2 : "");
	fflush(helper_in);
	cr_assert_gt(getline(&line, &cap, helper_out), 0, "check.py helper died");
	j = json_loads(line, 0, NULL);
	free(line);
	cr_assert_not_null(j);
	rc = (int)json_integer_value(json_object_get(j, "rc"));
	if (out != NULL)
		snprintf(out, OUT_MAX, "%s", json_string_value(json_object_get(j, "out")));
	json_decref(j);
	return rc;
}

static void url(char *dst, size_t n, const char *base, const char *path)
{
	snprintf(dst, n, "%s%s", getenv(base), path);
}

static void setup(void)
{
	char u[256], tok[300];
	FILE *f;

	if (getenv("T_NO_MOTO") != NULL)
		cr_skip_test("moto is not installed");
	cr_assert_not_null(getenv("T_MOTO"), "moto did not start");
	url(u, sizeof(u), "T_MOTO", "/moto-api/reset");
	cr_assert_eq(http_post(u, NULL), 200);
	url(u, sizeof(u), "T_MOTO", "/moto-api/reset-auth");
	cr_assert_eq(http_post(u, "5"), 200);
	url(u, sizeof(u), "T_PROXY", "/_proxy/reset");
	cr_assert_eq(http_post(u, NULL), 200);
	snprintf(credfile, sizeof(credfile), "%s/checker.json", getenv("T_DIR"));
	helper_start();
	cr_assert_eq(check(NULL, "setup", NULL, NULL), 0, "IAM setup failed");
	snprintf(tok, sizeof(tok), "%s/token.jwt", getenv("T_DIR"));
	f = fopen(tok, "w");
	cr_assert_not_null(f);
	fputs("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c21jIn0.c2ln\n", f);
	fclose(f);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/smc-role", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_ENDPOINT_URL");
}


static json_t *describe(const char *name, const char *cmd)
{
	char out[OUT_MAX];
	json_t *j;

	cr_assert_eq(check(out, cmd, name, NULL), 0, "%s %s failed", cmd, name);
	j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "bad describe output");
	return j;
}

static long counts(const char *action)
{
	char u[256];
	json_t *j;
	long n;

	url(u, sizeof(u), "T_PROXY", "/_proxy/counts");
	j = http_get_json(u);
	cr_assert_not_null(j);
	if (action == NULL) { /* every request but STS */
		const char *k;
		json_t *v;

		n = 0;
		json_object_foreach(j, k, v) {
			if (strncmp(k, "sts.", 4) != 0 && k[0] != '_')
				n += (long)json_integer_value(v);
		}
	} else {
		n = (long)json_integer_value(json_object_get(j, action));
	}
	json_decref(j);
	return n;
}

static void proxy_reset(void)
{
	char u[256];

	url(u, sizeof(u), "T_PROXY", "/_proxy/reset");
	cr_assert_eq(http_post(u, NULL), 200);
}

static void faults(const char *spec)
{
	char u[256];

	url(u, sizeof(u), "T_PROXY", "/_proxy/faults");
	cr_assert_eq(http_post(u, spec), 200);
}

static struct job make_job(void)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.id = 1;
	j.config.ns = "team";
	j.config.name = "app";
	j.provider.kind = "aws";
	j.provider.region = "us-east-1";
	j.provider.endpoint = getenv("T_PROXY");
	j.naming.prefix = "app";
	j.mode.environment = "dev";
	j.policy.prune = true;
	j.policy.deletion = JOB_DELETION_DELETE;
	j.policy.trigger_update = true;
	return j;
}

struct items {
	struct desired d[16];
	struct secbuf *v[16];
	size_t n;
};

static void add(struct items *it, const char *name, const char *value)
{
	cr_assert_eq(secbuf_from(&it->v[it->n], value, strlen(value)), 0);
	it->d[it->n] = (struct desired){.name = name, .key = name, .value = it->v[it->n]};
	it->n++;
}

static void items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		secbuf_free(it->v[i]);
	it->n = 0;
}

/* One job run: open → begin → sync(kind) → commit → close. With web identity moto gets
 * exactly one free (unsigned) call, for the STS exchange; otherwise none. */
static int sync_run(const struct job *job, enum item_kind kind, const struct items *it,
		    struct report *rep)
{
	const char *free_calls = getenv("AWS_WEB_IDENTITY_TOKEN_FILE") ? "1" : "0";
	struct err_ctx err = {{0}};
	void *st = NULL;
	char u[256];
	int rc;

	url(u, sizeof(u), "T_MOTO", "/moto-api/reset-auth");
	cr_assert_eq(http_post(u, free_calls), 200);
	report_init(rep);
	cr_assert_eq(provider_aws.open(job, NULL, &st, &err), 0, "open: %s", err.msg);
	cr_assert_eq(provider_aws.begin(st, &err), 0);
	rc = provider_aws.sync(st, job, kind, it->d, it->n, rep, &err);
	if (rc == 0)
		rc = provider_aws.commit(st, &err);
	else
		provider_aws.rollback(st);
	provider_aws.close(st);
	if (rc != 0)
		cr_log_info("sync: %s", err.msg);
	return rc;
}

static const struct result_item *outcome(const struct report *rep, const char *name)
{
	for (size_t i = 0; i < rep->n; i++) {
		if (strcmp(rep->items[i].name, name) == 0)
			return &rep->items[i];
	}
	cr_assert_fail("no report item for %s", name);
	return NULL;
}

static void expect_outcome(const struct report *rep, const char *name, enum item_outcome o)
{
	const struct result_item *r = outcome(rep, name);

	cr_expect_eq(r->outcome, (uint32_t)o, "%s: outcome %u (%s), wanted %d", name, r->outcome,
		     r->reason ? r->reason : "", (int)o);
}

static long versions(const char *name)
{
	json_t *j = describe(name, "describe");
	long v = (long)json_integer_value(json_object_get(j, "versions"));

	json_decref(j);
	return v;
}

static void d_json_absent(const char *param)
{
	json_t *d = describe(param, "ssm-describe");

	cr_expect(json_is_false(json_object_get(d, "exists")), "%s was written", param);
	json_decref(d);
}

/* ---- tests ---- */

TestSuite(aws, .init = setup, .timeout = 240);

Test(aws, create_with_tags_then_noop)
{
	struct job job = make_job();
	struct items it = {0};
	struct report rep;

	add(&it, "app-db-password", "s3cr3t-one");
	add(&it, "app-api-key", "s3cr3t-two");
	add(&it, "app/nested.key@x", "{\"json\": true}");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	cr_assert_eq(rep.n, 3);
	for (size_t i = 0; i < it.n; i++) {
		json_t *d = describe(it.d[i].name, "describe"), *tags = json_object_get(d, "tags");

		expect_outcome(&rep, it.d[i].name, ITEM_WRITTEN);
		cr_expect(json_is_true(json_object_get(d, "exists")));
		cr_expect_str_eq(json_string_value(json_object_get(tags, "managed-by")),
				 "secret-manager-controller");
		cr_expect_str_eq(json_string_value(json_object_get(tags, "owner")), "team/app");
		cr_expect_eq(json_integer_value(json_object_get(d, "versions")), 1);
		cr_expect_eq(check(NULL, "value-is", it.d[i].name, (const char *)it.v[i]->data), 0,
			     "%s holds the wrong value", it.d[i].name);
		json_decref(d);
	}
	report_free(&rep);

	/* second sync: nothing written, two reads at most (ListSecrets + one BatchGet) */
	proxy_reset();
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	for (size_t i = 0; i < it.n; i++)
		expect_outcome(&rep, it.d[i].name, ITEM_UNCHANGED);
	cr_expect_eq(counts("secretsmanager.PutSecretValue"), 0);
	cr_expect_eq(counts("secretsmanager.CreateSecret"), 0);
	cr_expect_eq(counts("secretsmanager.ListSecrets"), 1);
	cr_expect_eq(counts("secretsmanager.BatchGetSecretValue"), 1);
	cr_expect_leq(counts(NULL), 2, "a no-op reconcile made %ld requests", counts(NULL));
	cr_expect_eq(counts("sts.AssumeRoleWithWebIdentity"), 1);
	for (size_t i = 0; i < it.n; i++)
		cr_expect_eq(versions(it.d[i].name), 1);
	report_free(&rep);
	items_free(&it);
}

Test(aws, changed_value_makes_exactly_one_version)
{
	struct job job = make_job();
	struct items it = {0}, it2 = {0};
	struct report rep;

	add(&it, "app-a", "one");
	add(&it, "app-b", "two");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	report_free(&rep);
	add(&it2, "app-a", "one-changed");
	add(&it2, "app-b", "two");
	proxy_reset();
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it2, &rep), 0);
	expect_outcome(&rep, "app-a", ITEM_WRITTEN);
	expect_outcome(&rep, "app-b", ITEM_UNCHANGED);
	cr_expect_eq(counts("secretsmanager.PutSecretValue"), 1);
	cr_expect_eq(versions("app-a"), 2);
	cr_expect_eq(versions("app-b"), 1);
	cr_expect_eq(check(NULL, "value-is", "app-a", "one-changed"), 0);
	report_free(&rep);
	/* back to the first value: written again (A -> B -> A is a real change) */
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	expect_outcome(&rep, "app-a", ITEM_WRITTEN);
	cr_expect_eq(check(NULL, "value-is", "app-a", "one"), 0);
	report_free(&rep);
	items_free(&it);
	items_free(&it2);
}

Test(aws, drift_by_hand_is_put_back)
{
	struct job job = make_job();
	struct items it = {0};
	struct report rep;

	add(&it, "app-drift", "from-git");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	report_free(&rep);
	cr_assert_eq(check(NULL, "put", "app-drift", "changed-by-hand"), 0);
	cr_assert_eq(check(NULL, "value-is", "app-drift", "changed-by-hand"), 0);
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	expect_outcome(&rep, "app-drift", ITEM_WRITTEN);
	cr_expect_eq(check(NULL, "value-is", "app-drift", "from-git"), 0);
	cr_expect_eq(versions("app-drift"), 3);
	report_free(&rep);
	items_free(&it);
}

Test(aws, decoy_without_tags_is_refused_and_untouched)
{
	struct job job = make_job();
	struct items it = {0};
	struct report rep;
	json_t *d;

	cr_assert_eq(check(NULL, "decoy", "app-decoy", "not-ours"), 0);
	add(&it, "app-decoy", "from-git");
	add(&it, "app-fine", "fine");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	expect_outcome(&rep, "app-decoy", ITEM_REFUSED);
	cr_expect_not_null(strstr(outcome(&rep, "app-decoy")->reason, "managed-by"));
	expect_outcome(&rep, "app-fine", ITEM_WRITTEN); /* the refusal hides nothing else */
	cr_expect_eq(check(NULL, "value-is", "app-decoy", "not-ours"), 0);
	d = describe("app-decoy", "describe");
	cr_expect_eq(json_object_size(json_object_get(d, "tags")), 0);
	cr_expect_eq(json_integer_value(json_object_get(d, "versions")), 1);
	json_decref(d);
	report_free(&rep);

	/* adoptExisting: tagged, then given Git's value */
	job.policy.adopt_existing = true;
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	expect_outcome(&rep, "app-decoy", ITEM_WRITTEN);
	cr_expect_eq(check(NULL, "value-is", "app-decoy", "from-git"), 0);
	d = describe("app-decoy", "describe");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(d, "tags"), "owner")),
			 "team/app");
	json_decref(d);
	report_free(&rep);
	items_free(&it);
}

Test(aws, removed_key_is_scheduled_for_deletion_then_restored)
{
	struct job job = make_job();
	struct items it = {0}, keep = {0};
	struct report rep;
	json_t *d;
	double when;

	add(&it, "app-stay", "x");
	add(&it, "app-gone", "y");
	add(&keep, "app-stay", "x");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	report_free(&rep);

	job.policy.deletion = JOB_DELETION_RETAIN;
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &keep, &rep), 0);
	expect_outcome(&rep, "app-gone", ITEM_RETAINED);
	d = describe("app-gone", "describe");
	cr_expect(json_is_false(json_object_get(d, "deleted")));
	json_decref(d);
	report_free(&rep);

	job.policy.deletion = JOB_DELETION_DELETE;
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &keep, &rep), 0);
	expect_outcome(&rep, "app-gone", ITEM_PRUNED);
	expect_outcome(&rep, "app-stay", ITEM_UNCHANGED);
	d = describe("app-gone", "describe");
	cr_expect(json_is_true(json_object_get(d, "deleted")));
	when = json_number_value(json_object_get(d, "deletion_days"));
	cr_expect(when > (double)time(NULL) + 6.9 * 86400 && when < (double)time(NULL) + 7.1 * 86400,
		  "deletion date is not 7 days out");
	json_decref(d);
	report_free(&rep);

	/* Git has it again: restored, not recreated */
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	expect_outcome(&rep, "app-gone", ITEM_UNCHANGED);
	d = describe("app-gone", "describe");
	cr_expect(json_is_false(json_object_get(d, "deleted")));
	cr_expect_eq(json_integer_value(json_object_get(d, "versions")), 1);
	json_decref(d);
	report_free(&rep);
	items_free(&it);
	items_free(&keep);
}

Test(aws, throttling_and_lost_answers_converge_without_duplicates)
{
	struct job job = make_job();
	struct items it = {0}, it2 = {0};
	struct report rep;
	static const char *names[] = {"app-t1", "app-t2", "app-t3", "app-t4", "app-t5"};

	for (size_t i = 0; i < 5; i++)
		add(&it, names[i], "v1");
	faults("{\"every\": 2, \"mode\": \"throttle\"}");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	for (size_t i = 0; i < 5; i++)
		expect_outcome(&rep, names[i], ITEM_WRITTEN);
	cr_expect_gt(counts("_injected"), 0);
	report_free(&rep);

	/* writes that reach moto but whose answers are lost (503 after forwarding) */
	proxy_reset();
	faults("{\"every\": 2, \"mode\": \"503-after\", \"actions\": [\"PutSecretValue\"]}");
	for (size_t i = 0; i < 5; i++)
		add(&it2, names[i], "v2");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it2, &rep), 0);
	cr_expect_gt(counts("_injected"), 0);
	cr_expect_gt(counts("secretsmanager.PutSecretValue"), 5, "no write was retried");
	for (size_t i = 0; i < 5; i++) {
		expect_outcome(&rep, names[i], ITEM_WRITTEN);
		cr_expect_eq(versions(names[i]), 2, "%s has a duplicate version", names[i]);
		cr_expect_eq(check(NULL, "value-is", names[i], "v2"), 0);
	}
	report_free(&rep);

	/* 503 before forwarding on reads too: still converges to no change */
	proxy_reset();
	faults("{\"every\": 2, \"mode\": \"503\"}");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it2, &rep), 0);
	for (size_t i = 0; i < 5; i++)
		expect_outcome(&rep, names[i], ITEM_UNCHANGED);
	report_free(&rep);
	items_free(&it);
	items_free(&it2);
}

Test(aws, dry_run_writes_nothing)
{
	struct job job = make_job();
	struct items it = {0};
	struct report rep;
	json_t *d;

	job.policy.dry_run = true;
	add(&it, "app-dry", "x");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	expect_outcome(&rep, "app-dry", ITEM_WRITTEN);
	cr_expect_eq(counts("secretsmanager.CreateSecret"), 0);
	d = describe("app-dry", "describe");
	cr_expect(json_is_false(json_object_get(d, "exists")));
	json_decref(d);
	report_free(&rep);
	items_free(&it);
}

Test(aws, parameter_store_configs)
{
	struct job job = make_job();
	struct items it = {0}, it2 = {0};
	struct report rep;
	json_t *d;

	job.configs.enabled = true;
	add(&it, "LOG_LEVEL", "debug");
	add(&it, "feature.flag", "on");
	cr_assert_eq(sync_run(&job, ITEM_CONFIG, &it, &rep), 0);
	expect_outcome(&rep, "/app/dev/LOG_LEVEL", ITEM_WRITTEN);
	expect_outcome(&rep, "/app/dev/feature.flag", ITEM_WRITTEN);
	d = describe("/app/dev/LOG_LEVEL", "ssm-describe");
	cr_expect(json_is_true(json_object_get(d, "exists")));
	cr_expect_str_eq(json_string_value(json_object_get(d, "type")), "String");
	cr_expect_eq(json_integer_value(json_object_get(d, "version")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(d, "tags"), "owner")),
			 "team/app");
	json_decref(d);
	cr_expect_eq(check(NULL, "ssm-value-is", "/app/dev/LOG_LEVEL", "debug"), 0);
	report_free(&rep);

	proxy_reset();
	cr_assert_eq(sync_run(&job, ITEM_CONFIG, &it, &rep), 0);
	expect_outcome(&rep, "/app/dev/LOG_LEVEL", ITEM_UNCHANGED);
	expect_outcome(&rep, "/app/dev/feature.flag", ITEM_UNCHANGED);
	cr_expect_eq(counts("AmazonSSM.PutParameter"), 0);
	report_free(&rep);

	/* changed + removed (Delete) + drift by hand */
	cr_assert_eq(check(NULL, "ssm-put", "/app/dev/LOG_LEVEL", "hand"), 0);
	add(&it2, "LOG_LEVEL", "debug");
	cr_assert_eq(sync_run(&job, ITEM_CONFIG, &it2, &rep), 0);
	expect_outcome(&rep, "/app/dev/LOG_LEVEL", ITEM_WRITTEN);
	expect_outcome(&rep, "/app/dev/feature.flag", ITEM_PRUNED);
	cr_expect_eq(check(NULL, "ssm-value-is", "/app/dev/LOG_LEVEL", "debug"), 0);
	d = describe("/app/dev/feature.flag", "ssm-describe");
	cr_expect(json_is_false(json_object_get(d, "exists")));
	json_decref(d);
	report_free(&rep);
	items_free(&it);
	items_free(&it2);
}

/* Raw mode without a job prefix: each service is its own prefix, so the default path is
 * /{service}/{env}; one explicit parameterPath for two services with the same key makes
 * both items fail (never a silent overwrite), the others still written. */
Test(aws, parameter_paths_per_service_and_collisions)
{
	struct job job = make_job();
	struct items it = {0};
	struct report rep;
	const struct result_item *r;

	job.configs.enabled = true;
	job.naming.prefix = NULL;
	add(&it, "server.port", "8080");
	add(&it, "server.port", "9090");
	add(&it, "only.orders", "x");
	it.d[0].prefix = "orders";
	it.d[1].prefix = "payments";
	it.d[2].prefix = "orders";
	cr_assert_eq(sync_run(&job, ITEM_CONFIG, &it, &rep), 0);
	expect_outcome(&rep, "/orders/dev/server.port", ITEM_WRITTEN);
	expect_outcome(&rep, "/payments/dev/server.port", ITEM_WRITTEN);
	expect_outcome(&rep, "/orders/dev/only.orders", ITEM_WRITTEN);
	cr_expect_eq(check(NULL, "ssm-value-is", "/orders/dev/server.port", "8080"), 0);
	cr_expect_eq(check(NULL, "ssm-value-is", "/payments/dev/server.port", "9090"), 0);
	report_free(&rep);

	/* no-op: one DescribeParameters + one GetParametersByPath per service */
	proxy_reset();
	cr_assert_eq(sync_run(&job, ITEM_CONFIG, &it, &rep), 0);
	expect_outcome(&rep, "/orders/dev/server.port", ITEM_UNCHANGED);
	cr_expect_eq(counts("AmazonSSM.DescribeParameters"), 1);
	cr_expect_eq(counts("AmazonSSM.GetParametersByPath"), 2);
	cr_expect_eq(counts("AmazonSSM.PutParameter"), 0);
	report_free(&rep);

	job.configs.parameter_path = "/shared/dev";
	cr_assert_eq(sync_run(&job, ITEM_CONFIG, &it, &rep), 0);
	cr_expect_eq(counts("AmazonSSM.PutParameter"), 1, "only the non-colliding key is written");
	for (size_t i = 0; i < rep.n; i++) {
		r = &rep.items[i];
		if (strcmp(r->name, "/shared/dev/server.port") == 0) {
			cr_expect_eq(r->outcome, ITEM_FAILED);
			cr_expect_not_null(strstr(r->reason, "two config keys"), "reason: %s", r->reason);
		}
	}
	expect_outcome(&rep, "/shared/dev/only.orders", ITEM_WRITTEN);
	r = outcome(&rep, "/shared/dev/server.port");
	cr_expect_eq(r->outcome, ITEM_FAILED);
	d_json_absent("/shared/dev/server.port");
	report_free(&rep);
	items_free(&it);
}

Test(aws, bad_token_file_fails_the_store_not_silently)
{
	struct job job = make_job();
	struct items it = {0};
	struct report rep;

	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
	add(&it, "app-x", "x");
	cr_expect_neq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	report_free(&rep);
	items_free(&it);
}

/* AccessDenied on one action: that item fails with a reason naming the action and the
 * secret; the others are still written. */
Test(aws, access_denied_is_per_item)
{
	struct job job = make_job();
	struct items it = {0}, it2 = {0};
	struct report rep;
	const struct result_item *r;

	add(&it, "app-old", "v1");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	report_free(&rep);
	cr_assert_eq(check(NULL, "deny", "secretsmanager:CreateSecret", NULL), 0);
	add(&it2, "app-old", "v2");
	add(&it2, "app-new", "n1");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it2, &rep), 0);
	expect_outcome(&rep, "app-old", ITEM_WRITTEN);
	r = outcome(&rep, "app-new");
	cr_expect_eq(r->outcome, ITEM_FAILED);
	cr_expect_not_null(strstr(r->reason, "CreateSecret"), "reason: %s", r->reason);
	cr_expect_not_null(strstr(r->reason, "app-new"), "reason: %s", r->reason);
	cr_expect_null(strstr(r->reason, "n1"));
	cr_expect_eq(check(NULL, "value-is", "app-old", "v2"), 0);
	report_free(&rep);
	items_free(&it);
	items_free(&it2);
}

/* Static keys from the environment (the last link of the chain). */
Test(aws, static_keys_from_environment)
{
	struct job job = make_job();
	struct items it = {0};
	struct report rep;
	json_t *c = json_load_file(credfile, 0, NULL);

	cr_assert_not_null(c);
	unsetenv("AWS_ROLE_ARN");
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	setenv("AWS_ACCESS_KEY_ID", json_string_value(json_object_get(c, "AccessKeyId")), 1);
	setenv("AWS_SECRET_ACCESS_KEY", json_string_value(json_object_get(c, "SecretAccessKey")), 1);
	add(&it, "app-envkeys", "x");
	cr_assert_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	expect_outcome(&rep, "app-envkeys", ITEM_WRITTEN);
	cr_expect_eq(counts("sts.AssumeRoleWithWebIdentity"), 0);
	report_free(&rep);
	/* a wrong secret key is refused by moto's signature check (the store is unusable) */
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	cr_expect_eq(sync_run(&job, ITEM_SECRET, &it, &rep), ERR_PERM);
	report_free(&rep);
	json_decref(c);
	items_free(&it);
}

/* EKS Pod Identity: credentials from a local endpoint that wants the token file's content
 * in Authorization. */
Test(aws, pod_identity_endpoint)
{
	struct job job = make_job();
	struct items it = {0};
	struct report rep;
	char tok[300], port[16], u[64], line[300];
	int p = free_port();
	pid_t pid;
	FILE *f;

	snprintf(tok, sizeof(tok), "%s/pod-token", getenv("T_DIR"));
	f = fopen(tok, "w");
	cr_assert_not_null(f);
	fputs("pod-identity-token-123\n", f);
	fclose(f);
	snprintf(port, sizeof(port), "%d", p);
	snprintf(line, sizeof(line), "%s/pod.log", getenv("T_DIR"));
	pid = spawn((char *[]){"python3", CHECK, getenv("T_MOTO"), credfile, "pod-serve", port, tok,
			       NULL},
		    line);
	for (int i = 0; i < 200 && !port_open(p); i++)
		usleep(50000);
	cr_assert(port_open(p), "pod identity server did not start");
	unsetenv("AWS_ROLE_ARN");
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/v1/credentials", p);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", u, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tok, 1);
	add(&it, "app-pod", "x");
	cr_expect_eq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	if (rep.n > 0)
		expect_outcome(&rep, "app-pod", ITEM_WRITTEN);
	report_free(&rep);
	/* a wrong token is refused by the endpoint */
	f = fopen(tok, "w");
	fputs("wrong\n", f);
	fclose(f);
	cr_expect_neq(sync_run(&job, ITEM_SECRET, &it, &rep), 0);
	report_free(&rep);
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	items_free(&it);
}

/* ---- pure parts, no moto needed ---- */

Test(aws_unit, request_token_is_stable_and_value_dependent)
{
	struct secbuf *a, *b;
	char t1[37], t2[37], t3[37], t4[37];

	cr_assert_eq(secbuf_from(&a, "value-a", 7), 0);
	cr_assert_eq(secbuf_from(&b, "value-b", 7), 0);
	cr_assert_eq(aws_secrets_request_token("n", "v1", a, t1), 0);
	cr_assert_eq(aws_secrets_request_token("n", "v1", a, t2), 0);
	cr_assert_eq(aws_secrets_request_token("n", "v1", b, t3), 0);
	cr_assert_eq(aws_secrets_request_token("n", "v2", a, t4), 0);
	cr_expect_str_eq(t1, t2);
	cr_expect_str_neq(t1, t3);
	cr_expect_str_neq(t1, t4);
	cr_expect_eq(strlen(t1), 36);
	cr_expect_null(strstr(t1, "value"));
	secbuf_free(a);
	secbuf_free(b);
}

Test(aws_unit, retry_policy)
{
	struct aws_retry r;

	aws_retry_init(&r, 42);
	cr_expect(aws_retry_should(0, 400, "ThrottlingException"));
	cr_expect(aws_retry_should(0, 503, ""));
	cr_expect(aws_retry_should(-4, 0, ""));
	cr_expect_not(aws_retry_should(0, 400, "ResourceExistsException"));
	cr_expect_not(aws_retry_should(0, 403, "AccessDeniedException"));
	for (unsigned a = 1; a < 10; a++) {
		long w = aws_retry_backoff_ms(&r, a, -1);

		cr_expect(w >= 0 && w <= AWS_RETRY_CAP_MS);
	}
	cr_expect_geq(aws_retry_backoff_ms(&r, 1, 2), 2000, "Retry-After honoured");
	/* PutParameter: 3/s; the 4th immediate take must wait */
	for (int i = 0; i < 3; i++)
		cr_expect_eq(aws_retry_take(&r, "AmazonSSM.PutParameter", 100.0), 0);
	cr_expect_gt(aws_retry_take(&r, "AmazonSSM.PutParameter", 100.0), 0);
	cr_expect_eq(aws_retry_take(&r, "AmazonSSM.PutParameter", 101.0), 0);
}

Test(aws_unit, secret_names)
{
	cr_expect(aws_secrets_valid_name("app/db-password_1+=.@"));
	cr_expect_not(aws_secrets_valid_name("has space"));
	cr_expect_not(aws_secrets_valid_name(""));
}
