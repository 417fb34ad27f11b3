/* test_violation.c — the real process tree under proctab: a child that receives a message
 * msg.def does not allow on its edge exits (the receiver, and only the receiver), the
 * supervisor restarts it, its living peers get fresh sockets (EDGE) and the pipeline runs
 * a job end to end afterwards. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/frame.h"
#include "proto/peer.h"
#include "supervisor/proctab.h"

static char dir[256], config[512], repo[512], storedir[512], store[512];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	chmod(path, 0644);
}

static void setup_tree(void)
{
	char p[1024];

	snprintf(dir, sizeof(dir), "/tmp/smc-violation-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(repo, sizeof(repo), "%s/repo", dir);
	snprintf(p, sizeof(p), "%s/svc/deployment-configuration/profiles/dev", repo);
	for (char *s = p + strlen(dir) + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
	snprintf(p + strlen(p), sizeof(p) - strlen(p), "/application.secrets.env");
	write_file(p, "TOKEN=violation-test-value\n");
	snprintf(storedir, sizeof(storedir), "%s/store", dir);
	mkdir(storedir, 0777);
	chmod(storedir, 0777);
	snprintf(store, sizeof(store), "%s/store.db", storedir);
	snprintf(config, sizeof(config), "%s/config.yaml", dir);
	snprintf(p, sizeof(p),
		 "kind: SecretManagerConfig\nmetadata: {name: v, namespace: t}\n"
		 "spec:\n  sourceRef: {kind: Directory, path: repo}\n"
		 "  provider: {local: {path: %s}}\n  secrets: {environment: dev}\n",
		 store);
	write_file(config, p);
}

static void start(struct proctab *pt)
{
	struct err_ctx err = {{0}};

	setenv("SMC_LIBEXEC_DIR", SMC_BINARY_DIR, 1);
	cr_assert_eq(proctab_init(pt, &err), 0, "%s", err.msg);
	cr_assert_eq(proctab_add_arg(pt, ROLE_WATCHER, "--ro"), 0);
	cr_assert_eq(proctab_add_arg(pt, ROLE_WATCHER, config), 0);
	cr_assert_eq(proctab_add_arg(pt, ROLE_FETCHER, "--ro"), 0);
	cr_assert_eq(proctab_add_arg(pt, ROLE_FETCHER, repo), 0);
	cr_assert_eq(proctab_add_arg(pt, ROLE_FETCHER, "--scratch"), 0);
	cr_assert_eq(proctab_add_arg(pt, ROLE_FETCHER, storedir), 0);
	cr_assert_eq(proctab_add_arg(pt, ROLE_SYNCER, "--rw"), 0);
	cr_assert_eq(proctab_add_arg(pt, ROLE_SYNCER, storedir), 0);
	cr_assert_eq(proctab_start_all(pt, &err), 0, "%s", err.msg);
}

/* Runs one job through the watcher and returns its RESULT code (LOG lines skipped). */
static int run_job(struct proctab *pt)
{
	struct child *w = proctab_child(pt, ROLE_WATCHER);
	struct peer p = {.fd = w->ctl, .role = ROLE_WATCHER, .cap = MSG_CAP_PIPELINE};
	struct err_ctx err = {{0}};
	struct msg m;

	msg_init(&m, MSG_RUN);
	m.u.run.config_path = config;
	cr_assert_eq(msg_send(w->ctl, &m), 0);
	for (;;) {
		struct msg in;
		int code;

		cr_assert_eq(peer_recv(&p, ROLE_SUPERVISOR, &in, &err), 0, "%s", err.msg);
		if (in.type != MSG_RESULT) {
			msg_free(&in);
			continue;
		}
		code = in.u.result.code;
		if (code != 0)
			cr_log_warn("job failed in %s: %s", in.u.result.stage, in.u.result.reason);
		msg_free(&in);
		return code;
	}
}

Test(violation, only_the_receiver_dies_and_comes_back, .timeout = 60)
{
	static const uint8_t garbage[] = {0x81, 0xa1, 't', 0x0a}; /* {"t": 10}: half a RESULT */
	struct proctab pt;
	struct child *f, *others[3];
	pid_t before[3], victim;
	int status = 0;
	struct err_ctx err = {{0}};

	setup_tree();
	start(&pt);
	cr_assert_eq(run_job(&pt), 0, "the pipeline works before the violation");
	f = proctab_child(&pt, ROLE_FETCHER);
	others[0] = proctab_child(&pt, ROLE_WATCHER);
	others[1] = proctab_child(&pt, ROLE_DECRYPTOR);
	others[2] = proctab_child(&pt, ROLE_SYNCER);
	for (int i = 0; i < 3; i++)
		before[i] = others[i]->pid;
	victim = f->pid;

	/* a malformed frame on the fetcher's control edge: a protocol violation */
	cr_assert_eq(frame_write(f->ctl, garbage, sizeof(garbage), -1), 0);
	cr_assert_eq(waitpid(victim, &status, 0), victim);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0,
		  "the receiver exits with a failure status (status 0x%x)", status);
	f->pid = 0;
	usleep(200000);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(kill(before[i], 0), 0, "%s is still running", others[i]->name);

	cr_assert_eq(proctab_restart(&pt, f, &err), 0, "%s", err.msg);
	cr_assert(f->pid > 0 && f->pid != victim);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(others[i]->pid, before[i], "%s was not restarted", others[i]->name);
	cr_assert_eq(run_job(&pt), 0, "the pipeline works after the restart");
	proctab_stop_all(&pt, 3000);
	for (int i = 0; i < 3; i++)
		cr_assert_neq(kill(before[i], 0), 0, "%s stopped", others[i]->name);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
