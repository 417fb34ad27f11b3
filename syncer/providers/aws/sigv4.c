/* sigv4.c — AWS Signature Version 4 signer (header form).
 * Steps as in docs/wire-protocols-and-local-peers.md §1.7: canonical request, string to
 * sign, derived key, signature, Authorization header. */
#include "syncer/providers/aws/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/str.h"
#include "common/xmalloc.h"

#define SIGV4_ALGO "AWS4-HMAC-SHA256"
#define SIGV4_MAX_PATH_SEGMENTS 256

struct canon_hdr {
	char *name;  /* lowercased, owned */
	char *value; /* trimmed, collapsed, owned */
	size_t order;
};

struct canon_param {
	char *k, *v; /* encoded, owned */
};

static int is_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static int uri_encode(struct buf *b, const char *s, size_t n, int keep_slash)
{
	static const char hexd[] = "0123456789ABCDEF";
	int rc;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			rc = buf_put_u8(b, c);
		} else {
			char e[3] = {'%', hexd[c >> 4], hexd[c & 15]};

			rc = buf_put(b, e, 3);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) then encodes it canonically; owned result in *out. */
static int canon_component(const char *s, size_t n, char **out)
{
	struct buf raw, enc;
	int rc;

	buf_init(&raw, SIGV4_MAX_TEXT);
	buf_init(&enc, SIGV4_MAX_TEXT);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			rc = buf_put_u8(&raw, (uint8_t)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
			i += 2;
		} else {
			rc = buf_put_u8(&raw, (uint8_t)s[i]);
		}
		if (rc != 0)
			goto out;
	}
	if ((rc = uri_encode(&enc, (const char *)raw.data, raw.len, 0)) != 0 ||
	    (rc = buf_cstr(&enc)) != 0)
		goto out;
	if (enc.data == NULL) {
		*out = xstrdup("");
		rc = *out ? 0 : ERR_NOMEM;
		goto out;
	}
	*out = (char *)buf_steal(&enc, NULL);
	rc = 0;
out:
	buf_free(&raw);
	buf_free(&enc);
	return rc;
}

/* Normalised, encoded absolute path (RFC 3986 dot segments removed, empty segments
 * dropped, trailing slash kept). */
static int canon_path(struct buf *b, const char *path)
{
	const char *seg[SIGV4_MAX_PATH_SEGMENTS];
	size_t seglen[SIGV4_MAX_PATH_SEGMENTS];
	size_t nseg = 0, plen;
	const char *p = path;
	int rc;

	if (path == NULL || path[0] != '/')
		return ERR_INVAL;
	plen = strlen(path);
	while (*p != '\0') {
		const char *e;
		size_t l;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchr(p, '/');
		l = e ? (size_t)(e - p) : strlen(p);
		if (l == 1 && p[0] == '.') {
			/* skip */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
		} else {
			if (nseg == SIGV4_MAX_PATH_SEGMENTS)
				return ERR_TOOBIG;
			seg[nseg] = p;
			seglen[nseg] = l;
			nseg++;
		}
		p += l;
	}
	if ((rc = buf_put_u8(b, '/')) != 0)
		return rc;
	for (size_t i = 0; i < nseg; i++) {
		if (i > 0 && (rc = buf_put_u8(b, '/')) != 0)
			return rc;
		if ((rc = uri_encode(b, seg[i], seglen[i], 0)) != 0)
			return rc;
	}
	if (nseg > 0 && path[plen - 1] == '/' && (rc = buf_put_u8(b, '/')) != 0)
		return rc;
	return buf_put_u8(b, '\n');
}

static int param_cmp(const void *a, const void *b)
{
	const struct canon_param *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c != 0 ? c : strcmp(x->v, y->v);
}

static int canon_query(struct buf *b, const char *query)
{
	struct canon_param params[SIGV4_MAX_QUERY_PARAMS];
	size_t n = 0;
	const char *p = query;
	int rc = 0;

	memset(params, 0, sizeof(params));
	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t l = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', l);
		size_t kl = eq ? (size_t)(eq - p) : l;

		if (l > 0) {
			if (n == SIGV4_MAX_QUERY_PARAMS) {
				rc = ERR_TOOBIG;
				goto out;
			}
			if ((rc = canon_component(p, kl, &params[n].k)) != 0)
				goto out;
			if ((rc = eq ? canon_component(eq + 1, l - kl - 1, &params[n].v)
				     : canon_component("", 0, &params[n].v)) != 0) {
				free(params[n].k);
				goto out;
			}
			n++;
		}
		p = amp ? amp + 1 : NULL;
	}
	qsort(params, n, sizeof(params[0]), param_cmp);
	for (size_t i = 0; i < n; i++) {
		if ((rc = buf_printf(b, "%s%s=%s", i ? "&" : "", params[i].k, params[i].v)) != 0)
			goto out;
	}
	rc = buf_put_u8(b, '\n');
