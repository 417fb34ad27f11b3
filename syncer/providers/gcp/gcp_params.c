/* gcp_params.c — Parameter Manager sync (see gcp_params.h for the plan of one sync). */
#include "syncer/providers/gcp/gcp_params.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/b64.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "syncer/providers/gcp/gcp_codec.h"
#include "syncer/providers/gcp/gcp_secrets.h"
#include "syncer/providers/http/cloud_json.h"

#define FILTER_OWNED "filter=labels.managed-by%3D" PROVIDER_MANAGED_BY_VALUE
#define VID_MAX 64

enum gp_state { GP_NEW = 0, GP_OWNED, GP_READ, GP_WRITE, GP_DONE };

struct gp_remote {
	char *id;
	int mine; /* 1 ours, -1 another config's */
	char other[200];
	int wanted;
};

struct gp_item {
	const struct desired *d;
	enum gp_state state;
	char latest[VID_MAX]; /* newest enabled version id */
	unsigned long maxn;   /* highest N of the "v<N>" ids */
	int has_version, created, adopted, creates, writes, verify;
};

struct gp_ctx {
	struct gcp_client *c;
	const struct job *job;
	const char *project, *location, *ns, *name;
	struct report *rep;
	struct gp_remote *remote;
	size_t nremote, capremote;
	struct gp_item *it;
	size_t n;
};

const char *gcp_params_location(const struct job *job)
{
	const char *l = job->provider.location;

	if (l == NULL || l[0] == '\0')
		return "global";
	if (strlen(l) > 63 || strspn(l, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(l))
		return NULL;
	return l;
}

static int report(struct gp_ctx *x, const char *name, const char *key, enum item_outcome o,
		  const char *reason)
{
	return report_add(x->rep, name, key, ITEM_CONFIG, o, reason);
}

static int item_done(struct gp_ctx *x, struct gp_item *it, enum item_outcome o, const char *reason)
{
	it->state = GP_DONE;
	return report(x, it->d->name, it->d->key, o, reason);
}

static int item_fail(struct gp_ctx *x, struct gp_item *it, const struct gcp_call *call)
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

/* path = projects/p/locations/l/parameters[/id[suffix]]; query (may be NULL) is copied
 * behind the path in the same buffer. */
static void set_call(struct gp_ctx *x, struct gcp_call *call, const char *method, const char *op,
		     const char *id, const char *suffix, const char *query)
{
	size_t pl;

	*call = (struct gcp_call){.api = GCP_API_PM, .method = method, .op = op};
	str_fmt(call->path, sizeof(call->path), "projects/%s/locations/%s/parameters%s%s%s",
		x->project, x->location, id ? "/" : "", id ? id : "", suffix ? suffix : "");
	if (query != NULL) {
		pl = strlen(call->path) + 1;
		if (str_copy(call->path + pl, sizeof(call->path) - pl, query) == 0)
			call->query = call->path + pl;
	}
}

/* ---------- 1. what is ours ---------- */

static int list_owned(struct gp_ctx *x, struct err_ctx *err)
{
	char *next = NULL;
	int rc = 0;

	for (size_t page = 0; page < GCP_PM_MAX_PAGES; page++) {
		struct gcp_call call;
		char query[900];
		json_t *list, *s, *nt;
		size_t i;

		if (str_fmt(query, sizeof(query), "%s&pageSize=%d%s%s", FILTER_OWNED,
			    GCP_PM_LIST_PAGE, next ? "&pageToken=" : "", next ? next : "") != 0) {
			free(next);
			return err_set(err, ERR_TOOBIG, "gcp: parameters.list page token too long");
		}
		free(next);
		next = NULL;
		set_call(x, &call, "GET", "parameters.list", NULL, NULL, query);
		if ((rc = gcp_client_run(x->c, &call, 1, err)) != 0)
			return rc;
		if (call.rc != 0) {
			char reason[600];

			gcp_call_reason(&call, reason, sizeof(reason));
			gcp_call_clear(&call);
			return err_set(err, ERR_REMOTE, "gcp: %s", reason);
		}
		list = json_object_get(call.json, "parameters");
		json_array_foreach(list, i, s)
		{
			const char *full = json_string_value(json_object_get(s, "name"));
			const char *id = full ? strrchr(full, '/') : NULL;
			char other[200] = "";
			int own = gcp_owner_check(s, x->ns, x->name, other, sizeof(other));
			struct gp_remote *r;

			if (id == NULL || own == 0)
				continue;
			if (x->nremote == x->capremote) {
				size_t nc = x->capremote ? x->capremote * 2 : 64;
				struct gp_remote *p = xreallocarray(x->remote, nc, sizeof(*p));

				if (p == NULL) {
					rc = ERR_NOMEM;
					break;
				}
				x->remote = p;
				x->capremote = nc;
			}
			r = &x->remote[x->nremote];
			memset(r, 0, sizeof(*r));
			if ((r->id = xstrdup(id + 1)) == NULL) {
				rc = ERR_NOMEM;
				break;
			}
			r->mine = own;
			str_copy(r->other, sizeof(r->other), other);
			x->nremote++;
		}
		nt = json_object_get(call.json, "nextPageToken");
		if (rc == 0 && json_is_string(nt) && json_string_length(nt) > 0) {
			const char *t = json_string_value(nt);

			if (strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz01234567"
				      "89-_.~") != strlen(t))
				rc = err_set(err, ERR_PROTO,
					     "gcp: parameters.list page token is not URL-safe");
			else if ((next = xstrdup(t)) == NULL)
				rc = ERR_NOMEM;
		}
		gcp_call_clear(&call);
		if (rc != 0 || next == NULL)
			return rc;
	}
	free(next);
	return err_set(err, ERR_TOOBIG, "gcp: more than %d pages of parameters", GCP_PM_MAX_PAGES);
}

