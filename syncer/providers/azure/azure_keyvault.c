/* azure_keyvault.c — Key Vault secrets sync (see azure_keyvault.h for the plan).
 * A PUT adds a version, so it is never repeated blindly: a set whose answer is lost (a
 * transport failure or a 5xx, which may come after the version was stored) is followed by
 * a read of the latest version, and written again only when that does not hold the value
 * with smc's tags — at most KV_MAX_WRITES PUTs of one secret in one sync. */
#include "syncer/providers/azure/azure_keyvault.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/b64.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"

#define KV_MAX_WRITES 4 /* PUTs of one secret in one sync while answers are lost */

struct kv_remote {
	char *name;
	int mark;	 /* 1 ours, 0 unmarked, -1 another owner */
	char other[256]; /* that owner */
	int enabled;
	int wanted;
};

enum kv_state {
	KV_NEW = 0,
	KV_VERSIONS, /* untagged latest version: look for smc's mark in older ones */
	KV_READ,     /* ours: read the latest value */
	KV_WRITE,    /* PUT a new version */
	KV_VERIFY,   /* a PUT whose answer was lost: read the latest version back */
	KV_DELETED,  /* PUT refused: the name is soft-deleted */
	KV_DONE,     /* reported */
};

struct kv_item {
	const struct desired *d;
	struct kv_remote *r;
	enum kv_state state;
	const char *why; /* reason attached to the write */
	int adopt;
	unsigned writes; /* PUTs sent in this sync */
	char lost[200];	 /* reason of the last PUT whose answer was lost */
};

struct kv_ctx {
	struct azure_client *c;
	const struct job *job;
	const char *owner;
	const char *base;
	struct report *rep;
	struct kv_remote *remote;
	size_t nremote, capremote;
	struct kv_item *it;
	size_t n;
};

/* ---------- helpers ---------- */

int azure_kv_valid_name(const char *name)
{
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > AZURE_KV_MAX_NAME)
		return 0;
	for (; *name; name++) {
		char ch = *name;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
	}
	return 1;
}

static int dup_trim(const char *s, char **out)
{
	size_t n = strlen(s);
	char *p;

	while (n > 0 && s[n - 1] == '/')
		n--;
	if ((p = malloc(n + 1)) == NULL)
		return ERR_NOMEM;
	memcpy(p, s, n);
	p[n] = '\0';
	*out = p;
	return 0;
}

static int valid_vault_name(const char *v)
{
	size_t n = strlen(v);

	if (n < 3 || n > 24)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
	}
	return 1;
}

int azure_kv_vault_url(const char *endpoint, const char *vault_name, char **out,
		       struct err_ctx *err)
{
	char buf[128];

	if (endpoint != NULL && endpoint[0] != '\0') {
		if (!str_has_prefix(endpoint, "https://") && !str_has_prefix(endpoint, "http://"))
			return err_set(err, ERR_INVAL,
				       "spec.provider.azure.endpoint is not an http(s) URL");
		return dup_trim(endpoint, out);
	}
	if (vault_name == NULL || vault_name[0] == '\0')
		return err_set(err, ERR_INVAL, "spec.provider.azure.vaultName is empty");
	if (str_has_prefix(vault_name, "https://"))
		return dup_trim(vault_name, out);
	if (!valid_vault_name(vault_name))
		return err_set(err, ERR_INVAL,
			       "spec.provider.azure.vaultName '%.64s' is not a valid vault name",
			       vault_name);
	if (str_fmt(buf, sizeof(buf), "https://%s.vault.azure.net", vault_name) != 0)
		return ERR_TOOBIG;
	return (*out = xstrdup(buf)) ? 0 : ERR_NOMEM;
}

int azure_kv_tags_owner(const json_t *tags, const char *owner, char *other, size_t osz)
{
	const char *mb = json_string_value(json_object_get(tags, PROVIDER_MANAGED_BY_KEY));
	const char *ow = json_string_value(json_object_get(tags, PROVIDER_OWNER_KEY));

	if (mb == NULL || strcmp(mb, PROVIDER_MANAGED_BY_VALUE) != 0)
		return 0;
	if (ow != NULL && strcmp(ow, owner) == 0)
		return 1;
	if (other != NULL && osz > 0 && str_copy(other, osz, ow ? ow : "?") != 0)
		other[osz - 1] = '\0';
	return -1;
}

