/* kustomize_mode.c — kustomize build mode (rules in kustomize_mode.h). */
#include "decryptor/kustomize_mode.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/kustomize_scan.h"
#include "decryptor/raw.h"
#include "decryptor/sops/sops.h"

#define KMODE_REF_RESOURCE 1u
#define KMODE_REF_INPUT 2u
#define KMODE_REDACT_MIN 3 /* shortest word of an error line checked against plaintext */

enum kmode_kind { KMODE_SECRET, KMODE_CONFIG };

struct kmode {
	const struct keyring *kr;
	const char *ns;
	struct kvlist sec, cfg; /* every kv in document order, duplicates still in */
	struct file_report *fr;
	size_t nfr, frcap;
	size_t ndocs;
	struct err_ctx *err;
};

/* ---- small helpers ---- */

static int add_report(struct kmode *m, const char *path, bool encrypted, uint32_t count)
{
	struct file_report *p;

	if (m->nfr == m->frcap) {
		size_t ncap = m->frcap ? m->frcap * 2 : 8;

		if ((p = xreallocarray(m->fr, ncap, sizeof(*p))) == NULL)
			return ERR_NOMEM;
		m->fr = p;
		m->frcap = ncap;
	}
	if ((m->fr[m->nfr].path = xstrdup(path)) == NULL)
		return ERR_NOMEM;
	m->fr[m->nfr].encrypted = encrypted;
	m->fr[m->nfr].count = count;
	m->nfr++;
	return 0;
}

static yaml_node_t *map_get(yaml_document_t *d, const yaml_node_t *m, const char *key)
{
	size_t kl = strlen(key);

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k != NULL && k->type == YAML_SCALAR_NODE && k->data.scalar.length == kl &&
		    memcmp(k->data.scalar.value, key, kl) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *scalar_or(const yaml_node_t *n, const char *dflt)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0 ||
	    strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return dflt;
	return (const char *)n->data.scalar.value;
}

