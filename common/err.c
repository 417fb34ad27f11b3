/* err.c — text for ERR_* codes and the err_ctx detail buffer. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *err_str(int err)
{
	switch (err) {
	case ERR_OK: return "ok";
	case ERR_NOMEM: return "out of memory";
	case ERR_INVAL: return "invalid input";
	case ERR_TOOBIG: return "limit exceeded";
	case ERR_IO: return "i/o error";
	case ERR_NOTFOUND: return "not found";
	case ERR_PROTO: return "protocol violation";
	case ERR_CRYPTO: return "cryptographic failure";
	case ERR_PERM: return "permission denied";
	case ERR_CONFLICT: return "conflict";
	case ERR_UNSUPPORTED: return "unsupported";
	case ERR_LOCKED: return "locked";
	case ERR_TIMEOUT: return "timed out";
	case ERR_REMOTE: return "remote error";
	case ERR_NOKEY: return "no usable key";
	case ERR_EOF: return "connection closed";
	default: return "unknown error";
	}
}

int err_set(struct err_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (ctx == NULL)
		return err;
	va_start(ap, fmt);
	vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
	va_end(ap);
	return err;
}

int err_wrap(struct err_ctx *ctx, int err, const char *fmt, ...)
{
	char prefix[256], old[sizeof(ctx->msg)];
	va_list ap;

	if (ctx == NULL)
		return err;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, ctx->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	if (old[0] != '\0')
		snprintf(ctx->msg, sizeof(ctx->msg), "%s: %s", prefix, old);
	else
		snprintf(ctx->msg, sizeof(ctx->msg), "%s: %s", prefix, err_str(err));
	return err;
}
