/* sops_value.c — Go-compatible scalar typing and rendering (see sops_value.h). */
#include "decryptor/sops/sops_value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/err.h"

#define NUM_MAX 128 /* longest number text handled */

static int eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static int copy_strip(const char *s, size_t n, int strip_us, char *out)
{
	size_t i, o = 0;

	if (n >= NUM_MAX)
		return ERR_TOOBIG;
	for (i = 0; i < n; i++) {
		if (s[i] == '\0')
			return ERR_INVAL;
		if (strip_us && s[i] == '_')
			continue;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return 0;
}

int sops_value_parse_int(const char *s, size_t n, int yaml, int64_t *out)
{
	char buf[NUM_MAX], *p = buf;
	int neg = 0, base = 10, d;
	uint64_t v = 0, lim;

	if (copy_strip(s, n, yaml, buf) != 0)
		return ERR_INVAL;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
	} else if (p[0] == '0' && p[1] != '\0') {
		base = 8;
		p += 1;
	}
	if (*p == '\0')
		return ERR_INVAL;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return ERR_INVAL;
		if (d >= base)
			return ERR_INVAL;
		if (v > (lim - (uint64_t)d) / (uint64_t)base)
			return ERR_TOOBIG;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int sops_value_parse_bool(const char *s, size_t n, int *out)
{
	if (eq(s, n, "1") || eq(s, n, "t") || eq(s, n, "T") || eq(s, n, "TRUE") ||
	    eq(s, n, "true") || eq(s, n, "True")) {
		*out = 1;
		return 0;
	}
	if (eq(s, n, "0") || eq(s, n, "f") || eq(s, n, "F") || eq(s, n, "FALSE") ||
	    eq(s, n, "false") || eq(s, n, "False")) {
		*out = 0;
		return 0;
	}
	return ERR_INVAL;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int yaml_float_syntax(const char *p)
{
	int digits = 0;

	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
		if (!digits)
			return 0;
	} else {
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
		if (!digits)
			return 0;
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		digits = 0;
		if (*p == '+' || *p == '-')
			p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
		if (!digits)
			return 0;
	}
	return *p == '\0';
}

int sops_value_parse_float(const char *s, size_t n, double *out)
{
	char buf[NUM_MAX], *end;
	const char *p;
	double v;

	if (copy_strip(s, n, 0, buf) != 0)
		return ERR_INVAL;
	p = buf + ((buf[0] == '+' || buf[0] == '-') ? 1 : 0);
	if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0 ||
	    strcmp(p, "Inf") == 0 || strcmp(p, "+Inf") == 0 || strcmp(p, "inf") == 0) {
		*out = buf[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (strcmp(buf, ".nan") == 0 || strcmp(buf, ".NaN") == 0 || strcmp(buf, ".NAN") == 0 ||
	    strcmp(buf, "NaN") == 0) {
		*out = NAN;
		return 0;
	}
	if (!yaml_float_syntax(buf))
		return ERR_INVAL;
	errno = 0;
	v = strtod(buf, &end);
	if (*end != '\0' || (errno == ERANGE && isinf(v)))
		return ERR_INVAL;
	*out = v;
	return 0;
}

int sops_value_format_float(double v, char *out, size_t cap)
{
	char e[64], digits[32];
	int p, exp10, nd = 0, neg, i, o = 0;
	char *q;

	if (isnan(v))
		return cap > 3 ? (memcpy(out, "NaN", 4), 0) : ERR_TOOBIG;
	if (isinf(v)) {
		if (cap < 5)
			return ERR_TOOBIG;
		memcpy(out, v < 0 ? "-Inf" : "+Inf", 5);
		return 0;
	}
	neg = signbit(v) ? 1 : 0;
	for (p = 1; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, fabs(v));
		if (strtod(e, NULL) == fabs(v))
			break;
	}
	for (q = e; *q && *q != 'e'; q++)
		if (*q >= '0' && *q <= '9')
			digits[nd++] = *q;
	exp10 = (int)strtol(q + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (nd == 1 && digits[0] == '0')
		exp10 = 0;
	/* 1 + digits + up to 340 zeros: bounded by cap */
	if ((size_t)(nd + abs(exp10) + 4) > cap)
		return ERR_TOOBIG;
	if (neg)
		out[o++] = '-';
	if (exp10 >= 0) {
		for (i = 0; i <= exp10; i++)
			out[o++] = i < nd ? digits[i] : '0';
		if (nd > exp10 + 1) {
			out[o++] = '.';
			for (i = exp10 + 1; i < nd; i++)
				out[o++] = digits[i];
		}
	} else {
		out[o++] = '0';
		out[o++] = '.';
		for (i = 0; i < -exp10 - 1; i++)
			out[o++] = '0';
		for (i = 0; i < nd; i++)
			out[o++] = digits[i];
	}
	out[o] = '\0';
	return 0;
}

/* Reads 1..maxd digits. */
static int digits_at(const char **p, const char *end, int mind, int maxd, int *out)
{
	int v = 0, d = 0;

	while (*p < end && **p >= '0' && **p <= '9' && d < maxd) {
		v = v * 10 + (**p - '0');
		(*p)++;
		d++;
	}
	if (d < mind)
		return ERR_INVAL;
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

int sops_value_time_canonical(const char *s, size_t n, char *out, size_t cap)
{
	const char *p = s, *end = s + n;
	int y, mo, d, h = 0, mi = 0, se = 0, off = 0, oh, om, sign, nfrac = 0, i;
	char frac[10] = {0};

	if (n < 8 || digits_at(&p, end, 4, 4, &y) != 0 || p >= end || *p++ != '-' ||
	    digits_at(&p, end, 1, 2, &mo) != 0 || p >= end || *p++ != '-' ||
	    digits_at(&p, end, 1, 2, &d) != 0)
		return ERR_INVAL;
	if (p < end) {
		int spaced = *p == ' ';

		if (*p != 'T' && *p != 't' && *p != ' ')
			return ERR_INVAL;
		p++;
		if (digits_at(&p, end, 1, 2, &h) != 0 || p >= end || *p++ != ':' ||
		    digits_at(&p, end, 1, 2, &mi) != 0 || p >= end || *p++ != ':' ||
		    digits_at(&p, end, 1, 2, &se) != 0)
			return ERR_INVAL;
		if (p < end && *p == '.') {
			p++;
			while (p < end && *p >= '0' && *p <= '9') {
				if (nfrac < 9)
					frac[nfrac++] = *p;
				p++;
			}
			if (nfrac == 0)
				return ERR_INVAL;
		}
		if (spaced) {
			if (p != end)
				return ERR_INVAL;
		} else {
			if (p >= end)
				return ERR_INVAL;
			if (*p == 'Z') {
				p++;
			} else if (*p == '+' || *p == '-') {
				sign = *p++ == '-' ? -1 : 1;
				if (digits_at(&p, end, 2, 2, &oh) != 0 || p >= end || *p++ != ':' ||
				    digits_at(&p, end, 2, 2, &om) != 0 || oh > 23 || om > 59)
					return ERR_INVAL;
				off = sign * (oh * 60 + om);
			} else {
				return ERR_INVAL;
			}
			if (p != end)
				return ERR_INVAL;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    se > 59)
		return ERR_INVAL;
	while (nfrac > 0 && frac[nfrac - 1] == '0')
		nfrac--;
	frac[nfrac] = '\0';
	i = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", y, mo, d, h, mi, se,
		     nfrac ? "." : "", frac);
	if (i < 0 || (size_t)i >= cap)
		return ERR_TOOBIG;
	if (off == 0)
		i = snprintf(out + i, cap - (size_t)i, "Z");
	else
		i = snprintf(out + i, cap - (size_t)i, "%c%02d:%02d", off < 0 ? '-' : '+',
			     abs(off) / 60, abs(off) % 60);
	return i < 0 ? ERR_TOOBIG : 0;
}

enum sops_type sops_value_resolve_yaml(const char *s, size_t n)
{
	char tbuf[64];
	int64_t iv;
	double fv;

	if (n == 0 || eq(s, n, "~") || eq(s, n, "null") || eq(s, n, "Null") || eq(s, n, "NULL"))
		return SOPS_T_NULL;
	if (eq(s, n, "true") || eq(s, n, "True") || eq(s, n, "TRUE") || eq(s, n, "false") ||
	    eq(s, n, "False") || eq(s, n, "FALSE"))
		return SOPS_T_BOOL;
	if (s[0] == '.' || (s[0] == '+' || s[0] == '-')) {
		const char *p = s + (s[0] == '.' ? 0 : 1);
		size_t m = n - (size_t)(p - s);

		if (eq(p, m, ".inf") || eq(p, m, ".Inf") || eq(p, m, ".INF"))
			return SOPS_T_FLOAT;
		if (s[0] == '.' && (eq(s, n, ".nan") || eq(s, n, ".NaN") || eq(s, n, ".NAN")))
			return SOPS_T_FLOAT;
		if (s[0] == '.')
			return sops_value_parse_float(s, n, &fv) == 0 ? SOPS_T_FLOAT : SOPS_T_STR;
	}
	if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '+' || s[0] == '-'))
		return SOPS_T_STR;
	if (sops_value_time_canonical(s, n, tbuf, sizeof(tbuf)) == 0)
		return SOPS_T_TIME;
	if (sops_value_parse_int(s, n, 1, &iv) == 0)
		return SOPS_T_INT;
	{
		char buf[NUM_MAX];

		if (copy_strip(s, n, 1, buf) == 0 && yaml_float_syntax(buf) &&
		    sops_value_parse_float(buf, strlen(buf), &fv) == 0)
			return SOPS_T_FLOAT;
	}
	return SOPS_T_STR;
}

int sops_value_canonical(const struct sops_node *n, struct secbuf *out)
{
	const char *s = n->value ? (const char *)n->value->data : "";
	size_t len = n->value ? n->value->len : 0;
	char buf[512];
	int64_t iv;
	double fv;
	int bv, rc;

	switch (n->type) {
	case SOPS_T_NULL:
		return 0;
	case SOPS_T_STR:
	case SOPS_T_BYTES:
		return secbuf_put(out, s, len);
	case SOPS_T_INT:
		if ((rc = sops_value_parse_int(s, len, 1, &iv)) != 0)
			return ERR_INVAL;
		snprintf(buf, sizeof(buf), "%lld", (long long)iv);
		break;
	case SOPS_T_FLOAT: {
		char tmp[NUM_MAX];

		if (copy_strip(s, len, 1, tmp) != 0 ||
		    sops_value_parse_float(tmp, strlen(tmp), &fv) != 0 ||
		    sops_value_format_float(fv, buf, sizeof(buf)) != 0)
			return ERR_INVAL;
		break;
	}
	case SOPS_T_BOOL:
		if (sops_value_parse_bool(s, len, &bv) != 0)
			return ERR_INVAL;
		snprintf(buf, sizeof(buf), "%s", bv ? "True" : "False");
		break;
	case SOPS_T_TIME:
		if (sops_value_time_canonical(s, len, buf, sizeof(buf)) != 0)
			return ERR_INVAL;
		break;
	default:
		return ERR_INVAL;
	}
	rc = secbuf_put(out, buf, strlen(buf));
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

const char *sops_value_type_name(enum sops_type t)
{
	switch (t) {
	case SOPS_T_STR: return "str";
	case SOPS_T_INT: return "int";
	case SOPS_T_FLOAT: return "float";
	case SOPS_T_BOOL: return "bool";
	case SOPS_T_TIME: return "time";
	case SOPS_T_BYTES: return "bytes";
	default: return "str";
	}
}

int sops_value_type_from_name(const char *s, size_t n, enum sops_type *out)
{
	static const struct { const char *name; enum sops_type t; } map[] = {
		{"str", SOPS_T_STR}, {"int", SOPS_T_INT}, {"float", SOPS_T_FLOAT},
		{"bool", SOPS_T_BOOL}, {"time", SOPS_T_TIME}, {"bytes", SOPS_T_BYTES},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (eq(s, n, map[i].name)) {
			*out = map[i].t;
			return 0;
		}
	}
	return ERR_INVAL;
}
