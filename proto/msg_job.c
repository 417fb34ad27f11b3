/* msg_job.c — the job (secret: only the Git credentials of its source) and the JOB and TREE messages' field tables;
 * job_copy and job_free_fields. */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"
#include "proto/msg.h"

#define R CODEC_REQUIRED

static const struct codec_field job_config_fields[] = {
	CODEC_F(struct job_config, ns, "ns", CODEC_STR, R, MSG_MAX_NAME),
	CODEC_F(struct job_config, name, "name", CODEC_STR, R, MSG_MAX_NAME),
	CODEC_F(struct job_config, uid, "uid", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_config, generation, "generation", CODEC_I64, 0, 0),
};
static const struct codec_schema job_config_schema =
	CODEC_SCHEMA("config", struct job_config, job_config_fields);

static const struct codec_field job_source_fields[] = {
	CODEC_F(struct job_source, kind, "kind", CODEC_STR, R, MSG_MAX_NAME),
	CODEC_F(struct job_source, path, "path", CODEC_STR, 0, MSG_MAX_TEXT),
	CODEC_F(struct job_source, url, "url", CODEC_STR, 0, MSG_MAX_URL),
	CODEC_F(struct job_source, revision, "revision", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_source, digest, "digest", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_source, subpath, "subpath", CODEC_STR, 0, MSG_MAX_TEXT),
	CODEC_F(struct job_source, username, "username", CODEC_STR, CODEC_SECRET, MSG_MAX_SHORT),
	CODEC_F(struct job_source, password, "password", CODEC_SECBUF, CODEC_SECRET,
		MSG_MAX_CREDENTIAL),
	CODEC_F(struct job_source, ssh_key, "ssh_key", CODEC_SECBUF, CODEC_SECRET,
		MSG_MAX_CREDENTIAL),
	CODEC_F(struct job_source, ssh_key_passphrase, "ssh_key_passphrase", CODEC_SECBUF,
		CODEC_SECRET, MSG_MAX_CREDENTIAL),
	CODEC_F(struct job_source, known_hosts, "known_hosts", CODEC_STR, 0, MSG_MAX_KNOWN_HOSTS),
};
static const struct codec_schema job_source_schema =
	CODEC_SCHEMA("source", struct job_source, job_source_fields);

static const struct codec_field job_mode_fields[] = {
	CODEC_F(struct job_mode, kustomize_path, "kustomize_path", CODEC_STR, 0, MSG_MAX_TEXT),
	CODEC_F(struct job_mode, base_path, "base_path", CODEC_STR, 0, MSG_MAX_TEXT),
	CODEC_F(struct job_mode, environment, "environment", CODEC_STR, 0, MSG_MAX_NAME),
};
static const struct codec_schema job_mode_schema =
	CODEC_SCHEMA("mode", struct job_mode, job_mode_fields);

static const struct codec_field job_naming_fields[] = {
	CODEC_F(struct job_naming, prefix, "prefix", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_naming, suffix, "suffix", CODEC_STR, 0, MSG_MAX_SHORT),
};
static const struct codec_schema job_naming_schema =
	CODEC_SCHEMA("naming", struct job_naming, job_naming_fields);

static const struct codec_field job_provider_fields[] = {
	CODEC_F(struct job_provider, kind, "kind", CODEC_STR, R, MSG_MAX_NAME),
	CODEC_F(struct job_provider, store_path, "store_path", CODEC_STR, 0, MSG_MAX_TEXT),
	CODEC_F(struct job_provider, region, "region", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_provider, project_id, "project_id", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_provider, location, "location", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_provider, vault_name, "vault_name", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_provider, endpoint, "endpoint", CODEC_STR, 0, MSG_MAX_URL),
	CODEC_F(struct job_provider, auth_type, "auth_type", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_provider, role_arn, "role_arn", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_provider, client_id, "client_id", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_provider, tenant_id, "tenant_id", CODEC_STR, 0, MSG_MAX_SHORT),
	CODEC_F(struct job_provider, service_account, "service_account", CODEC_STR, 0,
		MSG_MAX_SHORT),
	CODEC_F(struct job_provider, secret_name, "secret_name", CODEC_STR, 0, MSG_MAX_NAME),
	CODEC_F(struct job_provider, secret_namespace, "secret_namespace", CODEC_STR, 0,
		MSG_MAX_NAME),
	CODEC_F(struct job_provider, secret_key, "secret_key", CODEC_STR, 0, MSG_MAX_NAME),
};
static const struct codec_schema job_provider_schema =
	CODEC_SCHEMA("provider", struct job_provider, job_provider_fields);

