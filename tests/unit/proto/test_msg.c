/* test_msg.c — round trips of every message type, redaction, taps, the msg.def table,
 * and send/recv over a real socketpair. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg_fixtures.h"
#include "proto/frame.h"
#include "proto/msg.h"
#include "proto/tree.h"

static const uint32_t all_types[] = {MSG_HELLO, MSG_LOG,  MSG_METRICS, MSG_TAP_ATTACH,
				     MSG_TAP,   MSG_SHUTDOWN, MSG_JOB, MSG_TREE,
				     MSG_VALUES, MSG_RESULT, MSG_RUN, MSG_EDGE,
				     MSG_CREDENTIALS};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

static struct secbuf *encode(const struct msg *m, int redact)
{
	struct secbuf *sb = NULL;

	cr_assert_eq(msg_encode(m, redact, &sb), 0, "encode %s", msg_type_name(m->type));
	return sb;
}

/* Decoding then re-encoding gives the very same bytes: every field survived. */
Test(msg, round_trip_every_type)
{
	for (size_t i = 0; i < NTYPES; i++) {
		struct msg m, d;
		struct err_ctx err = {{0}};
		struct secbuf *a, *b;
		int rc;

		fx_msg(&m, all_types[i]);
		a = encode(&m, 0);
		rc = msg_decode(a->data, a->len, &d, &err);
		cr_assert_eq(rc, 0, "%s: %s", msg_type_name(all_types[i]), err.msg);
		cr_assert_eq(d.type, all_types[i]);
		cr_assert_eq(d.fd, -1);
		b = encode(&d, 0);
		cr_assert_eq(a->len, b->len, "%s", msg_type_name(all_types[i]));
		cr_assert(memcmp(a->data, b->data, a->len) == 0, "%s", msg_type_name(all_types[i]));
		secbuf_free(a);
		secbuf_free(b);
		msg_free(&m);
		msg_free(&d);
	}
}

Test(msg, values_round_trip_fields)
{
	struct msg m, d;
	struct err_ctx err = {{0}};
	struct secbuf *a;
	struct kv *kv;

	fx_msg(&m, MSG_VALUES);
	a = encode(&m, 0);
	cr_assert_eq(msg_decode(a->data, a->len, &d, &err), 0, "%s", err.msg);
	cr_assert_eq(d.u.values.secrets.n, 4);
	cr_assert_eq(d.u.values.configs.n, 2);
	kv = kvlist_find(&d.u.values.secrets, "DATABASE_PASSWORD");
	cr_assert_not_null(kv);
	cr_assert(secbuf_eq_mem(kv->value, FX_CANARY, strlen(FX_CANARY)));
	cr_assert_str_eq(kv->origin, "profiles/prod/application.secrets.env:3");
	cr_assert_str_eq(kv->group, "checkout");
	kv = kvlist_find(&d.u.values.secrets, "TLS_KEY");
	cr_assert_not_null(kv);
	cr_assert_eq(kv->value->len, 6);
	cr_assert_eq(kv->value->data[1], 0xff);
	cr_assert_null(kv->origin);
	cr_assert_null(kv->group);
	kv = kvlist_find(&d.u.values.secrets, "EMPTY");
	cr_assert_not_null(kv);
	cr_assert_eq(kv->value->len, 0);
	/* the decoded list can grow like any kvlist */
	fx_kv(&d.u.values.configs, NULL, "added", "x", 1, NULL);
	cr_assert_eq(d.u.values.configs.n, 3);
	cr_assert_str_eq(d.u.values.job.config.ns, "payments");
	cr_assert_eq(d.u.values.job.config.generation, 17);
	cr_assert_eq(d.u.values.job.policy.deletion, JOB_DELETION_DISABLE);
	cr_assert_null(d.u.values.job.source.digest);
	cr_assert_str_eq(d.u.values.job.source.subpath, "");
	cr_assert_eq(d.u.values.nfiles, 3);
	cr_assert(d.u.values.files[0].encrypted);
	cr_assert_eq(d.u.values.files[2].count, 2);
	secbuf_free(a);
	msg_free(&m);
	msg_free(&d);
}

