/* test_aws_auth.c — which AWS credential source aws_auth_new picks: the config's Secret
 * alone; the one authType names (or an error saying what it lacks); else the chain web
 * identity → pod identity → environment keys. No request is made here. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "syncer/providers/aws/aws_auth.h"

static void env_clear(void)
{
	static const char *const vars[] = {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
					   "AWS_CONTAINER_CREDENTIALS_FULL_URI",
					   "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
					   "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static void env_all(void)
{
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r", 1);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/token", 1);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
}

/* The source picked for auth_type, or -rc when aws_auth_new fails (err in *msg). */
static int picked(const char *auth_type, const struct msg_credentials *secret, char *msg,
		  size_t n)
{
	struct aws_auth_cfg cfg = {.sts_url = "http://127.0.0.1:1/", .secret = secret,
				   .auth_type = auth_type};
	struct aws_auth *a = NULL;
	struct err_ctx err = {{0}};
	int rc = aws_auth_new(&cfg, &a, &err);

	if (msg != NULL)
		snprintf(msg, n, "%s", err.msg);
	if (rc != 0)
		return rc < 0 ? rc : -rc;
	rc = (int)aws_auth_source(a);
	aws_auth_free(a);
	return rc;
}

Test(aws_auth, chain_order_without_auth_type)
{
	env_clear();
	env_all();
	cr_assert_eq(picked("", NULL, NULL, 0), AWS_AUTH_WEB_IDENTITY);
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	cr_assert_eq(picked(NULL, NULL, NULL, 0), AWS_AUTH_POD_IDENTITY);
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	cr_assert_eq(picked("", NULL, NULL, 0), AWS_AUTH_ENV);
	env_clear();
	cr_assert_lt(picked("", NULL, NULL, 0), 0);
}

Test(aws_auth, auth_type_narrows_the_chain)
{
	char msg[512];

	env_clear();
	env_all();
	cr_assert_eq(picked("irsa", NULL, NULL, 0), AWS_AUTH_WEB_IDENTITY);
	cr_assert_eq(picked("podIdentity", NULL, NULL, 0), AWS_AUTH_POD_IDENTITY);
	cr_assert_eq(picked("accessKeys", NULL, NULL, 0), AWS_AUTH_ENV);
	/* the named source missing: an error, never a fall back to another identity */
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	cr_assert_lt(picked("irsa", NULL, msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "spec.provider.aws.auth.authType irsa needs") != NULL, "%s", msg);
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	cr_assert_lt(picked("podIdentity", NULL, msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "AWS_CONTAINER_CREDENTIALS_FULL_URI") != NULL, "%s", msg);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/token", 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	cr_assert_lt(picked("accessKeys", NULL, msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "accessKeys needs auth.secretName") != NULL, "%s", msg);
	cr_assert_null(strstr(msg, "env-secret"));
}

Test(aws_auth, the_configs_secret_is_used_alone)
{
	struct msg_credentials c = {.provider = (char *)"aws", .origin = (char *)"Secret t/k",
				    .key_id = (char *)"AKIDSECRET"};
	char msg[512];

	env_clear();
	env_all();
	cr_assert_eq(secbuf_from(&c.secret, "s3cr3t", 6), 0);
	cr_assert_eq(picked("accessKeys", &c, NULL, 0), AWS_AUTH_SECRET);
	cr_assert_eq(picked("", &c, NULL, 0), AWS_AUTH_SECRET);
	secbuf_free(c.secret);
	c.secret = NULL; /* a Secret without its secret key: refused, no fall back */
	cr_assert_lt(picked("accessKeys", &c, msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "Secret t/k holds no access key id or secret key") != NULL, "%s",
		  msg);
}
