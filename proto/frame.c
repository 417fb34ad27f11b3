/* frame.c — length-prefixed frames on a stream socket, with optional SCM_RIGHTS.
 *
 * A frame is a 4-byte big-endian length then the payload. The header travels in the same
 * sendmsg() as the descriptor, so a reader that takes the header with recvmsg() gets the
 * descriptor with it (a Unix stream socket never merges data across a control message).
 * The announced length is checked against the caller's cap and FRAME_MAX before anything
 * is allocated; the payload is read into a secbuf because it may hold plaintext. */
#include "proto/frame.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/err.h"

#define FRAME_HDR 4
#define FRAME_MAX_FDS 4    /* room for this many descriptors, to see and close extras */
#define FRAME_CHUNK 16384  /* stack chunk the payload is read through (wiped after) */

static int frame_sendmsg(int sock, struct iovec *iov, int iovcnt, int pass_fd, size_t *sent)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh;
	ssize_t r;

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)iovcnt;
	if (pass_fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	do {
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return ERR_IO;
	*sent = (size_t)r;
	return 0;
}

int frame_write(int sock, const uint8_t *payload, size_t n, int pass_fd)
{
	uint8_t hdr[FRAME_HDR];
	struct iovec iov[2];
	size_t sent = 0, total = FRAME_HDR + n, done;
	int rc;

	if (n > FRAME_MAX || (payload == NULL && n > 0))
		return ERR_TOOBIG;
	hdr[0] = (uint8_t)(n >> 24);
	hdr[1] = (uint8_t)(n >> 16);
	hdr[2] = (uint8_t)(n >> 8);
	hdr[3] = (uint8_t)n;
	iov[0].iov_base = hdr;
	iov[0].iov_len = FRAME_HDR;
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = n;
	/* The first sendmsg carries the descriptor and at least one byte of the header. */
	if ((rc = frame_sendmsg(sock, iov, n > 0 ? 2 : 1, pass_fd, &sent)) != 0)
		return rc;
	done = sent;
	while (done < total) {
		int cnt = 0;

		if (done < FRAME_HDR) {
			iov[cnt].iov_base = hdr + done;
			iov[cnt].iov_len = FRAME_HDR - done;
			cnt++;
			if (n > 0) {
				iov[cnt].iov_base = (void *)payload;
				iov[cnt].iov_len = n;
				cnt++;
			}
		} else {
			iov[cnt].iov_base = (void *)(payload + (done - FRAME_HDR));
			iov[cnt].iov_len = total - done;
			cnt++;
		}
		if ((rc = frame_sendmsg(sock, iov, cnt, -1, &sent)) != 0)
			return rc;
		if (sent == 0)
			return ERR_IO;
		done += sent;
	}
	return 0;
}

static void frame_close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			(void)close(fds[i]);
		fds[i] = -1;
	}
}

/* One recvmsg into p[0..n); descriptors that arrive are appended to fds (up to
 * FRAME_MAX_FDS; *nfds counts all of them, *trunc notes a truncated control part). */
static int frame_recvmsg(int sock, uint8_t *p, size_t n, int *fds, size_t *nfds, int *trunc,
			 size_t *got)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FRAME_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = p, .iov_len = n};
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t r;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do {
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (r < 0 && errno == EINTR);
	if (r < 0 && errno == ECONNRESET)
		r = 0; /* the peer died with data unread: to us it is a close */
	if (r < 0)
		return ERR_IO;
	if (mh.msg_flags & MSG_CTRUNC)
		*trunc = 1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t k, cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (*nfds < FRAME_MAX_FDS)
				fds[*nfds] = fd;
			else
				(void)close(fd);
			(*nfds)++;
		}
	}
	*got = (size_t)r;
	return 0;
}

int frame_read(int sock, size_t cap, struct secbuf **payload, int *fd_out)
{
	uint8_t hdr[FRAME_HDR], chunk[FRAME_CHUNK];
	int fds[FRAME_MAX_FDS] = {-1, -1, -1, -1};
	size_t nfds = 0, have = 0, len, got;
	struct secbuf *sb = NULL;
	int trunc = 0, rc;

	while (have < FRAME_HDR) {
		if ((rc = frame_recvmsg(sock, hdr + have, FRAME_HDR - have, fds, &nfds, &trunc,
					&got)) != 0)
			goto out;
		if (got == 0) {
			rc = have == 0 && nfds == 0 ? ERR_EOF : ERR_PROTO;
			goto out;
		}
		have += got;
	}
	if (trunc || nfds > 1) {
		rc = ERR_PROTO;
		goto out;
	}
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (len > cap || len > FRAME_MAX) {
		rc = ERR_PROTO;
		goto out;
	}
	if ((rc = secbuf_new(&sb, len)) != 0)
		goto out;
	while (sb->len < len) {
		size_t want = len - sb->len;
		ssize_t r;

		if (want > sizeof(chunk))
			want = sizeof(chunk);
		/* Plain recv: a descriptor attached to body bytes is discarded by the kernel. */
		do {
			r = recv(sock, chunk, want, 0);
		} while (r < 0 && errno == EINTR);
		if (r < 0) {
			rc = ERR_IO;
			goto out;
		}
		if (r == 0) {
			rc = ERR_PROTO; /* short frame */
			goto out;
		}
		if ((rc = secbuf_put(sb, chunk, (size_t)r)) != 0)
			goto out;
	}
	*payload = sb;
	sb = NULL;
	*fd_out = nfds == 1 ? fds[0] : -1;
	fds[0] = -1;
	rc = 0;
out:
	explicit_bzero(chunk, sizeof(chunk));
	secbuf_free(sb);
	frame_close_fds(fds, FRAME_MAX_FDS);
	return rc;
}
