/* supervisor_dispatch.c — what smcd does with each message from a child:
 *   LOG     → the line goes to smcd's stderr (children have no stderr of their own use)
 *   METRICS → counters are kept for /metrics
 *   TAP     → one line to every `smc tap` client (the child already redacted it)
 *   RESULT  → (from the watcher) the job's outcome; one-shot mode ends on it
 * Anything else from a child is refused by peer_recv before it gets here. */
#include "supervisor/supervisor.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/metrics_http.h"
#include "supervisor/result_json.h"

static void on_log(struct child *c, const struct msg_log *l)
{
	ssize_t w;

	(void)c;
	w = write(STDERR_FILENO, l->line, strlen(l->line));
	w = write(STDERR_FILENO, "\n", 1);
	(void)w;
}

/* One mirrored message (already redacted by the child) → one line to the tap clients. */
static void on_tap(struct sup *s, const struct child *c, const struct msg_tap *t)
{
	json_t *line, *msg = json_loads(t->json, 0, NULL);
	char *text;

	if (msg == NULL)
		return;
	line = json_pack("{s:s, s:s, s:s, s:s, s:o}", "proc", c->name, "edge", t->edge, "dir",
			 t->direction, "type",
			 msg_type_name((uint32_t)json_integer_value(json_object_get(msg, "t"))),
			 "msg", msg);
	text = line ? json_dumps(line, JSON_COMPACT) : NULL;
	if (text != NULL)
		tap_server_broadcast(s->tap, text);
	free(text);
	json_decref(line);
}

static void on_result(struct sup *s, const struct msg_result *r)
{
	json_decref(s->result);
	s->result = result_json(r);
	s->result_code = r->code;
	if (r->code == 0)
		s->jobs_ok++;
	else
		s->jobs_failed++;
	if (s->once)
		s->done = true;
}

int supervisor_dispatch(struct sup *s, struct child *c, struct msg *m)
{
	switch (m->type) {
	case MSG_LOG:
		on_log(c, &m->u.log);
		return 0;
	case MSG_METRICS:
		for (size_t i = 0; i < m->u.metrics.n; i++)
			metrics_set(m->u.metrics.names[i], m->u.metrics.values[i]);
		return 0;
	case MSG_TAP:
		on_tap(s, c, &m->u.tap);
		return 0;
	case MSG_RESULT:
		on_result(s, &m->u.result);
		return 0;
	default:
		log_error("proto.unexpected", "%s sent %s to the supervisor", c->name,
			  msg_type_name(m->type));
		return ERR_PROTO;
	}
}
