/* test_sops.c — every SOPS fixture made by the real sops decrypts to its expected
 * plaintext (each leaf in MAC order, each encrypted comment, exact sops -d output where
 * upstream states it), no_mac.yaml is refused, the legacy files without a public key fail
 * with "no usable key", post-quantum recipients are named. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/secbuf.h"
#include "decryptor/keyring.h"
#include "decryptor/sops/sops.h"
#include "decryptor/sops/sops_dotenv.h"
#include "decryptor/sops/sops_ini.h"
#include "decryptor/sops/sops_json.h"
#include "decryptor/sops/sops_tree.h"
#include "decryptor/sops/sops_value.h"
#include "decryptor/sops/sops_yaml.h"
#include "test_files.h"

#define SOPS_FX SMC_SHARED_DIR "/fixtures/sops"

static struct keyring *kr;

static void add_key(const char *path, const char *name)
{
	struct err_ctx err = {{0}};
	size_t n;
	uint8_t *d = slurp(path, &n);

	cr_assert_eq(keyring_add(kr, name, d, n, &err), 0, "%s: %s", path, err.msg);
	free(d);
}

static void setup(void)
{
	cr_assert_eq(keyring_new(&kr), 0);
	add_key(SOPS_FX "/keys/sops-functional-tests-key.asc", "functional.asc");
	add_key(SOPS_FX "/keys/sops-age-mock-identity.txt", "mock.agekey");
	add_key(SOPS_FX "/fluxcd/keys/age.txt", "flux.agekey");
	add_key(SOPS_FX "/fluxcd/keys/age-global.txt", "flux-global.agekey");
	add_key(SOPS_FX "/fluxcd/keys/pgp.asc", "flux.asc");
}

static void teardown(void)
{
	keyring_free(kr);
	kr = NULL;
}

static int decrypt_file(const char *rel, struct secbuf **out, struct err_ctx *err)
{
	char path[512];
	size_t n;
	uint8_t *d;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", SOPS_FX, rel);
	d = slurp(path, &n);
	rc = sops_decrypt(kr, NULL, path, d, n, out, err);
	free(d);
	return rc;
}

struct leaves {
	const struct sops_node *v[256];
	size_t n;
	const struct sops_node *c[64];
	size_t nc;
};

static void collect(const struct sops_node *n, struct leaves *l)
{
	size_t i;

	for (i = 0; i < n->n; i++) {
		const struct sops_node *it = n->items[i];

		if (it->kind == SOPS_COMMENT) {
			if (l->nc < 64)
				l->c[l->nc++] = it;
		} else if (it->kind == SOPS_SCALAR) {
			if (it->type != SOPS_T_NULL && l->n < 256)
				l->v[l->n++] = it;
		} else {
			collect(it, l);
		}
	}
}

static int parse_out(enum sops_format f, const struct secbuf *p, struct sops_tree *t)
{
	struct err_ctx err = {{0}};
	int rc;

	switch (f) {
	case SOPS_FMT_YAML: rc = sops_yaml_parse(p->data, p->len, t, &err); break;
	case SOPS_FMT_JSON: rc = sops_json_parse(p->data, p->len, t, &err); break;
	case SOPS_FMT_DOTENV: rc = sops_dotenv_parse(p->data, p->len, t, &err); break;
	case SOPS_FMT_INI: rc = sops_ini_parse(p->data, p->len, t, &err); break;
	default: rc = ERR_INVAL;
	}
	cr_assert_eq(rc, 0, "output does not parse: %s", err.msg);
	return rc;
}

/* Decrypts rel and compares every leaf and encrypted comment with the expected file. */
static void check_expected(const char *rel)
{
	char path[512];
	json_error_t je;
	json_t *exp, *leaves, *comments, *e;
	struct secbuf *out = NULL, *canon = NULL;
	struct err_ctx err = {{0}};
	struct sops_tree t = {0};
	struct leaves l;
	enum sops_format f = sops_format_from_name(rel);
	size_t i, j, k;

	cr_assert_eq(decrypt_file(rel, &out, &err), 0, "%s: %s", rel, err.msg);
	snprintf(path, sizeof(path), "%s/expected/%s.expected.json", SOPS_FX, rel);
	exp = json_load_file(path, 0, &je);
	cr_assert_not_null(exp, "%s", path);
	memset(&l, 0, sizeof(l));
	parse_out(f, out, &t);
	for (i = 0; i < t.ndocs; i++)
		collect(t.docs[i], &l);
	leaves = json_object_get(exp, "leaves_in_mac_order");
	/* empty strings are leaves in the expected list too (they feed nothing) */
	cr_assert_eq(l.n, json_array_size(leaves), "%s: %zu leaves, want %zu", rel, l.n,
		     json_array_size(leaves));
	json_array_foreach(leaves, i, e) {
		json_t *pt = json_object_get(e, "plaintext");
		json_t *v = pt ? pt : json_object_get(e, "value");
		char want[4096];

		if (json_is_string(v))
			snprintf(want, sizeof(want), "%s", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(want, sizeof(want), "%lld", (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			snprintf(want, sizeof(want), "%s", json_is_true(v) ? "True" : "False");
		else
			cr_assert_fail("%s: unexpected leaf type", rel);
		secbuf_new(&canon, 1 << 20);
		cr_assert_eq(sops_value_canonical(l.v[i], canon), 0);
		cr_assert_eq(canon->len, strlen(want), "%s leaf %zu: length %zu want %zu", rel, i,
			     canon->len, strlen(want));
		cr_assert(memcmp(canon->data, want, canon->len) == 0, "%s leaf %zu differs", rel, i);
		secbuf_free(canon);
	}
	comments = json_object_get(exp, "encrypted_comments");
	k = 0;
	json_array_foreach(comments, i, e) {
		const char *want = json_string_value(json_object_get(e, "plaintext"));
		int found = 0;

		for (j = k; j < l.nc && !found; j++) {
			if (l.c[j]->value->len == strlen(want) &&
			    memcmp(l.c[j]->value->data, want, strlen(want)) == 0) {
				found = 1;
				k = j + 1;
			}
		}
		/* INI writes "; text": the reader strips the space after ';' */
		if (!found && f == SOPS_FMT_INI) {
			for (j = k; j < l.nc && !found; j++)
				found = strstr((const char *)l.c[j]->value->data, want + (want[0] == ' ')) != NULL;
		}
		cr_assert(found, "%s: comment %zu not decrypted", rel, i);
	}
	sops_tree_clear(&t);
	secbuf_free(out);
	json_decref(exp);
}

TestSuite(sops_fixtures, .init = setup, .fini = teardown, .timeout = 60);

Test(sops_fixtures, example_yaml) { check_expected("sops-repo/example.yaml"); }
Test(sops_fixtures, example_json) { check_expected("sops-repo/example.json"); }
Test(sops_fixtures, example_ini) { check_expected("sops-repo/example.ini"); }
Test(sops_fixtures, all_in_one_json) { check_expected("sops-repo/examples/all_in_one.secret.enc.json"); }
Test(sops_fixtures, per_file_json) { check_expected("sops-repo/examples/per_file.static_github.enc.json"); }
Test(sops_fixtures, comments_yaml) { check_expected("sops-repo/functional-tests/comments.enc.yaml"); }
Test(sops_fixtures, comments_clear_yaml)
{
	check_expected("sops-repo/functional-tests/comments_unencrypted_comments.yaml");
}
Test(sops_fixtures, multiple_keys_yaml) { check_expected("sops-repo/functional-tests/multiple_keys.yaml"); }
Test(sops_fixtures, format_ini_3132) { check_expected("sops-repo/functional-tests/format.enc.ini"); }
Test(sops_fixtures, format_ini_3131) { check_expected("sops-repo/functional-tests/format-2.enc.ini"); }
Test(sops_fixtures, format_env) { check_expected("sops-repo/functional-tests/format.enc.env"); }

static void check_stdout(const char *rel, const char *want)
{
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};

	cr_assert_eq(decrypt_file(rel, &out, &err), 0, "%s: %s", rel, err.msg);
	cr_assert_eq(out->len, strlen(want), "%s: %zu bytes", rel, out->len);
	cr_assert(memcmp(out->data, want, out->len) == 0, "%s: output differs", rel);
	secbuf_free(out);
}

Test(sops_fixtures, functional_outputs_exact)
{
	check_stdout("sops-repo/functional-tests/format.enc.yaml", "foo: bar\n");
	check_stdout("sops-repo/functional-tests/format.enc.json", "{\n\t\"foo\": \"bar\"\n}\n");
	check_stdout("sops-repo/functional-tests/format.enc.env", "foo = bar\n");
	check_stdout("sops-repo/functional-tests/format.enc.ini", "[foo]\nbar = baz\n");
	check_stdout("sops-repo/functional-tests/format-2.enc.ini", "[foo]\nbar = baz\n");
}

Test(sops_fixtures, binary_store)
{
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};
	size_t n;
	uint8_t *want = slurp(SOPS_FX "/expected/sops-repo/example.binary.txt.decrypted", &n);

	cr_assert_eq(decrypt_file("sops-repo/example.binary.txt", &out, &err), 0, "%s", err.msg);
	cr_assert_eq(out->len, n);
	cr_assert(memcmp(out->data, want, n) == 0);
	secbuf_free(out);
	free(want);
}

Test(sops_fixtures, no_mac_is_refused)
{
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};

	cr_assert_eq(decrypt_file("sops-repo/functional-tests/no_mac.yaml", &out, &err), ERR_CRYPTO);
	cr_assert_null(out);
	cr_assert_not_null(strstr(err.msg, "MAC"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "no_mac.yaml"), "%s", err.msg);
	cr_assert_null(strstr(err.msg, "t00m4nys3cr3tz"), "plaintext leaked into the error");
}

