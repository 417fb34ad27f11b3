/* test_frame.c — framing over real socketpairs: payloads, descriptors, caps, EOF, short
 * frames, large frames with short writes/reads. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/frame.h"

static void pair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	}
	return n;
}

static void raw_write(int fd, const void *p, size_t n)
{
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
}

/* sendmsg with a header and nfds descriptors, like a misbehaving peer */
static void send_with_fds(int sock, const uint8_t *hdr, size_t n, const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)hdr, .iov_len = n};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	mh.msg_control = ctl.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	cr_assert_eq(sendmsg(sock, &mh, 0), (ssize_t)n);
}

Test(frame, payload_round_trip)
{
	static const uint8_t p[] = "\x81\xa1t\x01 some payload bytes \x00 with a NUL";
	struct secbuf *sb = NULL;
	int sv[2], fd = 7;

	pair(sv);
	cr_assert_eq(frame_write(sv[0], p, sizeof(p), -1), 0);
	cr_assert_eq(frame_write(sv[0], NULL, 0, -1), 0);
	cr_assert_eq(frame_read(sv[1], 1024, &sb, &fd), 0);
	cr_assert_eq(fd, -1);
	cr_assert(secbuf_eq_mem(sb, p, sizeof(p)));
	secbuf_free(sb);
	cr_assert_eq(frame_read(sv[1], 1024, &sb, &fd), 0);
	cr_assert_eq(sb->len, 0);
	secbuf_free(sb);
	close(sv[0]);
	cr_assert_eq(frame_read(sv[1], 1024, &sb, &fd), ERR_EOF);
	close(sv[1]);
}

