/* smconfig.c — SecretManagerConfig resource → struct job, with field-naming errors. */
#include "common/smconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "common/yaml_json.h"

#define FIELD_MAX 4096 /* longest string accepted in any spec field */

/* Copies an optional string field obj[key] into *dst ("" when absent). */
static int get_str(const json_t *obj, const char *path, const char *key, char **dst,
		   int required, struct err_ctx *err)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;
	const char *s = "";

	if (v == NULL || json_is_null(v)) {
		if (required)
			return err_set(err, ERR_INVAL, "%s.%s: required", path, key);
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		if (json_string_length(v) > FIELD_MAX || strlen(s) != json_string_length(v))
			return err_set(err, ERR_INVAL, "%s.%s: too long or contains NUL", path,
				       key);
		if (required && *s == '\0')
			return err_set(err, ERR_INVAL, "%s.%s: must not be empty", path, key);
	} else {
		return err_set(err, ERR_INVAL, "%s.%s: must be a string", path, key);
	}
	free(*dst);
	*dst = xstrdup(s);
	return *dst ? 0 : ERR_NOMEM;
}

static int get_bool(const json_t *obj, const char *path, const char *key, bool *dst,
		    bool dflt, struct err_ctx *err)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;

	if (v == NULL || json_is_null(v)) {
		*dst = dflt;
		return 0;
	}
	if (!json_is_boolean(v))
		return err_set(err, ERR_INVAL, "%s.%s: must be true or false", path, key);
	*dst = json_is_true(v);
	return 0;
}

static const json_t *get_obj(const json_t *obj, const char *path, const char *key,
			     int *rc, struct err_ctx *err)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		*rc = err_set(err, ERR_INVAL, "%s.%s: must be a mapping", path, key);
		return NULL;
	}
	return v;
}

/* Makes p absolute against base (when base is set and p relative). */
static int resolve_path(char **p, const char *base)
{
	char *joined;

	if (base == NULL || (*p)[0] == '/' || (*p)[0] == '\0')
		return 0;
	joined = str_path_join(base, *p);
	if (joined == NULL)
		return ERR_NOMEM;
	free(*p);
	*p = joined;
	return 0;
}

int smconfig_parse_duration(const char *s, int64_t *seconds)
{
	char buf[32], *end;
	size_t n;
	long long v;
	int64_t mul;

	while (isspace((unsigned char)*s))
		s++;
	if (str_copy(buf, sizeof(buf), s) != 0)
		return ERR_INVAL;
	n = strlen(buf);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (n < 2 || !isdigit((unsigned char)buf[0]))
		return ERR_INVAL;
	switch (tolower((unsigned char)buf[n - 1])) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return ERR_INVAL;
	}
	buf[n - 1] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || v > INT32_MAX)
		return ERR_INVAL;
	*seconds = v * mul;
	return 0;
}

static int map_source(const json_t *spec, const char *base_dir, struct smconfig *c,
		      struct err_ctx *err)
{
	const json_t *ref;
	struct job_source *src = &c->job.source;
	int rc = 0;

