/* source_git.h — a Git repository as a source (libgit2): fetch into a per-URL bare cache
 * repository, resolve a revision, and read the commit's tree straight from the object
 * database into a struct tree (nothing is checked out to disk).
 *
 * Same rules as the directory source (source_dir.h): symlink entries (mode 0120000) are
 * resolved inside the commit's tree (target blob's content under the link's path, a link
 * to a directory is walked; a link leaving the tree → ERR_PERM naming it); submodule
 * entries → ERR_UNSUPPORTED naming them; an entry named ".git" (any case) at any level
 * → ERR_PERM naming it (git itself never commits one: it is a planted repository or
 * hook); the executable bit is kept (0755 / 0644); the
 * select.h limits are checked from the object header before a blob is inflated.
 *
 * URLs: file://, plain paths, http://, https://, git://, ssh:// and scp-like
 * "user@host:path". Credentials come from the URL's userinfo or from struct
 * source_git_opts; they never appear in err (userinfo is stripped and the password
 * scrubbed from libgit2's messages), nor on disk (the cache is keyed by the URL without
 * userinfo, and the remote is anonymous: no URL is written to the cache's config).
 * SSH (libgit2 over libssh2): the private key is handed to libssh2 from memory (never
 * written to a file); the server's host key is checked against opts->known_hosts
 * (known_hosts.h) in the certificate callback: an unknown or different key fails the
 * fetch with ERR_PERM before any credential is offered. SSH has the connect deadline of
 * the watchdog stream, but libssh2 reads the socket itself, so the idle/total deadlines
 * below do not cover a stalled SSH server.
 * Shallow fetches: libgit2 1.5 has none (depth arrived in 1.7); the cache makes every
 * fetch after the first incremental instead. */
#ifndef SMC_FETCHER_SOURCE_GIT_H
#define SMC_FETCHER_SOURCE_GIT_H

#include "common/err.h"
#include "common/secbuf.h"
#include "fetcher/select.h"
#include "proto/tree.h"

/* Extra inputs of one fetch. All borrowed for the duration of the call. */
struct source_git_opts {
	const struct select_limits *limits; /* NULL → TREE_MAX_* defaults */
	const char *username;		    /* HTTP basic auth user, NULL → none; SSH user
					       when the URL names none (default "git") */
	const struct secbuf *password;	    /* its password (text), NULL → none */
	const struct secbuf *ssh_key;	    /* SSH private key (PEM/OpenSSH text), NULL → none */
	const struct secbuf *ssh_passphrase; /* its passphrase, NULL → none */
	const char *known_hosts;	    /* SSH known_hosts text, NULL → every host unknown */
};

/* libgit2 1.5 has no network timeouts: every TCP connection it makes (http, https,
 * git://) goes through a stream registered here that connects, reads and writes with
 * poll() against these deadlines, so a server that stalls (before answering, or in the
 * middle of the pack) fails the fetch with ERR_TIMEOUT instead of hanging the fetcher. */
#define SOURCE_GIT_CONNECT_TIMEOUT_MS 10000L
#define SOURCE_GIT_IDLE_TIMEOUT_MS 30000L
#define SOURCE_GIT_TIMEOUT_MS 600000L

/* Sets the idle and whole-exchange timeouts of the fetches made later on this thread
 * (values <= 0 → the defaults above). Never fails. */
void source_git_set_timeouts(long idle_ms, long total_ms);

/* Initialises libgit2 once per process (later calls are no-ops) and stops it from
 * reading the user's and system's git configuration. Call before entering the sandbox.
 * 0 or ERR_IO. */
int source_git_init(void);

/* Fetches url into scratch_dir/<sha256 of the URL without userinfo> (a bare repository,
 * created on first use, updated afterwards, its mtime set to now for LRU eviction, see
 * git_cache.h), resolves revision and reads the files under
 * subpath of that commit's tree into *out with paths relative to subpath.
 * revision: NULL/"" → the remote's HEAD; a branch; a tag; "refs/..."; a full or short
 * (≥ 4 hex digits) commit id. Branches win over tags, tags over commit ids.
 * On success *out is initialised here (owned, tree_free) and *resolved is an owned string
 * (free()) in Flux's form: "<branch-or-tag-or-ref>@sha1:<hex>", or "sha1:<hex>" when a
 * commit id was asked for. On failure neither is written and err says why:
 * ERR_NOTFOUND (revision or subpath), ERR_IO (URL unreachable: libgit2's message),
 * ERR_TIMEOUT (the server stalled: see SOURCE_GIT_*_TIMEOUT_MS),
 * ERR_PERM (authentication, an unknown SSH host key, or a link leaving the tree),
 * ERR_UNSUPPORTED (submodule, URL scheme), ERR_TOOBIG (a limit), ERR_INVAL. */
int source_git_fetch(const char *url, const char *revision, const char *subpath,
		     const char *scratch_dir, struct tree *out, char **resolved,
		     struct err_ctx *err);

/* The same with limits and credentials (opts borrowed; NULL → defaults, no credentials). */
int source_git_fetch_opts(const char *url, const char *revision, const char *subpath,
			  const char *scratch_dir, const struct source_git_opts *opts,
			  struct tree *out, char **resolved, struct err_ctx *err);

/* The URL without its userinfo ("https://u:p@h/r" → "https://h/r"): what may be logged or
 * put in a status. Owned result *out (free()). ERR_NOMEM only. */
int source_git_url_redact(const char *url, char **out);

#endif
