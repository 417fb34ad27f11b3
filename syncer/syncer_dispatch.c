/* syncer_dispatch.c — permit table and handlers of the syncer.
 *
 *   from       message      action
 *   watcher    CREDENTIALS  keep them for their job (one slot: the watcher runs one job at
 *                           a time and sends them just before its JOB)
 *   decryptor  VALUES       name the items, make the provider mirror them (one unit of
 *                           work per job) with that job's credentials, wipe the
 *                           credentials, RESULT with per-item outcomes to the watcher
 * The only process with cloud credentials; never SOPS keys or the kube token. The
 * watcher's socket is served before the decryptor's (syncer.c), and CREDENTIALS is written
 * before the JOB leaves the watcher, so they are here before that job's VALUES. */
#include "syncer/syncer_dispatch.h"

#include "common/log.h"
#include "proto/fds.h"
#include "syncer/provider.h"
#include "syncer/sync.h"

/* Credentials of the job they were sent for (type MSG_CREDENTIALS when held). */
static struct msg held;

static void held_wipe(void)
{
	msg_free(&held); /* wipes the secret fields */
	msg_init(&held, 0);
}

static int on_credentials(struct msg *m)
{
	held_wipe();
	held = *m; /* taken: the caller's msg_free must not wipe what we keep */
	msg_init(m, MSG_CREDENTIALS);
	return 0;
}

static int on_values(const struct msg_values *v)
{
	const struct msg_credentials *creds =
		held.type == MSG_CREDENTIALS ? &held.u.credentials : NULL;
	struct err_ctx err = {{0}};
	struct report rep;
	struct msg m;
	size_t counts[6] = {0};
	int rc;

	report_init(&rep);
	rc = sync_run(v, creds, &rep, &err);
	/* credentials serve one job: wiped after it (or after a later job, when the job they
	 * were for failed before reaching here); a newer job's are kept for it */
	if (held.type == MSG_CREDENTIALS && held.u.credentials.job_id <= v->job.id)
		held_wipe();
	if (rc != 0) {
		log_warn("sync.failed", "%s/%s: %s", v->job.config.ns, v->job.config.name, err.msg);
		rc = peer_send_failure(FD_SYNCER_WATCHER, &v->job, v->revision, "sync", rc, err.msg);
		goto out;
	}
	for (size_t i = 0; i < rep.n; i++) {
		if (rep.items[i].outcome < 6)
			counts[rep.items[i].outcome]++;
	}
	log_info("sync.done",
		 "%s/%s at %s: %zu written, %zu unchanged, %zu pruned, %zu refused, %zu failed",
		 v->job.config.ns, v->job.config.name, v->revision, counts[ITEM_WRITTEN],
		 counts[ITEM_UNCHANGED], counts[ITEM_PRUNED], counts[ITEM_REFUSED],
		 counts[ITEM_FAILED]);
	msg_init(&m, MSG_RESULT);
	m.u.result.job_id = v->job.id;
	m.u.result.ns = v->job.config.ns;
	m.u.result.name = v->job.config.name;
	m.u.result.code = counts[ITEM_FAILED] || counts[ITEM_REFUSED] ? ERR_REMOTE : 0;
	m.u.result.stage = "sync";
	m.u.result.reason = counts[ITEM_FAILED] || counts[ITEM_REFUSED]
				    ? "some items were refused or failed; see items"
				    : "";
	m.u.result.revision = v->revision;
	m.u.result.items = rep.items;
	m.u.result.nitems = rep.n;
	m.u.result.files = v->files;
	m.u.result.nfiles = v->nfiles;
	rc = msg_send(FD_SYNCER_WATCHER, &m);
out:
	report_free(&rep);
	if (rc != 0) /* the watcher is down: the supervisor restarts it; this process goes on */
		log_warn("edge.down", "could not report job %llu: %s",
			 (unsigned long long)v->job.id, err_str(rc));
	return 0;
}

int syncer_dispatch(void *arg, const struct peer *from, struct msg *m, struct err_ctx *err)
{
	(void)arg;
	(void)from;
	switch (m->type) {
	case MSG_VALUES:
		return on_values(&m->u.values);
	case MSG_CREDENTIALS:
		return on_credentials(m);
	case MSG_TAP_ATTACH:
	case MSG_EDGE:
		return 0;
	default:
		return err_set(err, ERR_PROTO, "syncer has no handler for %s",
			       msg_type_name(m->type));
	}
}
