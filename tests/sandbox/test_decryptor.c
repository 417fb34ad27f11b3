/* test_decryptor.c — the decryptor's real policy: forbidden syscalls die with SIGSYS,
 * harmless probes get their exact errno, Landlock confines reads to the key directory,
 * and the real workload (key file + sealed TREE memfd over SCM_RIGHTS) still runs.
 * Criterion forks one process per test; each test enters the sandbox in that process and
 * reports through its exit status only (the criterion channel is closed by the sandbox). */
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>

#include "common/secbuf.h"
#include "decryptor/decryptor_sandbox.h"
#include "proto/frame.h"
#include "tests/sandbox/sandbox_harness.h"

#define EXIT_SETUP 92
#define KEY_TEXT "age-identity-placeholder\n"
#define TREE_TEXT "tree bytes: kustomization.yaml and friends"

static char g_root[64];
static char g_keys[96];
static char g_keyfile[128];
static char g_outside[128];

/* Temp layout made as root before entering: <root>/keys/key.txt (the ro key dir) and
 * <root>/outside.txt (not allowed). World-readable so the role uid could read both if
 * only Unix permissions applied: any denial comes from the sandbox. */
static void make_dirs(void)
{
	sbx_make_root(g_root, sizeof(g_root), "dec");
	snprintf(g_keys, sizeof(g_keys), "%s/keys", g_root);
	cr_assert_eq(mkdir(g_keys, 0755), 0);
	snprintf(g_keyfile, sizeof(g_keyfile), "%s/key.txt", g_keys);
	snprintf(g_outside, sizeof(g_outside), "%s/outside.txt", g_root);
	sbx_write_file(g_keyfile, KEY_TEXT);
	sbx_write_file(g_outside, "outside\n");
}

static void enter(struct sandbox_paths *p)
{
	sbx_enter(decryptor_sandbox_enter, "decryptor_sandbox_enter", p);
}

/* The policy as the decryptor runs it: key dir read-only, nothing else. */
static void enter_default(void)
{
	struct sandbox_paths p;

	make_dirs();
	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_ro(&p, g_keys), 0);
	enter(&p);
}

#define KILLED(name, call) SBX_KILLED(decryptor_kill, name, call)

static char *const probe_argv[] = {"/bin/true", NULL};
static char *const probe_envp[] = {NULL};
static char probe_buf[16];

KILLED(execve, syscall(SYS_execve, "/bin/true", probe_argv, probe_envp))
KILLED(execveat, syscall(SYS_execveat, AT_FDCWD, "/bin/true", probe_argv, probe_envp, 0))
KILLED(ptrace, syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0))
KILLED(mount, syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL))
KILLED(umount2, syscall(SYS_umount2, "/tmp", 0))
KILLED(pivot_root, syscall(SYS_pivot_root, "/tmp", "/tmp"))
KILLED(chroot, syscall(SYS_chroot, "/tmp"))
KILLED(unshare, syscall(SYS_unshare, CLONE_NEWUSER))
KILLED(setns, syscall(SYS_setns, 0, 0))
KILLED(bpf, syscall(SYS_bpf, 0, NULL, 0))
KILLED(perf_event_open, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0))
KILLED(kexec_load, syscall(SYS_kexec_load, 0, 0, NULL, 0))
KILLED(init_module, syscall(SYS_init_module, NULL, 0, ""))
KILLED(finit_module, syscall(SYS_finit_module, -1, "", 0))
KILLED(keyctl, syscall(SYS_keyctl, 0, 0, 0, 0, 0))
KILLED(add_key, syscall(SYS_add_key, "user", "smc", "x", 1, 0))
KILLED(setuid_after_drop, syscall(SYS_setuid, 0))
KILLED(setresuid_after_drop, syscall(SYS_setresuid, 0, 0, 0))
KILLED(setgid_after_drop, syscall(SYS_setgid, 0))
KILLED(process_vm_readv, syscall(SYS_process_vm_readv, getpid(), NULL, 0, NULL, 0, 0))
KILLED(process_vm_writev, syscall(SYS_process_vm_writev, getpid(), NULL, 0, NULL, 0, 0))
KILLED(personality, syscall(SYS_personality, 0xffffffffUL))
KILLED(userfaultfd, syscall(SYS_userfaultfd, 0))
KILLED(fork, syscall(SYS_clone, (unsigned long)SIGCHLD, 0, 0, 0, 0))
KILLED(kill, syscall(SYS_kill, 1, 0))
/* No network of any kind in the process that holds the keys. */
KILLED(socket_inet, syscall(SYS_socket, AF_INET, SOCK_STREAM, 0))
KILLED(socket_inet6, syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0))
KILLED(socket_unix, syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0))
KILLED(socket_netlink, syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0))
KILLED(connect, syscall(SYS_connect, 3, NULL, 0))
/* Opens that could write are killed by the flag filter, wherever they point. */
KILLED(openat_wronly, syscall(SYS_openat, AT_FDCWD, g_keyfile, O_WRONLY))
KILLED(openat_rdwr, syscall(SYS_openat, AT_FDCWD, g_keyfile, O_RDWR))
KILLED(openat_creat, syscall(SYS_openat, AT_FDCWD, "/tmp/smc-sbx-new", O_RDONLY | O_CREAT, 0600))
KILLED(openat_trunc, syscall(SYS_openat, AT_FDCWD, g_keyfile, O_RDONLY | O_TRUNC))
KILLED(open_legacy, syscall(SYS_open, g_keyfile, O_RDONLY))
KILLED(ioctl_tiocsti, syscall(SYS_ioctl, 0, TIOCSTI, probe_buf))

