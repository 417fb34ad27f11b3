/* fetcher_sandbox.h — the fetcher's sandbox policy: Git and artifact downloads over the
 * network, a read-only source directory, a read-write scratch directory (libgit2 caches),
 * and the TREE memfd it builds and seals. */
#ifndef SMC_FETCHER_SANDBOX_H
#define SMC_FETCHER_SANDBOX_H

#include "common/err.h"
#include "common/sandbox.h"

/* Applies the whole sandbox (sandbox_enter) with the fetcher's table and limits.
 * paths (borrowed): ro = local source directories; rw = the scratch/cache directory;
 * connect_ports (Git/HTTPS/source-controller ports) or any_tcp; keep_fds = the
 * socketpairs. The CA bundle and resolver files are added read-only here.
 * libgit2 must be initialised, with its config search paths cleared, before this call
 * (source_git_init): afterwards ~/.gitconfig and /etc/gitconfig are unreadable.
 * On failure the process must exit. */
int fetcher_sandbox_enter(const struct sandbox_paths *paths, struct err_ctx *err);

#endif