static struct gp_remote *find_remote(struct gp_ctx *x, const char *id)
{
	for (size_t i = 0; i < x->nremote; i++) {
		if (strcmp(x->remote[i].id, id) == 0)
			return &x->remote[i];
	}
	return NULL;
}

/* ---------- 2. newest enabled version and its value ---------- */

static const char *vid_of(json_t *v)
{
	const char *n = json_string_value(json_object_get(v, "name"));
	const char *s = n ? strrchr(n, '/') : NULL;

	return s ? s + 1 : n;
}

/* Compares two RFC 3339 UTC times ("2024-01-02T03:04:05.123456789Z", the fraction of any
 * length or absent): <0, 0, >0. A missing time sorts first. */
static int time_cmp(const char *a, const char *b)
{
	char fa[10] = "000000000", fb[10] = "000000000";
	const char *pa, *pb;
	int c;

	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	if ((c = strncmp(a, b, 19)) != 0)
		return c;
	pa = strlen(a) > 19 && a[19] == '.' ? a + 20 : "";
	pb = strlen(b) > 19 && b[19] == '.' ? b + 20 : "";
	for (int i = 0; i < 9 && pa[i] >= '0' && pa[i] <= '9'; i++)
		fa[i] = pa[i];
	for (int i = 0; i < 9 && pb[i] >= '0' && pb[i] <= '9'; i++)
		fb[i] = pb[i];
	return strcmp(fa, fb);
}

/* Reads a versions.list answer into it->latest / maxn / has_version: the newest enabled
 * version by createTime, ties (or no times) going to the higher "v<N>". */
static void take_versions(struct gp_item *it, json_t *ans)
{
	json_t *vs = json_object_get(ans, "parameterVersions"), *v;
	const char *best_time = NULL;
	int64_t best_n = -1;
	size_t i;

	it->latest[0] = '\0';
	it->maxn = 0;
	it->has_version = 0;
	json_array_foreach(vs, i, v)
	{
		const char *vid = vid_of(v);
		const char *ct = json_string_value(json_object_get(v, "createTime"));
		int disabled = json_is_true(json_object_get(v, "disabled"));
		int64_t num = 0;
		int c;

		if (vid == NULL || strlen(vid) >= VID_MAX)
			continue;
		if (vid[0] != 'v' || str_to_i64(vid + 1, 1, 1000000000, &num) != 0)
			num = 0;
		if ((unsigned long)num > it->maxn)
			it->maxn = (unsigned long)num;
		if (disabled)
			continue;
		c = it->has_version ? time_cmp(ct, best_time) : 1;
		if (c > 0 || (c == 0 && num > best_n)) {
			str_copy(it->latest, sizeof(it->latest), vid);
			best_time = ct;
			best_n = num;
			it->has_version = 1;
		}
	}
}

