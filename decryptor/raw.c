/* raw.c — raw mode: profile directory discovery and collection (rules in raw.h). */
#include "decryptor/raw.h"

#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/parse_env.h"
#include "decryptor/parse_kv.h"
#include "decryptor/parse_properties.h"
#include "decryptor/parse_yaml.h"

#define RAW_DC "deployment-configuration"
#define RAW_PROFILES "profiles"
#define RAW_DEFAULT_GROUP "default"

struct raw_svc {
	char *dc;      /* owned: tree path of the deployment-configuration directory */
	char *group;   /* owned */
	bool profiles; /* <dc>/profiles/<env>/ holds a file */
	bool plain;    /* <dc>/<env>/ holds a file */
};

struct raw_svcs {
	struct raw_svc *v;
	size_t n, cap;
};

enum raw_kind { RAW_SECRET, RAW_CONFIG };

typedef int (*raw_parse_fn)(const char *, const uint8_t *, size_t, struct kvlist *,
			    struct err_ctx *);

static const struct {
	const char *name;
	raw_parse_fn parse;
	enum raw_kind kind;
} raw_inputs[] = {
    {"application.secrets.env", parse_env, RAW_SECRET},
    {"application.secrets.yaml", parse_yaml, RAW_SECRET},
    {"application.properties", parse_properties, RAW_CONFIG},
};

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int raw_environment_check(const char *e)
{
	size_t n;

	if (e == NULL || (n = strlen(e)) == 0 || n > RAW_MAX_ENVIRONMENT)
		return ERR_INVAL;
	if (!is_alnum(e[0]) || !is_alnum(e[n - 1]) || strstr(e, "..") != NULL)
		return ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		if (!is_alnum(e[i]) && e[i] != '-' && e[i] != '_' && e[i] != '.')
			return ERR_INVAL;
	}
	return 0;
}

int raw_open_plain(void *arg, const struct tree_file *f, struct secbuf **plain, bool *encrypted,
		   struct err_ctx *err)
{
	struct secbuf *s;
	int rc;

	(void)arg;
	if ((rc = secbuf_from(&s, f->data, f->size)) != 0)
		return err_set(err, rc, "%s: %s", f->path, err_str(rc));
	*plain = s;
	*encrypted = false;
	return 0;
}

void raw_files_free(struct file_report *files, size_t n)
{
	if (files == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}

/* base_path without "./", "." and empty components and without leading or trailing '/'.
 * Owned result in *out ("" for the root). ERR_INVAL on a ".." component. */
static int norm_base(const char *base, char **out)
{
	size_t n = base ? strlen(base) : 0, o = 0, i = 0;
	char *r;

	if (n > TREE_MAX_PATH)
		return ERR_INVAL;
	if ((r = malloc(n + 1)) == NULL)
		return ERR_NOMEM;
	while (i < n) {
		size_t j = i;

		while (j < n && base[j] != '/')
			j++;
		if (j - i == 2 && base[i] == '.' && base[i + 1] == '.') {
			free(r);
			return ERR_INVAL;
		}
		if (j > i && !(j - i == 1 && base[i] == '.')) {
			if (o > 0)
				r[o++] = '/';
			memcpy(r + o, base + i, j - i);
			o += j - i;
		}
		i = j + 1;
	}
	r[o] = '\0';
	*out = r;
	return 0;
}

static const struct tree_file *find_file(const struct tree *t, const char *path)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->files[i].path, path) == 0)
			return &t->files[i];
	}
	return NULL;
}

static void svcs_free(struct raw_svcs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].dc);
		free(s->v[i].group);
	}
	free(s->v);
}

/* Records that the deployment-configuration directory dc (dc_len bytes of a path) has a
 * profile directory of the given form. */
static int svcs_note(struct raw_svcs *s, const char *dc, size_t dc_len, const char *group,
		     size_t group_len, bool profiles)
{
	struct raw_svc *v;

	for (size_t i = 0; i < s->n; i++) {
		v = &s->v[i];
		if (strlen(v->dc) == dc_len && memcmp(v->dc, dc, dc_len) == 0) {
			if (profiles)
				v->profiles = true;
			else
				v->plain = true;
			return 0;
		}
	}
	if (s->n >= RAW_MAX_SERVICES)
		return ERR_TOOBIG;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;

		if ((v = xreallocarray(s->v, ncap, sizeof(*v))) == NULL)
			return ERR_NOMEM;
		s->v = v;
		s->cap = ncap;
	}
	v = &s->v[s->n];
	v->dc = xstrndup(dc, dc_len);
	v->group = xstrndup(group, group_len);
	if (v->dc == NULL || v->group == NULL) {
		free(v->dc);
		free(v->group);
		return ERR_NOMEM;
	}
	v->profiles = profiles;
	v->plain = !profiles;
	s->n++;
	return 0;
}

