/* err.h — the one flat negative error space of smc (STYLE.md rule 3).
 * Fallible functions return 0 or a negative ERR_* value. Library code never logs;
 * a detail for the user goes in a caller-owned struct err_ctx when one is passed. */
#ifndef SMC_ERR_H
#define SMC_ERR_H

#include <stddef.h>

enum {
	ERR_OK = 0,
	ERR_NOMEM = -1,      /* allocation failed */
	ERR_INVAL = -2,      /* invalid argument or malformed input */
	ERR_TOOBIG = -3,     /* a size, count or depth limit was exceeded */
	ERR_IO = -4,         /* read/write/syscall failure */
	ERR_NOTFOUND = -5,   /* file, key or object does not exist */
	ERR_PROTO = -6,      /* peer violated the wire protocol */
	ERR_CRYPTO = -7,     /* decryption, MAC or signature failure */
	ERR_PERM = -8,       /* permission or ownership refused */
	ERR_CONFLICT = -9,   /* two inputs claim the same thing */
	ERR_UNSUPPORTED = -10, /* valid but not supported here */
	ERR_LOCKED = -11,    /* resource busy or locked */
	ERR_TIMEOUT = -12,   /* deadline passed */
	ERR_REMOTE = -13,    /* a remote service answered with an error */
	ERR_NOKEY = -14,     /* no usable key */
	ERR_EOF = -15,       /* peer closed the connection */
};

/* Short constant text for an ERR_* code. Borrowed static string. */
const char *err_str(int err);

/* A human-readable detail for the last failure: names the file, key or field, never a
 * secret value. Owned by the caller (usually on the stack). */
struct err_ctx {
	char msg[512];
};

/* Sets ctx->msg from a format (no-op when ctx is NULL) and returns err, so that
 * `return err_set(ctx, ERR_INVAL, "...", ...)` reads as one statement. */
int err_set(struct err_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes ctx->msg with "prefix: " (no-op when ctx is NULL); returns err. */
int err_wrap(struct err_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