	ref = get_obj(spec, "spec", "sourceRef", &rc, err);
	if (rc != 0)
		return rc;
	if (ref == NULL)
		return err_set(err, ERR_INVAL, "spec.sourceRef: required");
	if ((rc = get_str(ref, "spec.sourceRef", "kind", &c->ref_kind, 0, err)) != 0 ||
	    (rc = get_str(ref, "spec.sourceRef", "name", &c->ref_name, 0, err)) != 0 ||
	    (rc = get_str(ref, "spec.sourceRef", "namespace", &c->ref_ns, 0, err)) != 0)
		return rc;
	if (c->ref_kind[0] == '\0') {
		free(c->ref_kind);
		if ((c->ref_kind = xstrdup("GitRepository")) == NULL)
			return ERR_NOMEM;
	}
	if (strcmp(c->ref_kind, "Directory") == 0) {
		if ((rc = get_str(ref, "spec.sourceRef", "path", &src->path, 1, err)) != 0)
			return rc;
		if ((rc = resolve_path(&src->path, base_dir)) != 0)
			return rc;
		src->kind = xstrdup("directory");
	} else if (strcmp(c->ref_kind, "Git") == 0) {
		if ((rc = get_str(ref, "spec.sourceRef", "url", &src->url, 1, err)) != 0 ||
		    (rc = get_str(ref, "spec.sourceRef", "revision", &src->revision, 0, err)) != 0 ||
		    (rc = get_str(ref, "spec.sourceRef", "path", &src->subpath, 0, err)) != 0)
			return rc;
		src->kind = xstrdup("git");
	} else if (strcmp(c->ref_kind, "Artifact") == 0) {
		/* a Flux-style artifact given directly (one-shot runs, tests) */
		if ((rc = get_str(ref, "spec.sourceRef", "url", &src->url, 1, err)) != 0 ||
		    (rc = get_str(ref, "spec.sourceRef", "digest", &src->digest, 1, err)) != 0 ||
		    (rc = get_str(ref, "spec.sourceRef", "revision", &src->revision, 0, err)) != 0 ||
		    (rc = get_str(ref, "spec.sourceRef", "path", &src->subpath, 0, err)) != 0)
			return rc;
		src->kind = xstrdup("artifact");
	} else if (strcmp(c->ref_kind, "GitRepository") == 0 ||
		   strcmp(c->ref_kind, "OCIRepository") == 0 ||
		   strcmp(c->ref_kind, "Bucket") == 0 || strcmp(c->ref_kind, "Application") == 0) {
		if (c->ref_name[0] == '\0')
			return err_set(err, ERR_INVAL, "spec.sourceRef.name: required");
		if (strcmp(c->ref_kind, "Application") == 0) {
			/* ArgoCD only: the Secret holding the Git credentials (read by the
			 * watcher in cluster mode, see watcher/argo.h) */
			const json_t *gc = get_obj(ref, "spec.sourceRef", "gitCredentials", &rc, err);
			char *gname = NULL, *gns = NULL;

			if (rc != 0)
				return rc;
			if (gc != NULL) {
				if ((rc = get_str(gc, "spec.sourceRef.gitCredentials", "name", &gname,
						  1, err)) == 0)
					rc = get_str(gc, "spec.sourceRef.gitCredentials", "namespace",
						     &gns, 0, err);
				free(gname);
				free(gns);
				if (rc != 0)
					return rc;
			}
		}
		/* resolved by the watcher from the cluster (artifact URL / Git URL) */
		src->kind = xstrdup(strcmp(c->ref_kind, "Application") == 0 ? "git" : "artifact");
	} else {
		return err_set(err, ERR_INVAL,
			       "spec.sourceRef.kind: \"%s\" is not one of GitRepository, "
			       "OCIRepository, Bucket, Application, Directory, Git, Artifact",
			       c->ref_kind);
	}
	return src->kind ? 0 : ERR_NOMEM;
}

/* A DNS-1123 subdomain (Secret names) or, with label != 0, a DNS-1123 label (namespaces). */
static int valid_dns_name(const char *s, int label)
{
	size_t n = strlen(s);

	if (n == 0 || n > (label ? 63u : 253u) || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!(islower(ch) || isdigit(ch) || ch == '-' || (ch == '.' && !label)))
			return 0;
	}
	return 1;
}

/* spec.provider.<kind>.auth: how the syncer authenticates. A secretName means the
 * credentials live in that Kubernetes Secret (read by the watcher in cluster mode);
 * it is only meaningful with the auth types that use a stored credential. */
static int map_auth(const json_t *sub, const char *kind, struct job_provider *p,
		    struct err_ctx *err)
{
	static const struct {
		const char *kind, *types, *secret_type;
	} allowed[] = {
		{"aws", "irsa accessKeys podIdentity", "accessKeys"},
		{"gcp", "workloadIdentity jsonCredentials", "jsonCredentials"},
		{"azure", "workloadIdentity servicePrincipal managedIdentity", "servicePrincipal"},
	};
	const json_t *auth;
	char parent[48], field[64];
	int rc = 0;

