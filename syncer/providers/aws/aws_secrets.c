/* aws_secrets.c — Secrets Manager sync (see aws_secrets.h for the plan of one sync). */
#include "syncer/providers/aws/aws_secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/b64.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "syncer/providers/http/cloud_json.h"

enum sm_state {
	SM_NEW = 0,      /* not owned: create */
	SM_OWNED,        /* owned, live: compare */
	SM_DELETED,      /* owned, scheduled for deletion: restore then compare */
	SM_DONE,         /* reported */
};

struct sm_remote {
	char *name;
	char *version; /* AWSCURRENT version id, may be NULL */
	int deleted;
	int wanted;
};

struct sm_item {
	const struct desired *d;
	enum sm_state state;
	struct sm_remote *remote; /* borrowed from the remote list, NULL when not owned */
	char *version;            /* current version id as read with the value (owned) */
	int have_value, equal;
	int adopted;
};

struct sm_ctx {
	struct aws_client *c;
	const struct job *job;
	const char *owner;
	struct report *rep;
	struct sm_remote *remote;
	size_t nremote, capremote;
	struct sm_item *it;
	size_t n;
};

/* ---------- small helpers ---------- */

int aws_secrets_valid_name(const char *name)
{
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > AWS_SM_MAX_NAME)
		return 0;
	for (; *name; name++) {
		char ch = *name;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      strchr("/_+=.@-", ch) != NULL))
			return 0;
	}
	return 1;
}

int aws_secrets_request_token(const char *name, const char *version, const struct secbuf *value,
			      char out[37])
{
	static uint8_t key[32];
	static int have_key;
	uint8_t md[32];
	size_t mdlen = 0;
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *h = NULL;
	OSSL_PARAM params[2];
	int rc = ERR_CRYPTO;

	if (!have_key) {
		if (RAND_bytes(key, sizeof(key)) != 1)
			return ERR_CRYPTO;
		have_key = 1;
	}
	if (version == NULL)
		version = "";
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL || (h = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(h, key, sizeof(key), params) != 1 ||
	    EVP_MAC_update(h, (const uint8_t *)name, strlen(name) + 1) != 1 ||
	    EVP_MAC_update(h, (const uint8_t *)version, strlen(version) + 1) != 1 ||
	    EVP_MAC_update(h, value->data, value->len) != 1 ||
	    EVP_MAC_final(h, md, &mdlen, sizeof(md)) != 1 || mdlen != 32)
		goto out;
	md[6] = (uint8_t)((md[6] & 0x0f) | 0x40); /* looks like a v4 UUID */
	md[8] = (uint8_t)((md[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0],
		 md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11],
		 md[12], md[13], md[14], md[15]);
	rc = 0;
out:
	explicit_bzero(md, sizeof(md));
	EVP_MAC_CTX_free(h);
	EVP_MAC_free(mac);
	return rc;
}

static int is_text(const struct secbuf *v)
{
	return str_utf8_valid((const char *)v->data, v->len);
}

/* Adds SecretString or SecretBinary for value to the request object. */
static int put_value(json_t *req, const struct secbuf *v)
{
	struct secbuf *b = NULL;
	int rc;

	if (is_text(v))
		return json_object_set_new(req, "SecretString",
					   json_stringn((const char *)v->data, v->len)) ? ERR_NOMEM : 0;
	if ((rc = b64_encode_secret(v->data, v->len, 0, &b)) != 0)
		return rc;
	rc = json_object_set_new(req, "SecretBinary", json_stringn((const char *)b->data, b->len))
		     ? ERR_NOMEM
		     : 0;
	secbuf_free(b);
	return rc;
}

/* 1 when the answer entry (GetSecretValue or a BatchGet SecretValues element) holds v. */
static int entry_equal(json_t *e, const struct secbuf *v)
{
	json_t *s = json_object_get(e, "SecretString"), *b = json_object_get(e, "SecretBinary");
	struct secbuf *enc = NULL;
	int eq = 0;

	if (is_text(v)) {
		if (json_is_string(s))
			eq = secbuf_eq_mem(v, json_string_value(s), json_string_length(s));
		return eq;
	}
	if (json_is_string(b) && b64_encode_secret(v->data, v->len, 0, &enc) == 0)
		eq = secbuf_eq_mem(enc, json_string_value(b), json_string_length(b));
	secbuf_free(enc);
	return eq;
}

