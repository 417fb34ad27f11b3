/* sops.c — SOPS decryption and encryption (see sops.h). */
#include "decryptor/sops/sops.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/age/age.h"
#include "decryptor/age/age_armor.h"
#include "decryptor/keyring.h"
#include "decryptor/pgp.h"
#include "decryptor/sops/sops_cipher.h"
#include "decryptor/sops/sops_dotenv.h"
#include "decryptor/sops/sops_ini.h"
#include "decryptor/sops/sops_json.h"
#include "decryptor/sops/sops_meta.h"
#include "decryptor/sops/sops_shamir.h"
#include "decryptor/sops/sops_tree.h"
#include "decryptor/sops/sops_value.h"
#include "decryptor/sops/sops_yaml.h"

#define SOPS_MAX_ACTIVE_COMMENTS 256
#define SOPS_MAX_AAD 65536

static const uint8_t sha256_sops[32] = {
	0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
	0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
};

enum sops_format sops_format_from_name(const char *f)
{
	if (f == NULL)
		return SOPS_FMT_BINARY;
	if (str_has_suffix(f, ".yaml") || str_has_suffix(f, ".yml"))
		return SOPS_FMT_YAML;
	if (str_has_suffix(f, ".json"))
		return SOPS_FMT_JSON;
	if (str_has_suffix(f, ".env"))
		return SOPS_FMT_DOTENV;
	if (str_has_suffix(f, ".ini"))
		return SOPS_FMT_INI;
	return SOPS_FMT_BINARY;
}

static int parse_store(enum sops_format fmt, const uint8_t *d, size_t n, struct sops_tree *t,
		       struct err_ctx *err)
{
	switch (fmt) {
	case SOPS_FMT_YAML: return sops_yaml_parse(d, n, t, err);
	case SOPS_FMT_JSON:
	case SOPS_FMT_BINARY: return sops_json_parse(d, n, t, err);
	case SOPS_FMT_DOTENV: return sops_dotenv_parse(d, n, t, err);
	case SOPS_FMT_INI: return sops_ini_parse(d, n, t, err);
	}
	return ERR_INVAL;
}

/* Removes the metadata from the tree; owned *meta_node (a nested map). ERR_NOTFOUND when
 * the file has none. */
static int take_meta(enum sops_format fmt, struct sops_tree *t, struct sops_node **meta_node,
		     struct err_ctx *err)
{
	struct sops_node *m = NULL, *doc, *flat = NULL;
	size_t i, keep;
	int rc;

	if (t->ndocs == 0)
		return err_set(err, ERR_NOTFOUND, "sops metadata not found");
	doc = t->docs[0];
	switch (fmt) {
	case SOPS_FMT_YAML:
	case SOPS_FMT_JSON:
	case SOPS_FMT_BINARY:
		m = sops_node_take(doc, "sops");
		if (m == NULL)
			return err_set(err, ERR_NOTFOUND, "sops metadata not found");
		if (sops_node_get(doc, "sops") != NULL || m->kind != SOPS_MAP) {
			sops_node_free(m);
			return err_set(err, ERR_INVAL, "sops metadata is not a single mapping");
		}
		for (i = 1; i < t->ndocs; i++)
			sops_node_free(sops_node_take(t->docs[i], "sops"));
		*meta_node = m;
		return 0;
	case SOPS_FMT_DOTENV:
		if ((rc = sops_node_new(NULL, SOPS_MAP, &flat)) != 0)
			return rc;
		for (i = 0, keep = 0; i < doc->n; i++) {
			struct sops_node *it = doc->items[i];

			if (it->key != NULL && str_has_prefix(it->key, "sops_")) {
				memmove(it->key, it->key + 5, strlen(it->key + 5) + 1);
				if ((rc = sops_node_append(flat, it)) != 0) {
					for (i = i + 1; i < doc->n; i++)
						doc->items[keep++] = doc->items[i];
					doc->n = keep;
					sops_node_free(flat);
					return rc;
				}
			} else {
				doc->items[keep++] = it;
			}
		}
		doc->n = keep;
		break;
	case SOPS_FMT_INI:
		flat = sops_node_take(doc, "sops");
		break;
	}
	if (flat == NULL || flat->n == 0) {
		sops_node_free(flat);
		return err_set(err, ERR_NOTFOUND, "sops metadata not found");
	}
	rc = sops_meta_unflatten(t, flat, fmt == SOPS_FMT_INI, &m, err);
	sops_node_free(flat);
	if (rc == 0)
		*meta_node = m;
	return rc;
}

