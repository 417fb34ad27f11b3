/* aws_ssm.c — Parameter Store sync (see aws_ssm.h). */
#include "syncer/providers/aws/aws_ssm.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/str.h"
#include "common/xmalloc.h"

struct ssm_remote {
	char *name;
	struct secbuf *value; /* current value (may be NULL when only described) */
	char *type;
	int owned, listed, wanted;
};

struct ssm_ctx {
	struct aws_client *c;
	const struct job *job;
	const char *owner;
	struct report *rep;
	const char *type;
	char *base;
	struct ssm_remote *r;
	size_t nr, capr;
};

char *aws_ssm_base_path(const struct job *job)
{
	return aws_ssm_item_base(job, job->naming.prefix);
}

char *aws_ssm_item_base(const struct job *job, const char *item_prefix)
{
	const char *pp = job->configs.parameter_path;
	struct buf b;
	char *out;

	buf_init(&b, AWS_SSM_MAX_NAME);
	if (pp != NULL && pp[0] != '\0') {
		if ((pp[0] != '/' && buf_put_u8(&b, '/') != 0) || buf_put_str(&b, pp) != 0)
			goto fail;
	} else {
		const char *prefix = item_prefix, *env = job->mode.environment;

		if ((prefix != NULL && prefix[0] && buf_printf(&b, "/%s", prefix) != 0) ||
		    (env != NULL && env[0] && buf_printf(&b, "/%s", env) != 0))
			goto fail;
	}
	while (b.len > 0 && b.data[b.len - 1] == '/')
		b.len--;
	if (buf_cstr(&b) != 0)
		goto fail;
	if (b.len == 0) {
		buf_free(&b);
		return xstrdup("");
	}
	out = (char *)buf_steal(&b, NULL);
	return out;
fail:
	buf_free(&b);
	return NULL;
}

static int valid_param_name(const char *n)
{
	size_t l = strlen(n);

	if (l == 0 || l > AWS_SSM_MAX_NAME || strstr(n, "//") != NULL)
		return 0;
	for (; *n; n++) {
		char ch = *n;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      strchr("_.-/", ch) != NULL))
			return 0;
	}
	return 1;
}

static struct ssm_remote *find(struct ssm_ctx *x, const char *name, int create)
{
	struct ssm_remote *r;

	for (size_t i = 0; i < x->nr; i++) {
		if (strcmp(x->r[i].name, name) == 0)
			return &x->r[i];
	}
	if (!create)
		return NULL;
	if (x->nr == x->capr) {
		size_t nc = x->capr ? x->capr * 2 : 64;
		struct ssm_remote *p = xreallocarray(x->r, nc, sizeof(*p));

		if (p == NULL)
			return NULL;
		x->r = p;
		x->capr = nc;
	}
	r = &x->r[x->nr];
	memset(r, 0, sizeof(*r));
	if ((r->name = xstrdup(name)) == NULL)
		return NULL;
	x->nr++;
	return r;
}

static int report(struct ssm_ctx *x, const char *name, const char *key, enum item_outcome o,
		  const char *reason)
{
	return report_add(x->rep, name, key, ITEM_CONFIG, o, reason);
}

static void call_reason(const struct aws_call *call, char *dst, size_t dsz)
{
	int echo = strstr(call->code, "Validation") != NULL;

	if (call->rc == ERR_PERM)
		str_fmt(dst, dsz, "%s on %s denied (%s)", call->action, call->name, call->code);
	else
		str_fmt(dst, dsz, "%s: %s%s%s", call->action, call->code,
			(!echo && call->message[0]) ? ": " : "", echo ? "" : call->message);
}

/* One paginated listing under path: DescribeParameters (owned) or GetParametersByPath
 * (values). */
