/* msg_fixtures.h — realistic messages of every type for the proto tests (header-only,
 * included by tests/unit/proto/test_*.c). */
#ifndef SMC_TEST_MSG_FIXTURES_H
#define SMC_TEST_MSG_FIXTURES_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/kvlist.h"
#include "common/secbuf.h"
#include "common/xmalloc.h"
#include "proto/msg.h"

/* A canary that must never appear in a redacted encoding or a tap. */
#define FX_CANARY "CANARY-9f8e7d6c-plaintext-value"

/* An SSH private key and known_hosts line (not real keys: shaped like them). */
#define FX_SSH_KEY "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-SSHKEY-CANARY\n-----END OPENSSH PRIVATE KEY-----\n"
#define FX_KNOWN_HOSTS "[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKnownHostKeyNotSecret\n"

static inline char *fx_dup(const char *s)
{
	char *p = xstrdup(s);

	cr_assert_not_null(p);
	return p;
}

static inline void fx_job(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->id = 4242;
	j->config.ns = fx_dup("payments");
	j->config.name = fx_dup("checkout-secrets");
	j->config.uid = fx_dup("5b1c2a4e-8d9f-4c1e-a3b7-0e6f2d9c8b71");
	j->config.generation = 17;
	j->source.kind = fx_dup("git");
	j->source.url = fx_dup("https://git.example.com/platform/checkout.git");
	j->source.revision = fx_dup("main@sha1:3f786850e387550fdab836ed7e6dc881de23001b");
	j->source.subpath = fx_dup("");
	/* Git credentials (secret fields): the canary stands for the password */
	j->source.username = fx_dup("deploy-bot");
	cr_assert_eq(secbuf_from(&j->source.password, FX_CANARY, strlen(FX_CANARY)), 0);
	cr_assert_eq(secbuf_from(&j->source.ssh_key, FX_SSH_KEY, strlen(FX_SSH_KEY)), 0);
	cr_assert_eq(secbuf_from(&j->source.ssh_key_passphrase, "pass-phrase-7", 13), 0);
	j->source.known_hosts = fx_dup(FX_KNOWN_HOSTS);
	j->mode.base_path = fx_dup("microservices/checkout");
	j->mode.environment = fx_dup("prod");
	j->naming.prefix = fx_dup("checkout");
	j->naming.suffix = fx_dup("-prod");
	j->provider.kind = fx_dup("gcp");
	j->provider.project_id = fx_dup("acme-prod-1234");
	j->provider.location = fx_dup("europe-west1");
	j->provider.auth_type = fx_dup("workloadIdentity");
	j->provider.service_account = fx_dup("smc@acme-prod-1234.iam.gserviceaccount.com");
	j->configs.enabled = true;
	j->configs.store = fx_dup("parameterManager");
	j->policy.deletion = JOB_DELETION_DISABLE;
	j->policy.prune = true;
	j->policy.trigger_update = true;
}

static inline void fx_kv(struct kvlist *l, const char *group, const char *key, const void *v,
			 size_t n, const char *origin)
{
	struct secbuf *sb;

	cr_assert_eq(secbuf_from(&sb, v, n), 0);
	cr_assert_eq(kvlist_add_group(l, group, key, sb, origin), 0);
}

static inline void fx_files(struct file_report **files, size_t *n)
{
	static const struct {
		const char *path;
		bool enc;
		uint32_t count;
	} f[] = {
		{"profiles/prod/application.secrets.env", true, 3},
		{"profiles/prod/application.secrets.yaml", true, 1},
		{"profiles/prod/application.properties", false, 2},
	};

	*files = xcalloc(3, sizeof(**files));
	cr_assert_not_null(*files);
	for (size_t i = 0; i < 3; i++) {
		(*files)[i].path = fx_dup(f[i].path);
		(*files)[i].encrypted = f[i].enc;
		(*files)[i].count = f[i].count;
	}
	*n = 3;
}

