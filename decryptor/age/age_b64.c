/* age_b64.c — strict canonical base64 (see age_b64.h). */
#include "decryptor/age/age_b64.h"

#include "common/err.h"

static const char age_b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t age_b64_decoded_max(size_t n)
{
	return n / 4 * 3 + 3;
}

size_t age_b64_encoded_len(size_t n, int padded)
{
	if (padded)
		return (n + 2) / 3 * 4;
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

int age_b64_decode(const char *s, size_t n, int padded, uint8_t *out, size_t outcap,
		   size_t *outlen)
{
	size_t i, o = 0, data = n, rem;
	uint32_t acc = 0;
	int bits = 0, v;

	if (padded) {
		if (n % 4 != 0)
			return ERR_INVAL;
		while (data > 0 && n - data < 2 && s[data - 1] == '=')
			data--;
	}
	rem = data % 4;
	if (rem == 1)
		return ERR_INVAL;
	if (padded && n - data != (rem == 0 ? 0 : 4 - rem))
		return ERR_INVAL;
	if (data / 4 * 3 + (rem ? rem - 1 : 0) > outcap)
		return ERR_TOOBIG;
	for (i = 0; i < data; i++) {
		v = b64_val((unsigned char)s[i]);
		if (v < 0)
			return ERR_INVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* non-zero unused bits: not canonical */
		return ERR_INVAL;
	*outlen = o;
	return 0;
}

int age_b64_encode(const uint8_t *p, size_t n, int padded, char *out, size_t outcap)
{
	size_t need = age_b64_encoded_len(n, padded), i, o = 0;
	uint32_t v;

	if (need >= outcap)
		return ERR_TOOBIG;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = age_b64_alpha[v >> 18];
		out[o++] = age_b64_alpha[(v >> 12) & 63];
		out[o++] = age_b64_alpha[(v >> 6) & 63];
		out[o++] = age_b64_alpha[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		out[o++] = age_b64_alpha[v >> 18];
		out[o++] = age_b64_alpha[(v >> 12) & 63];
		if (padded) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = age_b64_alpha[v >> 18];
		out[o++] = age_b64_alpha[(v >> 12) & 63];
		out[o++] = age_b64_alpha[(v >> 6) & 63];
		if (padded)
			out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}