static int list(struct ssm_ctx *x, int describe, const char *path, struct err_ctx *err)
{
	char *next = NULL;
	int rc = 0;

	for (size_t page = 0; page < AWS_SSM_MAX_PAGES; page++) {
		struct aws_call call = {.svc = AWS_SVC_SSM, .name = path};
		json_t *req, *arr, *e, *nt;
		size_t i;

		if (describe) {
			call.action = "DescribeParameters";
			req = json_pack("{s:[{s:s,s:[s]},{s:s,s:s,s:[s]}],s:i}", "ParameterFilters",
					"Key", "tag:" PROVIDER_OWNER_KEY, "Values", x->owner, "Key",
					"Path", "Option", "Recursive", "Values",
					path[0] ? path : "/", "MaxResults",
					AWS_SSM_PAGE_DESCRIBE);
		} else {
			call.action = "GetParametersByPath";
			req = json_pack("{s:s,s:b,s:b,s:i}", "Path", path[0] ? path : "/",
					"Recursive", 1, "WithDecryption", 1, "MaxResults",
					AWS_SSM_PAGE_BY_PATH);
		}
		if (req != NULL && next != NULL)
			json_object_set_new(req, "NextToken", json_string(next));
		free(next);
		next = NULL;
		if ((rc = aws_json_body(req, &call.body)) != 0)
			return rc;
		if ((rc = aws_client_call(x->c, &call, err)) != 0) {
			aws_call_clear(&call);
			return rc;
		}
		arr = json_object_get(call.json, "Parameters");
		json_array_foreach(arr, i, e) {
			const char *name = json_string_value(json_object_get(e, "Name"));
			const char *type = json_string_value(json_object_get(e, "Type"));
			json_t *v = json_object_get(e, "Value");
			struct ssm_remote *r;

			if (name == NULL)
				continue;
			if ((r = find(x, name, 1)) == NULL) {
				rc = ERR_NOMEM;
				break;
			}
			if (describe) {
				r->owned = 1;
			} else {
				r->listed = 1;
				secbuf_free(r->value);
				r->value = NULL;
				if (json_is_string(v) &&
				    (rc = secbuf_from(&r->value, json_string_value(v),
						      json_string_length(v))) != 0)
					break;
				free(r->type);
				r->type = type ? xstrdup(type) : NULL;
			}
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
	return err_set(err, ERR_TOOBIG, "aws: too many parameter pages under %s", path);
}

static json_t *owner_tags(const char *owner)
{
	return json_pack("[{s:s,s:s},{s:s,s:s}]", "Key", PROVIDER_MANAGED_BY_KEY, "Value",
			 PROVIDER_MANAGED_BY_VALUE, "Key", PROVIDER_OWNER_KEY, "Value", owner);
}

struct ssm_plan {
	const struct desired *d;
	char *name;
	char *base; /* the parameter path this item lives under */
	int dup;    /* another item maps to the same parameter name */
	int action; /* 0 nothing, 1 create, 2 overwrite, 3 adopt+overwrite, 4 adopt only */
};

static int plan_cmp_name(const void *a, const void *b)
{
	const struct ssm_plan *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int plan_cmp_base(const void *a, const void *b)
{
	const struct ssm_plan *const *x = a, *const *y = b;

	return strcmp((*x)->base, (*y)->base);
}

/* Names every item (<base>/<key>, base per item's prefix), marks items sharing a name, and
 * reads the current values under each distinct base once. */
static int plan_names_and_values(struct ssm_ctx *x, const struct desired *items, size_t n,
				 struct ssm_plan *plan, struct err_ctx *err)
{
	struct ssm_plan **byname = xcalloc(n ? n : 1, sizeof(*byname));
	int rc = 0;

	if (byname == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *key = items[i].key ? items[i].key : items[i].name;
		const char *jp = x->job->naming.prefix;

		plan[i].d = &items[i];
		if ((plan[i].base = aws_ssm_item_base(x->job, jp && jp[0] ? jp : items[i].prefix)) ==
			NULL ||
		    (plan[i].name = str_path_join(plan[i].base[0] ? plan[i].base : "/", key)) ==
			NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
		byname[i] = &plan[i];
	}
	qsort(byname, n, sizeof(*byname), plan_cmp_name);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(byname[i - 1]->name, byname[i]->name) == 0)
			byname[i - 1]->dup = byname[i]->dup = 1;
	}
	/* one GetParametersByPath listing per distinct base */
	qsort(byname, n, sizeof(*byname), plan_cmp_base);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(byname[i - 1]->base, byname[i]->base) == 0)
			continue;
		if ((rc = list(x, 0, byname[i]->base, err)) != 0)
			goto out;
	}
out:
	free(byname);
	return rc;
}

