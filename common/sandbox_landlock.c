/* sandbox_landlock.c — Landlock rulesets through the raw syscalls (see the header for
 * the per-ABI degradation). The uapi header of the build host may be older than the
 * kernel we run on, so the rights and structures added after ABI 2 are defined here
 * under our own names, with the values fixed by the kernel ABI. */
#include "common/sandbox_landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Rights and structures newer than the Debian 12 uapi header (values are kernel ABI). */
#define LL_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

/* struct landlock_ruleset_attr as of ABI 6; the size passed tells the kernel which
 * fields we know, so older kernels accept the prefix they understand. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;	     /* ABI 6 */
};
#define LL_ATTR_SIZE_V1 sizeof(uint64_t)
#define LL_ATTR_SIZE_V4 (2 * sizeof(uint64_t))
#define LL_ATTR_SIZE_V6 (3 * sizeof(uint64_t))

struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

#define LL_FS_ABI1                                                                                 \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |                              \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                          \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |                              \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                              \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                            \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

/* What a read-only path grants. */
#define LL_RO_RIGHTS                                                                               \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* What a read-write path grants: no execute, no device nodes. */
#define LL_RW_RIGHTS                                                                               \
	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |                              \
	 LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                           \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |                            \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SYM |                               \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_REFER |  \
	 LL_FS_TRUNCATE)
/* The rights that may be attached to a non-directory. */
#define LL_FILE_RIGHTS                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

int sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, (size_t)0,
			   (uint32_t)LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return 0; /* ENOSYS: not built in; EOPNOTSUPP: disabled at boot */
	return (int)abi;
}

static uint64_t ll_fs_handled(int abi)
{
	uint64_t m = LL_FS_ABI1;
	if (abi >= 2)
		m |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		m |= LL_FS_TRUNCATE;
	if (abi >= 5)
		m |= LL_FS_IOCTL_DEV;
	return m;
}

static int ll_add_path(int ruleset, const char *path, uint64_t rights, struct err_ctx *err)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd = -1;
	int rc = 0;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
		err_set(err, rc, "landlock: open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = err_set(err, ERR_IO, "landlock: stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode))
		rights &= LL_FILE_RIGHTS;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = rights;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, (uint32_t)0) != 0)
		rc = err_set(err, ERR_IO, "landlock: add rule %s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int ll_add_port(int ruleset, uint16_t port, struct err_ctx *err)
{
	struct ll_net_port_attr np = {.allowed_access = LL_NET_CONNECT_TCP, .port = port};

	if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &np, (uint32_t)0) != 0)
		return err_set(err, ERR_IO, "landlock: add port %u: %s", (unsigned)port,
			       strerror(errno));
	return 0;
}

int sandbox_landlock_apply(const struct sandbox_paths *paths, int *applied_abi, struct err_ctx *err)
{
	struct ll_ruleset_attr attr;
	size_t attr_size = LL_ATTR_SIZE_V1;
	uint64_t fs;
	int abi, ruleset = -1, rc = 0;
	size_t i;

	if (paths == NULL || paths->nro > SANDBOX_MAX_PATHS || paths->nrw > SANDBOX_MAX_PATHS ||
	    paths->nports > SANDBOX_MAX_PORTS)
		return err_set(err, ERR_INVAL, "landlock: invalid path set");
	abi = sandbox_landlock_abi();
	if (abi <= 0) {
		/* Degraded: no Landlock on this kernel. seccomp remains mandatory. */
		if (applied_abi != NULL)
			*applied_abi = 0;
		return 0;
	}

	memset(&attr, 0, sizeof(attr));
	fs = ll_fs_handled(abi);
	attr.handled_access_fs = fs;
	if (abi >= 4) {
		attr_size = LL_ATTR_SIZE_V4;
		if (!paths->any_tcp || paths->no_tcp)
			attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	}
	if (abi >= 6) {
		attr_size = LL_ATTR_SIZE_V6;
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, (uint32_t)0);
	if (ruleset < 0) {
		rc = err_set(err, ERR_IO, "landlock: create ruleset (abi %d): %s", abi,
			     strerror(errno));
		goto out;
	}
	for (i = 0; i < paths->nro; i++) {
		rc = ll_add_path(ruleset, paths->ro[i], LL_RO_RIGHTS & fs, err);
		if (rc != 0)
			goto out;
	}
	for (i = 0; i < paths->nrw; i++) {
		rc = ll_add_path(ruleset, paths->rw[i], LL_RW_RIGHTS & fs, err);
		if (rc != 0)
			goto out;
	}
	if (attr.handled_access_net != 0 && !paths->no_tcp) {
		for (i = 0; i < paths->nports; i++) {
			rc = ll_add_port(ruleset, paths->connect_ports[i], err);
			if (rc != 0)
				goto out;
		}
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, (uint32_t)0) != 0) {
		rc = err_set(err, ERR_IO, "landlock: restrict self: %s", strerror(errno));
		goto out;
	}
	if (applied_abi != NULL)
		*applied_abi = abi;
out:
	if (ruleset >= 0)
		close(ruleset);
	return rc;
}