Test(msg, result_round_trip_fields)
{
	struct msg m, d;
	struct err_ctx err = {{0}};
	struct secbuf *a;

	fx_msg(&m, MSG_RESULT);
	a = encode(&m, 0);
	cr_assert_eq(msg_decode(a->data, a->len, &d, &err), 0, "%s", err.msg);
	cr_assert_eq(d.u.result.code, ERR_REMOTE);
	cr_assert_eq(d.u.result.nitems, 3);
	cr_assert_null(d.u.result.items[1].key);
	cr_assert_eq(d.u.result.items[1].outcome, ITEM_PRUNED);
	cr_assert_str_eq(d.u.result.items[2].reason, "PermissionDenied (403)");
	cr_assert_eq(d.u.result.nfiles, 3);
	cr_assert_str_eq(d.u.result.files[1].path, "profiles/prod/application.secrets.yaml");
	secbuf_free(a);
	msg_free(&m);
	msg_free(&d);
}

Test(msg, metrics_round_trip_fields)
{
	struct msg m, d;
	struct err_ctx err = {{0}};
	struct secbuf *a;

	fx_msg(&m, MSG_METRICS);
	a = encode(&m, 0);
	cr_assert_eq(msg_decode(a->data, a->len, &d, &err), 0, "%s", err.msg);
	cr_assert_eq(d.u.metrics.n, 3);
	cr_assert_str_eq(d.u.metrics.names[1], "smc_fetch_errors_total");
	cr_assert_eq(d.u.metrics.values[2], UINT64_MAX);
	secbuf_free(a);
	msg_free(&m);
	msg_free(&d);
}

Test(msg, redacted_encoding_hides_values)
{
	struct msg m;
	struct secbuf *plain, *red;
	const char *tls = "fake-stripe-51H";

	fx_msg(&m, MSG_VALUES);
	plain = encode(&m, 0);
	red = encode(&m, 1);
	/* the canary is really in the plain encoding, so this test can fail */
	cr_assert_not_null(memmem(plain->data, plain->len, FX_CANARY, strlen(FX_CANARY)));
	cr_assert_null(memmem(red->data, red->len, FX_CANARY, strlen(FX_CANARY)));
	cr_assert_null(memmem(red->data, red->len, tls, strlen(tls)));
	cr_assert_null(memmem(red->data, red->len, "8080", 4));
	/* keys and origins are not secret */
	cr_assert_not_null(memmem(red->data, red->len, "DATABASE_PASSWORD", 17));
	secbuf_free(plain);
	secbuf_free(red);
	msg_free(&m);
}

Test(msg, tap_json_has_lengths_not_values)
{
	struct msg m;
	char *js = NULL;
	json_t *root, *secrets, *kv;
	json_error_t jerr;

	fx_msg(&m, MSG_VALUES);
	cr_assert_eq(msg_to_tap_json(&m, &js), 0);
	cr_assert_null(strstr(js, FX_CANARY));
	cr_assert_null(strstr(js, "fake-stripe"));
	cr_assert_null(strchr(js, '\n'));
	root = json_loads(js, 0, &jerr);
	cr_assert_not_null(root, "%s", jerr.text);
	cr_assert_eq(json_integer_value(json_object_get(root, "t")), MSG_VALUES);
	cr_assert_eq(json_integer_value(json_object_get(root, "v")), PROTO_VERSION);
	secrets = json_object_get(root, "secrets");
	cr_assert_eq(json_array_size(secrets), 4);
	kv = json_array_get(secrets, 0);
	cr_assert_str_eq(json_string_value(json_object_get(kv, "key")), "DATABASE_PASSWORD");
	cr_assert(json_is_integer(json_object_get(kv, "value")));
	cr_assert_eq(json_integer_value(json_object_get(kv, "value")), strlen(FX_CANARY));
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(secrets, 2), "value")), 6);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(
				 root, "job"), "config"), "name")),
			 "checkout-secrets");
	json_decref(root);
	free(js);
	msg_free(&m);
}

