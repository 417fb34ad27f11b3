/* provider_creds.c — a config's credentials Secret → CREDENTIALS (rules in the header). */
#include "watcher/provider_creds.h"

#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "watcher/kube_secret.h"

#define NAMES_MAX 4

struct creds_field {
	const char *names[NAMES_MAX]; /* accepted data keys, first present wins */
};

static const struct creds_field aws_key_id = {
	{"aws_access_key_id", "AWS_ACCESS_KEY_ID", "access-key-id", "accessKeyId"}};
static const struct creds_field aws_secret = {
	{"aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "secret-access-key", "secretAccessKey"}};
static const struct creds_field aws_token = {
	{"aws_session_token", "AWS_SESSION_TOKEN", "session-token", "sessionToken"}};
static const struct creds_field gcp_key = {{"credentials.json", "key.json"}};
static const struct creds_field azure_client_id = {{"clientId", "client-id", "AZURE_CLIENT_ID"}};
static const struct creds_field azure_secret = {
	{"clientSecret", "client-secret", "AZURE_CLIENT_SECRET"}};

const char *provider_creds_namespace(const struct job *job)
{
	const char *ns = job->provider.secret_namespace;

	return ns != NULL && ns[0] != '\0' ? ns : job->config.ns;
}

/* The first present key of f (or only `key` when the spec names one) into *out. NULL and
 * 0 when none is present. */
static int read_field(const json_t *secret, const struct creds_field *f, const char *key,
		      struct secbuf **out, struct err_ctx *err)
{
	*out = NULL;
	if (key != NULL && key[0] != '\0')
		return kube_secret_field(secret, key, PROVIDER_CREDS_MAX_FIELD, out, err);
	for (size_t i = 0; i < NAMES_MAX && f->names[i] != NULL; i++) {
		int rc;

		if ((rc = kube_secret_field(secret, f->names[i], PROVIDER_CREDS_MAX_FIELD, out,
					    err)) != 0 ||
		    *out != NULL)
			return rc;
	}
	return 0;
}

static int missing(const struct job *job, const struct creds_field *f, const char *key,
		   struct err_ctx *err)
{
	char names[160] = "";

	if (key != NULL && key[0] != '\0') {
		(void)str_copy(names, sizeof(names), key);
	} else {
		size_t off = 0;

		for (size_t i = 0; i < NAMES_MAX && f->names[i] != NULL; i++) {
			if (str_fmt(names + off, sizeof(names) - off, "%s%s", i ? " or " : "",
				    f->names[i]) != 0)
				break;
			off += strlen(names + off);
		}
	}
	return err_set(err, ERR_NOKEY,
		       "spec.provider.%s.auth.secretName: Secret %s/%s has no data key %s",
		       job->provider.kind, provider_creds_namespace(job), job->provider.secret_name,
		       names);
}

/* The secbuf as a string (the key id rides as a secret string). Owned. */
static char *secbuf_str(const struct secbuf *b)
{
	return xstrndup((const char *)b->data, b->len);
}

int provider_creds_from_secret(const json_t *secret, const struct job *job,
			       struct msg_credentials *out, struct err_ctx *err)
{
	const struct job_provider *p = &job->provider;
	const struct creds_field *fid = NULL, *fsec = NULL, *ftok = NULL;
	const char *sec_key = NULL;
	struct secbuf *id = NULL, *sec = NULL, *tok = NULL;
	char origin[MSG_MAX_NAME * 2 + 16];
	int rc;

	memset(out, 0, sizeof(*out));
	if (strcmp(p->kind, "aws") == 0) {
		fid = &aws_key_id;
		fsec = &aws_secret;
		ftok = &aws_token;
	} else if (strcmp(p->kind, "gcp") == 0) {
		fsec = &gcp_key;
		sec_key = p->secret_key;
	} else if (strcmp(p->kind, "azure") == 0) {
		fsec = &azure_secret;
		sec_key = p->secret_key;
		if (p->client_id == NULL || p->client_id[0] == '\0')
			fid = &azure_client_id;
	} else {
		return err_set(err, ERR_INVAL, "spec.provider.%s.auth.secretName: not used by %s",
			       p->kind, p->kind);
	}
	if ((rc = read_field(secret, fsec, sec_key, &sec, err)) != 0)
		goto fail;
	if (sec == NULL || sec->len == 0) {
		rc = missing(job, fsec, sec_key, err);
		goto fail;
	}
	if (fid != NULL) {
		if ((rc = read_field(secret, fid, NULL, &id, err)) != 0)
			goto fail;
		if (id == NULL || id->len == 0) {
			rc = missing(job, fid, NULL, err);
			goto fail;
		}
	}
	if (ftok != NULL && (rc = read_field(secret, ftok, NULL, &tok, err)) != 0)
		goto fail;
	(void)str_fmt(origin, sizeof(origin), "Secret %s/%s", provider_creds_namespace(job),
		      p->secret_name);
	out->provider = xstrdup(p->kind);
	out->origin = xstrdup(origin);
	if (id != NULL)
		out->key_id = secbuf_str(id);
	else if (strcmp(p->kind, "azure") == 0)
		out->key_id = xstrdup(p->client_id);
	if (out->provider == NULL || out->origin == NULL ||
	    (out->key_id == NULL && (id != NULL || strcmp(p->kind, "azure") == 0))) {
		rc = ERR_NOMEM;
		goto fail;
	}
	out->secret = sec;
	out->token = tok;
	secbuf_free(id);
	return 0;
fail:
	secbuf_free(id);
	secbuf_free(sec);
	secbuf_free(tok);
	free(out->provider);
	free(out->origin);
	if (out->key_id != NULL)
		explicit_bzero(out->key_id, strlen(out->key_id));
	free(out->key_id);
	memset(out, 0, sizeof(*out));
	return rc;
}