int aws_ssm_sync(struct aws_client *c, const struct job *job, const char *owner,
		 const struct desired *items, size_t n, struct report *rep, struct err_ctx *err)
{
	struct ssm_ctx x = {.c = c, .job = job, .owner = owner, .rep = rep};
	struct ssm_plan *plan = NULL;
	struct aws_call *calls = NULL;
	size_t *who = NULL, k = 0, ncalls;
	int rc;

	x.type = (job->configs.store != NULL && strcasecmp(job->configs.store, "SecureString") == 0)
			 ? "SecureString"
			 : "String";
	/* what this config owns: under parameterPath, under /{prefix}/{env} with a job prefix;
	 * with per-service prefixes (raw mode without a prefix) anywhere, by the owner tag */
	if ((job->configs.parameter_path != NULL && job->configs.parameter_path[0] != '\0') ||
	    (job->naming.prefix != NULL && job->naming.prefix[0] != '\0'))
		x.base = aws_ssm_base_path(job);
	else
		x.base = xstrdup("");
	if (x.base == NULL)
		return ERR_NOMEM;
	if ((plan = xcalloc(n ? n : 1, sizeof(*plan))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if ((rc = list(&x, 1, x.base, err)) != 0 ||
	    (rc = plan_names_and_values(&x, items, n, plan, err)) != 0)
		goto out;
	ncalls = 2 * n + x.nr + 1;
	if ((calls = xcalloc(ncalls, sizeof(*calls))) == NULL ||
	    (who = xcalloc(ncalls, sizeof(*who))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	/* decide */
	for (size_t i = 0; i < n; i++) {
		struct ssm_plan *p = &plan[i];
		struct ssm_remote *r;
		const struct secbuf *v = items[i].value;
		const char *why = NULL;

		if (p->dup)
			why = "two config keys map to this parameter name (give each service its own "
			      "prefix or parameterPath)";
		else if (!valid_param_name(p->name))
			why = "not a valid parameter name";
		if (!valid_param_name(p->name))
			why = "not a valid parameter name";
		else if (v == NULL || v->len == 0 || v->len > AWS_SSM_MAX_VALUE)
			why = "value is empty or larger than 4 KiB";
		else if (!str_utf8_valid((const char *)v->data, v->len))
			why = "Parameter Store holds text only; value is not UTF-8";
		if (why != NULL) {
			if ((rc = report(&x, p->name, items[i].key, ITEM_FAILED, why)) != 0)
				goto out;
			continue;
		}
		r = find(&x, p->name, 0);
		if (r != NULL)
			r->wanted = 1;
		if (r == NULL || (!r->listed && !r->owned)) {
			p->action = 1;
		} else if (!r->owned && !job->policy.adopt_existing) {
			if ((rc = report(&x, p->name, items[i].key, ITEM_REFUSED,
					 "exists without managed-by=" PROVIDER_MANAGED_BY_VALUE
					 " (set adoptExisting to take it over)")) != 0)
				goto out;
		} else {
			int same = r->value != NULL && secbuf_eq(r->value, v) && r->type != NULL &&
				   strcmp(r->type, x.type) == 0;

			if (same && r->owned) {
				rc = report(&x, p->name, items[i].key, ITEM_UNCHANGED, NULL);
			} else if (!same && !job->policy.trigger_update) {
				rc = report(&x, p->name, items[i].key, ITEM_UNCHANGED,
					    "remote value differs; triggerUpdate is off");
			} else {
				p->action = r->owned ? 2 : (same ? 4 : 3);
			}
			if (rc != 0)
				goto out;
		}
		if (p->action != 0 && job->policy.dry_run) {
			static const char *const what[] = {"", "would create", "would overwrite",
							   "would adopt and overwrite", "would adopt"};

			if ((rc = report(&x, p->name, items[i].key, ITEM_WRITTEN, what[p->action])) !=
			    0)
				goto out;
			p->action = 0;
		}
	}
	/* write: tags first for adoptions, then puts */
	for (int phase = 0; phase < 2; phase++) {
		k = 0;
		for (size_t i = 0; i < n; i++) {
			struct ssm_plan *p = &plan[i];
			json_t *req;

			if (p->action == 0)
				continue;
			if (phase == 0) {
				if (p->action < 3)
					continue;
				calls[k] = (struct aws_call){.svc = AWS_SVC_SSM,
							     .action = "AddTagsToResource",
							     .name = p->name};
				req = json_pack("{s:s,s:s,s:o}", "ResourceType", "Parameter",
						"ResourceId", p->name, "Tags", owner_tags(owner));
			} else {
				if (p->action == 4)
					continue;
				calls[k] = (struct aws_call){.svc = AWS_SVC_SSM,
							     .action = "PutParameter",
							     .name = p->name};
				req = json_pack("{s:s,s:s%,s:s}", "Name", p->name, "Value",
						(const char *)p->d->value->data, p->d->value->len,
						"Type", x.type);
				if (req != NULL && p->action == 1)
					json_object_set_new(req, "Tags", owner_tags(owner));
				else if (req != NULL)
					json_object_set_new(req, "Overwrite", json_true());
			}
			if ((rc = aws_json_body(req, &calls[k].body)) != 0)
				goto out;
			who[k++] = i;
		}
		if (k == 0)
			continue;
		if ((rc = aws_client_run(c, calls, k, err)) != 0)
			goto out;
		for (size_t j = 0; j < k; j++) {
			struct ssm_plan *p = &plan[who[j]];
			char reason[400];

			if (calls[j].rc != 0) {
				call_reason(&calls[j], reason, sizeof(reason));
				rc = report(&x, p->name, p->d->key, ITEM_FAILED, reason);
				p->action = 0;
			} else if (phase == 1 || p->action == 4) {
				static const char *const what[] = {"", "created", "overwritten",
								   "adopted; overwritten", "adopted"};

				rc = report(&x, p->name, p->d->key,
					    p->action == 4 ? ITEM_UNCHANGED : ITEM_WRITTEN,
					    what[p->action]);
			}
			aws_call_clear(&calls[j]);
			if (rc != 0)
				goto out;
		}
		k = 0;
	}
	/* prune */
	{
		const struct job_policy *pol = &job->policy;
		json_t *names = NULL;
		size_t in_batch = 0;

		k = 0;
		for (size_t i = 0; i <= x.nr; i++) {
			struct ssm_remote *r = i < x.nr ? &x.r[i] : NULL;
			const char *keep = NULL;

			if (r != NULL && (!r->owned || r->wanted))
				continue;
			if (r != NULL) {
				if (!pol->prune)
					keep = "left Git; prune is off";
				else if (pol->deletion == JOB_DELETION_RETAIN)
					keep = "left Git; deletionPolicy Retain";
				else if (pol->deletion == JOB_DELETION_DISABLE)
					keep = "left Git; Parameter Store has no disabled state, so "
					       "deletionPolicy Disable keeps it";
				if (keep != NULL || pol->dry_run) {
					if ((rc = report(&x, r->name, NULL,
							 keep ? ITEM_RETAINED : ITEM_PRUNED,
							 keep ? keep : "would delete")) != 0)
						goto out;
					continue;
				}
				if (names == NULL && (names = json_array()) == NULL) {
					rc = ERR_NOMEM;
					goto out;
				}
				json_array_append_new(names, json_string(r->name));
				in_batch++;
			}
			if (names != NULL && (in_batch == AWS_SSM_DELETE_BATCH || r == NULL)) {
				calls[k] = (struct aws_call){.svc = AWS_SVC_SSM,
							     .action = "DeleteParameters",
							     .name = x.base};
				if ((rc = aws_json_body(json_pack("{s:o}", "Names", names),
							&calls[k].body)) != 0)
					goto out;
				names = NULL;
				in_batch = 0;
				k++;
			}
		}
		if (k > 0 && (rc = aws_client_run(c, calls, k, err)) != 0)
			goto out;
		for (size_t j = 0; j < k; j++) {
			json_t *del = json_object_get(calls[j].json, "DeletedParameters"), *e;
			json_t *bad = json_object_get(calls[j].json, "InvalidParameters");
			char reason[400];
			size_t i;

			if (calls[j].rc != 0) {
				call_reason(&calls[j], reason, sizeof(reason));
				rc = report(&x, x.base, NULL, ITEM_FAILED, reason);
			}
			json_array_foreach(del, i, e) {
				if (rc == 0 && json_is_string(e))
					rc = report(&x, json_string_value(e), NULL, ITEM_PRUNED,
						    "deleted");
			}
			json_array_foreach(bad, i, e) {
				if (rc == 0 && json_is_string(e))
					rc = report(&x, json_string_value(e), NULL, ITEM_PRUNED,
						    "already gone");
			}
			aws_call_clear(&calls[j]);
			if (rc != 0)
				goto out;
		}
		k = 0;
	}
	rc = 0;
out:
	if (calls != NULL) {
		for (size_t j = 0; j < ncalls; j++)
			aws_call_clear(&calls[j]);
	}
	free(calls);
	free(who);
	if (plan != NULL) {
		for (size_t i = 0; i < n; i++) {
			free(plan[i].name);
			free(plan[i].base);
		}
	}
	free(plan);
	for (size_t i = 0; i < x.nr; i++) {
		free(x.r[i].name);
		free(x.r[i].type);
		secbuf_free(x.r[i].value);
	}
	free(x.r);
	free(x.base);
	return rc;
}