/* Cloud credentials ride only watcher → syncer, and a tap sees their lengths alone. */
Test(msg, credentials_are_redacted_and_only_for_the_syncer)
{
	struct msg m, d;
	struct err_ctx err = {{0}};
	struct secbuf *a;
	char *js = NULL;
	json_t *root;

	fx_msg(&m, MSG_CREDENTIALS);
	cr_assert_eq(msg_to_tap_json(&m, &js), 0);
	cr_assert_null(strstr(js, FX_CANARY), "%s", js);
	cr_assert_null(strstr(js, "AKIDFIXTUREKEYID0001"), "%s", js);
	cr_assert_null(strstr(js, "fx-session-token"), "%s", js);
	root = json_loads(js, 0, NULL);
	cr_assert_not_null(root);
	cr_assert_eq(json_integer_value(json_object_get(root, "secret")), strlen(FX_CANARY));
	cr_assert_eq(json_integer_value(json_object_get(root, "key_id")), 20);
	cr_assert_str_eq(json_string_value(json_object_get(root, "origin")), "Secret team/aws-keys");
	cr_assert_eq(json_integer_value(json_object_get(root, "job_id")), 42);
	json_decref(root);
	free(js);
	a = encode(&m, 0);
	cr_assert_eq(msg_decode(a->data, a->len, &d, &err), 0, "%s", err.msg);
	cr_assert_str_eq(d.u.credentials.key_id, "AKIDFIXTUREKEYID0001");
	cr_assert_eq(d.u.credentials.secret->len, strlen(FX_CANARY));
	cr_assert(memcmp(d.u.credentials.secret->data, FX_CANARY, strlen(FX_CANARY)) == 0);
	cr_assert_str_eq((const char *)d.u.credentials.token->data, "fx-session-token");
	secbuf_free(a);
	msg_free(&d);
	msg_free(&m);
	cr_assert(msg_allowed(MSG_CREDENTIALS, ROLE_WATCHER, ROLE_SYNCER));
	cr_assert(!msg_allowed(MSG_CREDENTIALS, ROLE_WATCHER, ROLE_FETCHER));
	cr_assert(!msg_allowed(MSG_CREDENTIALS, ROLE_WATCHER, ROLE_DECRYPTOR));
	cr_assert(!msg_allowed(MSG_CREDENTIALS, ROLE_SUPERVISOR, ROLE_SYNCER));
	cr_assert(!msg_allowed(MSG_CREDENTIALS, ROLE_DECRYPTOR, ROLE_SYNCER));
}

Test(msg, tap_json_every_type)
{
	for (size_t i = 0; i < NTYPES; i++) {
		struct msg m;
		char *js = NULL;
		json_t *root;

		fx_msg(&m, all_types[i]);
		cr_assert_eq(msg_to_tap_json(&m, &js), 0, "%s", msg_type_name(all_types[i]));
		root = json_loads(js, 0, NULL);
		cr_assert(json_is_object(root), "%s", js);
		cr_assert_eq(json_integer_value(json_object_get(root, "t")), all_types[i]);
		json_decref(root);
		free(js);
		msg_free(&m);
	}
}

Test(msg, names_and_permit_table)
{
	cr_assert_str_eq(msg_type_name(MSG_VALUES), "VALUES");
	cr_assert_str_eq(msg_type_name(MSG_RUN), "RUN");
	cr_assert_str_eq(msg_type_name(0), "?");
	cr_assert_str_eq(msg_type_name(999), "?");
	cr_assert_str_eq(msg_role_name(ROLE_DECRYPTOR), "decryptor");
	cr_assert_str_eq(msg_role_name(ROLE_CHILDREN), "?");
	cr_assert(msg_allowed(MSG_JOB, ROLE_WATCHER, ROLE_FETCHER));
	cr_assert(!msg_allowed(MSG_JOB, ROLE_FETCHER, ROLE_WATCHER));
	cr_assert(msg_allowed(MSG_TREE, ROLE_FETCHER, ROLE_DECRYPTOR));
	cr_assert(!msg_allowed(MSG_TREE, ROLE_FETCHER, ROLE_SYNCER));
	cr_assert(msg_allowed(MSG_VALUES, ROLE_DECRYPTOR, ROLE_SYNCER));
	cr_assert(!msg_allowed(MSG_VALUES, ROLE_WATCHER, ROLE_SYNCER));
	cr_assert(!msg_allowed(MSG_VALUES, ROLE_DECRYPTOR, ROLE_WATCHER));
	cr_assert(msg_allowed(MSG_RESULT, ROLE_SYNCER, ROLE_WATCHER));
	cr_assert(msg_allowed(MSG_RESULT, ROLE_DECRYPTOR, ROLE_WATCHER));
	cr_assert(!msg_allowed(MSG_RESULT, ROLE_SUPERVISOR, ROLE_WATCHER));
	cr_assert(msg_allowed(MSG_HELLO, ROLE_SUPERVISOR, ROLE_SYNCER));
	cr_assert(msg_allowed(MSG_LOG, ROLE_SYNCER, ROLE_SUPERVISOR));
	cr_assert(!msg_allowed(MSG_LOG, ROLE_SUPERVISOR, ROLE_SYNCER));
	cr_assert(!msg_allowed(MSG_SHUTDOWN, ROLE_WATCHER, ROLE_SUPERVISOR));
	cr_assert(msg_allowed(MSG_RUN, ROLE_SUPERVISOR, ROLE_WATCHER));
	cr_assert(!msg_allowed(MSG_RUN, ROLE_SUPERVISOR, ROLE_FETCHER));
	cr_assert(!msg_allowed(0, ROLE_SUPERVISOR, ROLE_WATCHER));
	cr_assert(!msg_allowed(MSG_TYPE_MAX, ROLE_SUPERVISOR, ROLE_WATCHER));
	cr_assert(!msg_allowed(MSG_JOB, 0, ROLE_FETCHER));
}