Test(sops_fixtures, legacy_without_private_key_is_no_usable_key)
{
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};

	cr_assert_eq(decrypt_file("sops-repo/no-private-key/config-test_resources-example.yaml",
				  &out, &err), ERR_NOKEY, "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "no usable key"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "pgp"), "%s", err.msg);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(decrypt_file("sops-repo/no-private-key/stores-ini-test_resources-example.json",
				  &out, &err), ERR_NOKEY, "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "no usable key"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "kms"), "the unusable kms recipient is named: %s", err.msg);
}

Test(sops_fixtures, plain_file_has_no_metadata)
{
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};
	size_t n;
	uint8_t *d = slurp(SOPS_FX "/sops-repo/functional-tests/plainfile.yaml", &n);

	cr_assert_eq(sops_is_encrypted("plainfile.yaml", d, n), 0);
	cr_assert_eq(sops_decrypt(kr, NULL, "plainfile.yaml", d, n, &out, &err), ERR_NOTFOUND);
	cr_assert_not_null(strstr(err.msg, "sops metadata not found"), "%s", err.msg);
	free(d);
	d = slurp(SOPS_FX "/sops-repo/example.yaml", &n);
	cr_assert_eq(sops_is_encrypted("example.yaml", d, n), 1);
	free(d);
}

