/* kustomize_runner.h — runs kustomize for the decryptor, which may not fork or exec once
 * sandboxed and must never let kustomize near its keys.
 *
 * kustomize_runner_start forks a helper process; the decryptor calls it at start-up BEFORE
 * it reads keys and before its own sandbox. The helper keeps nothing but its end of a
 * socketpair, makes a private scratch directory (mkdtemp, 0700, under /dev/shm when it
 * exists, else $TMPDIR or /tmp) and forks in two: a reaper that drops to the kustomize uid,
 * closes every descriptor, waits for the worker and then wipes and removes the scratch
 * directory (so nothing outlives a crashed or killed worker), and the worker, which drops to
 * the same uid when root and enters its own sandbox (decryptor/kustomize_sandbox.h: no
 * network, only the scratch directory writable).
 * For each build the decryptor sends the plaintext tree as a sealed memfd (proto/tree.h)
 * and the kustomization directory over the socketpair (proto/frame.h); the helper writes the
 * tree into a fresh subdirectory, runs
 *     kustomize build --load-restrictor LoadRestrictionsRootOnly <dir>     (kustomize on PATH)
 *     kubectl kustomize --load-restrictor LoadRestrictionsRootOnly <dir>   (otherwise)
 * in its own process group with the environment cleared except PATH, HOME=<scratch>/home
 * and KUSTOMIZE_PLUGIN_HOME=<scratch>/plugins (empty; no --enable-alpha-plugins,
 * --enable-exec or --enable-helm is ever passed), a CPU and wall-time limit (the group is
 * killed), and an output cap (kustomize is killed the moment stdout passes it; RLIMIT_FSIZE
 * caps any file it writes). Then it overwrites every file of the subdirectory (and of the
 * scratch HOME) with zeros and removes it, and answers with stdout, or with one sanitised
 * line of stderr (kustomize_runner_sanitize). Plaintext files never outlive one build.
 *
 * Wire between the two (private to this file pair): request frame = the kustomization
 * directory (relative, normalised) + the memfd; reply frame = one status byte (0 = ok,
 * else -ERR_*) followed by the YAML stream or the error line. */
#ifndef SMC_KUSTOMIZE_RUNNER_H
#define SMC_KUSTOMIZE_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/secbuf.h"
#include "proto/tree.h"

#define KUSTOMIZE_RUNNER_MAX_OUTPUT ((size_t)16 << 20) /* bytes of kustomize's stdout */
#define KUSTOMIZE_RUNNER_WALL_S 60		       /* seconds for one build */
#define KUSTOMIZE_RUNNER_CPU_S 60		       /* CPU seconds for one build */
#define KUSTOMIZE_RUNNER_MAX_STDERR 8192	       /* bytes of stderr kept to find the line */
#define KUSTOMIZE_RUNNER_MAX_ERRLINE 300	       /* bytes of the error line returned */
#define KUSTOMIZE_RUNNER_REPLY_SLACK 16		       /* time the decryptor waits beyond wall */

struct kustomize_runner;

struct kustomize_runner_opts {
	size_t max_output;	    /* 0 = KUSTOMIZE_RUNNER_MAX_OUTPUT */
	unsigned wall_s;	    /* 0 = KUSTOMIZE_RUNNER_WALL_S */
	unsigned cpu_s;		    /* 0 = KUSTOMIZE_RUNNER_CPU_S */
	const char *binary;	    /* NULL: "kustomize", else "kubectl", searched in PATH; or
				       a path (its base name starting with "kustomize" selects
				       the `build` form) */
	const char *scratch_parent; /* NULL: /dev/shm, else $TMPDIR, else /tmp */
};

/* Starts the helper with the default options. Owned *out (kustomize_runner_stop).
 * ERR_NOTFOUND when neither kustomize nor kubectl is on PATH; ERR_IO when the helper could
 * not be started. Must be called before the caller's own sandbox (it forks). */
int kustomize_runner_start(struct kustomize_runner **out, struct err_ctx *err);
/* The same with options (o borrowed, may be NULL). */
int kustomize_runner_start_opts(const struct kustomize_runner_opts *o,
				struct kustomize_runner **out, struct err_ctx *err);

/* The decryptor's end of the socketpair: keep it open through the sandbox
 * (sandbox_paths_keep_fd). Borrowed; -1 after the helper was lost. */
int kustomize_runner_fd(const struct kustomize_runner *r);

/* 1 while the helper can take builds, 0 once it was lost (it died, or a reply was
 * malformed or late): the decryptor should then exit so the supervisor restarts it with a
 * fresh helper, since a sandboxed decryptor cannot fork one. */
int kustomize_runner_alive(const struct kustomize_runner *r);

/* Builds kustomize_path (a relative directory of plaintext_tree; "" = its root) with
 * kustomize. plaintext_tree and kustomize_path are borrowed. On success *yaml_out (owned
 * secbuf) holds kustomize's stdout, the YAML stream. On failure nothing is written and err
 * says why in one line without a value: ERR_REMOTE kustomize refused the build (its
 * sanitised first error line), ERR_TOOBIG output over the cap, ERR_TIMEOUT wall or CPU time
 * exceeded, ERR_IO / ERR_PROTO the helper is gone (kustomize_runner_alive turns 0). */
int kustomize_runner_build(struct kustomize_runner *r, const struct tree *plaintext_tree,
			   const char *kustomize_path, struct secbuf **yaml_out,
			   struct err_ctx *err);

/* Closes the socketpair (the helper finishes, wipes its scratch tree and exits), waits for
 * the helper and frees r. Needs wait4: call it only where the sandbox allows it (a
 * sandboxed decryptor simply exits; the helper then sees EOF and ends by itself).
 * NULL is a no-op. */
void kustomize_runner_stop(struct kustomize_runner *r);

/* The one line of kustomize's stderr text[0..n) worth showing: the first error line
 * ("Error: ..." from kustomize, `err="..."` from kubectl, else the first non-empty line),
 * with strip_prefix (the build directory + "/", may be NULL) removed wherever it occurs,
 * cut where quoted file content or byte dumps begin (a line break or an escaped "\n",
 * " : ", "line [", "map[", "{", "\x"), every quoted or back-quoted segment that is not a
 * path of t (may be NULL) replaced by "…", and at most KUSTOMIZE_RUNNER_MAX_ERRLINE bytes.
 * Writes a NUL-terminated line into out[outsz] ("kustomize failed" when nothing is left). */
void kustomize_runner_sanitize(const char *text, size_t n, const char *strip_prefix,
			       const struct tree *t, char *out, size_t outsz);

#endif