Test(msg, encode_refuses_what_the_peer_would_refuse)
{
	struct msg m;
	struct secbuf *sb = NULL;
	char *big;

	fx_msg(&m, MSG_JOB);
	free(m.u.job.job.config.ns);
	m.u.job.job.config.ns = NULL; /* required */
	cr_assert_eq(msg_encode(&m, 0, &sb), ERR_INVAL);
	cr_assert_null(sb);
	m.u.job.job.config.ns = fx_dup("bad\xff utf8");
	cr_assert_eq(msg_encode(&m, 0, &sb), ERR_INVAL);
	free(m.u.job.job.config.ns);
	big = calloc(1, MSG_MAX_NAME + 2);
	memset(big, 'a', MSG_MAX_NAME + 1);
	m.u.job.job.config.ns = big;
	cr_assert_eq(msg_encode(&m, 0, &sb), ERR_INVAL);
	big[MSG_MAX_NAME] = '\0';
	cr_assert_eq(msg_encode(&m, 0, &sb), 0);
	secbuf_free(sb);
	m.u.job.job.policy.deletion = 3;
	cr_assert_eq(msg_encode(&m, 0, &sb), ERR_INVAL);
	msg_free(&m);
	msg_init(&m, 0);
	cr_assert_eq(msg_encode(&m, 0, &sb), ERR_INVAL);
	msg_init(&m, 77);
	cr_assert_eq(msg_encode(&m, 0, &sb), ERR_INVAL);
}

Test(msg, job_copy_is_deep)
{
	struct job a, b;

	fx_job(&a);
	cr_assert_eq(job_copy(&b, &a), 0);
	cr_assert_neq(a.config.ns, b.config.ns);
	cr_assert_str_eq(b.config.ns, "payments");
	cr_assert_str_eq(b.provider.service_account, "smc@acme-prod-1234.iam.gserviceaccount.com");
	cr_assert_null(b.source.digest);
	cr_assert_eq(b.id, 4242);
	cr_assert_eq(b.config.generation, 17);
	cr_assert(b.configs.enabled);
	cr_assert(b.policy.prune);
	cr_assert_eq(b.policy.deletion, JOB_DELETION_DISABLE);
	job_free_fields(&a);
	cr_assert_str_eq(b.source.url, "https://git.example.com/platform/checkout.git");
	job_free_fields(&b);
	cr_assert_null(b.config.ns);
	job_free_fields(NULL);
	msg_free(NULL);
}

/* ---- over a socketpair ---- */

static void pair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	}
	return n;
}

Test(msg, edge_carries_a_socket_and_refuses_to_come_without_one)
{
	int sv[2], inner[2];
	struct msg m, d;
	struct err_ctx err = {{0}};

	pair(sv);
	pair(inner);
	fx_msg(&m, MSG_EDGE);
	m.fd = inner[0];
	cr_assert_eq(msg_send(sv[0], &m), 0);
	cr_assert_eq(msg_recv(sv[1], MSG_CAP_CONTROL, &d, &err), 0, "%s", err.msg);
	cr_assert_eq(d.type, MSG_EDGE);
	cr_assert_str_eq(d.u.edge.peer, "fetcher");
	cr_assert(d.fd >= 0);
	/* the passed descriptor is a working socket to inner[1] */
	cr_assert_eq(write(d.fd, "x", 1), 1);
	{
		char c = 0;

		cr_assert_eq(read(inner[1], &c, 1), 1);
		cr_assert_eq(c, 'x');
	}
	msg_free(&d);
	m.fd = -1;
	cr_assert_eq(msg_send(sv[0], &m), 0);
	cr_assert_neq(msg_recv(sv[1], MSG_CAP_CONTROL, &d, &err), 0);
	cr_assert(strstr(err.msg, "EDGE") != NULL, "%s", err.msg);
	cr_assert(msg_allowed(MSG_EDGE, ROLE_SUPERVISOR, ROLE_DECRYPTOR));
	cr_assert(!msg_allowed(MSG_EDGE, ROLE_WATCHER, ROLE_FETCHER));
	msg_free(&m);
	close(inner[0]);
	close(inner[1]);
	close(sv[0]);
	close(sv[1]);
}

