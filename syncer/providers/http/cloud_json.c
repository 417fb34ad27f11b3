/* cloud_json.c — secret-safe JSON request bodies and wiping of decoded answers. */

#include <string.h>

#include "common/err.h"
#include "syncer/providers/http/cloud_json.h"

#define CLOUD_JSON_MAX_DEPTH 64

static void json_wipe_rec(json_t *j, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (j == NULL || depth > CLOUD_JSON_MAX_DEPTH)
		return;
	if (json_is_string(j)) {
		explicit_bzero((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			json_wipe_rec(v, depth + 1);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			json_wipe_rec(v, depth + 1);
	}
}

void cloud_json_wipe(json_t *j)
{
	json_wipe_rec(j, 0);
}

int cloud_json_body(json_t *j, size_t max, struct secbuf **out)
{
	static const uint8_t zero[256];
	struct secbuf *b = NULL;
	size_t need;
	int rc;

	if (j == NULL)
		return ERR_NOMEM;
	need = json_dumpb(j, NULL, 0, JSON_COMPACT);
	if (need == 0 || need > max) {
		rc = need == 0 ? ERR_INVAL : ERR_TOOBIG;
		goto out;
	}
	if ((rc = secbuf_new(&b, need)) != 0 || (rc = secbuf_reserve(b, need)) != 0)
		goto out;
	/* grow the locked buffer to need bytes, then let jansson write into it */
	while (b->len < need) {
		size_t k = need - b->len < sizeof(zero) ? need - b->len : sizeof(zero);

		if ((rc = secbuf_put(b, zero, k)) != 0)
			goto out;
	}
	if (json_dumpb(j, (char *)b->data, need, JSON_COMPACT) != need) {
		rc = ERR_INVAL;
		goto out;
	}
	*out = b;
	b = NULL;
	rc = 0;
out:
	secbuf_free(b);
	cloud_json_wipe(j);
	json_decref(j);
	return rc;
}
