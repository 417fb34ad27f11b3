/* test_provider_creds.c — a config's credentials Secret → CREDENTIALS (provider_creds.h):
 * accepted key names per provider, what is required, and errors that name the Secret and
 * the key but never a value. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "watcher/provider_creds.h"

#define SECRET_VALUE "wJalrXUtnFEMI-K7MDENG-bPxRfiCYCANARY"

/* A Secret named aws-keys in team with data (each value given in plain text, encoded
 * here as the API server would). */
static json_t *secret(const char *const *kv)
{
	json_t *data = json_object();
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; kv[i] != NULL; i += 2) {
		const unsigned char *v = (const unsigned char *)kv[i + 1];
		size_t n = strlen(kv[i + 1]), o = 0;
		char b64[512];

		for (size_t k = 0; k < n; k += 3) {
			unsigned w = (unsigned)v[k] << 16 | (k + 1 < n ? (unsigned)v[k + 1] << 8 : 0) |
				     (k + 2 < n ? v[k + 2] : 0);

			b64[o++] = tab[w >> 18 & 63];
			b64[o++] = tab[w >> 12 & 63];
			b64[o++] = k + 1 < n ? tab[w >> 6 & 63] : '=';
			b64[o++] = k + 2 < n ? tab[w & 63] : '=';
		}
		b64[o] = '\0';
		json_object_set_new(data, kv[i], json_string(b64));
	}
	return json_pack("{s:{s:s,s:s},s:o}", "metadata", "name", "aws-keys", "namespace", "team",
			 "data", data);
}

static struct job job_for(const char *kind)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.config.ns = (char *)"team";
	j.config.name = (char *)"app";
	j.provider.kind = (char *)kind;
	j.provider.secret_name = (char *)"aws-keys";
	j.provider.secret_namespace = (char *)"";
	j.provider.secret_key = (char *)"";
	j.provider.client_id = (char *)"";
	return j;
}

Test(provider_creds, aws_keys_in_every_accepted_spelling)
{
	static const char *const spellings[][7] = {
		{"aws_access_key_id", "AKIA1", "aws_secret_access_key", SECRET_VALUE,
		 "aws_session_token", "tok", NULL},
		{"AWS_ACCESS_KEY_ID", "AKIA1", "AWS_SECRET_ACCESS_KEY", SECRET_VALUE, NULL},
		{"access-key-id", "AKIA1", "secret-access-key", SECRET_VALUE, NULL},
		{"accessKeyId", "AKIA1", "secretAccessKey", SECRET_VALUE, NULL},
	};
	struct job j = job_for("aws");

	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		json_t *s = secret(spellings[i]);
		struct msg m;
		struct err_ctx err = {{0}};

		msg_init(&m, MSG_CREDENTIALS);
		cr_assert_eq(provider_creds_from_secret(s, &j, &m.u.credentials, &err), 0, "%zu: %s",
			     i, err.msg);
		cr_assert_str_eq(m.u.credentials.provider, "aws");
		cr_assert_str_eq(m.u.credentials.origin, "Secret team/aws-keys");
		cr_assert_str_eq(m.u.credentials.key_id, "AKIA1");
		cr_assert_str_eq((const char *)m.u.credentials.secret->data, SECRET_VALUE);
		if (i == 0)
			cr_assert_str_eq((const char *)m.u.credentials.token->data, "tok");
		else
			cr_assert_null(m.u.credentials.token);
		msg_free(&m);
		json_decref(s);
	}
}

Test(provider_creds, missing_keys_are_named_and_no_value_leaks)
{
	static const char *const only_id[] = {"aws_access_key_id", "AKIA1", NULL};
	static const char *const only_secret[] = {"aws_secret_access_key", SECRET_VALUE, NULL};
	static const char *const not_b64[] = {"aws_access_key_id", "AKIA1", NULL};
	struct job j = job_for("aws");
	struct msg_credentials c;
	struct err_ctx err = {{0}};
	json_t *s = secret(only_id);

	cr_assert_eq(provider_creds_from_secret(s, &j, &c, &err), ERR_NOKEY);
	cr_assert(strstr(err.msg, "Secret team/aws-keys has no data key aws_secret_access_key or "
				  "AWS_SECRET_ACCESS_KEY") != NULL, "%s", err.msg);
	cr_assert_null(c.secret);
	json_decref(s);
	s = secret(only_secret);
	cr_assert_eq(provider_creds_from_secret(s, &j, &c, &err), ERR_NOKEY);
	cr_assert(strstr(err.msg, "no data key aws_access_key_id") != NULL, "%s", err.msg);
	cr_assert_null(strstr(err.msg, SECRET_VALUE));
	json_decref(s);
	s = secret(not_b64);
	json_object_set_new(json_object_get(s, "data"), "aws_secret_access_key",
			    json_string("not base64!"));
	cr_assert_eq(provider_creds_from_secret(s, &j, &c, &err), ERR_INVAL);
	cr_assert(strstr(err.msg, "Secret aws-keys: data.aws_secret_access_key") != NULL, "%s",
		  err.msg);
	json_decref(s);
}

Test(provider_creds, secret_namespace_and_gcp_azure_keys)
{
	static const char *const gcp[] = {"credentials.json", "{\"type\":\"service_account\"}",
					  "sa.json", "{\"type\":\"other\"}", NULL};
	static const char *const az[] = {"clientSecret", SECRET_VALUE, "clientId", "cid-1", NULL};
	struct job j = job_for("gcp");
	struct msg m;
	struct err_ctx err = {{0}};
	json_t *s = secret(gcp);

	cr_assert_str_eq(provider_creds_namespace(&j), "team");
	j.provider.secret_namespace = (char *)"platform";
	cr_assert_str_eq(provider_creds_namespace(&j), "platform");
	msg_init(&m, MSG_CREDENTIALS);
	cr_assert_eq(provider_creds_from_secret(s, &j, &m.u.credentials, &err), 0, "%s", err.msg);
	cr_assert_str_eq((const char *)m.u.credentials.secret->data, "{\"type\":\"service_account\"}");
	cr_assert_str_eq(m.u.credentials.origin, "Secret platform/aws-keys");
	msg_free(&m);
	j.provider.secret_key = (char *)"sa.json"; /* auth.secretKey picks another key */
	msg_init(&m, MSG_CREDENTIALS);
	cr_assert_eq(provider_creds_from_secret(s, &j, &m.u.credentials, &err), 0, "%s", err.msg);
	cr_assert_str_eq((const char *)m.u.credentials.secret->data, "{\"type\":\"other\"}");
	msg_free(&m);
	j.provider.secret_key = (char *)"absent.json";
	cr_assert_eq(provider_creds_from_secret(s, &j, &m.u.credentials, &err), ERR_NOKEY);
	cr_assert(strstr(err.msg, "no data key absent.json") != NULL, "%s", err.msg);
	json_decref(s);

	j = job_for("azure");
	s = secret(az);
	msg_init(&m, MSG_CREDENTIALS);
	cr_assert_eq(provider_creds_from_secret(s, &j, &m.u.credentials, &err), 0, "%s", err.msg);
	cr_assert_str_eq(m.u.credentials.key_id, "cid-1"); /* from the Secret */
	msg_free(&m);
	j.provider.client_id = (char *)"cid-spec"; /* the spec's clientId wins */
	msg_init(&m, MSG_CREDENTIALS);
	cr_assert_eq(provider_creds_from_secret(s, &j, &m.u.credentials, &err), 0, "%s", err.msg);
	cr_assert_str_eq(m.u.credentials.key_id, "cid-spec");
	msg_free(&m);
	json_decref(s);
}