int sops_is_encrypted(const char *file_name, const uint8_t *data, size_t n)
{
	enum sops_format fmt = sops_format_from_name(file_name);
	struct sops_tree t = {0};
	struct sops_node *m = NULL;
	int r = 0;

	if (parse_store(fmt, data, n, &t, NULL) == 0 && take_meta(fmt, &t, &m, NULL) == 0)
		r = 1;
	sops_node_free(m);
	sops_tree_clear(&t);
	return r;
}

/* ---- the walk ----------------------------------------------------------------------- */

struct active_comment {
	size_t level;
	const struct sops_node *c;
};

struct walk {
	const struct sops_meta *m;
	regex_t re;
	int have_re;
	const uint8_t *key;
	int encrypt;
	EVP_MD_CTX *mac;
	const char *path[SOPS_MAX_DEPTH + 2];
	size_t depth;   /* path components */
	size_t level;   /* container nesting (maps and sequences) */
	struct active_comment act[SOPS_MAX_ACTIVE_COMMENTS];
	size_t nact;
	const char *file;
	struct err_ctx *err;
};

static int comp_selected(const struct walk *w, const char *comp)
{
	switch (w->m->rule) {
	case SOPS_RULE_UNENC_SUFFIX:
	case SOPS_RULE_ENC_SUFFIX:
		return str_has_suffix(comp, w->m->rule_value);
	case SOPS_RULE_UNENC_REGEX:
	case SOPS_RULE_ENC_REGEX:
		return w->have_re && regexec(&w->re, comp, 0, NULL, 0) == 0;
	default:
		return 0;
	}
}

/* exclude: a comment that is itself deciding (encrypted_comment_regex keeps it clear) */
static int should_encrypt(const struct walk *w, const struct sops_node *exclude)
{
	size_t i;
	int any = 0;

	switch (w->m->rule) {
	case SOPS_RULE_UNENC_SUFFIX:
	case SOPS_RULE_UNENC_REGEX:
		for (i = 0; i < w->depth; i++)
			if (comp_selected(w, w->path[i]))
				return 0;
		return 1;
	case SOPS_RULE_ENC_SUFFIX:
	case SOPS_RULE_ENC_REGEX:
		for (i = 0; i < w->depth; i++)
			if (comp_selected(w, w->path[i]))
				return 1;
		return 0;
	case SOPS_RULE_UNENC_COMMENT_REGEX:
	case SOPS_RULE_ENC_COMMENT_REGEX:
		for (i = 0; i < w->nact; i++) {
			const struct sops_node *c = w->act[i].c;

			if (c == exclude || c->value == NULL || !w->have_re)
				continue;
			if (regexec(&w->re, (const char *)c->value->data, 0, NULL, 0) == 0)
				any = 1;
		}
		if (exclude != NULL && w->m->rule == SOPS_RULE_ENC_COMMENT_REGEX && w->have_re &&
		    exclude->value != NULL &&
		    regexec(&w->re, (const char *)exclude->value->data, 0, NULL, 0) == 0)
			return 0;
		return w->m->rule == SOPS_RULE_UNENC_COMMENT_REGEX ? !any : any;
	}
	return 1;
}

static int build_aad(const struct walk *w, struct buf *aad)
{
	size_t i;
	int rc;

	aad->len = 0;
	for (i = 0; i < w->depth; i++) {
		if ((rc = buf_put_str(aad, w->path[i])) != 0 || (rc = buf_put_u8(aad, ':')) != 0)
			return rc;
	}
	if (w->depth == 0 && (rc = buf_put_u8(aad, ':')) != 0)
		return rc;
	return buf_cstr(aad);
}

static int mac_feed(struct walk *w, const struct sops_node *n)
{
	struct secbuf *c = NULL;
	int rc;

	if ((rc = secbuf_new(&c, SOPS_MAX_VALUE)) != 0)
		return rc;
	if ((rc = sops_value_canonical(n, c)) != 0) {
		secbuf_free(c);
		return rc;
	}
	if (c->len > 0 && EVP_DigestUpdate(w->mac, c->data, c->len) != 1)
		rc = ERR_CRYPTO;
	secbuf_free(c);
	return rc;
}

static int set_path_err(struct walk *w, int rc, const char *what, const struct buf *aad)
{
	return err_set(w->err, rc, "%s: %s at %.200s", w->file, what,
		       aad->len ? (const char *)aad->data : "?");
}

