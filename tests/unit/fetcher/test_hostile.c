/* test_hostile.c — the driver of the hostile corpora (ctest label `hostile` runs it
 * through tests/hostile/test_artifacts.sh and test_git.sh, which generate the cases and
 * start the servers; as a plain unit test, without those, both suites skip).
 *
 * Each case runs in its own child process under RLIMIT_DATA = 128 MiB and must be
 * refused with the expected code and a message matching the expected regex, within
 * 5 s (wall clock in the child; the parent kills it at 6 s) and with a peak RSS under
 * 128 MiB. One table line per case is printed; the test fails on any miss.
 *
 *  SMC_HOSTILE_ARTIFACTS=cases.tsv SMC_HOSTILE_URL=http://127.0.0.1:PORT
 *      lines: name, url-path, digest, subpath, code, regex (tests/hostile/gen_artifacts.py)
 *  SMC_HOSTILE_GIT=cases.tsv SMC_HOSTILE_SCRATCH=DIR
 *      lines: name, url, revision, subpath, code, regex (tests/hostile/gen_git.sh) */
#include <criterion/criterion.h>

#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "fetcher/artifact.h"
#include "fetcher/source_git.h"
#include "proto/tree.h"

#define HOSTILE_MEM ((rlim_t)128 << 20)
#ifdef SMC_SANITIZE
/* ASan reserves its shadow and allocator regions as private writable mappings, which
 * RLIMIT_DATA counts, and its quarantine and shadow inflate the RSS: in sanitizer builds
 * the children run without the memory cap and the peak-RSS check (the plain build
 * enforces both; this one checks memory safety on the same cases). */
#define HOSTILE_CHECK_MEM 0
#else
#define HOSTILE_CHECK_MEM 1
#endif
#define HOSTILE_SECONDS 5.0
#define HOSTILE_KILL_MS 6000
#define HOSTILE_FIELDS 6
#define HOSTILE_LINE 8192

struct result {
	int rc;
	double seconds;
	long maxrss_kib;
	char msg[512];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct {
	const char *name;
	int code;
} codes[] = {{"INVAL", ERR_INVAL},
	     {"TOOBIG", ERR_TOOBIG},
	     {"IO", ERR_IO},
	     {"NOTFOUND", ERR_NOTFOUND},
	     {"CRYPTO", ERR_CRYPTO},
	     {"PERM", ERR_PERM},
	     {"CONFLICT", ERR_CONFLICT},
	     {"UNSUPPORTED", ERR_UNSUPPORTED},
	     {"TIMEOUT", ERR_TIMEOUT},
	     {"REMOTE", ERR_REMOTE},
	     {"NOMEM", ERR_NOMEM}};

static const char *code_name(int rc)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == rc)
			return codes[i].name;
	return rc == 0 ? "OK" : "?";
}

/* "A|B" matches when the name of rc is one of the alternatives. */
static int code_ok(const char *want, int rc)
{
	const char *n = code_name(rc), *p = want;
	size_t len = strlen(n);

	while (*p != '\0') {
		const char *bar = strchr(p, '|');
		size_t l = bar != NULL ? (size_t)(bar - p) : strlen(p);

		if (l == len && strncmp(p, n, len) == 0)
			return 1;
		p += l + (bar != NULL);
	}
	return 0;
}

typedef int (*hostile_fn)(char *const f[HOSTILE_FIELDS], struct err_ctx *err);