/* The path segment after "/secrets/" or "/deletedsecrets/", and the one after it. */
static int id_segment(const char *id, int which, char *dst, size_t dsz)
{
	const char *p, *e;
	size_t n;

	if (id == NULL)
		return ERR_INVAL;
	if ((p = strstr(id, "/deletedsecrets/")) != NULL)
		p += strlen("/deletedsecrets/");
	else if ((p = strstr(id, "/secrets/")) != NULL)
		p += strlen("/secrets/");
	else
		return ERR_INVAL;
	for (int i = 0; i < which; i++) {
		if ((p = strchr(p, '/')) == NULL) {
			dst[0] = '\0';
			return 0;
		}
		p++;
	}
	e = p + strcspn(p, "/?");
	n = (size_t)(e - p);
	if (n + 1 > dsz)
		return ERR_TOOBIG;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

int azure_kv_id_name(const char *id, char *dst, size_t dsz)
{
	int rc = id_segment(id, 0, dst, dsz);

	if (rc == 0 && !azure_kv_valid_name(dst))
		rc = ERR_INVAL;
	return rc;
}

int azure_kv_id_version(const char *id, char *dst, size_t dsz)
{
	return id_segment(id, 1, dst, dsz);
}

static int is_text(const struct secbuf *v)
{
	return str_utf8_valid((const char *)v->data, v->len);
}

/* 1 when a SecretBundle holds v (text as is; other bytes as base64 with our type). */
static int bundle_equal(json_t *j, const struct secbuf *v)
{
	json_t *val = json_object_get(j, "value");
	const char *ct = json_string_value(json_object_get(j, "contentType"));
	struct secbuf *enc = NULL;
	int eq = 0;

	if (!json_is_string(val))
		return 0;
	if (is_text(v))
		return (ct == NULL || strcmp(ct, AZURE_KV_BINARY_TYPE) != 0) &&
		       secbuf_eq_mem(v, json_string_value(val), json_string_length(val));
	if (ct == NULL || strcmp(ct, AZURE_KV_BINARY_TYPE) != 0)
		return 0;
	if (b64_encode_secret(v->data, v->len, 0, &enc) == 0)
		eq = secbuf_eq_mem(enc, json_string_value(val), json_string_length(val));
	secbuf_free(enc);
	return eq;
}

static json_t *owner_tags(const char *owner)
{
	return json_pack("{s:s,s:s}", PROVIDER_MANAGED_BY_KEY, PROVIDER_MANAGED_BY_VALUE,
			 PROVIDER_OWNER_KEY, owner);
}

static int url_for(const struct kv_ctx *x, const char *path, const char *name, const char *tail,
		   char **out)
{
	size_t n = strlen(x->base) + strlen(path) + (name ? strlen(name) : 0) +
		   (tail ? strlen(tail) : 0) + 64;
	char *u = malloc(n);

	if (u == NULL)
		return ERR_NOMEM;
	if (str_fmt(u, n, "%s%s%s%s%sapi-version=%s", x->base, path, name ? name : "",
		    tail ? tail : "", "?", AZURE_KV_API_VERSION) != 0) {
		free(u);
		return ERR_TOOBIG;
	}
	*out = u;
	return 0;
}

static int mkcall(const struct kv_ctx *x, struct azure_call *c, const char *method, const char *op,
		  const char *name, const char *path, const char *tail)
{
	memset(c, 0, sizeof(*c));
	c->method = method;
	c->op = op;
	c->name = name;
	c->scope = AZURE_KV_SCOPE;
	return url_for(x, path, name, tail, &c->url);
}

/* A PUT of the value with our tags. */
static int set_call(const struct kv_ctx *x, struct azure_call *c, const struct desired *d)
{
	struct secbuf *enc = NULL;
	json_t *req;
	int rc, text = is_text(d->value);

	if ((rc = mkcall(x, c, "PUT", "secrets.set", d->name, "/secrets/", NULL)) != 0)
		return rc;
	if (!text && (rc = b64_encode_secret(d->value->data, d->value->len, 0, &enc)) != 0)
		return rc;
	req =
	    json_pack("{s:s%,s:o,s:s,s:{s:b}}", "value",
		      text ? (const char *)d->value->data : (const char *)enc->data,
		      text ? d->value->len : enc->len, "tags", owner_tags(x->owner), "contentType",
		      text ? "text/plain" : AZURE_KV_BINARY_TYPE, "attributes", "enabled", 1);
	secbuf_free(enc);
	return azure_json_body(req, &c->body);
}

static void calls_clear(struct azure_call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		azure_call_clear(&calls[i]);
}

static int report(struct kv_ctx *x, const char *name, const char *key, enum item_outcome o,
		  const char *reason)
{
	return report_add(x->rep, name, key, ITEM_SECRET, o, reason);
}

static int fail_item(struct kv_ctx *x, struct kv_item *it, const struct azure_call *c)
{
	char reason[400];

	azure_call_reason(c, reason, sizeof(reason));
	it->state = KV_DONE;
	return report(x, it->d->name, it->d->key, ITEM_FAILED, reason);
}

/* ---------- 1. list ---------- */

static int add_remote(struct kv_ctx *x, json_t *e)
{
	char name[AZURE_KV_MAX_NAME + 1];
	struct kv_remote *r;
	json_t *en;

	if (azure_kv_id_name(json_string_value(json_object_get(e, "id")), name, sizeof(name)) != 0)
		return 0; /* not a name smc could have written: ignore */
	if (x->nremote == x->capremote) {
		size_t nc = x->capremote ? x->capremote * 2 : 64;
		struct kv_remote *p;

		if (nc > 2 * (size_t)REPORT_MAX_ITEMS + 100000)
			return ERR_TOOBIG;
		if ((p = xreallocarray(x->remote, nc, sizeof(*p))) == NULL)
			return ERR_NOMEM;
		x->remote = p;
		x->capremote = nc;
	}
	r = &x->remote[x->nremote];
	memset(r, 0, sizeof(*r));
	if ((r->name = xstrdup(name)) == NULL)
		return ERR_NOMEM;
	r->mark =
	    azure_kv_tags_owner(json_object_get(e, "tags"), x->owner, r->other, sizeof(r->other));
	en = json_object_get(json_object_get(e, "attributes"), "enabled");
	r->enabled = !json_is_false(en);
	x->nremote++;
	return 0;
}

static int list_all(struct kv_ctx *x, struct err_ctx *err)
{
	struct azure_call c;
	char *next = NULL;
	int rc = 0, pages = 0;

	if ((rc = mkcall(x, &c, "GET", "secrets.list", "*", "/secrets", NULL)) != 0)
		return rc;
	free(c.url);
	c.url = NULL;
	{
		size_t n = strlen(x->base) + 64;

		if ((c.url = malloc(n)) == NULL)
			return ERR_NOMEM;
		str_fmt(c.url, n, "%s/secrets?api-version=%s&maxresults=25", x->base,
			AZURE_KV_API_VERSION);
	}
	for (;;) {
		json_t *v, *e, *nl;
		size_t i;

		if ((rc = azure_client_run(x->c, &c, 1, err)) != 0)
			goto out;
		if (c.rc != 0) {
			char reason[400];

			azure_call_reason(&c, reason, sizeof(reason));
			rc = err_set(err, c.rc, "azure key vault %s: %s", x->base, reason);
			goto out;
		}
		v = json_object_get(c.json, "value");
		json_array_foreach(v, i, e)
		{
			if ((rc = add_remote(x, e)) != 0)
				goto out;
		}
		nl = json_object_get(c.json, "nextLink");
		if (!json_is_string(nl) || json_string_length(nl) == 0)
			break;
		if (++pages >= AZURE_KV_MAX_PAGES) {
			rc = err_set(err, ERR_TOOBIG, "azure key vault %s: more than %d list pages",
				     x->base, AZURE_KV_MAX_PAGES);
			goto out;
		}
		/* follow the link on this vault only: the token must not go elsewhere */
		if (!str_has_prefix(json_string_value(nl), x->base) ||
		    json_string_value(nl)[strlen(x->base)] != '/') {
			rc = err_set(err, ERR_PROTO,
				     "azure key vault %s: nextLink points outside the vault",
				     x->base);
			goto out;
		}
		{
			const char *l = json_string_value(nl);
			int has_ver = strstr(l, "api-version=") != NULL;
			size_t n = strlen(l) + 32;

			free(next);
			if ((next = malloc(n)) == NULL) {
				rc = ERR_NOMEM;
				goto out;
			}
			str_fmt(next, n, "%s%s%s", l, has_ver ? "" : (strchr(l, '?') ? "&" : "?"),
				has_ver ? "" : "api-version=" AZURE_KV_API_VERSION);
		}
		free(c.url);
		c.url = next;
		next = NULL;
	}
out:
	free(next);
	azure_call_clear(&c);
	return rc;
}

static struct kv_remote *find_remote(struct kv_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->nremote; i++) {
		if (strcmp(x->remote[i].name, name) == 0)
			return &x->remote[i];
	}
	return NULL;
}

