/* status.c — status patches and Events from a reconcile's outcome. */
#include "watcher/status.h"

#include <stdio.h>
#include <string.h>

#include "common/str.h"

void status_format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && size > 0)
		buf[0] = '\0';
}

const char *status_reason_for_stage(const char *stage)
{
	static const struct {
		const char *stage, *reason;
	} map[] = {{"config", "InvalidSpec"},	  {"source", "SourceNotReady"},
		   {"fetch", "ArtifactFailed"},	  {"decrypt", "DecryptionFailed"},
		   {"sync", "SyncFailed"},	  {"finalize", "FinalizeFailed"},
		   {"credentials", "CredentialsUnavailable"}};

	for (size_t i = 0; stage != NULL && i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(stage, map[i].stage) == 0)
			return map[i].reason;
	}
	return "ReconciliationFailed";
}

static const char *provider_store(const char *p)
{
	if (p == NULL)
		return "the store";
	if (strcmp(p, "gcp") == 0)
		return "Secret Manager";
	if (strcmp(p, "aws") == 0)
		return "Secrets Manager";
	if (strcmp(p, "azure") == 0)
		return "Key Vault";
	if (strcmp(p, "local") == 0)
		return "the embedded store";
	return "the store";
}

/* A one-line text bounded to STATUS_MAX_MESSAGE, cut at a UTF-8 boundary. */
static void bounded(char *dst, const char *src)
{
	size_t n;

	if (src == NULL)
		src = "";
	n = strlen(src);
	if (n >= STATUS_MAX_MESSAGE) {
		n = STATUS_MAX_MESSAGE - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	for (char *p = dst; *p; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
}

struct counts {
	unsigned secrets, configs, written, failed, pruned;
};

static struct counts count(const struct msg_result *r)
{
	struct counts c = {0, 0, 0, 0, 0};

	for (size_t i = 0; r != NULL && i < r->nitems; i++) {
		const struct result_item *it = &r->items[i];
		bool live = it->outcome == ITEM_WRITTEN || it->outcome == ITEM_UNCHANGED;

		if (live && it->kind == ITEM_SECRET)
			c.secrets++;
		if (live && it->kind == ITEM_CONFIG)
			c.configs++;
		if (it->outcome == ITEM_WRITTEN)
			c.written++;
		if (it->outcome == ITEM_FAILED)
			c.failed++;
		if (it->outcome == ITEM_PRUNED)
			c.pruned++;
	}
	return c;
}

static const json_t *old_condition(const json_t *obj, const char *type)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions"), *c;
	size_t i;

	json_array_foreach(conds, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));

		if (t != NULL && strcmp(t, type) == 0)
			return c;
	}
	return NULL;
}

static int add_condition(json_t *arr, const json_t *obj, const char *type, const char *st,
			 const char *reason, const char *msg, const char *now, json_int_t gen)
{
	const json_t *old = old_condition(obj, type);
	const char *ost = json_string_value(json_object_get(old, "status"));
	const char *olt = json_string_value(json_object_get(old, "lastTransitionTime"));
	const char *lt = ost != NULL && olt != NULL && strcmp(ost, st) == 0 ? olt : now;

	return json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "type", type,
						    "status", st, "reason", reason, "message", msg,
						    "lastTransitionTime", lt,
						    "observedGeneration", gen));
}

bool status_is_drift(const json_t *obj, const struct msg_result *r)
{
	const char *last = json_string_value(
	    json_object_get(json_object_get(obj, "status"), "lastAppliedRevision"));

	if (r == NULL || r->code != 0 || last == NULL || r->revision == NULL ||
	    strcmp(last, r->revision) != 0)
		return false;
	return count(r).written > 0;
}