static const struct codec_field job_configs_fields[] = {
	CODEC_F(struct job_configs, enabled, "enabled", CODEC_BOOL, 0, 0),
	CODEC_F(struct job_configs, store, "store", CODEC_STR, 0, MSG_MAX_NAME),
	CODEC_F(struct job_configs, parameter_path, "parameter_path", CODEC_STR, 0, MSG_MAX_TEXT),
	CODEC_F(struct job_configs, app_config_endpoint, "app_config_endpoint", CODEC_STR, 0,
		MSG_MAX_URL),
};
static const struct codec_schema job_configs_schema =
	CODEC_SCHEMA("configs", struct job_configs, job_configs_fields);

static const struct codec_field job_policy_fields[] = {
	CODEC_F(struct job_policy, deletion, "deletion", CODEC_U32, 0, JOB_DELETION_DELETE),
	CODEC_F(struct job_policy, prune, "prune", CODEC_BOOL, 0, 0),
	CODEC_F(struct job_policy, adopt_existing, "adopt_existing", CODEC_BOOL, 0, 0),
	CODEC_F(struct job_policy, trigger_update, "trigger_update", CODEC_BOOL, 0, 0),
	CODEC_F(struct job_policy, dry_run, "dry_run", CODEC_BOOL, 0, 0),
	CODEC_F(struct job_policy, delete_all, "delete_all", CODEC_BOOL, 0, 0),
};
static const struct codec_schema job_policy_schema =
	CODEC_SCHEMA("policy", struct job_policy, job_policy_fields);

static const struct codec_field job_fields[] = {
	CODEC_F(struct job, id, "id", CODEC_U64, 0, 0),
	CODEC_S(struct job, config, "config", job_config_schema),
	CODEC_S(struct job, source, "source", job_source_schema),
	CODEC_S(struct job, mode, "mode", job_mode_schema),
	CODEC_S(struct job, naming, "naming", job_naming_schema),
	CODEC_S(struct job, provider, "provider", job_provider_schema),
	CODEC_S(struct job, configs, "configs", job_configs_schema),
	CODEC_S(struct job, policy, "policy", job_policy_schema),
};
const struct codec_schema msg_job_schema_job = CODEC_SCHEMA("job", struct job, job_fields);

static const struct codec_field msg_job_fields[] = {
	CODEC_S(struct msg_job, job, "job", msg_job_schema_job),
};
const struct codec_schema msg_job_schema_msg = CODEC_SCHEMA("JOB", struct msg_job, msg_job_fields);

static const struct codec_field msg_tree_fields[] = {
	CODEC_S(struct msg_tree, job, "job", msg_job_schema_job),
	CODEC_F(struct msg_tree, revision, "revision", CODEC_STR, 0, MSG_MAX_SHORT),
};
const struct codec_schema msg_job_schema_tree =
	CODEC_SCHEMA("TREE", struct msg_tree, msg_tree_fields);

int job_copy(struct job *dst, const struct job *src)
{
	struct job tmp;
	int rc;

	if ((rc = codec_copy(&msg_job_schema_job, &tmp, src)) != 0)
		return rc;
	*dst = tmp;
	return 0;
}

void job_free_fields(struct job *job)
{
	if (job == NULL)
		return;
	codec_free(&msg_job_schema_job, job);
}

void job_clear_credentials(struct job *job)
{
	if (job == NULL)
		return;
	if (job->source.username != NULL)
		explicit_bzero(job->source.username, strlen(job->source.username));
	free(job->source.username);
	secbuf_free(job->source.password);
	secbuf_free(job->source.ssh_key);
	secbuf_free(job->source.ssh_key_passphrase);
	job->source.username = NULL;
	job->source.password = NULL;
	job->source.ssh_key = NULL;
	job->source.ssh_key_passphrase = NULL;
}
