/* replay_main.c — runs a libFuzzer target over committed corpus files without libFuzzer,
 * so gcc builds (and ctest) exercise every fuzz target. Usage: replay <dir|file>... */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t n;
	FILE *f;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > REPLAY_MAX_INPUT)
		return -1;
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	/* an exact-size copy so a sanitizer sees reads past the input */
	{
		uint8_t *exact = malloc(n ? n : 1);

		if (exact == NULL) {
			free(buf);
			return -1;
		}
		memcpy(exact, buf, n);
		free(buf);
		(void)LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t ran = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s <corpus dir|file>...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: cannot stat\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]) != 0) {
				fprintf(stderr, "%s: cannot read\n", argv[i]);
				return 1;
			}
			ran++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL)
			return 1;
		while ((e = readdir(d)) != NULL) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name) >=
			    sizeof(path))
				continue;
			if (replay_file(path) == 0)
				ran++;
		}
		closedir(d);
	}
	printf("replayed %zu inputs\n", ran);
	return ran > 0 ? 0 : 1;
}
