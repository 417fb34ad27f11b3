/* leader.h — leader election on a coordination.k8s.io/v1 Lease, client-go style: lease
 * 15 s, renew deadline 10 s, retry every 2 s. GET → (404 → POST) → when another holder's
 * renewTime + leaseDuration is still in the future: wait; else PUT with the Lease's
 * resourceVersion (a 409 means another replica won the race). A leader that cannot renew
 * within the renew deadline stops leading. */
#ifndef SMC_LEADER_H
#define SMC_LEADER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "watcher/kube_client.h"

#define LEADER_LEASE_S 15
#define LEADER_RENEW_DEADLINE_S 10
#define LEADER_RETRY_S 2

enum leader_action {
	LEADER_WAIT = 0,    /* someone else holds a valid lease */
	LEADER_ACQUIRE = 1, /* free or expired: take it (PUT, transitions + 1) */
	LEADER_RENEW = 2,   /* ours: renew (PUT) */
};

/* Decides from a Lease object (NULL when it does not exist: acquire by POST) what the
 * candidate `identity` should do at wall time now (seconds). */
enum leader_action leader_decide(const json_t *lease, const char *identity, double now);

/* The Lease body for identity at now (acquire: acquireTime = now, leaseTransitions + 1;
 * renew: acquireTime kept). old may be NULL. Owned result (json_decref). */
json_t *leader_lease_body(const json_t *old, const char *ns, const char *name,
			  const char *identity, double now, enum leader_action action);

/* "2006-01-02T15:04:05.000000Z" of t (MicroTime). */
void leader_format_time(double t, char *buf, size_t size);
/* MicroTime or RFC 3339 → seconds; -1 when malformed. */
double leader_parse_time(const char *s);

struct leader;

/* kc borrowed. Owned out-parameter. */
int leader_new(struct kube_client *kc, const char *ns, const char *name, const char *identity,
	       struct leader **out);
void leader_free(struct leader *l);
/* One try at now_ms (monotonic) if due; returns whether we lead afterwards. */
bool leader_step(struct leader *l, int64_t now_ms, struct err_ctx *err);
bool leader_is_leader(const struct leader *l);
/* ms until the next try. */
int64_t leader_next_ms(const struct leader *l, int64_t now_ms);
/* Gives the lease up (graceful shutdown): renewTime cleared so another replica takes
 * over at once. */
void leader_release(struct leader *l);

#endif
