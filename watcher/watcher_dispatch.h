/* watcher_dispatch.h — the watcher's handlers. */
#ifndef SMC_WATCHER_DISPATCH_H
#define SMC_WATCHER_DISPATCH_H

#include <stdint.h>

#include "proto/peer.h"

struct watcher {
	uint64_t next_job_id;
	uint64_t running_job; /* id of the job in the pipeline, 0 when idle */
	char running_ns[256], running_name[256]; /* its config, for reporting a lost job */
	const char *store;    /* --store override of the local store path, or NULL */
};

/* peer_serve handler: RUN (supervisor) → JOB (fetcher); RESULT (any stage) → supervisor. */
int watcher_dispatch(void *arg, const struct peer *from, struct msg *m, struct err_ctx *err);

#endif
