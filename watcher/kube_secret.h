/* kube_secret.h — one field of a Kubernetes Secret object (as the API server returns it). */
#ifndef SMC_KUBE_SECRET_H
#define SMC_KUBE_SECRET_H

#include <stddef.h>

#include <jansson.h>

#include "common/err.h"
#include "common/secbuf.h"

/* The value of a Secret's .data[key] decoded from base64 into a new secbuf (owned out,
 * NULL and 0 when the key is absent). ERR_INVAL for bad base64 or a NUL byte, ERR_TOOBIG
 * over max. err names the Secret and the key, never the value. */
int kube_secret_field(const json_t *secret, const char *key, size_t max, struct secbuf **out,
		      struct err_ctx *err);

/* Wipes the string values of the Secret's data and stringData, then drops the reference.
 * NULL is a no-op. */
void kube_secret_release(json_t *secret);

#endif