	(void)str_fmt(parent, sizeof(parent), "spec.provider.%s", kind);
	(void)str_fmt(field, sizeof(field), "spec.provider.%s.auth", kind);
	auth = get_obj(sub, parent, "auth", &rc, err);
	if (rc != 0)
		return rc;
	if ((rc = get_str(auth, field, "authType", &p->auth_type, 0, err)) != 0 ||
	    (rc = get_str(auth, field, "roleArn", &p->role_arn, 0, err)) != 0 ||
	    (rc = get_str(auth, field, "clientId", &p->client_id, 0, err)) != 0 ||
	    (rc = get_str(auth, field, "tenantId", &p->tenant_id, 0, err)) != 0 ||
	    (rc = get_str(auth, field, "serviceAccountEmail", &p->service_account, 0, err)) != 0 ||
	    (rc = get_str(auth, field, "secretName", &p->secret_name, 0, err)) != 0 ||
	    (rc = get_str(auth, field, "secretNamespace", &p->secret_namespace, 0, err)) != 0 ||
	    (rc = get_str(auth, field, "secretKey", &p->secret_key, 0, err)) != 0)
		return rc;
	/* the reference's docs spell WorkloadIdentity / Irsa / ServicePrincipal; its code and
	 * ours use the lowerCamel form */
	p->auth_type[0] = (char)tolower((unsigned char)p->auth_type[0]);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		char types[96];

		if (strcmp(kind, allowed[i].kind) != 0)
			continue;
		(void)str_fmt(types, sizeof(types), " %s ", allowed[i].types);
		if (p->auth_type[0] != '\0') {
			char want[40];

			(void)str_fmt(want, sizeof(want), " %s ", p->auth_type);
			if (strstr(types, want) == NULL)
				return err_set(err, ERR_INVAL, "%s.authType: \"%s\" is not one of %s",
					       field, p->auth_type, allowed[i].types);
		}
		if (p->secret_name[0] == '\0') {
			if (p->secret_namespace[0] != '\0' || p->secret_key[0] != '\0')
				return err_set(err, ERR_INVAL,
					       "%s: secretNamespace/secretKey need secretName", field);
			return 0;
		}
		if (p->auth_type[0] != '\0' && strcmp(p->auth_type, allowed[i].secret_type) != 0)
			return err_set(err, ERR_INVAL,
				       "%s.secretName: a Secret is only read with authType %s, not %s",
				       field, allowed[i].secret_type, p->auth_type);
		if (!valid_dns_name(p->secret_name, 0))
			return err_set(err, ERR_INVAL,
				       "%s.secretName: \"%s\" is not a valid Secret name", field,
				       p->secret_name);
		if (p->secret_namespace[0] != '\0' && !valid_dns_name(p->secret_namespace, 1))
			return err_set(err, ERR_INVAL,
				       "%s.secretNamespace: \"%s\" is not a valid namespace", field,
				       p->secret_namespace);
		if (strcmp(kind, "aws") == 0 && p->secret_key[0] != '\0')
			return err_set(err, ERR_INVAL,
				       "%s.secretKey: not used by aws (the Secret holds "
				       "aws_access_key_id and aws_secret_access_key)", field);
		if (strlen(p->secret_key) > 253)
			return err_set(err, ERR_INVAL, "%s.secretKey: longer than 253 bytes", field);
		return 0;
	}
	return 0;
}

static int map_provider(const json_t *spec, const char *base_dir, struct smconfig *c,
			struct err_ctx *err)
{
	static const char *const kinds[] = {"local", "aws", "gcp", "azure"};
	struct job_provider *p = &c->job.provider;
	const json_t *prov, *sub = NULL;
	const char *kind = NULL;
	int rc = 0, found = 0;

