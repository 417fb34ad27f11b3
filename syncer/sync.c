/* sync.c — the syncer core (see sync.h). */
#include "syncer/sync.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "syncer/naming.h"

struct sync_item {
	struct desired d;    /* d.name owned */
	const char *origin;  /* borrowed, may be NULL */
};

struct sync_set {
	struct sync_item *items;
	struct desired *desired; /* the items in name order, borrowing their strings */
	size_t n;
};

static void sync_set_free(struct sync_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free((char *)s->items[i].d.name);
	free(s->items);
	free(s->desired);
	memset(s, 0, sizeof(*s));
}

static int sync_cmp_item(const void *a, const void *b)
{
	const struct sync_item *x = a, *y = b;
	int c = strcmp(x->d.name, y->d.name);

	if (c != 0)
		return c;
	return strcmp(x->d.key, y->d.key);
}

static const char *sync_kind_str(enum item_kind kind)
{
	return kind == ITEM_CONFIG ? "config" : "secret";
}

/* Names every kv of l; ERR_CONFLICT when two keys map to one name. */
static int sync_name_all(const struct job *job, const struct kvlist *l, enum item_kind kind,
			 struct sync_set *out, struct err_ctx *err)
{
	const char *jprefix = job->naming.prefix, *suffix = job->naming.suffix;
	struct sync_set s = {0};
	size_t i;
	int rc;

	if (l->n > KVLIST_MAX_ITEMS)
		return err_set(err, ERR_TOOBIG, "more than %d %s keys", KVLIST_MAX_ITEMS,
			       sync_kind_str(kind));
	s.items = xcalloc(l->n ? l->n : 1, sizeof(*s.items));
	s.desired = xcalloc(l->n ? l->n : 1, sizeof(*s.desired));
	if (s.items == NULL || s.desired == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < l->n; i++) {
		const struct kv *kv = &l->items[i];
		const char *prefix = (jprefix != NULL && *jprefix != '\0') ? jprefix
				     : kv->group != NULL			? kv->group
										: "";
		char *name = NULL;

		if (kv->key == NULL || kv->value == NULL) {
			rc = err_set(err, ERR_INVAL, "%s item %zu has no key or value",
				     sync_kind_str(kind), i);
			goto out;
		}
		if ((rc = naming_remote_name(job->provider.kind, prefix, kv->key, suffix, &name,
					     err)) != 0) {
			err_wrap(err, rc, "%s", sync_kind_str(kind));
			goto out;
		}
		s.items[s.n].d.name = name;
		s.items[s.n].d.key = kv->key;
		s.items[s.n].d.value = kv->value;
		s.items[s.n].d.prefix = prefix;
		s.items[s.n].origin = kv->origin;
		s.n++;
	}
	qsort(s.items, s.n, sizeof(*s.items), sync_cmp_item);
	for (i = 0; i < s.n; i++) {
		if (i > 0 && strcmp(s.items[i - 1].d.name, s.items[i].d.name) == 0) {
			const struct sync_item *a = &s.items[i - 1], *b = &s.items[i];

			rc = err_set(err, ERR_CONFLICT,
				     "%s keys '%.200s' (%.200s) and '%.200s' (%.200s) both map to the "
				     "remote name '%.200s'",
				     sync_kind_str(kind), a->d.key, a->origin ? a->origin : "?",
				     b->d.key, b->origin ? b->origin : "?", a->d.name);
			goto out;
		}
		s.desired[i] = s.items[i].d;
	}
	*out = s;
	memset(&s, 0, sizeof(s));
	rc = 0;
out:
	sync_set_free(&s);
	return rc;
}