out:
	for (size_t i = 0; i < n; i++) {
		free(params[i].k);
		free(params[i].v);
	}
	return rc;
}

static int hdr_cmp(const void *a, const void *b)
{
	const struct canon_hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Trimmed value with internal runs of whitespace collapsed to one space. Owned. */
static char *canon_value(const char *v)
{
	size_t n = strlen(v), o = 0;
	char *r = malloc(n + 1);
	int space = 0;

	if (r == NULL)
		return NULL;
	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
			space = 1;
			continue;
		}
		if (space && o > 0)
			r[o++] = ' ';
		space = 0;
		r[o++] = *v;
	}
	r[o] = '\0';
	return r;
}

/* Appends canonical headers + blank line + signed headers line to b; the signed header
 * list alone goes to sh. */
static int canon_headers(struct buf *b, struct buf *sh, const struct sigv4_header *h, size_t n)
{
	struct canon_hdr hs[SIGV4_MAX_HEADERS];
	size_t k = 0;
	int rc = 0;

	if (n > SIGV4_MAX_HEADERS)
		return ERR_TOOBIG;
	memset(hs, 0, sizeof(hs));
	for (; k < n; k++) {
		if (h[k].name == NULL || h[k].value == NULL || h[k].name[0] == '\0') {
			rc = ERR_INVAL;
			goto out;
		}
		hs[k].name = xstrdup(h[k].name);
		hs[k].value = canon_value(h[k].value);
		hs[k].order = k;
		if (hs[k].name == NULL || hs[k].value == NULL) {
			k++;
			rc = ERR_NOMEM;
			goto out;
		}
		for (char *c = hs[k].name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	qsort(hs, n, sizeof(hs[0]), hdr_cmp);
	for (size_t i = 0; i < n; i++) {
		int first = (i == 0 || strcmp(hs[i].name, hs[i - 1].name) != 0);
		int last = (i + 1 == n || strcmp(hs[i].name, hs[i + 1].name) != 0);

		if (first) {
			if ((rc = buf_printf(b, "%s:", hs[i].name)) != 0 ||
			    (sh->len > 0 && (rc = buf_put_u8(sh, ';')) != 0) ||
			    (rc = buf_put_str(sh, hs[i].name)) != 0)
				goto out;
		} else if ((rc = buf_put_u8(b, ',')) != 0) {
			goto out;
		}
		if ((rc = buf_put_str(b, hs[i].value)) != 0)
			goto out;
		if (last && (rc = buf_put_u8(b, '\n')) != 0)
			goto out;
	}
	if ((rc = buf_put_u8(b, '\n')) != 0 || (rc = buf_put(b, sh->data, sh->len)) != 0 ||
	    (rc = buf_put_u8(b, '\n')) != 0 || (rc = buf_cstr(sh)) != 0)
		goto out;
out:
	for (size_t i = 0; i < k; i++) {
		free(hs[i].name);
		free(hs[i].value);
	}
	return rc;
}

static void to_hex(const uint8_t *p, size_t n, char *hex)
{
	static const char hexd[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = hexd[p[i] >> 4];
		hex[2 * i + 1] = hexd[p[i] & 15];
	}
	hex[2 * n] = '\0';
}

int sigv4_sha256_hex(const void *p, size_t n, char hex[65])
{
	uint8_t md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(p != NULL ? p : "", n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return ERR_CRYPTO;
	to_hex(md, 32, hex);
	return 0;
}

static int hmac(const uint8_t *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32])
{
	unsigned int olen = 0;

	if (HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &olen) == NULL || olen != 32)
		return ERR_CRYPTO;
	return 0;
}

int sigv4_amz_date(long long t, char out[SIGV4_AMZ_DATE_LEN + 1])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return ERR_INVAL;
	if (strftime(out, SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) != SIGV4_AMZ_DATE_LEN)
		return ERR_INVAL;
	return 0;
}

static int valid_date(const char *d)
{
	if (d == NULL || strlen(d) != SIGV4_AMZ_DATE_LEN || d[8] != 'T' || d[15] != 'Z')
		return 0;
	for (int i = 0; i < 15; i++) {
		if (i != 8 && !isdigit((unsigned char)d[i]))
			return 0;
	}
	return 1;
}

