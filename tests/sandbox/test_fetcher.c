/* test_fetcher.c — the fetcher's real policy: forbidden syscalls die with SIGSYS, harmless
 * probes get their exact errno, Landlock keeps the source directory read-only, writes in
 * the scratch directory only, and TCP connects to the allowed ports only; the real
 * workload (source_dir_read of a tree into a sealed memfd; libgit2 cloning a file://
 * repository into scratch) still runs. Each criterion test runs in its own process,
 * enters the sandbox and reports through its exit status only. */
#include <fcntl.h>
#include <git2.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "fetcher/fetcher_sandbox.h"
#include "fetcher/source_dir.h"
#include "proto/tree.h"
#include "tests/sandbox/sandbox_harness.h"

#define ENV_TEXT "DB_PASSWORD=ENC[AES256_GCM,data:placeholder]\n"
#define PROPS_TEXT "server.port=8080\n"

static char g_root[64];
static char g_src[96];
static char g_scratch[96];
static char g_repo[96];

/* <root>/src: a small source tree (world-readable, ro for the fetcher);
 * <root>/scratch: owned by the fetcher's uid (rw). */
static void make_dirs(void)
{
	char p[160];
	unsigned uid, gid;

	cr_assert_eq(sandbox_role_ids("fetcher", &uid, &gid), 0);
	sbx_make_root(g_root, sizeof(g_root), "fet");
	snprintf(g_src, sizeof(g_src), "%s/src", g_root);
	snprintf(g_scratch, sizeof(g_scratch), "%s/scratch", g_root);
	snprintf(g_repo, sizeof(g_repo), "%s/repo.git", g_root);
	cr_assert_eq(mkdir(g_src, 0755), 0);
	snprintf(p, sizeof(p), "%s/profiles", g_src);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/profiles/dev", g_src);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/profiles/dev/application.secrets.env", g_src);
	sbx_write_file(p, ENV_TEXT);
	snprintf(p, sizeof(p), "%s/profiles/dev/application.properties", g_src);
	sbx_write_file(p, PROPS_TEXT);
	cr_assert_eq(mkdir(g_scratch, 0755), 0);
	cr_assert_eq(chown(g_scratch, uid, gid), 0);
}

static void enter_with(struct sandbox_paths *p)
{
	sbx_enter(fetcher_sandbox_enter, "fetcher_sandbox_enter", p);
}

/* As the fetcher runs: source ro, scratch rw, HTTPS and git:// ports only. */
static void enter_default(void)
{
	struct sandbox_paths p;

	make_dirs();
	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_ro(&p, g_src), 0);
	cr_assert_eq(sandbox_paths_add_rw(&p, g_scratch), 0);
	cr_assert_eq(sandbox_paths_add_port(&p, 443), 0);
	cr_assert_eq(sandbox_paths_add_port(&p, 9418), 0);
	enter_with(&p);
}

#define KILLED(name, call) SBX_KILLED(fetcher_kill, name, call)

static char *const probe_argv[] = {"/usr/bin/git", "--version", NULL};
static char *const probe_envp[] = {NULL};