static int do_comment(struct walk *w, struct sops_node *c, struct buf *aad)
{
	struct secbuf *pt = NULL;
	enum sops_type t;
	int is_comment = 0, rc;

	if (c->value == NULL)
		return 0;
	if ((rc = build_aad(w, aad)) != 0)
		return rc;
	if (!w->encrypt) {
		if (!sops_cipher_is_enc(c->value->data, c->value->len))
			return 0;
		if ((rc = secbuf_new(&pt, SOPS_MAX_VALUE)) != 0)
			return rc;
		if (sops_cipher_decrypt(w->key, c->value->data, c->value->len,
					(const char *)aad->data, aad->len, pt, &t,
					&is_comment) == 0 && is_comment) {
			secbuf_free(c->value);
			c->value = pt;
			return 0;
		}
		secbuf_free(pt); /* an older clear comment that looks encrypted: kept */
		return 0;
	}
	if (!should_encrypt(w, c))
		return 0;
	{
		struct buf enc;
		int r2;

		buf_init(&enc, SOPS_MAX_VALUE * 2);
		r2 = sops_cipher_encrypt(w->key, c->value->data, c->value->len,
					 (const char *)aad->data, aad->len, "comment", &enc);
		if (r2 == 0)
			r2 = sops_node_set_value(c, enc.data, enc.len);
		buf_free(&enc);
		return r2;
	}
}

static int do_scalar(struct walk *w, struct sops_node *n, struct buf *aad)
{
	int enc, rc, is_comment = 0;
	struct secbuf *pt = NULL;
	enum sops_type t;

	if (n->type == SOPS_T_NULL)
		return 0;
	enc = should_encrypt(w, NULL);
	if ((rc = build_aad(w, aad)) != 0)
		return rc;
	if (!w->encrypt) {
		if (!enc)
			return w->m->mac_only_encrypted ? 0 : mac_feed(w, n);
		if (n->type == SOPS_T_STR && (n->value == NULL || n->value->len == 0))
			return 0; /* the empty string is stored clear and feeds nothing */
		if (n->type != SOPS_T_STR || n->value == NULL ||
		    !sops_cipher_is_enc(n->value->data, n->value->len))
			return set_path_err(w, ERR_INVAL, "value is not encrypted", aad);
		if ((rc = secbuf_new(&pt, SOPS_MAX_VALUE)) != 0)
			return rc;
		rc = sops_cipher_decrypt(w->key, n->value->data, n->value->len,
					 (const char *)aad->data, aad->len, pt, &t, &is_comment);
		if (rc != 0 || is_comment) {
			secbuf_free(pt);
			return set_path_err(w, rc == ERR_CRYPTO ? ERR_CRYPTO : ERR_INVAL,
					    rc == ERR_CRYPTO ? "value fails authentication"
							     : "malformed encrypted value", aad);
		}
		secbuf_free(n->value);
		n->value = pt;
		n->type = t;
		n->quoted = 0;
		return mac_feed(w, n) != 0 ? set_path_err(w, ERR_INVAL, "value does not parse as "
							  "its type", aad) : 0;
	}
	/* encrypting */
	{
		struct secbuf *c = NULL;
		struct buf e;

		if ((rc = secbuf_new(&c, SOPS_MAX_VALUE)) != 0)
			return rc;
		if ((rc = sops_value_canonical(n, c)) != 0) {
			secbuf_free(c);
			return set_path_err(w, rc, "value does not parse as its type", aad);
		}
		if ((!w->m->mac_only_encrypted || enc) && c->len > 0 &&
		    EVP_DigestUpdate(w->mac, c->data, c->len) != 1) {
			secbuf_free(c);
			return ERR_CRYPTO;
		}
		if (!enc || c->len == 0) {
			secbuf_free(c);
			return 0;
		}
		buf_init(&e, SOPS_MAX_VALUE * 2);
		rc = sops_cipher_encrypt(w->key, c->data, c->len, (const char *)aad->data, aad->len,
					 sops_value_type_name(n->type), &e);
		secbuf_free(c);
		if (rc == 0)
			rc = sops_node_set_value(n, e.data, e.len);
		buf_free(&e);
		if (rc == 0) {
			n->type = SOPS_T_STR;
			n->quoted = 0;
		}
		return rc;
	}
}

