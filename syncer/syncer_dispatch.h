/* syncer_dispatch.h — the syncer's handlers. */
#ifndef SMC_SYNCER_DISPATCH_H
#define SMC_SYNCER_DISPATCH_H

#include "proto/peer.h"

/* peer_serve handler: VALUES (decryptor) → write to the provider → RESULT (watcher). */
int syncer_dispatch(void *arg, const struct peer *from, struct msg *m, struct err_ctx *err);

#endif