static void check_contains(const char *rel, const char *needle)
{
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};

	cr_assert_eq(decrypt_file(rel, &out, &err), 0, "%s: %s", rel, err.msg);
	cr_assert_not_null(memmem(out->data, out->len, needle, strlen(needle)), "%s: %s missing",
			   rel, needle);
	cr_assert_null(memmem(out->data, out->len, "ENC[", 4), "%s: still encrypted", rel);
	secbuf_free(out);
}

Test(sops_fixtures, fluxcd_age_and_pgp_files)
{
	check_contains("fluxcd/age-secret.enc.yaml", "stringData:");
	check_contains("fluxcd/age-secret.enc.yaml", "apiVersion: v1");
	check_contains("fluxcd/age-global-secret.enc.yaml", "kind: Secret");
	check_contains("fluxcd/age-merge1.enc.yaml", "stringData:");
	check_contains("fluxcd/pgp-secret.enc.yaml", "kind: Secret");
	check_contains("fluxcd/age.enc.env", "key=");
	check_contains("fluxcd/age.binary.enc.txt", "");
}

Test(sops_fixtures, post_quantum_recipient_is_named)
{
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};

	cr_assert_eq(decrypt_file("fluxcd/age-pq-hybrid-secret.enc.yaml", &out, &err), ERR_NOKEY);
	cr_assert_not_null(strstr(err.msg, "no usable key"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "post-quantum"), "%s", err.msg);
}