static json_t *owner_tags(const char *owner)
{
	return json_pack("[{s:s,s:s},{s:s,s:s}]", "Key", PROVIDER_MANAGED_BY_KEY, "Value",
			 PROVIDER_MANAGED_BY_VALUE, "Key", PROVIDER_OWNER_KEY, "Value", owner);
}

/* Reads Tags[] of a ListSecrets/DescribeSecret entry: 1 ours, 0 unmarked, -1 other owner
 * (the other owner's name into other). */
static int tags_owner(json_t *e, const char *owner, char *other, size_t osz)
{
	json_t *tags = json_object_get(e, "Tags"), *t;
	const char *mb = NULL, *ow = NULL;
	size_t i;

	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		const char *v = json_string_value(json_object_get(t, "Value"));

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, PROVIDER_MANAGED_BY_KEY) == 0)
			mb = v;
		else if (strcmp(k, PROVIDER_OWNER_KEY) == 0)
			ow = v;
	}
	if (mb == NULL || strcmp(mb, PROVIDER_MANAGED_BY_VALUE) != 0)
		return 0;
	if (ow != NULL && strcmp(ow, owner) == 0)
		return 1;
	str_fmt(other, osz, "%s", ow ? ow : "(no owner tag)");
	return -1;
}

static int has_deleted_date(json_t *e)
{
	json_t *d = json_object_get(e, "DeletedDate");

	return d != NULL && !json_is_null(d);
}

static const char *current_version(json_t *e)
{
	json_t *m = json_object_get(e, "SecretVersionsToStages"), *st, *x;
	const char *vid;
	size_t i;

	if (m == NULL)
		m = json_object_get(e, "VersionIdsToStages");
	json_object_foreach(m, vid, st) {
		json_array_foreach(st, i, x) {
			if (json_is_string(x) && strcmp(json_string_value(x), "AWSCURRENT") == 0)
				return vid;
		}
	}
	return NULL;
}

static int report(struct sm_ctx *x, const char *name, const char *key, enum item_outcome o,
		  const char *reason)
{
	return report_add(x->rep, name, key, ITEM_SECRET, o, reason);
}

/* Reason text for a failed call: action, AWS code and, unless it could echo input, the
 * message. */
static void call_reason(const struct aws_call *call, char *dst, size_t dsz)
{
	int echo = strstr(call->code, "Validation") != NULL ||
		   strstr(call->code, "InvalidParameter") != NULL;

	if (call->rc == ERR_PERM)
		str_fmt(dst, dsz, "%s on %s denied (%s)", call->action, call->name, call->code);
	else
		str_fmt(dst, dsz, "%s: %s%s%s", call->action, call->code,
			(!echo && call->message[0]) ? ": " : "", echo ? "" : call->message);
}

static int item_fail(struct sm_ctx *x, struct sm_item *it, const struct aws_call *call)
{
	char reason[400];

	call_reason(call, reason, sizeof(reason));
	it->state = SM_DONE;
	return report(x, it->d->name, it->d->key, ITEM_FAILED, reason);
}

static void calls_clear(struct aws_call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aws_call_clear(&calls[i]);
}

/* ---------- 1. what this config owns ---------- */

static int add_remote(struct sm_ctx *x, json_t *e)
{
	const char *name = json_string_value(json_object_get(e, "Name"));
	const char *ver = current_version(e);
	struct sm_remote *r;

	if (name == NULL)
		return 0;
	if (x->nremote == x->capremote) {
		size_t nc = x->capremote ? x->capremote * 2 : 64;
		struct sm_remote *p = xreallocarray(x->remote, nc, sizeof(*p));

		if (p == NULL)
			return ERR_NOMEM;
		x->remote = p;
		x->capremote = nc;
	}
	r = &x->remote[x->nremote];
	memset(r, 0, sizeof(*r));
	if ((r->name = xstrdup(name)) == NULL || (ver != NULL && (r->version = xstrdup(ver)) == NULL)) {
		free(r->name);
		free(r->version);
		return ERR_NOMEM;
	}
	r->deleted = has_deleted_date(e);
	x->nremote++;
	return 0;
}

