/* test_sops_roundtrip.c — sops_encrypt → sops_decrypt for every store and both key
 * types (age identities; the RSA and Curve25519 OpenPGP test keys in fixtures/gpg), Shamir
 * key groups with a threshold, encrypted_regex and mac_only_encrypted; the encrypted file
 * holds no plaintext value; GF(2^8) known answers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/secbuf.h"
#include "decryptor/age/age.h"
#include "decryptor/keyring.h"
#include "decryptor/pgp.h"
#include "decryptor/sops/sops.h"
#include "decryptor/sops/sops_shamir.h"
#include "test_files.h"

#define GPG_FX SMC_SHARED_DIR "/fixtures/gpg"
#define RSA_FP "63851F6D9FE653C63308876A41CA918022A8BEF0"
#define CV_FP "0BD8C91E5EE6152F46A19B256BA459619543F9B8"

struct ident {
	struct age_identity *id;
	char rcpt[128];
	struct secbuf *text;
};

static void ident_new(struct ident *i)
{
	cr_assert_eq(age_identity_generate(&i->id), 0);
	cr_assert_eq(age_identity_recipient(i->id, i->rcpt, sizeof(i->rcpt)), 0);
	cr_assert_eq(age_identity_encode(i->id, &i->text), 0);
}

static void ident_free(struct ident *i)
{
	age_identity_free(i->id);
	secbuf_free(i->text);
}

static struct keyring *keyring_with(struct ident *ids, size_t n)
{
	struct keyring *kr;
	char name[32];
	size_t i;

	cr_assert_eq(keyring_new(&kr), 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "k%zu.agekey", i);
		cr_assert_eq(keyring_add(kr, name, ids[i].text->data, ids[i].text->len, NULL), 0);
	}
	return kr;
}

static void expect_round_trip(struct keyring *kr, const struct sops_encrypt_opts *o,
			      const char *name, const char *plain, const char *secret,
			      const char *want_out)
{
	struct buf enc;
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};
	int rc;

	buf_init(&enc, 1 << 24);
	rc = sops_encrypt(o, name, (const uint8_t *)plain, strlen(plain), &enc, &err);
	cr_assert_eq(rc, 0, "%s: encrypt: %s", name, err.msg);
	cr_assert_not_null(memmem(enc.data, enc.len, "ENC[AES256_GCM", 14), "%s", name);
	if (secret != NULL)
		cr_assert_null(memmem(enc.data, enc.len, secret, strlen(secret)),
			       "%s: plaintext visible in the encrypted file", name);
	cr_assert_eq(sops_is_encrypted(name, enc.data, enc.len), 1, "%s", name);
	rc = sops_decrypt(kr, NULL, name, enc.data, enc.len, &out, &err);
	cr_assert_eq(rc, 0, "%s: decrypt: %s\n%.*s", name, err.msg, (int)enc.len, enc.data);
	want_out = want_out ? want_out : plain;
	cr_assert_eq(out->len, strlen(want_out), "%s: got\n%.*s", name, (int)out->len, out->data);
	cr_assert(memcmp(out->data, want_out, out->len) == 0, "%s: got\n%.*s", name,
		  (int)out->len, out->data);
	secbuf_free(out);
	buf_free(&enc);
}

static const char yaml_in[] =
	"# top comment\n"
	"db:\n"
	"    user: admin\n"
	"    password: s3cr3t-yaml\n"
	"    port: 5432\n"
	"    ratio: 0.25\n"
	"    enabled: true\n"
	"    empty: \"\"\n"
	"    since: 2024-01-01T00:00:00Z\n"
	"list:\n"
	"    - one\n"
	"    - \"123\"\n"
	"clear_unencrypted: visible\n"
	"multi: \"line1\\nline2\"\n";
static const char json_in[] =
	"{\n\t\"user\": \"admin\",\n\t\"password\": \"s3cr3t-json\",\n\t\"n\": 42,\n"
	"\t\"f\": 1.5,\n\t\"b\": false,\n\t\"nested\": {\n\t\t\"list\": [\n\t\t\t1,\n"
	"\t\t\t\"two\"\n\t\t]\n\t},\n\t\"nothing\": null\n}\n";
static const char env_in[] = "# comment\nDB_USER=admin\nDB_PASSWORD=s3cr3t-env\nMULTI=a\\nb\n";
static const char ini_in[] = "[db]\nuser = admin\npassword = s3cr3t-ini\n\n[other]\nkey = value\n";
static const char bin_in[] = "raw \x01\x02 binary s3cr3t-bin\n\nbytes";

Test(sops_roundtrip, every_store_with_age, .timeout = 30)
{
	struct ident id;
	struct keyring *kr;
	const char *r[1];
	struct sops_encrypt_opts o = {0};

	ident_new(&id);
	kr = keyring_with(&id, 1);
	r[0] = id.rcpt;
	o.age = r;
	o.nage = 1;
	expect_round_trip(kr, &o, "a.yaml", yaml_in, "s3cr3t-yaml", NULL);
	expect_round_trip(kr, &o, "a.json", json_in, "s3cr3t-json", NULL);
	expect_round_trip(kr, &o, "a.env", env_in, "s3cr3t-env", NULL);
	expect_round_trip(kr, &o, "a.ini", ini_in, "s3cr3t-ini", NULL);
	expect_round_trip(kr, &o, "a.bin", bin_in, "s3cr3t-bin", NULL);
	keyring_free(kr);
	ident_free(&id);
}

Test(sops_roundtrip, every_store_with_both_gpg_test_keys, .timeout = 120)
{
	struct keyring *kr;
	struct pgp_home *pub = NULL;
	struct err_ctx err = {{0}};
	const char *fps[2] = {RSA_FP, CV_FP};
	struct sops_encrypt_opts o = {0};
	size_t n;
	uint8_t *d;

	cr_assert_eq(pgp_home_new(&pub, &err), 0, "%s", err.msg);
	d = slurp(GPG_FX "/test-rsa3072.public.asc", &n);
	cr_assert_eq(pgp_home_import(pub, d, n, NULL, &err), 0, "%s", err.msg);
	free(d);
	d = slurp(GPG_FX "/test-cv25519.public.asc", &n);
	cr_assert_eq(pgp_home_import(pub, d, n, NULL, &err), 0, "%s", err.msg);
	free(d);
	o.pgp = fps;
	o.pgp_home = pub;
	/* each key alone opens what was encrypted to both, and to it alone */
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(keyring_new(&kr), 0);
		d = slurp(k == 0 ? GPG_FX "/test-rsa3072.private.asc" : GPG_FX "/test-cv25519.private.asc",
			  &n);
		cr_assert_eq(keyring_add(kr, k == 0 ? "rsa.asc" : "cv.asc", d, n, &err), 0, "%s", err.msg);
		free(d);
		cr_assert_eq(keyring_count(kr, KEYRING_PGP), 1);
		o.npgp = 2;
		expect_round_trip(kr, &o, "p.yaml", yaml_in, "s3cr3t-yaml", NULL);
		expect_round_trip(kr, &o, "p.json", json_in, "s3cr3t-json", NULL);
		expect_round_trip(kr, &o, "p.env", env_in, "s3cr3t-env", NULL);
		expect_round_trip(kr, &o, "p.ini", ini_in, "s3cr3t-ini", NULL);
		expect_round_trip(kr, &o, "p.bin", bin_in, "s3cr3t-bin", NULL);
		o.pgp = fps + k;
		o.npgp = 1;
		expect_round_trip(kr, &o, "p1.yaml", yaml_in, "s3cr3t-yaml", NULL);
		o.pgp = fps;
		keyring_free(kr);
	}
	pgp_home_free(pub);
}

