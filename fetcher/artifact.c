/* artifact.c — download a Flux artifact with libcurl, verify its digest, extract it. */
#include "fetcher/artifact.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "fetcher/source_git.h"

/* Longest URL quoted in an error message (the message buffer is 512 bytes). */
#define ARTIFACT_MSG_URL 160
/* First allocation for a body of unknown length. */
#define ARTIFACT_FIRST_CHUNK ((size_t)64 << 10)

void artifact_opts_default(struct artifact_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_size = ARTIFACT_MAX_SIZE;
	o->connect_timeout_ms = ARTIFACT_CONNECT_TIMEOUT_MS;
	o->low_speed_time_s = ARTIFACT_LOW_SPEED_TIME_S;
	o->timeout_ms = ARTIFACT_TIMEOUT_MS;
	o->retries = ARTIFACT_RETRIES;
	o->backoff_ms = ARTIFACT_BACKOFF_MS;
}

static void opts_clamp(const struct artifact_opts *in, struct artifact_opts *o)
{
	artifact_opts_default(o);
	if (in == NULL)
		return;
	if (in->max_size != 0 && in->max_size < o->max_size)
		o->max_size = in->max_size;
	if (in->connect_timeout_ms > 0)
		o->connect_timeout_ms = in->connect_timeout_ms;
	if (in->low_speed_time_s > 0)
		o->low_speed_time_s = in->low_speed_time_s;
	if (in->timeout_ms > 0)
		o->timeout_ms = in->timeout_ms;
	o->retries = in->retries < ARTIFACT_MAX_RETRIES ? in->retries : ARTIFACT_MAX_RETRIES;
	if (in->backoff_ms > 0)
		o->backoff_ms = in->backoff_ms < ARTIFACT_MAX_BACKOFF_MS ? in->backoff_ms
									 : ARTIFACT_MAX_BACKOFF_MS;
	o->limits = in->limits;
}

/* ---- digest ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int artifact_digest_check(const void *data, size_t size, const char *digest, struct err_ctx *err)
{
	static const struct {
		const char *name;
		size_t hexlen;
	} algs[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
	unsigned char md[EVP_MAX_MD_SIZE];
	char got[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int mdlen = 0;
	const EVP_MD *evp = NULL;
	const char *colon, *hex;
	size_t alen, i, hexlen = 0;

	if (digest == NULL || digest[0] == '\0')
		return err_set(err, ERR_INVAL,
			       "artifact has no digest: an unverified artifact is not read");
	colon = strchr(digest, ':');
	if (colon == NULL)
		return err_set(err, ERR_INVAL, "artifact digest is not \"<algorithm>:<hex>\"");
	alen = (size_t)(colon - digest);
	hex = colon + 1;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (strlen(algs[i].name) == alen && memcmp(algs[i].name, digest, alen) == 0) {
			hexlen = algs[i].hexlen;
			evp = EVP_get_digestbyname(algs[i].name);
			break;
		}
	}
	if (hexlen == 0)
		return err_set(err, ERR_UNSUPPORTED,
			       "artifact digest algorithm \"%.*s\" is not one of sha256, sha384, "
			       "sha512",
			       (int)(alen < 32 ? alen : 32), digest);
	if (strlen(hex) != hexlen)
		return err_set(err, ERR_INVAL, "artifact digest: %.*s needs %zu hex digits",
			       (int)alen, digest, hexlen);
	for (i = 0; i < hexlen; i++)
		if (hexval((unsigned char)hex[i]) < 0)
			return err_set(err, ERR_INVAL, "artifact digest is not hexadecimal");
	if (evp == NULL || EVP_Digest(data, size, md, &mdlen, evp, NULL) != 1 ||
	    (size_t)mdlen * 2 != hexlen)
		return err_set(err, ERR_CRYPTO, "cannot compute %.*s", (int)alen, digest);
	for (i = 0; i < mdlen; i++) {
		got[2 * i] = "0123456789abcdef"[md[i] >> 4];
		got[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	got[2 * mdlen] = '\0';
	for (i = 0; i < hexlen; i++)
		if (hexval((unsigned char)hex[i]) != hexval((unsigned char)got[i]))
			break;
	if (i != hexlen)
		return err_set(err, ERR_CRYPTO,
			       "artifact digest mismatch: expected %.*s:%s, got %.*s:%s", (int)alen,
			       digest, hex, (int)alen, digest, got);
	return 0;
}

/* ---- download ---- */

struct dl {
	struct buf body;
	size_t max;
	int too_big;
	int stalled;
	long idle_ms;	      /* no new byte for this long → stalled */
	curl_off_t last_now;  /* bytes received at the last change */
	struct timespec last; /* when they changed */
};

