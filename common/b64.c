/* b64.c — base64 (standard and URL alphabets) between secbufs and text, byte by byte so
 * no plaintext passes through an unlocked buffer. */
#include "common/b64.h"

#include <string.h>

#include "common/err.h"

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_encode_secret(const void *p, size_t n, int url, struct secbuf **out)
{
	const char *alpha = url ? b64url : b64std;
	const uint8_t *s = p;
	struct secbuf *b = NULL;
	size_t need;
	int rc;

	if (n > ((size_t)64 << 20))
		return ERR_TOOBIG;
	need = 4 * ((n + 2) / 3) + 1;
	if ((rc = secbuf_new(&b, need)) != 0)
		return rc;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		size_t k = n - i;
		char q[4];
		size_t m = 4;

		if (k > 1)
			v |= (uint32_t)s[i + 1] << 8;
		if (k > 2)
			v |= s[i + 2];
		q[0] = alpha[(v >> 18) & 63];
		q[1] = alpha[(v >> 12) & 63];
		q[2] = k > 1 ? alpha[(v >> 6) & 63] : '=';
		q[3] = k > 2 ? alpha[v & 63] : '=';
		if (url)
			m = k > 2 ? 4 : k + 1;
		rc = secbuf_put(b, q, m);
		explicit_bzero(q, sizeof(q));
		v = 0;
		if (rc != 0) {
			secbuf_free(b);
			return rc;
		}
	}
	*out = b;
	return 0;
}

static int b64_val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

int b64_decode_secret(const char *s, size_t n, size_t max, struct secbuf **out)
{
	struct secbuf *b = NULL;
	uint32_t acc = 0;
	int bits = 0, rc;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return ERR_INVAL;
	if ((rc = secbuf_new(&b, max)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val(s[i]);

		if (v < 0) {
			rc = ERR_INVAL;
			goto fail;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			uint8_t byte = (uint8_t)(acc >> (bits - 8));

			bits -= 8;
			if ((rc = secbuf_put(b, &byte, 1)) != 0)
				goto fail;
			byte = 0;
		}
	}
	acc = 0;
	*out = b;
	return 0;
fail:
	acc = 0;
	secbuf_free(b);
	return rc;
}