static bool is_null_scalar(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return n->data.scalar.length == 0 || strcmp(v, "null") == 0 || strcmp(v, "~") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Overwrites every scalar of a loaded document before it is released. */
static void doc_wipe(yaml_document_t *d)
{
	for (yaml_node_t *n = d->nodes.start; n < d->nodes.top; n++) {
		if (n->type == YAML_SCALAR_NODE && n->data.scalar.value != NULL)
			explicit_bzero(n->data.scalar.value, n->data.scalar.length);
	}
}

static int b64_val(uint8_t c)
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

/* Standard base64 with padding (line breaks ignored, as Go's decoder does) into a new
 * secbuf. ERR_INVAL on anything else. */
static int b64_decode(const uint8_t *s, size_t n, struct secbuf **out)
{
	struct secbuf *b;
	uint32_t acc = 0;
	size_t q = 0, pad = 0;
	int rc;

	if ((rc = secbuf_new(&b, n / 4 * 3 + 3)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int v;

		if (s[i] == '\n' || s[i] == '\r')
			continue;
		if (q == 0 && pad > 0)
			goto bad; /* nothing may follow the padding */
		if (s[i] == '=') {
			pad++;
			v = 0;
		} else {
			if (pad > 0 || (v = b64_val(s[i])) < 0)
				goto bad;
		}
		acc = (acc << 6) | (uint32_t)v;
		if (++q == 4) {
			uint8_t o[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};

			if (pad > 2 || secbuf_put(b, o, 3 - pad) != 0)
				goto bad;
			q = 0;
			acc = 0;
		}
	}
	if (q != 0)
		goto bad;
	*out = b;
	return 0;
bad:
	acc = 0;
	secbuf_free(b);
	return ERR_INVAL;
}

/* ---- one resource ---- */

/* Adds the entries of mapping `field` of resource (origin) to l. */
static int take_map(struct kmode *m, yaml_document_t *d, const yaml_node_t *map, const char *origin,
		    const char *field, bool base64, struct kvlist *l, uint32_t *count)
{
	int rc;

	if (map == NULL || is_null_scalar(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return err_set(m->err, ERR_INVAL, "%s: %s is not a mapping", origin, field);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		yaml_node_t *v = yaml_document_get_node(d, p->value);
		struct secbuf *val = NULL;
		const char *key;

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE ||
		    strlen((const char *)k->data.scalar.value) != k->data.scalar.length ||
		    k->data.scalar.length == 0)
			return err_set(m->err, ERR_INVAL, "%s: %s has a key that is not a string",
				       origin, field);
		key = (const char *)k->data.scalar.value;
		if (v->type != YAML_SCALAR_NODE)
			return err_set(m->err, ERR_INVAL, "%s: %s.%.128s is not a string", origin,
				       field, key);
		if (v->data.scalar.length > KUSTOMIZE_MODE_MAX_VALUE)
			return err_set(m->err, ERR_TOOBIG, "%s: %s.%.128s is larger than %zu bytes",
				       origin, field, key, KUSTOMIZE_MODE_MAX_VALUE);
		if (is_null_scalar(v))
			rc = secbuf_from(&val, "", 0);
		else if (base64)
			rc = b64_decode(v->data.scalar.value, v->data.scalar.length, &val);
		else
			rc = secbuf_from(&val, v->data.scalar.value, v->data.scalar.length);
		if (rc == ERR_INVAL)
			return err_set(m->err, rc, "%s: %s.%.128s is not valid base64", origin,
				       field, key);
		if (rc != 0)
			return err_set(m->err, rc, "%s: %s", origin, err_str(rc));
		if ((rc = kvlist_add_group(l, KUSTOMIZE_MODE_GROUP, key, val, origin)) != 0)
			return err_set(m->err, rc, "%s: %s.%.128s: %s", origin, field, key,
				       err_str(rc));
		(*count)++;
	}
	return 0;
}

static int take_resource(struct kmode *m, yaml_document_t *d, const char *kind, const char *origin,
			 bool encrypted)
{
	yaml_node_t *root = yaml_document_get_root_node(d);
	uint32_t count = 0;
	int rc;

	if (strcmp(kind, "Secret") == 0) {
		if ((rc = take_map(m, d, map_get(d, root, "data"), origin, "data", true, &m->sec,
				   &count)) != 0 ||
		    (rc = take_map(m, d, map_get(d, root, "stringData"), origin, "stringData",
				   false, &m->sec, &count)) != 0)
			return rc;
	} else if (strcmp(kind, "ConfigMap") == 0) {
		if ((rc = take_map(m, d, map_get(d, root, "data"), origin, "data", false, &m->cfg,
				   &count)) != 0 ||
		    (rc = take_map(m, d, map_get(d, root, "binaryData"), origin, "binaryData", true,
				   &m->cfg, &count)) != 0)
			return rc;
	} else {
		return 0;
	}
	if (count > 0 && (rc = add_report(m, origin, encrypted, count)) != 0)
		return rc;
	return 0;
}

/* Decrypts a SOPS document (bytes as kustomize wrote them) and takes it. */
static int take_sops(struct kmode *m, const char *kind, const char *origin, const uint8_t *p,
		     size_t n)
{
	char fname[KUSTOMIZE_MODE_MAX_ORIGIN + 8];
	struct secbuf *plain = NULL;
	yaml_parser_t parser;
	yaml_document_t d;
	int rc;

	if (m->kr == NULL)
		return err_set(m->err, ERR_NOKEY,
			       "%s is SOPS-encrypted but the decryptor has no keys", origin);
	(void)str_fmt(fname, sizeof(fname), "%s.yaml", origin);
	rc = sops_decrypt(m->kr, m->ns, fname, p, n, &plain, m->err);
	if (rc == ERR_CRYPTO && strstr(m->err->msg, "MAC") != NULL)
		return err_set(
		    m->err, rc,
		    "%s: kustomize changed this SOPS-encrypted resource so that its MAC "
		    "no longer verifies (namePrefix/nameSuffix, namespace, labels, "
		    "patches or key order change the values the MAC covers); keep the "
		    "values in a SOPS-encrypted file read by a secretGenerator (envs: or "
		    "files:) instead of a SOPS-encrypted resource",
		    origin);
	if (rc != 0)
		return err_wrap(m->err, rc, "kustomize output");
	if (!yaml_parser_initialize(&parser)) {
		secbuf_free(plain);
		return ERR_NOMEM;
	}
	yaml_parser_set_input_string(&parser, plain->data, plain->len);
	if (!yaml_parser_load(&parser, &d)) {
		rc = err_set(m->err, ERR_INVAL, "%s: decrypted resource is not YAML", origin);
	} else {
		rc = take_resource(m, &d, kind, origin, true);
		doc_wipe(&d);
		yaml_document_delete(&d);
	}
	yaml_parser_delete(&parser);
	secbuf_free(plain);
	return rc;
}

static int take_doc(struct kmode *m, yaml_document_t *d, const uint8_t *yaml, size_t n)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *meta;
	const char *kind, *name, *ns;
	char origin[KUSTOMIZE_MODE_MAX_ORIGIN];
	size_t a, b;

	if (root == NULL || is_null_scalar(root))
		return 0;
	if (++m->ndocs > KUSTOMIZE_MODE_MAX_DOCS)
		return err_set(m->err, ERR_TOOBIG, "kustomize output: more than %d documents",
			       KUSTOMIZE_MODE_MAX_DOCS);
	if (root->type != YAML_MAPPING_NODE)
		return err_set(m->err, ERR_INVAL, "kustomize output: document %zu is not a mapping",
			       m->ndocs);
	kind = scalar_or(map_get(d, root, "kind"), "?");
	meta = map_get(d, root, "metadata");
	name = scalar_or(map_get(d, meta, "name"), "?");
	ns = scalar_or(map_get(d, meta, "namespace"), NULL);
	if (strcmp(kind, "Secret") != 0 && strcmp(kind, "ConfigMap") != 0)
		return 0;
	if ((ns ? str_fmt(origin, sizeof(origin), "%.64s/%.253s/%.253s", kind, ns, name)
		: str_fmt(origin, sizeof(origin), "%.64s/%.253s", kind, name)) != 0)
		return err_set(m->err, ERR_TOOBIG, "kustomize output: resource name too long");
	if (map_get(d, root, "sops") == NULL)
		return take_resource(m, d, kind, origin, false);
	a = d->start_mark.index;
	b = d->end_mark.index;
	if (a > b || b > n)
		return err_set(m->err, ERR_INVAL, "%s: cannot locate the document", origin);
	return take_sops(m, kind, origin, yaml + a, b - a);
}

/* ---- duplicates ---- */

struct kref {
	const struct kv *kv;
	size_t idx;
};

static int cmp_kref(const void *a, const void *b)
{
	const struct kref *x = a, *y = b;
	int c = strcmp(x->kv->key, y->kv->key);

	if (c == 0)
		c = x->idx < y->idx ? -1 : (x->idx > y->idx);
	return c;
}

/* Moves the kvs of src into dst in order, dropping a key repeated inside one resource
 * (the later wins: stringData over data) and refusing a key given by two resources. */
static int dedupe(struct kmode *m, struct kvlist *src, struct kvlist *dst, const char *what)
{
	struct kref *v = NULL;
	bool *drop = NULL;
	int rc = 0;

	if (src->n > 0 && ((v = xcalloc(src->n, sizeof(*v))) == NULL ||
			   (drop = xcalloc(src->n, sizeof(*drop))) == NULL)) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < src->n; i++) {
		v[i].kv = &src->items[i];
		v[i].idx = i;
	}
	if (src->n > 1)
		qsort(v, src->n, sizeof(*v), cmp_kref);
	for (size_t i = 1; i < src->n; i++) {
		if (strcmp(v[i - 1].kv->key, v[i].kv->key) != 0)
			continue;
		if (strcmp(v[i - 1].kv->origin, v[i].kv->origin) != 0) {
			rc = err_set(m->err, ERR_CONFLICT,
				     "%s key \"%.128s\" is defined by two resources: %s and %s",
				     what, v[i].kv->key, v[i - 1].kv->origin, v[i].kv->origin);
			goto out;
		}
		drop[v[i - 1].idx] = true;
	}
	for (size_t i = 0; i < src->n; i++) {
		struct kv *kv = &src->items[i];

		if (drop[i])
			continue;
		rc = kvlist_add_group(dst, kv->group, kv->key, kv->value, kv->origin);
		kv->value = NULL; /* transferred, even on failure */
		if (rc != 0)
			goto out;
	}
out:
	free(v);
	free(drop);
	return rc;
}

