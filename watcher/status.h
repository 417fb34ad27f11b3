/* status.h — what the watcher writes back to a SecretManagerConfig: the status (kstatus
 * conditions Ready / Reconciling / Stalled with reasons, observedGeneration, revisions,
 * times, counts, inventory, and the reference controller's phase / description / sync
 * maps) as ONE merge patch per reconcile, and events.k8s.io/v1 Events. Pure functions of
 * their inputs (times passed in), so they are unit tested. Never a secret value: names,
 * counts and reasons only (the RESULT carries nothing else). */
#ifndef SMC_STATUS_H
#define SMC_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "proto/msg.h"

#define STATUS_MAX_INVENTORY 1000 /* names listed per kind in status.inventory */
#define STATUS_MAX_MESSAGE 1024   /* bytes of a condition message / event note */

enum status_outcome {
	STATUS_SUCCEEDED = 0,
	STATUS_FAILED = 1,     /* retried with backoff (Reconciling=True, ProgressingWithRetry) */
	STATUS_STALLED = 2,    /* needs a change of the resource (Stalled=True) */
	STATUS_SUSPENDED = 3,  /* spec.suspend */
	STATUS_WAITING = 4,    /* waiting for the source (not found / no artifact yet) */
};

struct status_input {
	const json_t *obj;               /* the SecretManagerConfig as last seen (borrowed) */
	enum status_outcome outcome;
	const struct msg_result *result; /* the pipeline's RESULT, or NULL */
	const char *stage;               /* failing stage when result is NULL ("source", ...) */
	const char *reason;              /* its one-line reason */
	const char *revision;            /* revision attempted ("" when unknown) */
	const char *provider;            /* "gcp" | "aws" | "azure" | "local" */
	time_t now;
	time_t next;                     /* next periodic reconcile, 0: none */
};

/* The condition reason for a failing stage: "config" → InvalidSpec, "source" →
 * SourceNotReady, "fetch" → ArtifactFailed, "decrypt" → DecryptionFailed, "sync" →
 * SyncFailed, anything else → ReconciliationFailed. Borrowed static string. */
const char *status_reason_for_stage(const char *stage);

/* The merge patch body {"status": {...}} for in. Owned result (json_decref), NULL on
 * ENOMEM. lastTransitionTime of a condition whose status did not change is kept. */
json_t *status_patch(const struct status_input *in);

/* An events.k8s.io/v1 Event about in->obj: Normal ReconciliationSucceeded, Warning
 * <reason for the stage>, or Normal DriftCorrected (a value was rewritten while the
 * revision stayed the same as the last applied one). Owned result. */
json_t *status_event(const struct status_input *in, const char *instance, bool drift);

/* true when a successful result wrote items while its revision equals the last applied
 * revision in obj's status (someone changed a value by hand; Git won). */
bool status_is_drift(const json_t *obj, const struct msg_result *r);

/* RFC 3339 "2006-01-02T15:04:05Z" of t into buf[size]. */
void status_format_time(time_t t, char *buf, size_t size);

#endif