static long ms_since(const struct timespec *t)
{
	struct timespec n;

	clock_gettime(CLOCK_MONOTONIC, &n);
	return (long)(n.tv_sec - t->tv_sec) * 1000L + (n.tv_nsec - t->tv_nsec) / 1000000L;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct dl *d = arg;
	size_t n;

	if (!size_mul(size, nmemb, &n))
		return 0;
	if (n > d->max - d->body.len) {
		d->too_big = 1;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	if (d->body.cap == 0 &&
	    buf_reserve(&d->body, ARTIFACT_FIRST_CHUNK < d->max ? ARTIFACT_FIRST_CHUNK : d->max) !=
		0)
		return 0;
	if (buf_put(&d->body, ptr, n) != 0)
		return 0;
	return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct dl *d = arg;

	(void)ultotal;
	(void)ulnow;
	if ((dltotal > 0 && (uint64_t)dltotal > d->max) ||
	    (dlnow > 0 && (uint64_t)dlnow > d->max)) {
		d->too_big = 1;
		return 1; /* CURLE_ABORTED_BY_CALLBACK */
	}
	/* curl's low-speed check averages over a window; a server that sent some bytes and
	 * then stalls is caught here, idle_ms after its last byte (called about once a
	 * second while nothing arrives) */
	if (dlnow != d->last_now) {
		d->last_now = dlnow;
		clock_gettime(CLOCK_MONOTONIC, &d->last);
	} else if (ms_since(&d->last) >= d->idle_ms) {
		d->stalled = 1;
		return 1;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

enum attempt { ATTEMPT_OK, ATTEMPT_RETRY, ATTEMPT_FAIL };

/* One GET. On ATTEMPT_OK d->body holds the artifact; otherwise *rc and err say why. */
static enum attempt attempt(CURL *c, struct dl *d, const char *shown, long *status, int *rc,
			    struct err_ctx *err)
{
	char ebuf[CURL_ERROR_SIZE];
	CURLcode cc;

	ebuf[0] = '\0';
	d->body.len = 0;
	d->too_big = 0;
	d->stalled = 0;
	d->last_now = 0;
	clock_gettime(CLOCK_MONOTONIC, &d->last);
	*status = 0;
	if (curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf) != CURLE_OK) {
		*rc = err_set(err, ERR_IO, "libcurl setup failed");
		return ATTEMPT_FAIL;
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	if (cc == CURLE_OK && *status == 200)
		return ATTEMPT_OK;
	if (d->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		*rc = err_set(err, ERR_TOOBIG, "artifact larger than %zu bytes: %.*s", d->max,
			      ARTIFACT_MSG_URL, shown);
		return ATTEMPT_FAIL;
	}
	if (d->stalled) {
		*rc = err_set(err, ERR_TIMEOUT,
			      "artifact download timed out: no data for %ld ms: %.*s", d->idle_ms,
			      ARTIFACT_MSG_URL, shown);
		return ATTEMPT_FAIL;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		*rc = err_set(err, ERR_TIMEOUT, "artifact download timed out (%s): %.*s",
			      ebuf[0] != '\0' ? ebuf : "no progress", ARTIFACT_MSG_URL, shown);
		return ATTEMPT_FAIL;
	}
	if (cc == CURLE_OK || cc == CURLE_HTTP_RETURNED_ERROR) {
		if (*status == 404) {
			*rc = err_set(err, ERR_NOTFOUND,
				      "artifact not found (garbage-collected by "
				      "source-controller?): HTTP 404 from %.*s",
				      ARTIFACT_MSG_URL, shown);
			return ATTEMPT_RETRY;
		}
		*rc = err_set(err, ERR_REMOTE, "artifact server answered HTTP %ld: %.*s", *status,
			      ARTIFACT_MSG_URL, shown);
		return (*status == 429 || *status >= 500) ? ATTEMPT_RETRY : ATTEMPT_FAIL;
	}
	*rc = err_set(err, ERR_IO, "cannot download the artifact: %s: %.*s",
		      ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc), ARTIFACT_MSG_URL, shown);
	return (cc == CURLE_COULDNT_CONNECT || cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR ||
		cc == CURLE_SEND_ERROR)
		   ? ATTEMPT_RETRY
		   : ATTEMPT_FAIL;
}

static int setup(CURL *c, const char *url, const struct artifact_opts *o, struct dl *d)
{
	int ok = 1;

	ok &= curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_USERAGENT, "smc-fetcher") == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_WRITEDATA, d) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_XFERINFODATA, d) == CURLE_OK;
	ok &= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
	return ok ? 0 : ERR_IO;
}

