/* decryptor_dispatch.c — permit table and handlers of the decryptor.
 *
 *   from     message  action
 *   fetcher  TREE     map the sealed memfd, find the job's files, decrypt, parse →
 *                     VALUES to the syncer; on failure RESULT (stage "decrypt") to the
 *                     watcher — never a partial VALUES
 * The only process with SOPS keys and no network at all. */
#include "decryptor/decryptor_dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "decryptor/decrypt_file.h"
#include "decryptor/kustomize_mode.h"
#include "decryptor/kustomize_runner.h"
#include "decryptor/raw.h"
#include "proto/fds.h"
#include "proto/tree.h"

static void free_files(struct file_report *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}

/* Produces the desired state of one job from its tree. Kustomize build mode and SOPS
 * decryption plug in here. */
static int desired_state(struct decryptor *d, const struct job *job, const struct tree *t,
			 struct msg_values *v, struct err_ctx *err)
{
	struct decrypt_file_ctx open_ctx = {.kr = d->kr, .ns = job->config.ns};

	if (job->policy.delete_all)
		return 0; /* the config was deleted: nothing is desired any more */
	if (job->mode.kustomize_path != NULL && job->mode.kustomize_path[0] != '\0') {
		if (!kustomize_runner_alive(d->kz))
			return err_set(err, ERR_UNSUPPORTED,
				       "spec.secrets.kustomizePath: the kustomize helper is not "
				       "running (no kustomize or kubectl on PATH?)");
		return kustomize_collect(d->kz, d->kr, job, t, &v->secrets, &v->configs, &v->files,
					 &v->nfiles, err);
	}
	return raw_collect(t, job->mode.base_path, job->mode.environment, decrypt_file_open,
			   &open_ctx, &v->secrets, &v->configs, &v->files, &v->nfiles, err);
}

static int on_tree(struct decryptor *d, struct msg *in)
{
	const struct job *job = &in->u.tree.job;
	struct err_ctx err = {{0}};
	struct tree t;
	struct msg out;
	int rc;

	tree_init(&t);
	msg_init(&out, MSG_VALUES);
	kvlist_init(&out.u.values.secrets);
	kvlist_init(&out.u.values.configs);
	if (in->fd < 0) {
		rc = err_set(&err, ERR_PROTO, "TREE without its memfd");
	} else if ((rc = tree_from_memfd(in->fd, &t)) != 0) {
		err_set(&err, rc, "the tree from the fetcher is malformed");
	} else {
		rc = desired_state(d, job, &t, &out.u.values, &err);
	}
	if (rc != 0) {
		log_warn("decrypt.failed", "%s/%s: %s", job->config.ns, job->config.name, err.msg);
		rc = peer_send_failure(FD_DECRYPTOR_WATCHER, job, in->u.tree.revision, "decrypt", rc,
				       err.msg);
		goto out;
	}
	log_info("decrypt.done", "%s/%s: %zu secrets, %zu configs from %zu files",
		 job->config.ns, job->config.name, out.u.values.secrets.n, out.u.values.configs.n,
		 out.u.values.nfiles);
	out.u.values.job = *job;
	out.u.values.revision = in->u.tree.revision;
	if ((rc = msg_send(FD_DECRYPTOR_SYNCER, &out)) != 0)
		rc = peer_send_failure(FD_DECRYPTOR_WATCHER, job, in->u.tree.revision, "sync", rc,
				       "the syncer is restarting; the job will be retried");
out:
	kvlist_free(&out.u.values.secrets);
	kvlist_free(&out.u.values.configs);
	free_files(out.u.values.files, out.u.values.nfiles);
	tree_free(&t);
	if (rc != 0) /* a peer is down: the supervisor restarts it; this process goes on */
		log_warn("edge.down", "could not pass job %llu on: %s",
			 (unsigned long long)job->id, err_str(rc));
	return 0;
}

int decryptor_dispatch(void *arg, const struct peer *from, struct msg *m, struct err_ctx *err)
{
	(void)from;
	switch (m->type) {
	case MSG_TREE:
		return on_tree(arg, m);
	case MSG_TAP_ATTACH:
	case MSG_EDGE:
		return 0;
	default:
		return err_set(err, ERR_PROTO, "decryptor has no handler for %s",
			       msg_type_name(m->type));
	}
}
