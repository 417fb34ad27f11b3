/* age_bech32.c — bech32 encode/decode (see age_bech32.h). */
#include "decryptor/age/age_bech32.h"

#include <string.h>

#include "common/err.h"

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t bech32_polymod_step(uint32_t pre)
{
	uint8_t b = (uint8_t)(pre >> 25);

	return ((pre & 0x1FFFFFF) << 5) ^ (-((b >> 0) & 1) & 0x3b6a57b2UL) ^
	       (-((b >> 1) & 1) & 0x26508e6dUL) ^ (-((b >> 2) & 1) & 0x1ea119faUL) ^
	       (-((b >> 3) & 1) & 0x3d4233ddUL) ^ (-((b >> 4) & 1) & 0x2a1462b3UL);
}

static int bech32_rev(char c)
{
	const char *p = memchr(bech32_charset, c, 32);

	return (c != '\0' && p != NULL) ? (int)(p - bech32_charset) : -1;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int age_bech32_decode(const char *s, size_t n, char *hrp, size_t hrpcap, uint8_t *data,
		      size_t datacap, size_t *datalen)
{
	size_t i, sep, hl, o = 0;
	int has_lower = 0, has_upper = 0, v, bits = 0;
	uint32_t chk = 1, acc = 0;

	if (n < 8 || n > AGE_BECH32_MAX_LEN)
		return ERR_INVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126)
			return ERR_INVAL;
		if (c >= 'a' && c <= 'z')
			has_lower = 1;
		if (c >= 'A' && c <= 'Z')
			has_upper = 1;
	}
	if (has_lower && has_upper)
		return ERR_INVAL;
	for (sep = n; sep > 0 && s[sep - 1] != '1'; sep--)
		;
	if (sep == 0)
		return ERR_INVAL;
	hl = sep - 1;
	if (hl < 1 || hl > AGE_BECH32_MAX_HRP || hl + 1 > hrpcap || n - sep < 6)
		return ERR_INVAL;
	for (i = 0; i < hl; i++) {
		hrp[i] = lower(s[i]);
		chk = bech32_polymod_step(chk) ^ ((unsigned char)hrp[i] >> 5);
	}
	hrp[hl] = '\0';
	chk = bech32_polymod_step(chk);
	for (i = 0; i < hl; i++)
		chk = bech32_polymod_step(chk) ^ ((unsigned char)hrp[i] & 0x1f);
	for (i = sep; i < n; i++) {
		v = bech32_rev(lower(s[i]));
		if (v < 0)
			return ERR_INVAL;
		chk = bech32_polymod_step(chk) ^ (uint32_t)v;
		if (i + 6 >= n)
			continue; /* checksum characters carry no data */
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= datacap)
				return ERR_TOOBIG;
			data[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (chk != 1 || bits >= 5 || acc != 0) /* leftover bits must be zero */
		return ERR_INVAL;
	*datalen = o;
	return 0;
}

int age_bech32_encode(const char *hrp, const uint8_t *data, size_t datalen, int upper,
		      char *out, size_t outcap)
{
	size_t hl = strlen(hrp), i, o = 0, need;
	uint32_t chk = 1, acc = 0;
	int bits = 0;
	uint8_t v;

	need = hl + 1 + (datalen * 8 + 4) / 5 + 6 + 1;
	if (hl == 0 || hl > AGE_BECH32_MAX_HRP || need > outcap)
		return ERR_TOOBIG;
	for (i = 0; i < hl; i++)
		chk = bech32_polymod_step(chk) ^ ((unsigned char)hrp[i] >> 5);
	chk = bech32_polymod_step(chk);
	for (i = 0; i < hl; i++) {
		chk = bech32_polymod_step(chk) ^ ((unsigned char)hrp[i] & 0x1f);
		out[o++] = hrp[i];
	}
	out[o++] = '1';
	for (i = 0; i < datalen; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			v = (uint8_t)((acc >> bits) & 31);
			chk = bech32_polymod_step(chk) ^ v;
			out[o++] = bech32_charset[v];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0) {
		v = (uint8_t)((acc << (5 - bits)) & 31);
		chk = bech32_polymod_step(chk) ^ v;
		out[o++] = bech32_charset[v];
	}
	for (i = 0; i < 6; i++)
		chk = bech32_polymod_step(chk);
	chk ^= 1;
	for (i = 0; i < 6; i++)
		out[o++] = bech32_charset[(chk >> (5 * (5 - i))) & 31];
	out[o] = '\0';
	if (upper) {
		for (i = 0; i < o; i++)
			if (out[i] >= 'a' && out[i] <= 'z')
				out[i] = (char)(out[i] - 'a' + 'A');
	}
	acc = 0;
	return 0;
}
