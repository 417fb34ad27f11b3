/* leader.c — Lease leader election. */
#include "watcher/leader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "watcher/kube_exec.h"

struct leader {
	struct kube_client *kc;
	char *ns, *name, *identity;
	bool leading;
	int64_t next_ms;      /* next try */
	int64_t last_renew_ms; /* last successful renew (monotonic) */
};

void leader_format_time(double t, char *buf, size_t size)
{
	time_t s = (time_t)t; /* t >= 0: truncation is floor */
	long us = (long)((t - (double)s) * 1e6);
	struct tm tm;
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06ldZ", base, us < 0 ? 0 : us > 999999 ? 999999 : us);
}

double leader_parse_time(const char *s)
{
	time_t t;
	const char *dot;
	double frac = 0;

	if (s == NULL || kube_parse_time(s, &t) != 0)
		return -1;
	if ((dot = strchr(s, '.')) != NULL) {
		double scale = 0.1;

		for (const char *p = dot + 1; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	return (double)t + frac;
}

static double wall_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

enum leader_action leader_decide(const json_t *lease, const char *identity, double now)
{
	const json_t *spec = json_object_get(lease, "spec");
	const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
	const json_t *dur = json_object_get(spec, "leaseDurationSeconds");
	double renew = leader_parse_time(json_string_value(json_object_get(spec, "renewTime")));
	double d = json_is_integer(dur) ? (double)json_integer_value(dur) : LEADER_LEASE_S;

	if (lease == NULL)
		return LEADER_ACQUIRE;
	if (holder != NULL && strcmp(holder, identity) == 0)
		return LEADER_RENEW;
	if (holder == NULL || *holder == '\0' || renew < 0 || renew + d <= now)
		return LEADER_ACQUIRE;
	return LEADER_WAIT;
}

json_t *leader_lease_body(const json_t *old, const char *ns, const char *name,
			  const char *identity, double now, enum leader_action action)
{
	const json_t *ospec = json_object_get(old, "spec");
	const json_t *rv = json_object_get(json_object_get(old, "metadata"), "resourceVersion");
	const json_t *tr = json_object_get(ospec, "leaseTransitions");
	const char *acq = json_string_value(json_object_get(ospec, "acquireTime"));
	json_int_t transitions = json_is_integer(tr) ? json_integer_value(tr) : 0;
	char nowbuf[40];
	json_t *body;

	leader_format_time(now, nowbuf, sizeof(nowbuf));
	if (action == LEADER_ACQUIRE) {
		if (old != NULL)
			transitions++;
		acq = nowbuf;
	} else if (acq == NULL) {
		acq = nowbuf;
	}
	body = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s, s:s, s:I}}", "apiVersion",
			 "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", name,
			 "namespace", ns, "spec", "holderIdentity", identity,
			 "leaseDurationSeconds", LEADER_LEASE_S, "acquireTime", acq, "renewTime",
			 nowbuf, "leaseTransitions", transitions);
	if (body != NULL && json_is_string(rv))
		json_object_set(json_object_get(body, "metadata"), "resourceVersion", (json_t *)rv);
	return body;
}

int leader_new(struct kube_client *kc, const char *ns, const char *name, const char *identity,
	       struct leader **out)
{
	struct leader *l = xcalloc(1, sizeof(*l));

	if (l == NULL)
		return ERR_NOMEM;
	l->kc = kc;
	l->ns = xstrdup(ns);
	l->name = xstrdup(name);
	l->identity = xstrdup(identity);
	if (l->ns == NULL || l->name == NULL || l->identity == NULL) {
		leader_free(l);
		return ERR_NOMEM;
	}
	*out = l;
	return 0;
}

void leader_free(struct leader *l)
{
	if (l == NULL)
		return;
	free(l->ns);
	free(l->name);
	free(l->identity);
	free(l);
}

static int lease_path(const struct leader *l, char *buf, size_t size, bool item)
{
	if (item)
		return str_fmt(buf, size, "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s",
			       l->ns, l->name);
	return str_fmt(buf, size, "/apis/coordination.k8s.io/v1/namespaces/%s/leases", l->ns);
}

/* One try: true when we hold the lease afterwards. */
static bool try_acquire_or_renew(struct leader *l, struct err_ctx *err)
{
	char path[1024];
	json_t *lease = NULL, *body = NULL;
	enum leader_action a;
	double now = wall_now();
	bool ok = false;
	int rc;

	if (lease_path(l, path, sizeof(path), true) != 0)
		return false;
	rc = kube_get(l->kc, path, &lease, err);
	if (rc != 0 && rc != ERR_NOTFOUND)
		return false;
	a = leader_decide(rc == ERR_NOTFOUND ? NULL : lease, l->identity, now);
	if (a == LEADER_WAIT)
		goto out;
	body = leader_lease_body(rc == ERR_NOTFOUND ? NULL : lease, l->ns, l->name, l->identity,
				 now, a);
	if (body == NULL)
		goto out;
	if (rc == ERR_NOTFOUND) {
		if (lease_path(l, path, sizeof(path), false) != 0)
			goto out;
		ok = kube_post(l->kc, path, body, NULL, err) == 0;
	} else {
		ok = kube_put(l->kc, path, body, NULL, err) == 0; /* 409: lost the race */
	}
out:
	json_decref(lease);
	json_decref(body);
	return ok;
}

bool leader_step(struct leader *l, int64_t now_ms, struct err_ctx *err)
{
	if (now_ms < l->next_ms)
		return l->leading;
	l->next_ms = now_ms + LEADER_RETRY_S * 1000;
	if (try_acquire_or_renew(l, err)) {
		l->leading = true;
		l->last_renew_ms = now_ms;
	} else if (l->leading && now_ms - l->last_renew_ms >= LEADER_RENEW_DEADLINE_S * 1000) {
		l->leading = false; /* could not renew in time: someone else may take over */
	} else if (l->leading) {
		/* a failed renew inside the deadline: keep leading, retry sooner */
		l->next_ms = now_ms + 500;
	}
	return l->leading;
}

bool leader_is_leader(const struct leader *l)
{
	return l->leading;
}

int64_t leader_next_ms(const struct leader *l, int64_t now_ms)
{
	return l->next_ms > now_ms ? l->next_ms - now_ms : 0;
}

void leader_release(struct leader *l)
{
	char path[1024];
	json_t *lease = NULL;

	if (!l->leading || lease_path(l, path, sizeof(path), true) != 0)
		return;
	if (kube_get(l->kc, path, &lease, NULL) == 0 &&
	    leader_decide(lease, l->identity, wall_now()) == LEADER_RENEW) {
		json_t *spec = json_object_get(lease, "spec");

		json_object_set_new(spec, "holderIdentity", json_string(""));
		json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
		json_object_set_new(spec, "renewTime", json_null());
		json_object_set_new(spec, "acquireTime", json_null());
		(void)kube_put(l->kc, path, lease, NULL, NULL);
	}
	json_decref(lease);
	l->leading = false;
}
