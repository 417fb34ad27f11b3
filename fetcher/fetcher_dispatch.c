/* fetcher_dispatch.c — permit table and handlers of the fetcher.
 *
 *   from     message  action
 *   watcher  JOB      read the source into a tree → sealed memfd → TREE to the decryptor;
 *                     on failure RESULT (stage "fetch") back to the watcher
 * Holds Git credentials at most (cluster mode: in the JOB, for the fetch only; the TREE's
 * copy of the job has them removed); never keys, cloud credentials or plaintext values
 * (the tree may hold SOPS ciphertext, and plaintext files when users keep some). */
#include "fetcher/fetcher_dispatch.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "fetcher/artifact.h"
#include "fetcher/git_cache.h"
#include "fetcher/source_dir.h"
#include "fetcher/source_git.h"
#include "proto/fds.h"
#include "proto/tree.h"

/* "sha256:<hex>" over the tree's paths and contents: the revision of a directory source. */
static int tree_digest(const struct tree *t, char *out, size_t size)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		return ERR_NOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < t->n; i++) {
		ok = EVP_DigestUpdate(ctx, t->files[i].path, strlen(t->files[i].path) + 1) &&
		     EVP_DigestUpdate(ctx, t->files[i].data, t->files[i].size);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || size < 8 + 64 + 1)
		return ERR_CRYPTO;
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int fetch(struct fetcher *f, const struct job *job, struct tree *t, char **revision,
		 struct err_ctx *err)
{
	const struct job_source *src = &job->source;
	char rev[80];
	int rc;

	if (job->policy.delete_all) { /* the config is gone: an empty tree, nothing fetched */
		*revision = strdup("");
		return *revision ? 0 : ERR_NOMEM;
	}
	if (strcmp(src->kind, "directory") == 0) {
		if ((rc = source_dir_read(src->path, src->subpath ? src->subpath : "", t, err)) != 0)
			return rc;
		if ((rc = tree_digest(t, rev, sizeof(rev))) != 0)
			return rc;
		*revision = strdup(rev);
		return *revision ? 0 : ERR_NOMEM;
	}
	if (strcmp(src->kind, "git") == 0) {
		struct source_git_opts o = {
		    .username = src->username,
		    .password = src->password,
		    .ssh_key = src->ssh_key,
		    .ssh_passphrase = src->ssh_key_passphrase,
		    .known_hosts = src->known_hosts,
		};
		const char *cache = f->cache ? f->cache : f->scratch;
		size_t removed = 0;
		uint64_t left = 0;

		rc = source_git_fetch_opts(src->url, src->revision, src->subpath, cache, &o, t,
					   revision, err);
		if (git_cache_evict(cache, f->cache_max, &removed, &left) != 0)
			log_warn("cache.evict", "cannot size or trim the Git cache %s", cache);
		else if (removed > 0)
			log_info("cache.evict", "removed %zu least recently used repositories; "
				 "%llu bytes left", removed, (unsigned long long)left);
		return rc;
	}
	if (strcmp(src->kind, "artifact") == 0)
		return artifact_fetch(src->url, src->digest, src->revision, src->subpath, NULL, t,
				      revision, err);
	return err_set(err, ERR_UNSUPPORTED, "source kind \"%s\" is not supported here",
		       src->kind);
}

static int on_job(struct fetcher *f, const struct job *job)
{
	struct err_ctx err = {{0}};
	struct tree t;
	char *revision = NULL;
	struct msg m;
	int rc, fd = -1;

	tree_init(&t);
	rc = fetch(f, job, &t, &revision, &err);
	if (rc == 0 && (rc = tree_to_memfd(&t, &fd)) != 0)
		err_set(&err, rc, "cannot seal the tree: %s", err_str(rc));
	if (rc != 0) {
		log_warn("fetch.failed", "%s/%s: %s", job->config.ns, job->config.name, err.msg);
		rc = peer_send_failure(FD_FETCHER_WATCHER, job, revision, "fetch", rc, err.msg);
		goto out;
	}
	log_info("fetch.done", "%s/%s: %zu files, %zu bytes at %s", job->config.ns,
		 job->config.name, t.n, t.total, revision);
	msg_init(&m, MSG_TREE);
	m.u.tree.job = *job;
	/* the credentials stop here: the TREE's job (and everything after) carries none */
	m.u.tree.job.source.username = NULL;
	m.u.tree.job.source.password = NULL;
	m.u.tree.job.source.ssh_key = NULL;
	m.u.tree.job.source.ssh_key_passphrase = NULL;
	m.u.tree.revision = revision;
	m.fd = fd;
	if ((rc = msg_send(FD_FETCHER_DECRYPTOR, &m)) != 0)
		rc = peer_send_failure(FD_FETCHER_WATCHER, job, revision, "decrypt", rc,
				       "the decryptor is restarting; the job will be retried");
out:
	if (fd >= 0)
		close(fd);
	free(revision);
	tree_free(&t);
	if (rc != 0) /* a peer is down: the supervisor restarts it; this process goes on */
		log_warn("edge.down", "could not pass job %llu on: %s",
			 (unsigned long long)job->id, err_str(rc));
	return 0;
}

int fetcher_dispatch(void *arg, const struct peer *from, struct msg *m, struct err_ctx *err)
{
	(void)from;
	switch (m->type) {
	case MSG_JOB:
		return on_job(arg, &m->u.job.job);
	case MSG_TAP_ATTACH:
	case MSG_EDGE:
		return 0;
	default:
		return err_set(err, ERR_PROTO, "fetcher has no handler for %s",
			       msg_type_name(m->type));
	}
}