/* sync.secrets / sync.properties: name → {exists, updateCount} (the reference's maps). */
static json_t *sync_maps(const json_t *obj, const struct msg_result *r)
{
	const json_t *old = json_object_get(json_object_get(obj, "status"), "sync");
	json_t *sync = json_pack("{s:{}, s:{}}", "secrets", "properties");
	size_t listed = 0;

	if (sync == NULL)
		return NULL;
	for (size_t i = 0; r != NULL && i < r->nitems && listed < STATUS_MAX_INVENTORY; i++) {
		const struct result_item *it = &r->items[i];
		const char *map = it->kind == ITEM_SECRET ? "secrets" : "properties";
		const json_t *prev = json_object_get(json_object_get(old, map), it->name);
		json_int_t uc = json_integer_value(json_object_get(prev, "updateCount"));

		if (it->outcome == ITEM_WRITTEN)
			uc++;
		if (it->outcome == ITEM_WRITTEN || it->outcome == ITEM_UNCHANGED) {
			json_object_set_new(json_object_get(sync, map), it->name,
					    json_pack("{s:b, s:I}", "exists", 1, "updateCount", uc));
			listed++;
		} else if (it->outcome == ITEM_PRUNED) {
			json_object_set_new(json_object_get(sync, map), it->name,
					    json_pack("{s:b, s:I}", "exists", 0, "updateCount", uc));
			listed++;
		}
	}
	return sync;
}

json_t *status_patch(const struct status_input *in)
{
	const json_t *meta = json_object_get(in->obj, "metadata");
	const json_t *ost = json_object_get(in->obj, "status");
	json_int_t gen = json_integer_value(json_object_get(meta, "generation"));
	const struct msg_result *r = in->result;
	struct counts c = count(r);
	char now[32], next[32], msg[STATUS_MAX_MESSAGE], text[STATUS_MAX_MESSAGE + 64];
	const char *rev = in->revision ? in->revision : "";
	const char *phase, *reason;
	json_t *st, *conds, *patch;

	status_format_time(in->now, now, sizeof(now));
	if ((st = json_object()) == NULL || (conds = json_array()) == NULL) {
		json_decref(st);
		return NULL;
	}
	json_object_set_new(st, "conditions", conds);
	json_object_set_new(st, "observedGeneration", json_integer(gen));
	json_object_set_new(st, "lastReconcileTime", json_string(now));
	if (in->next > 0) {
		status_format_time(in->next, next, sizeof(next));
		json_object_set_new(st, "nextReconcileTime", json_string(next));
	}
	if (*rev)
		json_object_set_new(st, "lastAttemptedRevision", json_string(rev));
	switch (in->outcome) {
	case STATUS_SUCCEEDED:
		snprintf(text, sizeof(text), "Synced %u secrets and %u configs to %s at %s", c.secrets,
			 c.configs, provider_store(in->provider), *rev ? rev : "(no revision)");
		bounded(msg, text);
		add_condition(conds, in->obj, "Ready", "True", "ReconciliationSucceeded", msg, now, gen);
		add_condition(conds, in->obj, "Reconciling", "False", "ReconciliationSucceeded", "", now,
			      gen);
		add_condition(conds, in->obj, "Stalled", "False", "ReconciliationSucceeded", "", now,
			      gen);
		json_object_set_new(st, "lastAppliedRevision", json_string(rev));
		json_object_set_new(st, "secretsSynced", json_integer(c.secrets));
		json_object_set_new(st, "configsSynced", json_integer(c.configs));
		json_object_set_new(st, "phase", json_string("Ready"));
		snprintf(text, sizeof(text), "Successfully synced %u secrets", c.secrets);
		json_object_set_new(st, "description", json_string(text));
		{
			json_t *inv = json_pack("{s:[], s:[]}", "secrets", "configs");
			size_t ns = 0, nc = 0;

			for (size_t i = 0; r != NULL && i < r->nitems; i++) {
				const struct result_item *it = &r->items[i];

				if (it->outcome != ITEM_WRITTEN && it->outcome != ITEM_UNCHANGED)
					continue;
				if (it->kind == ITEM_SECRET && ns++ < STATUS_MAX_INVENTORY)
					json_array_append_new(json_object_get(inv, "secrets"),
							      json_string(it->name));
				if (it->kind == ITEM_CONFIG && nc++ < STATUS_MAX_INVENTORY)
					json_array_append_new(json_object_get(inv, "configs"),
							      json_string(it->name));
			}
			json_object_set_new(st, "inventory", inv);
		}
		json_object_set_new(st, "sync", sync_maps(in->obj, r));
		break;
	case STATUS_SUSPENDED:
		phase = "Suspended";
		bounded(msg, "Reconciliation is suspended - no secrets will be synced");
		add_condition(conds, in->obj, "Ready",
			      json_string_value(json_object_get(old_condition(in->obj, "Ready"),
								"status"))
				  ? json_string_value(
					json_object_get(old_condition(in->obj, "Ready"), "status"))
				  : "Unknown",
			      "Suspended", msg, now, gen);
		add_condition(conds, in->obj, "Reconciling", "False", "Suspended", "", now, gen);
		add_condition(conds, in->obj, "Stalled", "False", "Suspended", "", now, gen);
		json_object_set_new(st, "phase", json_string(phase));
		json_object_set_new(st, "description", json_string(msg));
		json_object_del(st, "nextReconcileTime");
		break;
	default:
		reason = in->outcome == STATUS_WAITING ? "SourceNotReady"
						       : status_reason_for_stage(r ? r->stage : in->stage);
		snprintf(text, sizeof(text), "%s: %s", r && r->stage ? r->stage : in->stage ? in->stage : "reconcile",
			 r && r->reason ? r->reason : in->reason ? in->reason : "failed");
		bounded(msg, text);
		add_condition(conds, in->obj, "Ready", "False", reason, msg, now, gen);
		if (in->outcome == STATUS_STALLED) {
			add_condition(conds, in->obj, "Reconciling", "False", reason, "", now, gen);
			add_condition(conds, in->obj, "Stalled", "True", reason, msg, now, gen);
		} else {
			add_condition(conds, in->obj, "Reconciling", "True",
				      in->outcome == STATUS_WAITING ? "WaitingForSource"
								    : "ProgressingWithRetry",
				      msg, now, gen);
			add_condition(conds, in->obj, "Stalled", "False", reason, "", now, gen);
		}
		phase = in->outcome == STATUS_WAITING ? "Pending" : "Failed";
		json_object_set_new(st, "phase", json_string(phase));
		json_object_set_new(st, "description", json_string(msg));
		/* keep what was applied before: counts and inventory describe the store */
		if (json_object_get(ost, "secretsSynced") == NULL)
			json_object_set_new(st, "secretsSynced", json_integer(0));
		break;
	}
	patch = json_pack("{s:o}", "status", st);
	return patch;
}

