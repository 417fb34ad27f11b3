/* workqueue.c — de-duplicating, rate-limited, delaying queue of reconcile keys. */
#include "watcher/workqueue.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"

#define NEVER INT64_MAX

struct wq_entry {
	char *key;
	int64_t ready_at;   /* NEVER: not queued */
	int64_t pending_at; /* added while processing: queued at done; NEVER: none */
	uint64_t seq;       /* FIFO order among equal ready times */
	unsigned failures;
	bool processing;
};

struct workqueue {
	struct wq_entry *e;
	size_t n, cap;
	uint64_t seq;
	unsigned qps, burst;
	double tokens;
	int64_t refilled_at; /* ms of the last refill, -1 before the first get */
};

int workqueue_new(unsigned qps, unsigned burst, struct workqueue **out)
{
	struct workqueue *q = xcalloc(1, sizeof(*q));

	if (q == NULL)
		return ERR_NOMEM;
	q->qps = qps ? qps : WORKQUEUE_DEFAULT_QPS;
	q->burst = burst ? burst : 1;
	q->tokens = q->burst;
	q->refilled_at = -1;
	*out = q;
	return 0;
}

void workqueue_free(struct workqueue *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < q->n; i++)
		free(q->e[i].key);
	free(q->e);
	free(q);
}

static struct wq_entry *find(const struct workqueue *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++) {
		if (strcmp(q->e[i].key, key) == 0)
			return &q->e[i];
	}
	return NULL;
}

static int entry(struct workqueue *q, const char *key, struct wq_entry **out)
{
	struct wq_entry *e = find(q, key);

	if (e == NULL) {
		if (strlen(key) > WORKQUEUE_MAX_KEY)
			return ERR_INVAL;
		if (q->n >= WORKQUEUE_MAX_KEYS)
			return ERR_TOOBIG;
		if (q->n == q->cap) {
			size_t cap = q->cap ? q->cap * 2 : 16;
			struct wq_entry *ne = xreallocarray(q->e, cap, sizeof(*ne));

			if (ne == NULL)
				return ERR_NOMEM;
			q->e = ne;
			q->cap = cap;
		}
		e = &q->e[q->n];
		memset(e, 0, sizeof(*e));
		if ((e->key = xstrdup(key)) == NULL)
			return ERR_NOMEM;
		e->ready_at = NEVER;
		e->pending_at = NEVER;
		q->n++;
	}
	*out = e;
	return 0;
}

/* Drops entries that carry no state any more (bounded memory). */
static void gc(struct workqueue *q, struct wq_entry *e)
{
	if (e->processing || e->ready_at != NEVER || e->pending_at != NEVER || e->failures != 0)
		return;
	free(e->key);
	*e = q->e[--q->n];
}

int workqueue_add_at(struct workqueue *q, const char *key, int64_t at_ms)
{
	struct wq_entry *e;
	int rc;

	if ((rc = entry(q, key, &e)) != 0)
		return rc;
	if (e->processing) {
		if (at_ms < e->pending_at)
			e->pending_at = at_ms;
		return 0;
	}
	if (at_ms < e->ready_at) {
		e->ready_at = at_ms;
		e->seq = ++q->seq;
	}
	return 0;
}

int workqueue_add(struct workqueue *q, const char *key, int64_t now_ms)
{
	return workqueue_add_at(q, key, now_ms);
}

int workqueue_add_backoff(struct workqueue *q, const char *key, int64_t now_ms,
			  int64_t *delay_ms)
{
	struct wq_entry *e;
	int64_t d = WORKQUEUE_BACKOFF_MIN_MS;
	int rc;

	if ((rc = entry(q, key, &e)) != 0)
		return rc;
	if (e->failures < 1000)
		e->failures++;
	for (unsigned i = 1; i < e->failures && d < WORKQUEUE_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > WORKQUEUE_BACKOFF_MAX_MS)
		d = WORKQUEUE_BACKOFF_MAX_MS;
	if (delay_ms != NULL)
		*delay_ms = d;
	return workqueue_add_at(q, key, now_ms + d);
}

void workqueue_forget(struct workqueue *q, const char *key)
{
	struct wq_entry *e = find(q, key);

	if (e != NULL) {
		e->failures = 0;
		gc(q, e);
	}
}

unsigned workqueue_failures(const struct workqueue *q, const char *key)
{
	const struct wq_entry *e = find(q, key);

	return e ? e->failures : 0;
}

void workqueue_drop(struct workqueue *q, const char *key)
{
	struct wq_entry *e = find(q, key);

	if (e == NULL)
		return;
	e->ready_at = NEVER;
	e->pending_at = NEVER;
	e->failures = 0;
	gc(q, e);
}

static void refill(struct workqueue *q, int64_t now_ms)
{
	if (q->refilled_at < 0 || now_ms < q->refilled_at) {
		q->refilled_at = now_ms;
		return;
	}
	q->tokens += (double)(now_ms - q->refilled_at) * q->qps / 1000.0;
	if (q->tokens > q->burst)
		q->tokens = q->burst;
	q->refilled_at = now_ms;
}

static struct wq_entry *earliest(const struct workqueue *q)
{
	struct wq_entry *best = NULL;

	for (size_t i = 0; i < q->n; i++) {
		struct wq_entry *e = &q->e[i];

		if (e->processing || e->ready_at == NEVER)
			continue;
		if (best == NULL || e->ready_at < best->ready_at ||
		    (e->ready_at == best->ready_at && e->seq < best->seq))
			best = e;
	}
	return best;
}

int workqueue_get(struct workqueue *q, int64_t now_ms, const char **key)
{
	struct wq_entry *e = earliest(q);

	if (e == NULL || e->ready_at > now_ms)
		return ERR_NOTFOUND;
	refill(q, now_ms);
	if (q->tokens < 1.0)
		return ERR_LOCKED;
	q->tokens -= 1.0;
	e->processing = true;
	e->ready_at = NEVER;
	*key = e->key;
	return 0;
}

void workqueue_done(struct workqueue *q, const char *key)
{
	struct wq_entry *e = find(q, key);

	if (e == NULL || !e->processing)
		return;
	e->processing = false;
	if (e->pending_at != NEVER) {
		e->ready_at = e->pending_at;
		e->pending_at = NEVER;
		e->seq = ++q->seq;
	}
	gc(q, e);
}

int64_t workqueue_next_ms(const struct workqueue *q, int64_t now_ms)
{
	const struct wq_entry *e = earliest(q);
	int64_t d;

	if (e == NULL)
		return -1;
	d = e->ready_at > now_ms ? e->ready_at - now_ms : 0;
	if (d == 0 && q->tokens < 1.0 && q->qps > 0) {
		int64_t wait = (int64_t)((1.0 - q->tokens) * 1000.0 / q->qps) + 1;

		return wait;
	}
	return d;
}

size_t workqueue_len(const struct workqueue *q)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n; i++) {
		if (q->e[i].processing || q->e[i].ready_at != NEVER)
			n++;
	}
	return n;
}

int workqueue_queued(const struct workqueue *q, const char *key)
{
	const struct wq_entry *e = find(q, key);

	return e != NULL && e->ready_at != NEVER;
}

int64_t workqueue_jitter_ms(int64_t base_ms, uint32_t rnd)
{
	if (base_ms <= 0)
		return 0;
	return base_ms + (int64_t)((double)base_ms * 0.1 * ((double)rnd / 4294967296.0));
}
