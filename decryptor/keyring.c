/* keyring.c — SOPS keys of the decryptor (see keyring.h). */
#include "decryptor/keyring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "decryptor/age/age.h"
#include "decryptor/pgp.h"
#include "decryptor/pgp_agent.h"

struct keyring_src {
	char name[256];
	enum keyring_kind kind;
	char *ns[KEYRING_MAX_NAMESPACES]; /* owned; nns == 0 = every namespace */
	size_t nns;
	struct age_identity **ids;        /* age */
	size_t nids;
	struct pgp_home *home;            /* pgp in-process: one private home per key file */
	uint32_t slot;                    /* pgp through the agent: its home for this file */
	size_t nsecret;
};

struct keyring_cache_entry {
	uint8_t hash[32];
	size_t src;
	struct secbuf *part;
};

struct keyring_cache {
	struct keyring_cache_entry e[KEYRING_MAX_CACHE];
	size_t n, next;
	size_t hits, misses;
};

struct keyring {
	struct keyring_src *srcs;
	size_t n;
	struct keyring_cache *cache;
	struct pgp_agent *agent; /* borrowed; NULL = gpgme in this process */
};

int keyring_attach_pgp_agent(struct keyring *kr, struct pgp_agent *a)
{
	size_t i;

	if (kr == NULL || a == NULL)
		return ERR_INVAL;
	for (i = 0; i < kr->n; i++)
		if (kr->srcs[i].kind == KEYRING_PGP)
			return ERR_INVAL;
	kr->agent = a;
	return 0;
}

int keyring_new(struct keyring **out)
{
	struct keyring *kr = xcalloc(1, sizeof(*kr));

	if (kr == NULL)
		return ERR_NOMEM;
	kr->cache = xcalloc(1, sizeof(*kr->cache));
	if (kr->cache == NULL) {
		free(kr);
		return ERR_NOMEM;
	}
	*out = kr;
	return 0;
}

void keyring_free(struct keyring *kr)
{
	size_t i, j;

	if (kr == NULL)
		return;
	for (i = 0; i < kr->n; i++) {
		age_identities_free(kr->srcs[i].ids, kr->srcs[i].nids);
		pgp_home_free(kr->srcs[i].home);
		for (j = 0; j < kr->srcs[i].nns; j++)
			free(kr->srcs[i].ns[j]);
	}
	free(kr->srcs);
	for (i = 0; kr->cache != NULL && i < kr->cache->n; i++)
		secbuf_free(kr->cache->e[i].part);
	free(kr->cache);
	free(kr);
}

static int has_text(const uint8_t *d, size_t n, const char *needle)
{
	size_t l = strlen(needle), i;

	for (i = 0; i + l <= n; i++)
		if (memcmp(d + i, needle, l) == 0)
			return 1;
	return 0;
}

static struct keyring_src *new_src(struct keyring *kr, const char *name, enum keyring_kind kind)
{
	struct keyring_src *ns;

	if (kr->n >= KEYRING_MAX_FILES)
		return NULL;
	ns = xreallocarray(kr->srcs, kr->n + 1, sizeof(*ns));
	if (ns == NULL)
		return NULL;
	kr->srcs = ns;
	memset(&ns[kr->n], 0, sizeof(ns[kr->n]));
	(void)str_copy(ns[kr->n].name, sizeof(ns[kr->n].name), name);
	ns[kr->n].kind = kind;
	return &ns[kr->n++];
}

int keyring_add(struct keyring *kr, const char *name, const uint8_t *data, size_t n,
		struct err_ctx *err)
{
	int is_pgp, is_age, rc;
	struct keyring_src *s;
	size_t unusable = 0;