static int versions_round(struct gp_ctx *x, struct err_ctx *err)
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
		if (x->it[i].state != GP_OWNED)
			continue;
		set_call(x, &calls[k], "GET", "versions.list", x->it[i].d->name, "/versions",
			 "pageSize=1000");
		who[k++] = i;
	}
	if (k == 0 || (rc = gcp_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k && rc == 0; j++) {
		struct gp_item *it = &x->it[who[j]];

		if (calls[j].rc == 0) {
			take_versions(it, calls[j].json);
			it->state = it->has_version ? GP_READ : GP_WRITE;
		} else if (calls[j].rc == ERR_NOTFOUND && it->creates == 0) {
			it->state = GP_NEW;
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

static int payload_equal(json_t *ans, const struct secbuf *want)
{
	json_t *d = json_object_get(json_object_get(ans, "payload"), "data");
	struct secbuf *got = NULL;
	int rc;

	if (d == NULL || json_is_null(d))
		return want->len == 0;
	if (!json_is_string(d))
		return ERR_PROTO;
	if ((rc = b64_decode_secret(json_string_value(d), json_string_length(d), GCP_PM_MAX_VALUE * 2,
				 &got)) != 0)
		return rc;
	rc = secbuf_eq(got, want);
	secbuf_free(got);
	return rc;
}

static int read_round(struct gp_ctx *x, struct err_ctx *err)
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
		char suffix[VID_MAX + 16];

		if (x->it[i].state != GP_READ)
			continue;
		str_fmt(suffix, sizeof(suffix), "/versions/%s", x->it[i].latest);
		set_call(x, &calls[k], "GET", "versions.get", x->it[i].d->name, suffix,
			 "view=FULL");
		who[k++] = i;
	}
	if (k == 0 || (rc = gcp_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k && rc == 0; j++) {
		struct gp_item *it = &x->it[who[j]];
		int eq;

		if (calls[j].rc == ERR_NOTFOUND) {
			it->state = GP_OWNED; /* deleted meanwhile: list again */
			continue;
		}
		if (calls[j].rc != 0) {
			rc = item_fail(x, it, &calls[j]);
			continue;
		}
		eq = payload_equal(calls[j].json, it->d->value);
		if (eq < 0)
			rc = item_done(x, it, ITEM_FAILED, "versions.get: payload is not base64");
		else if (eq == 1)
			rc = item_done(x, it, it->verify ? ITEM_WRITTEN : ITEM_UNCHANGED,
				       it->verify    ? "new version (confirmed after a retry)"
				       : it->adopted ? "adopted"
						     : NULL);
		else
			it->state = GP_WRITE;
	}
out:
	if (calls != NULL)
		calls_clear(calls, k);
	free(calls);
	free(who);
	return rc;
}

/* ---------- 3. creation ---------- */

static int existing(struct gp_ctx *x, struct gp_item *it, struct err_ctx *err)
{
	struct gcp_call g, p;
	char other[200] = "", reason[400];
	int rc, own;

	set_call(x, &g, "GET", "parameters.get", it->d->name, NULL, NULL);
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

		if (labels == NULL)
			labels = json_object();
		set_call(x, &p, "PATCH", "parameters.patch", it->d->name, NULL,
			 "updateMask=labels");
		if (labels == NULL ||
		    gcp_owner_labels_merge(labels, x->ns, x->name, "config") != 0) {
			json_decref(labels);
			rc = ERR_NOMEM;
			goto out;
		}
		if ((rc = cloud_json_body(json_pack("{s:o}", "labels", labels),
					GCP_CLIENT_MAX_REQUEST, &p.body)) != 0)
			goto out;
		if ((rc = gcp_client_run(x->c, &p, 1, err)) == 0 && p.rc != 0)
			rc = item_fail(x, it, &p);
		else if (rc == 0)
			it->adopted = 1;
		gcp_call_clear(&p);
		if (rc != 0 || it->state == GP_DONE)
			goto out;
	}
	it->state = GP_OWNED;
	it->creates = 1;
out:
	gcp_call_clear(&g);
	return rc;
}

static int create_round(struct gp_ctx *x, struct err_ctx *err)
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
		struct gp_item *it = &x->it[i];
		char q[300];

		if (it->state != GP_NEW)
			continue;
		if (x->job->policy.dry_run) {
			/* ours after all: compared (and reported) by the next round */
			if ((rc = existing(x, it, err)) != 0)
				goto out;
			continue;
		}
		str_fmt(q, sizeof(q), "parameterId=%s", it->d->name);
		set_call(x, &calls[k], "POST", "parameters.create", NULL, NULL, q);
		if ((rc = cloud_json_body(json_pack("{s:s,s:o}", "format", "UNFORMATTED", "labels",
						  gcp_owner_labels(x->ns, x->name, "config")),
					GCP_CLIENT_MAX_REQUEST, &calls[k].body)) != 0)
			goto out;
		it->creates++;
		who[k++] = i;
	}
	if (k == 0 || (rc = gcp_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k && rc == 0; j++) {
		struct gp_item *it = &x->it[who[j]];

		if (calls[j].rc == 0) {
			it->created = 1;
			it->maxn = 0;
			it->has_version = 0;
			it->state = GP_WRITE;
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

static int write_round(struct gp_ctx *x, struct err_ctx *err)
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
		struct gp_item *it = &x->it[i];
		struct secbuf *b64 = NULL;
		char q[64];

		if (it->state != GP_WRITE)
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
		str_fmt(q, sizeof(q), "parameterVersionId=v%lu", it->maxn + 1);
		set_call(x, &calls[k], "POST", "versions.create", it->d->name, "/versions", q);
		if ((rc = b64_encode_secret(it->d->value->data, it->d->value->len, 0, &b64)) != 0)
			goto out;
		rc = cloud_json_body(
		    json_pack("{s:{s:s%}}", "payload", "data", (const char *)b64->data, b64->len),
		    GCP_CLIENT_MAX_REQUEST, &calls[k].body);
		secbuf_free(b64);
		if (rc != 0)
			goto out;
		it->writes++;
		who[k++] = i;
	}
	if (rc != 0 || k == 0 || (rc = gcp_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k && rc == 0; j++) {
		struct gp_item *it = &x->it[who[j]];

		if (calls[j].rc == 0) {
			rc = item_done(x, it, ITEM_WRITTEN,
				       it->created   ? "created"
				       : it->adopted ? "adopted; new version"
						     : "new version");
		} else if ((calls[j].rc == ERR_CONFLICT || calls[j].status >= 500 ||
			    calls[j].status == 0) &&
			   it->writes < GCP_PM_MAX_ROUNDS - 1) {
			/* the id exists (a retried create that had landed, or a racing writer):
			 * read back before writing again */
			log_debug("gcp.verify", "versions.create %s: %s, reading back", it->d->name,
				  calls[j].code);
			it->verify = 1;
			it->state = GP_OWNED;
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

/* ---------- 5. prune ---------- */

static int prune_one(struct gp_ctx *x, struct gp_remote *r, int del, char *reason, size_t rsz,
		     enum item_outcome *o, struct err_ctx *err)
{
	struct gcp_call l, *calls = NULL;
	json_t *vs, *v;
	size_t i, k = 0, nv;
	int rc;

	*o = ITEM_FAILED;
	set_call(x, &l, "GET", "versions.list", r->id, "/versions", "pageSize=1000");
	if ((rc = gcp_client_run(x->c, &l, 1, err)) != 0)
		goto out;
	if (l.rc != 0) {
		gcp_call_reason(&l, reason, rsz);
		goto out;
	}
	vs = json_object_get(l.json, "parameterVersions");
	nv = json_array_size(vs);
	if ((calls = xcalloc(nv ? nv : 1, sizeof(*calls))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	json_array_foreach(vs, i, v)
	{
		const char *vid = vid_of(v);
		char suffix[VID_MAX + 16];

		if (vid == NULL || strlen(vid) >= VID_MAX || strpbrk(vid, "/?#%&") != NULL)
			continue;
		if (!del && json_is_true(json_object_get(v, "disabled")))
			continue;
		str_fmt(suffix, sizeof(suffix), "/versions/%s", vid);
		if (del) {
			set_call(x, &calls[k], "DELETE", "versions.delete", r->id, suffix, NULL);
		} else {
			set_call(x, &calls[k], "PATCH", "versions.patch", r->id, suffix,
				 "updateMask=disabled");
			if ((rc = cloud_json_body(json_pack("{s:b}", "disabled", 1),
						GCP_CLIENT_MAX_REQUEST, &calls[k].body)) != 0)
				goto out;
		}
		k++;
	}
	if (k > 0 && (rc = gcp_client_run(x->c, calls, k, err)) != 0)
		goto out;
	for (size_t j = 0; j < k; j++) {
		if (calls[j].rc != 0 && !(del && calls[j].rc == ERR_NOTFOUND)) {
			gcp_call_reason(&calls[j], reason, rsz);
			goto out;
		}
	}
	if (del) {
		struct gcp_call d;

		set_call(x, &d, "DELETE", "parameters.delete", r->id, NULL, NULL);
		if ((rc = gcp_client_run(x->c, &d, 1, err)) != 0)
			goto out;
		if (d.rc != 0 && d.rc != ERR_NOTFOUND) {
			gcp_call_reason(&d, reason, rsz);
			gcp_call_clear(&d);
			goto out;
		}
		gcp_call_clear(&d);
		str_copy(reason, rsz, "left Git; deleted");
	} else {
		str_fmt(reason, rsz,
			k ? "left Git; %zu version(s) disabled" : "left Git; already disabled", k);
	}
	*o = ITEM_PRUNED;
out:
	if (calls != NULL)
		calls_clear(calls, k);
	free(calls);
	gcp_call_clear(&l);
	return rc;
}

static int prune(struct gp_ctx *x, struct err_ctx *err)
{
	const struct job_policy *p = &x->job->policy;
	int rc = 0;

	for (size_t i = 0; i < x->nremote && rc == 0; i++) {
		struct gp_remote *r = &x->remote[i];
		enum item_outcome o;
		char reason[600];

		if (r->mine != 1 || r->wanted)
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
		if ((rc = prune_one(x, r, p->deletion == JOB_DELETION_DELETE, reason,
				    sizeof(reason), &o, err)) != 0)
			break;
		rc = report(x, r->id, NULL, o, reason);
	}
	return rc;
}

/* ---------- the sync ---------- */

int gcp_params_sync(struct gcp_client *c, const struct job *job, const struct desired *items,
		    size_t n, struct report *rep, struct err_ctx *err)
{
	struct gp_ctx x = {.c = c,
			   .job = job,
			   .rep = rep,
			   .project = gcp_client_project(c),
			   .location = gcp_params_location(job),
			   .ns = job->config.ns,
			   .name = job->config.name};
	int rc;

	if (x.location == NULL)
		return err_set(err, ERR_INVAL, "gcp: provider.gcp.location is not a location id");
	if (n > 0 && (x.it = xcalloc(n, sizeof(*x.it))) == NULL)
		return ERR_NOMEM;
	x.n = n;
	if ((rc = list_owned(&x, err)) != 0)
		goto out;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct gp_item *it = &x.it[i];
		struct gp_remote *r;

		it->d = &items[i];
		if (!gcp_secrets_valid_name(items[i].name) || strlen(items[i].name) > 63) {
			rc = item_done(&x, it, ITEM_FAILED,
				       "not a valid Parameter Manager parameter id");
			continue;
		}
		if (items[i].value == NULL || items[i].value->len > GCP_PM_MAX_VALUE) {
			rc = item_done(&x, it, ITEM_FAILED, "value is larger than 1 MiB");
			continue;
		}
		r = find_remote(&x, items[i].name);
		if (r != NULL && r->mine == -1) {
			char reason[300];

			str_fmt(reason, sizeof(reason), "exists and is owned by %s", r->other);
			rc = item_done(&x, it, ITEM_REFUSED, reason);
			continue;
		}
		if (r != NULL)
			r->wanted = 1;
		it->state = r != NULL ? GP_OWNED : GP_NEW;
	}
	for (int round = 0; round < GCP_PM_MAX_ROUNDS && rc == 0; round++) {
		int pending = 0;

		if ((rc = versions_round(&x, err)) != 0 || (rc = read_round(&x, err)) != 0 ||
		    (rc = create_round(&x, err)) != 0 || (rc = write_round(&x, err)) != 0)
			break;
		for (size_t i = 0; i < n; i++)
			pending += x.it[i].state != GP_DONE;
		if (pending == 0)
			break;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (x.it[i].state != GP_DONE)
			rc = item_done(&x, &x.it[i], ITEM_FAILED,
				       "versions.create: no answer after repeated tries");
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