static bool comp_is(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(p, word, len) == 0;
}

/* Finds every service with a profile directory for env under base (normalised). */
static int discover(const struct tree *t, const char *base, const char *env, struct raw_svcs *s)
{
	const char *base_group = RAW_DEFAULT_GROUP, *slash;
	size_t blen = strlen(base);
	int rc;

	if (blen > 0)
		base_group = (slash = strrchr(base, '/')) ? slash + 1 : base;
	for (size_t f = 0; f < t->n; f++) {
		const char *path = t->files[f].path, *rel = path;
		const char *cs[TREE_MAX_DEPTH + 1];
		size_t cl[TREE_MAX_DEPTH + 1], nc = 0;

		if (blen > 0) {
			if (strncmp(path, base, blen) != 0 || path[blen] != '/')
				continue;
			rel = path + blen + 1;
		}
		for (const char *p = rel; *p != '\0' && nc <= TREE_MAX_DEPTH;) {
			const char *e = strchr(p, '/');
			size_t len = e ? (size_t)(e - p) : strlen(p);

			cs[nc] = p;
			cl[nc++] = len;
			p += len + (e != NULL);
		}
		for (size_t i = 0; i < nc; i++) {
			const char *g = base_group;
			size_t glen = strlen(base_group), dclen;

			if (!comp_is(cs[i], cl[i], RAW_DC))
				continue;
			if (i > 0) {
				g = cs[i - 1];
				glen = cl[i - 1];
			}
			dclen = (size_t)(cs[i] - path) + cl[i];
			/* the file lies below <dc>/profiles/<env>/ or <dc>/<env>/ */
			if (i + 3 < nc && comp_is(cs[i + 1], cl[i + 1], RAW_PROFILES) &&
			    comp_is(cs[i + 2], cl[i + 2], env) &&
			    (rc = svcs_note(s, path, dclen, g, glen, true)) != 0)
				return rc;
			if (i + 2 < nc && comp_is(cs[i + 1], cl[i + 1], env) &&
			    (rc = svcs_note(s, path, dclen, g, glen, false)) != 0)
				return rc;
		}
	}
	return 0;
}

static int cmp_svc(const void *a, const void *b)
{
	return strcmp(((const struct raw_svc *)a)->dc, ((const struct raw_svc *)b)->dc);
}

static int cmp_kv_group_key(const void *a, const void *b)
{
	const struct kv *x = *(const struct kv *const *)a, *y = *(const struct kv *const *)b;
	int c = strcmp(x->group ? x->group : "", y->group ? y->group : "");

	if (c == 0)
		c = strcmp(x->key, y->key);
	if (c == 0)
		c = x < y ? -1 : (x > y);
	return c;
}

/* ERR_CONFLICT when one (group, key) appears twice in l. */
static int check_conflicts(const struct kvlist *l, const char *what, struct err_ctx *err)
{
	const struct kv **v;
	int rc = 0;

	if (l->n < 2)
		return 0;
	if ((rc = parse_kv_sorted(l, cmp_kv_group_key, &v)) != 0)
		return rc;
	for (size_t i = 1; i < l->n && rc == 0; i++) {
		if (strcmp(v[i - 1]->key, v[i]->key) != 0 ||
		    strcmp(v[i - 1]->group ? v[i - 1]->group : "",
			   v[i]->group ? v[i]->group : "") != 0)
			continue;
		rc = err_set(
		    err, ERR_CONFLICT,
		    "%s key \"%.128s\" of service \"%.128s\" is defined twice: at %s and at %s",
		    what, v[i]->key, v[i]->group ? v[i]->group : "",
		    v[i - 1]->origin ? v[i - 1]->origin : "?", v[i]->origin ? v[i]->origin : "?");
	}
	free(v);
	return rc;
}

/* Reads, parses and appends one file; adds its report. */
static int collect_file(const struct tree_file *f, size_t input, const char *group,
			raw_open_fn open, void *open_arg, struct kvlist *dst,
			struct file_report **files, size_t *nfiles, size_t *cap,
			struct err_ctx *err)
{
	struct secbuf *plain = NULL;
	struct kvlist parsed;
	bool encrypted = false;
	int rc;