	if (n > KEYRING_MAX_FILE_SIZE)
		return err_set(err, ERR_TOOBIG, "key file %s: too large", name);
	is_pgp = str_has_suffix(name, ".asc") ||
		 (!str_has_suffix(name, ".agekey") && has_text(data, n, "-----BEGIN PGP"));
	is_age = !is_pgp && (str_has_suffix(name, ".agekey") || has_text(data, n, "AGE-SECRET-KEY-"));
	if (is_age) {
		struct age_identity **ids = NULL;
		size_t nids = 0;

		rc = age_identities_parse(data, n, &ids, &nids, &unusable, err);
		if (rc != 0) {
			age_identities_free(ids, nids);
			return err_wrap(err, rc, "key file %s", name);
		}
		if (nids == 0) {
			age_identities_free(ids, nids);
			return err_set(err, ERR_UNSUPPORTED, "key file %s: no usable age identity%s",
				       name, unusable ? " (post-quantum or plugin only)" : "");
		}
		if ((s = new_src(kr, name, KEYRING_AGE)) == NULL) {
			age_identities_free(ids, nids);
			return err_set(err, ERR_TOOBIG, "too many key files");
		}
		s->ids = ids;
		s->nids = nids;
		return 0;
	}
	if (is_pgp && kr->agent != NULL) {
		uint32_t slot = 0;
		size_t nsec = 0;

		if (kr->n >= KEYRING_MAX_FILES)
			return err_set(err, ERR_TOOBIG, "too many key files");
		if ((rc = pgp_agent_import(kr->agent, data, n, &slot, &nsec, err)) != 0)
			return err_wrap(err, rc, "key file %s", name);
		if (nsec == 0)
			return err_set(err, ERR_UNSUPPORTED, "key file %s: no OpenPGP secret key",
				       name);
		if ((s = new_src(kr, name, KEYRING_PGP)) == NULL)
			return err_set(err, ERR_TOOBIG, "too many key files");
		s->slot = slot;
		s->nsecret = nsec;
		return 0;
	}
	if (is_pgp) {
		struct pgp_home *h = NULL;
		size_t nsec = 0;

		if ((rc = pgp_home_new(&h, err)) != 0)
			return err_wrap(err, rc, "key file %s", name);
		if ((rc = pgp_home_import(h, data, n, &nsec, err)) != 0) {
			pgp_home_free(h);
			return err_wrap(err, rc, "key file %s", name);
		}
		if (nsec == 0) {
			pgp_home_free(h);
			return err_set(err, ERR_UNSUPPORTED, "key file %s: no OpenPGP secret key",
				       name);
		}
		if ((s = new_src(kr, name, KEYRING_PGP)) == NULL) {
			pgp_home_free(h);
			return err_set(err, ERR_TOOBIG, "too many key files");
		}
		s->home = h;
		s->nsecret = nsec;
		return 0;
	}
	return err_set(err, ERR_UNSUPPORTED, "key file %s: neither an OpenPGP nor an age key",
		       name);
}

