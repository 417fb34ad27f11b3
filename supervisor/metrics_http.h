/* metrics_http.h — smcd's HTTP listener in cluster mode (libevent evhttp, its own thread):
 *   GET /healthz  200 while the process runs
 *   GET /readyz   200 once the pipeline is up, 503 before and after SIGTERM
 *   GET /metrics  Prometheus text 0.0.4: the counters the children report (names as the
 *                 reference controller's, reference-controller.md §4) plus
 *                 smc_child_restarts_total{role} and smc_child_up{role}.
 * Nothing secret is ever put here: names and counts only. */
#ifndef SMC_METRICS_HTTP_H
#define SMC_METRICS_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define METRICS_MAX_SERIES 256 /* distinct series kept */
#define METRICS_MAX_NAME 253

/* Starts listening on addr:port (port 0 picks one; *bound gets it). */
int metrics_http_start(const char *addr, uint16_t port, uint16_t *bound, struct err_ctx *err);
/* Stops the listener thread. */
void metrics_http_stop(void);

/* Sets series `name` (a metric name with optional {labels}) to value. */
void metrics_set(const char *name, uint64_t value);
/* /readyz answer. */
void metrics_set_ready(bool ready);
/* Renders the exposition text (for tests). Owned result (free()). */
char *metrics_render(void);

#endif