/* ---------- 2. ownership of an untagged latest version ---------- */

/* Key Vault tags are per version: someone who sets a value by hand (portal, az CLI)
 * creates a version without tags. The secret is still smc's when an older version carries
 * smc's mark for this owner; any other mark, or none at all, keeps it refused. Returns the
 * mark (1, 0, -1) in *mark, or fails the item (reported) with *mark = -2. */
static int versions_owner(struct kv_ctx *x, struct kv_item *it, int *mark, char *other, size_t osz,
			  struct err_ctx *err)
{
	struct azure_call c;
	int rc, pages = 0;

	*mark = 0;
	if ((rc = mkcall(x, &c, "GET", "secrets.versions", it->d->name, "/secrets/",
			 "/versions")) != 0)
		return rc;
	for (;;) {
		json_t *v, *e, *nl;
		size_t i;

		if ((rc = azure_client_run(x->c, &c, 1, err)) != 0)
			goto out;
		if (c.rc != 0) {
			*mark = -2;
			rc = fail_item(x, it, &c);
			goto out;
		}
		v = json_object_get(c.json, "value");
		json_array_foreach(v, i, e)
		{
			char o[256] = "";
			int m =
			    azure_kv_tags_owner(json_object_get(e, "tags"), x->owner, o, sizeof(o));

			if (m == 1 && *mark == 0)
				*mark = 1;
			else if (m == -1) {
				*mark = -1; /* another owner's mark anywhere: not ours */
				str_copy(other, osz, o);
			}
		}
		nl = json_object_get(c.json, "nextLink");
		if (!json_is_string(nl) || json_string_length(nl) == 0 || ++pages >= 40 ||
		    !str_has_prefix(json_string_value(nl), x->base) ||
		    json_string_value(nl)[strlen(x->base)] != '/')
			break;
		free(c.url);
		if ((c.url = xstrdup(json_string_value(nl))) == NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
	}
	rc = 0;
out:
	azure_call_clear(&c);
	return rc;
}

static int check_versions(struct kv_ctx *x, struct err_ctx *err)
{
	for (size_t i = 0; i < x->n; i++) {
		struct kv_item *it = &x->it[i];
		char other[256] = "", reason[400];
		int rc, mark;

		if (it->state != KV_VERSIONS)
			continue;
		if ((rc = versions_owner(x, it, &mark, other, sizeof(other), err)) != 0)
			return rc;
		if (mark == -2)
			continue;
		if (mark == 1) {
			it->r->mark = 1;
			it->why = "put back (latest version was set without smc's tags)";
			it->state = it->r->enabled ? KV_READ : KV_WRITE;
			continue;
		}
		it->state = KV_DONE;
		if (mark < 0)
			str_fmt(reason, sizeof(reason),
				"owned by %.200s (tag " PROVIDER_OWNER_KEY ")", other);
		else
			str_copy(reason, sizeof(reason),
				 "exists without tag " PROVIDER_MANAGED_BY_KEY
				 "=" PROVIDER_MANAGED_BY_VALUE " (adoptExisting is off)");
		if ((rc = report(x, it->d->name, it->d->key, ITEM_REFUSED, reason)) != 0)
			return rc;
	}
	return 0;
}

/* ---------- 3. read, decide, write ---------- */

/* Decides what a read answer means for it: unchanged, refused (already reported) or write. */
static int decide(struct kv_ctx *x, struct kv_item *it, json_t *bundle)
{
	const struct job_policy *p = &x->job->policy;

	if (bundle != NULL && bundle_equal(bundle, it->d->value) && !it->adopt &&
	    json_object_get(json_object_get(bundle, "tags"), PROVIDER_MANAGED_BY_KEY) != NULL) {
		it->state = KV_DONE;
		return report(x, it->d->name, it->d->key, ITEM_UNCHANGED, NULL);
	}
	if (!p->trigger_update && it->r != NULL) {
		it->state = KV_DONE;
		return report(x, it->d->name, it->d->key, ITEM_UNCHANGED,
			      "remote value differs; triggerUpdate is off");
	}
	if (it->why == NULL)
		it->why = it->adopt ? "adopted" : it->r == NULL ? NULL : "new version";
	it->state = KV_WRITE;
	return 0;
}

static int read_all(struct kv_ctx *x, struct err_ctx *err)
{
	struct azure_call *calls = xcalloc(x->n ? x->n : 1, sizeof(*calls));
	size_t *who = xcalloc(x->n ? x->n : 1, sizeof(*who));
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n; i++) {
		if (x->it[i].state != KV_READ)
			continue;
		if ((rc = mkcall(x, &calls[k], "GET", "secrets.get", x->it[i].d->name, "/secrets/",
				 "/")) != 0)
			goto out;
		who[k++] = i;
	}
	if (k == 0)
		goto out;
	if ((rc = azure_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		struct kv_item *it = &x->it[who[j]];
		struct azure_call *c = &calls[j];

		if (c->rc == 0)
			rc = decide(x, it, c->json);
		else if (c->rc == ERR_NOTFOUND)
			it->state = KV_WRITE; /* gone since the list: create */
		else if (c->status == 403 && strcmp(c->inner, "SecretDisabled") == 0)
			it->state = KV_WRITE, it->why = "latest version was disabled";
		else
			rc = fail_item(x, it, c);
		if (rc != 0)
			goto out;
	}
out:
	if (calls != NULL)
		calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

static int write_all(struct kv_ctx *x, struct err_ctx *err)
{
	struct azure_call *calls = xcalloc(x->n ? x->n : 1, sizeof(*calls));
	size_t *who = xcalloc(x->n ? x->n : 1, sizeof(*who));
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n; i++) {
		struct kv_item *it = &x->it[i];

		if (it->state != KV_WRITE)
			continue;
		if (x->job->policy.dry_run) {
			it->state = KV_DONE;
			if ((rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN,
					 it->r ? "would write a new version" : "would create")) !=
			    0)
				goto out;
			continue;
		}
		if ((rc = set_call(x, &calls[k], it->d)) != 0)
			goto out;
		calls[k].once_on_5xx = 1; /* a repeated PUT would add a second version */
		it->writes++;
		who[k++] = i;
	}
	if (k == 0)
		goto out;
	if ((rc = azure_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		struct kv_item *it = &x->it[who[j]];
		struct azure_call *c = &calls[j];

		if (c->rc == 0) {
			it->state = KV_DONE;
			rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN, it->why);
		} else if (c->status == 409 &&
			   strcmp(c->inner, "ObjectIsDeletedButRecoverable") == 0) {
			it->state = KV_DELETED;
		} else if (azure_call_ambiguous(c)) {
			log_debug("azure.verify", "secrets.set %s: %s, reading back", it->d->name,
				  c->code);
			azure_call_reason(c, it->lost, sizeof(it->lost));
			it->state = KV_VERIFY;
		} else {
			rc = fail_item(x, it, c);
		}
		if (rc != 0)
			goto out;
	}
out:
	if (calls != NULL)
		calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* Reads back the latest version of each secret whose PUT lost its answer: when it holds
 * the value with smc's tags the PUT was stored (written, once); otherwise the PUT did not
 * happen and the item is written again, or fails after KV_MAX_WRITES PUTs. */
static int verify_all(struct kv_ctx *x, struct err_ctx *err)
{
	struct azure_call *calls = xcalloc(x->n ? x->n : 1, sizeof(*calls));
	size_t *who = xcalloc(x->n ? x->n : 1, sizeof(*who));
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n; i++) {
		if (x->it[i].state != KV_VERIFY)
			continue;
		if ((rc = mkcall(x, &calls[k], "GET", "secrets.get", x->it[i].d->name, "/secrets/",
				 "/")) != 0)
			goto out;
		who[k++] = i;
	}
	if (k == 0 || (rc = azure_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k && rc == 0; j++) {
		struct kv_item *it = &x->it[who[j]];
		struct azure_call *c = &calls[j];

		if (c->rc == 0 && bundle_equal(c->json, it->d->value) &&
		    azure_kv_tags_owner(json_object_get(c->json, "tags"), x->owner, NULL, 0) == 1) {
			it->state = KV_DONE;
			rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN,
				    it->r == NULL ? "created (confirmed after a lost answer)"
						  : "new version (confirmed after a lost answer)");
		} else if (c->rc != 0 && c->rc != ERR_NOTFOUND &&
			   !(c->status == 403 && strcmp(c->inner, "SecretDisabled") == 0)) {
			rc = fail_item(x, it, c);
		} else if (it->writes >= KV_MAX_WRITES) {
			it->state = KV_DONE;
			rc = report(x, it->d->name, it->d->key, ITEM_FAILED, it->lost);
		} else {
			it->state = KV_WRITE; /* not stored: the next PUT is the first to land */
		}
	}
out:
	if (calls != NULL)
		calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* Writes until every KV_WRITE item is written, failed, refused or soft-deleted. */
static int write_rounds(struct kv_ctx *x, struct err_ctx *err)
{
	int rc, again;

	do {
		if ((rc = write_all(x, err)) != 0 || (rc = verify_all(x, err)) != 0)
			return rc;
		again = 0;
		for (size_t i = 0; i < x->n && !again; i++)
			again = x->it[i].state == KV_WRITE;
	} while (again);
	return 0;
}

/* ---------- 4. soft-deleted names ---------- */

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int recover_one(struct kv_ctx *x, struct kv_item *it, struct err_ctx *err)
{
	const struct job_policy *p = &x->job->policy;
	struct azure_call c;
	char other[256] = "", reason[400];
	int rc, mark, polls;

	if ((rc = mkcall(x, &c, "GET", "secrets.getdeleted", it->d->name, "/deletedsecrets/",
			 NULL)) != 0)
		return rc;
	if ((rc = azure_client_run(x->c, &c, 1, err)) != 0)
		goto out;
	if (c.rc != 0) {
		rc = fail_item(x, it, &c);
		goto out;
	}
	mark = azure_kv_tags_owner(json_object_get(c.json, "tags"), x->owner, other, sizeof(other));
	if (mark < 0 || (mark == 0 && !p->adopt_existing)) {
		it->state = KV_DONE;
		if (mark < 0)
			str_fmt(reason, sizeof(reason),
				"soft-deleted secret owned by %.200s (tag " PROVIDER_OWNER_KEY ")",
				other);
		else
			str_copy(reason, sizeof(reason),
				 "soft-deleted secret has no tag " PROVIDER_MANAGED_BY_KEY
				 "=" PROVIDER_MANAGED_BY_VALUE " (adoptExisting is off)");
		rc = report(x, it->d->name, it->d->key, ITEM_REFUSED, reason);
		goto out;
	}
	if (p->dry_run) {
		it->state = KV_DONE;
		rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN,
			    "would recover the soft-deleted secret and set it");
		goto out;
	}
	azure_call_clear(&c);
	if ((rc = mkcall(x, &c, "POST", "secrets.recover", it->d->name, "/deletedsecrets/",
			 "/recover")) != 0)
		goto out;
	if ((rc = azure_client_run(x->c, &c, 1, err)) != 0)
		goto out;
	if (c.rc != 0 && !(c.status == 409 && strcmp(c.inner, "ObjectIsBeingRecovered") == 0)) {
		rc = fail_item(x, it, &c);
		goto out;
	}
	log_debug("azure.recover", "secrets.recover %s", it->d->name);
	/* wait until the secret is back (recovery is asynchronous in Key Vault) */
	azure_call_clear(&c);
	for (polls = 0; polls < AZURE_KV_RECOVER_POLLS; polls++) {
		if ((rc = mkcall(x, &c, "GET", "secrets.get", it->d->name, "/secrets/", "/")) != 0)
			goto out;
		if ((rc = azure_client_run(x->c, &c, 1, err)) != 0)
			goto out;
		if (c.rc == 0 || c.status == 403)
			break;
		if (c.rc != ERR_NOTFOUND && c.status != 409) {
			rc = fail_item(x, it, &c);
			goto out;
		}
		azure_call_clear(&c);
		sleep_ms(AZURE_KV_RECOVER_POLL_MS);
	}
	if (polls == AZURE_KV_RECOVER_POLLS) {
		it->state = KV_DONE;
		rc = report(x, it->d->name, it->d->key, ITEM_FAILED,
			    "recovery did not complete in time on secrets.recover");
		goto out;
	}
	it->why = "recovered from soft delete";
	if (c.rc == 0 && bundle_equal(c.json, it->d->value) && mark == 1) {
		it->state = KV_DONE;
		rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN, "recovered from soft delete");
		goto out;
	}
	it->state = KV_WRITE;
	rc = 0;
