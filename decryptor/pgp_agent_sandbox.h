/* pgp_agent_sandbox.h — the sandbox of the PGP helper process (pgp_agent.c): it runs gpg
 * and gpg-agent through gpgme, so it may fork and execute programs from the system
 * directories, use AF_UNIX sockets (gpg ↔ gpg-agent) and write its own private GNUPGHOME
 * — and nothing else: no TCP at all, no other writable path. */
#ifndef SMC_PGP_AGENT_SANDBOX_H
#define SMC_PGP_AGENT_SANDBOX_H

#include "common/err.h"

/* The role name (uid "smc-pgp-agent" when started as root, see sandbox_role_ids). */
#define PGP_AGENT_SANDBOX_ROLE "pgp-agent"

/* Applies the whole sandbox (sandbox_enter) for the helper: home (borrowed, the private
 * GNUPGHOME root, must exist) read-write, the system directories read+execute, /dev/null
 * read-write, every fd closed but 0, 1, 2 and sock, Landlock with no TCP bind or connect,
 * and the seccomp table of pgp_agent_sandbox.c (socket() only for AF_UNIX). When started
 * as root the process drops to the role's uid first; the caller must have given home to
 * that uid (pgp_agent_sandbox_ids). On failure the process must exit. */
int pgp_agent_sandbox_enter(const char *home, int sock, struct err_ctx *err);

/* The janitor's sandbox (the helper's first process, which only waits for the server and
 * then removes the home root): same uid, read-write on parent (borrowed: the directory
 * holding the home root) and nothing else, sock kept open (never read: its close tells
 * the decryptor the cleanup is done), and a seccomp table with no exec, no fork and no
 * socket at all. On failure the process must exit. */
int pgp_agent_sandbox_enter_janitor(const char *parent, int sock, struct err_ctx *err);

/* The uid/gid the helper runs as when started as root. */
int pgp_agent_sandbox_ids(unsigned *uid, unsigned *gid);

#endif
