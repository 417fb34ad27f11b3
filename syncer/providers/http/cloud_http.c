/* cloud_http.c — pooled libcurl easy handles under one multi handle (any method), shared by
 * the cloud providers. */
#include "syncer/providers/http/cloud_http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/str.h"
#include "common/xmalloc.h"

struct cloud_http {
	CURLM *multi;
	CURL *pool[CLOUD_HTTP_MAX_PARALLEL];
	char *ca_file;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct cloud_http_req *r = arg;
	size_t n;

	if (!size_mul(size, nmemb, &n))
		return 0;
	if (n == 0)
		return 0;
	if (r->resp == NULL && secbuf_new(&r->resp, CLOUD_HTTP_MAX_RESPONSE) != 0)
		return 0;
	if (secbuf_put(r->resp, p, n) != 0)
		return 0; /* over the limit: curl aborts with CURLE_WRITE_ERROR */
	return n;
}

static void header_value(const char *p, size_t n, const char *name, char *dst, size_t dsz)
{
	size_t nl = strlen(name), i, j = 0;

	if (n <= nl + 1 || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
		return;
	for (i = nl + 1; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	for (; i < n && p[i] != '\r' && p[i] != '\n' && j + 1 < dsz; i++)
		dst[j++] = p[i];
	dst[j] = '\0';
}

long cloud_http_retry_after(const char *v)
{
	int64_t s;

	if (v == NULL || v[0] == '\0' || str_to_i64(v, 0, 3600, &s) != 0)
		return -1;
	return (long)s;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct cloud_http_req *r = arg;
	size_t n = size * nmemb;
	char v[64] = "", ms[64] = "";

	header_value(p, n, "retry-after", v, sizeof(v));
	if (v[0] != '\0')
		r->retry_after = cloud_http_retry_after(v);
	header_value(p, n, "retry-after-ms", ms, sizeof(ms));
	if (ms[0] != '\0') {
		int64_t m;

		if (str_to_i64(ms, 0, 3600000, &m) == 0)
			r->retry_after = (long)((m + 999) / 1000);
	}
	header_value(p, n, "etag", r->etag, sizeof(r->etag));
	header_value(p, n, "x-amzn-errortype", r->errtype, sizeof(r->errtype));
	r->errtype[strcspn(r->errtype, ":")] = '\0';
	return n;
}

int cloud_http_new(const char *ca_file, struct cloud_http **out)
{
	struct cloud_http *h = xcalloc(1, sizeof(*h));
	int rc = ERR_NOMEM;

	if (h == NULL)
		return ERR_NOMEM;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		rc = ERR_IO;
		goto out;
	}
	if ((h->multi = curl_multi_init()) == NULL)
		goto out;
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)CLOUD_HTTP_MAX_PARALLEL);
	if (ca_file != NULL && (h->ca_file = xstrdup(ca_file)) == NULL)
		goto out;
	for (size_t i = 0; i < CLOUD_HTTP_MAX_PARALLEL; i++) {
		if ((h->pool[i] = curl_easy_init()) == NULL)
			goto out;
	}
	*out = h;
	return 0;
out:
	cloud_http_free(h);
	return rc;
}

void cloud_http_free(struct cloud_http *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < CLOUD_HTTP_MAX_PARALLEL; i++) {
		if (h->pool[i] != NULL)
			curl_easy_cleanup(h->pool[i]);
	}
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	free(h->ca_file);
	free(h);
}

void cloud_http_req_reset(struct cloud_http_req *r)
{
	secbuf_free(r->resp);
	r->resp = NULL;
	r->rc = 0;
	r->status = 0;
	r->retry_after = -1;
	r->etag[0] = '\0';
	r->errtype[0] = '\0';
	r->curl_error[0] = '\0';
}

static int setup(struct cloud_http *h, CURL *e, struct cloud_http_req *r)
{
	/* curl_easy_reset keeps the connection and DNS caches (they live in the multi). */
	curl_easy_reset(e);
	cloud_http_req_reset(r);
	if (curl_easy_setopt(e, CURLOPT_URL, r->url) != CURLE_OK)
		return ERR_INVAL;
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CLOUD_HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, CLOUD_HTTP_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_error);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	if (h->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
		   strcmp(r->method, "PATCH") == 0 || strcmp(r->method, "DELETE") == 0) {
		/* POSTFIELDS with a custom verb sends the body under that verb */
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS,
				 r->body != NULL ? (const char *)r->body : "");
		if (strcmp(r->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else {
		return ERR_INVAL;
	}
	return 0;
}

int cloud_http_perform(struct cloud_http *h, struct cloud_http_req **reqs, size_t n)
{
	CURL *busy[CLOUD_HTTP_MAX_PARALLEL] = {0};
	size_t next = 0, active = 0;
	int running = 0, rc = 0;

	while (next < n || active > 0) {
		CURLMsg *m;
		int left;

		for (size_t i = 0; i < CLOUD_HTTP_MAX_PARALLEL && next < n; i++) {
			if (busy[i] != NULL)
				continue;
			if (setup(h, h->pool[i], reqs[next]) != 0) {
				reqs[next]->rc = ERR_INVAL;
				next++;
				continue;
			}
			if (curl_multi_add_handle(h->multi, h->pool[i]) != CURLM_OK) {
				rc = ERR_IO;
				goto out;
			}
			busy[i] = h->pool[i];
			active++;
			next++;
		}
		if (active == 0)
			continue;
		if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
			rc = ERR_IO;
			goto out;
		}
		while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
			struct cloud_http_req *r = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			if (m->data.result == CURLE_OK) {
				curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE,
						  &r->status);
				r->rc = 0;
			} else {
				r->rc = m->data.result == CURLE_OPERATION_TIMEDOUT ? ERR_TIMEOUT
										   : ERR_IO;
				if (r->curl_error[0] == '\0')
					str_copy(r->curl_error, sizeof(r->curl_error),
						 curl_easy_strerror(m->data.result));
			}
			curl_multi_remove_handle(h->multi, m->easy_handle);
			for (size_t i = 0; i < CLOUD_HTTP_MAX_PARALLEL; i++) {
				if (busy[i] == m->easy_handle)
					busy[i] = NULL;
			}
			active--;
		}
		if (active > 0 && curl_multi_poll(h->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
			rc = ERR_IO;
			goto out;
		}
	}
out:
	for (size_t i = 0; i < CLOUD_HTTP_MAX_PARALLEL; i++) {
		if (busy[i] != NULL)
			curl_multi_remove_handle(h->multi, busy[i]);
	}
	return rc;
}

void cloud_http_headers_free(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}