out:
	azure_call_clear(&c);
	return rc;
}

static int recover_all(struct kv_ctx *x, struct err_ctx *err)
{
	int rc, any = 0;

	for (size_t i = 0; i < x->n; i++) {
		if (x->it[i].state != KV_DELETED)
			continue;
		if ((rc = recover_one(x, &x->it[i], err)) != 0)
			return rc;
		any = 1;
	}
	if (!any)
		return 0;
	/* set those that came back with another value (a second 409 now fails the item) */
	rc = write_rounds(x, err);
	for (size_t i = 0; i < x->n && rc == 0; i++) {
		struct kv_item *it = &x->it[i];

		if (it->state == KV_DELETED) {
			it->state = KV_DONE;
			rc = report(x, it->d->name, it->d->key, ITEM_FAILED,
				    "ObjectIsDeletedButRecoverable on secrets.set after recovery");
		}
	}
	return rc;
}

/* ---------- 5. prune ---------- */

static int prune(struct kv_ctx *x, struct err_ctx *err)
{
	const struct job_policy *p = &x->job->policy;
	struct azure_call *calls = xcalloc(x->nremote ? x->nremote : 1, sizeof(*calls));
	size_t *who = xcalloc(x->nremote ? x->nremote : 1, sizeof(*who));
	size_t k = 0, j;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->nremote; i++) {
		struct kv_remote *r = &x->remote[i];
		const char *keep = NULL;

		if (r->wanted || r->mark != 1)
			continue;
		if (!p->prune && !p->delete_all)
			keep = "left Git; prune is off";
		else if (p->deletion == JOB_DELETION_RETAIN)
			keep = "left Git; deletionPolicy Retain";
		if (keep != NULL) {
			if ((rc = report(x, r->name, NULL, ITEM_RETAINED, keep)) != 0)
				goto out;
			continue;
		}
		if (p->deletion == JOB_DELETION_DISABLE && !r->enabled) {
			if ((rc = report(x, r->name, NULL, ITEM_PRUNED, "already disabled")) != 0)
				goto out;
			continue;
		}
		if (p->dry_run) {
			if ((rc = report(x, r->name, NULL, ITEM_PRUNED,
					 p->deletion == JOB_DELETION_DISABLE
					     ? "would disable"
					     : "would delete (soft)")) != 0)
				goto out;
			continue;
		}
		if (p->deletion == JOB_DELETION_DISABLE)
			rc = mkcall(x, &calls[k], "GET", "secrets.get", r->name, "/secrets/", "/");
		else
			rc = mkcall(x, &calls[k], "DELETE", "secrets.delete", r->name, "/secrets/",
				    NULL);
		if (rc != 0)
			goto out;
		who[k++] = i;
	}
	if (k == 0)
		goto out;
	if ((rc = azure_client_run(x->c, calls, k, err)) != 0)
		goto out;
	if (p->deletion == JOB_DELETION_DISABLE) {
		/* PATCH the latest version read above */
		for (j = 0; j < k; j++) {
			struct azure_call *c = &calls[j];
			char version[80] = "", tail[96];
			const char *id;

			if (c->rc != 0)
				continue;
			id = json_string_value(json_object_get(c->json, "id"));
			if (azure_kv_id_version(id, version, sizeof(version)) != 0 ||
			    version[0] == '\0') {
				c->rc = ERR_PROTO;
				str_copy(c->code, sizeof(c->code), "NoVersionInId");
				continue;
			}
			str_fmt(tail, sizeof(tail), "/%s", version);
			azure_call_clear(c);
			if ((rc = mkcall(x, c, "PATCH", "secrets.update", x->remote[who[j]].name,
					 "/secrets/", tail)) != 0 ||
			    (rc =
				 azure_json_body(json_pack("{s:{s:b},s:o}", "attributes", "enabled",
							   0, "tags", owner_tags(x->owner)),
						 &c->body)) != 0)
				goto out;
			c->done = 0;
			c->status = -1; /* marks "to send" */
		}
		{
			struct azure_call *send = xcalloc(k, sizeof(*send));
			size_t *map = xcalloc(k, sizeof(*map)), m = 0;

			if (send == NULL || map == NULL) {
				free(send);
				free(map);
				rc = ERR_NOMEM;
				goto out;
			}
			for (j = 0; j < k; j++) {
				if (calls[j].status == -1) {
					send[m] = calls[j];
					memset(&calls[j], 0, sizeof(calls[j]));
					map[m++] = j;
				}
			}
			rc = m ? azure_client_run(x->c, send, m, err) : 0;
			for (size_t q = 0; q < m; q++) {
				azure_call_clear(&calls[map[q]]);
				calls[map[q]] = send[q];
			}
			free(send);
			free(map);
			if (rc != 0)
				goto out;
		}
	}
	for (j = 0; j < k; j++) {
		struct kv_remote *r = &x->remote[who[j]];
		struct azure_call *c = &calls[j];
		char reason[400];

		if (c->rc != 0) {
			azure_call_reason(c, reason, sizeof(reason));
			rc = report(x, r->name, NULL, ITEM_FAILED, reason);
		} else {
			rc = report(x, r->name, NULL, ITEM_PRUNED,
				    p->deletion == JOB_DELETION_DISABLE
					? "disabled (latest version enabled=false)"
					: "deleted (soft delete, recoverable)");
		}
		if (rc != 0)
			goto out;
	}
