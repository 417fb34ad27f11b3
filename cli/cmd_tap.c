/* cmd_tap.c — `smc tap [--socket PATH]`: prints the pipeline's traffic as JSON lines, one
 * per message, as the running smcd mirrors it — secret fields replaced by their length by
 * the process that saw them, so a tap never shows a value. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/str.h"

int cmd_tap(int argc, char **argv)
{
	static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
						 {NULL, 0, NULL, 0}};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = getenv("SMC_TAP_SOCKET");
	char buf[65536];
	ssize_t n;
	int ch, fd;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
		if (ch != 's')
			return 2;
		path = optarg;
	}
	if (optind != argc || path == NULL || *path == '\0') {
		cli_error("usage: smc tap --socket PATH (the --tap-socket of smcd; or "
			  "SMC_TAP_SOCKET)");
		return 2;
	}
	if (str_copy(sa.sun_path, sizeof(sa.sun_path), path) != 0) {
		cli_error("%s: path too long", path);
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		cli_error("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0 && fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
		fflush(stdout);
	}
	close(fd);
	return 0;
}