/* libgit2 never runs git or ssh: no exec of any kind */
KILLED(execve_git, syscall(SYS_execve, "/usr/bin/git", probe_argv, probe_envp))
KILLED(execveat, syscall(SYS_execveat, AT_FDCWD, "/usr/bin/git", probe_argv, probe_envp, 0))
KILLED(ptrace, syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0))
KILLED(mount, syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL))
KILLED(umount2, syscall(SYS_umount2, "/tmp", 0))
KILLED(chroot, syscall(SYS_chroot, "/tmp"))
KILLED(unshare, syscall(SYS_unshare, CLONE_NEWNS))
KILLED(bpf, syscall(SYS_bpf, 0, NULL, 0))
KILLED(perf_event_open, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0))
KILLED(kexec_load, syscall(SYS_kexec_load, 0, 0, NULL, 0))
KILLED(finit_module, syscall(SYS_finit_module, -1, "", 0))
KILLED(keyctl, syscall(SYS_keyctl, 0, 0, 0, 0, 0))
KILLED(setuid_after_drop, syscall(SYS_setuid, 0))
KILLED(setreuid_after_drop, syscall(SYS_setreuid, 0, 0))
KILLED(process_vm_readv, syscall(SYS_process_vm_readv, getpid(), NULL, 0, NULL, 0, 0))
KILLED(personality, syscall(SYS_personality, 0xffffffffUL))
KILLED(userfaultfd, syscall(SYS_userfaultfd, 0))
KILLED(fork, syscall(SYS_clone, (unsigned long)SIGCHLD, 0, 0, 0, 0))
KILLED(socket_packet, syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0))
KILLED(bind, syscall(SYS_bind, 0, NULL, 0))
KILLED(listen, syscall(SYS_listen, 0, 1))
KILLED(fchown, syscall(SYS_fchown, 0, 0, 0))
KILLED(mknod, syscall(SYS_mknodat, AT_FDCWD, "/tmp/smc-sbx-node", 0600, 0))

SBX_DENIED(fetcher_errno, prctl_is_eperm, syscall(SYS_prctl, PR_SET_NAME, "x", 0, 0, 0), EPERM)

SBX_DENIED(fetcher_errno, clone3_is_enosys, syscall(SYS_clone3, NULL, 0), ENOSYS)

/* Landlock: the source directory is read-only, the scratch directory writable. */
Test(fetcher_landlock, write_in_source_is_eacces)
{
	char p[160];

	enter_default();
	snprintf(p, sizeof(p), "%s/profiles/dev/injected", g_src);
	_exit(sbx_errno_of(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == EACCES ? 0 : 1);
}

Test(fetcher_landlock, create_in_scratch)
{
	char d[160], f[192];
	int fd;

	enter_default();
	snprintf(d, sizeof(d), "%s/objects", g_scratch);
	snprintf(f, sizeof(f), "%s/objects/pack.tmp", g_scratch);
	if (mkdir(d, 0755) != 0)
		_exit(1);
	fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "PACK", 4) != 4)
		_exit(2);
	close(fd);
	_exit(rename(f, d) == -1 && unlink(f) == 0 && rmdir(d) == 0 ? 0 : 3);
}

SBX_DENIED(fetcher_landlock, outside_read_is_eacces, open("/etc/passwd", O_RDONLY | O_CLOEXEC),
	   EACCES)

/* Landlock TCP, ports restricted: connect to an allowed port reaches the listener (made
 * before the sandbox and kept), the same listener on a non-allowed port is EACCES. */
Test(fetcher_landlock, tcp_allowed_port_connects_other_is_eacces)
{
	struct sandbox_paths p;
	uint16_t allowed, denied;
	int la, ld;

	make_dirs();
	la = sbx_loopback_listener(&allowed);
	ld = sbx_loopback_listener(&denied);
	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_rw(&p, g_scratch), 0);
	cr_assert_eq(sandbox_paths_add_port(&p, allowed), 0);
	cr_assert_eq(sandbox_paths_keep_fd(&p, la), 0);
	cr_assert_eq(sandbox_paths_keep_fd(&p, ld), 0);
	enter_with(&p);
	if (sbx_connect_loopback(allowed) < 0)
		_exit(1);
	_exit(sbx_connect_loopback(denied) == -EACCES ? 0 : 2);
}

/* The real workload, part 1: the directory source read by fetcher/source_dir.c into a
 * tree, written into a sealed memfd (proto/tree.c) and read back through the seal check. */