static int list_owned(struct sm_ctx *x, struct err_ctx *err)
{
	char *next = NULL;
	int rc = 0;

	for (size_t page = 0; page < AWS_SM_MAX_PAGES; page++) {
		struct aws_call call = {.svc = AWS_SVC_SECRETS, .action = "ListSecrets",
					.name = x->owner};
		json_t *req = json_pack("{s:[{s:s,s:[s]},{s:s,s:[s]}],s:b,s:i}", "Filters", "Key",
					"tag-key", "Values", PROVIDER_OWNER_KEY, "Key", "tag-value",
					"Values", x->owner, "IncludePlannedDeletion", 1,
					"MaxResults", AWS_SM_LIST_PAGE);
		json_t *list, *e, *nt;
		size_t i;
		char other[256];

		if (req != NULL && next != NULL)
			json_object_set_new(req, "NextToken", json_string(next));
		free(next);
		next = NULL;
		if ((rc = aws_json_body(req, &call.body)) != 0)
			return err_set(err, rc, "aws: cannot build ListSecrets");
		if ((rc = aws_client_call(x->c, &call, err)) != 0) {
			aws_call_clear(&call);
			return rc;
		}
		list = json_object_get(call.json, "SecretList");
		json_array_foreach(list, i, e) {
			if (tags_owner(e, x->owner, other, sizeof(other)) == 1 &&
			    (rc = add_remote(x, e)) != 0)
				break;
		}
		nt = json_object_get(call.json, "NextToken");
		if (rc == 0 && json_is_string(nt) && json_string_length(nt) > 0 &&
		    (next = xstrdup(json_string_value(nt))) == NULL)
			rc = ERR_NOMEM;
		aws_call_clear(&call);
		if (rc != 0 || next == NULL)
			return rc;
	}
	free(next);
	return err_set(err, ERR_TOOBIG, "aws: more than %d pages of secrets", AWS_SM_MAX_PAGES);
}

static struct sm_remote *find_remote(struct sm_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->nremote; i++) {
		if (strcmp(x->remote[i].name, name) == 0)
			return &x->remote[i];
	}
	return NULL;
}

/* ---------- 2. restore ---------- */