/* Runs fn in a child under the limits; fills *r. */
static void run_case(hostile_fn fn, char *const f[HOSTILE_FIELDS], struct result *r)
{
	struct pollfd pfd;
	int p[2], st;
	pid_t pid;
	size_t got = 0;
	double t0 = now();

	memset(r, 0, sizeof(*r));
	cr_assert_eq(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rlimit rl = {HOSTILE_MEM, HOSTILE_MEM};
		struct err_ctx err = {{0}};
		struct rusage ru;
		struct result res;
		double c0;

		close(p[0]);
		memset(&res, 0, sizeof(res));
		if (HOSTILE_CHECK_MEM && setrlimit(RLIMIT_DATA, &rl) != 0)
			_exit(3);
		c0 = now();
		res.rc = fn(f, &err);
		res.seconds = now() - c0;
		getrusage(RUSAGE_SELF, &ru);
		res.maxrss_kib = ru.ru_maxrss;
		memcpy(res.msg, err.msg, sizeof(res.msg));
		if (write(p[1], &res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(4);
		_exit(0);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (got < sizeof(*r)) {
		int left = HOSTILE_KILL_MS - (int)((now() - t0) * 1000);
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = read(p[0], (char *)r + got, sizeof(*r) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(*r)) {
		kill(pid, SIGKILL);
		r->rc = 1;
		r->seconds = now() - t0;
		snprintf(r->msg, sizeof(r->msg), "child killed or died after %.1f s", r->seconds);
	}
	close(p[0]);
	waitpid(pid, &st, 0);
}

/* Reads the manifest at env var `var`; runs every line; returns the number of cases. */
static size_t run_manifest(const char *var, hostile_fn fn)
{
	const char *path = getenv(var);
	char line[HOSTILE_LINE];
	size_t n = 0, bad = 0;
	FILE *fp;

	if (path == NULL)
		cr_skip_test("%s not set: run through tests/hostile (ctest -L hostile)", var);
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *f[HOSTILE_FIELDS], *s = line, *miss = NULL;
		struct result r;
		regex_t re;
		size_t k;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		for (k = 0; k < HOSTILE_FIELDS; k++) {
			f[k] = s;
			s = strchr(s, '\t');
			if (s == NULL)
				break;
			*s++ = '\0';
		}
		cr_assert_eq(k, HOSTILE_FIELDS - 1, "bad manifest line %zu", n + 1);
		n++;
		run_case(fn, f, &r);
		cr_assert_eq(regcomp(&re, f[5], REG_EXTENDED | REG_NOSUB), 0, "regex of %s", f[0]);
		if (r.rc == 0)
			miss = "accepted";
		else if (!code_ok(f[4], r.rc))
			miss = "wrong code";
		else if (regexec(&re, r.msg, 0, NULL, 0) != 0)
			miss = "message does not match";
		else if (r.seconds > HOSTILE_SECONDS)
			miss = "too slow";
		else if (HOSTILE_CHECK_MEM && r.maxrss_kib > (long)(HOSTILE_MEM >> 10))
			miss = "too much memory";
		regfree(&re);
		printf("%-4s %-28s %-11s %5.2fs %6ld KiB  %s\n", miss != NULL ? "FAIL" : "ok", f[0],
		       code_name(r.rc), r.seconds, r.maxrss_kib, r.msg);
		if (miss != NULL) {
			printf("     ^ %s (want %s /%s/)\n", miss, f[4], f[5]);
			bad++;
		}
	}
	fclose(fp);
	fflush(stdout);
	cr_assert_eq(bad, 0, "%zu of %zu hostile cases not refused as expected", bad, n);
	return n;
}

/* ---- artifacts ---- */

static int artifact_case(char *const f[HOSTILE_FIELDS], struct err_ctx *err)
{
	const char *base = getenv("SMC_HOSTILE_URL");
	struct archive_limits lim;
	struct artifact_opts o;
	struct tree t;
	char url[1024], *rev = NULL;
	int rc;

	/* The limits that keep a refusal under 128 MiB: a 16 MiB download and a 48 MiB
	 * tree (the production defaults allow a 256 MiB tree: a bigger budget). */
	archive_limits_default(&lim);
	lim.tree.max_total = (size_t)48 << 20;
	artifact_opts_default(&o);
	o.max_size = (size_t)16 << 20;
	o.limits = &lim;
	o.retries = 2;
	o.backoff_ms = 100;
	o.connect_timeout_ms = 2000;
	o.low_speed_time_s = 2;
	o.timeout_ms = 4500;
	snprintf(url, sizeof(url), "%s%s", base != NULL ? base : "http://127.0.0.1:1", f[1]);
	rc = artifact_fetch(url, f[2], "", f[3], &o, &t, &rev, err);
	if (rc == 0) {
		tree_free(&t);
		free(rev);
	}
	return rc;
}

Test(hostile, artifacts, .timeout = 1800)
{
	size_t n = run_manifest("SMC_HOSTILE_ARTIFACTS", artifact_case);

	cr_assert_geq(n, 80, "only %zu artifact cases", n);
}

/* ---- git ---- */

static int git_case(char *const f[HOSTILE_FIELDS], struct err_ctx *err)
{
	const char *scratch = getenv("SMC_HOSTILE_SCRATCH");
	struct select_limits lim;
	struct source_git_opts o = {.limits = &lim};
	struct tree t;
	char *rev = NULL;
	int rc;

	select_limits_default(&lim);
	lim.max_total = (size_t)4 << 20;     /* a smaller tree: packing big blobs takes time */
	source_git_set_timeouts(2000, 4500); /* idle, whole exchange */
	rc = source_git_fetch_opts(f[1], f[2], f[3], scratch != NULL ? scratch : "/tmp", &o, &t,
				   &rev, err);
	if (rc == 0) {
		tree_free(&t);
		free(rev);
	}
	return rc;
}

Test(hostile, git, .timeout = 1800)
{
	size_t n = run_manifest("SMC_HOSTILE_GIT", git_case);

	cr_assert_geq(n, 30, "only %zu git cases", n);
}
