/* test_msg_job.c — the Git credentials of a JOB: they survive a round trip, the redacted
 * encoding (taps) carries only their lengths, job_copy copies them and
 * job_clear_credentials removes them before a job is passed on. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "msg_fixtures.h"
#include "proto/msg.h"

static struct secbuf *encode(const struct msg *m, int redact)
{
	struct secbuf *sb = NULL;

	cr_assert_eq(msg_encode(m, redact, &sb), 0);
	return sb;
}

static int has(const struct secbuf *sb, const char *needle)
{
	return memmem(sb->data, sb->len, needle, strlen(needle)) != NULL;
}

Test(msg_job, credentials_round_trip)
{
	struct msg m, d;
	struct err_ctx err = {{0}};
	struct secbuf *a;

	fx_msg(&m, MSG_JOB);
	a = encode(&m, 0);
	cr_assert_eq(msg_decode(a->data, a->len, &d, &err), 0, "%s", err.msg);
	cr_assert_str_eq(d.u.job.job.source.username, "deploy-bot");
	cr_assert_not_null(d.u.job.job.source.password);
	cr_assert(secbuf_eq_mem(d.u.job.job.source.password, FX_CANARY, strlen(FX_CANARY)));
	cr_assert(secbuf_eq_mem(d.u.job.job.source.ssh_key, FX_SSH_KEY, strlen(FX_SSH_KEY)));
	cr_assert(secbuf_eq_mem(d.u.job.job.source.ssh_key_passphrase, "pass-phrase-7", 13));
	cr_assert_str_eq(d.u.job.job.source.known_hosts, FX_KNOWN_HOSTS);
	secbuf_free(a);
	msg_free(&d);
	msg_free(&m);
}

Test(msg_job, absent_credentials_stay_absent)
{
	struct msg m, d;
	struct err_ctx err = {{0}};
	struct secbuf *a;

	fx_msg(&m, MSG_JOB);
	job_clear_credentials(&m.u.job.job);
	a = encode(&m, 0);
	cr_assert_not(has(a, "password"));
	cr_assert_not(has(a, "ssh_key"));
	cr_assert_eq(msg_decode(a->data, a->len, &d, &err), 0, "%s", err.msg);
	cr_assert_null(d.u.job.job.source.password);
	cr_assert_null(d.u.job.job.source.ssh_key);
	cr_assert_null(d.u.job.job.source.username);
	secbuf_free(a);
	msg_free(&d);
	msg_free(&m);
}

Test(msg_job, canary_password_never_in_redacted_encoding)
{
	struct msg m;
	struct secbuf *plain, *red;

	fx_msg(&m, MSG_JOB);
	plain = encode(&m, 0);
	red = encode(&m, 1);
	/* the secrets are in the plain encoding, so the test can fail */
	cr_assert(has(plain, FX_CANARY));
	cr_assert(has(plain, "SSHKEY-CANARY"));
	cr_assert(has(plain, "pass-phrase-7"));
	cr_assert(has(plain, "deploy-bot"));
	cr_assert_not(has(red, FX_CANARY));
	cr_assert_not(has(red, "SSHKEY-CANARY"));
	cr_assert_not(has(red, "pass-phrase-7"));
	cr_assert_not(has(red, "deploy-bot"));
	/* known_hosts and the URL are not secret */
	cr_assert(has(red, "ssh-ed25519"));
	cr_assert(has(red, "git.example.com"));
	secbuf_free(plain);
	secbuf_free(red);
	msg_free(&m);
}

Test(msg_job, tap_json_shows_lengths)
{
	struct msg m;
	char *js = NULL;
	json_t *root, *src;
	json_error_t jerr;

	fx_msg(&m, MSG_JOB);
	cr_assert_eq(msg_to_tap_json(&m, &js), 0);
	cr_assert_null(strstr(js, FX_CANARY));
	cr_assert_null(strstr(js, "SSHKEY-CANARY"));
	root = json_loads(js, 0, &jerr);
	cr_assert_not_null(root, "%s", jerr.text);
	src = json_object_get(json_object_get(root, "job"), "source");
	cr_assert_eq(json_integer_value(json_object_get(src, "password")), strlen(FX_CANARY));
	cr_assert_eq(json_integer_value(json_object_get(src, "ssh_key")), strlen(FX_SSH_KEY));
	cr_assert_eq(json_integer_value(json_object_get(src, "username")), strlen("deploy-bot"));
	json_decref(root);
	free(js);
	msg_free(&m);
}

Test(msg_job, copy_and_clear)
{
	struct job a, b;

	fx_job(&a);
	cr_assert_eq(job_copy(&b, &a), 0);
	cr_assert_neq(a.source.password, b.source.password);
	cr_assert(secbuf_eq_mem(b.source.password, FX_CANARY, strlen(FX_CANARY)));
	job_clear_credentials(&b);
	cr_assert_null(b.source.password);
	cr_assert_null(b.source.ssh_key);
	cr_assert_null(b.source.ssh_key_passphrase);
	cr_assert_null(b.source.username);
	cr_assert_str_eq(b.source.known_hosts, FX_KNOWN_HOSTS); /* not a credential */
	cr_assert(secbuf_eq_mem(a.source.password, FX_CANARY, strlen(FX_CANARY)));
	job_clear_credentials(NULL);
	job_free_fields(&a);
	job_free_fields(&b);
}

Test(msg_job, oversize_credential_refused)
{
	struct msg m;
	struct secbuf *sb = NULL;
	static char big[MSG_MAX_CREDENTIAL + 1];

	fx_msg(&m, MSG_JOB);
	secbuf_free(m.u.job.job.source.password);
	memset(big, 'x', sizeof(big));
	cr_assert_eq(secbuf_from(&m.u.job.job.source.password, big, sizeof(big)), 0);
	cr_assert_neq(msg_encode(&m, 0, &sb), 0);
	msg_free(&m);
}
