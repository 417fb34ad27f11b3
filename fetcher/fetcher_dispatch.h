/* fetcher_dispatch.h — the fetcher's handlers. */
#ifndef SMC_FETCHER_DISPATCH_H
#define SMC_FETCHER_DISPATCH_H

#include "proto/peer.h"

struct fetcher {
	const char *scratch; /* the scratch directory for Git clones */
};

/* peer_serve handler: JOB (watcher) → TREE (decryptor), or RESULT (watcher) on failure. */
int fetcher_dispatch(void *arg, const struct peer *from, struct msg *m, struct err_ctx *err);

#endif
