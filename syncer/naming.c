/* naming.c — remote names: join, reference sanitising, provider rules (see naming.h). */
#include "syncer/naming.h"

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "common/str.h"
#include "common/xmalloc.h"

struct naming_rule {
	const char *kind;
	size_t max;
	bool dash_only; /* azure: '_' is not allowed, it becomes '-' */
};

static const struct naming_rule naming_rules[] = {
	{"local", NAMING_MAX_LOCAL, false},
	{"gcp", NAMING_MAX_GCP, false},
	{"aws", NAMING_MAX_AWS, false},
	{"azure", NAMING_MAX_AZURE, true},
};

static locale_t naming_locale = (locale_t)0;
static bool naming_locale_tried;

int naming_init(void)
{
	if (!naming_locale_tried) {
		naming_locale_tried = true;
		naming_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return naming_locale != (locale_t)0 ? 0 : ERR_NOTFOUND;
}

/* Non-ASCII code point classification; conservative (alphanumeric) without the locale. */
static bool naming_wide_alnum(uint32_t cp)
{
	(void)naming_init();
	if (naming_locale == (locale_t)0)
		return true;
	return iswalnum_l((wint_t)cp, naming_locale) != 0;
}

static bool naming_ascii_keep(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* In place: runs of '-' collapse to one, leading and trailing '-' are trimmed. */
static void naming_collapse_dashes(char *s)
{
	size_t r, w = 0;

	for (r = 0; s[r] != '\0'; r++) {
		if (s[r] == '-' && (w == 0 || s[w - 1] == '-'))
			continue;
		s[w++] = s[r];
	}
	while (w > 0 && s[w - 1] == '-')
		w--;
	s[w] = '\0';
}

int naming_remote_name(const char *provider_kind, const char *prefix, const char *key,
		       const char *suffix, char **out, struct err_ctx *err)
{
	const struct naming_rule *rule = NULL;
	size_t np, nk, ns, total, i, w, nj;
	char *joined = NULL, *name = NULL;
	int rc;

	if (provider_kind == NULL || key == NULL)
		return err_set(err, ERR_INVAL, "naming: provider kind and key are required");
	for (i = 0; i < sizeof(naming_rules) / sizeof(naming_rules[0]); i++) {
		if (strcmp(naming_rules[i].kind, provider_kind) == 0)
			rule = &naming_rules[i];
	}
	if (rule == NULL)
		return err_set(err, ERR_UNSUPPORTED, "naming: unknown provider kind '%.64s'",
			       provider_kind);
	if (prefix == NULL)
		prefix = "";
	if (suffix == NULL)
		suffix = "";
	while (*suffix == '-')
		suffix++;
	np = strlen(prefix);
	nk = strlen(key);
	ns = strlen(suffix);
	if (np > NAMING_MAX_INPUT || nk > NAMING_MAX_INPUT || ns > NAMING_MAX_INPUT ||
	    np + nk + ns + 2 > NAMING_MAX_INPUT)
		return err_set(err, ERR_INVAL, "key '%.128s': prefix, key and suffix exceed %d bytes",
			       key, NAMING_MAX_INPUT);
	if (!str_utf8_valid(prefix, np) || !str_utf8_valid(key, nk) ||
	    !str_utf8_valid(suffix, ns))
		return err_set(err, ERR_INVAL, "key (%zu bytes): prefix, key or suffix is not valid UTF-8",
			       nk);

	total = np + nk + ns + 3;
	joined = malloc(total);
	name = malloc(total);
	if (joined == NULL || name == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	w = 0;
	if (np > 0) {
		memcpy(joined + w, prefix, np);
		w += np;
		joined[w++] = '-';
	}
	memcpy(joined + w, key, nk);
	w += nk;
	if (ns > 0) {
		joined[w++] = '-';
		memcpy(joined + w, suffix, ns);
		w += ns;
	}
	joined[w] = '\0';
	nj = w;

	/* Reference sanitising: one '_' per code point that is not kept. Every output byte
	 * is ASCII, so the output is never longer than the input. */
	w = 0;
	for (i = 0; joined[i] != '\0';) {
		const unsigned char *p = (const unsigned char *)joined + i;
		uint32_t cp;
		size_t len = str_utf8_next(p, nj - i, &cp); /* > 0: joined is valid UTF-8 */

		if (cp < 0x80) {
			name[w++] = naming_ascii_keep(p[0]) ? (char)p[0] : '_';
		} else if (naming_wide_alnum(cp)) {
			rc = err_set(err, ERR_INVAL,
				     "key '%.128s': non-ASCII letter or digit U+%04X is not allowed in "
				     "%s names",
				     key, (unsigned)cp, rule->kind);
			goto out;
		} else {
			name[w++] = '_';
		}
		i += len;
	}
	name[w] = '\0';
	naming_collapse_dashes(name);
	if (rule->dash_only) {
		for (i = 0; name[i] != '\0'; i++) {
			if (name[i] == '_')
				name[i] = '-';
		}
		naming_collapse_dashes(name);
	}
	w = strlen(name);
	if (w == 0) {
		rc = err_set(err, ERR_INVAL, "key '%.128s': the %s name would be empty", key,
			     rule->kind);
		goto out;
	}
	if (w > rule->max) {
		rc = err_set(err, ERR_INVAL, "key '%.128s': the %s name is %zu bytes, at most %zu allowed",
			     key, rule->kind, w, rule->max);
		goto out;
	}
	*out = name;
	name = NULL;
	rc = 0;
out:
	free(joined);
	free(name);
	return rc;
}
