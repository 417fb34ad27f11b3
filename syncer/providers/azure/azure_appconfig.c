/* azure_appconfig.c — App Configuration sync (see azure_appconfig.h for the plan).
 * A PUT is conditional (If-Match: the listed etag, or If-None-Match: * for a new key), so
 * repeating it after a lost answer (a transport failure or a 5xx, which may come after the
 * value was stored) would be refused with 412 although the value is there. A PUT is
 * therefore never repeated blindly: the key is read back; holding the value with smc's
 * tags it was stored (written); still in the state the condition expected (same etag, or
 * still absent) it was not, and the same PUT is sent again (at most AC_MAX_WRITES in one
 * sync); changed by someone else meanwhile, the item fails as the conditional PUT would. */
#include "syncer/providers/azure/azure_appconfig.h"

#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "syncer/providers/azure/azure_keyvault.h"

#define AC_ACCEPT_KV "application/vnd.microsoft.appconfig.kv+json, application/problem+json"
#define AC_ACCEPT_KVSET "application/vnd.microsoft.appconfig.kvset+json, application/problem+json"
#define AC_CTYPE "application/vnd.microsoft.appconfig.kv+json"
#define AC_MAX_WRITES 4 /* PUTs of one key in one sync while answers are lost */

struct ac_remote {
	char *key;
	char etag[140]; /* quoted, ready for If-Match */
	int mark;
	char other[256];
	int locked;
	int wanted;
	struct secbuf *value; /* NULL for a null value */
};

enum ac_put_state { AC_PUT = 0, AC_VERIFY, AC_DONE };

/* One key-value to PUT. */
struct ac_put {
	const struct desired *d;
	struct ac_remote *r; /* borrowed; NULL: a new key (If-None-Match: *) */
	const char *why;     /* reason attached to the write */
	enum ac_put_state state;
	unsigned writes; /* PUTs sent */
	char lost[200];	 /* reason of the last PUT whose answer was lost */
};

struct ac_ctx {
	struct azure_client *c;
	const struct job *job;
	const char *owner;
	const char *base;
	const char *label;
	struct report *rep;
	struct ac_remote *remote;
	size_t nremote, capremote;
};

int azure_ac_endpoint(const char *app_config_endpoint, const char *vault_name, char **out,
		      struct err_ctx *err)
{
	const char *e = app_config_endpoint;
	char buf[160];
	size_t n;

	if (e == NULL || e[0] == '\0') {
		if (vault_name == NULL || vault_name[0] == '\0' ||
		    str_has_prefix(vault_name, "https://"))
			return err_set(err, ERR_INVAL,
				       "spec.configs.appConfigEndpoint is required when "
				       "spec.provider.azure.vaultName is a URL");
		if (str_fmt(buf, sizeof(buf), "https://%s.azconfig.io", vault_name) != 0)
			return ERR_TOOBIG;
		e = buf;
	}
	if (!str_has_prefix(e, "https://") && !str_has_prefix(e, "http://"))
		return err_set(err, ERR_INVAL,
			       "spec.configs.appConfigEndpoint is not an http(s) URL");
	n = strlen(e);
	while (n > 0 && e[n - 1] == '/')
		n--;
	if ((*out = malloc(n + 1)) == NULL)
		return ERR_NOMEM;
	memcpy(*out, e, n);
	(*out)[n] = '\0';
	return 0;
}

static int valid_key(const char *k)
{
	return azure_kv_valid_name(k); /* smc's Azure names: [0-9A-Za-z-]{1,127} */
}

static int url_kv(const struct ac_ctx *x, const char *what, const char *key, char **out)
{
	size_t n = strlen(x->base) + strlen(what) + strlen(key) + strlen(x->label) + 64;
	char *u = malloc(n);

	if (u == NULL)
		return ERR_NOMEM;
	if (str_fmt(u, n, "%s/%s/%s?api-version=%s&label=%s", x->base, what, key,
		    AZURE_AC_API_VERSION, x->label) != 0) {
		free(u);
		return ERR_TOOBIG;
	}
	*out = u;
	return 0;
}

static int mkcall(const struct ac_ctx *x, struct azure_call *c, const char *method, const char *op,
		  const char *what, const char *key)
{
	memset(c, 0, sizeof(*c));
	c->method = method;
	c->op = op;
	c->name = key;
	c->scope = AZURE_AC_SCOPE;
	c->accept = AC_ACCEPT_KV;
	return url_kv(x, what, key, &c->url);
}