static int walk_container(struct walk *w, struct sops_node *c, struct buf *aad)
{
	size_t i, mark;
	int rc;

	if (w->level >= SOPS_MAX_DEPTH)
		return err_set(w->err, ERR_TOOBIG, "%s: nesting too deep", w->file);
	w->level++;
	mark = w->nact;
	for (i = 0; i < c->n; i++) {
		struct sops_node *it = c->items[i];

		if (it->kind == SOPS_COMMENT) {
			if (w->encrypt) {
				/* decide on the clear text, then remember it as active */
				if (w->nact < SOPS_MAX_ACTIVE_COMMENTS) {
					w->act[w->nact].level = w->level;
					w->act[w->nact++].c = it;
				}
				if ((rc = do_comment(w, it, aad)) != 0)
					return rc;
			} else {
				if ((rc = do_comment(w, it, aad)) != 0)
					return rc;
				if (w->nact < SOPS_MAX_ACTIVE_COMMENTS) {
					w->act[w->nact].level = w->level;
					w->act[w->nact++].c = it;
				}
			}
			continue;
		}
		if (c->kind == SOPS_MAP) {
			if (it->key == NULL)
				return err_set(w->err, ERR_INVAL, "%s: mapping item without key", w->file);
			w->path[w->depth++] = it->key;
		}
		if (it->kind == SOPS_SCALAR)
			rc = do_scalar(w, it, aad);
		else
			rc = walk_container(w, it, aad);
		if (c->kind == SOPS_MAP)
			w->depth--;
		if (rc != 0)
			return rc;
		w->nact = mark; /* a non-comment item clears this level's comments */
	}
	w->nact = mark;
	w->level--;
	return 0;
}

/* lastmodified re-rendered as RFC 3339 without fractions. */
static int mac_aad(const char *lm, char *out, size_t cap)
{
	char t[96], *dot, *end;

	if (sops_value_time_canonical(lm, strlen(lm), t, sizeof(t)) != 0)
		return ERR_INVAL;
	dot = strchr(t, '.');
	if (dot != NULL) {
		end = dot + 1;
		while (*end >= '0' && *end <= '9')
			end++;
		memmove(dot, end, strlen(end) + 1);
	}
	return str_copy(out, cap, t);
}

