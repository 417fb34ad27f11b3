/* known_hosts.c — SSH host key verification against OpenSSH known_hosts text. */
#include "fetcher/known_hosts.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "common/str.h"

#define KNOWN_HOSTS_MAX_HOST 255 /* a DNS name */
#define KNOWN_HOSTS_MAX_NAME (KNOWN_HOSTS_MAX_HOST + 8) /* "[host]:65535" */
#define KNOWN_HOSTS_MAX_TYPE 64 /* "ecdsa-sha2-nistp521", ... */

/* Decodes standard base64 s[0..n) into out (at most cap bytes). Length or -1. */
static long b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
	size_t pad = 0;
	int r;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap || n > 0x7fffffff)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '+' || c == '/' || (c == '=' && i >= n - 2)))
			return -1;
	}
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (r < 0 || (size_t)r < pad)
		return -1;
	return (long)((size_t)r - pad);
}

int known_hosts_fingerprint(const unsigned char *key, size_t keylen, char *buf, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int mdlen = 0;
	int n;

	if (EVP_Digest(key, keylen, md, &mdlen, EVP_sha256(), NULL) != 1)
		return ERR_INVAL;
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	return str_fmt(buf, size, "SHA256:%s", (const char *)b64) == 0 ? 0 : ERR_INVAL;
}

/* The key type named inside the blob (its first SSH string), into buf. */
static void blob_type(const unsigned char *key, size_t keylen, char *buf, size_t size)
{
	size_t n;

	(void)str_copy(buf, size, "unknown");
	if (keylen < 4)
		return;
	n = (size_t)key[0] << 24 | (size_t)key[1] << 16 | (size_t)key[2] << 8 | key[3];
	if (n == 0 || n >= size || n > keylen - 4)
		return;
	for (size_t i = 0; i < n; i++)
		if (!isprint(key[4 + i]))
			return;
	memcpy(buf, key + 4, n);
	buf[n] = '\0';
}

/* OpenSSH's match_pattern: '*' any run, '?' one character, everything else literal
 * ('[' included: "[host]:port" is a literal name). Iterative, no backtracking blow-up. */
static int glob_match(const char *p, const char *s)
{
	const char *star = NULL, *ss = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = p++;
			ss = s;
		} else if (*p == '?' || *p == *s) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++ss;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* One hashed pattern "|1|salt|hash" against name. */
static int hashed_match(const char *pat, size_t n, const char *name)
{
	unsigned char salt[64], want[64], got[EVP_MAX_MD_SIZE];
	unsigned int glen = 0;
	const char *bar;
	long sl, wl;

	if (n < 4 || memcmp(pat, "|1|", 3) != 0)
		return 0;
	bar = memchr(pat + 3, '|', n - 3);
	if (bar == NULL)
		return 0;
	sl = b64_decode(pat + 3, (size_t)(bar - pat - 3), salt, sizeof(salt));
	wl = b64_decode(bar + 1, n - (size_t)(bar + 1 - pat), want, sizeof(want));
	if (sl <= 0 || wl != 20)
		return 0;
	if (HMAC(EVP_sha1(), salt, (int)sl, (const unsigned char *)name, strlen(name), got,
		 &glen) == NULL ||
	    glen != 20)
		return 0;
	return CRYPTO_memcmp(got, want, 20) == 0;
}

/* The host patterns field against name: 1 match, 0 none, -1 a negated match. */
static int patterns_match(const char *f, size_t n, const char *name)
{
	int hit = 0;
	size_t i = 0;

	while (i < n) {
		size_t s = i, len;
		int neg = 0;
		char pat[KNOWN_HOSTS_MAX_NAME + 1];

		while (i < n && f[i] != ',')
			i++;
		len = i - s;
		i++;
		if (len > 0 && f[s] == '!') {
			neg = 1;
			s++;
			len--;
		}
		if (len == 0)
			continue;
		if (f[s] == '|') {
			if (hashed_match(f + s, len, name))
				hit = 1;
			continue;
		}
		if (len > KNOWN_HOSTS_MAX_NAME)
			continue;
		for (size_t k = 0; k < len; k++)
			pat[k] = (char)tolower((unsigned char)f[s + k]);
		pat[len] = '\0';
		if (glob_match(pat, name)) {
			if (neg)
				return -1;
			hit = 1;
		}
	}
	return hit;
}