static int report(struct ac_ctx *x, const char *name, const char *key, enum item_outcome o,
		  const char *reason)
{
	return report_add(x->rep, name, key, ITEM_CONFIG, o, reason);
}

static int fail_call(struct ac_ctx *x, const char *name, const char *key,
		     const struct azure_call *c)
{
	char reason[400];

	azure_call_reason(c, reason, sizeof(reason));
	return report(x, name, key, ITEM_FAILED, reason);
}

/* Runs one call; returns the transport-level rc (per-call outcome in c->rc). */
static int run1(struct ac_ctx *x, struct azure_call *c, struct err_ctx *err)
{
	return azure_client_run(x->c, c, 1, err);
}

/* ---------- list ---------- */

static int add_remote(struct ac_ctx *x, json_t *e)
{
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *etag = json_string_value(json_object_get(e, "etag"));
	json_t *val = json_object_get(e, "value");
	struct ac_remote *r;

	if (key == NULL || !valid_key(key))
		return 0; /* not a key smc could have written */
	if (x->nremote == x->capremote) {
		size_t nc = x->capremote ? x->capremote * 2 : 64;
		struct ac_remote *p;

		if (nc > 2 * (size_t)REPORT_MAX_ITEMS + 100000)
			return ERR_TOOBIG;
		if ((p = xreallocarray(x->remote, nc, sizeof(*p))) == NULL)
			return ERR_NOMEM;
		x->remote = p;
		x->capremote = nc;
	}
	r = &x->remote[x->nremote];
	memset(r, 0, sizeof(*r));
	if ((r->key = xstrdup(key)) == NULL)
		return ERR_NOMEM;
	x->nremote++;
	if (etag != NULL && strlen(etag) < sizeof(r->etag) - 2)
		str_fmt(r->etag, sizeof(r->etag), "\"%s\"", etag);
	r->mark =
	    azure_kv_tags_owner(json_object_get(e, "tags"), x->owner, r->other, sizeof(r->other));
	r->locked = json_is_true(json_object_get(e, "locked"));
	if (json_is_string(val))
		return secbuf_from(&r->value, json_string_value(val), json_string_length(val));
	return 0;
}

static int list_all(struct ac_ctx *x, struct err_ctx *err)
{
	struct azure_call c;
	int rc, pages = 0;
	size_t n = strlen(x->base) + strlen(x->label) + 64;

	memset(&c, 0, sizeof(c));
	c.method = "GET";
	c.op = "kv.list";
	c.name = "*";
	c.scope = AZURE_AC_SCOPE;
	c.accept = AC_ACCEPT_KVSET;
	if ((c.url = malloc(n)) == NULL)
		return ERR_NOMEM;
	str_fmt(c.url, n, "%s/kv?api-version=%s&key=*&label=%s", x->base, AZURE_AC_API_VERSION,
		x->label);
	for (;;) {
		json_t *items, *e, *nl;
		const char *l;
		size_t i;

		if ((rc = run1(x, &c, err)) != 0)
			goto out;
		if (c.rc != 0) {
			char reason[400];

			azure_call_reason(&c, reason, sizeof(reason));
			rc = err_set(err, c.rc, "azure app configuration %s: %s", x->base, reason);
			goto out;
		}
		items = json_object_get(c.json, "items");
		json_array_foreach(items, i, e)
		{
			if ((rc = add_remote(x, e)) != 0)
				goto out;
		}
		nl = json_object_get(c.json, "@nextLink");
		if (!json_is_string(nl) || json_string_length(nl) == 0)
			break;
		if (++pages >= AZURE_AC_MAX_PAGES) {
			rc = err_set(err, ERR_TOOBIG,
				     "azure app configuration %s: too many list pages", x->base);
			goto out;
		}
		l = json_string_value(nl);
		free(c.url);
		c.url = NULL;
		if (l[0] == '/' && l[1] != '/') {
			size_t m = strlen(x->base) + strlen(l) + 1;

			if ((c.url = malloc(m)) == NULL) {
				rc = ERR_NOMEM;
				goto out;
			}
			str_fmt(c.url, m, "%s%s", x->base, l);
		} else if (str_has_prefix(l, x->base) && l[strlen(x->base)] == '/') {
			if ((c.url = xstrdup(l)) == NULL) {
				rc = ERR_NOMEM;
				goto out;
			}
		} else {
			rc = err_set(
			    err, ERR_PROTO,
			    "azure app configuration %s: @nextLink points outside the store",
			    x->base);
			goto out;
		}
	}
	rc = 0;
out:
	azure_call_clear(&c);
	return rc;
}

