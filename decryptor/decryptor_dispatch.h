/* decryptor_dispatch.h — the decryptor's handlers. */
#ifndef SMC_DECRYPTOR_DISPATCH_H
#define SMC_DECRYPTOR_DISPATCH_H

#include "proto/peer.h"

struct keyring;
struct kustomize_runner;

struct decryptor {
	const char *keys_dir;     /* --keys, or NULL */
	const struct keyring *kr; /* keys read once at start; NULL without --keys */
	struct kustomize_runner *kz; /* the kustomize helper, NULL when it could not start */
};

/* peer_serve handler: TREE (fetcher) → VALUES (syncer), or RESULT (watcher) on failure. */
int decryptor_dispatch(void *arg, const struct peer *from, struct msg *m, struct err_ctx *err);

#endif