static int valid_scope_part(const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	}
	return 1;
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_key *key,
	       struct sigv4_out *out)
{
	struct buf creq, sh, sts, authz;
	char payload_hex[65], creq_hex[65], sig_hex[65], date[9];
	uint8_t k[32], k2[32];
	uint8_t *kbuf = NULL;
	size_t klen;
	int rc;

	buf_init(&creq, SIGV4_MAX_TEXT);
	buf_init(&sh, SIGV4_MAX_TEXT);
	buf_init(&sts, SIGV4_MAX_TEXT);
	buf_init(&authz, SIGV4_MAX_TEXT);
	if (req == NULL || key == NULL || out == NULL || req->method == NULL ||
	    !valid_date(key->amz_date) || !valid_scope_part(key->region) ||
	    !valid_scope_part(key->service) || key->access_key_id == NULL ||
	    key->access_key_id[0] == '\0' || key->secret == NULL ||
	    (req->body == NULL && req->body_len > 0)) {
		rc = ERR_INVAL;
		goto out;
	}
	memcpy(date, key->amz_date, 8);
	date[8] = '\0';

	/* 1. canonical request */
	if ((rc = buf_printf(&creq, "%s\n", req->method)) != 0 ||
	    (rc = canon_path(&creq, req->path)) != 0 || (rc = canon_query(&creq, req->query)) != 0 ||
	    (rc = canon_headers(&creq, &sh, req->headers, req->nheaders)) != 0)
		goto out;
	if ((rc = sigv4_sha256_hex(req->body, req->body_len, payload_hex)) != 0 ||
	    (rc = buf_put_str(&creq, payload_hex)) != 0 || (rc = buf_cstr(&creq)) != 0)
		goto out;

	/* 2. string to sign */
	if ((rc = sigv4_sha256_hex(creq.data, creq.len, creq_hex)) != 0 ||
	    (rc = buf_printf(&sts, SIGV4_ALGO "\n%s\n%s/%s/%s/aws4_request\n%s", key->amz_date, date,
			     key->region, key->service, creq_hex)) != 0 ||
	    (rc = buf_cstr(&sts)) != 0)
		goto out;

	/* 3. derived key, 4. signature */
	if (!size_add(key->secret_len, 4, &klen) || (kbuf = malloc(klen)) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	memcpy(kbuf, "AWS4", 4);
	memcpy(kbuf + 4, key->secret, key->secret_len);
	if ((rc = hmac(kbuf, klen, date, 8, k)) != 0 ||
	    (rc = hmac(k, 32, key->region, strlen(key->region), k2)) != 0 ||
	    (rc = hmac(k2, 32, key->service, strlen(key->service), k)) != 0 ||
	    (rc = hmac(k, 32, "aws4_request", 12, k2)) != 0 ||
	    (rc = hmac(k2, 32, sts.data, sts.len, k)) != 0)
		goto out;
	to_hex(k, 32, sig_hex);

	/* 5. Authorization */
	if ((rc = buf_printf(&authz,
			     SIGV4_ALGO " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
					"Signature=%s",
			     key->access_key_id, date, key->region, key->service, (char *)sh.data,
			     sig_hex)) != 0 ||
	    (rc = buf_cstr(&authz)) != 0)
		goto out;
	out->canonical_request = (char *)buf_steal(&creq, NULL);
	out->string_to_sign = (char *)buf_steal(&sts, NULL);
	out->authorization = (char *)buf_steal(&authz, NULL);
	rc = 0;
out:
	if (kbuf != NULL) {
		explicit_bzero(kbuf, klen);
		free(kbuf);
	}
	explicit_bzero(k, sizeof(k));
	explicit_bzero(k2, sizeof(k2));
	explicit_bzero(sig_hex, sizeof(sig_hex));
	buf_free(&creq);
	buf_free(&sh);
	buf_free(&sts);
	if (authz.data != NULL)
		explicit_bzero(authz.data, authz.cap);
	buf_free(&authz);
	return rc;
}

void sigv4_out_free(struct sigv4_out *out)
{
	if (out == NULL)
		return;
	free(out->canonical_request);
	free(out->string_to_sign);
	if (out->authorization != NULL) {
		explicit_bzero(out->authorization, strlen(out->authorization));
		free(out->authorization);
	}
	memset(out, 0, sizeof(*out));
}