Test(sops_roundtrip, pgp_fixture_messages_open_with_gpgme)
{
	struct pgp_home *h = NULL;
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};
	const char *msgs[] = {"to-rsa3072", "to-cv25519", "to-both"};
	size_t n, kn, i;
	uint8_t *key = slurp(GPG_FX "/datakey-32bytes.bin", &kn), *d;
	char path[256];

	cr_assert_eq(pgp_home_new(&h, &err), 0, "%s", err.msg);
	d = slurp(GPG_FX "/test-cv25519.private.asc", &n);
	cr_assert_eq(pgp_home_import(h, d, n, NULL, &err), 0, "%s", err.msg);
	free(d);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/datakey-32bytes.bin.%s.asc", GPG_FX, msgs[i]);
		d = slurp(path, &n);
		if (i == 0) {
			cr_assert_eq(pgp_home_decrypt(h, (char *)d, n, &out, &err), ERR_NOKEY, "%s", err.msg);
		} else {
			cr_assert_eq(pgp_home_decrypt(h, (char *)d, n, &out, &err), 0, "%s", err.msg);
			cr_assert(secbuf_eq_mem(out, key, kn));
			secbuf_free(out);
			out = NULL;
		}
		free(d);
	}
	{
		char dir[256];

		snprintf(dir, sizeof(dir), "%s", pgp_home_dir(h));
		pgp_home_free(h);
		cr_assert_neq(access(dir, F_OK), 0, "the private GNUPGHOME is removed");
	}
	free(key);
}

Test(sops_roundtrip, shamir_key_groups_need_the_threshold, .timeout = 30)
{
	struct ident ids[3];
	const char *r[3];
	struct sops_encrypt_opts o = {0};
	struct keyring *two, *one;
	struct buf enc;
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};
	size_t i;

	for (i = 0; i < 3; i++) {
		ident_new(&ids[i]);
		r[i] = ids[i].rcpt;
	}
	o.age = r;
	o.nage = 3;
	o.key_groups = 1;
	o.threshold = 2;
	two = keyring_with(ids + 1, 2);
	one = keyring_with(ids, 1);
	buf_init(&enc, 1 << 22);
	cr_assert_eq(sops_encrypt(&o, "s.yaml", (const uint8_t *)yaml_in, strlen(yaml_in), &enc, &err),
		     0, "%s", err.msg);
	cr_assert_not_null(memmem(enc.data, enc.len, "key_groups", 10));
	cr_assert_not_null(memmem(enc.data, enc.len, "shamir_threshold: 2", 19));
	cr_assert_eq(sops_decrypt(two, NULL, "s.yaml", enc.data, enc.len, &out, &err), 0, "%s", err.msg);
	cr_assert_eq(out->len, strlen(yaml_in));
	secbuf_free(out);
	out = NULL;
	cr_assert_eq(sops_decrypt(one, NULL, "s.yaml", enc.data, enc.len, &out, &err), ERR_NOKEY);
	cr_assert_not_null(strstr(err.msg, "1 of 2"), "%s", err.msg);
	buf_free(&enc);
	keyring_free(two);
	keyring_free(one);
	for (i = 0; i < 3; i++)
		ident_free(&ids[i]);
}