/* Harmless probes fail with their exact errno. */
SBX_DENIED(decryptor_errno, prctl_is_eperm, syscall(SYS_prctl, PR_SET_NAME, "x", 0, 0, 0), EPERM)

SBX_DENIED(decryptor_errno, clone3_is_enosys, syscall(SYS_clone3, NULL, 0), ENOSYS)

Test(decryptor_errno, isatty_is_enotty)
{
	struct termios t;

	enter_default();
	_exit(sbx_errno_of(syscall(SYS_ioctl, 2, TCGETS, &t)) == ENOTTY ? 0 : 1);
}

/* Landlock: read-only opens outside the key directory are refused with EACCES. */
SBX_DENIED(decryptor_landlock, outside_file_is_eacces,
	   syscall(SYS_openat, AT_FDCWD, g_outside, O_RDONLY), EACCES)

SBX_DENIED(decryptor_landlock, etc_passwd_is_eacces,
	   syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY), EACCES)

Test(decryptor_landlock, key_file_is_readable)
{
	char buf[64];
	ssize_t n;
	int fd;

	enter_default();
	fd = open(g_keyfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(1);
	n = read(fd, buf, sizeof(buf));
	if (n != (ssize_t)strlen(KEY_TEXT) || memcmp(buf, KEY_TEXT, (size_t)n) != 0)
		_exit(2);
	close(fd);
	_exit(0);
}

/* The uid drop happened before seccomp: the process is no longer root. Checked through
 * the one channel left, a file-permission fact: a 0600 root file in the key dir. */
Test(decryptor_engine, root_only_file_unreadable_after_drop)
{
	char path[160];
	FILE *f;

	make_dirs();
	snprintf(path, sizeof(path), "%s/root-only", g_keys);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(chmod(path, 0600), 0);
	{
		struct sandbox_paths p;

		memset(&p, 0, sizeof(p));
		cr_assert_eq(sandbox_paths_add_ro(&p, g_keys), 0);
		enter(&p);
	}
	_exit(sbx_errno_of(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY)) == EACCES ? 0 : 1);
}

/* Stray fds are closed, kept fds survive. */
Test(decryptor_engine, stray_fds_closed_kept_fds_open)
{
	struct sandbox_paths p;
	int keep, stray;

	make_dirs();
	keep = open("/dev/null", O_RDONLY);
	stray = open("/dev/null", O_RDONLY);
	cr_assert_geq(keep, 3);
	cr_assert_geq(stray, 3);
	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_ro(&p, g_keys), 0);
	cr_assert_eq(sandbox_paths_keep_fd(&p, keep), 0);
	enter(&p);
	if (fcntl(keep, F_GETFD) == -1)
		_exit(1);
	if (fcntl(stray, F_GETFD) != -1 || errno != EBADF)
		_exit(2);
	_exit(0);
}

/* The real workload: the TREE arrives as a sealed memfd over SCM_RIGHTS (frame_write /
 * frame_read of proto/, the real peer code), is mapped read-only and checked; the key
 * file is read from the key directory. */
Test(decryptor_workload, sealed_memfd_over_socketpair_and_key_file)
{
	const int want_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	struct sandbox_paths p;
	struct secbuf *payload = NULL;
	struct stat st;
	char buf[64];
	void *map;
	int sv[2], mfd, fd = -1, seals;
	ssize_t n;

	make_dirs();
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	mfd = memfd_create("tree", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	cr_assert_geq(mfd, 0);
	cr_assert_eq(write(mfd, TREE_TEXT, strlen(TREE_TEXT)), (ssize_t)strlen(TREE_TEXT));
	cr_assert_eq(fcntl(mfd, F_ADD_SEALS, want_seals), 0);
	cr_assert_eq(frame_write(sv[0], (const uint8_t *)"TREE", 4, mfd), 0);
	close(mfd);

	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_ro(&p, g_keys), 0);
	cr_assert_eq(sandbox_paths_keep_fd(&p, sv[1]), 0);
	enter(&p); /* closes sv[0] and everything else not kept */

	if (frame_read(sv[1], 1024, &payload, &fd) != 0 || fd < 0)
		_exit(1);
	if (payload->len != 4 || memcmp(payload->data, "TREE", 4) != 0)
		_exit(2);
	secbuf_free(payload);
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & want_seals) != want_seals)
		_exit(3);
	if (fstat(fd, &st) != 0 || st.st_size != (off_t)strlen(TREE_TEXT))
		_exit(4);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED || memcmp(map, TREE_TEXT, strlen(TREE_TEXT)) != 0)
		_exit(5);
	munmap(map, (size_t)st.st_size);
	close(fd);

	fd = open(g_keyfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(6);
	n = read(fd, buf, sizeof(buf));
	if (n != (ssize_t)strlen(KEY_TEXT) || memcmp(buf, KEY_TEXT, (size_t)n) != 0)
		_exit(7);
	_exit(0);
}

SBX_CLEANUP_HOOK("dec")
