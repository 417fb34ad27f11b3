/* test_status.c — status patches (kstatus conditions, reasons per stage, observed
 * generation, lastTransitionTime kept when unchanged, counts and inventory, failure keeps
 * the applied revision), Events (success, failure, drift), and leader election decisions
 * and Lease bodies. */
#include <criterion/criterion.h>
#include <string.h>

#include "watcher/leader.h"
#include "watcher/status.h"

static const json_t *cond(const json_t *patch, const char *type)
{
	const json_t *arr = json_object_get(json_object_get(patch, "status"), "conditions"), *c;
	size_t i;

	json_array_foreach(arr, i, c) {
		if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
			return c;
	}
	return NULL;
}

static const char *cs(const json_t *patch, const char *type, const char *field)
{
	return json_string_value(json_object_get(cond(patch, type), field));
}

static json_t *smc(int gen, const char *last_rev, const char *ready, const char *ready_time)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:i, s:s}}", "apiVersion",
			      "secret-management.octopilot.io/v1beta1", "kind",
			      "SecretManagerConfig", "metadata", "name", "app", "namespace", "team",
			      "uid", "u-1", "generation", gen, "resourceVersion", "77");

	if (ready != NULL)
		json_object_set_new(o, "status",
				    json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "lastAppliedRevision",
					      last_rev, "conditions", "type", "Ready", "status",
					      ready, "lastTransitionTime", ready_time));
	return o;
}

static struct result_item items[] = {
    {"app-db-password", "DB_PASSWORD", ITEM_SECRET, ITEM_WRITTEN, NULL},
    {"app-api-key", "API_KEY", ITEM_SECRET, ITEM_UNCHANGED, NULL},
    {"app-old", NULL, ITEM_SECRET, ITEM_PRUNED, NULL},
    {"app-timeout", "timeout", ITEM_CONFIG, ITEM_UNCHANGED, NULL},
};

Test(status, success)
{
	json_t *o = smc(3, "main@sha1:aaa", "False", "2020-01-01T00:00:00Z");
	struct msg_result r = {.job_id = 1, .code = 0, .revision = "main@sha1:bbb",
			       .items = items, .nitems = 4};
	struct status_input in = {.obj = o, .outcome = STATUS_SUCCEEDED, .result = &r,
				  .revision = "main@sha1:bbb", .provider = "gcp",
				  .now = 1700000000, .next = 1700000060};
	json_t *p = status_patch(&in), *st = json_object_get(p, "status");

	cr_assert_str_eq(cs(p, "Ready", "status"), "True");
	cr_assert_str_eq(cs(p, "Ready", "reason"), "ReconciliationSucceeded");
	/* the status changed: a new transition time */
	cr_assert_str_eq(cs(p, "Ready", "lastTransitionTime"), "2023-11-14T22:13:20Z");
	cr_assert_str_eq(cs(p, "Reconciling", "status"), "False");
	cr_assert_str_eq(cs(p, "Stalled", "status"), "False");
	cr_assert_eq(json_integer_value(json_object_get(st, "observedGeneration")), 3);
	cr_assert_eq(json_integer_value(json_object_get(st, "secretsSynced")), 2);
	cr_assert_eq(json_integer_value(json_object_get(st, "configsSynced")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(st, "lastAppliedRevision")),
			 "main@sha1:bbb");
	cr_assert_str_eq(json_string_value(json_object_get(st, "lastAttemptedRevision")),
			 "main@sha1:bbb");
	cr_assert_str_eq(json_string_value(json_object_get(st, "nextReconcileTime")),
			 "2023-11-14T22:14:20Z");
	cr_assert_str_eq(json_string_value(json_object_get(st, "phase")), "Ready");
	cr_assert_eq(json_array_size(json_object_get(json_object_get(st, "inventory"), "secrets")), 2);
	cr_assert_str_eq(json_string_value(json_array_get(
			     json_object_get(json_object_get(st, "inventory"), "configs"), 0)),
			 "app-timeout");
	cr_assert_eq(json_integer_value(json_object_get(
			 json_object_get(json_object_get(json_object_get(st, "sync"), "secrets"),
					 "app-db-password"),
			 "updateCount")),
		     1);
	cr_assert(!status_is_drift(o, &r));
	json_decref(p);
	json_decref(o);
}

Test(status, unchanged_condition_keeps_transition_time)
{
	json_t *o = smc(1, "r1", "True", "2020-01-01T00:00:00Z");
	struct msg_result r = {.code = 0, .revision = "r1", .items = items, .nitems = 2};
	struct status_input in = {.obj = o, .outcome = STATUS_SUCCEEDED, .result = &r,
				  .revision = "r1", .now = 1700000000};
	json_t *p = status_patch(&in);

	cr_assert_str_eq(cs(p, "Ready", "lastTransitionTime"), "2020-01-01T00:00:00Z");
	/* same revision as applied, and a value was written: drift corrected */
	cr_assert(status_is_drift(o, &r));
	json_decref(p);
	json_decref(o);
}