Test(sops_fixtures, cache_avoids_second_unwrap)
{
	struct secbuf *out = NULL;
	size_t h0, m0, h1, m1;

	keyring_cache_stats(kr, &h0, &m0);
	cr_assert_eq(decrypt_file("fluxcd/age-secret.enc.yaml", &out, NULL), 0);
	secbuf_free(out);
	cr_assert_eq(decrypt_file("fluxcd/age-secret.enc.yaml", &out, NULL), 0);
	secbuf_free(out);
	keyring_cache_stats(kr, &h1, &m1);
	cr_assert_eq(m1 - m0, 1, "first decrypt unwraps");
	cr_assert_eq(h1 - h0, 1, "second decrypt hits the cache");
}

Test(sops_fixtures, wrong_namespace_policy_denies_key)
{
	struct keyring *k2;
	struct err_ctx err = {{0}};
	struct secbuf *out = NULL;
	const char *pol = "# only team-a may use the flux key\nflux.agekey team-a team-b\n";
	size_t n;
	uint8_t *d = slurp(SOPS_FX "/fluxcd/keys/age.txt", &n);
	uint8_t *f;

	cr_assert_eq(keyring_new(&k2), 0);
	cr_assert_eq(keyring_add(k2, "flux.agekey", d, n, NULL), 0);
	cr_assert_eq(keyring_set_policy(k2, (const uint8_t *)pol, strlen(pol), &err), 0, "%s", err.msg);
	free(d);
	f = slurp(SOPS_FX "/fluxcd/age-secret.enc.yaml", &n);
	cr_assert_eq(sops_decrypt(k2, "team-a", "s.yaml", f, n, &out, &err), 0, "%s", err.msg);
	secbuf_free(out);
	out = NULL;
	cr_assert_eq(sops_decrypt(k2, "team-c", "s.yaml", f, n, &out, &err), ERR_NOKEY);
	cr_assert_null(out);
	cr_assert_not_null(strstr(err.msg, "no usable key"), "%s", err.msg);
	free(f);
	keyring_free(k2);
}

Test(sops_fixtures, decrypt_auto_opens_plain_age_files_too)
{
	struct keyring *k2;
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};
	size_t n, pn;
	uint8_t *id = slurp(SMC_SHARED_DIR "/fixtures/age/generated/identity.txt", &n);
	uint8_t *plain = slurp(SMC_SHARED_DIR "/fixtures/age/generated/small.txt", &pn);
	uint8_t *f;

	cr_assert_eq(keyring_new(&k2), 0);
	cr_assert_eq(keyring_add(k2, "id.agekey", id, n, NULL), 0);
	f = slurp(SMC_SHARED_DIR "/fixtures/age/generated/small.txt.armored.age", &n);
	cr_assert_eq(sops_decrypt_auto(k2, NULL, "small.txt.age", f, n, &out, &err), 0, "%s", err.msg);
	cr_assert(secbuf_eq_mem(out, plain, pn));
	secbuf_free(out);
	out = NULL;
	free(f);
	f = slurp(SMC_SHARED_DIR "/fixtures/age/generated/small.txt.other-recipient-only.age", &n);
	cr_assert_eq(sops_decrypt_auto(k2, NULL, "other.age", f, n, &out, &err), ERR_NOKEY);
	cr_assert_not_null(strstr(err.msg, "other.age"), "%s", err.msg);
	cr_assert_null(out);
	free(f);
	/* a SOPS file goes to sops_decrypt */
	cr_assert_eq(decrypt_file("fluxcd/age-secret.enc.yaml", &out, &err), 0);
	secbuf_free(out);
	free(id);
	free(plain);
	keyring_free(k2);
}
