/* fetcher_dispatch.h — the fetcher's handlers. */
#ifndef SMC_FETCHER_DISPATCH_H
#define SMC_FETCHER_DISPATCH_H

#include "proto/peer.h"

#include <stdint.h>

struct fetcher {
	const char *scratch;  /* the scratch directory */
	const char *cache;    /* the Git clone cache (--cache-dir; default: scratch) */
	uint64_t cache_max;   /* its cap in bytes (--cache-max; 0: FETCHER_CACHE_MAX) */
};

/* peer_serve handler: JOB (watcher) → TREE (decryptor), or RESULT (watcher) on failure. */
int fetcher_dispatch(void *arg, const struct peer *from, struct msg *m, struct err_ctx *err);

#endif
