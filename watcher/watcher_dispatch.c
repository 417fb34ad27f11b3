/* watcher_dispatch.c — permit table and handlers of the watcher.
 *
 *   from        message   action
 *   supervisor  RUN       load the config file, send JOB to the fetcher
 *   fetcher     RESULT    a fetch failure: forward to the supervisor
 *   decryptor   RESULT    a decrypt failure: forward to the supervisor
 *   syncer      RESULT    the job's outcome: forward to the supervisor
 *   supervisor  EDGE      a stage restarted (socket installed by peer_serve): the running
 *                         job is lost and reported as failed
 * (msg.def already refuses anything else on these edges.) */
#include "watcher/watcher_dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/smconfig.h"
#include "common/str.h"
#include "proto/fds.h"

static int on_run(struct watcher *w, const struct msg_run *run)
{
	struct smconfig cfg;
	struct err_ctx err = {{0}};
	struct msg m;
	int rc;

	if (w->running_job != 0) {
		log_warn("job.busy", "a job is still running; this run is skipped");
		return 0;
	}
	if ((rc = smconfig_load_file(run->config_path, &cfg, &err)) != 0) {
		log_error("config.invalid", "%s", err.msg);
		return peer_send_failure(FD_SUPERVISOR, NULL, "", "config", rc, err.msg);
	}
	if (cfg.job.provider.secret_name[0] != '\0') {
		/* the Secret lives in a cluster; one-shot runs use the syncer's own identity */
		(void)err_set(&err, ERR_INVAL,
			      "%s: spec.provider.%s.auth.secretName: Secrets are read by smcd "
			      "--cluster only; without a cluster drop it and give the syncer "
			      "credentials through its environment",
			      run->config_path, cfg.job.provider.kind);
		log_error("config.invalid", "%s", err.msg);
		smconfig_free(&cfg);
		return peer_send_failure(FD_SUPERVISOR, NULL, "", "config", ERR_INVAL, err.msg);
	}
	cfg.job.id = ++w->next_job_id;
	cfg.job.policy.dry_run = run->dry_run;
	if (w->store != NULL && strcmp(cfg.job.provider.kind, "local") == 0) {
		char *p = strdup(w->store);

		if (p == NULL) {
			smconfig_free(&cfg);
			return ERR_NOMEM;
		}
		free(cfg.job.provider.store_path);
		cfg.job.provider.store_path = p;
	}
	msg_init(&m, MSG_JOB);
	m.u.job.job = cfg.job;
	rc = msg_send(FD_WATCHER_FETCHER, &m);
	if (rc == 0) {
		w->running_job = cfg.job.id;
		(void)str_copy(w->running_ns, sizeof(w->running_ns), cfg.job.config.ns);
		(void)str_copy(w->running_name, sizeof(w->running_name), cfg.job.config.name);
		log_info("job.start", "job %llu for %s/%s", (unsigned long long)cfg.job.id,
			 cfg.job.config.ns, cfg.job.config.name);
	} else {
		log_warn("job.start", "the fetcher is not reachable (restarting?)");
		rc = peer_send_failure(FD_SUPERVISOR, &cfg.job, "", "fetch", ERR_EOF,
				       "the fetcher is restarting; the job will be retried");
	}
	smconfig_free(&cfg);
	return rc;
}

static int on_result(struct watcher *w, const struct peer *from, struct msg *m)
{
	const struct msg_result *r = &m->u.result;

	if (r->job_id != w->running_job) {
		log_warn("job.stale", "result for job %llu from %s ignored (running %llu)",
			 (unsigned long long)r->job_id, msg_role_name(from->role),
			 (unsigned long long)w->running_job);
		return 0;
	}
	w->running_job = 0;
	if (r->code == 0)
		log_info("job.done", "job %llu done at %s", (unsigned long long)r->job_id,
			 r->revision ? r->revision : "");
	else
		log_error("job.failed", "job %llu failed in %s: %s", (unsigned long long)r->job_id,
			  r->stage ? r->stage : "?", r->reason ? r->reason : "");
	return msg_send(FD_SUPERVISOR, m);
}

int watcher_dispatch(void *arg, const struct peer *from, struct msg *m, struct err_ctx *err)
{
	struct watcher *w = arg;

	switch (m->type) {
	case MSG_RUN:
		return on_run(w, &m->u.run);
	case MSG_RESULT:
		return on_result(w, from, m);
	case MSG_EDGE:
		/* a stage was restarted: the job in the pipeline is lost */
		if (w->running_job != 0) {
			struct job lost = {.id = w->running_job,
					   .config = {.ns = w->running_ns, .name = w->running_name}};

			log_warn("job.lost", "job %llu lost: %s was restarted",
				 (unsigned long long)w->running_job, m->u.edge.peer);
			w->running_job = 0;
			return peer_send_failure(FD_SUPERVISOR, &lost, "", m->u.edge.peer, ERR_EOF,
						 "a pipeline stage was restarted; the job will be "
						 "retried");
		}
		return 0;
	case MSG_TAP_ATTACH:
		return 0;
	default:
		return err_set(err, ERR_PROTO, "watcher has no handler for %s",
			       msg_type_name(m->type));
	}
}
