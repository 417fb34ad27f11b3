/* test_keyring.c — the key directory: file names and contents recognised (*.asc,
 * *.agekey, private-key, key, gpg-key; Kubernetes ..data symlinks), other files ignored,
 * bad key files refused by name, the namespace policy, and the data-key cache. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/secbuf.h"
#include "decryptor/age/age.h"
#include "decryptor/keyring.h"

#define FX SMC_SHARED_DIR "/fixtures"

static char dir[64];

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long len;

	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + 1);
	cr_assert_eq(fread(p, 1, (size_t)len, f), (size_t)len);
	p[len] = 0;
	fclose(f);
	*n = (size_t)len;
	return p;
}

static void put(const char *name, const void *d, size_t n)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "wb");
	cr_assert_not_null(f);
	fwrite(d, 1, n, f);
	fclose(f);
}

static void copy_in(const char *src, const char *name)
{
	size_t n;
	uint8_t *d = slurp(src, &n);

	put(name, d, n);
	free(d);
}

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/smc-keyring-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "%s", dir);
	pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", cmd, (char *)NULL);
		_exit(1);
	}
	waitpid(pid, NULL, 0);
}

TestSuite(keyring, .init = mkdir_tmp, .fini = rm_tmp, .timeout = 60);

static int unwrap_file(struct keyring *kr, const char *ns, const char *path)
{
	struct secbuf *p = NULL;
	size_t n;
	uint8_t *d = slurp(path, &n);
	int rc = keyring_unwrap(kr, ns, KEYRING_AGE, (char *)d, n, &p, NULL);

	if (rc == 0) {
		cr_assert_eq(p->len, 32);
		secbuf_free(p);
	}
	free(d);
	return rc;
}

Test(keyring, loads_every_recognised_name)
{
	struct keyring *kr;
	struct err_ctx err = {{0}};
	char link[256];

	copy_in(FX "/age/generated/identity.txt", "main.agekey");
	copy_in(FX "/age/generated/identity-other.txt", "private-key"); /* age by content */
	copy_in(FX "/gpg/test-cv25519.private.asc", "cv.asc");
	copy_in(FX "/gpg/test-rsa3072.private.asc", "gpg-key");           /* pgp by content */
	put("README", "not a key", 9);
	put("notes.txt", "AGE-SECRET-KEY-1 not loaded: name not recognised", 49);
	/* Kubernetes Secret mount: key -> ..data/key */
	snprintf(link, sizeof(link), "%s/..data", dir);
	cr_assert_eq(mkdir(link, 0700), 0);
	copy_in(FX "/sops/fluxcd/keys/age.txt", "..data/key");
	snprintf(link, sizeof(link), "%s/key", dir);
	cr_assert_eq(symlink("..data/key", link), 0);
	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_eq(keyring_load_dir(kr, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(keyring_count(kr, KEYRING_AGE), 3);
	cr_assert_eq(keyring_count(kr, KEYRING_PGP), 2);
	cr_assert_eq(unwrap_file(kr, NULL, FX "/age/generated/datakey-32bytes.bin.armored.age"), 0);
	keyring_free(kr);
}

Test(keyring, bad_key_file_is_refused_by_name)
{
	struct keyring *kr;
	struct err_ctx err = {{0}};

	put("broken.agekey", "AGE-SECRET-KEY-1QQQQ\n", 21);
	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_neq(keyring_load_dir(kr, dir, &err), 0);
	cr_assert_not_null(strstr(err.msg, "broken.agekey"), "%s", err.msg);
	cr_assert_null(strstr(err.msg, "AGE-SECRET-KEY"), "key material in an error: %s", err.msg);
	keyring_free(kr);
}

Test(keyring, pq_only_key_file_is_unsupported)
{
	struct keyring *kr;
	struct err_ctx err = {{0}};
	size_t n;
	uint8_t *d = slurp(FX "/sops/fluxcd/keys/age-pq.txt", &n);

	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_eq(keyring_add(kr, "pq.agekey", d, n, &err), ERR_UNSUPPORTED);
	cr_assert_not_null(strstr(err.msg, "post-quantum"), "%s", err.msg);
	free(d);
	keyring_free(kr);
}

Test(keyring, policy_limits_keys_to_namespaces)
{
	struct keyring *kr;
	struct err_ctx err = {{0}};
	const char *pol = "# key file, then namespaces\nmain.agekey  team-a\tteam-b\nother.agekey *\n";
	const struct age_identity **ids = NULL;
	size_t n = 0;

	copy_in(FX "/age/generated/identity.txt", "main.agekey");
	copy_in(FX "/age/generated/identity-other.txt", "other.agekey");
	put("policy", pol, strlen(pol));
	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_eq(keyring_load_dir(kr, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(unwrap_file(kr, "team-a", FX "/age/generated/datakey-32bytes.bin.armored.age"), 0);
	cr_assert_eq(unwrap_file(kr, "team-b", FX "/age/generated/datakey-32bytes.bin.armored.age"), 0);
	cr_assert_eq(unwrap_file(kr, "team-c", FX "/age/generated/datakey-32bytes.bin.armored.age"),
		     ERR_NOKEY);
	/* the cache must not bypass the policy: team-a cached it, team-c still refused */
	cr_assert_eq(unwrap_file(kr, "team-c", FX "/age/generated/datakey-32bytes.bin.armored.age"),
		     ERR_NOKEY);
	cr_assert_eq(keyring_age_identities(kr, "team-c", &ids, &n), 0);
	cr_assert_eq(n, 1);
	free(ids);
	cr_assert_eq(keyring_age_identities(kr, NULL, &ids, &n), 0);
	cr_assert_eq(n, 2);
	free(ids);
	keyring_free(kr);
}

Test(keyring, policy_naming_unknown_file_is_an_error)
{
	struct keyring *kr;
	struct err_ctx err = {{0}};
	const char *pol = "nope.agekey team-a\n";

	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_eq(keyring_set_policy(kr, (const uint8_t *)pol, strlen(pol), &err), ERR_INVAL);
	cr_assert_not_null(strstr(err.msg, "nope.agekey"), "%s", err.msg);
	keyring_free(kr);
}

Test(keyring, cache_hits_on_the_same_stanza_only)
{
	struct keyring *kr;
	size_t h, m;

	copy_in(FX "/age/generated/identity.txt", "main.agekey");
	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_eq(keyring_load_dir(kr, dir, NULL), 0);
	cr_assert_eq(unwrap_file(kr, NULL, FX "/age/generated/datakey-32bytes.bin.armored.age"), 0);
	cr_assert_eq(unwrap_file(kr, NULL, FX "/age/generated/datakey-32bytes.bin.armored.age"), 0);
	keyring_cache_stats(kr, &h, &m);
	cr_assert_eq(h, 1);
	cr_assert_eq(m, 1);
	/* a different stanza is a miss (and here not ours) */
	cr_assert_eq(unwrap_file(kr, NULL, FX "/age/generated/small.txt.other-recipient-only.age"),
		     ERR_NOKEY);
	keyring_cache_stats(kr, &h, &m);
	cr_assert_eq(m, 2);
	keyring_free(kr);
}

Test(keyring, pgp_keys_get_a_private_home_removed_at_free)
{
	struct keyring *kr;
	struct secbuf *p = NULL;
	size_t n, kn;
	uint8_t *msg = slurp(FX "/gpg/datakey-32bytes.bin.to-rsa3072.asc", &n);
	uint8_t *key = slurp(FX "/gpg/datakey-32bytes.bin", &kn);

	copy_in(FX "/gpg/test-rsa3072.private.asc", "rsa.asc");
	cr_assert_eq(keyring_new(&kr), 0);
	cr_assert_eq(keyring_load_dir(kr, dir, NULL), 0);
	cr_assert_eq(keyring_unwrap(kr, NULL, KEYRING_PGP, (char *)msg, n, &p, NULL), 0);
	cr_assert(secbuf_eq_mem(p, key, kn));
	secbuf_free(p);
	keyring_free(kr);
	free(msg);
	free(key);
}
