/* msg.c — message names and the msg.def permit table, init/free, the top-level codec
 * ({"t": id, "v": PROTO_VERSION, fields...}) and send/recv over framed sockets. */
#include "proto/msg.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/codec.h"
#include "proto/frame.h"

struct msg_entry {
	const char *name;
	uint32_t from, to;
};

static const struct msg_entry msg_table[MSG_TYPE_MAX] = {
#define MSG(id, name, f, t, what) [id] = {#name, (uint32_t)(f), (uint32_t)(t)},
#include "proto/msg.def"
#undef MSG
};

static int msg_known(uint32_t type)
{
	return type > 0 && type < MSG_TYPE_MAX && msg_table[type].name != NULL;
}

const char *msg_role_name(enum msg_role role)
{
	switch (role) {
	case ROLE_SUPERVISOR: return "supervisor";
	case ROLE_WATCHER: return "watcher";
	case ROLE_FETCHER: return "fetcher";
	case ROLE_DECRYPTOR: return "decryptor";
	case ROLE_SYNCER: return "syncer";
	default: return "?";
	}
}

const char *msg_type_name(uint32_t type)
{
	return msg_known(type) ? msg_table[type].name : "?";
}

int msg_allowed(uint32_t type, enum msg_role from, enum msg_role to)
{
	uint32_t f = (uint32_t)from, t = (uint32_t)to;

	if (!msg_known(type) || f == 0 || t == 0)
		return 0;
	return (f & ~msg_table[type].from) == 0 && (t & ~msg_table[type].to) == 0;
}

static const struct codec_schema *msg_schema(uint32_t type)
{
	switch (type) {
	case MSG_HELLO: return &msg_control_schema_hello;
	case MSG_LOG: return &msg_control_schema_log;
	case MSG_METRICS: return &msg_control_schema_metrics;
	case MSG_TAP_ATTACH: return &msg_control_schema_tap_attach;
	case MSG_TAP: return &msg_control_schema_tap;
	case MSG_SHUTDOWN: return &msg_control_schema_shutdown;
	case MSG_JOB: return &msg_job_schema_msg;
	case MSG_TREE: return &msg_job_schema_tree;
	case MSG_VALUES: return &msg_values_schema_msg;
	case MSG_RESULT: return &msg_result_schema_msg;
	case MSG_RUN: return &msg_control_schema_run;
	case MSG_EDGE: return &msg_control_schema_edge;
	case MSG_CREDENTIALS: return &msg_credentials_schema_msg;
	default: return NULL;
	}
}

void msg_init(struct msg *m, uint32_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->fd = -1;
}

void msg_free(struct msg *m)
{
	const struct codec_schema *s;

	if (m == NULL)
		return;
	if ((s = msg_schema(m->type)) != NULL)
		codec_free(s, &m->u);
	if (m->fd >= 0)
		(void)close(m->fd);
	msg_init(m, m->type);
}

int msg_encode(const struct msg *m, int redact, struct secbuf **out)
{
	const struct codec_schema *s = msg_schema(m->type);
	struct codec_extra extra[2] = {{"t", m->type}, {"v", PROTO_VERSION}};
	struct codec_writer w;
	int rc;

	if (s == NULL)
		return ERR_INVAL;
	if ((rc = codec_writer_init(&w, FRAME_MAX)) != 0)
		return rc;
	if ((rc = codec_encode_struct(&w, s, &m->u, redact, extra, 2)) == 0)
		rc = codec_writer_take(&w, out);
	codec_writer_free(&w);
	return rc;
}

/* Reads "t" and "v" from the top-level map; the fields are decoded by the schema. */
static int msg_header(const msgpack_object *root, uint32_t *type, struct err_ctx *err)
{
	const msgpack_object *t = NULL, *v = NULL;

	for (uint32_t i = 0; i < root->via.map.size; i++) {
		const msgpack_object *k = &root->via.map.ptr[i].key;
		const msgpack_object **slot = NULL;

		if (codec_key_is(k, "t"))
			slot = &t;
		else if (codec_key_is(k, "v"))
			slot = &v;
		if (slot == NULL)
			continue;
		if (*slot != NULL)
			return err_set(err, ERR_PROTO, "message: duplicate key %s",
				       slot == &t ? "t" : "v");
		*slot = &root->via.map.ptr[i].val;
	}
	if (t == NULL)
		return err_set(err, ERR_PROTO, "message: missing type");
	if (t->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !msg_known(t->via.u64 > UINT32_MAX ?
								      0 : (uint32_t)t->via.u64))
		return err_set(err, ERR_PROTO, "message: unknown type");
	if (v == NULL)
		return err_set(err, ERR_PROTO, "%s: missing protocol version",
			       msg_type_name((uint32_t)t->via.u64));
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != PROTO_VERSION)
		return err_set(err, ERR_PROTO, "%s: protocol version is not %d",
			       msg_type_name((uint32_t)t->via.u64), PROTO_VERSION);
	*type = (uint32_t)t->via.u64;
	return 0;
}

