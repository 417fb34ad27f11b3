/* metrics_http.c — health and metrics over evhttp in a thread of smcd. */
#include "supervisor/metrics_http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdatomic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/str.h"

#define METRICS_MAX_TEXT ((size_t)1 << 20)

struct series {
	char name[METRICS_MAX_NAME + 1];
	uint64_t value;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct series table[METRICS_MAX_SERIES];
static size_t nseries;
static atomic_bool ready, stop;
static struct event_base *base;
static struct evhttp *http;
static struct event *ticker;
static pthread_t thread;
static bool running;

void metrics_set(const char *name, uint64_t value)
{
	if (name == NULL || strlen(name) > METRICS_MAX_NAME)
		return;
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < nseries; i++) {
		if (strcmp(table[i].name, name) == 0) {
			table[i].value = value;
			pthread_mutex_unlock(&mu);
			return;
		}
	}
	if (nseries < METRICS_MAX_SERIES) {
		(void)str_copy(table[nseries].name, sizeof(table[nseries].name), name);
		table[nseries++].value = value;
	}
	pthread_mutex_unlock(&mu);
}

void metrics_set_ready(bool r)
{
	atomic_store(&ready, r);
}

/* the metric name without labels */
static void base_name(const char *name, char *out, size_t size)
{
	size_t n = strcspn(name, "{");

	if (n >= size)
		n = size - 1;
	memcpy(out, name, n);
	out[n] = '\0';
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct series *)a)->name, ((const struct series *)b)->name);
}

char *metrics_render(void)
{
	struct buf b;
	char last[METRICS_MAX_NAME + 1] = "";
	uint8_t *out;
	size_t len;

	buf_init(&b, METRICS_MAX_TEXT);
	pthread_mutex_lock(&mu);
	qsort(table, nseries, sizeof(table[0]), by_name); /* one TYPE line per family */
	for (size_t i = 0; i < nseries; i++) {
		char bn[METRICS_MAX_NAME + 1];

		base_name(table[i].name, bn, sizeof(bn));
		if (strcmp(bn, last) != 0) {
			const char *type = str_has_suffix(bn, "_total") ? "counter" : "gauge";

			(void)buf_printf(&b, "# TYPE %s %s\n", bn, type);
			(void)str_copy(last, sizeof(last), bn);
		}
		(void)buf_printf(&b, "%s %llu\n", table[i].name, (unsigned long long)table[i].value);
	}
	pthread_mutex_unlock(&mu);
	if (buf_cstr(&b) != 0) {
		buf_free(&b);
		return NULL;
	}
	out = buf_steal(&b, &len);
	return (char *)out;
}

static void reply(struct evhttp_request *req, int code, const char *ctype, const char *body)
{
	struct evbuffer *eb = evbuffer_new();

	if (eb == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evbuffer_add(eb, body, strlen(body));
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Service Unavailable", eb);
	evbuffer_free(eb);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	char path[64];

	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, NULL);
		return;
	}
	(void)str_copy(path, sizeof(path), uri ? uri : "");
	path[strcspn(path, "?")] = '\0';
	if (strcmp(path, "/healthz") == 0) {
		reply(req, 200, "text/plain", "ok\n");
	} else if (strcmp(path, "/readyz") == 0) {
		bool r = atomic_load(&ready);

		reply(req, r ? 200 : 503, "text/plain", r ? "ok\n" : "not ready\n");
	} else if (strcmp(path, "/metrics") == 0) {
		char *text = metrics_render();

		if (text == NULL) {
			evhttp_send_error(req, 500, NULL);
			return;
		}
		reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text);
		free(text);
	} else {
		evhttp_send_error(req, 404, NULL);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (atomic_load(&stop))
		event_base_loopbreak(base);
}

static void *serve(void *arg)
{
	(void)arg;
	event_base_dispatch(base);
	return NULL;
}

int metrics_http_start(const char *addr, uint16_t port, uint16_t *bound, struct err_ctx *err)
{
	struct evhttp_bound_socket *sock;
	struct timeval tv = {0, 200000};

	if (running)
		return err_set(err, ERR_INVAL, "metrics listener already running");
	if ((base = event_base_new()) == NULL || (http = evhttp_new(base)) == NULL)
		return err_set(err, ERR_NOMEM, "libevent setup failed");
	evhttp_set_gencb(http, on_request, NULL);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET);
	evhttp_set_max_body_size(http, 0);
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_timeout(http, 10);
	sock = evhttp_bind_socket_with_handle(http, addr, port);
	if (sock == NULL) {
		evhttp_free(http);
		event_base_free(base);
		http = NULL;
		base = NULL;
		return err_set(err, ERR_IO, "cannot listen on %s:%u", addr, port);
	}
	if (bound != NULL) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		evutil_socket_t fd = evhttp_bound_socket_get_fd(sock);

		*bound = port;
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET)
			*bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	ticker = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	if (ticker == NULL || event_add(ticker, &tv) != 0 ||
	    pthread_create(&thread, NULL, serve, NULL) != 0) {
		if (ticker)
			event_free(ticker);
		evhttp_free(http);
		event_base_free(base);
		return err_set(err, ERR_IO, "cannot start the metrics thread");
	}
	running = true;
	return 0;
}

void metrics_http_stop(void)
{
	if (!running)
		return;
	atomic_store(&stop, true);
	pthread_join(thread, NULL);
	event_free(ticker);
	evhttp_free(http);
	event_base_free(base);
	running = false;
}