Test(msg, send_recv_every_control_and_pipeline_type)
{
	int sv[2];

	pair(sv);
	for (size_t i = 0; i < NTYPES; i++) {
		struct msg m, d;
		struct err_ctx err = {{0}};
		struct secbuf *a, *b;

		if (all_types[i] == MSG_TREE || all_types[i] == MSG_EDGE)
			continue; /* need their descriptor, below */
		fx_msg(&m, all_types[i]);
		cr_assert_eq(msg_send(sv[0], &m), 0);
		cr_assert_eq(msg_recv(sv[1], MSG_CAP_PIPELINE, &d, &err), 0, "%s", err.msg);
		cr_assert_eq(d.type, all_types[i]);
		a = encode(&m, 0);
		b = encode(&d, 0);
		cr_assert_eq(a->len, b->len);
		cr_assert(memcmp(a->data, b->data, a->len) == 0);
		secbuf_free(a);
		secbuf_free(b);
		msg_free(&m);
		msg_free(&d);
	}
	close(sv[0]);
	{
		struct msg d;
		struct err_ctx err = {{0}};

		cr_assert_eq(msg_recv(sv[1], MSG_CAP_CONTROL, &d, &err), ERR_EOF);
	}
	close(sv[1]);
}

Test(msg, tree_with_memfd_over_socketpair)
{
	struct tree t, back;
	struct msg m, d;
	struct err_ctx err = {{0}};
	int sv[2], fd;

	tree_init(&t);
	cr_assert_eq(tree_add(&t, "profiles/prod/application.secrets.env", "A=ENC[...]\n", 11,
			      0600), 0);
	cr_assert_eq(tree_add(&t, "profiles/prod/application.properties", "server.port=8080\n",
			      17, 0644), 0);
	cr_assert_eq(tree_to_memfd(&t, &fd), 0);
	pair(sv);
	fx_msg(&m, MSG_TREE);
	m.fd = fd;
	cr_assert_eq(msg_send(sv[0], &m), 0);
	msg_free(&m); /* the sender keeps ownership of its fd: closed here */
	cr_assert_eq(msg_recv(sv[1], MSG_CAP_PIPELINE, &d, &err), 0, "%s", err.msg);
	cr_assert_eq(d.type, MSG_TREE);
	cr_assert_geq(d.fd, 0);
	cr_assert(fcntl(d.fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_str_eq(d.u.tree.job.config.name, "checkout-secrets");
	cr_assert_eq(tree_from_memfd(d.fd, &back), 0);
	cr_assert_eq(back.n, 2);
	cr_assert_str_eq((const char *)tree_find(&back, "profiles/prod/application.properties")
				 ->data,
			 "server.port=8080\n");
	tree_free(&back);
	tree_free(&t);
	msg_free(&d);
	close(sv[0]);
	close(sv[1]);
}

Test(msg, tree_without_fd_refused)
{
	struct msg m, d;
	struct err_ctx err = {{0}};
	int sv[2];

	pair(sv);
	fx_msg(&m, MSG_TREE);
	cr_assert_eq(msg_send(sv[0], &m), 0);
	cr_assert_eq(msg_recv(sv[1], MSG_CAP_PIPELINE, &d, &err), ERR_PROTO);
	cr_assert(strstr(err.msg, "TREE") != NULL, "%s", err.msg);
	msg_free(&m);
	close(sv[0]);
	close(sv[1]);
}

Test(msg, stray_fd_refused_and_closed)
{
	struct msg m, d;
	struct err_ctx err = {{0}};
	int sv[2], before, devnull;

	pair(sv);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(devnull, 0);
	fx_msg(&m, MSG_JOB);
	m.fd = devnull;
	cr_assert_eq(msg_send(sv[0], &m), 0);
	msg_free(&m);
	before = count_fds();
	cr_assert_eq(msg_recv(sv[1], MSG_CAP_PIPELINE, &d, &err), ERR_PROTO);
	cr_assert(strstr(err.msg, "descriptor") != NULL, "%s", err.msg);
	cr_assert_eq(count_fds(), before, "the stray descriptor was not closed");
	close(sv[0]);
	close(sv[1]);
}

Test(msg, recv_cap_applies)
{
	struct msg m, d;
	struct err_ctx err = {{0}};
	int sv[2];

	pair(sv);
	fx_msg(&m, MSG_VALUES);
	cr_assert_eq(msg_send(sv[0], &m), 0);
	cr_assert_eq(msg_recv(sv[1], 64, &d, &err), ERR_PROTO);
	msg_free(&m);
	close(sv[0]);
	close(sv[1]);
}