static void kmode_free(struct kmode *m)
{
	kvlist_free(&m->sec);
	kvlist_free(&m->cfg);
	raw_files_free(m->fr, m->nfr); /* frees the array even when nfr is 0 */
	m->fr = NULL;
	m->nfr = 0;
}

/* Parses the stream into m (no dedupe). */
static int parse_stream(struct kmode *m, const uint8_t *yaml, size_t n)
{
	yaml_parser_t parser;
	int rc = 0;

	if (!yaml_parser_initialize(&parser))
		return ERR_NOMEM;
	yaml_parser_set_input_string(&parser, yaml, n);
	for (;;) {
		yaml_document_t d;
		bool end;

		if (!yaml_parser_load(&parser, &d)) {
			rc = err_set(m->err, ERR_INVAL, "kustomize output: line %zu: YAML: %s",
				     parser.problem_mark.line + 1,
				     parser.problem ? parser.problem : "malformed");
			break;
		}
		end = yaml_document_get_root_node(&d) == NULL;
		if (!end)
			rc = take_doc(m, &d, yaml, n);
		doc_wipe(&d);
		yaml_document_delete(&d);
		if (end || rc != 0)
			break;
	}
	yaml_parser_delete(&parser);
	return rc;
}

static int finish(struct kmode *m, struct kvlist *secrets, struct kvlist *configs,
		  struct file_report **files, size_t *nfiles)
{
	struct kvlist s, c;
	int rc;

