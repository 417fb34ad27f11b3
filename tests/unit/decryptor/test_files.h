/* test_files.h — reading a fixture or output file whole, shared by the decryptor tests. */
#ifndef SMC_TEST_FILES_H
#define SMC_TEST_FILES_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole of the regular file path (owned, free()), NUL-terminated after its *n bytes.
 * Fails the test when the file cannot be opened or read. */
static inline uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long len;

	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	cr_assert_geq(len, 0, "size of %s", path);
	p = malloc((size_t)len + 1);
	cr_assert_not_null(p);
	cr_assert_eq(fread(p, 1, (size_t)len, f), (size_t)len);
	p[len] = 0;
	fclose(f);
	*n = (size_t)len;
	return p;
}

#endif
