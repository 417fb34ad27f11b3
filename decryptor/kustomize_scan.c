/* kustomize_scan.c — the pre-scan of kustomize build mode (rules in kustomize_scan.h).
 * Each kustomization is loaded with the libyaml document loader; aliases are node
 * references, and every path entry checked counts against KUSTOMIZE_SCAN_MAX_WORK, so an
 * alias-heavy file cannot make the scan quadratic. */
#include "decryptor/kustomize_scan.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/str.h"
#include "common/xmalloc.h"

#define SCAN_ENTRY_SHOW 128 /* bytes of an entry quoted in a message */

static const char *const scan_kfile_names[] = {"kustomization.yaml", "kustomization.yml",
					       "Kustomization"};

/* Substrings that make an entry a remote reference. */
static const char *const scan_remote_marks[] = {"://",	       "git@",		 "github.com/",
						"gitlab.com/", "bitbucket.org/", "?ref="};

enum scan_field {
	SF_IGNORE,    /* not a path field */
	SF_RESOURCES, /* list of files or kustomization directories */
	SF_PLUGINS,   /* generators/transformers/validators: kustomization directories only */
	SF_HELM,      /* refused outright */
	SF_PATHLIST,  /* list of files */
	SF_PSM,	      /* patchesStrategicMerge: files or inline patches */
	SF_PATHMAPS,  /* list of mappings whose `path` is a file */
	SF_GENERATOR, /* configMapGenerator/secretGenerator */
	SF_OPENAPI,   /* mapping whose `path` is a file */
};

static const struct {
	const char *name;
	enum scan_field kind;
} scan_fields[] = {
    {"resources", SF_RESOURCES},
    {"bases", SF_RESOURCES},
    {"components", SF_RESOURCES},
    {"generators", SF_PLUGINS},
    {"transformers", SF_PLUGINS},
    {"validators", SF_PLUGINS},
    {"helmCharts", SF_HELM},
    {"helmGlobals", SF_HELM},
    {"helmChartInflationGenerator", SF_HELM},
    {"crds", SF_PATHLIST},
    {"configurations", SF_PATHLIST},
    {"patchesStrategicMerge", SF_PSM},
    {"patches", SF_PATHMAPS},
    {"patchesJson6902", SF_PATHMAPS},
    {"replacements", SF_PATHMAPS},
    {"configMapGenerator", SF_GENERATOR},
    {"secretGenerator", SF_GENERATOR},
    {"openapi", SF_OPENAPI},
};

struct scan {
	const struct tree *t;
	const char **sorted; /* file paths in byte order, for directory lookups */
	struct kustomize_scan out;
	size_t kcap, rcap;
	char **queue; /* directories still to visit (owned) */
	size_t nqueue, qcap;
	char **seen; /* directories queued once (owned) */
	size_t nseen, scap;
	size_t work;
	struct err_ctx *err;
};

/* ---- paths ---- */

/* Joins dir (normalised, "" = root) and a relative entry e[0..n), resolving "." and "..".
 * 0 with an owned *out; 1 when e is absolute; 2 when ".." climbs past the root;
 * ERR_NOMEM / ERR_TOOBIG. */