	kvlist_init(&parsed);
	if (*nfiles == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct file_report *p = xreallocarray(*files, ncap, sizeof(*p));

		if (p == NULL)
			return ERR_NOMEM;
		*files = p;
		*cap = ncap;
	}
	if ((rc = open(open_arg, f, &plain, &encrypted, err)) != 0)
		goto out;
	if ((rc = raw_inputs[input].parse(f->path, plain->data, plain->len, &parsed, err)) != 0)
		goto out;
	if (parsed.n > UINT32_MAX) {
		rc = err_set(err, ERR_TOOBIG, "%s: too many keys", f->path);
		goto out;
	}
	if (((*files)[*nfiles].path = xstrdup(f->path)) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	(*files)[*nfiles].encrypted = encrypted;
	(*files)[*nfiles].count = (uint32_t)parsed.n;
	(*nfiles)++;
	for (size_t i = 0; i < parsed.n; i++) {
		struct kv *kv = &parsed.items[i];

		rc = kvlist_add_group(dst, group, kv->key, kv->value, kv->origin);
		kv->value = NULL; /* transferred, even on failure */
		if (rc != 0) {
			rc = err_set(err, rc, "%s: %s", kv->origin ? kv->origin : f->path,
				     err_str(rc));
			goto out;
		}
	}
out:
	secbuf_free(plain);
	kvlist_free(&parsed);
	return rc;
}

int raw_collect(const struct tree *t, const char *base_path, const char *environment,
		raw_open_fn open, void *open_arg, struct kvlist *secrets, struct kvlist *configs,
		struct file_report **files, size_t *nfiles, struct err_ctx *err)
{
	struct raw_svcs svcs = {NULL, 0, 0};
	struct kvlist sec, cfg;
	struct file_report *fr = NULL;
	size_t nfr = 0, cap = 0;
	char *base = NULL, path[TREE_MAX_PATH + 64];
	int rc;

	kvlist_init(&sec);
	kvlist_init(&cfg);
	if (open == NULL || secrets->n != 0 || configs->n != 0)
		return err_set(err, ERR_INVAL, "raw mode: bad arguments");
	if (raw_environment_check(environment) != 0)
		return err_set(err, ERR_INVAL,
			       "environment \"%.80s\" is not a valid profile name (a Kubernetes "
			       "label value, at most %d characters, no \"..\")",
			       environment ? environment : "", RAW_MAX_ENVIRONMENT);
	if ((rc = norm_base(base_path, &base)) != 0)
		return err_set(err, rc,
			       "base path \"%.256s\" is not a relative path inside the "
			       "repository",
			       base_path);
	if ((rc = discover(t, base, environment, &svcs)) != 0) {
		err_set(err, rc, "base path \"%s\": more than %d service directories", base,
			RAW_MAX_SERVICES);
		goto out;
	}
	if (svcs.n == 0) {
		rc = err_set(err, ERR_NOTFOUND,
			     "no profile directory for environment \"%s\" under base path \"%s\" "
			     "(looked for <service>/" RAW_DC "/" RAW_PROFILES
			     "/%s/ and <service>/" RAW_DC "/%s/)",
			     environment, base[0] ? base : ".", environment, environment);
		goto out;
	}
	qsort(svcs.v, svcs.n, sizeof(*svcs.v), cmp_svc);
	for (size_t s = 0; s < svcs.n; s++) {
		const struct raw_svc *v = &svcs.v[s];

		for (size_t i = 0; i < sizeof(raw_inputs) / sizeof(raw_inputs[0]); i++) {
			const struct tree_file *f;

			rc = v->profiles ? str_fmt(path, sizeof(path), "%s/" RAW_PROFILES "/%s/%s",
						   v->dc, environment, raw_inputs[i].name)
					 : str_fmt(path, sizeof(path), "%s/%s/%s", v->dc,
						   environment, raw_inputs[i].name);
			if (rc != 0) {
				rc = err_set(err, ERR_TOOBIG, "%s: path too long", v->dc);
				goto out;
			}
			if ((f = find_file(t, path)) == NULL)
				continue;
			rc = collect_file(f, i, v->group, open, open_arg,
					  raw_inputs[i].kind == RAW_SECRET ? &sec : &cfg, &fr, &nfr,
					  &cap, err);
			if (rc != 0)
				goto out;
		}
	}
	if ((rc = check_conflicts(&sec, "secret", err)) != 0 ||
	    (rc = check_conflicts(&cfg, "config", err)) != 0)
		goto out;
	*secrets = sec;
	*configs = cfg;
	kvlist_init(&sec);
	kvlist_init(&cfg);
	*files = nfr ? fr : NULL;
	*nfiles = nfr;
	if (nfr == 0)
		free(fr);
	fr = NULL;
	nfr = 0;
out:
	raw_files_free(fr, nfr); /* frees fr even when nfr is 0 */
	kvlist_free(&sec);
	kvlist_free(&cfg);
	svcs_free(&svcs);
	free(base);
	return rc;
}
