/* log.c — line formatting (JSON or text) and the pluggable sink. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"

#define LOG_LINE_MAX 4096

static const char *log_proc = "smc";
static int log_json;
static enum log_level log_min = LOG_INFO;
static log_sink_fn log_sink;
static void *log_sink_arg;

void log_init(const char *proc, int json, enum log_level min)
{
	log_proc = proc;
	log_json = json;
	log_min = min;
}

void log_set_sink(log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

void log_set_level(enum log_level min)
{
	log_min = min;
}

const char *log_level_str(enum log_level level)
{
	switch (level) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_WARN: return "warn";
	default: return "error";
	}
}

enum log_level log_level_from_str(const char *s)
{
	if (s == NULL)
		return LOG_INFO;
	if (strcmp(s, "debug") == 0)
		return LOG_DEBUG;
	if (strcmp(s, "warn") == 0)
		return LOG_WARN;
	if (strcmp(s, "error") == 0)
		return LOG_ERROR;
	return LOG_INFO;
}

/* Appends s as the inside of a JSON string. */
static void json_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			(void)buf_printf(b, "\\%c", c);
		else if (c == '\n')
			(void)buf_put_str(b, "\\n");
		else if (c < 0x20)
			(void)buf_printf(b, "\\u%04x", c);
		else
			(void)buf_put_u8(b, c);
	}
}

void log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX], ts[40];
	struct buf b;
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
	buf_init(&b, LOG_LINE_MAX * 2);
	if (log_json) {
		(void)buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"proc\":\"", ts,
				 log_level_str(level));
		json_escape(&b, log_proc);
		(void)buf_put_str(&b, "\",\"event\":\"");
		json_escape(&b, event);
		(void)buf_put_str(&b, "\",\"msg\":\"");
		json_escape(&b, msg);
		(void)buf_put_str(&b, "\"}");
	} else {
		(void)buf_printf(&b, "%s %-5s %s %s: %s", ts, log_level_str(level), log_proc, event,
				 msg);
	}
	if (buf_cstr(&b) != 0) {
		buf_free(&b);
		return;
	}
	if (log_sink != NULL) {
		log_sink(level, (const char *)b.data, log_sink_arg);
	} else {
		(void)buf_put_u8(&b, '\n');
		ssize_t w = write(STDERR_FILENO, b.data, b.len);
		(void)w;
	}
	buf_free(&b);
}
