/* supervisor.h — smcd's state shared by its entry and its dispatch. */
#ifndef SMC_SUPERVISOR_H
#define SMC_SUPERVISOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "supervisor/proctab.h"
#include "supervisor/tap_server.h"

struct sup {
	struct proctab pt;
	bool once;           /* one-shot: exit after the first RESULT */
	bool done;           /* a RESULT arrived (one-shot) */
	bool stopping;       /* SIGTERM/SIGINT seen */
	json_t *result;      /* last RESULT as JSON (owned) */
	int result_code;     /* its code (0 success) */
	struct tap_server *tap; /* --tap-socket, or NULL */
	uint64_t jobs_ok, jobs_failed;
};

/* Handles one message a child sent on its control socket. A message the child may not
 * send was already refused by peer_recv. Returns 0, or < 0 when the child must be
 * restarted. */
int supervisor_dispatch(struct sup *s, struct child *c, struct msg *m);

#endif