static struct ac_remote *find_remote(struct ac_ctx *x, const char *key)
{
	for (size_t i = 0; i < x->nremote; i++) {
		if (strcmp(x->remote[i].key, key) == 0)
			return &x->remote[i];
	}
	return NULL;
}

/* ---------- write ---------- */

static int put_call(struct ac_ctx *x, struct azure_call *c, const struct desired *d,
		    const struct ac_remote *r)
{
	json_t *req;
	int rc;

	if ((rc = mkcall(x, c, "PUT", "kv.put", "kv", d->name)) != 0)
		return rc;
	c->content_type = AC_CTYPE;
	c->once_on_5xx = 1; /* a repeat of a conditional PUT that was applied gets a 412 */
	if (r == NULL)
		str_copy(c->if_none_match, sizeof(c->if_none_match), "*");
	else if (r->etag[0] != '\0')
		str_copy(c->if_match, sizeof(c->if_match), r->etag);
	req = json_pack("{s:s%,s:s,s:{s:s,s:s}}", "value", (const char *)d->value->data,
			d->value->len, "content_type", "", "tags", PROVIDER_MANAGED_BY_KEY,
			PROVIDER_MANAGED_BY_VALUE, PROVIDER_OWNER_KEY, x->owner);
	return azure_json_body(req, &c->body);
}

/* What a read-back after a lost PUT answer says: reported (AC_DONE) or AC_PUT again. */
static int verdict(struct ac_ctx *x, struct ac_put *p, const struct azure_call *c)
{
	const char *reason = NULL;
	json_t *val = c->rc == 0 ? json_object_get(c->json, "value") : NULL;
	const char *etag = c->rc == 0 ? json_string_value(json_object_get(c->json, "etag")) : NULL;
	char q[sizeof(p->r->etag)] = "";

	if (c->rc == 0 && json_is_string(val) &&
	    secbuf_eq_mem(p->d->value, json_string_value(val), json_string_length(val)) &&
	    azure_kv_tags_owner(json_object_get(c->json, "tags"), x->owner, NULL, 0) == 1) {
		p->state = AC_DONE;
		return report(x, p->d->name, p->d->key, ITEM_WRITTEN,
			      p->r == NULL ? "created (confirmed after a lost answer)"
					   : "written (confirmed after a lost answer)");
	}
	if (c->rc != 0 && c->rc != ERR_NOTFOUND) {
		p->state = AC_DONE;
		return fail_call(x, p->d->name, p->d->key, c);
	}
	if (etag != NULL && strlen(etag) < sizeof(q) - 2)
		str_fmt(q, sizeof(q), "\"%s\"", etag);
	/* not stored: is the key still as the condition of the PUT expects it? */
	if (p->r == NULL && c->rc == 0)
		reason = "created by someone else during the sync (PreconditionFailed) on kv.put";
	else if (p->r != NULL && p->r->etag[0] != '\0' && c->rc != 0)
		reason = "deleted by someone else during the sync (PreconditionFailed) on kv.put";
	else if (p->r != NULL && p->r->etag[0] != '\0' && strcmp(q, p->r->etag) != 0)
		reason = "changed by someone else during the sync (PreconditionFailed) on kv.put";
	else if (p->writes >= AC_MAX_WRITES)
		reason = p->lost;
	if (reason != NULL) {
		p->state = AC_DONE;
		return report(x, p->d->name, p->d->key, ITEM_FAILED, reason);
	}
	p->state = AC_PUT; /* the same conditional PUT again: the next to land is the first */
	return 0;
}