Test(status, failure_names_stage_and_keeps_applied_revision)
{
	json_t *o = smc(2, "r1", "True", "2020-01-01T00:00:00Z");
	struct msg_result r = {.code = -7, .stage = "fetch", .revision = "r2",
			       .reason = "artifact digest mismatch: expected sha256:aa, got sha256:bb"};
	struct status_input in = {.obj = o, .outcome = STATUS_FAILED, .result = &r,
				  .revision = "r2", .now = 1700000000};
	json_t *p = status_patch(&in), *st = json_object_get(p, "status");

	cr_assert_str_eq(cs(p, "Ready", "status"), "False");
	cr_assert_str_eq(cs(p, "Ready", "reason"), "ArtifactFailed");
	cr_assert(strstr(cs(p, "Ready", "message"), "digest mismatch") != NULL);
	cr_assert_str_eq(cs(p, "Reconciling", "status"), "True");
	cr_assert_str_eq(cs(p, "Reconciling", "reason"), "ProgressingWithRetry");
	cr_assert_str_eq(cs(p, "Stalled", "status"), "False");
	cr_assert_null(json_object_get(st, "lastAppliedRevision")); /* merge patch keeps r1 */
	cr_assert_str_eq(json_string_value(json_object_get(st, "lastAttemptedRevision")), "r2");
	cr_assert_str_eq(json_string_value(json_object_get(st, "phase")), "Failed");
	json_decref(p);
	json_decref(o);
}

Test(status, stalled_and_waiting_and_suspended)
{
	json_t *o = smc(2, "r1", NULL, NULL);
	struct status_input in = {.obj = o, .outcome = STATUS_STALLED, .stage = "config",
				  .reason = "spec.secrets.environment: required", .now = 1};
	json_t *p = status_patch(&in);

	cr_assert_str_eq(cs(p, "Stalled", "status"), "True");
	cr_assert_str_eq(cs(p, "Stalled", "reason"), "InvalidSpec");
	cr_assert_str_eq(cs(p, "Reconciling", "status"), "False");
	json_decref(p);
	in.outcome = STATUS_WAITING;
	in.stage = "source";
	in.reason = "GitRepository team/repo not found";
	p = status_patch(&in);
	cr_assert_str_eq(cs(p, "Ready", "reason"), "SourceNotReady");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(p, "status"), "phase")),
			 "Pending");
	json_decref(p);
	in.outcome = STATUS_SUSPENDED;
	p = status_patch(&in);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(p, "status"), "phase")),
			 "Suspended");
	json_decref(p);
	json_decref(o);
}

Test(status, stage_reasons)
{
	cr_assert_str_eq(status_reason_for_stage("decrypt"), "DecryptionFailed");
	cr_assert_str_eq(status_reason_for_stage("sync"), "SyncFailed");
	cr_assert_str_eq(status_reason_for_stage("config"), "InvalidSpec");
	cr_assert_str_eq(status_reason_for_stage("whatever"), "ReconciliationFailed");
	cr_assert_str_eq(status_reason_for_stage(NULL), "ReconciliationFailed");
}

Test(status, events)
{
	json_t *o = smc(1, "r1", "True", "2020-01-01T00:00:00Z");
	struct msg_result ok = {.code = 0, .revision = "r1", .items = items, .nitems = 4};
	struct msg_result bad = {.code = -14, .stage = "decrypt", .reason = "no usable key for a.yaml"};
	struct status_input in = {.obj = o, .outcome = STATUS_SUCCEEDED, .result = &ok,
				  .revision = "r1", .now = 1700000000};
	json_t *e = status_event(&in, "pod-a", false);

	cr_assert_str_eq(json_string_value(json_object_get(e, "apiVersion")), "events.k8s.io/v1");
	cr_assert_str_eq(json_string_value(json_object_get(e, "type")), "Normal");
	cr_assert_str_eq(json_string_value(json_object_get(e, "reason")), "ReconciliationSucceeded");
	cr_assert_str_eq(json_string_value(json_object_get(e, "eventTime")),
			 "2023-11-14T22:13:20.000000Z");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "regarding"), "uid")),
			 "u-1");
	json_decref(e);
	e = status_event(&in, "pod-a", true);
	cr_assert_str_eq(json_string_value(json_object_get(e, "reason")), "DriftCorrected");
	json_decref(e);
	in.outcome = STATUS_FAILED;
	in.result = &bad;
	e = status_event(&in, "pod-a", false);
	cr_assert_str_eq(json_string_value(json_object_get(e, "type")), "Warning");
	cr_assert_str_eq(json_string_value(json_object_get(e, "reason")), "DecryptionFailed");
	cr_assert(strstr(json_string_value(json_object_get(e, "note")), "no usable key") != NULL);
	json_decref(e);
	json_decref(o);
}

