/* pgp_agent.h — the decryptor's OpenPGP helper process, on the OpenSSH privsep model.
 *
 * gpgme drives gpg, which starts gpg-agent and talks to it over an AF_UNIX socket: fork,
 * execve and sockets, all forbidden in the decryptor's sandbox. So the decryptor forks
 * this helper first — before its own sandbox and before any key is read, so the helper
 * inherits nothing secret. The helper closes every fd but its socketpair end, creates
 * nothing outside a private GNUPGHOME root (mkdtemp 0700), enters its own sandbox
 * (pgp_agent_sandbox.c: no TCP, no other writable path) and then answers two requests:
 *
 *   IMPORT  key file bytes           → a slot (one private gpg home per key file, so the
 *                                       keyring's namespace policy still holds) and the
 *                                       number of secret keys imported
 *   DECRYPT slot + armored message   → the plaintext, only when it is a data key part
 *                                       (≤ PGP_AGENT_MAX_PLAINTEXT bytes: this helper
 *                                       never decrypts files), or ERR_NOKEY / ERR_CRYPTO
 *
 * Wire (proto/frame.h frames, every field big-endian, every length checked):
 *   request  = u8 type, then IMPORT: key bytes (1..PGP_MAX_KEYFILE)
 *                            DECRYPT: u32 slot, armored message (1..PGP_MAX_MESSAGE)
 *   reply    = u8 status (0, or -ERR_* of the failure), then
 *              status 0, IMPORT: u32 slot, u32 secret keys      (exactly 9 bytes)
 *              status 0, DECRYPT: plaintext (1..PGP_AGENT_MAX_PLAINTEXT bytes)
 *              status ≠ 0: a printable reason (≤ PGP_AGENT_MAX_REASON bytes, no secret)
 *   the helper's first frame is PGP_AGENT_HELLO, sent once its sandbox is in force.
 * A malformed request ends the helper; so does EOF. Either way it stops its gpg-agents
 * and empties its home. The helper is two processes: the first (our child, the
 * "janitor") forks the server, enters a sandbox of its own with no exec, no fork and no
 * socket, never reads a byte, waits for the server and then removes the home root (which
 * the server has no right to remove) — even after a server killed by a signal — and only
 * then exits, closing the last copy of the helper's socket end. */
#ifndef SMC_PGP_AGENT_H
#define SMC_PGP_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/secbuf.h"

#define PGP_AGENT_MAX_PLAINTEXT 64 /* a SOPS data key is 32 bytes, a Shamir part 33 */
#define PGP_AGENT_MAX_HOMES 64	   /* key files imported (= KEYRING_MAX_FILES) */
#define PGP_AGENT_MAX_REASON 256   /* error text in a reply */
#define PGP_AGENT_REPLY_TIMEOUT_MS 60000
#define PGP_AGENT_HELLO "smc-pgp-agent/1"

enum pgp_agent_req { PGP_AGENT_REQ_IMPORT = 1, PGP_AGENT_REQ_DECRYPT = 2 };

struct pgp_agent;

/* Forks the helper (see above) and waits for its hello. Call before reading any key and
 * before the caller's own sandbox. Owned *out (pgp_agent_stop or pgp_agent_free). */
int pgp_agent_start(struct pgp_agent **out, struct err_ctx *err);

/* Imports one key file's bytes (borrowed; sent to the helper, not kept here) into a new
 * private home of the helper. *slot names that home for pgp_agent_decrypt; *nsecret (may
 * be NULL) = secret keys imported. */
int pgp_agent_import(struct pgp_agent *a, const uint8_t *key, size_t n, uint32_t *slot,
		     size_t *nsecret, struct err_ctx *err);

/* Decrypts an armored OpenPGP message with the keys of one slot. Owned *out (at most
 * PGP_AGENT_MAX_PLAINTEXT bytes). ERR_NOKEY when no key of the slot opens it, ERR_CRYPTO
 * on a decryption failure, ERR_TOOBIG when the plaintext is longer than a data key. A
 * transport or protocol failure (ERR_IO, ERR_PROTO, ERR_TIMEOUT) leaves the agent dead:
 * every later call fails with ERR_IO. */
int pgp_agent_decrypt(struct pgp_agent *a, uint32_t slot, const char *msg, size_t n,
		      struct secbuf **out, struct err_ctx *err);

/* Sends a raw request frame (borrowed) and reads the raw reply (owned *reply): for tests
 * of the helper's input checks. */
int pgp_agent_raw(struct pgp_agent *a, const uint8_t *req, size_t n, struct secbuf **reply,
		  struct err_ctx *err);

/* The caller's end of the socketpair (to keep open across the caller's own sandbox), the
 * janitor's pid (the server is its only child) and the home root (borrowed, valid until
 * stop/free). */
int pgp_agent_fd(const struct pgp_agent *a);
pid_t pgp_agent_pid(const struct pgp_agent *a);
const char *pgp_agent_home(const struct pgp_agent *a);

/* Closes the socketpair, waits (at most 10 s, then SIGKILL) for the helper to stop its
 * gpg-agents and remove its home, removes what is left of the home if it died, frees.
 * *status (may be NULL) gets the wait status. For callers without a sandbox. */
int pgp_agent_stop(struct pgp_agent *a, int *status);

/* Closes the socketpair and frees without waiting (only close/free: safe inside the
 * decryptor's sandbox); the helper sees EOF, cleans up and exits. NULL is a no-op. */
void pgp_agent_free(struct pgp_agent *a);

#endif