/* PUTs p[0..n), reading back after each lost answer, until every one is reported. */
static int put_all(struct ac_ctx *x, struct ac_put *p, size_t n, struct err_ctx *err)
{
	struct azure_call *calls = xcalloc(n ? n : 1, sizeof(*calls));
	size_t *who = xcalloc(n ? n : 1, sizeof(*who));
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (;;) {
		/* the PUTs */
		k = 0;
		for (size_t i = 0; i < n; i++) {
			if (p[i].state != AC_PUT)
				continue;
			if ((rc = put_call(x, &calls[k], p[i].d, p[i].r)) != 0)
				goto out;
			p[i].writes++;
			who[k++] = i;
		}
		if (k == 0)
			break;
		if ((rc = azure_client_run(x->c, calls, k, err)) != 0)
			goto out;
		for (size_t j = 0; j < k && rc == 0; j++) {
			struct ac_put *pj = &p[who[j]];

			if (calls[j].rc == 0) {
				pj->state = AC_DONE;
				rc = report(x, pj->d->name, pj->d->key, ITEM_WRITTEN, pj->why);
			} else if (azure_call_ambiguous(&calls[j])) {
				azure_call_reason(&calls[j], pj->lost, sizeof(pj->lost));
				pj->state = AC_VERIFY;
			} else {
				pj->state = AC_DONE;
				rc = fail_call(x, pj->d->name, pj->d->key, &calls[j]);
			}
		}
		for (size_t j = 0; j < k; j++)
			azure_call_clear(&calls[j]);
		k = 0;
		if (rc != 0)
			goto out;
		/* the read-backs */
		for (size_t i = 0; i < n; i++) {
			if (p[i].state != AC_VERIFY)
				continue;
			if ((rc = mkcall(x, &calls[k], "GET", "kv.get", "kv", p[i].d->name)) != 0)
				goto out;
			who[k++] = i;
		}
		if (k == 0)
			break;
		if ((rc = azure_client_run(x->c, calls, k, err)) != 0)
			goto out;
		for (size_t j = 0; j < k && rc == 0; j++)
			rc = verdict(x, &p[who[j]], &calls[j]);
		for (size_t j = 0; j < k; j++)
			azure_call_clear(&calls[j]);
		k = 0;
		if (rc != 0)
			goto out;
	}
out:
	if (calls != NULL) {
		for (size_t j = 0; j < k; j++)
			azure_call_clear(&calls[j]);
	}
	free(calls);
	free(who);
	return rc;
}

/* Removes smc's read-only lock (Disable) before a write. 0 or the failed call's rc. */
static int unlock(struct ac_ctx *x, const char *name, const char *key, struct ac_remote *r,
		  int *failed, struct err_ctx *err)
{
	struct azure_call c;
	int rc;

	*failed = 0;
	if ((rc = mkcall(x, &c, "DELETE", "kv.unlock", "locks", r->key)) != 0)
		return rc;
	if ((rc = run1(x, &c, err)) != 0)
		goto out;
	if (c.rc != 0) {
		*failed = 1;
		rc = fail_call(x, name, key, &c);
		goto out;
	}
	r->locked = 0;
	if (c.etag[0] != '\0')
		str_copy(r->etag, sizeof(r->etag), c.etag);
out:
	azure_call_clear(&c);
	return rc;
}

int azure_appconfig_sync(struct azure_client *c, const struct job *job, const char *owner,
			 const char *endpoint, const struct desired *items, size_t n,
			 struct report *rep, struct err_ctx *err)
{
	struct ac_ctx x = {.c = c, .job = job, .owner = owner, .base = endpoint, .rep = rep};
	const struct job_policy *p = &job->policy;
	struct ac_put *puts = NULL;
	size_t k = 0;
	int rc;

