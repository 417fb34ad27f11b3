/* tap.c — msg_to_tap_json: the redacted msgpack encoding of a message rendered as one
 * JSON object (jansson). It starts from msg_encode(redact=1), so every secret field is
 * already an integer (its length) before any JSON exists: a tap never sees a value. */
#include "proto/msg.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"
#include "proto/frame.h"

static int tap_convert(const msgpack_object *o, json_t **out);

static int tap_convert_map(const msgpack_object *o, json_t **out)
{
	json_t *obj = json_object();
	int rc = 0;

	if (obj == NULL)
		return ERR_NOMEM;
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		json_t *v = NULL;
		char key[64];

		if (k->type != MSGPACK_OBJECT_STR || k->via.str.size >= sizeof(key)) {
			rc = ERR_INVAL;
			break;
		}
		memcpy(key, k->via.str.ptr, k->via.str.size);
		key[k->via.str.size] = '\0';
		if ((rc = tap_convert(&o->via.map.ptr[i].val, &v)) != 0)
			break;
		if (json_object_set_new(obj, key, v) != 0) {
			rc = ERR_NOMEM;
			break;
		}
	}
	if (rc != 0) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return 0;
}

static int tap_convert(const msgpack_object *o, json_t **out)
{
	json_t *j = NULL;
	int rc;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL: j = json_null(); break;
	case MSGPACK_OBJECT_BOOLEAN: j = json_boolean(o->via.boolean); break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > (uint64_t)INT64_MAX)
			j = json_real((double)o->via.u64);
		else
			j = json_integer((json_int_t)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: j = json_integer((json_int_t)o->via.i64); break;
	case MSGPACK_OBJECT_STR:
		j = json_stringn(o->via.str.ptr, o->via.str.size);
		if (j == NULL)
			return ERR_INVAL; /* not UTF-8: msg_encode validates text, so never here */
		break;
	case MSGPACK_OBJECT_BIN:
		/* The redacted encoding has no bin; should one appear, show its length only. */
		j = json_integer((json_int_t)o->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		if ((j = json_array()) == NULL)
			return ERR_NOMEM;
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			json_t *e = NULL;

			if ((rc = tap_convert(&o->via.array.ptr[i], &e)) != 0) {
				json_decref(j);
				return rc;
			}
			if (json_array_append_new(j, e) != 0) {
				json_decref(j);
				return ERR_NOMEM;
			}
		}
		break;
	case MSGPACK_OBJECT_MAP:
		return tap_convert_map(o, out);
	default:
		return ERR_INVAL;
	}
	if (j == NULL)
		return ERR_NOMEM;
	*out = j;
	return 0;
}

int msg_to_tap_json(const struct msg *m, char **out)
{
	struct secbuf *sb = NULL;
	msgpack_unpacked up;
	json_t *root = NULL;
	size_t off = 0;
	char *s;
	int rc;

	if ((rc = msg_encode(m, 1, &sb)) != 0)
		return rc;
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, (const char *)sb->data, sb->len, &off) !=
	    MSGPACK_UNPACK_SUCCESS) {
		rc = ERR_INVAL;
		goto out;
	}
	if ((rc = tap_convert(&up.data, &root)) != 0)
		goto out;
	if (m->fd >= 0 && json_object_set_new(root, "fd", json_true()) != 0) {
		rc = ERR_NOMEM;
		goto out;
	}
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	*out = s;
	rc = 0;
out:
	json_decref(root);
	msgpack_unpacked_destroy(&up);
	secbuf_free(sb);
	return rc;
}
