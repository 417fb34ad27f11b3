/* fuzz_tree_memfd.c — libFuzzer target for the tree memfd reader (proto/tree.c): the
 * input becomes the content of a sealed memfd. */
/* FUZZ_LINK: */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tree t;
	int fd, rc;

	fd = memfd_create("fuzz-tree", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
		abort();
	rc = tree_from_memfd(fd, &t);
	if (rc == 0) {
		int fd2;

		/* what was accepted must round-trip */
		if (tree_to_memfd(&t, &fd2) != 0)
			abort();
		tree_free(&t);
		if (tree_from_memfd(fd2, &t) != 0)
			abort();
		tree_free(&t);
		close(fd2);
	} else if (rc != ERR_PROTO && rc != ERR_NOMEM && rc != ERR_IO) {
		abort();
	}
	close(fd);
	return 0;
}