	x.label = job->mode.environment && job->mode.environment[0] ? job->mode.environment : "%00";
	for (const char *s = x.label; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_' || *s == '.' || *s == '%'))
			return err_set(
			    err, ERR_INVAL,
			    "azure app configuration: environment '%.64s' is not a valid label",
			    x.label);
	}
	if ((rc = list_all(&x, err)) != 0)
		goto out;
	if ((puts = xcalloc(n ? n : 1, sizeof(*puts))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct desired *d = &items[i];
		struct ac_remote *r = find_remote(&x, d->name);
		char reason[400];
		int failed = 0, adopt = 0;

		if (r != NULL)
			r->wanted = 1;
		if (!valid_key(d->name)) {
			rc = report(&x, d->name, d->key, ITEM_FAILED,
				    "key is not a valid App Configuration key for smc");
			goto next;
		}
		if (!str_utf8_valid((const char *)d->value->data, d->value->len)) {
			rc = report(&x, d->name, d->key, ITEM_FAILED, "value is not UTF-8 text");
			goto next;
		}
		if (r != NULL && r->mark < 0) {
			str_fmt(reason, sizeof(reason),
				"owned by %.200s (tag " PROVIDER_OWNER_KEY ")", r->other);
			rc = report(&x, d->name, d->key, ITEM_REFUSED, reason);
			goto next;
		}
		if (r != NULL && r->mark == 0 && !p->adopt_existing) {
			rc = report(&x, d->name, d->key, ITEM_REFUSED,
				    "exists without tag " PROVIDER_MANAGED_BY_KEY
				    "=" PROVIDER_MANAGED_BY_VALUE " (adoptExisting is off)");
			goto next;
		}
		adopt = r != NULL && r->mark == 0;
		if (r != NULL && !adopt && !r->locked && r->value != NULL &&
		    secbuf_eq(r->value, d->value)) {
			rc = report(&x, d->name, d->key, ITEM_UNCHANGED, NULL);
			goto next;
		}
		if (r != NULL && !p->trigger_update) {
			rc = report(&x, d->name, d->key, ITEM_UNCHANGED,
				    "remote value differs; triggerUpdate is off");
			goto next;
		}
		if (p->dry_run) {
			rc = report(&x, d->name, d->key, ITEM_WRITTEN,
				    r ? "would write the new value" : "would create");
			goto next;
		}
		puts[k].why = adopt ? "adopted" : NULL;
		if (r != NULL && r->locked) {
			if (r->mark != 1) {
				rc = report(&x, d->name, d->key, ITEM_FAILED,
					    "key-locked on kv.put for this key (read-only lock not "
					    "set by smc)");
				goto next;
			}
			if ((rc = unlock(&x, d->name, d->key, r, &failed, err)) != 0 || failed)
				goto next;
			puts[k].why = "unlocked";
		}
		puts[k].d = d;
		puts[k].r = r;
		k++;
	next:
		if (rc != 0)
			goto out;
	}
	if ((rc = put_all(&x, puts, k, err)) != 0)
		goto out;

	/* keys that left Git */
	for (size_t i = 0; i < x.nremote; i++) {
		struct ac_remote *r = &x.remote[i];
		struct azure_call cl;
		const char *keep = NULL;
		int failed = 0;

		if (r->wanted || r->mark != 1)
			continue;
		if (!p->prune && !p->delete_all)
			keep = "left Git; prune is off";
		else if (p->deletion == JOB_DELETION_RETAIN)
			keep = "left Git; deletionPolicy Retain";
		if (keep != NULL) {
			if ((rc = report(&x, r->key, NULL, ITEM_RETAINED, keep)) != 0)
				goto out;
			continue;
		}
		if (p->deletion == JOB_DELETION_DISABLE && r->locked) {
			if ((rc = report(&x, r->key, NULL, ITEM_PRUNED,
					 "already locked read-only")) != 0)
				goto out;
			continue;
		}
		if (p->dry_run) {
			if ((rc =
				 report(&x, r->key, NULL, ITEM_PRUNED,
					p->deletion == JOB_DELETION_DISABLE ? "would lock read-only"
									    : "would delete")) != 0)
				goto out;
			continue;
		}
		if (p->deletion == JOB_DELETION_DELETE && r->locked) {
			if ((rc = unlock(&x, r->key, NULL, r, &failed, err)) != 0)
				goto out;
			if (failed)
				continue;
		}
		if (p->deletion == JOB_DELETION_DISABLE)
			rc = mkcall(&x, &cl, "PUT", "kv.lock", "locks", r->key);
		else
			rc = mkcall(&x, &cl, "DELETE", "kv.delete", "kv", r->key);
		if (rc != 0)
			goto out;
		if (p->deletion == JOB_DELETION_DELETE && r->etag[0] != '\0')
			str_copy(cl.if_match, sizeof(cl.if_match), r->etag);
		if ((rc = run1(&x, &cl, err)) == 0) {
			if (cl.rc != 0)
				rc = fail_call(&x, r->key, NULL, &cl);
			else
				rc = report(&x, r->key, NULL, ITEM_PRUNED,
					    p->deletion == JOB_DELETION_DISABLE ? "locked read-only"
										: "deleted");
		}
		azure_call_clear(&cl);
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	free(puts);
	for (size_t i = 0; i < x.nremote; i++) {
		free(x.remote[i].key);
		secbuf_free(x.remote[i].value);
	}
	free(x.remote);
	return rc;
}