/* Reads a regular file (no symlink follow) into a secbuf. */
static int read_file(int dirfd, const char *name, struct secbuf **out)
{
	struct secbuf *s = NULL;
	struct stat st;
	uint8_t chunk[4096];
	ssize_t r;
	int fd, rc;

	/* symlinks are followed: Kubernetes projects Secret keys as links into ..data/ */
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ERR_INVAL;
	}
	if (st.st_size > KEYRING_MAX_FILE_SIZE) {
		close(fd);
		return ERR_TOOBIG;
	}
	if ((rc = secbuf_new(&s, KEYRING_MAX_FILE_SIZE)) != 0) {
		close(fd);
		return rc;
	}
	while ((r = read(fd, chunk, sizeof(chunk))) > 0) {
		if ((rc = secbuf_put(s, chunk, (size_t)r)) != 0)
			break;
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	close(fd);
	if (r < 0)
		rc = ERR_IO;
	if (rc != 0) {
		secbuf_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int is_key_name(const char *n)
{
	return str_has_suffix(n, ".asc") || str_has_suffix(n, ".agekey") ||
	       strcmp(n, "private-key") == 0 || strcmp(n, "key") == 0 || strcmp(n, "gpg-key") == 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int keyring_load_dir(struct keyring *kr, const char *dir, struct err_ctx *err)
{
	char *names[KEYRING_MAX_FILES];
	size_t nn = 0, i;
	struct secbuf *s = NULL;
	struct dirent *e;
	DIR *d;
	int dfd, rc = 0;

	d = opendir(dir);
	if (d == NULL)
		return err_set(err, ERR_NOTFOUND, "key directory %s: %s", dir, strerror(errno));
	dfd = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !is_key_name(e->d_name))
			continue;
		if (nn >= KEYRING_MAX_FILES) {
			rc = err_set(err, ERR_TOOBIG, "key directory %s: more than %d key files", dir,
				     KEYRING_MAX_FILES);
			goto out;
		}
		if ((names[nn] = xstrdup(e->d_name)) == NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
		nn++;
	}
	qsort(names, nn, sizeof(names[0]), name_cmp);
	for (i = 0; i < nn; i++) {
		if ((rc = read_file(dfd, names[i], &s)) != 0) {
			err_set(err, rc, "key file %s/%s: cannot read", dir, names[i]);
			goto out;
		}
		rc = keyring_add(kr, names[i], s->data, s->len, err);
		secbuf_free(s);
		s = NULL;
		if (rc != 0)
			goto out;
	}
	if (read_file(dfd, KEYRING_POLICY_FILE, &s) == 0) {
		rc = keyring_set_policy(kr, s->data, s->len, err);
		secbuf_free(s);
		if (rc != 0)
			goto out;
	}
out:
	for (i = 0; i < nn; i++)
		free(names[i]);
	closedir(d);
	return rc;
}

int keyring_set_policy(struct keyring *kr, const uint8_t *text, size_t n, struct err_ctx *err)
{
	size_t pos = 0, s, e, i, ws, line = 0;
	char tok[256];
	struct keyring_src *src;

	while (pos < n) {
		s = pos;
		while (pos < n && text[pos] != '\n')
			pos++;
		e = pos;
		if (pos < n)
			pos++;
		line++;
		src = NULL;
		for (i = s; i <= e; i++) {
			if (i < e && text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
				continue;
			ws = i;
			if (ws > s) {
				if (text[s] == '#')
					break;
				if (ws - s >= sizeof(tok))
					return err_set(err, ERR_INVAL, "key policy line %zu: too long", line);
				memcpy(tok, text + s, ws - s);
				tok[ws - s] = '\0';
				if (src == NULL) {
					size_t k;

					for (k = 0; k < kr->n; k++)
						if (strcmp(kr->srcs[k].name, tok) == 0)
							src = &kr->srcs[k];
					if (src == NULL)
						return err_set(err, ERR_INVAL,
							       "key policy line %zu: unknown key file %s",
							       line, tok);
				} else if (strcmp(tok, "*") != 0) {
					if (src->nns >= KEYRING_MAX_NAMESPACES)
						return err_set(err, ERR_TOOBIG,
							       "key policy line %zu: too many namespaces",
							       line);
					if ((src->ns[src->nns] = xstrdup(tok)) == NULL)
						return ERR_NOMEM;
					src->nns++;
				}
			}
			s = i + 1;
		}
		if (src != NULL && src->nns == 0) {
			/* "file *": explicitly every namespace */
		}
	}
	return 0;
}

static int allowed(const struct keyring_src *s, const char *ns)
{
	size_t i;

	if (ns == NULL || s->nns == 0)
		return 1;
	for (i = 0; i < s->nns; i++)
		if (strcmp(s->ns[i], ns) == 0)
			return 1;
	return 0;
}

size_t keyring_count(const struct keyring *kr, enum keyring_kind kind)
{
	size_t i, c = 0;

	for (i = 0; i < kr->n; i++)
		if (kr->srcs[i].kind == kind)
			c += kind == KEYRING_AGE ? kr->srcs[i].nids : kr->srcs[i].nsecret;
	return c;
}

void keyring_cache_stats(const struct keyring *kr, size_t *hits, size_t *misses)
{
	*hits = kr->cache->hits;
	*misses = kr->cache->misses;
}

static void stanza_hash(enum keyring_kind kind, const char *enc, size_t n, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t k = (uint8_t)kind;

	memset(out, 0, 32);
	if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, &k, 1) == 1 && EVP_DigestUpdate(c, enc, n) == 1)
		(void)EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
}

static void cache_put(struct keyring_cache *c, const uint8_t hash[32], size_t src,
		      const struct secbuf *part)
{
	struct keyring_cache_entry *e;
	struct secbuf *copy;

	if (secbuf_from(&copy, part->data, part->len) != 0)
		return;
	if (c->n < KEYRING_MAX_CACHE) {
		e = &c->e[c->n++];
	} else {
		e = &c->e[c->next];
		c->next = (c->next + 1) % KEYRING_MAX_CACHE;
		secbuf_free(e->part);
	}
	memcpy(e->hash, hash, 32);
	e->src = src;
	e->part = copy;
}

int keyring_unwrap(const struct keyring *kr, const char *ns, enum keyring_kind kind,
		   const char *enc, size_t n, struct secbuf **part, struct err_ctx *err)
{
	uint8_t h[32];
	struct secbuf *p = NULL;
	size_t i;
	int rc, any = 0;

	stanza_hash(kind, enc, n, h);
	for (i = 0; i < kr->cache->n; i++) {
		const struct keyring_cache_entry *e = &kr->cache->e[i];

		if (CRYPTO_memcmp(e->hash, h, 32) == 0 && allowed(&kr->srcs[e->src], ns)) {
			kr->cache->hits++;
			return secbuf_from(part, e->part->data, e->part->len);
		}
	}
	kr->cache->misses++;
	for (i = 0; i < kr->n; i++) {
		const struct keyring_src *s = &kr->srcs[i];

		if (s->kind != kind || !allowed(s, ns))
			continue;
		any = 1;
		if (kind == KEYRING_AGE)
			rc = age_decrypt((const struct age_identity *const *)s->ids, s->nids,
					 (const uint8_t *)enc, n, &p, err);
		else if (s->home == NULL)
			rc = pgp_agent_decrypt(kr->agent, s->slot, enc, n, &p, err);
		else
			rc = pgp_home_decrypt(s->home, enc, n, &p, err);
		if (rc == 0) {
			cache_put(kr->cache, h, i, p);
			*part = p;
			return 0;
		}
		if (rc != ERR_NOKEY && rc != ERR_CRYPTO)
			return rc; /* malformed stanza: reported as is */
	}
	return err_set(err, ERR_NOKEY, "no %s key%s opens this data key",
		       kind == KEYRING_AGE ? "age" : "OpenPGP", any ? "" : " available");
}

int keyring_age_identities(const struct keyring *kr, const char *ns,
			   const struct age_identity ***ids, size_t *n)
{
	const struct age_identity **a;
	size_t i, j, c = 0, total = keyring_count(kr, KEYRING_AGE);

	a = xcalloc(total + 1, sizeof(*a));
	if (a == NULL)
		return ERR_NOMEM;
	for (i = 0; i < kr->n; i++) {
		if (kr->srcs[i].kind != KEYRING_AGE || !allowed(&kr->srcs[i], ns))
			continue;
		for (j = 0; j < kr->srcs[i].nids; j++)
			a[c++] = kr->srcs[i].ids[j];
	}
	*ids = a;
	*n = c;
	return 0;
}

int keyring_age_decrypt(const struct keyring *kr, const char *ns, const uint8_t *in, size_t n,
			struct secbuf **plain, struct err_ctx *err)
{
	const struct age_identity **ids = NULL;
	size_t nids = 0;
	int rc;

	if ((rc = keyring_age_identities(kr, ns, &ids, &nids)) != 0)
		return rc;
	if (nids == 0) {
		free(ids);
		return err_set(err, ERR_NOKEY, "no usable key (no age identity loaded)");
	}
	rc = age_decrypt((const struct age_identity *const *)ids, nids, in, n, plain, err);
	free(ids);
	return rc;
}