out:
	if (calls != NULL)
		calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* ---------- the sync ---------- */

int azure_keyvault_sync(struct azure_client *c, const struct job *job, const char *owner,
			const char *vault_url, const struct desired *items, size_t n,
			struct report *rep, struct err_ctx *err)
{
	struct kv_ctx x = {.c = c, .job = job, .owner = owner, .base = vault_url, .rep = rep};
	const struct job_policy *p = &job->policy;
	int rc;

	if ((rc = list_all(&x, err)) != 0)
		goto out;
	if ((x.it = xcalloc(n ? n : 1, sizeof(*x.it))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	x.n = n;
	for (size_t i = 0; i < n; i++) {
		struct kv_item *it = &x.it[i];
		struct kv_remote *r = find_remote(&x, items[i].name);
		char reason[400];

		it->d = &items[i];
		it->r = r;
		if (r != NULL)
			r->wanted = 1;
		if (!azure_kv_valid_name(items[i].name)) {
			it->state = KV_DONE;
			rc = report(
			    &x, items[i].name, items[i].key, ITEM_FAILED,
			    "name is not a valid Key Vault secret name ([0-9A-Za-z-]{1,127})");
		} else if (items[i].value->len > AZURE_KV_MAX_VALUE) {
			it->state = KV_DONE;
			rc = report(&x, items[i].name, items[i].key, ITEM_FAILED,
				    "value is larger than Key Vault's 25 KiB");
		} else if (r == NULL) {
			it->state = KV_WRITE;
		} else if (r->mark < 0) {
			it->state = KV_DONE;
			str_fmt(reason, sizeof(reason),
				"owned by %.200s (tag " PROVIDER_OWNER_KEY ")", r->other);
			rc = report(&x, items[i].name, items[i].key, ITEM_REFUSED, reason);
		} else if (r->mark == 0 && !p->adopt_existing) {
			it->state = KV_VERSIONS; /* a hand-made version may have dropped the tags */
		} else {
			it->adopt = r->mark == 0;
			if (r->enabled) {
				it->state = KV_READ;
			} else if (!p->trigger_update) {
				it->state = KV_DONE;
				rc = report(&x, items[i].name, items[i].key, ITEM_UNCHANGED,
					    "latest version is disabled; triggerUpdate is off");
			} else {
				it->state = KV_WRITE;
				it->why = "latest version was disabled";
			}
		}
		if (rc != 0)
			goto out;
	}
	if ((rc = check_versions(&x, err)) != 0 || (rc = read_all(&x, err)) != 0 ||
	    (rc = write_rounds(&x, err)) != 0 || (rc = recover_all(&x, err)) != 0)
		goto out;
	rc = prune(&x, err);
out:
	for (size_t i = 0; i < x.nremote; i++)
		free(x.remote[i].name);
	free(x.remote);
	free(x.it);
	return rc;
}