	prov = get_obj(spec, "spec", "provider", &rc, err);
	if (rc != 0)
		return rc;
	if (prov == NULL)
		return err_set(err, ERR_INVAL, "spec.provider: required");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const json_t *v = get_obj(prov, "spec.provider", kinds[i], &rc, err);

		if (rc != 0)
			return rc;
		if (v != NULL) {
			found++;
			sub = v;
			kind = kinds[i];
		}
	}
	if (found != 1)
		return err_set(err, ERR_INVAL,
			       "spec.provider: exactly one of local, aws, gcp, azure is required "
			       "(found %d)", found);
	if ((p->kind = xstrdup(kind)) == NULL)
		return ERR_NOMEM;
	if (strcmp(kind, "local") == 0) {
		if ((rc = get_str(sub, "spec.provider.local", "path", &p->store_path, 0, err)) != 0)
			return rc;
		if (p->store_path[0] == '\0') {
			free(p->store_path);
			p->store_path = xstrdup(SMCONFIG_DEFAULT_STORE);
			return p->store_path ? 0 : ERR_NOMEM;
		}
		return resolve_path(&p->store_path, base_dir);
	}
	if (strcmp(kind, "aws") == 0) {
		if ((rc = get_str(sub, "spec.provider.aws", "region", &p->region, 1, err)) != 0 ||
		    (rc = get_str(sub, "spec.provider.aws", "endpoint", &p->endpoint, 0, err)) != 0)
			return rc;
	} else if (strcmp(kind, "gcp") == 0) {
		if ((rc = get_str(sub, "spec.provider.gcp", "projectId", &p->project_id, 0, err)) !=
			    0 ||
		    (rc = get_str(sub, "spec.provider.gcp", "location", &p->location, 0, err)) != 0 ||
		    (rc = get_str(sub, "spec.provider.gcp", "endpoint", &p->endpoint, 0, err)) != 0)
			return rc;
		if (p->location[0] == '\0' &&
		    (rc = get_str(sub, "spec.provider.gcp", "region", &p->location, 0, err)) != 0)
			return rc;
	} else {
		if ((rc = get_str(sub, "spec.provider.azure", "vaultName", &p->vault_name, 1,
				  err)) != 0 ||
		    (rc = get_str(sub, "spec.provider.azure", "location", &p->location, 0, err)) !=
			    0 ||
		    (rc = get_str(sub, "spec.provider.azure", "endpoint", &p->endpoint, 0, err)) != 0)
			return rc;
	}
	return map_auth(sub, kind, p, err);
}

static int valid_label_value(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!(isalnum((unsigned char)ch) || ((ch == '-' || ch == '_' || ch == '.') && i > 0 &&
						       i < n - 1)))
			return 0;
	}
	return 1;
}

static int valid_affix(const char *s)
{
	for (; *s; s++) {
		if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_'))
			return 0;
	}
	return 1;
}