static int url_check(const char *url, const char *shown, struct err_ctx *err)
{
	size_t n = strlen(url);

	if (n == 0)
		return err_set(err, ERR_INVAL, "artifact URL not set");
	if (n > ARTIFACT_MAX_URL)
		return err_set(err, ERR_INVAL, "artifact URL longer than %u bytes",
			       (unsigned)ARTIFACT_MAX_URL);
	if (!str_utf8_valid(url, n))
		return err_set(err, ERR_INVAL, "artifact URL is not valid UTF-8");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
			return err_set(err, ERR_INVAL, "artifact URL contains a space or control");
	if (!str_has_prefix(url, "http://") && !str_has_prefix(url, "https://"))
		return err_set(err, ERR_UNSUPPORTED, "artifact URL %.*s is not http(s)",
			       ARTIFACT_MSG_URL, shown);
	return 0;
}

int artifact_download(const char *url, const struct artifact_opts *in, uint8_t **data, size_t *size,
		      struct err_ctx *err)
{
	struct artifact_opts o;
	struct dl d;
	CURL *c = NULL;
	char *shown = NULL;
	long status = 0, wait;
	int rc = 0;
	enum attempt a = ATTEMPT_FAIL;

	opts_clamp(in, &o);
	memset(&d, 0, sizeof(d));
	d.max = o.max_size;
	d.idle_ms = o.low_speed_time_s * 1000L;
	buf_init(&d.body, o.max_size);
	if (url == NULL)
		return err_set(err, ERR_INVAL, "artifact URL not set");
	if (source_git_url_redact(url, &shown) != 0)
		return err_set(err, ERR_NOMEM, "out of memory");
	if ((rc = url_check(url, shown, err)) != 0)
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (c = curl_easy_init()) == NULL ||
	    setup(c, url, &o, &d) != 0) {
		rc = err_set(err, ERR_IO, "libcurl initialisation failed");
		goto out;
	}
	wait = o.backoff_ms;
	for (unsigned i = 0;; i++) {
		a = attempt(c, &d, shown, &status, &rc, err);
		if (a != ATTEMPT_RETRY || i >= o.retries)
			break;
		sleep_ms(wait);
		wait = wait * 2 < ARTIFACT_MAX_BACKOFF_MS ? wait * 2 : ARTIFACT_MAX_BACKOFF_MS;
	}
	if (a != ATTEMPT_OK) {
		if (a == ATTEMPT_RETRY && o.retries > 0 && err != NULL) {
			char prev[sizeof(err->msg)];

			str_copy(prev, sizeof(prev), err->msg);
			err_set(err, rc, "%s (%u attempts)", prev, o.retries + 1);
		}
		goto out;
	}
	rc = 0;
	*size = d.body.len;
	*data = buf_steal(&d.body, size);
	if (*data == NULL) { /* an empty body: an empty allocation */
		*data = malloc(1);
		*size = 0;
		if (*data == NULL)
			rc = err_set(err, ERR_NOMEM, "out of memory");
	}
out:
	curl_easy_cleanup(c);
	buf_free(&d.body);
	free(shown);
	return rc;
}

int artifact_fetch(const char *url, const char *digest, const char *revision, const char *subpath,
		   const struct artifact_opts *o, struct tree *out, char **resolved,
		   struct err_ctx *err)
{
	uint8_t *data = NULL;
	size_t size = 0;
	char *res = NULL;
	struct tree t;
	int rc;

	tree_init(&t);
	if (revision != NULL && (strlen(revision) > ARTIFACT_MAX_REVISION ||
				 !str_utf8_valid(revision, strlen(revision))))
		return err_set(err, ERR_INVAL, "artifact revision is too long or not UTF-8");
	/* a malformed digest is refused before any download */
	if ((rc = artifact_digest_check("", 0, digest, err)) != 0 && rc != ERR_CRYPTO)
		return rc;
	if ((rc = artifact_download(url, o, &data, &size, err)) != 0)
		return rc;
	if ((rc = artifact_digest_check(data, size, digest, err)) != 0)
		goto out;
	rc = archive_targz_read(data, size, subpath, o != NULL ? o->limits : NULL, &t, err);
	if (rc != 0) {
		err_wrap(err, rc, "artifact");
		goto out;
	}
	res = xstrdup(revision != NULL && revision[0] != '\0' ? revision : digest);
	if (res == NULL) {
		rc = err_set(err, ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = t;
	tree_init(&t);
	*resolved = res;
out:
	tree_free(&t);
	free(data);
	return rc;
}