/* Splits the next whitespace-separated field of [*p, end): [*f, *f + *n). 0 at the end. */
static int field(const char **p, const char *end, const char **f, size_t *n)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return 0;
	*f = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*n = (size_t)(s - *f);
	*p = s;
	return 1;
}

int known_hosts_check(const char *text, const char *host, int port, const unsigned char *key,
		      size_t keylen, struct err_ctx *err)
{
	char name[KNOWN_HOSTS_MAX_NAME + 1], type[KNOWN_HOSTS_MAX_TYPE + 1], fp[64];
	unsigned char lkey[KNOWN_HOSTS_MAX_KEY];
	const char *p, *end;
	size_t hlen = host != NULL ? strlen(host) : 0;
	int listed = 0, matched = 0, revoked = 0;

	if (hlen == 0 || hlen > KNOWN_HOSTS_MAX_HOST || port <= 0 || port > 65535)
		return err_set(err, ERR_INVAL, "SSH host name missing or too long");
	if (text != NULL && strlen(text) > KNOWN_HOSTS_MAX_TEXT)
		return err_set(err, ERR_INVAL, "known_hosts longer than %zu bytes",
			       KNOWN_HOSTS_MAX_TEXT);
	if (port == 22)
		(void)str_fmt(name, sizeof(name), "%s", host);
	else
		(void)str_fmt(name, sizeof(name), "[%s]:%d", host, port);
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	blob_type(key, keylen, type, sizeof(type));
	if (known_hosts_fingerprint(key, keylen, fp, sizeof(fp)) != 0)
		(void)str_copy(fp, sizeof(fp), "?");
	for (p = text != NULL ? text : ""; *p != '\0'; p = *end ? end + 1 : end) {
		const char *q, *f;
		size_t n;
		int is_revoked = 0, m;
		long kl;

		end = strchr(p, '\n');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > KNOWN_HOSTS_MAX_LINE)
			continue;
		q = p;
		if (!field(&q, end, &f, &n) || f[0] == '#')
			continue;
		if (f[0] == '@') {
			if (n == 8 && memcmp(f, "@revoked", 8) == 0)
				is_revoked = 1;
			else
				continue; /* @cert-authority: not supported */
			if (!field(&q, end, &f, &n))
				continue;
		}
		m = patterns_match(f, n, name);
		if (m <= 0)
			continue;
		if (!field(&q, end, &f, &n)) /* key type */
			continue;
		if (!field(&q, end, &f, &n)) /* base64 key */
			continue;
		if (n > 0 && f[n - 1] == '\r')
			n--;
		kl = b64_decode(f, n, lkey, sizeof(lkey));
		if (kl <= 0)
			continue;
		if (!is_revoked)
			listed = 1;
		if ((size_t)kl == keylen && CRYPTO_memcmp(lkey, key, keylen) == 0) {
			if (is_revoked)
				revoked = 1;
			else
				matched = 1;
		}
	}
	if (revoked)
		return err_set(err, ERR_PERM, "SSH host key of %s (%s %s) is revoked: refused", name,
			       type, fp);
	if (matched)
		return 0;
	if (listed)
		return err_set(err, ERR_PERM,
			       "SSH host key of %s (%s %s) does not match the key known_hosts "
			       "lists for it (possible man-in-the-middle): refused",
			       name, type, fp);
	if (text == NULL || text[0] == '\0')
		return err_set(err, ERR_PERM,
			       "SSH host key of %s (%s %s) cannot be verified: no known_hosts "
			       "(sshKnownHosts or argocd-ssh-known-hosts-cm): refused",
			       name, type, fp);
	return err_set(err, ERR_PERM, "SSH host key of %s (%s %s) is unknown (not in known_hosts): refused",
		       name, type, fp);
}
