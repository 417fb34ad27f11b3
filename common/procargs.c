/* procargs.c — children's command line. */
#include "common/procargs.h"

#include <string.h>

int procargs_parse(int argc, char **argv, struct procargs *out, struct err_ctx *err)
{
	memset(out, 0, sizeof(*out));
	out->level = LOG_INFO;
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;

		if (v == NULL)
			return err_set(err, ERR_INVAL, "%s: missing value", a);
		if (strcmp(a, "--log-level") == 0)
			out->level = log_level_from_str(v);
		else if (strcmp(a, "--ro") == 0)
			rc = sandbox_paths_add_ro(&out->paths, v);
		else if (strcmp(a, "--rw") == 0)
			rc = sandbox_paths_add_rw(&out->paths, v);
		else if (strcmp(a, "--scratch") == 0) {
			out->scratch = v;
			rc = sandbox_paths_add_rw(&out->paths, v);
		} else if (strcmp(a, "--keys") == 0) {
			out->keys = v;
			rc = sandbox_paths_add_ro(&out->paths, v);
		} else if (strcmp(a, "--store") == 0)
			out->store = v;
		else
			return err_set(err, ERR_INVAL, "unknown argument %s", a);
		if (rc != 0)
			return err_set(err, rc, "%s %s: too many paths", a, v);
	}
	return 0;
}
