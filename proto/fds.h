/* fds.h — the fixed descriptor numbers each child finds its sockets on after re-exec.
 * The supervisor creates one socketpair per edge of the pipeline (DESIGN.md §2) and one
 * control socketpair per child, and dup2()s the child's ends onto these numbers. */
#ifndef SMC_FDS_H
#define SMC_FDS_H

#define FD_SUPERVISOR 3 /* every child: control edge to smcd */

/* watcher */
#define FD_WATCHER_FETCHER 4   /* JOB out, RESULT in (fetch failures) */
#define FD_WATCHER_SYNCER 5    /* RESULT in */
#define FD_WATCHER_DECRYPTOR 6 /* RESULT in (decrypt failures) */
/* fetcher */
#define FD_FETCHER_WATCHER 4
#define FD_FETCHER_DECRYPTOR 5 /* TREE out */
/* decryptor */
#define FD_DECRYPTOR_FETCHER 4 /* TREE in */
#define FD_DECRYPTOR_SYNCER 5  /* VALUES out */
#define FD_DECRYPTOR_WATCHER 6 /* RESULT out */
/* syncer */
#define FD_SYNCER_DECRYPTOR 4 /* VALUES in */
#define FD_SYNCER_WATCHER 5   /* RESULT out */

#define FD_CHILD_MAX 6 /* highest fixed descriptor */

#endif