Test(frame, descriptor_rides_with_the_header)
{
	struct secbuf *sb = NULL;
	struct stat a, b;
	int sv[2], fd = -1, f;
	char path[] = "/tmp/smc-frame-XXXXXX";

	f = mkstemp(path);
	cr_assert_geq(f, 0);
	unlink(path);
	pair(sv);
	cr_assert_eq(frame_write(sv[0], (const uint8_t *)"abc", 3, f), 0);
	cr_assert_eq(frame_read(sv[1], 16, &sb, &fd), 0);
	cr_assert_geq(fd, 0);
	cr_assert_neq(fd, f);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC, "MSG_CMSG_CLOEXEC not applied");
	cr_assert_eq(fstat(f, &a), 0);
	cr_assert_eq(fstat(fd, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert(secbuf_eq_mem(sb, "abc", 3));
	secbuf_free(sb);
	close(fd);
	close(f);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, header_over_cap_refused_before_body)
{
	/* cap + 1 announced and no body sent: a reader that tried to read the body would
	 * block (and time out with ERR_IO); refusing first gives ERR_PROTO at once. */
	const size_t cap = 4096;
	uint8_t hdr[4] = {0, 0, (uint8_t)((cap + 1) >> 8), (uint8_t)(cap + 1)};
	struct timeval tv = {.tv_sec = 2};
	struct secbuf *sb = NULL;
	int sv[2], fd = -1;

	pair(sv);
	cr_assert_eq(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	raw_write(sv[0], hdr, 4);
	cr_assert_eq(frame_read(sv[1], cap, &sb, &fd), ERR_PROTO);
	cr_assert_null(sb);
	/* exactly cap is fine */
	hdr[2] = (uint8_t)(cap >> 8);
	hdr[3] = (uint8_t)cap;
	raw_write(sv[0], hdr, 4);
	{
		uint8_t *body = calloc(1, cap);

		raw_write(sv[0], body, cap);
		free(body);
	}
	cr_assert_eq(frame_read(sv[1], cap, &sb, &fd), 0);
	cr_assert_eq(sb->len, cap);
	secbuf_free(sb);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, frame_max_is_absolute)
{
	uint8_t hdr[4];
	size_t n = FRAME_MAX + 1;
	struct secbuf *sb = NULL;
	int sv[2], fd = -1;

	hdr[0] = (uint8_t)(n >> 24);
	hdr[1] = (uint8_t)(n >> 16);
	hdr[2] = (uint8_t)(n >> 8);
	hdr[3] = (uint8_t)n;
	pair(sv);
	raw_write(sv[0], hdr, 4);
	cr_assert_eq(frame_read(sv[1], SIZE_MAX, &sb, &fd), ERR_PROTO);
	cr_assert_eq(frame_write(sv[0], (const uint8_t *)"x", FRAME_MAX + 1, -1), ERR_TOOBIG);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, short_frames_are_protocol_errors)
{
	struct secbuf *sb = NULL;
	int sv[2], fd = -1;

	/* header cut in the middle */
	pair(sv);
	raw_write(sv[0], "\x00\x00", 2);
	close(sv[0]);
	cr_assert_eq(frame_read(sv[1], 1024, &sb, &fd), ERR_PROTO);
	close(sv[1]);
	/* body shorter than announced */
	pair(sv);
	raw_write(sv[0], "\x00\x00\x00\x0a" "12345", 9);
	close(sv[0]);
	cr_assert_eq(frame_read(sv[1], 1024, &sb, &fd), ERR_PROTO);
	cr_assert_null(sb);
	close(sv[1]);
}

Test(frame, header_in_pieces)
{
	struct secbuf *sb = NULL;
	int sv[2], fd = -1;

	pair(sv);
	raw_write(sv[0], "\x00", 1);
	raw_write(sv[0], "\x00\x00", 2);
	raw_write(sv[0], "\x03", 1);
	raw_write(sv[0], "x", 1);
	raw_write(sv[0], "yz", 2);
	cr_assert_eq(frame_read(sv[1], 1024, &sb, &fd), 0);
	cr_assert(secbuf_eq_mem(sb, "xyz", 3));
	secbuf_free(sb);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, two_descriptors_refused_and_closed)
{
	uint8_t hdr[5] = {0, 0, 0, 1, 'x'};
	struct secbuf *sb = NULL;
	int sv[2], fd = -1, fds[2], before;

	pair(sv);
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	send_with_fds(sv[0], hdr, sizeof(hdr), fds, 2);
	close(fds[0]);
	close(fds[1]);
	before = open_fds();
	cr_assert_eq(frame_read(sv[1], 1024, &sb, &fd), ERR_PROTO);
	cr_assert_eq(fd, -1);
	cr_assert_eq(open_fds(), before, "received descriptors leaked");
	close(sv[0]);
	close(sv[1]);
}

Test(frame, descriptor_on_body_bytes_is_dropped)
{
	/* the header comes alone; a descriptor attached to the body is not taken */
	struct secbuf *sb = NULL;
	int sv[2], fd = -1, dn, before;

	pair(sv);
	dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
	raw_write(sv[0], "\x00\x00\x00\x02", 4);
	send_with_fds(sv[0], (const uint8_t *)"ab", 2, &dn, 1);
	close(dn);
	before = open_fds();
	cr_assert_eq(frame_read(sv[1], 1024, &sb, &fd), 0);
	cr_assert_eq(fd, -1);
	cr_assert(secbuf_eq_mem(sb, "ab", 2));
	cr_assert_eq(open_fds(), before);
	secbuf_free(sb);
	close(sv[0]);
	close(sv[1]);
}

struct writer_arg {
	int sock;
	const uint8_t *p;
	size_t n;
	int rc;
};

static void *writer(void *a)
{
	struct writer_arg *w = a;

	w->rc = frame_write(w->sock, w->p, w->n, -1);
	return NULL;
}

Test(frame, large_frame_with_short_writes_and_reads)
{
	const size_t n = (size_t)5 << 20; /* larger than any socket buffer */
	uint8_t *p = malloc(n);
	struct writer_arg w;
	struct secbuf *sb = NULL;
	pthread_t th;
	int sv[2], fd = -1, small = 4096;

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + (i >> 13));
	pair(sv);
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	w.sock = sv[0];
	w.p = p;
	w.n = n;
	cr_assert_eq(pthread_create(&th, NULL, writer, &w), 0);
	cr_assert_eq(frame_read(sv[1], n, &sb, &fd), 0);
	pthread_join(th, NULL);
	cr_assert_eq(w.rc, 0);
	cr_assert_eq(sb->len, n);
	cr_assert(memcmp(sb->data, p, n) == 0);
	secbuf_free(sb);
	free(p);
	close(sv[0]);
	close(sv[1]);
}

Test(frame, write_to_closed_peer_is_an_error_not_sigpipe)
{
	int sv[2];

	pair(sv);
	close(sv[1]);
	cr_assert_eq(frame_write(sv[0], (const uint8_t *)"abc", 3, -1), ERR_IO);
	close(sv[0]);
}