/* Builds a realistic message of the given type (fd stays -1). */
static inline void fx_msg(struct msg *m, uint32_t type)
{
	static const uint8_t binval[] = {0x00, 0xff, 0x10, 0x80, 0x00, 0x7f};

	msg_init(m, type);
	switch (type) {
	case MSG_HELLO:
		m->u.hello.version = PROTO_VERSION;
		m->u.hello.role = fx_dup("decryptor");
		break;
	case MSG_LOG:
		m->u.log.level = 2;
		m->u.log.line = fx_dup("{\"ts\":\"2024-05-01T10:00:00Z\",\"proc\":\"fetcher\","
				       "\"event\":\"fetch.retry\",\"msg\":\"artifact 404, retrying\"}");
		break;
	case MSG_METRICS:
		m->u.metrics.n = 3;
		m->u.metrics.names = xcalloc(3, sizeof(char *));
		m->u.metrics.values = xcalloc(3, sizeof(uint64_t));
		m->u.metrics.names[0] = fx_dup("smc_fetch_total");
		m->u.metrics.names[1] = fx_dup("smc_fetch_errors_total");
		m->u.metrics.names[2] = fx_dup("smc_bytes_fetched_total");
		m->u.metrics.values[0] = 120;
		m->u.metrics.values[1] = 0;
		m->u.metrics.values[2] = UINT64_MAX;
		break;
	case MSG_TAP_ATTACH:
		m->u.tap_attach.enable = true;
		break;
	case MSG_TAP:
		m->u.tap.edge = fx_dup("decryptor->syncer");
		m->u.tap.direction = fx_dup("out");
		m->u.tap.json = fx_dup("{\"t\":9,\"v\":1,\"secrets\":[{\"key\":\"a\",\"value\":3}]}");
		break;
	case MSG_SHUTDOWN:
		break;
	case MSG_JOB:
		fx_job(&m->u.job.job);
		break;
	case MSG_TREE:
		fx_job(&m->u.tree.job);
		m->u.tree.revision = fx_dup("main@sha1:3f786850e387550fdab836ed7e6dc881de23001b");
		break;
	case MSG_VALUES:
		fx_job(&m->u.values.job);
		m->u.values.revision = fx_dup("main@sha1:3f786850e387550fdab836ed7e6dc881de23001b");
		kvlist_init(&m->u.values.secrets);
		kvlist_init(&m->u.values.configs);
		fx_kv(&m->u.values.secrets, "checkout", "DATABASE_PASSWORD", FX_CANARY,
		      strlen(FX_CANARY), "profiles/prod/application.secrets.env:3");
		fx_kv(&m->u.values.secrets, "checkout", "stripe.api.key", "fake-stripe-51H",
		      15, "profiles/prod/application.secrets.yaml:7");
		fx_kv(&m->u.values.secrets, NULL, "TLS_KEY", binval, sizeof(binval), NULL);
		fx_kv(&m->u.values.secrets, "checkout", "EMPTY", "", 0,
		      "profiles/prod/application.secrets.env:9");
		fx_kv(&m->u.values.configs, "checkout", "server.port", "8080", 4,
		      "profiles/prod/application.properties:1");
		fx_kv(&m->u.values.configs, "checkout", "feature.flags", "a=1, b=\xc3\xa9", 9,
		      "profiles/prod/application.properties:2");
		fx_files(&m->u.values.files, &m->u.values.nfiles);
		break;
	case MSG_RESULT: {
		struct result_item *it = xcalloc(3, sizeof(*it));

		cr_assert_not_null(it);
		m->u.result.job_id = 4242;
		m->u.result.ns = fx_dup("payments");
		m->u.result.name = fx_dup("checkout-secrets");
		m->u.result.code = ERR_REMOTE;
		m->u.result.stage = fx_dup("sync");
		m->u.result.reason = fx_dup("1 of 3 items failed: checkout-TLS_KEY-prod: 403");
		m->u.result.revision = fx_dup("main@sha1:3f786850e387550fdab836ed7e6dc881de23001b");
		it[0].name = fx_dup("checkout-DATABASE_PASSWORD-prod");
		it[0].key = fx_dup("DATABASE_PASSWORD");
		it[0].kind = ITEM_SECRET;
		it[0].outcome = ITEM_WRITTEN;
		it[1].name = fx_dup("checkout-old-key-prod");
		it[1].kind = ITEM_SECRET;
		it[1].outcome = ITEM_PRUNED;
		it[2].name = fx_dup("checkout-TLS_KEY-prod");
		it[2].key = fx_dup("TLS_KEY");
		it[2].kind = ITEM_CONFIG;
		it[2].outcome = ITEM_FAILED;
		it[2].reason = fx_dup("PermissionDenied (403)");
		m->u.result.items = it;
		m->u.result.nitems = 3;
		fx_files(&m->u.result.files, &m->u.result.nfiles);
		break;
	}
	case MSG_RUN:
		m->u.run.config_path = fx_dup("/etc/smc/config.yaml");
		m->u.run.dry_run = true;
		break;
	case MSG_EDGE:
		m->u.edge.peer = fx_dup("fetcher");
		break;
	case MSG_CREDENTIALS:
		m->u.credentials.job_id = 42;
		m->u.credentials.provider = fx_dup("aws");
		m->u.credentials.origin = fx_dup("Secret team/aws-keys");
		m->u.credentials.key_id = fx_dup("AKIDFIXTUREKEYID0001");
		cr_assert_eq(secbuf_from(&m->u.credentials.secret, FX_CANARY, strlen(FX_CANARY)), 0);
		cr_assert_eq(secbuf_from(&m->u.credentials.token, "fx-session-token", 16), 0);
		break;
	default:
		cr_assert_fail("no fixture for type %u", type);
	}
}

#endif