/* Appends every item of from (or only the failed ones) to to. */
static int sync_append(struct report *to, const struct report *from, bool only_failed)
{
	int rc;

	for (size_t i = 0; i < from->n; i++) {
		const struct result_item *it = &from->items[i];

		if (only_failed && it->outcome != ITEM_FAILED)
			continue;
		rc = report_add(to, it->name, it->key, (enum item_kind)it->kind,
				(enum item_outcome)it->outcome, it->reason);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The credentials to give the provider: NULL when the job names no Secret; ERR_NOKEY when
 * it does and creds are missing or belong to another job or provider. */
static int sync_creds(const struct job *job, const struct msg_credentials *creds,
		      const struct msg_credentials **out, struct err_ctx *err)
{
	const char *sn = job->provider.secret_name;

	*out = NULL;
	if (sn == NULL || sn[0] == '\0')
		return 0;
	if (creds == NULL || creds->job_id != job->id || creds->provider == NULL ||
	    job->provider.kind == NULL || strcmp(creds->provider, job->provider.kind) != 0)
		return err_set(err, ERR_NOKEY,
			       "spec.provider.%s.auth.secretName: the credentials of Secret %s "
			       "did not reach the syncer (they are read in cluster mode only)",
			       job->provider.kind ? job->provider.kind : "?", sn);
	*out = creds;
	return 0;
}

int sync_run_ops(const struct provider_ops *ops, const struct msg_values *v,
		 const struct msg_credentials *creds, struct report *rep, struct err_ctx *err)
{
	const struct job *job = &v->job;
	struct sync_set secrets = {0}, configs = {0};
	struct report got;
	void *st = NULL;
	bool began = false;
	size_t failed = 0, i;
	int rc;

	report_init(&got);
	if (ops == NULL)
		return err_set(err, ERR_UNSUPPORTED, "no provider for kind '%.64s'",
			       job->provider.kind ? job->provider.kind : "");
	if ((rc = sync_name_all(job, &v->secrets, ITEM_SECRET, &secrets, err)) != 0)
		goto out;
	if (job->configs.enabled &&
	    (rc = sync_name_all(job, &v->configs, ITEM_CONFIG, &configs, err)) != 0)
		goto out;

	if ((rc = sync_creds(job, creds, &creds, err)) != 0)
		goto out;
	if ((rc = ops->open(job, creds, &st, err)) != 0)
		goto out;
	if ((rc = ops->begin(st, err)) != 0)
		goto out;
	began = true;
	if ((rc = ops->sync(st, job, ITEM_SECRET, secrets.desired, secrets.n, &got, err)) != 0)
		goto out;
	if (job->configs.enabled &&
	    (rc = ops->sync(st, job, ITEM_CONFIG, configs.desired, configs.n, &got, err)) != 0)
		goto out;
	for (i = 0; i < got.n; i++) {
		if (got.items[i].outcome == ITEM_FAILED)
			failed++;
	}
	if (failed > 0) {
		for (i = 0; got.items[i].outcome != ITEM_FAILED; i++)
			;
		rc = err_set(err, ERR_REMOTE, "%zu item(s) failed, %s; first: %s %.200s: %.200s",
			     failed,
			     ops->transactional ? "nothing was written"
						: "the other items were written (see items)",
			     sync_kind_str((enum item_kind)got.items[i].kind),
			     got.items[i].name, got.items[i].reason ? got.items[i].reason : "?");
		(void)sync_append(rep, &got, true);
		goto out;
	}
	began = false;
	if ((rc = ops->commit(st, err)) != 0)
		goto out;
	if (rep->n == 0) {
		report_free(rep);
		*rep = got;
		report_init(&got);
	} else if ((rc = sync_append(rep, &got, false)) != 0) {
		err_set(err, rc, "cannot record the report");
		goto out;
	}
	rc = 0;
out:
	if (began)
		ops->rollback(st);
	if (st != NULL)
		ops->close(st);
	report_free(&got);
	sync_set_free(&secrets);
	sync_set_free(&configs);
	return rc;
}

int sync_run(const struct msg_values *v, const struct msg_credentials *creds, struct report *rep,
	     struct err_ctx *err)
{
	return sync_run_ops(provider_find(v->job.provider.kind), v, creds, rep, err);
}
