/* gcp_secrets.c — Secret Manager sync (see gcp_secrets.h for the plan of one sync). */
#include "syncer/providers/gcp/gcp_secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/b64.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "syncer/providers/gcp/gcp_codec.h"
#include "syncer/providers/http/cloud_json.h"

#define FILTER_OWNED "filter=labels.managed-by%3D" PROVIDER_MANAGED_BY_VALUE

enum gs_state {
	GS_NEW = 0, /* not known as ours: create */
	GS_OWNED,   /* ours: read the latest value */
	GS_VERIFY,  /* a write whose outcome is unknown: read the latest value again */
	GS_WRITE,   /* add a version */
	GS_DONE,    /* reported */
};

struct gs_remote {
	char *id;
	int mine;	 /* 1 ours, -1 another config's */
	int same_kind;	 /* item-kind matches the kind being synced */
	char other[200]; /* the other owner */
	int wanted;
};

struct gs_item {
	const struct desired *d;
	enum gs_state state;
	int has_version; /* an enabled latest version exists (its value differs) */
	int created, adopted, creates, writes;
};

struct gs_ctx {
	struct gcp_client *c;
	const struct job *job;
	enum item_kind kind;
	const char *kind_label; /* "secret" | "config" */
	const char *project, *ns, *name;
	struct report *rep;
	struct gs_remote *remote;
	size_t nremote, capremote;
	struct gs_item *it;
	size_t n;
};

int gcp_secrets_valid_name(const char *name)
{
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > GCP_SM_MAX_NAME)
		return 0;
	for (; *name; name++) {
		char ch = *name;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

static int report(struct gs_ctx *x, const char *name, const char *key, enum item_outcome o,
		  const char *reason)
{
	return report_add(x->rep, name, key, x->kind, o, reason);
}

static int item_done(struct gs_ctx *x, struct gs_item *it, enum item_outcome o, const char *reason)
{
	it->state = GS_DONE;
	return report(x, it->d->name, it->d->key, o, reason);
}

static int item_fail(struct gs_ctx *x, struct gs_item *it, const struct gcp_call *call)
{
	char reason[600];

	gcp_call_reason(call, reason, sizeof(reason));
	return item_done(x, it, ITEM_FAILED, reason);
}

static void calls_clear(struct gcp_call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gcp_call_clear(&calls[i]);
}

static void set_call(struct gs_ctx *x, struct gcp_call *call, const char *method, const char *op,
		     const char *id, const char *suffix)
{
	*call = (struct gcp_call){.api = GCP_API_SM, .method = method, .op = op};
	if (id != NULL)
		str_fmt(call->path, sizeof(call->path), "projects/%s/secrets/%s%s", x->project, id,
			suffix ? suffix : "");
	else
		str_fmt(call->path, sizeof(call->path), "projects/%s/secrets", x->project);
}

/* ---------- 1. what is ours ---------- */

static int add_remote(struct gs_ctx *x, json_t *s)
{
	const char *full = json_string_value(json_object_get(s, "name"));
	const char *id = full ? strrchr(full, '/') : NULL;
	struct gs_remote *r;
	char other[200] = "";
	int own;

	if (id == NULL)
		return 0;
	id++;
	if ((own = gcp_owner_check(s, x->ns, x->name, other, sizeof(other))) == 0)
		return 0;
	if (x->nremote == x->capremote) {
		size_t nc = x->capremote ? x->capremote * 2 : 64;
		struct gs_remote *p = xreallocarray(x->remote, nc, sizeof(*p));

		if (p == NULL)
			return ERR_NOMEM;
		x->remote = p;
		x->capremote = nc;
	}
	r = &x->remote[x->nremote];
	memset(r, 0, sizeof(*r));
	if ((r->id = xstrdup(id)) == NULL)
		return ERR_NOMEM;
	r->mine = own;
	r->same_kind = strcmp(gcp_owner_kind(s), x->kind_label) == 0;
	str_copy(r->other, sizeof(r->other), other);
	x->nremote++;
	return 0;
}

static int list_owned(struct gs_ctx *x, struct err_ctx *err)
{
	char *next = NULL;
	int rc = 0;

	for (size_t page = 0; page < GCP_SM_MAX_PAGES; page++) {
		struct gcp_call call;
		char query[900];
		json_t *list, *s, *nt;
		size_t i;

		set_call(x, &call, "GET", "secrets.list", NULL, NULL);
		if (str_fmt(query, sizeof(query), "%s&pageSize=%d%s%s", FILTER_OWNED,
			    GCP_SM_LIST_PAGE, next ? "&pageToken=" : "", next ? next : "") != 0) {
			free(next);
			return err_set(err, ERR_TOOBIG, "gcp: secrets.list page token too long");
		}
		free(next);
		next = NULL;
		call.query = query;
		if ((rc = gcp_client_run(x->c, &call, 1, err)) != 0)
			return rc;
		if (call.rc != 0) {
			char reason[600];

			gcp_call_reason(&call, reason, sizeof(reason));
			gcp_call_clear(&call);
			return err_set(err, ERR_REMOTE, "gcp: %s", reason);
		}
		list = json_object_get(call.json, "secrets");
		json_array_foreach(list, i, s)
		{
			if ((rc = add_remote(x, s)) != 0)
				break;
		}
		nt = json_object_get(call.json, "nextPageToken");
		if (rc == 0 && json_is_string(nt) && json_string_length(nt) > 0) {
			const char *t = json_string_value(nt);

			if (strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz01234567"
				      "89-_.~") != strlen(t))
				rc = err_set(err, ERR_PROTO,
					     "gcp: secrets.list page token is not URL-safe");
			else if ((next = xstrdup(t)) == NULL)
				rc = ERR_NOMEM;
		}
		gcp_call_clear(&call);
		if (rc != 0 || next == NULL)
			return rc;
	}
	free(next);
	return err_set(err, ERR_TOOBIG, "gcp: more than %d pages of secrets", GCP_SM_MAX_PAGES);
}