static int map_rest(const json_t *spec, struct smconfig *c, struct err_ctx *err)
{
	struct job *j = &c->job;
	const json_t *secrets, *configs, *v;
	char *s = NULL;
	int rc = 0;

	secrets = get_obj(spec, "spec", "secrets", &rc, err);
	if (rc != 0)
		return rc;
	if (secrets == NULL)
		return err_set(err, ERR_INVAL, "spec.secrets: required");
	if ((rc = get_str(secrets, "spec.secrets", "environment", &j->mode.environment, 1, err)) !=
		    0 ||
	    (rc = get_str(secrets, "spec.secrets", "kustomizePath", &j->mode.kustomize_path, 0,
			  err)) != 0 ||
	    (rc = get_str(secrets, "spec.secrets", "basePath", &j->mode.base_path, 0, err)) != 0 ||
	    (rc = get_str(secrets, "spec.secrets", "prefix", &j->naming.prefix, 0, err)) != 0 ||
	    (rc = get_str(secrets, "spec.secrets", "suffix", &j->naming.suffix, 0, err)) != 0)
		return rc;
	if (!valid_label_value(j->mode.environment))
		return err_set(err, ERR_INVAL,
			       "spec.secrets.environment: \"%s\" is not a valid profile name "
			       "(letters, digits, '-', '_', '.', at most 63)",
			       j->mode.environment);
	if (!valid_affix(j->naming.prefix) || strlen(j->naming.prefix) > 255)
		return err_set(err, ERR_INVAL, "spec.secrets.prefix: only [A-Za-z0-9_-], at most 255");
	if (!valid_affix(j->naming.suffix) || strlen(j->naming.suffix) > 255)
		return err_set(err, ERR_INVAL, "spec.secrets.suffix: only [A-Za-z0-9_-], at most 255");
	if (strcmp(j->mode.base_path, ".") == 0)
		j->mode.base_path[0] = '\0';
	if (strstr(j->mode.base_path, "..") != NULL || j->mode.base_path[0] == '/' ||
	    strstr(j->mode.kustomize_path, "..") != NULL || j->mode.kustomize_path[0] == '/')
		return err_set(err, ERR_INVAL,
			       "spec.secrets: basePath and kustomizePath must be relative paths "
			       "inside the repository");

	configs = get_obj(spec, "spec", "configs", &rc, err);
	if (rc != 0)
		return rc;
	if ((rc = get_bool(configs, "spec.configs", "enabled", &j->configs.enabled, false, err)) !=
		    0 ||
	    (rc = get_str(configs, "spec.configs", "store", &j->configs.store, 0, err)) != 0 ||
	    (rc = get_str(configs, "spec.configs", "parameterPath", &j->configs.parameter_path, 0,
			  err)) != 0 ||
	    (rc = get_str(configs, "spec.configs", "appConfigEndpoint",
			  &j->configs.app_config_endpoint, 0, err)) != 0)
		return rc;

	if ((rc = get_bool(spec, "spec", "prune", &j->policy.prune, true, err)) != 0 ||
	    (rc = get_bool(spec, "spec", "adoptExisting", &j->policy.adopt_existing, false, err)) !=
		    0 ||
	    (rc = get_bool(spec, "spec", "triggerUpdate", &j->policy.trigger_update, true, err)) !=
		    0 ||
	    (rc = get_bool(spec, "spec", "suspend", &c->suspend, false, err)) != 0)
		return rc;
	if ((rc = get_str(spec, "spec", "deletionPolicy", &s, 0, err)) != 0)
		goto out;
	if (s[0] == '\0' || strcmp(s, "Retain") == 0)
		j->policy.deletion = JOB_DELETION_RETAIN;
	else if (strcmp(s, "Disable") == 0)
		j->policy.deletion = JOB_DELETION_DISABLE;
	else if (strcmp(s, "Delete") == 0)
		j->policy.deletion = JOB_DELETION_DELETE;
	else {
		rc = err_set(err, ERR_INVAL,
			     "spec.deletionPolicy: \"%s\" is not one of Retain, Disable, Delete", s);
		goto out;
	}
	c->interval_s = SMCONFIG_DEFAULT_INTERVAL;
	v = json_object_get(spec, "reconcileInterval");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    smconfig_parse_duration(json_string_value(v), &c->interval_s) != 0) {
			rc = err_set(err, ERR_INVAL,
				     "spec.reconcileInterval: expected one integer and a unit "
				     "s, m, h or d (e.g. \"1m\")");
			goto out;
		}
	}
out:
	free(s);
	return rc;
}