int msg_decode(const uint8_t *p, size_t n, struct msg *out, struct err_ctx *err)
{
	static const char *const reserved[] = {"t", "v", NULL};
	const struct codec_schema *s;
	msgpack_unpacked up;
	struct msg tmp;
	size_t off = 0;
	uint32_t type = 0;
	int rc;

	if (p == NULL || n == 0)
		return err_set(err, ERR_PROTO, "empty message");
	/* Structure, depth, counts and exact length first: msgpack-c only runs on input
	 * that cannot make it allocate more than a small multiple of n (codec.c). */
	if ((rc = codec_scan(p, n, err)) != 0)
		return rc;
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, (const char *)p, n, &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != n) {
		rc = err_set(err, ERR_PROTO, "malformed msgpack");
		goto out;
	}
	if (up.data.type != MSGPACK_OBJECT_MAP) {
		rc = err_set(err, ERR_PROTO, "message is not a map");
		goto out;
	}
	if ((rc = msg_header(&up.data, &type, err)) != 0)
		goto out;
	s = msg_schema(type);
	msg_init(&tmp, type);
	rc = codec_decode_struct(s, &up.data, &tmp.u, reserved, msg_type_name(type), err);
	if (rc != 0) {
		codec_free(s, &tmp.u);
		if (rc != ERR_NOMEM)
			rc = ERR_PROTO;
		goto out;
	}
	*out = tmp;
out:
	msgpack_unpacked_destroy(&up);
	return rc;
}

static msg_tap_fn msg_tap;
static void *msg_tap_arg;

void msg_set_tap(msg_tap_fn fn, void *arg)
{
	msg_tap = fn;
	msg_tap_arg = arg;
}

static void msg_tapped(int sock, const struct msg *m, int sent)
{
	if (msg_tap != NULL && m->type != MSG_LOG && m->type != MSG_TAP &&
	    m->type != MSG_METRICS)
		msg_tap(sock, m, sent, msg_tap_arg);
}

int msg_send(int sock, const struct msg *m)
{
	struct secbuf *sb = NULL;
	int rc;

	if ((rc = msg_encode(m, 0, &sb)) != 0)
		return rc;
	rc = frame_write(sock, sb->data, sb->len, m->fd);
	secbuf_free(sb);
	if (rc == 0)
		msg_tapped(sock, m, 1);
	return rc;
}

int msg_recv(int sock, size_t cap, struct msg *out, struct err_ctx *err)
{
	struct secbuf *sb = NULL;
	struct msg tmp;
	int fd = -1, rc;

	if ((rc = frame_read(sock, cap, &sb, &fd)) != 0) {
		if (rc == ERR_EOF)
			return err_set(err, rc, "peer closed the connection");
		return err_set(err, rc, "bad frame (%s)", err_str(rc));
	}
	if ((rc = msg_decode(sb->data, sb->len, &tmp, err)) != 0)
		goto out;
	/* Only TREE (its memfd) and EDGE (a socket) carry a descriptor, and always do. */
	if ((tmp.type == MSG_TREE || tmp.type == MSG_EDGE) && fd < 0) {
		rc = err_set(err, ERR_PROTO, "%s without its descriptor", msg_type_name(tmp.type));
		msg_free(&tmp);
		goto out;
	}
	if (tmp.type != MSG_TREE && tmp.type != MSG_EDGE && fd >= 0) {
		msg_free(&tmp);
		rc = err_set(err, ERR_PROTO, "%s with an unexpected descriptor",
			     msg_type_name(tmp.type));
		goto out;
	}
	tmp.fd = fd;
	fd = -1;
	*out = tmp;
	msg_tapped(sock, out, 0);
out:
	if (fd >= 0)
		(void)close(fd);
	secbuf_free(sb);
	return rc;
}