static int scan_resolve(const char *dir, const char *e, size_t n, char **out)
{
	size_t dl = strlen(dir), o = 0, i = 0, total;
	char *r;

	if (n > 0 && e[0] == '/')
		return 1;
	if (!size_add(dl, n, &total) || !size_add(total, 2, &total) || total > TREE_MAX_PATH + 2)
		return ERR_TOOBIG;
	if ((r = malloc(total)) == NULL)
		return ERR_NOMEM;
	memcpy(r, dir, dl);
	o = dl;
	r[o] = '\0';
	while (i < n) {
		size_t j = i;

		while (j < n && e[j] != '/')
			j++;
		if (j - i == 2 && e[i] == '.' && e[i + 1] == '.') {
			if (o == 0) {
				free(r);
				return 2;
			}
			while (o > 0 && r[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else if (j > i && !(j - i == 1 && e[i] == '.')) {
			if (o > 0)
				r[o++] = '/';
			memcpy(r + o, e + i, j - i);
			o += j - i;
		}
		r[o] = '\0';
		i = j + 1;
	}
	*out = r;
	return 0;
}

int kustomize_scan_norm_dir(const char *path, char **out)
{
	int rc;

	if (path == NULL)
		path = "";
	rc = scan_resolve("", path, strlen(path), out);
	if (rc == 1 || rc == 2)
		return ERR_INVAL;
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* true when some file of the tree lies below directory d ("" = root). */
static bool scan_is_dir(const struct scan *s, const char *d)
{
	size_t dl = strlen(d), lo = 0, hi = s->t->n;

	if (dl == 0)
		return s->t->n > 0;
	/* first path >= d + "/" */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = s->sorted[mid];
		int c = strncmp(p, d, dl);

		if (c == 0)
			c = (unsigned char)p[dl] < (unsigned char)'/' ? -1 : 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->t->n && strncmp(s->sorted[lo], d, dl) == 0 && s->sorted[lo][dl] == '/';
}

/* The kustomization file of directory d: its tree entry, or NULL. *many is set when more
 * than one of the accepted names is present. */
static const struct tree_file *scan_kfile(const struct tree *t, const char *d, bool *many)
{
	const struct tree_file *found = NULL, *f;
	char p[TREE_MAX_PATH + 32];

	*many = false;
	for (size_t i = 0; i < sizeof(scan_kfile_names) / sizeof(scan_kfile_names[0]); i++) {
		if ((d[0] ? str_fmt(p, sizeof(p), "%s/%s", d, scan_kfile_names[i])
			  : str_copy(p, sizeof(p), scan_kfile_names[i])) != 0)
			continue;
		if ((f = tree_find(t, p)) == NULL)
			continue;
		if (found != NULL)
			*many = true;
		else
			found = f;
	}
	return found;
}

/* ---- results ---- */

static int scan_add_ref(struct scan *s, const char *path, const char *from,
			enum kustomize_ref_kind kind)
{
	struct kustomize_ref *r;

	if (s->out.nrefs >= KUSTOMIZE_SCAN_MAX_REFS)
		return err_set(s->err, ERR_TOOBIG, "%s: more than %d file references in all", from,
			       KUSTOMIZE_SCAN_MAX_REFS);
	if (s->out.nrefs == s->rcap) {
		size_t ncap = s->rcap ? s->rcap * 2 : 16;

		if ((r = xreallocarray(s->out.refs, ncap, sizeof(*r))) == NULL)
			return ERR_NOMEM;
		s->out.refs = r;
		s->rcap = ncap;
	}
	r = &s->out.refs[s->out.nrefs];
	r->path = xstrdup(path);
	r->from = xstrdup(from);
	r->kind = kind;
	if (r->path == NULL || r->from == NULL) {
		free(r->path);
		free(r->from);
		return ERR_NOMEM;
	}
	s->out.nrefs++;
	return 0;
}

static int push_str(char ***v, size_t *n, size_t *cap, const char *str)
{
	char **nv, *c;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;

		if ((nv = xreallocarray(*v, ncap, sizeof(*nv))) == NULL)
			return ERR_NOMEM;
		*v = nv;
		*cap = ncap;
	}
	if ((c = xstrdup(str)) == NULL)
		return ERR_NOMEM;
	(*v)[(*n)++] = c;
	return 0;
}

/* Queues directory d for a visit unless it was queued before. */
static int scan_enqueue(struct scan *s, const char *d, const char *from)
{
	for (size_t i = 0; i < s->nseen; i++) {
		if (strcmp(s->seen[i], d) == 0)
			return 0;
	}
	if (s->nseen >= KUSTOMIZE_SCAN_MAX_FILES)
		return err_set(s->err, ERR_TOOBIG, "%s: more than %d kustomizations reachable",
			       from, KUSTOMIZE_SCAN_MAX_FILES);
	if (push_str(&s->seen, &s->nseen, &s->scap, d) != 0 ||
	    push_str(&s->queue, &s->nqueue, &s->qcap, d) != 0)
		return ERR_NOMEM;
	return 0;
}

/* ---- one kustomization ---- */

struct kctx {
	struct scan *s;
	yaml_document_t *doc;
	const char *kfile; /* tree path of the kustomization */
	const char *kdir;  /* its directory ("" = root) */
};

static bool scalar_is(const yaml_node_t *n, const char *name)
{
	size_t l = strlen(name);

	return n != NULL && n->type == YAML_SCALAR_NODE && n->data.scalar.length == l &&
	       strncasecmp((const char *)n->data.scalar.value, name, l) == 0;
}

static bool scalar_ascii(const yaml_node_t *n)
{
	for (size_t i = 0; i < n->data.scalar.length; i++) {
		if (n->data.scalar.value[i] >= 0x80 || n->data.scalar.value[i] == 0)
			return false;
	}
	return true;
}

static bool is_null(const yaml_node_t *n)
{
	if (n == NULL)
		return true;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return n->data.scalar.length == 0 || scalar_is(n, "null") || scalar_is(n, "~");
}

/* Refuses a mapping key that Go's case-insensitive field matching could read as another
 * name (non-ASCII) or that merges another mapping in ("<<"). */
static int check_key(struct kctx *k, const yaml_node_t *key, const char *where)
{
	if (key == NULL || key->type != YAML_SCALAR_NODE)
		return err_set(k->s->err, ERR_INVAL, "%s:%zu: %s: a key that is not a string",
			       k->kfile, key ? key->start_mark.line + 1 : 0, where);
	if (!scalar_ascii(key))
		return err_set(k->s->err, ERR_PERM,
			       "%s:%zu: %s: a non-ASCII field name is refused (kustomize matches "
			       "field names case-insensitively with Unicode folding)",
			       k->kfile, key->start_mark.line + 1, where);
	if (key->data.scalar.length == 2 && memcmp(key->data.scalar.value, "<<", 2) == 0)
		return err_set(k->s->err, ERR_PERM, "%s:%zu: %s: merge keys (<<) are refused",
			       k->kfile, key->start_mark.line + 1, where);
	return 0;
}

static int count_work(struct kctx *k, size_t line)
{
	if (++k->s->work > KUSTOMIZE_SCAN_MAX_WORK)
		return err_set(k->s->err, ERR_TOOBIG,
			       "%s:%zu: more than %d path entries to check (aliases count each "
			       "time)",
			       k->kfile, line, KUSTOMIZE_SCAN_MAX_WORK);
	return 0;
}

enum path_use {
	PU_RESOURCE, /* resources/bases/components */
	PU_PLUGIN,   /* generators/transformers/validators */
	PU_FILE,     /* a plain input file */
	PU_PSM,	     /* patchesStrategicMerge: a file or an inline patch */
};

/* Checks one path entry e[0..n) of field `field` (entry index idx, line). */
static int check_entry(struct kctx *k, const char *field, size_t idx, size_t line, const char *e,
		       size_t n, enum path_use use, enum kustomize_ref_kind kind)
{
	struct err_ctx *err = k->s->err;
	char *p = NULL;
	int rc;
	bool many;

	if ((rc = count_work(k, line)) != 0)
		return rc;
	if (strlen(e) != n)
		return err_set(err, ERR_INVAL, "%s:%zu: %s[%zu]: a path with a NUL byte", k->kfile,
			       line, field, idx);
	if (use == PU_PSM && memchr(e, '\n', n) != NULL)
		return 0; /* an inline patch */
	if (use == PU_PLUGIN && memchr(e, '\n', n) != NULL)
		return err_set(err, ERR_PERM,
			       "%s:%zu: %s[%zu]: inline plugin configuration refused (plugins are "
			       "disabled in kustomize mode)",
			       k->kfile, line, field, idx);
	for (size_t i = 0; i < sizeof(scan_remote_marks) / sizeof(scan_remote_marks[0]); i++) {
		if (strstr(e, scan_remote_marks[i]) != NULL)
			return err_set(err, ERR_PERM,
				       "%s:%zu: %s[%zu]: remote reference \"%.*s\" refused "
				       "(kustomize mode has no network; vendor the base into the "
				       "repository)",
				       k->kfile, line, field, idx, SCAN_ENTRY_SHOW, e);
	}
	if (n == 0)
		return err_set(err, ERR_INVAL, "%s:%zu: %s[%zu]: an empty path", k->kfile, line,
			       field, idx);
	rc = scan_resolve(k->kdir, e, n, &p);
	if (rc == 1)
		return err_set(err, ERR_PERM,
			       "%s:%zu: %s[%zu]: absolute path \"%.*s\" refused (paths must stay "
			       "inside the source tree)",
			       k->kfile, line, field, idx, SCAN_ENTRY_SHOW, e);
	if (rc == 2)
		return err_set(err, ERR_PERM,
			       "%s:%zu: %s[%zu]: path \"%.*s\" leads outside the source tree",
			       k->kfile, line, field, idx, SCAN_ENTRY_SHOW, e);
	if (rc != 0)
		return err_set(err, rc, "%s:%zu: %s[%zu]: %s", k->kfile, line, field, idx,
			       err_str(rc));
	if (use == PU_RESOURCE || use == PU_PLUGIN) {
		const bool file = tree_find(k->s->t, p) != NULL;
		const bool dir = !file && scan_is_dir(k->s, p);

		if (dir && scan_kfile(k->s->t, p, &many) != NULL) {
			rc = scan_enqueue(k->s, p, k->kfile);
		} else if (use == PU_PLUGIN) {
			rc = err_set(err, ERR_PERM,
				     "%s:%zu: %s[%zu]: \"%.*s\" is a plugin configuration, refused "
				     "(plugins are disabled in kustomize mode; only kustomization "
				     "directories may be listed)",
				     k->kfile, line, field, idx, SCAN_ENTRY_SHOW, e);
		} else if (dir) {
			rc =
			    err_set(err, ERR_NOTFOUND,
				    "%s:%zu: %s[%zu]: directory \"%.*s\" has no kustomization file",
				    k->kfile, line, field, idx, SCAN_ENTRY_SHOW, e);
		} else if (file) {
			rc = scan_add_ref(k->s, p, k->kfile, kind);
		} else {
			rc = err_set(
			    err, ERR_NOTFOUND,
			    "%s:%zu: %s[%zu]: \"%.*s\" is not in the source tree (kustomize "
			    "would try it as a remote base; refused)",
			    k->kfile, line, field, idx, SCAN_ENTRY_SHOW, e);
		}
	} else if (tree_find(k->s->t, p) != NULL) {
		rc = scan_add_ref(k->s, p, k->kfile, kind);
	}
	/* a missing plain input file is left for kustomize to report */
	free(p);
	return rc;
}

static int check_scalar_entry(struct kctx *k, const char *field, size_t idx, const yaml_node_t *n,
			      enum path_use use, enum kustomize_ref_kind kind)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return err_set(k->s->err, ERR_INVAL, "%s:%zu: %s[%zu]: not a string", k->kfile,
			       n ? n->start_mark.line + 1 : 0, field, idx);
	return check_entry(k, field, idx, n->start_mark.line + 1,
			   (const char *)n->data.scalar.value, n->data.scalar.length, use, kind);
}

/* A list of path strings (null = empty). */
static int check_list(struct kctx *k, const char *field, const yaml_node_t *v, enum path_use use,
		      enum kustomize_ref_kind kind)
{
	size_t idx = 0;
	int rc;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return err_set(k->s->err, ERR_INVAL, "%s:%zu: %s: must be a list", k->kfile,
			       v->start_mark.line + 1, field);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++, idx++) {
		rc = check_scalar_entry(k, field, idx, yaml_document_get_node(k->doc, *it), use,
					kind);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* A mapping whose `path` key (if any) is an input file. */
static int check_path_map(struct kctx *k, const char *field, size_t idx, const yaml_node_t *m)
{
	int rc;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return err_set(k->s->err, ERR_INVAL, "%s:%zu: %s[%zu]: must be a mapping", k->kfile,
			       m ? m->start_mark.line + 1 : 0, field, idx);
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *key = yaml_document_get_node(k->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(k->doc, p->value);

		if ((rc = check_key(k, key, field)) != 0)
			return rc;
		if (!scalar_is(key, "path") || is_null(val))
			continue;
		if ((rc = check_scalar_entry(k, field, idx, val, PU_FILE, KUSTOMIZE_REF_OTHER)) !=
		    0)
			return rc;
	}
	return 0;
}

static int check_path_maps(struct kctx *k, const char *field, const yaml_node_t *v)
{
	size_t idx = 0;
	int rc;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return err_set(k->s->err, ERR_INVAL, "%s:%zu: %s: must be a list", k->kfile,
			       v->start_mark.line + 1, field);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++, idx++) {
		if ((rc = count_work(k, v->start_mark.line + 1)) != 0 ||
		    (rc = check_path_map(k, field, idx, yaml_document_get_node(k->doc, *it))) != 0)
			return rc;
	}
	return 0;
}

/* `files` entries of a generator: "[key=]path". */
static int check_gen_files(struct kctx *k, const char *field, const yaml_node_t *v)
{
	size_t idx = 0;
	int rc;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return err_set(k->s->err, ERR_INVAL, "%s:%zu: %s.files: must be a list", k->kfile,
			       v->start_mark.line + 1, field);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++, idx++) {
		yaml_node_t *n = yaml_document_get_node(k->doc, *it);
		const char *e, *eq;
		size_t len;

		if (n == NULL || n->type != YAML_SCALAR_NODE)
			return err_set(k->s->err, ERR_INVAL, "%s:%zu: %s.files[%zu]: not a string",
				       k->kfile, v->start_mark.line + 1, field, idx);
		e = (const char *)n->data.scalar.value;
		len = n->data.scalar.length;
		if ((eq = memchr(e, '=', len)) != NULL) {
			len -= (size_t)(eq + 1 - e);
			e = eq + 1;
		}
		rc = check_entry(k, field, idx, n->start_mark.line + 1, e, len, PU_FILE,
				 KUSTOMIZE_REF_GENERATOR);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int check_generators(struct kctx *k, const char *field, const yaml_node_t *v)
{
	size_t idx = 0;
	int rc;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return err_set(k->s->err, ERR_INVAL, "%s:%zu: %s: must be a list", k->kfile,
			       v->start_mark.line + 1, field);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++, idx++) {
		yaml_node_t *g = yaml_document_get_node(k->doc, *it);

		if ((rc = count_work(k, v->start_mark.line + 1)) != 0)
			return rc;
		if (g == NULL || g->type != YAML_MAPPING_NODE)
			return err_set(k->s->err, ERR_INVAL, "%s:%zu: %s[%zu]: must be a mapping",
				       k->kfile, g ? g->start_mark.line + 1 : 0, field, idx);
		for (yaml_node_pair_t *p = g->data.mapping.pairs.start;
		     p < g->data.mapping.pairs.top; p++) {
			yaml_node_t *key = yaml_document_get_node(k->doc, p->key);
			yaml_node_t *val = yaml_document_get_node(k->doc, p->value);

			if ((rc = check_key(k, key, field)) != 0)
				return rc;
			if (scalar_is(key, "files"))
				rc = check_gen_files(k, field, val);
			else if (scalar_is(key, "envs"))
				rc = check_list(k, field, val, PU_FILE, KUSTOMIZE_REF_GENERATOR);
			else if (scalar_is(key, "env") && !is_null(val))
				rc = check_scalar_entry(k, field, idx, val, PU_FILE,
							KUSTOMIZE_REF_GENERATOR);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static int check_field(struct kctx *k, const char *field, enum scan_field kind,
		       const yaml_node_t *key, const yaml_node_t *v)
{
	switch (kind) {
	case SF_RESOURCES:
		return check_list(k, field, v, PU_RESOURCE, KUSTOMIZE_REF_RESOURCE);
	case SF_PLUGINS:
		return check_list(k, field, v, PU_PLUGIN, KUSTOMIZE_REF_OTHER);
	case SF_HELM:
		return err_set(k->s->err, ERR_PERM,
			       "%s:%zu: %s: Helm charts are refused in kustomize mode (no network, "
			       "no helm)",
			       k->kfile, key->start_mark.line + 1, field);
	case SF_PATHLIST:
		return check_list(k, field, v, PU_FILE, KUSTOMIZE_REF_OTHER);
	case SF_PSM:
		return check_list(k, field, v, PU_PSM, KUSTOMIZE_REF_OTHER);
	case SF_PATHMAPS:
		return check_path_maps(k, field, v);
	case SF_GENERATOR:
		return check_generators(k, field, v);
	case SF_OPENAPI:
		return is_null(v) ? 0 : check_path_map(k, field, 0, v);
	case SF_IGNORE:
		break;
	}
	return 0;
}

static int scan_doc(struct kctx *k)
{
	yaml_node_t *root = yaml_document_get_root_node(k->doc);
	int rc;

	if (root == NULL || is_null(root))
		return 0; /* empty: kustomize itself says so */
	if (root->type != YAML_MAPPING_NODE)
		return err_set(k->s->err, ERR_INVAL, "%s:%zu: a kustomization must be a mapping",
			       k->kfile, root->start_mark.line + 1);
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *key = yaml_document_get_node(k->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(k->doc, p->value);

		if ((rc = check_key(k, key, "top level")) != 0)
			return rc;
		for (size_t i = 0; i < sizeof(scan_fields) / sizeof(scan_fields[0]); i++) {
			if (!scalar_is(key, scan_fields[i].name))
				continue;
			rc = check_field(k, scan_fields[i].name, scan_fields[i].kind, key, val);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* Loads and checks the kustomization of directory d. */
static int scan_dir(struct scan *s, const char *d)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	const struct tree_file *f;
	struct kctx k;
	bool many;
	int rc;

	if ((f = scan_kfile(s->t, d, &many)) == NULL)
		return err_set(s->err, ERR_NOTFOUND,
			       "%s%s: no kustomization file (kustomization.yaml, "
			       "kustomization.yml or Kustomization)",
			       d[0] ? d : ".", d[0] ? "/" : "");
	if (many)
		return err_set(s->err, ERR_INVAL,
			       "%s%s: more than one kustomization file in one directory",
			       d[0] ? d : ".", d[0] ? "/" : "");
	if (f->size > KUSTOMIZE_SCAN_MAX_FILE_SIZE)
		return err_set(s->err, ERR_TOOBIG, "%s: larger than %u bytes", f->path,
			       KUSTOMIZE_SCAN_MAX_FILE_SIZE);
	if (push_str(&s->out.kustomizations, &s->out.nkust, &s->kcap, f->path) != 0)
		return ERR_NOMEM;
	if (!yaml_parser_initialize(&parser))
		return ERR_NOMEM;
	yaml_parser_set_input_string(&parser, f->data, f->size);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = err_set(s->err, ERR_INVAL, "%s:%zu: YAML: %s", f->path,
			     parser.problem_mark.line + 1,
			     parser.problem ? parser.problem : "malformed");
		yaml_parser_delete(&parser);
		return rc;
	}
	k.s = s;
	k.doc = &doc;
	k.kfile = f->path;
	k.kdir = d;
	rc = scan_doc(&k);
	if (rc == 0 && yaml_document_get_root_node(&doc) != NULL) {
		if (!yaml_parser_load(&parser, &extra)) {
			rc = err_set(s->err, ERR_INVAL, "%s:%zu: YAML: %s", f->path,
				     parser.problem_mark.line + 1,
				     parser.problem ? parser.problem : "malformed");
		} else {
			if (yaml_document_get_root_node(&extra) != NULL)
				rc = err_set(s->err, ERR_INVAL, "%s: more than one YAML document",
					     f->path);
			yaml_document_delete(&extra);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

void kustomize_scan_free(struct kustomize_scan *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nkust; i++)
		free(s->kustomizations[i]);
	free(s->kustomizations);
	for (size_t i = 0; i < s->nrefs; i++) {
		free(s->refs[i].path);
		free(s->refs[i].from);
	}
	free(s->refs);
	memset(s, 0, sizeof(*s));
}

int kustomize_scan_run(const struct tree *t, const char *kustomize_path, struct kustomize_scan *out,
		       struct err_ctx *err)
{
	struct scan s;
	char *root = NULL;
	int rc;

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.err = err;
	if (t == NULL || out == NULL)
		return err_set(err, ERR_INVAL, "kustomize scan: bad arguments");
	if ((rc = kustomize_scan_norm_dir(kustomize_path, &root)) != 0)
		return err_set(err, rc == ERR_NOMEM ? rc : ERR_PERM,
			       "spec.secrets.kustomizePath \"%.256s\": %s",
			       kustomize_path ? kustomize_path : "",
			       rc == ERR_NOMEM ? err_str(rc)
					       : "not a relative path inside the repository");
	if (t->n > 0 && (s.sorted = xcalloc(t->n, sizeof(*s.sorted))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < t->n; i++)
		s.sorted[i] = t->files[i].path;
	if (t->n > 1)
		qsort(s.sorted, t->n, sizeof(*s.sorted), cmp_str);
	if ((rc = scan_enqueue(&s, root, "kustomizePath")) != 0)
		goto out;
	for (size_t i = 0; i < s.nqueue && rc == 0; i++)
		rc = scan_dir(&s, s.queue[i]);
	if (rc != 0)
		goto out;
	*out = s.out;
	memset(&s.out, 0, sizeof(s.out));
out:
	kustomize_scan_free(&s.out);
	for (size_t i = 0; i < s.nqueue; i++)
		free(s.queue[i]);
	free(s.queue);
	for (size_t i = 0; i < s.nseen; i++)
		free(s.seen[i]);
	free(s.seen);
	free(s.sorted);
	free(root);
	return rc;
}
