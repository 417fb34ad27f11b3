/* log.h — structured logging. A process logs once, where it decides (STYLE.md rule 6);
 * common/ and proto/ only use LOG_DEBUG. Lines are JSON in the daemon and readable text
 * on a terminal. Never pass a secret: arguments are names, counts and reasons. */
#ifndef SMC_LOG_H
#define SMC_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* Where finished lines go. The default sink writes the line to stderr. A child installs
 * a sink that forwards the line to the supervisor as a LOG message. */
typedef void (*log_sink_fn)(enum log_level level, const char *line, void *arg);

/* proc is the process name put in each line ("smcd", "fetcher", ...); borrowed, must live
 * as long as logging does. json selects JSON lines (1) or text (0). */
void log_init(const char *proc, int json, enum log_level min);
void log_set_sink(log_sink_fn fn, void *arg);
void log_set_level(enum log_level min);
enum log_level log_level_from_str(const char *s); /* "debug".."error"; default info */
const char *log_level_str(enum log_level level);

/* event is a short constant identifier ("job.done"); fmt renders the human message. */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_msg(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_msg(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_msg(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(LOG_ERROR, ev, __VA_ARGS__)

#endif