static struct gs_remote *find_remote(struct gs_ctx *x, const char *id)
{
	for (size_t i = 0; i < x->nremote; i++) {
		if (strcmp(x->remote[i].id, id) == 0)
			return &x->remote[i];
	}
	return NULL;
}

/* ---------- 2. latest values ---------- */

/* Compares the payload of an access answer with the desired value: 1 equal, 0 differs,
 * negative when the payload is malformed or fails its checksum. */
static int payload_equal(json_t *ans, const struct secbuf *want)
{
	json_t *p = json_object_get(ans, "payload");
	json_t *d = json_object_get(p, "data"), *crc = json_object_get(p, "dataCrc32c");
	struct secbuf *got = NULL;
	int rc;

	if (d == NULL || json_is_null(d))
		return want->len == 0;
	if (!json_is_string(d))
		return ERR_PROTO;
	if ((rc = b64_decode_secret(json_string_value(d), json_string_length(d), GCP_SM_MAX_VALUE * 2,
				 &got)) != 0)
		return rc;
	if (json_is_string(crc)) {
		int64_t v;

		if (str_to_i64(json_string_value(crc), 0, 0xFFFFFFFFll, &v) != 0 ||
		    (uint32_t)v != gcp_crc32c(got->data, got->len)) {
			secbuf_free(got);
			return ERR_CRYPTO;
		}
	}
	rc = secbuf_eq(got, want);
	secbuf_free(got);
	return rc;
}

