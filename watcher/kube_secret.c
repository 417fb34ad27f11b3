/* kube_secret.c — reading one field of a Kubernetes Secret (base64 .data) into locked
 * memory, for the Git credentials of Argo sources and the cloud credentials a config names. */
#include "watcher/kube_secret.h"

#include <ctype.h>
#include <string.h>

#include <openssl/evp.h>

int kube_secret_field(const json_t *secret, const char *key, size_t max, struct secbuf **out,
		      struct err_ctx *err)
{
	const json_t *v = json_object_get(json_object_get(secret, "data"), key);
	const char *b64,
	    *name = json_string_value(json_object_get(json_object_get(secret, "metadata"), "name"));
	struct secbuf *sb = NULL;
	size_t n, pad = 0;
	int r;

	if (name == NULL)
		name = "?";
	if (v == NULL || json_is_null(v)) {
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return err_set(err, ERR_INVAL, "Secret %s: data.%s is not a string", name, key);
	b64 = json_string_value(v);
	n = json_string_length(v);
	if (n % 4 != 0 || n / 4 * 3 > max + 2 || n > 0x7ffffff0)
		return err_set(err, n % 4 ? ERR_INVAL : ERR_TOOBIG,
			       "Secret %s: data.%s is not base64 or larger than %zu bytes", name,
			       key, max);
	if (secbuf_new(&sb, n / 4 * 3 + 1) != 0) {
		secbuf_free(sb);
		return ERR_NOMEM;
	}
	/* decode into the locked buffer itself: grow it to size first */
	{
		static const uint8_t zero[64];
		size_t need = n / 4 * 3;

		while (sb->len < need) {
			size_t k = need - sb->len < sizeof(zero) ? need - sb->len : sizeof(zero);

			if (secbuf_put(sb, zero, k) != 0) {
				secbuf_free(sb);
				return ERR_NOMEM;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b64[i];

		if (!(isalnum(c) || c == '+' || c == '/' || (c == '=' && i + 2 >= n))) {
			secbuf_free(sb);
			return err_set(err, ERR_INVAL, "Secret %s: data.%s is not base64", name,
				       key);
		}
	}
	if (n >= 1 && b64[n - 1] == '=')
		pad++;
	if (n >= 2 && b64[n - 2] == '=')
		pad++;
	r = n == 0 ? 0 : EVP_DecodeBlock(sb->data, (const unsigned char *)b64, (int)n);
	if (r < 0 || (size_t)r < pad || (size_t)r - pad > max) {
		secbuf_free(sb);
		return err_set(err, r < 0 ? ERR_INVAL : ERR_TOOBIG,
			       "Secret %s: data.%s is not base64 or larger than %zu bytes", name,
			       key, max);
	}
	sb->len = (size_t)r - pad;
	sb->data[sb->len] = '\0';
	if (memchr(sb->data, '\0', sb->len) != NULL) {
		secbuf_free(sb);
		return err_set(err, ERR_INVAL, "Secret %s: data.%s holds a NUL byte", name, key);
	}
	*out = sb;
	return 0;
}

void kube_secret_release(json_t *secret)
{
	static const char *const maps[] = {"data", "stringData"};

	if (secret == NULL)
		return;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		json_t *d = json_object_get(secret, maps[i]), *v;
		const char *k;

		json_object_foreach(d, k, v) {
			if (json_is_string(v)) /* jansson owns the bytes; they are ours to clear */
				explicit_bzero((char *)json_string_value(v), json_string_length(v));
		}
	}
	json_decref(secret);
}
