/* fuzz_archive.c — libFuzzer target for the tar.gz artifact reader (fetcher/archive.c):
 * the input is the downloaded artifact. Small limits keep each run fast; whatever is
 * accepted must obey the tree rules. */
/* FUZZ_LINK: fetcher */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "fetcher/archive.h"
#include "proto/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct archive_limits lim;
	struct err_ctx err = {{0}};
	struct tree t;
	int rc;

	archive_limits_default(&lim);
	lim.tree.max_total = (size_t)4 << 20;
	lim.tree.max_file_size = (size_t)1 << 20;
	lim.tree.max_files = 512;
	lim.max_entries = 1024;
	rc = archive_targz_read(data, size, size > 0 && (data[size - 1] & 1) ? "apps" : "", &lim,
				&t, &err);
	if (rc == 0) {
		size_t total = 0;

		if (t.n > lim.tree.max_files)
			abort();
		for (size_t i = 0; i < t.n; i++) {
			if (tree_path_check(t.files[i].path) != 0 ||
			    (t.files[i].mode & ~0777u) != 0 ||
			    t.files[i].size > lim.tree.max_file_size)
				abort();
			total += t.files[i].size;
		}
		if (total != t.total || total > lim.tree.max_total)
			abort();
		tree_free(&t);
	} else if (rc > 0 || err.msg[0] == '\0') {
		abort(); /* every refusal says why */
	}
	return 0;
}