Test(fetcher_workload, source_dir_to_sealed_memfd)
{
	struct tree t, back;
	const struct tree_file *f;
	struct err_ctx e;
	int fd = -1, seals;

	enter_default();
	memset(&e, 0, sizeof(e));
	if (source_dir_read(g_src, "profiles/dev", &t, &e) != 0) {
		fprintf(stderr, "source_dir_read: %s\n", e.msg);
		_exit(1);
	}
	if (t.n != 2)
		_exit(2);
	if (tree_to_memfd(&t, &fd) != 0)
		_exit(3);
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) !=
			     (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		_exit(4);
	if (tree_from_memfd(fd, &back) != 0)
		_exit(5);
	f = tree_find(&back, "application.secrets.env");
	if (f == NULL || f->size != strlen(ENV_TEXT) || memcmp(f->data, ENV_TEXT, f->size) != 0)
		_exit(6);
	f = tree_find(&back, "application.properties");
	if (f == NULL || f->size != strlen(PROPS_TEXT))
		_exit(7);
	tree_free(&t);
	tree_free(&back);
	close(fd);
	_exit(0);
}

/* A bare repository with one commit (application.properties), made with libgit2 before
 * the sandbox; libgit2 is told not to read the user's or system's git config. */
static void make_repo(void)
{
	git_repository *repo = NULL;
	git_treebuilder *tb = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid blob, tid, cid;

	cr_assert_geq(git_libgit2_init(), 1);
	cr_assert_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, ""), 0);
	cr_assert_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, ""), 0);
	cr_assert_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, ""), 0);
	cr_assert_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, ""),
		     0);
	/* The repository belongs to root and is read by the fetcher's uid: a local source
	 * owned by someone else, which libgit2's safe.directory check would refuse. */
	cr_assert_eq(git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0), 0);
	cr_assert_eq(git_repository_init(&repo, g_repo, 1), 0);
	cr_assert_eq(git_blob_create_from_buffer(&blob, repo, PROPS_TEXT, strlen(PROPS_TEXT)), 0);
	cr_assert_eq(git_treebuilder_new(&tb, repo, NULL), 0);
	cr_assert_eq(
	    git_treebuilder_insert(NULL, tb, "application.properties", &blob, GIT_FILEMODE_BLOB),
	    0);
	cr_assert_eq(git_treebuilder_write(&tid, tb), 0);
	cr_assert_eq(git_tree_lookup(&tree, repo, &tid), 0);
	cr_assert_eq(git_signature_new(&sig, "smc", "smc@example.invalid", 1700000000, 0), 0);
	cr_assert_eq(git_commit_create(&cid, repo, "HEAD", sig, sig, NULL, "init", tree, 0, NULL),
		     0);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	git_repository_free(repo);
}

/* The real workload, part 2: libgit2 clones (bare, as the fetcher's cache does) from the
 * read-only repository into scratch, then reads the file from the object database. */
Test(fetcher_workload, libgit2_clone_into_scratch)
{
	git_clone_options opts;
	git_repository *repo = NULL;
	git_object *obj = NULL;
	struct sandbox_paths p;
	char url[160], dest[160];

	make_dirs();
	make_repo();
	cr_assert_eq(git_clone_options_init(&opts, GIT_CLONE_OPTIONS_VERSION), 0);
	snprintf(url, sizeof(url), "file://%s", g_repo);
	snprintf(dest, sizeof(dest), "%s/cache/0123abcd", g_scratch);
	memset(&p, 0, sizeof(p));
	cr_assert_eq(sandbox_paths_add_ro(&p, g_repo), 0);
	cr_assert_eq(sandbox_paths_add_rw(&p, g_scratch), 0);
	enter_with(&p);

	opts.bare = 1;
	if (git_clone(&repo, url, dest, &opts) != 0) {
		const git_error *ge = git_error_last();
		fprintf(stderr, "git_clone: %s\n", ge != NULL ? ge->message : "?");
		_exit(1);
	}
	if (git_revparse_single(&obj, repo, "HEAD:application.properties") != 0)
		_exit(2);
	if (git_object_type(obj) != GIT_OBJECT_BLOB ||
	    git_blob_rawsize((git_blob *)obj) != (git_object_size_t)strlen(PROPS_TEXT) ||
	    memcmp(git_blob_rawcontent((git_blob *)obj), PROPS_TEXT, strlen(PROPS_TEXT)) != 0)
		_exit(3);
	git_object_free(obj);
	git_repository_free(repo);
	_exit(0);
}

SBX_CLEANUP_HOOK("fet")