json_t *status_event(const struct status_input *in, const char *instance, bool drift)
{
	const json_t *meta = json_object_get(in->obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *uid = json_string_value(json_object_get(meta, "uid"));
	const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
	const char *api = json_string_value(json_object_get(in->obj, "apiVersion"));
	const struct msg_result *r = in->result;
	struct counts c = count(r);
	char now[40], gen[300], text[STATUS_MAX_MESSAGE + 64], note[STATUS_MAX_MESSAGE];
	const char *type = "Normal", *reason;
	struct tm tm;

	gmtime_r(&in->now, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
	if (in->outcome == STATUS_SUCCEEDED && drift) {
		reason = "DriftCorrected";
		snprintf(text, sizeof(text), "%u values changed outside Git were put back (revision %s)",
			 c.written, in->revision ? in->revision : "");
	} else if (in->outcome == STATUS_SUCCEEDED) {
		reason = "ReconciliationSucceeded";
		snprintf(text, sizeof(text), "Synced %u secrets and %u configs (%u written, %u pruned) at %s",
			 c.secrets, c.configs, c.written, c.pruned, in->revision ? in->revision : "");
	} else if (in->outcome == STATUS_SUSPENDED) {
		reason = "Suspended";
		snprintf(text, sizeof(text), "Reconciliation is suspended");
	} else {
		type = "Warning";
		reason = in->outcome == STATUS_WAITING ? "SourceNotReady"
						       : status_reason_for_stage(r ? r->stage : in->stage);
		snprintf(text, sizeof(text), "%s: %s", r && r->stage ? r->stage : in->stage ? in->stage : "reconcile",
			 r && r->reason ? r->reason : in->reason ? in->reason : "failed");
	}
	bounded(note, text);
	snprintf(gen, sizeof(gen), "%s.", name ? name : "smc");
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
			 "s:{s:s, s:s, s:s, s:s, s:s, s:s}}",
			 "apiVersion", "events.k8s.io/v1", "kind", "Event", "metadata",
			 "generateName", gen, "namespace", ns ? ns : "default", "eventTime", now,
			 "reportingController", "secret-management.octopilot.io/smc",
			 "reportingInstance", instance ? instance : "smc", "action", "Reconcile",
			 "reason", reason, "note", note, "type", type, "regarding", "apiVersion",
			 api ? api : "secret-management.octopilot.io/v1beta1", "kind",
			 "SecretManagerConfig", "name", name ? name : "", "namespace",
			 ns ? ns : "default", "uid", uid ? uid : "", "resourceVersion", rv ? rv : "");
}
