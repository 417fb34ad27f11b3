/* cmd_parse.c — `smc parse --format env|properties|yaml FILE`: one input file parsed as raw
 * mode parses it (decryptor/parse_*.h), printed as one JSON object of strings on stdout.
 * A parse error exits 1 with "FILE:LINE: reason" on stderr (tests/oracle relies on it).
 * The values are the file's own plaintext: they go from secbufs straight to stdout, escaped
 * byte by byte, without another copy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/kvlist.h"
#include "common/secbuf.h"
#include "decryptor/parse_env.h"
#include "decryptor/parse_properties.h"
#include "decryptor/parse_yaml.h"

#define CMD_PARSE_MAX_INPUT ((size_t)8 << 20) /* bytes of the file read */

typedef int (*cmd_parse_fn)(const char *, const uint8_t *, size_t, struct kvlist *,
			    struct err_ctx *);

static const struct {
	const char *format;
	cmd_parse_fn parse;
} cmd_parse_formats[] = {
    {"env", parse_env},
    {"properties", parse_properties},
    {"yaml", parse_yaml},
};

static void cmd_parse_usage(FILE *f)
{
	fputs("usage: smc parse --format env|properties|yaml FILE\n"
	      "  prints the keys and values FILE gives in raw mode as one JSON object\n",
	      f);
}

/* Writes data[0..n) as a JSON string (quotes included). */
static void cmd_parse_json_str(FILE *f, const uint8_t *p, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

/* Reads the whole file into a secbuf (it may hold secrets). ERR_IO with *eno set when the
 * file cannot be opened or read. */
static int cmd_parse_read(const char *path, struct secbuf **out, int *eno)
{
	struct secbuf *s = NULL;
	uint8_t chunk[8192];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 0;

	*eno = 0;
	if (f == NULL) {
		*eno = errno;
		return ERR_IO;
	}
	if (secbuf_new(&s, CMD_PARSE_MAX_INPUT) != 0) {
		fclose(f);
		return ERR_NOMEM;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if ((rc = secbuf_put(s, chunk, n)) != 0)
			break;
	}
	if (rc == 0 && ferror(f)) {
		*eno = errno;
		rc = ERR_IO;
	}
	explicit_bzero(chunk, sizeof(chunk));
	fclose(f);
	if (rc != 0) {
		secbuf_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int cmd_parse(int argc, char **argv)
{
	const char *format = NULL, *file = NULL;
	struct err_ctx err = {{0}};
	struct secbuf *data = NULL;
	cmd_parse_fn parse = NULL;
	struct kvlist l;
	int rc, eno = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cmd_parse_usage(stdout);
			return 0;
		}
		if ((strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "-t") == 0) &&
		    i + 1 < argc) {
			format = argv[++i];
		} else if (strncmp(argv[i], "--format=", 9) == 0) {
			format = argv[i] + 9;
		} else if (file == NULL && (argv[i][0] != '-' || argv[i][1] == '\0')) {
			file = argv[i];
		} else {
			cmd_parse_usage(stderr);
			return 2;
		}
	}
	for (size_t i = 0; format && i < sizeof(cmd_parse_formats) / sizeof(cmd_parse_formats[0]);
	     i++) {
		if (strcmp(format, cmd_parse_formats[i].format) == 0)
			parse = cmd_parse_formats[i].parse;
	}
	if (parse == NULL || file == NULL) {
		cmd_parse_usage(stderr);
		return 2;
	}
	if ((rc = cmd_parse_read(file, &data, &eno)) != 0) {
		if (rc == ERR_TOOBIG)
			cli_error("%s: larger than %zu bytes", file, CMD_PARSE_MAX_INPUT);
		else
			cli_error("%s: %s", file, eno ? strerror(eno) : err_str(rc));
		return 1;
	}
	kvlist_init(&l);
	rc = parse(file, data->data, data->len, &l, &err);
	secbuf_free(data);
	if (rc != 0) {
		cli_error("%s", err.msg);
		return 1;
	}
	fputc('{', stdout);
	for (size_t i = 0; i < l.n; i++) {
		if (i > 0)
			fputs(", ", stdout);
		cmd_parse_json_str(stdout, (const uint8_t *)l.items[i].key, strlen(l.items[i].key));
		fputs(": ", stdout);
		cmd_parse_json_str(stdout, l.items[i].value->data, l.items[i].value->len);
	}
	fputs("}\n", stdout);
	kvlist_free(&l);
	return fflush(stdout) == 0 ? 0 : 1;
}