Test(sops_roundtrip, encrypted_regex_and_mac_only)
{
	struct ident id;
	struct keyring *kr;
	const char *r[1];
	struct sops_encrypt_opts o = {0};
	struct buf enc;
	struct err_ctx err = {{0}};
	const char *k8s = "apiVersion: v1\nkind: Secret\nmetadata:\n    name: app\nstringData:\n"
			  "    password: hunter2-k8s\n";

	ident_new(&id);
	kr = keyring_with(&id, 1);
	r[0] = id.rcpt;
	o.age = r;
	o.nage = 1;
	o.encrypted_regex = "^(data|stringData)$";
	expect_round_trip(kr, &o, "k.yaml", k8s, "hunter2-k8s", NULL);
	buf_init(&enc, 1 << 20);
	cr_assert_eq(sops_encrypt(&o, "k.yaml", (const uint8_t *)k8s, strlen(k8s), &enc, &err), 0);
	cr_assert_not_null(memmem(enc.data, enc.len, "name: app", 9), "metadata stays clear");
	cr_assert_not_null(memmem(enc.data, enc.len, "encrypted_regex", 15));
	buf_free(&enc);
	o.mac_only_encrypted = 1;
	expect_round_trip(kr, &o, "k2.yaml", k8s, "hunter2-k8s", NULL);
	keyring_free(kr);
	ident_free(&id);
}

Test(sops_roundtrip, already_encrypted_is_refused)
{
	struct ident id;
	const char *r[1];
	struct sops_encrypt_opts o = {0};
	struct buf enc, enc2;
	struct err_ctx err = {{0}};

	ident_new(&id);
	r[0] = id.rcpt;
	o.age = r;
	o.nage = 1;
	buf_init(&enc, 1 << 20);
	buf_init(&enc2, 1 << 20);
	cr_assert_eq(sops_encrypt(&o, "x.json", (const uint8_t *)json_in, strlen(json_in), &enc, &err), 0);
	cr_assert_eq(sops_encrypt(&o, "x.json", enc.data, enc.len, &enc2, &err), ERR_CONFLICT);
	buf_free(&enc);
	buf_free(&enc2);
	ident_free(&id);
}

Test(sops_shamir, known_answers)
{
	struct secbuf *s[3], *out = NULL;
	const uint8_t a[] = {0x79, 0xc9, 0x01}, b[] = {0x5b, 0x92, 0x03}, c[] = {0x45, 0x01},
		      d2[] = {0x4b, 0x03};

	cr_assert_eq(sops_shamir_mul(3, 7), 9);
	cr_assert_eq(sops_shamir_mul(0x53, 0xca), 1); /* AES field inverse pair */
	secbuf_from(&s[0], a, 3);
	secbuf_from(&s[1], b, 3);
	cr_assert_eq(sops_shamir_combine(s, 2, &out), 0);
	cr_assert(secbuf_eq_mem(out, "hi", 2));
	secbuf_free(out);
	secbuf_free(s[0]);
	secbuf_free(s[1]);
	secbuf_from(&s[0], c, 2);
	secbuf_from(&s[1], d2, 2);
	cr_assert_eq(sops_shamir_combine(s, 2, &out), 0);
	cr_assert_eq(out->len, 1);
	cr_assert_eq(out->data[0], 0x42);
	secbuf_free(out);
	/* duplicate x is refused */
	secbuf_free(s[1]);
	secbuf_from(&s[1], c, 2);
	cr_assert_neq(sops_shamir_combine(s, 2, &out), 0);
	secbuf_free(s[0]);
	secbuf_free(s[1]);
}

Test(sops_shamir, split_then_any_threshold_subset_combines)
{
	uint8_t secret[32];
	struct secbuf *sh[5], *pick[3], *out = NULL;
	size_t i;

	for (i = 0; i < 32; i++)
		secret[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(sops_shamir_split(secret, 32, 5, 3, sh), 0);
	pick[0] = sh[4];
	pick[1] = sh[0];
	pick[2] = sh[2];
	cr_assert_eq(sops_shamir_combine(pick, 3, &out), 0);
	cr_assert(secbuf_eq_mem(out, secret, 32));
	secbuf_free(out);
	cr_assert_eq(sops_shamir_combine(pick, 2, &out), 0);
	cr_assert_not(secbuf_eq_mem(out, secret, 32), "two shares of a 3-threshold must not suffice");
	secbuf_free(out);
	for (i = 0; i < 5; i++)
		secbuf_free(sh[i]);
}