int smconfig_from_json(const json_t *res, const char *base_dir, struct smconfig *out,
		       struct err_ctx *err)
{
	struct smconfig c;
	const json_t *meta, *spec, *v;
	const char *kind;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	if (!json_is_object(res)) {
		rc = err_set(err, ERR_INVAL, "the document is not a mapping");
		goto out;
	}
	v = json_object_get(res, "kind");
	kind = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(kind, "SecretManagerConfig") != 0) {
		rc = err_set(err, ERR_INVAL, "kind: expected SecretManagerConfig, got \"%s\"", kind);
		goto out;
	}
	meta = get_obj(res, "", "metadata", &rc, err);
	if (rc != 0)
		goto out;
	if ((rc = get_str(meta, "metadata", "name", &c.job.config.name, 1, err)) != 0 ||
	    (rc = get_str(meta, "metadata", "namespace", &c.job.config.ns, 0, err)) != 0 ||
	    (rc = get_str(meta, "metadata", "uid", &c.job.config.uid, 0, err)) != 0)
		goto out;
	if (c.job.config.ns[0] == '\0') {
		free(c.job.config.ns);
		if ((c.job.config.ns = xstrdup("default")) == NULL) {
			rc = ERR_NOMEM;
			goto out;
		}
	}
	v = meta ? json_object_get(meta, "generation") : NULL;
	c.job.config.generation = json_is_integer(v) ? json_integer_value(v) : 0;
	spec = get_obj(res, "", "spec", &rc, err);
	if (rc != 0)
		goto out;
	if (spec == NULL) {
		rc = err_set(err, ERR_INVAL, "spec: required");
		goto out;
	}
	if ((rc = map_source(spec, base_dir, &c, err)) != 0 ||
	    (rc = map_provider(spec, base_dir, &c, err)) != 0 || (rc = map_rest(spec, &c, err)) != 0)
		goto out;
	/* Fill every unset string with "" so encoders never meet NULL. */
	{
		char **strs[] = {&c.job.config.uid, &c.job.source.path, &c.job.source.url,
				 &c.job.source.revision, &c.job.source.digest, &c.job.source.subpath,
				 &c.job.provider.store_path, &c.job.provider.region,
				 &c.job.provider.project_id, &c.job.provider.location,
				 &c.job.provider.vault_name, &c.job.provider.endpoint,
				 &c.job.provider.auth_type, &c.job.provider.role_arn,
				 &c.job.provider.client_id, &c.job.provider.tenant_id,
				 &c.job.provider.service_account, &c.job.provider.secret_name,
				 &c.job.provider.secret_namespace, &c.job.provider.secret_key};
		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
			if (*strs[i] == NULL && (*strs[i] = xstrdup("")) == NULL) {
				rc = ERR_NOMEM;
				goto out;
			}
		}
	}
	*out = c;
	return 0;
out:
	smconfig_free(&c);
	return rc;
}

int smconfig_load_file(const char *path, struct smconfig *out, struct err_ctx *err)
{
	char buf[PATH_MAX], *data = NULL, *dir = NULL;
	json_t *doc = NULL;
	struct stat st;
	ssize_t got;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path,
			       strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = err_set(err, ERR_INVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > SMCONFIG_MAX_FILE) {
		rc = err_set(err, ERR_TOOBIG, "%s: larger than %u bytes", path, SMCONFIG_MAX_FILE);
		goto out;
	}
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size && (got = read(fd, data + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)got;
	data[len] = '\0';
	if ((rc = yaml_json_load(path, data, len, &doc, err)) != 0)
		goto out;
	/* an absolute path is used as given (no realpath: the sandboxed watcher may not
	 * readlink its way through the parents) */
	if (path[0] == '/' ? str_copy(buf, sizeof(buf), path) != 0 : realpath(path, buf) == NULL) {
		rc = err_set(err, ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	dir = xstrdup(dirname(buf));
	if (dir == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if ((rc = smconfig_from_json(doc, dir, out, err)) != 0)
		err_wrap(err, rc, "%s", path);
out:
	json_decref(doc);
	free(data);
	free(dir);
	close(fd);
	return rc;
}

void smconfig_free(struct smconfig *c)
{
	if (c == NULL)
		return;
	job_free_fields(&c->job);
	free(c->ref_kind);
	free(c->ref_name);
	free(c->ref_ns);
	memset(c, 0, sizeof(*c));
}
