/* age_armor.c — strict age armor (C2SP age.md, "ASCII armor"). */
#include "decryptor/age/age_armor.h"

#include <string.h>

#include "decryptor/age/age_b64.h"

static const char armor_begin[] = "-----BEGIN AGE ENCRYPTED FILE-----";
static const char armor_end[] = "-----END AGE ENCRYPTED FILE-----";

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int age_armor_detect(const uint8_t *in, size_t n)
{
	size_t i = 0;

	while (i < n && i < AGE_ARMOR_MAX_WS && is_ws(in[i]))
		i++;
	return n - i >= 10 && memcmp(in + i, "-----BEGIN", 10) == 0;
}

/* Reads the next line starting at *pos: its content (without LF or CRLF) is
 * in[*start..*start+*len). *had_nl says whether a newline ended it. */
static void next_line(const uint8_t *in, size_t n, size_t *pos, size_t *start, size_t *len,
		      int *had_nl)
{
	size_t i = *pos;

	*start = i;
	while (i < n && in[i] != '\n')
		i++;
	*had_nl = i < n;
	*len = i - *start;
	if (*len > 0 && in[*start + *len - 1] == '\r' && *had_nl)
		(*len)--;
	*pos = *had_nl ? i + 1 : i;
}

int age_armor_decode(const uint8_t *in, size_t n, struct buf *out, struct err_ctx *err)
{
	size_t pos = 0, start, len, got, base = out->len;
	uint8_t chunk[AGE_ARMOR_COLS / 4 * 3];
	int nl, rc, last_short = 0, ended = 0;

	if (n > AGE_ARMOR_MAX_IN)
		return err_set(err, ERR_TOOBIG, "armored age file larger than %u bytes",
			       AGE_ARMOR_MAX_IN);
	while (pos < n && is_ws(in[pos])) {
		if (++pos > AGE_ARMOR_MAX_WS)
			return err_set(err, ERR_INVAL, "armor: too much leading whitespace");
	}
	next_line(in, n, &pos, &start, &len, &nl);
	if (len != sizeof(armor_begin) - 1 || memcmp(in + start, armor_begin, len) != 0 || !nl)
		return err_set(err, ERR_INVAL, "armor: missing or malformed header line");
	while (pos < n) {
		next_line(in, n, &pos, &start, &len, &nl);
		if (len == sizeof(armor_end) - 1 && memcmp(in + start, armor_end, len) == 0) {
			ended = 1;
			break;
		}
		if (last_short) {
			rc = err_set(err, ERR_INVAL, "armor: short line not followed by the footer");
			goto fail;
		}
		if (len == 0 || len > AGE_ARMOR_COLS) {
			rc = err_set(err, ERR_INVAL, "armor: empty or over-long line");
			goto fail;
		}
		if (age_b64_decode((const char *)in + start, len, 1, chunk, sizeof(chunk),
				   &got) != 0) {
			rc = err_set(err, ERR_INVAL, "armor: invalid base64 line");
			goto fail;
		}
		if (len < AGE_ARMOR_COLS || got < sizeof(chunk))
			last_short = 1;
		if ((rc = buf_put(out, chunk, got)) != 0) {
			err_set(err, rc, "armor: decoded file too large");
			goto fail;
		}
	}
	if (!ended) {
		rc = err_set(err, ERR_INVAL, "armor: missing footer line");
		goto fail;
	}
	if (n - pos > AGE_ARMOR_MAX_WS) {
		rc = err_set(err, ERR_INVAL, "armor: trailing data after the footer");
		goto fail;
	}
	for (; pos < n; pos++) {
		if (!is_ws(in[pos])) {
			rc = err_set(err, ERR_INVAL, "armor: trailing data after the footer");
			goto fail;
		}
	}
	return 0;
fail:
	out->len = base;
	return rc;
}

int age_armor_encode(const uint8_t *bin, size_t n, struct buf *out)
{
	char line[AGE_ARMOR_COLS + 2];
	size_t i, take;
	int rc;

	if ((rc = buf_put_str(out, armor_begin)) != 0 || (rc = buf_put_u8(out, '\n')) != 0)
		return rc;
	for (i = 0; i < n; i += take) {
		take = n - i > AGE_ARMOR_COLS / 4 * 3 ? AGE_ARMOR_COLS / 4 * 3 : n - i;
		if ((rc = age_b64_encode(bin + i, take, 1, line, sizeof(line))) != 0)
			return rc;
		if ((rc = buf_put_str(out, line)) != 0 || (rc = buf_put_u8(out, '\n')) != 0)
			return rc;
	}
	if ((rc = buf_put_str(out, armor_end)) != 0 || (rc = buf_put_u8(out, '\n')) != 0)
		return rc;
	return 0;
}