static int restore_deleted(struct sm_ctx *x, struct err_ctx *err)
{
	struct aws_call *calls = xcalloc(x->n ? x->n : 1, sizeof(*calls));
	size_t *who = xcalloc(x->n ? x->n : 1, sizeof(*who));
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n; i++) {
		if (x->it[i].state != SM_DELETED)
			continue;
		if (x->job->policy.dry_run) {
			x->it[i].state = SM_DONE;
			if ((rc = report(x, x->it[i].d->name, x->it[i].d->key, ITEM_WRITTEN,
					 "would restore (scheduled for deletion)")) != 0)
				goto out;
			continue;
		}
		calls[k] = (struct aws_call){.svc = AWS_SVC_SECRETS, .action = "RestoreSecret",
					     .name = x->it[i].d->name};
		if ((rc = aws_json_body(json_pack("{s:s}", "SecretId", x->it[i].d->name),
					&calls[k].body)) != 0)
			goto out;
		who[k++] = i;
	}
	if (k == 0)
		goto out;
	if ((rc = aws_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		struct sm_item *it = &x->it[who[j]];

		if (calls[j].rc != 0) {
			if ((rc = item_fail(x, it, &calls[j])) != 0)
				goto out;
		} else {
			it->state = SM_OWNED;
		}
	}
out:
	calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* ---------- 3. current values ---------- */

static struct sm_item *find_item(struct sm_ctx *x, const char *name, enum sm_state st)
{
	for (size_t i = 0; i < x->n; i++) {
		if (x->it[i].state == st && strcmp(x->it[i].d->name, name) == 0)
			return &x->it[i];
	}
	return NULL;
}

static int take_entry(struct sm_item *it, json_t *e)
{
	const char *vid = json_string_value(json_object_get(e, "VersionId"));

	free(it->version);
	it->version = vid ? xstrdup(vid) : NULL;
	if (vid != NULL && it->version == NULL)
		return ERR_NOMEM;
	it->have_value = 1;
	it->equal = entry_equal(e, it->d->value);
	return 0;
}

/* GetSecretValue for every SM_OWNED item without a value yet. */
static int get_each(struct sm_ctx *x, struct err_ctx *err)
{
	struct aws_call *calls = xcalloc(x->n ? x->n : 1, sizeof(*calls));
	size_t *who = xcalloc(x->n ? x->n : 1, sizeof(*who));
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n; i++) {
		if (x->it[i].state != SM_OWNED || x->it[i].have_value)
			continue;
		calls[k] = (struct aws_call){.svc = AWS_SVC_SECRETS, .action = "GetSecretValue",
					     .name = x->it[i].d->name};
		if ((rc = aws_json_body(json_pack("{s:s}", "SecretId", x->it[i].d->name),
					&calls[k].body)) != 0)
			goto out;
		who[k++] = i;
	}
	if (k == 0)
		goto out;
	if ((rc = aws_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		struct sm_item *it = &x->it[who[j]];

		if (calls[j].rc != 0)
			rc = item_fail(x, it, &calls[j]);
		else
			rc = take_entry(it, calls[j].json);
		if (rc != 0)
			goto out;
	}
out:
	calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

static int batch_get(struct sm_ctx *x, struct err_ctx *err)
{
	size_t nb = 0, k = 0, nown = 0;
	struct aws_call *calls;
	int rc = 0;

	for (size_t i = 0; i < x->n; i++)
		nown += x->it[i].state == SM_OWNED && !x->it[i].have_value;
	if (nown == 0)
		return 0;
	nb = (nown + AWS_SM_BATCH - 1) / AWS_SM_BATCH;
	if ((calls = xcalloc(nb, sizeof(*calls))) == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < x->n && k < nb;) {
		json_t *ids = json_array();
		size_t cnt = 0;

		for (; i < x->n && cnt < AWS_SM_BATCH; i++) {
			if (x->it[i].state != SM_OWNED || x->it[i].have_value)
				continue;
			json_array_append_new(ids, json_string(x->it[i].d->name));
			cnt++;
		}
		if (cnt == 0) {
			json_decref(ids);
			break;
		}
		calls[k] = (struct aws_call){.svc = AWS_SVC_SECRETS, .action = "BatchGetSecretValue",
					     .name = x->owner};
		if ((rc = aws_json_body(json_pack("{s:o}", "SecretIdList", ids), &calls[k].body)) != 0)
			goto out;
		k++;
	}
	if ((rc = aws_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		json_t *vals, *errs, *e;
		size_t i;

		if (calls[j].rc != 0)
			continue; /* those names fall back to GetSecretValue */
		vals = json_object_get(calls[j].json, "SecretValues");
		json_array_foreach(vals, i, e) {
			const char *name = json_string_value(json_object_get(e, "Name"));
			struct sm_item *it = name ? find_item(x, name, SM_OWNED) : NULL;

			if (it != NULL && !it->have_value && (rc = take_entry(it, e)) != 0)
				goto out;
		}
		errs = json_object_get(calls[j].json, "Errors");
		json_array_foreach(errs, i, e) {
			const char *id = json_string_value(json_object_get(e, "SecretId"));
			const char *code = json_string_value(json_object_get(e, "ErrorCode"));
			struct sm_item *it = id ? find_item(x, id, SM_OWNED) : NULL;
			struct aws_call fake = {.action = "BatchGetSecretValue", .name = id,
						.rc = ERR_REMOTE};

			if (it == NULL)
				continue;
			str_copy(fake.code, sizeof(fake.code), code ? code : "Error");
			if (code != NULL && strcmp(code, "ResourceNotFoundException") == 0) {
				it->state = SM_NEW; /* deleted meanwhile: create */
				it->remote = NULL;
				continue;
			}
			if ((rc = item_fail(x, it, &fake)) != 0)
				goto out;
		}
	}
	rc = get_each(x, err);
out:
	calls_clear(calls, k);
	free(calls);
	return rc;
}

/* ---------- 4. new versions ---------- */

static int put_changed(struct sm_ctx *x, struct err_ctx *err)
{
	struct aws_call *calls = xcalloc(x->n ? x->n : 1, sizeof(*calls));
	size_t *who = xcalloc(x->n ? x->n : 1, sizeof(*who));
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n; i++) {
		struct sm_item *it = &x->it[i];
		const char *why = it->adopted ? "adopted" : NULL;
		char tok[37];
		json_t *req;

		if (it->state != SM_OWNED || !it->have_value)
			continue;
		if (it->equal) {
			it->state = SM_DONE;
			if ((rc = report(x, it->d->name, it->d->key, ITEM_UNCHANGED, why)) != 0)
				goto out;
			continue;
		}
		if (!x->job->policy.trigger_update) {
			it->state = SM_DONE;
			if ((rc = report(x, it->d->name, it->d->key, ITEM_UNCHANGED,
					 "remote value differs; triggerUpdate is off")) != 0)
				goto out;
			continue;
		}
		if (x->job->policy.dry_run) {
			it->state = SM_DONE;
			if ((rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN,
					 "would write a new version")) != 0)
				goto out;
			continue;
		}
		if ((rc = aws_secrets_request_token(it->d->name, it->version, it->d->value, tok)) != 0)
			goto out;
		req = json_pack("{s:s,s:s}", "SecretId", it->d->name, "ClientRequestToken", tok);
		if (req == NULL || (rc = put_value(req, it->d->value)) != 0) {
			rc = rc ? rc : ERR_NOMEM;
			cloud_json_wipe(req);
			json_decref(req);
			goto out;
		}
		calls[k] = (struct aws_call){.svc = AWS_SVC_SECRETS, .action = "PutSecretValue",
					     .name = it->d->name};
		if ((rc = aws_json_body(req, &calls[k].body)) != 0)
			goto out;
		who[k++] = i;
	}
	if (k == 0)
		goto out;
	if ((rc = aws_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		struct sm_item *it = &x->it[who[j]];

		if (calls[j].rc != 0) {
			rc = item_fail(x, it, &calls[j]);
		} else {
			it->state = SM_DONE;
			rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN,
				    it->adopted ? "adopted; new version" : "new version");
		}
		if (rc != 0)
			goto out;
	}
out:
	calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* ---------- 5. creation, and what stands in its way ---------- */

/* DescribeSecret on a name that exists without being listed as ours: refuse, adopt, or
 * (ours after all) go on comparing. */
static int existing(struct sm_ctx *x, struct sm_item *it, struct err_ctx *err)
{
	struct aws_call d = {.svc = AWS_SVC_SECRETS, .action = "DescribeSecret", .name = it->d->name};
	char other[256], reason[400];
	int rc, own;

	if ((rc = aws_json_body(json_pack("{s:s}", "SecretId", it->d->name), &d.body)) != 0)
		return rc;
	if (aws_client_run(x->c, &d, 1, err) != 0 || d.rc != 0) {
		if (d.rc == ERR_NOTFOUND && x->job->policy.dry_run) {
			it->state = SM_DONE;
			rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN, "would create");
		} else {
			rc = item_fail(x, it, &d);
		}
		goto out;
	}
	own = tags_owner(d.json, x->owner, other, sizeof(other));
	if (provider_refuses(x->job, own, other, "", reason, sizeof(reason))) {
		it->state = SM_DONE;
		rc = report(x, it->d->name, it->d->key, ITEM_REFUSED, reason);
		goto out;
	}
	if (x->job->policy.dry_run) {
		it->state = SM_DONE;
		rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN,
			    own ? "would update" : "would adopt");
		goto out;
	}
	if (own == 0) {
		struct aws_call t = {.svc = AWS_SVC_SECRETS, .action = "TagResource",
				     .name = it->d->name};

		if ((rc = aws_json_body(json_pack("{s:s,s:o}", "SecretId", it->d->name, "Tags",
						  owner_tags(x->owner)),
					&t.body)) != 0)
			goto out;
		if (aws_client_run(x->c, &t, 1, err) != 0 || t.rc != 0) {
			rc = item_fail(x, it, &t);
			aws_call_clear(&t);
			goto out;
		}
		aws_call_clear(&t);
		it->adopted = 1;
	}
	if (has_deleted_date(d.json)) {
		struct aws_call r = {.svc = AWS_SVC_SECRETS, .action = "RestoreSecret",
				     .name = it->d->name};

		if ((rc = aws_json_body(json_pack("{s:s}", "SecretId", it->d->name), &r.body)) != 0)
			goto out;
		if (aws_client_run(x->c, &r, 1, err) != 0 || r.rc != 0) {
			rc = item_fail(x, it, &r);
			aws_call_clear(&r);
			goto out;
		}
		aws_call_clear(&r);
	}
	it->state = SM_OWNED; /* compared and written by the caller's next round */
	rc = 0;
out:
	aws_call_clear(&d);
	return rc;
}