	kvlist_init(&s);
	kvlist_init(&c);
	if ((rc = dedupe(m, &m->sec, &s, "secret")) != 0 ||
	    (rc = dedupe(m, &m->cfg, &c, "config")) != 0) {
		kvlist_free(&s);
		kvlist_free(&c);
		return rc;
	}
	*secrets = s;
	*configs = c;
	*files = m->nfr ? m->fr : NULL;
	*nfiles = m->nfr;
	if (m->nfr == 0)
		free(m->fr);
	m->fr = NULL;
	m->nfr = 0;
	return 0;
}

int kustomize_mode_parse_stream(const struct keyring *kr, const char *ns, const uint8_t *yaml,
				size_t n, struct kvlist *secrets, struct kvlist *configs,
				struct file_report **files, size_t *nfiles, struct err_ctx *err)
{
	struct kmode m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.kr = kr;
	m.ns = ns;
	m.err = err;
	kvlist_init(&m.sec);
	kvlist_init(&m.cfg);
	if (secrets == NULL || configs == NULL || files == NULL || nfiles == NULL ||
	    secrets->n != 0 || configs->n != 0 || (yaml == NULL && n > 0))
		return err_set(err, ERR_INVAL, "kustomize mode: bad arguments");
	if ((rc = parse_stream(&m, yaml, n)) == 0)
		rc = finish(&m, secrets, configs, files, nfiles);
	kmode_free(&m);
	return rc;
}

/* ---- the whole mode ---- */

static bool is_sep(char c)
{
	return c == ' ' || c == '\'' || c == '"' || c == '`' || c == ':' || c == '=' || c == ',' ||
	       c == '[' || c == ']' || c == '(' || c == ')' || c == '{' || c == '}' || c == '\t';
}

/* Masks every word of msg that occurs in one of the decrypted inputs. */
static void redact(char *msg, struct secbuf *const *plain, size_t np)
{
	size_t i = 0, len = strlen(msg);

	while (i < len) {
		size_t j = i;

		while (j < len && !is_sep(msg[j]))
			j++;
		if (j - i >= KMODE_REDACT_MIN) {
			for (size_t k = 0; k < np; k++) {
				if (memmem(plain[k]->data, plain[k]->len, msg + i, j - i) != NULL) {
					memset(msg + i, '*', j - i);
					break;
				}
			}
		}
		i = j + 1;
	}
}

