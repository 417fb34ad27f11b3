/* workqueue.h — the reconcile queue (client-go's rate-limited delaying queue, single
 * threaded): keys are de-duplicated, a key being processed is never handed out again
 * until workqueue_done (an add meanwhile is kept and takes effect then), per-key
 * exponential backoff from WORKQUEUE_BACKOFF_MIN_MS to WORKQUEUE_BACKOFF_MAX_MS, delayed
 * adds (reconcileInterval), and a global token bucket on how fast keys are handed out.
 * Time is passed in (monotonic milliseconds) so the logic is testable. */
#ifndef SMC_WORKQUEUE_H
#define SMC_WORKQUEUE_H

#include <stddef.h>
#include <stdint.h>

#define WORKQUEUE_MAX_KEYS 20000        /* distinct keys tracked at once */
#define WORKQUEUE_MAX_KEY 600           /* bytes of one key */
#define WORKQUEUE_BACKOFF_MIN_MS 1000   /* first retry after a failure */
#define WORKQUEUE_BACKOFF_MAX_MS 420000 /* 7 minutes */
#define WORKQUEUE_DEFAULT_QPS 10        /* global rate limit (client-go's default) */
#define WORKQUEUE_DEFAULT_BURST 100

struct workqueue;

/* qps: keys handed out per second on average; burst: bucket size. Owned out-parameter. */
int workqueue_new(unsigned qps, unsigned burst, struct workqueue **out);
void workqueue_free(struct workqueue *q);

/* Queues key to be ready at at_ms (an earlier time already queued wins). A key being
 * processed is queued again when it is done. ERR_TOOBIG past WORKQUEUE_MAX_KEYS. */
int workqueue_add_at(struct workqueue *q, const char *key, int64_t at_ms);
/* workqueue_add_at(now_ms). */
int workqueue_add(struct workqueue *q, const char *key, int64_t now_ms);
/* Counts one more failure of key and queues it after its backoff:
 * min(MIN * 2^(failures-1), MAX). *delay_ms (may be NULL) gets the delay used. */
int workqueue_add_backoff(struct workqueue *q, const char *key, int64_t now_ms,
			  int64_t *delay_ms);
/* Resets key's failure count (after a success). */
void workqueue_forget(struct workqueue *q, const char *key);
unsigned workqueue_failures(const struct workqueue *q, const char *key);
/* Removes a queued (not processing) key altogether. */
void workqueue_drop(struct workqueue *q, const char *key);

/* The next ready key, earliest first (FIFO among equal times), marked processing:
 * 0 and *key (borrowed until workqueue_done), ERR_NOTFOUND when none is ready, ERR_LOCKED
 * when one is ready but the global rate limit says wait. */
int workqueue_get(struct workqueue *q, int64_t now_ms, const char **key);
/* Ends the processing of key (as returned by get). */
void workqueue_done(struct workqueue *q, const char *key);
/* Milliseconds until a key may be ready (0 = now), or -1 when nothing is queued. */
int64_t workqueue_next_ms(const struct workqueue *q, int64_t now_ms);
/* Keys queued or processing. */
size_t workqueue_len(const struct workqueue *q);
/* 1 when key is queued (ready or delayed), not counting processing. */
int workqueue_queued(const struct workqueue *q, const char *key);

/* base_ms plus up to +10 % jitter chosen by rnd (uniform 32-bit). */
int64_t workqueue_jitter_ms(int64_t base_ms, uint32_t rnd);

#endif
