/* proctab.h — the supervisor's process table: the four children, the socketpairs of the
 * pipeline edges, spawning by re-exec of each role's own binary with its sockets on the
 * fixed descriptors of proto/fds.h, and restart with backoff. */
#ifndef SMC_PROCTAB_H
#define SMC_PROCTAB_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "common/err.h"
#include "proto/fds.h"
#include "proto/msg.h"

#define PROCTAB_NCHILD 4
#define PROCTAB_MAX_ARGS 40
#define PROCTAB_MAX_ENV 256 /* environment entries passed to a child */
#define PROCTAB_BACKOFF_MIN_MS 200
#define PROCTAB_BACKOFF_MAX_MS 30000
#define PROCTAB_STABLE_S 60 /* up this long: the next crash restarts after the minimum */

struct child {
	enum msg_role role;
	const char *name;     /* "watcher", ... */
	char bin[4096];       /* absolute path of smc-<name> */
	pid_t pid;            /* 0 when not running */
	int ctl;              /* supervisor's end of the control socket, -1 when closed */
	int fds[FD_CHILD_MAX + 1]; /* child ends to install at these numbers, -1 unused */
	const char *args[PROCTAB_MAX_ARGS]; /* extra arguments (borrowed), NULL-terminated */
	size_t nargs;
	unsigned restarts;    /* how many times it was restarted (metric) */
	unsigned backoff_ms;  /* next restart delay */
	time_t started_at;    /* when it was last (re)started by a restart */
	bool ready;           /* handshake done */
};

struct proctab {
	struct child children[PROCTAB_NCHILD];
	char bindir[4096];
};

/* Fills the table: binaries next to the running smcd (or in $SMC_LIBEXEC_DIR). */
int proctab_init(struct proctab *pt, struct err_ctx *err);
/* Adds an argument for a role's command line ("--ro", path, ...); borrowed strings. */
int proctab_add_arg(struct proctab *pt, enum msg_role role, const char *arg);
struct child *proctab_child(struct proctab *pt, enum msg_role role);
struct child *proctab_by_pid(struct proctab *pt, pid_t pid);
/* Creates every socketpair and starts all four children; handshakes with each. */
int proctab_start_all(struct proctab *pt, struct err_ctx *err);
/* Restarts one dead child: fresh sockets for its control edge and pipeline edges; each
 * living peer receives its new end in an EDGE message and keeps running. */
int proctab_restart(struct proctab *pt, struct child *c, struct err_ctx *err);
/* Sends SHUTDOWN to every child, waits up to timeout_ms, then SIGKILLs the rest. */
void proctab_stop_all(struct proctab *pt, int timeout_ms);
/* Describes a wait status ("exited with 3", "killed by SIGSYS (sandbox violation)"). */
void proctab_describe_status(int status, char *buf, size_t size);

#endif
