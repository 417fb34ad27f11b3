/* test_syncer.c — the syncer's real policy: forbidden syscalls die with SIGSYS, harmless
 * probes get their exact errno, Landlock confines writes to the store directory, and the
 * real workload (SQLite create/insert/commit, rollback journal and WAL; a resolver-style
 * thread) still runs. Each criterion test runs in its own process, enters the sandbox and
 * reports through its exit status only. */
#include <fcntl.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "syncer/syncer_sandbox.h"
#include "tests/sandbox/sandbox_harness.h"

static char g_root[64];
static char g_store[96];
static char g_other[96];
static char g_db[128];

/* <root>/store (rw) and <root>/other, both owned by the syncer's uid, so that only the
 * sandbox can make a write in <root>/other fail. */
static void make_dirs(void)
{
	unsigned uid, gid;

	cr_assert_eq(sandbox_role_ids("syncer", &uid, &gid), 0);
	sbx_make_root(g_root, sizeof(g_root), "syn");
	snprintf(g_store, sizeof(g_store), "%s/store", g_root);
	snprintf(g_other, sizeof(g_other), "%s/other", g_root);
	snprintf(g_db, sizeof(g_db), "%s/store.db", g_store);
	cr_assert_eq(mkdir(g_store, 0755), 0);
	cr_assert_eq(mkdir(g_other, 0755), 0);
	cr_assert_eq(chown(g_store, uid, gid), 0);
	cr_assert_eq(chown(g_other, uid, gid), 0);
}

static void enter_with(struct sandbox_paths *p)
{
	sbx_enter(syncer_sandbox_enter, "syncer_sandbox_enter", p);
}

/* As the syncer runs: store directory rw, HTTPS to port 443 only. */
static void enter_default(void)
{
	struct sandbox_paths p;

	make_dirs();
	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_rw(&p, g_store), 0);
	cr_assert_eq(sandbox_paths_add_port(&p, 443), 0);
	enter_with(&p);
}

#define KILLED(name, call) SBX_KILLED(syncer_kill, name, call)

static char *const probe_argv[] = {"/bin/true", NULL};
static char *const probe_envp[] = {NULL};

KILLED(execve, syscall(SYS_execve, "/bin/true", probe_argv, probe_envp))
KILLED(execveat, syscall(SYS_execveat, AT_FDCWD, "/bin/true", probe_argv, probe_envp, 0))
KILLED(ptrace, syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0))
KILLED(mount, syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL))
KILLED(umount2, syscall(SYS_umount2, "/tmp", 0))
KILLED(chroot, syscall(SYS_chroot, "/tmp"))
KILLED(unshare, syscall(SYS_unshare, CLONE_NEWUSER))
KILLED(setns, syscall(SYS_setns, 0, 0))
KILLED(bpf, syscall(SYS_bpf, 0, NULL, 0))
KILLED(perf_event_open, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0))
KILLED(kexec_load, syscall(SYS_kexec_load, 0, 0, NULL, 0))
KILLED(init_module, syscall(SYS_init_module, NULL, 0, ""))
KILLED(finit_module, syscall(SYS_finit_module, -1, "", 0))
KILLED(keyctl, syscall(SYS_keyctl, 0, 0, 0, 0, 0))
KILLED(setuid_after_drop, syscall(SYS_setuid, 0))
KILLED(setresgid_after_drop, syscall(SYS_setresgid, 0, 0, 0))
KILLED(process_vm_readv, syscall(SYS_process_vm_readv, getpid(), NULL, 0, NULL, 0, 0))
KILLED(personality, syscall(SYS_personality, 0xffffffffUL))
KILLED(userfaultfd, syscall(SYS_userfaultfd, 0))
/* fork is a clone without CLONE_THREAD; a thread in a new namespace is refused too */
KILLED(fork, syscall(SYS_clone, (unsigned long)SIGCHLD, 0, 0, 0, 0))
KILLED(clone_thread_newns,
       syscall(SYS_clone, (unsigned long)(CLONE_THREAD | CLONE_NEWNET), 0, 0, 0, 0))
/* client sockets only: no server, no raw/netlink/packet sockets */
KILLED(socket_netlink, syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0))
KILLED(socket_packet, syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0))
KILLED(bind, syscall(SYS_bind, 0, NULL, 0))
KILLED(listen, syscall(SYS_listen, 0, 1))
KILLED(accept4, syscall(SYS_accept4, 0, NULL, NULL, 0))
/* SQLite's root-only fchown is not needed once the uid is dropped */
KILLED(fchown, syscall(SYS_fchown, 0, 0, 0))
KILLED(ioctl_other, syscall(SYS_ioctl, 0, FIONBIO, NULL))

SBX_DENIED(syncer_errno, prctl_is_eperm, syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0), EPERM)

SBX_DENIED(syncer_errno, clone3_is_enosys, syscall(SYS_clone3, NULL, 0), ENOSYS)

/* Landlock: files can be created in the store directory only. */
Test(syncer_landlock, create_in_store_dir)
{
	char path[160];
	int fd;

	enter_default();
	snprintf(path, sizeof(path), "%s/new", g_store);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		_exit(1);
	if (write(fd, "x", 1) != 1)
		_exit(2);
	close(fd);
	_exit(unlink(path) == 0 ? 0 : 3);
}

Test(syncer_landlock, create_elsewhere_is_eacces)
{
	char path[160];

	enter_default();
	snprintf(path, sizeof(path), "%s/new", g_other);
	_exit(sbx_errno_of(open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == EACCES ? 0
											    : 1);
}

SBX_DENIED(syncer_landlock, tmp_is_eacces,
	   open("/tmp/smc-sbx-syncer-escape", O_WRONLY | O_CREAT | O_CLOEXEC, 0600), EACCES)

Test(syncer_landlock, ca_bundle_readable)
{
	int fd;

	enter_default();
	fd = open("/etc/ssl/certs/ca-certificates.crt", O_RDONLY | O_CLOEXEC);
	_exit(fd >= 0 ? 0 : 1);
}

Test(syncer_landlock, tcp_connect_other_port_is_eacces)
{
	enter_default(); /* 443 only */
	_exit(sbx_connect_loopback(8080) == -EACCES ? 0 : 1);
}

/* The real store workload: create, insert in a transaction, commit, reopen, read back. */
static int sqlite_workload(const char *journal_mode)
{
	char sql[256];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int count = -1;

	if (sqlite3_open_v2(g_db, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		return 10;
	snprintf(
	    sql, sizeof(sql),
	    "PRAGMA journal_mode=%s; CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB, ver INT);"
	    "BEGIN; INSERT INTO kv VALUES('a', x'01', 1); INSERT INTO kv VALUES('b', x'02', 1);"
	    "COMMIT;",
	    journal_mode);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return 11;
	if (sqlite3_close(db) != SQLITE_OK)
		return 12;
	db = NULL;
	if (sqlite3_open_v2(g_db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		return 13;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM kv", -1, &st, NULL) != SQLITE_OK)
		return 14;
	if (sqlite3_step(st) == SQLITE_ROW)
		count = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return count == 2 ? 0 : 15;
}

Test(syncer_workload, sqlite_rollback_journal)
{
	enter_default();
	_exit(sqlite_workload("DELETE"));
}

Test(syncer_workload, sqlite_wal)
{
	enter_default();
	_exit(sqlite_workload("WAL"));
}

/* libcurl's threaded resolver: pthread_create (clone3 → ENOSYS → clone) still works. */
Test(syncer_workload, resolver_thread)
{
	enter_default();
	_exit(sbx_thread_roundtrip());
}

SBX_CLEANUP_HOOK("syn")