int kustomize_collect(struct kustomize_runner *r, const struct keyring *kr, const struct job *job,
		      const struct tree *t, struct kvlist *secrets, struct kvlist *configs,
		      struct file_report **files, size_t *nfiles, struct err_ctx *err)
{
	struct kustomize_scan scan;
	struct secbuf **plain = NULL, *yaml = NULL;
	size_t nplain = 0;
	uint8_t *flags = NULL;
	struct tree pt;
	struct kmode m;
	char *kdir = NULL;
	int rc;

	memset(&m, 0, sizeof(m));
	memset(&scan, 0, sizeof(scan));
	kvlist_init(&m.sec);
	kvlist_init(&m.cfg);
	tree_init(&pt);
	if (r == NULL || job == NULL || t == NULL || secrets == NULL || configs == NULL ||
	    files == NULL || nfiles == NULL || secrets->n != 0 || configs->n != 0 ||
	    job->mode.kustomize_path == NULL)
		return err_set(err, ERR_INVAL, "kustomize mode: bad arguments");
	m.kr = kr;
	m.ns = job->config.ns;
	m.err = err;
	/* 1. the pre-scan */
	if ((rc = kustomize_scan_run(t, job->mode.kustomize_path, &scan, err)) != 0)
		goto out;
	if ((rc = kustomize_scan_norm_dir(job->mode.kustomize_path, &kdir)) != 0) {
		rc = err_set(err, rc, "spec.secrets.kustomizePath: %s", err_str(rc));
		goto out;
	}
	/* 2. SOPS inputs before the build */
	if (t->n > 0 && ((flags = xcalloc(t->n, 1)) == NULL ||
			 (plain = xcalloc(t->n, sizeof(*plain))) == NULL)) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < scan.nrefs; i++) {
		const struct tree_file *f = tree_find(t, scan.refs[i].path);

		if (f != NULL)
			flags[f - t->files] |= scan.refs[i].kind == KUSTOMIZE_REF_RESOURCE
						   ? KMODE_REF_RESOURCE
						   : KMODE_REF_INPUT;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct tree_file *f = &t->files[i];

		if ((flags[i] & KMODE_REF_INPUT) && sops_is_encrypted(f->path, f->data, f->size)) {
			if (kr == NULL) {
				rc = err_set(err, ERR_NOKEY,
					     "%s is SOPS-encrypted but the decryptor has no keys",
					     f->path);
				goto out;
			}
			if ((rc = sops_decrypt(kr, m.ns, f->path, f->data, f->size, &plain[nplain],
					       err)) != 0) {
				err_wrap(err, rc, "kustomize input");
				goto out;
			}
			nplain++;
			rc = tree_add(&pt, f->path, plain[nplain - 1]->data, plain[nplain - 1]->len,
				      f->mode);
			if (rc == 0)
				rc = add_report(&m, f->path, true, 0);
		} else {
			rc = tree_add(&pt, f->path, f->data, f->size, f->mode);
		}
		if (rc != 0) {
			rc = err_set(err, rc, "%s: %s", f->path, err_str(rc));
			goto out;
		}
	}
	/* 3. the build */
	if ((rc = kustomize_runner_build(r, &pt, kdir, &yaml, err)) != 0) {
		if (err != NULL)
			redact(err->msg, plain, nplain);
		goto out;
	}
	/* 4. the output */
	if ((rc = parse_stream(&m, yaml->data, yaml->len)) != 0)
		goto out;
	rc = finish(&m, secrets, configs, files, nfiles);
out:
	/* the plaintext copies in pt are wiped before release */
	for (size_t i = 0; i < pt.n; i++)
		explicit_bzero(pt.files[i].data, pt.files[i].size);
	tree_free(&pt);
	for (size_t i = 0; i < nplain; i++)
		secbuf_free(plain[i]);
	free(plain);
	free(flags);
	free(kdir);
	secbuf_free(yaml);
	kustomize_scan_free(&scan);
	kmode_free(&m);
	return rc;
}