static int walk_tree(struct walk *w, struct sops_tree *t, char hex[129])
{
	struct buf aad;
	uint8_t d[64];
	unsigned int dl = 0;
	size_t i;
	int rc = 0;

	buf_init(&aad, SOPS_MAX_AAD);
	w->mac = EVP_MD_CTX_new();
	if (w->mac == NULL || EVP_DigestInit_ex(w->mac, EVP_sha512(), NULL) != 1) {
		rc = ERR_NOMEM;
		goto out;
	}
	if (w->m->mac_only_encrypted && EVP_DigestUpdate(w->mac, sha256_sops, 32) != 1) {
		rc = ERR_CRYPTO;
		goto out;
	}
	for (i = 0; i < t->ndocs && rc == 0; i++)
		rc = walk_container(w, t->docs[i], &aad);
	if (rc != 0)
		goto out;
	if (EVP_DigestFinal_ex(w->mac, d, &dl) != 1 || dl != 64) {
		rc = ERR_CRYPTO;
		goto out;
	}
	for (i = 0; i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02X", d[i]);
out:
	EVP_MD_CTX_free(w->mac);
	w->mac = NULL;
	buf_free(&aad);
	return rc;
}

static int walk_init(struct walk *w, const struct sops_meta *m, const char *file,
		     struct err_ctx *err)
{
	memset(w, 0, sizeof(*w));
	w->m = m;
	w->file = file;
	w->err = err;
	if (m->rule == SOPS_RULE_UNENC_REGEX || m->rule == SOPS_RULE_ENC_REGEX ||
	    m->rule == SOPS_RULE_UNENC_COMMENT_REGEX || m->rule == SOPS_RULE_ENC_COMMENT_REGEX) {
		if (regcomp(&w->re, m->rule_value, REG_EXTENDED | REG_NOSUB) != 0)
			return err_set(err, ERR_UNSUPPORTED, "%s: encryption regex not supported: %.100s",
				       file, m->rule_value);
		w->have_re = 1;
	}
	return 0;
}

static void walk_done(struct walk *w)
{
	if (w->have_re)
		regfree(&w->re);
}

/* ---- data key ------------------------------------------------------------------------ */

static void note(char *notes, size_t cap, const char *a, const char *b)
{
	size_t l = strlen(notes);

	if (l + 4 >= cap)
		return;
	snprintf(notes + l, cap - l, "%s%s%s%.60s", l ? ", " : "", a, b && *b ? " " : "",
		 b ? b : "");
}

static int group_order(enum sops_key_type t)
{
	return t == SOPS_KEY_AGE ? 0 : t == SOPS_KEY_PGP ? 1 : 2;
}

static int recover_key(const struct keyring *kr, const char *ns, const struct sops_meta *m,
		       const char *file, struct secbuf **out, struct err_ctx *err)
{
	struct secbuf *parts[SOPS_MAX_GROUPS] = {0}, *ok[SOPS_MAX_GROUPS], *key = NULL;
	char notes[400] = "";
	size_t g, i, nok = 0;
	int rc = 0, pass, threshold;

	for (g = 0; g < m->ngroups; g++) {
		const struct sops_group *gr = &m->groups[g];

		for (pass = 0; pass < 3 && parts[g] == NULL; pass++) {
			for (i = 0; i < gr->n && parts[g] == NULL; i++) {
				const struct sops_master *k = &gr->keys[i];
				int r2;

				if (group_order(k->type) != pass)
					continue;
				if (k->type == SOPS_KEY_AGE) {
					struct age_recipient rcp;

					if (str_has_prefix(k->id, "age1pq1")) {
						note(notes, sizeof(notes), "age post-quantum", NULL);
						continue;
					}
					if (age_recipient_parse(k->id, strlen(k->id), &rcp, NULL) ==
					    ERR_UNSUPPORTED) {
						note(notes, sizeof(notes),
						     str_has_prefix(k->id, "ssh-") ? "age ssh" : "age plugin",
						     NULL);
						continue;
					}
					r2 = keyring_unwrap(kr, ns, KEYRING_AGE, k->enc, strlen(k->enc),
							    &parts[g], NULL);
					if (r2 != 0)
						note(notes, sizeof(notes), "age", k->id);
				} else if (k->type == SOPS_KEY_PGP) {
					r2 = keyring_unwrap(kr, ns, KEYRING_PGP, k->enc, strlen(k->enc),
							    &parts[g], NULL);
					if (r2 != 0)
						note(notes, sizeof(notes), "pgp", k->id);
				} else {
					note(notes, sizeof(notes), sops_meta_key_type_name(k->type), NULL);
				}
			}
		}
	}
	for (g = 0; g < m->ngroups; g++)
		if (parts[g] != NULL)
			ok[nok++] = parts[g];
	if (m->ngroups == 1) {
		if (parts[0] == NULL) {
			rc = err_set(err, ERR_NOKEY, "%s: no usable key (%s)", file, notes);
			goto out;
		}
		if (parts[0]->len != SOPS_DATA_KEY_LEN) {
			rc = err_set(err, ERR_CRYPTO, "%s: data key has the wrong length", file);
			goto out;
		}
		key = parts[0];
		parts[0] = NULL;
	} else {
		threshold = m->threshold > 0 ? m->threshold : (int)m->ngroups;
		if ((int)nok < threshold || nok < 2) {
			rc = err_set(err, ERR_NOKEY, "%s: no usable key: %zu of %d key groups opened "
				     "(%s)", file, nok, threshold, notes);
			goto out;
		}
		if ((rc = sops_shamir_combine(ok, nok, &key)) != 0) {
			err_set(err, rc, "%s: key group shares do not combine", file);
			goto out;
		}
		if (key->len != SOPS_DATA_KEY_LEN) {
			secbuf_free(key);
			key = NULL;
			rc = err_set(err, ERR_CRYPTO, "%s: combined data key has the wrong length", file);
			goto out;
		}
	}
	*out = key;
out:
	for (g = 0; g < m->ngroups; g++)
		secbuf_free(parts[g]);
	return rc;
}

/* ---- decrypt ------------------------------------------------------------------------- */

static int emit_store(enum sops_format fmt, struct sops_tree *t, struct secbuf *out,
		      int for_encrypt)
{
	struct sops_node *d;

	switch (fmt) {
	case SOPS_FMT_YAML: return sops_yaml_emit(t, out);
	case SOPS_FMT_JSON: return sops_json_emit(t, out);
	case SOPS_FMT_DOTENV: return sops_dotenv_emit(t, out);
	case SOPS_FMT_INI: return sops_ini_emit(t, out);
	case SOPS_FMT_BINARY:
		if (for_encrypt)
			return sops_json_emit(t, out);
		d = t->ndocs ? sops_node_get(t->docs[0], "data") : NULL;
		if (d == NULL || d->kind != SOPS_SCALAR || d->type != SOPS_T_STR)
			return ERR_INVAL;
		return d->value ? secbuf_put(out, d->value->data, d->value->len) : 0;
	}
	return ERR_INVAL;
}

static const char *base_name(const char *f)
{
	const char *s = f ? strrchr(f, '/') : NULL;

	return f == NULL ? "(input)" : s ? s + 1 : f;
}

int sops_decrypt(const struct keyring *kr, const char *ns, const char *file_name,
		 const uint8_t *data, size_t n, struct secbuf **plain, struct err_ctx *err)
{
	enum sops_format fmt = sops_format_from_name(file_name);
	const char *fn = file_name ? file_name : "(input)";
	struct sops_tree t = {0};
	struct sops_node *mn = NULL;
	struct sops_meta meta = {0};
	struct secbuf *key = NULL, *out = NULL, *stored = NULL;
	struct walk w;
	char hex[129], aad[96];
	enum sops_type st;
	int rc, have_walk = 0, is_comment = 0;

	(void)base_name;
	if (n > SOPS_MAX_FILE)
		return err_set(err, ERR_TOOBIG, "%s: larger than %u bytes", fn, SOPS_MAX_FILE);
	if ((rc = parse_store(fmt, data, n, &t, err)) != 0) {
		err_wrap(err, rc, "%s", fn);
		goto out;
	}
	if ((rc = take_meta(fmt, &t, &mn, err)) != 0 ||
	    (rc = sops_meta_from_node(mn, &meta, err)) != 0) {
		err_wrap(err, rc, "%s", fn);
		goto out;
	}
	if (fmt == SOPS_FMT_BINARY) {
		struct sops_node *d = sops_node_get(t.docs[0], "data");

		if (d == NULL || d->kind != SOPS_SCALAR) {
			rc = err_set(err, ERR_INVAL, "%s: binary store without a data value", fn);
			goto out;
		}
	}
	if ((rc = recover_key(kr, ns, &meta, fn, &key, err)) != 0)
		goto out;
	if ((rc = walk_init(&w, &meta, fn, err)) != 0)
		goto out;
	have_walk = 1;
	w.key = key->data;
	w.encrypt = 0;
	if ((rc = walk_tree(&w, &t, hex)) != 0) {
		if (rc == ERR_NOMEM || rc == ERR_TOOBIG)
			err_set(err, rc, "%s: %s", fn, err_str(rc));
		goto out;
	}
	/* MAC */
	if (mac_aad(meta.lastmodified, aad, sizeof(aad)) != 0) {
		rc = err_set(err, ERR_INVAL, "%s: lastmodified is not an RFC 3339 time", fn);
		goto out;
	}
	if ((rc = secbuf_new(&stored, 256)) != 0)
		goto out;
	if (meta.mac == NULL || meta.mac[0] == '\0') {
		rc = err_set(err, ERR_CRYPTO, "%s: MAC mismatch (the file has no MAC)", fn);
		goto out;
	}
	rc = sops_cipher_decrypt(key->data, meta.mac, strlen(meta.mac), aad, strlen(aad), stored,
				 &st, &is_comment);
	if (rc != 0) {
		rc = err_set(err, ERR_CRYPTO, "%s: MAC cannot be decrypted (tampered MAC or "
			     "lastmodified)", fn);
		goto out;
	}
	if (!secbuf_eq_mem(stored, hex, 128)) {
		rc = err_set(err, ERR_CRYPTO, "%s: MAC mismatch (file content was changed)", fn);
		goto out;
	}
	if ((rc = secbuf_new(&out, SOPS_MAX_OUTPUT)) != 0)
		goto out;
	if ((rc = emit_store(fmt, &t, out, 0)) != 0) {
		err_set(err, rc, "%s: cannot write the plaintext", fn);
		goto out;
	}
	*plain = out;
	out = NULL;
out:
	if (have_walk)
		walk_done(&w);
	OPENSSL_cleanse(hex, sizeof(hex));
	secbuf_free(out);
	secbuf_free(stored);
	secbuf_free(key);
	sops_meta_free(&meta);
	sops_node_free(mn);
	sops_tree_clear(&t);
	return rc;
}

int sops_decrypt_auto(const struct keyring *kr, const char *ns, const char *file_name,
		      const uint8_t *data, size_t n, struct secbuf **plain, struct err_ctx *err)
{
	static const char v1[] = "age-encryption.org/v1\n";
	int rc;

	if (age_armor_detect(data, n) ||
	    (n >= sizeof(v1) - 1 && memcmp(data, v1, sizeof(v1) - 1) == 0)) {
		rc = keyring_age_decrypt(kr, ns, data, n, plain, err);
		if (rc != 0)
			err_wrap(err, rc, "%s", file_name ? file_name : "(input)");
		return rc;
	}
	return sops_decrypt(kr, ns, file_name, data, n, plain, err);
}

/* ---- encrypt ------------------------------------------------------------------------- */

static int now_rfc3339(char *out, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return ERR_INVAL;
	return 0;
}

static int add_master(struct sops_group *g, enum sops_key_type type, const char *id,
		      const char *enc, const char *created)
{
	struct sops_master *nk = xreallocarray(g->keys, g->n + 1, sizeof(*nk));

	if (nk == NULL)
		return ERR_NOMEM;
	g->keys = nk;
	memset(&nk[g->n], 0, sizeof(nk[g->n]));
	nk[g->n].type = type;
	nk[g->n].id = xstrdup(id);
	nk[g->n].enc = xstrdup(enc);
	nk[g->n].created_at = xstrdup(created);
	g->n++;
	if (nk[g->n - 1].id == NULL || nk[g->n - 1].enc == NULL || nk[g->n - 1].created_at == NULL)
		return ERR_NOMEM;
	return 0;
}

/* Encrypts part to recipient r (index into age then pgp) and adds it to group g. */
static int wrap_part(const struct sops_encrypt_opts *o, size_t r, const struct secbuf *part,
		     struct sops_group *g, const char *now, struct err_ctx *err)
{
	int rc;

	if (r < o->nage) {
		struct age_recipient rcp;
		struct buf e;

		if ((rc = age_recipient_parse(o->age[r], strlen(o->age[r]), &rcp, err)) != 0)
			return err_wrap(err, rc, "age recipient %.80s", o->age[r]);
		buf_init(&e, 1 << 20);
		rc = age_encrypt(&rcp, 1, part->data, part->len, 1, &e, err);
		if (rc == 0 && (rc = buf_cstr(&e)) == 0)
			rc = add_master(g, SOPS_KEY_AGE, o->age[r], (const char *)e.data, now);
		buf_free(&e);
		return rc;
	}
	{
		const char *fp = o->pgp[r - o->nage];
		char *arm = NULL;

		if (o->pgp_home == NULL)
			return err_set(err, ERR_INVAL, "pgp recipient %.64s: no public keys given", fp);
		if ((rc = pgp_home_encrypt(o->pgp_home, fp, part->data, part->len, &arm, err)) != 0)
			return rc;
		rc = add_master(g, SOPS_KEY_PGP, fp, arm, now);
		free(arm);
		return rc;
	}
}

int sops_encrypt(const struct sops_encrypt_opts *o, const char *file_name,
		 const uint8_t *plain, size_t n, struct buf *out, struct err_ctx *err)
{
	enum sops_format fmt = sops_format_from_name(file_name);
	const char *fn = file_name ? file_name : "(input)";
	struct sops_tree t = {0};
	struct sops_meta meta = {0};
	struct sops_node *mn = NULL, *tmp = NULL;
	struct secbuf *key = NULL, *shares[SOPS_MAX_RECIPIENTS] = {0}, *res = NULL;
	uint8_t raw[SOPS_DATA_KEY_LEN];
	size_t nr = o->nage + o->npgp, i;
	struct walk w;
	struct buf macenc;
	char hex[129], now[64];
	int rc, have_walk = 0;

	buf_init(&macenc, 4096);
	if (nr == 0 || nr > SOPS_MAX_RECIPIENTS)
		return err_set(err, ERR_INVAL, "%s: give 1 to %d recipients", fn, SOPS_MAX_RECIPIENTS);
	if (n > SOPS_MAX_FILE)
		return err_set(err, ERR_TOOBIG, "%s: larger than %u bytes", fn, SOPS_MAX_FILE);
	if (fmt == SOPS_FMT_BINARY) {
		struct sops_node *doc, *d;

		if ((rc = sops_node_new(&t, SOPS_MAP, &doc)) != 0)
			goto out;
		if ((rc = sops_tree_add_doc(&t, doc)) != 0)
			goto out;
		if ((rc = sops_node_new(&t, SOPS_SCALAR, &d)) != 0)
			goto out;
		d->type = SOPS_T_STR;
		if ((rc = sops_node_set_key(d, "data", 4)) != 0 ||
		    (rc = sops_node_set_value(d, plain, n)) != 0) {
			sops_node_free(d);
			goto out;
		}
		if ((rc = sops_node_append(doc, d)) != 0)
			goto out;
	} else if ((rc = parse_store(fmt, plain, n, &t, err)) != 0) {
		err_wrap(err, rc, "%s", fn);
		goto out;
	}
	if (fmt != SOPS_FMT_BINARY && take_meta(fmt, &t, &tmp, NULL) == 0) {
		rc = err_set(err, ERR_CONFLICT, "%s: already encrypted with sops", fn);
		goto out;
	}
	if ((rc = now_rfc3339(now, sizeof(now))) != 0)
		goto out;
	if (RAND_priv_bytes(raw, sizeof(raw)) != 1 || (rc = secbuf_from(&key, raw, sizeof(raw))) != 0) {
		rc = ERR_CRYPTO;
		goto out;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	meta.ngroups = o->key_groups && nr > 1 ? nr : 1;
	meta.from_key_groups = meta.ngroups > 1;
	meta.groups = xcalloc(meta.ngroups, sizeof(*meta.groups));
	meta.lastmodified = xstrdup(now);
	meta.version = xstrdup("3.9.0");
	meta.threshold = o->threshold;
	meta.mac_only_encrypted = o->mac_only_encrypted;
	if (o->encrypted_regex != NULL) {
		meta.rule = SOPS_RULE_ENC_REGEX;
		meta.rule_value = xstrdup(o->encrypted_regex);
	} else {
		meta.rule = SOPS_RULE_UNENC_SUFFIX;
		meta.rule_value = xstrdup(o->unencrypted_suffix ? o->unencrypted_suffix
								: "_unencrypted");
	}
	if (meta.groups == NULL || meta.lastmodified == NULL || meta.version == NULL ||
	    meta.rule_value == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if (meta.ngroups > 1) {
		size_t k = o->threshold > 0 ? (size_t)o->threshold : nr;

		if (k < 2 || k > nr) {
			rc = err_set(err, ERR_INVAL, "%s: threshold must be 2..%zu", fn, nr);
			goto out;
		}
		if ((rc = sops_shamir_split(key->data, key->len, nr, k, shares)) != 0)
			goto out;
		for (i = 0; i < nr; i++)
			if ((rc = wrap_part(o, i, shares[i], &meta.groups[i], now, err)) != 0)
				goto out;
	} else {
		for (i = 0; i < nr; i++)
			if ((rc = wrap_part(o, i, key, &meta.groups[0], now, err)) != 0)
				goto out;
	}
	if ((rc = walk_init(&w, &meta, fn, err)) != 0)
		goto out;
	have_walk = 1;
	w.key = key->data;
	w.encrypt = 1;
	if ((rc = walk_tree(&w, &t, hex)) != 0)
		goto out;
	if ((rc = sops_cipher_encrypt(key->data, hex, 128, now, strlen(now), "str", &macenc)) != 0 ||
	    (rc = buf_cstr(&macenc)) != 0)
		goto out;
	meta.mac = xstrdup((const char *)macenc.data);
	if (meta.mac == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if ((rc = sops_meta_to_node(&t, &meta, &mn)) != 0)
		goto out;
	switch (fmt) {
	case SOPS_FMT_YAML:
		for (i = 0; i < t.ndocs; i++) {
			struct sops_node *cp;

			if ((rc = sops_node_copy(&t, mn, &cp)) != 0 ||
			    (rc = sops_node_set_key(cp, "sops", 4)) != 0 ||
			    (rc = sops_node_append(t.docs[i], cp)) != 0)
				goto out;
		}
		break;
	case SOPS_FMT_JSON:
	case SOPS_FMT_BINARY:
		if ((rc = sops_node_set_key(mn, "sops", 4)) != 0 ||
		    (rc = sops_node_append(t.docs[0], mn)) != 0) {
			mn = NULL;
			goto out;
		}
		mn = NULL;
		break;
	case SOPS_FMT_DOTENV:
		rc = sops_meta_flatten(&t, mn, "sops_", 0, t.docs[0]);
		break;
	case SOPS_FMT_INI: {
		struct sops_node *sec;

		if ((rc = sops_node_new(&t, SOPS_MAP, &sec)) != 0)
			goto out;
		if ((rc = sops_node_set_key(sec, "sops", 4)) != 0) {
			sops_node_free(sec);
			goto out;
		}
		if ((rc = sops_node_append(t.docs[0], sec)) != 0)
			goto out;
		rc = sops_meta_flatten(&t, mn, "", 1, sec);
		break;
	}
	}
	if (rc != 0)
		goto out;
	if ((rc = secbuf_new(&res, SOPS_MAX_OUTPUT)) != 0 ||
	    (rc = emit_store(fmt, &t, res, 1)) != 0 || (rc = buf_put(out, res->data, res->len)) != 0)
		goto out;
out:
	if (rc != 0 && err != NULL && err->msg[0] == '\0')
		err_set(err, rc, "%s: encryption failed: %s", fn, err_str(rc));
	if (have_walk)
		walk_done(&w);
	for (i = 0; i < SOPS_MAX_RECIPIENTS; i++)
		secbuf_free(shares[i]);
	secbuf_free(res);
	secbuf_free(key);
	sops_node_free(mn);
	sops_node_free(tmp);
	sops_meta_free(&meta);
	sops_tree_clear(&t);
	buf_free(&macenc);
	return rc;
}