static int access_round(struct gs_ctx *x, struct err_ctx *err)
{
	struct gcp_call *calls = xcalloc(x->n ? x->n : 1, sizeof(*calls));
	size_t *who = xcalloc(x->n ? x->n : 1, sizeof(*who));
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n; i++) {
		if (x->it[i].state != GS_OWNED && x->it[i].state != GS_VERIFY)
			continue;
		set_call(x, &calls[k], "GET", "versions.access", x->it[i].d->name,
			 "/versions/latest:access");
		who[k++] = i;
	}
	if (k == 0 || (rc = gcp_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k && rc == 0; j++) {
		struct gs_item *it = &x->it[who[j]];
		struct gcp_call *call = &calls[j];
		int verify = it->state == GS_VERIFY, eq;

		if (call->rc == 0) {
			eq = payload_equal(call->json, it->d->value);
			if (eq < 0) {
				rc = item_done(x, it, ITEM_FAILED,
					       "versions.access: the latest payload fails its "
					       "dataCrc32c or is not base64");
			} else if (eq == 1) {
				rc =
				    item_done(x, it, verify ? ITEM_WRITTEN : ITEM_UNCHANGED,
					      verify ? "new version (confirmed after a lost answer)"
					      : it->adopted ? "adopted"
							    : NULL);
			} else {
				it->has_version = 1;
				it->state = GS_WRITE;
			}
		} else if (call->rc == ERR_NOTFOUND) {
			/* no secret, or no version yet: create (409 then means "add a version") */
			it->has_version = 0;
			it->state = it->creates > 0 ? GS_WRITE : GS_NEW;
		} else if (strcmp(call->code, "FAILED_PRECONDITION") == 0) {
			it->has_version = 0; /* latest disabled or destroyed */
			it->state = GS_WRITE;
		} else {
			rc = item_fail(x, it, call);
		}
	}
out:
	if (calls != NULL)
		calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* ---------- 3. creation and what stands in its way ---------- */

/* secrets.get of a name that exists without being listed as ours. */
static int existing(struct gs_ctx *x, struct gs_item *it, struct err_ctx *err)
{
	struct gcp_call g, p;
	char other[200] = "", reason[400];
	int rc = 0, own;

	set_call(x, &g, "GET", "secrets.get", it->d->name, NULL);
	if ((rc = gcp_client_run(x->c, &g, 1, err)) != 0)
		goto out;
	if (g.rc == ERR_NOTFOUND && x->job->policy.dry_run) {
		rc = item_done(x, it, ITEM_WRITTEN, "would create");
		goto out;
	}
	if (g.rc != 0) {
		rc = item_fail(x, it, &g);
		goto out;
	}
	own = gcp_owner_check(g.json, x->ns, x->name, other, sizeof(other));
	if (provider_refuses(x->job, own, other, "label ", reason, sizeof(reason))) {
		rc = item_done(x, it, ITEM_REFUSED, reason);
		goto out;
	}
	if (own == 0 && x->job->policy.dry_run) {
		rc = item_done(x, it, ITEM_WRITTEN, "would adopt");
		goto out;
	}
	if (own == 0) {
		json_t *labels = json_deep_copy(json_object_get(g.json, "labels"));
		json_t *ann = json_deep_copy(json_object_get(g.json, "annotations"));
		char owner[400];

		if (labels == NULL)
			labels = json_object();
		if (ann == NULL)
			ann = json_object();
		str_fmt(owner, sizeof(owner), "%s/%s", x->ns, x->name);
		set_call(x, &p, "PATCH", "secrets.patch", it->d->name, NULL);
		p.query = "updateMask=labels,annotations";
		if (labels == NULL || ann == NULL ||
		    gcp_owner_labels_merge(labels, x->ns, x->name, x->kind_label) != 0 ||
		    json_object_set_new(ann, PROVIDER_OWNER_KEY, json_string(owner)) != 0) {
			json_decref(labels);
			json_decref(ann);
			rc = ERR_NOMEM;
			goto out;
		}
		if ((rc =
			 cloud_json_body(json_pack("{s:o,s:o}", "labels", labels, "annotations", ann),
				       GCP_CLIENT_MAX_REQUEST, &p.body)) != 0)
			goto out;
		if ((rc = gcp_client_run(x->c, &p, 1, err)) == 0 && p.rc != 0)
			rc = item_fail(x, it, &p);
		else if (rc == 0)
			it->adopted = 1;
		gcp_call_clear(&p);
		if (rc != 0 || it->state == GS_DONE)
			goto out;
	}
	it->state = GS_OWNED; /* compare first: the value may already be there */
	it->creates = 1;      /* so a NOT_FOUND on access means: no version yet */
out:
	gcp_call_clear(&g);
	return rc;
}

static int create_round(struct gs_ctx *x, struct err_ctx *err)
{
	struct gcp_call *calls = xcalloc(x->n ? x->n : 1, sizeof(*calls));
	size_t *who = xcalloc(x->n ? x->n : 1, sizeof(*who));
	char owner[400];
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	str_fmt(owner, sizeof(owner), "%s/%s", x->ns, x->name);
	for (size_t i = 0; i < x->n; i++) {
		struct gs_item *it = &x->it[i];
		char q[300];

		if (it->state != GS_NEW)
			continue;
		if (x->job->policy.dry_run) {
			/* ours after all: compared (and reported) by the next round */
			if ((rc = existing(x, it, err)) != 0)
				goto out;
			continue;
		}
		set_call(x, &calls[k], "POST", "secrets.create", NULL, NULL);
		str_fmt(q, sizeof(q), "secretId=%s", it->d->name);
		/* the query must outlive the call: keep it in the path buffer's tail */
		{
			size_t pl = strlen(calls[k].path) + 1;

			str_copy(calls[k].path + pl, sizeof(calls[k].path) - pl, q);
			calls[k].query = calls[k].path + pl;
		}
		if ((rc = cloud_json_body(json_pack("{s:o,s:{s:s},s:{s:{}}}", "labels",
						  gcp_owner_labels(x->ns, x->name, x->kind_label),
						  "annotations", PROVIDER_OWNER_KEY, owner,
						  "replication", "automatic"),
					GCP_CLIENT_MAX_REQUEST, &calls[k].body)) != 0)
			goto out;
		it->creates++;
		who[k++] = i;
	}
	if (k == 0 || (rc = gcp_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k && rc == 0; j++) {
		struct gs_item *it = &x->it[who[j]];

		if (calls[j].rc == 0) {
			it->created = 1;
			it->state = GS_WRITE;
		} else if (calls[j].rc == ERR_CONFLICT) {
			rc = existing(x, it, err);
		} else {
			rc = item_fail(x, it, &calls[j]);
		}
	}
out:
	if (calls != NULL)
		calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* ---------- 4. new versions ---------- */

static int version_body(const struct secbuf *v, struct secbuf **out)
{
	struct secbuf *b64 = NULL;
	char crc[16];
	json_t *req;
	int rc;

	if ((rc = b64_encode_secret(v->data, v->len, 0, &b64)) != 0)
		return rc;
	str_fmt(crc, sizeof(crc), "%u", (unsigned)gcp_crc32c(v->data, v->len));
	req = json_pack("{s:{s:s%,s:s}}", "payload", "data", (const char *)b64->data, b64->len,
			"dataCrc32c", crc);
	secbuf_free(b64);
	return cloud_json_body(req, GCP_CLIENT_MAX_REQUEST, out);
}

static int write_round(struct gs_ctx *x, struct err_ctx *err)
{
	struct gcp_call *calls = xcalloc(x->n ? x->n : 1, sizeof(*calls));
	size_t *who = xcalloc(x->n ? x->n : 1, sizeof(*who));
	size_t k = 0;
	int rc = 0;

	if (calls == NULL || who == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n && rc == 0; i++) {
		struct gs_item *it = &x->it[i];

		if (it->state != GS_WRITE)
			continue;
		if (it->has_version && !x->job->policy.trigger_update) {
			rc = item_done(x, it, ITEM_UNCHANGED,
				       "remote value differs; triggerUpdate is off");
			continue;
		}
		if (x->job->policy.dry_run) {
			rc = item_done(x, it, ITEM_WRITTEN, "would write a new version");
			continue;
		}
		set_call(x, &calls[k], "POST", "secrets.addVersion", it->d->name, ":addVersion");
		calls[k].once_on_5xx = 1;
		if ((rc = version_body(it->d->value, &calls[k].body)) != 0)
			goto out;
		it->writes++;
		who[k++] = i;
	}
	if (rc != 0 || k == 0 || (rc = gcp_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k && rc == 0; j++) {
		struct gs_item *it = &x->it[who[j]];
		struct gcp_call *call = &calls[j];

		if (call->rc == 0) {
			rc = item_done(x, it, ITEM_WRITTEN,
				       it->created   ? "created"
				       : it->adopted ? "adopted; new version"
						     : "new version");
		} else if ((call->status >= 500 || call->status == 0 || call->status == 429) &&
			   it->writes < GCP_SM_MAX_ROUNDS - 1) {
			log_debug("gcp.verify", "secrets.addVersion %s: %s, reading back",
				  it->d->name, call->code);
			it->state =
			    GS_VERIFY; /* lost answer or refused: look before writing again */
		} else {
			rc = item_fail(x, it, call);
		}
	}
out:
	if (calls != NULL)
		calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* ---------- 5. prune ---------- */

static int disable_all(struct gs_ctx *x, struct gs_remote *r, char *reason, size_t rsz,
		       enum item_outcome *o, struct err_ctx *err)
{
	struct gcp_call l, *calls = NULL;
	json_t *vs, *v;
	size_t i, k = 0, nv;
	int rc;

	set_call(x, &l, "GET", "versions.list", r->id, "/versions");
	l.query = "filter=state%3AENABLED&pageSize=25000";
	if ((rc = gcp_client_run(x->c, &l, 1, err)) != 0)
		goto out;
	if (l.rc != 0) {
		gcp_call_reason(&l, reason, rsz);
		*o = ITEM_FAILED;
		goto out;
	}
	vs = json_object_get(l.json, "versions");
	nv = json_array_size(vs);
	if ((calls = xcalloc(nv ? nv : 1, sizeof(*calls))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	json_array_foreach(vs, i, v)
	{
		const char *st = json_string_value(json_object_get(v, "state"));
		const char *vn = json_string_value(json_object_get(v, "name"));
		const char *num = vn ? strrchr(vn, '/') : NULL;
		char suffix[64];

		if (st == NULL || strcmp(st, "ENABLED") != 0 || num == NULL ||
		    strspn(num + 1, "0123456789") != strlen(num + 1) ||
		    str_fmt(suffix, sizeof(suffix), "/versions/%s:disable", num + 1) != 0)
			continue;
		set_call(x, &calls[k], "POST", "versions.disable", r->id, suffix);
		if ((rc = cloud_json_body(json_object(), GCP_CLIENT_MAX_REQUEST, &calls[k].body)) !=
		    0)
			goto out;
		k++;
	}
	if (k > 0 && (rc = gcp_client_run(x->c, calls, k, err)) != 0)
		goto out;
	*o = ITEM_PRUNED;
	str_fmt(reason, rsz, k ? "left Git; %zu version(s) disabled" : "left Git; already disabled",
		k);
	for (size_t j = 0; j < k; j++) {
		if (calls[j].rc != 0) {
			gcp_call_reason(&calls[j], reason, rsz);
			*o = ITEM_FAILED;
			break;
		}
	}
out:
	if (calls != NULL)
		calls_clear(calls, k);
	free(calls);
	gcp_call_clear(&l);
	return rc;
}

static int prune(struct gs_ctx *x, struct err_ctx *err)
{
	const struct job_policy *p = &x->job->policy;
	int rc = 0;

	for (size_t i = 0; i < x->nremote && rc == 0; i++) {
		struct gs_remote *r = &x->remote[i];
		enum item_outcome o = ITEM_PRUNED;
		char reason[600];

		if (r->mine != 1 || !r->same_kind || r->wanted)
			continue;
		if (!p->prune && !p->delete_all) {
			rc = report(x, r->id, NULL, ITEM_RETAINED, "left Git; prune is off");
			continue;
		}
		if (p->deletion == JOB_DELETION_RETAIN) {
			rc = report(x, r->id, NULL, ITEM_RETAINED,
				    "left Git; deletionPolicy Retain");
			continue;
		}
		if (p->dry_run) {
			rc = report(x, r->id, NULL, ITEM_PRUNED,
				    p->deletion == JOB_DELETION_DISABLE
					? "would disable its versions"
					: "would delete");
			continue;
		}
		if (p->deletion == JOB_DELETION_DISABLE) {
			if ((rc = disable_all(x, r, reason, sizeof(reason), &o, err)) != 0)
				break;
		} else {
			struct gcp_call d;

			set_call(x, &d, "DELETE", "secrets.delete", r->id, NULL);
			if ((rc = gcp_client_run(x->c, &d, 1, err)) != 0)
				break;
			if (d.rc == 0 || d.rc == ERR_NOTFOUND) {
				str_copy(reason, sizeof(reason), "left Git; deleted");
			} else {
				gcp_call_reason(&d, reason, sizeof(reason));
				o = ITEM_FAILED;
			}
			gcp_call_clear(&d);
		}
		rc = report(x, r->id, NULL, o, reason);
	}
	return rc;
}

/* ---------- the sync ---------- */

int gcp_secrets_sync(struct gcp_client *c, const struct job *job, enum item_kind kind,
		     const struct desired *items, size_t n, struct report *rep, struct err_ctx *err)
{
	struct gs_ctx x = {.c = c,
			   .job = job,
			   .kind = kind,
			   .rep = rep,
			   .kind_label = kind == ITEM_CONFIG ? "config" : "secret",
			   .project = gcp_client_project(c),
			   .ns = job->config.ns,
			   .name = job->config.name};
	int rc;

	if (n > 0 && (x.it = xcalloc(n, sizeof(*x.it))) == NULL)
		return ERR_NOMEM;
	x.n = n;
	if ((rc = list_owned(&x, err)) != 0)
		goto out;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct gs_item *it = &x.it[i];
		struct gs_remote *r;

		it->d = &items[i];
		if (!gcp_secrets_valid_name(items[i].name)) {
			rc = item_done(&x, it, ITEM_FAILED, "not a valid Secret Manager secret id");
			continue;
		}
		if (items[i].value == NULL || items[i].value->len > GCP_SM_MAX_VALUE) {
			rc = item_done(&x, it, ITEM_FAILED, "value is larger than 64 KiB");
			continue;
		}
		r = find_remote(&x, items[i].name);
		if (r != NULL && r->mine == -1) {
			char reason[300];

			str_fmt(reason, sizeof(reason), "exists and is owned by %s", r->other);
			rc = item_done(&x, it, ITEM_REFUSED, reason);
			continue;
		}
		if (r != NULL && !r->same_kind) {
			rc = item_done(
			    &x, it, ITEM_FAILED,
			    kind == ITEM_CONFIG
				? "a secret of this config has the same name"
				: "a config of this config (kept in Secret Manager) has the "
				  "same name");
			continue;
		}
		if (r != NULL)
			r->wanted = 1;
		it->state = r != NULL ? GS_OWNED : GS_NEW;
	}
	for (int round = 0; round < GCP_SM_MAX_ROUNDS && rc == 0; round++) {
		int pending = 0;

		if ((rc = access_round(&x, err)) != 0 || (rc = create_round(&x, err)) != 0 ||
		    (rc = write_round(&x, err)) != 0)
			break;
		for (size_t i = 0; i < n; i++)
			pending += x.it[i].state != GS_DONE;
		if (pending == 0)
			break;
		if (round > 0) {
			long ms = gcp_client_backoff_ms(c, (unsigned)round, -1);
			struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (x.it[i].state != GS_DONE)
			rc = item_done(&x, &x.it[i], ITEM_FAILED,
				       "secrets.addVersion: no answer after repeated tries");
	}
	if (rc == 0)
		rc = prune(&x, err);
out:
	free(x.it);
	for (size_t i = 0; i < x.nremote; i++)
		free(x.remote[i].id);
	free(x.remote);
	return rc;
}