static int create_new(struct sm_ctx *x, struct err_ctx *err)
{
	struct aws_call *calls = xcalloc(x->n ? x->n : 1, sizeof(*calls));
	size_t *who = xcalloc(x->n ? x->n : 1, sizeof(*who));
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n; i++) {
		struct sm_item *it = &x->it[i];
		char tok[37];
		json_t *req;

		if (it->state != SM_NEW)
			continue;
		if (x->job->policy.dry_run) {
			if ((rc = existing(x, it, err)) != 0)
				goto out;
			if (it->state == SM_OWNED) {
				it->state = SM_DONE;
				if ((rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN,
						 "would update")) != 0)
					goto out;
			}
			continue;
		}
		if ((rc = aws_secrets_request_token(it->d->name, "create", it->d->value, tok)) != 0)
			goto out;
		req = json_pack("{s:s,s:s,s:o,s:s}", "Name", it->d->name, "ClientRequestToken", tok,
				"Tags", owner_tags(x->owner), "Description",
				"managed by secret-manager-controller");
		if (req == NULL || (rc = put_value(req, it->d->value)) != 0) {
			rc = rc ? rc : ERR_NOMEM;
			cloud_json_wipe(req);
			json_decref(req);
			goto out;
		}
		calls[k] = (struct aws_call){.svc = AWS_SVC_SECRETS, .action = "CreateSecret",
					     .name = it->d->name};
		if ((rc = aws_json_body(req, &calls[k].body)) != 0)
			goto out;
		who[k++] = i;
	}
	if (k == 0)
		goto out;
	if ((rc = aws_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		struct sm_item *it = &x->it[who[j]];

		if (calls[j].rc == 0) {
			it->state = SM_DONE;
			rc = report(x, it->d->name, it->d->key, ITEM_WRITTEN, "created");
		} else if (strcmp(calls[j].code, "ResourceExistsException") == 0 ||
			   strcmp(calls[j].code, "InvalidRequestException") == 0) {
			rc = existing(x, it, err);
		} else {
			rc = item_fail(x, it, &calls[j]);
		}
		if (rc != 0)
			goto out;
	}
out:
	calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* ---------- 6. prune ---------- */

static int prune(struct sm_ctx *x, struct err_ctx *err)
{
	struct aws_call *calls = xcalloc(x->nremote ? x->nremote : 1, sizeof(*calls));
	size_t *who = xcalloc(x->nremote ? x->nremote : 1, sizeof(*who));
	const struct job_policy *p = &x->job->policy;
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->nremote; i++) {
		struct sm_remote *r = &x->remote[i];
		const char *keep = NULL;

		if (r->wanted)
			continue;
		if (!p->prune)
			keep = "left Git; prune is off";
		else if (p->deletion == JOB_DELETION_RETAIN)
			keep = "left Git; deletionPolicy Retain";
		else if (p->deletion == JOB_DELETION_DISABLE)
			keep = "left Git; Secrets Manager has no disabled state, so deletionPolicy "
			       "Disable keeps it";
		if (keep != NULL) {
			if ((rc = report(x, r->name, NULL, ITEM_RETAINED, keep)) != 0)
				goto out;
			continue;
		}
		if (r->deleted) {
			if ((rc = report(x, r->name, NULL, ITEM_PRUNED,
					 "already scheduled for deletion")) != 0)
				goto out;
			continue;
		}
		if (p->dry_run) {
			if ((rc = report(x, r->name, NULL, ITEM_PRUNED,
					 "would schedule deletion")) != 0)
				goto out;
			continue;
		}
		calls[k] = (struct aws_call){.svc = AWS_SVC_SECRETS, .action = "DeleteSecret",
					     .name = r->name};
		if ((rc = aws_json_body(json_pack("{s:s,s:i}", "SecretId", r->name,
						  "RecoveryWindowInDays", AWS_SM_RECOVERY_DAYS),
					&calls[k].body)) != 0)
			goto out;
		who[k++] = i;
	}
	if (k == 0)
		goto out;
	if ((rc = aws_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		struct sm_remote *r = &x->remote[who[j]];
		char reason[400];

		if (calls[j].rc != 0) {
			call_reason(&calls[j], reason, sizeof(reason));
			rc = report(x, r->name, NULL, ITEM_FAILED, reason);
		} else {
			str_fmt(reason, sizeof(reason), "scheduled for deletion in %d days",
				AWS_SM_RECOVERY_DAYS);
			rc = report(x, r->name, NULL, ITEM_PRUNED, reason);
		}
		if (rc != 0)
			goto out;
	}
out:
	calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* ---------- the sync ---------- */

int aws_secrets_sync(struct aws_client *c, const struct job *job, const char *owner,
		     const struct desired *items, size_t n, struct report *rep,
		     struct err_ctx *err)
{
	struct sm_ctx x = {.c = c, .job = job, .owner = owner, .rep = rep};
	int rc;

	if (n > 0 && (x.it = xcalloc(n, sizeof(*x.it))) == NULL)
		return ERR_NOMEM;
	x.n = n;
	if ((rc = list_owned(&x, err)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct sm_item *it = &x.it[i];

		it->d = &items[i];
		if (!aws_secrets_valid_name(items[i].name)) {
			it->state = SM_DONE;
			if ((rc = report(&x, items[i].name, items[i].key, ITEM_FAILED,
					 "not a valid Secrets Manager name")) != 0)
				goto out;
			continue;
		}
		if (items[i].value == NULL || items[i].value->len == 0 ||
		    items[i].value->len > AWS_SM_MAX_VALUE) {
			it->state = SM_DONE;
			if ((rc = report(&x, items[i].name, items[i].key, ITEM_FAILED,
					 "value is empty or larger than 64 KiB")) != 0)
				goto out;
			continue;
		}
		it->remote = find_remote(&x, items[i].name);
		if (it->remote != NULL) {
			it->remote->wanted = 1;
			it->state = it->remote->deleted ? SM_DELETED : SM_OWNED;
		} else {
			it->state = SM_NEW;
		}
	}
	if ((rc = restore_deleted(&x, err)) != 0 || (rc = batch_get(&x, err)) != 0 ||
	    (rc = put_changed(&x, err)) != 0 || (rc = create_new(&x, err)) != 0)
		goto out;
	/* names found at create time to be ours, adopted or restored: compare and write */
	if ((rc = get_each(&x, err)) != 0 || (rc = put_changed(&x, err)) != 0)
		goto out;
	rc = prune(&x, err);
out:
	for (size_t i = 0; i < x.n; i++)
		free(x.it[i].version);
	free(x.it);
	for (size_t i = 0; i < x.nremote; i++) {
		free(x.remote[i].name);
		free(x.remote[i].version);
	}
	free(x.remote);
	return rc;
}