Test(status, long_reason_bounded_on_utf8_boundary)
{
	char big[3000];
	json_t *o = smc(1, "r1", NULL, NULL);
	struct status_input in = {.obj = o, .outcome = STATUS_FAILED, .stage = "sync",
				  .reason = big, .now = 1};
	json_t *p;
	const char *m;

	for (size_t i = 0; i + 2 < sizeof(big); i += 2) {
		big[i] = (char)0xC3;
		big[i + 1] = (char)0xA9; /* é */
	}
	big[sizeof(big) - 1] = '\0';
	big[sizeof(big) - 2] = 'x';
	p = status_patch(&in);
	m = cs(p, "Ready", "message");
	cr_assert_not_null(m); /* jansson refuses invalid UTF-8: a cut inside é would be NULL */
	cr_assert_lt(strlen(m), STATUS_MAX_MESSAGE);
	json_decref(p);
	json_decref(o);
}

Test(leader, decisions)
{
	json_t *mine = json_pack("{s:{s:s, s:i, s:s}}", "spec", "holderIdentity", "me",
				 "leaseDurationSeconds", 15, "renewTime", "2023-11-14T22:13:20.000000Z");
	json_t *other = json_pack("{s:{s:s, s:i, s:s}}", "spec", "holderIdentity", "them",
				  "leaseDurationSeconds", 15, "renewTime",
				  "2023-11-14T22:13:20.500000Z");
	double t0 = 1700000000.5;

	cr_assert_eq(leader_decide(NULL, "me", t0), LEADER_ACQUIRE);
	cr_assert_eq(leader_decide(mine, "me", t0 + 100), LEADER_RENEW);
	cr_assert_eq(leader_decide(other, "me", t0 + 14.9), LEADER_WAIT);
	cr_assert_eq(leader_decide(other, "me", t0 + 15.0), LEADER_ACQUIRE);
	json_decref(mine);
	json_decref(other);
}

Test(leader, lease_bodies)
{
	json_t *old = json_pack("{s:{s:s}, s:{s:s, s:s, s:i, s:s}}", "metadata", "resourceVersion",
				"42", "spec", "holderIdentity", "them", "acquireTime",
				"2023-01-01T00:00:00.000000Z", "leaseTransitions", 4, "renewTime",
				"2023-01-01T00:00:10.000000Z");
	json_t *b = leader_lease_body(old, "smc-system", "smc-leader", "me", 1700000000.25,
				      LEADER_ACQUIRE);
	const json_t *spec = json_object_get(b, "spec");
	char buf[40];

	cr_assert_str_eq(json_string_value(json_object_get(spec, "holderIdentity")), "me");
	cr_assert_eq(json_integer_value(json_object_get(spec, "leaseTransitions")), 5);
	cr_assert_eq(json_integer_value(json_object_get(spec, "leaseDurationSeconds")), 15);
	cr_assert_str_eq(json_string_value(json_object_get(spec, "renewTime")),
			 "2023-11-14T22:13:20.250000Z");
	cr_assert_str_eq(json_string_value(json_object_get(spec, "acquireTime")),
			 "2023-11-14T22:13:20.250000Z");
	/* optimistic locking: the PUT carries the version read */
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(b, "metadata"),
							   "resourceVersion")),
			 "42");
	json_decref(b);
	b = leader_lease_body(old, "smc-system", "smc-leader", "them", 1700000000.25, LEADER_RENEW);
	spec = json_object_get(b, "spec");
	cr_assert_eq(json_integer_value(json_object_get(spec, "leaseTransitions")), 4);
	cr_assert_str_eq(json_string_value(json_object_get(spec, "acquireTime")),
			 "2023-01-01T00:00:00.000000Z");
	json_decref(b);
	json_decref(old);
	leader_format_time(1.5, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1970-01-01T00:00:01.500000Z");
	cr_assert_float_eq(leader_parse_time("1970-01-01T00:00:01.500000Z"), 1.5, 1e-6);
	cr_assert_float_eq(leader_parse_time("1970-01-01T00:00:01Z"), 1.0, 1e-6);
	cr_assert_lt(leader_parse_time("garbage"), 0);
}
