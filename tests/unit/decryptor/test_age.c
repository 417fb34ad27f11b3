/* test_age.c — native age: C2SP CCTV vectors (each gives the result its "expect:" header
 * states, including the hash of the plaintext released before a payload failure), the
 * files made by the age CLI, the intermediate-value trace, bech32, armor and encryption
 * round trips. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "common/secbuf.h"
#include "decryptor/age/age.h"
#include "decryptor/age/age_armor.h"
#include "decryptor/age/age_b64.h"
#include "decryptor/age/age_bech32.h"
#include "test_files.h"

#define CCTV SMC_SHARED_DIR "/fixtures/age/cctv"
#define GEN SMC_SHARED_DIR "/fixtures/age/generated"

static void hexs(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void sha256_hex(const uint8_t *p, size_t n, char out[65])
{
	uint8_t d[32];

	SHA256(p, n, d);
	hexs(d, 32, out);
}

/* zlib's uncompress through dlopen: the unit test links only the project's libraries. */
typedef int (*uncompress_fn)(uint8_t *, unsigned long *, const uint8_t *, unsigned long);

static uint8_t *inflate_all(const uint8_t *p, size_t n, size_t *outn)
{
	static void *lib;
	uncompress_fn unc;
	unsigned long cap = 1 << 20;
	uint8_t *out;
	int rc;

	if (lib == NULL)
		lib = dlopen("libz.so.1", RTLD_NOW);
	cr_assert_not_null(lib, "libz.so.1 needed to inflate compressed vectors");
	*(void **)&unc = dlsym(lib, "uncompress");
	cr_assert_not_null(unc);
	for (;;) {
		unsigned long len = cap;

		out = malloc(cap);
		rc = unc(out, &len, p, n);
		if (rc == 0) {
			*outn = len;
			return out;
		}
		free(out);
		cr_assert_eq(rc, -5 /* Z_BUF_ERROR */, "inflate failed %d", rc);
		cap *= 4;
		cr_assert_lt(cap, 1ul << 30);
	}
}

struct vector {
	char expect[64];
	char payload[65];
	char *ids[8];
	size_t nids;
	int armored, compressed;
	uint8_t *body; /* the age file */
	size_t body_len;
	uint8_t *raw;
};

static void vector_load(const char *name, struct vector *v)
{
	char path[512];
	size_t n, pos = 0;

	memset(v, 0, sizeof(*v));
	snprintf(path, sizeof(path), "%s/%s", CCTV, name);
	v->raw = slurp(path, &n);
	for (;;) {
		char *line = (char *)v->raw + pos, *nl = memchr(line, '\n', n - pos), *val;

		cr_assert_not_null(nl, "%s: no blank line", name);
		*nl = 0;
		pos = (size_t)(nl - (char *)v->raw) + 1;
		if (line[0] == 0)
			break;
		val = strstr(line, ": ");
		cr_assert_not_null(val, "%s: bad header line", name);
		*val = 0;
		val += 2;
		if (strcmp(line, "expect") == 0)
			snprintf(v->expect, sizeof(v->expect), "%s", val);
		else if (strcmp(line, "payload") == 0)
			snprintf(v->payload, sizeof(v->payload), "%s", val);
		else if (strcmp(line, "identity") == 0 && v->nids < 8)
			v->ids[v->nids++] = val;
		else if (strcmp(line, "armored") == 0)
			v->armored = strcmp(val, "yes") == 0;
		else if (strcmp(line, "compressed") == 0)
			v->compressed = strcmp(val, "zlib") == 0;
	}
	if (v->compressed) {
		v->body = inflate_all(v->raw + pos, n - pos, &v->body_len);
	} else {
		v->body = v->raw + pos;
		v->body_len = n - pos;
	}
}

static const char *res_name(enum age_result r)
{
	switch (r) {
	case AGE_RES_OK: return "success";
	case AGE_RES_ARMOR: return "armor failure";
	case AGE_RES_HEADER: return "header failure";
	case AGE_RES_NO_MATCH: return "no match";
	case AGE_RES_HMAC: return "HMAC failure";
	case AGE_RES_PAYLOAD: return "payload failure";
	}
	return "?";
}

static void run_vector(const char *name)
{
	struct age_identity *ids[8];
	struct err_ctx err = {{0}};
	struct secbuf *out = NULL;
	enum age_result res = AGE_RES_OK;
	struct vector v;
	size_t nids = 0, i;
	char h[65];
	int rc;

	vector_load(name, &v);
	for (i = 0; i < v.nids; i++) {
		rc = age_identity_parse(v.ids[i], strlen(v.ids[i]), &ids[nids], NULL);
		if (rc == ERR_UNSUPPORTED)
			continue; /* post-quantum identity: X25519-only implementation */
		cr_assert_eq(rc, 0, "%s: identity", name);
		nids++;
	}
	cr_assert_eq(secbuf_new(&out, AGE_MAX_PLAINTEXT), 0);
	rc = age_decrypt_into((const struct age_identity *const *)ids, nids, v.body, v.body_len,
			      out, &res, &err);
	cr_expect_str_eq(res_name(res), v.expect, "%s: got %s (%s), want %s", name,
			 res_name(res), err.msg, v.expect);
	cr_expect_eq(rc == 0, res == AGE_RES_OK, "%s: rc %d", name, rc);
	if (strcmp(v.expect, "success") == 0 || strcmp(v.expect, "payload failure") == 0) {
		sha256_hex(out->data, out->len, h);
		cr_expect_str_eq(h, v.payload, "%s: plaintext hash", name);
	}
	if (res != AGE_RES_PAYLOAD && res != AGE_RES_OK)
		cr_expect_eq(out->len, 0, "%s: no plaintext released before the payload", name);
	/* the armored flag in the vector matches our detection */
	cr_expect_eq(age_armor_detect(v.body, v.body_len), v.armored, "%s: armor detection",
		     name);
	secbuf_free(out);
	for (i = 0; i < nids; i++)
		age_identity_free(ids[i]);
	if (v.compressed)
		free(v.body);
	free(v.raw);
}

Test(age_cctv, every_vector_gives_its_expected_result, .timeout = 120)
{
	DIR *d = opendir(CCTV);
	struct dirent *e;
	int count = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		run_vector(e->d_name);
		count++;
	}
	closedir(d);
	cr_expect_geq(count, 60, "all vectors seen (%d)", count);
}

/* Each expected class is represented, so the loop above cannot pass vacuously. */
Test(age_cctv, specific_vectors)
{
	run_vector("x25519");
	run_vector("hmac_bad");
	run_vector("stream_bad_tag_second_chunk_full");
	run_vector("armor_whitespace_outside");
	run_vector("x25519_low_order");
	run_vector("stanza_valid_characters");
}

static struct age_identity *load_identity(const char *file)
{
	struct age_identity **ids = NULL, *id;
	size_t nids = 0, unusable = 0, n;
	uint8_t *t = slurp(file, &n);

	cr_assert_eq(age_identities_parse(t, n, &ids, &nids, &unusable, NULL), 0);
	cr_assert_eq(nids, 1);
	id = ids[0];
	free(ids);
	free(t);
	return id;
}

static void gen_case(const char *enc, const char *plain, int expect_rc)
{
	struct age_identity *id = load_identity(GEN "/identity.txt");
	char path[512];
	size_t n, pn;
	uint8_t *in, *p;
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};
	int rc;

	snprintf(path, sizeof(path), "%s/%s", GEN, enc);
	in = slurp(path, &n);
	snprintf(path, sizeof(path), "%s/%s", GEN, plain);
	p = slurp(path, &pn);
	rc = age_decrypt((const struct age_identity *const *)&id, 1, in, n, &out, &err);
	cr_assert_eq(rc, expect_rc, "%s: rc %d (%s)", enc, rc, err.msg);
	if (rc == 0) {
		cr_assert_eq(out->len, pn, "%s: length", enc);
		cr_assert(memcmp(out->data, p, pn) == 0, "%s: content", enc);
		secbuf_free(out);
	} else {
		cr_assert_null(out);
		cr_assert_not_null(strstr(err.msg, "no identity matched"), "%s", err.msg);
	}
	free(in);
	free(p);
	age_identity_free(id);
}

Test(age_generated, every_file_decrypts)
{
	gen_case("small.txt.age", "small.txt", 0);
	gen_case("small.txt.armored.age", "small.txt", 0);
	gen_case("empty.bin.age", "empty.bin", 0);
	gen_case("exact-64KiB.bin.age", "exact-64KiB.bin", 0);
	gen_case("200KiB.bin.age", "200KiB.bin", 0);
	gen_case("small.txt.two-recipients.age", "small.txt", 0);
	gen_case("datakey-32bytes.bin.armored.age", "datakey-32bytes.bin", 0);
	gen_case("small.txt.other-recipient-only.age", "small.txt", ERR_NOKEY);
}

Test(age_generated, other_identity_opens_two_recipient_file)
{
	struct age_identity *id = load_identity(GEN "/identity-other.txt");
	struct secbuf *out = NULL;
	size_t n;
	uint8_t *in = slurp(GEN "/small.txt.two-recipients.age", &n);

	cr_assert_eq(age_decrypt((const struct age_identity *const *)&id, 1, in, n, &out, NULL), 0);
	cr_assert_eq(out->len, 53);
	secbuf_free(out);
	free(in);
	age_identity_free(id);
}

Test(age_keys, identity_gives_recorded_recipient_and_trace_values)
{
	struct age_identity *id = load_identity(GEN "/identity.txt");
	char r[128];
	struct age_recipient rc;
	uint8_t pub[32];
	size_t got = 0;

	cr_assert_eq(age_identity_recipient(id, r, sizeof(r)), 0);
	cr_assert_str_eq(r, "age1xg7sz7gxraqazvjn8ap5h8r7car768dafjlnuap2nxld86qkc5ps7026j5");
	cr_assert_eq(age_recipient_parse(r, strlen(r), &rc, NULL), 0);
	/* trace: recipient_public_key_hex */
	cr_assert_eq(age_b64_decode("Mj0BeQYfQdEyUz9DS5x+x0ftHb1Mvz50Kpm+0+gWxQM", 43, 0, pub,
				    sizeof(pub), &got), 0);
	cr_assert_eq(memcmp(pub, rc.pub, 32), 0);
	age_identity_free(id);
}

Test(age_keys, identity_round_trips_through_bech32)
{
	struct age_identity *id = NULL, *id2 = NULL;
	struct secbuf *s = NULL;
	char r1[128], r2[128];

	cr_assert_eq(age_identity_generate(&id), 0);
	cr_assert_eq(age_identity_encode(id, &s), 0);
	cr_assert(strncmp((char *)s->data, "AGE-SECRET-KEY-1", 16) == 0);
	cr_assert_eq(age_identity_parse((char *)s->data, s->len, &id2, NULL), 0);
	age_identity_recipient(id, r1, sizeof(r1));
	age_identity_recipient(id2, r2, sizeof(r2));
	cr_assert_str_eq(r1, r2);
	/* a flipped checksum character is refused */
	s->data[s->len - 1] = s->data[s->len - 1] == 'Q' ? 'P' : 'Q';
	cr_assert_neq(age_identity_parse((char *)s->data, s->len, &id2, NULL), 0);
	secbuf_free(s);
	age_identity_free(id);
	age_identity_free(id2);
}

Test(age_keys, unusable_recipient_types_are_named)
{
	struct age_recipient r;
	struct err_ctx err = {{0}};
	const char *pq = "age1pq1ehusfwsvrente8p6gafr4jemv2urnqfm4c59ng5dgqq";
	const char *ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB";

	cr_assert_eq(age_recipient_parse(pq, strlen(pq), &r, &err), ERR_UNSUPPORTED);
	cr_assert_not_null(strstr(err.msg, "post-quantum"));
	cr_assert_eq(age_recipient_parse(ssh, strlen(ssh), &r, &err), ERR_UNSUPPORTED);
	cr_assert_eq(age_recipient_parse("age1xyz", 7, &r, &err), ERR_INVAL);
}

Test(age_keys, key_file_with_pq_identity_counts_it_unusable)
{
	struct age_identity **ids = NULL;
	size_t nids = 0, unusable = 0, n;
	uint8_t *t = slurp(SMC_SHARED_DIR "/fixtures/sops/fluxcd/keys/age-pq.txt", &n);

	cr_assert_eq(age_identities_parse(t, n, &ids, &nids, &unusable, NULL), 0);
	cr_assert_eq(nids, 0);
	cr_assert_eq(unusable, 1);
	age_identities_free(ids, nids);
	free(t);
}

/* Runs /usr/bin/age -d on our output (test-only use of the reference tool). */
static void age_cli_check(const struct age_identity *id, const uint8_t *enc, size_t enc_len,
			  const uint8_t *plain, size_t len)
{
	char tmpd[] = "/tmp/agetestXXXXXX", idp[256], inp[256], outp[256];
	struct secbuf *ident = NULL;
	uint8_t *got;
	size_t gotn;
	int st;
	pid_t pid;
	FILE *f;

	cr_assert_not_null(mkdtemp(tmpd));
	snprintf(idp, sizeof(idp), "%s/id.txt", tmpd);
	snprintf(inp, sizeof(inp), "%s/f.age", tmpd);
	snprintf(outp, sizeof(outp), "%s/plain", tmpd);
	f = fopen(idp, "w");
	age_identity_encode(id, &ident);
	fwrite(ident->data, 1, ident->len, f);
	fputc('\n', f);
	fclose(f);
	secbuf_free(ident);
	f = fopen(inp, "w");
	fwrite(enc, 1, enc_len, f);
	fclose(f);
	pid = fork();
	if (pid == 0) {
		execl("/usr/bin/age", "age", "-d", "-i", idp, "-o", outp, inp, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "age CLI could not open our file");
	got = slurp(outp, &gotn);
	cr_assert_eq(gotn, len);
	cr_assert(memcmp(got, plain, len) == 0);
	free(got);
	unlink(idp);
	unlink(inp);
	unlink(outp);
	rmdir(tmpd);
}

static void round_trip(size_t len, int armor, size_t nrcpt)
{
	struct age_identity *ids[3];
	struct age_recipient rc[3];
	struct buf out;
	struct secbuf *pt = NULL;
	uint8_t *plain = malloc(len + 1);
	char r[128];
	size_t i;

	for (i = 0; i < len; i++)
		plain[i] = (uint8_t)(i * 31 + 7);
	for (i = 0; i < nrcpt; i++) {
		cr_assert_eq(age_identity_generate(&ids[i]), 0);
		age_identity_recipient(ids[i], r, sizeof(r));
		cr_assert_eq(age_recipient_parse(r, strlen(r), &rc[i], NULL), 0);
	}
	buf_init(&out, 1u << 28);
	cr_assert_eq(age_encrypt(rc, nrcpt, plain, len, armor, &out, NULL), 0);
	cr_assert_eq(age_armor_detect(out.data, out.len), armor);
	for (i = 0; i < nrcpt; i++) {
		cr_assert_eq(age_decrypt((const struct age_identity *const *)&ids[i], 1, out.data,
					 out.len, &pt, NULL), 0, "len %zu armor %d", len, armor);
		cr_assert_eq(pt->len, len);
		cr_assert(len == 0 || memcmp(pt->data, plain, len) == 0);
		secbuf_free(pt);
		pt = NULL;
	}
	/* the real age CLI opens what we write */
	if (len == 70000 && !armor && access("/usr/bin/age", X_OK) == 0)
		age_cli_check(ids[0], out.data, out.len, plain, len);
	buf_free(&out);
	for (i = 0; i < nrcpt; i++)
		age_identity_free(ids[i]);
	free(plain);
}

Test(age_encrypt, round_trips)
{
	round_trip(0, 0, 1);
	round_trip(1, 1, 1);
	round_trip(65536, 0, 2);
	round_trip(65537, 1, 1);
	round_trip(70000, 0, 3);
	round_trip(200000, 1, 2);
}

Test(age_encrypt, wrong_identity_is_no_match)
{
	struct age_identity *a, *b;
	struct age_recipient r;
	struct secbuf *pt = NULL;
	struct buf out;
	enum age_result res;
	char s[128];

	age_identity_generate(&a);
	age_identity_generate(&b);
	age_identity_recipient(a, s, sizeof(s));
	age_recipient_parse(s, strlen(s), &r, NULL);
	buf_init(&out, 1 << 20);
	cr_assert_eq(age_encrypt(&r, 1, (const uint8_t *)"x", 1, 1, &out, NULL), 0);
	secbuf_new(&pt, 100);
	cr_assert_eq(age_decrypt_into((const struct age_identity *const *)&b, 1, out.data, out.len,
				      pt, &res, NULL), ERR_NOKEY);
	cr_assert_eq(res, AGE_RES_NO_MATCH);
	secbuf_free(pt);
	buf_free(&out);
	age_identity_free(a);
	age_identity_free(b);
}

Test(age_b64, strict_canonical)
{
	uint8_t o[8];
	size_t n;

	cr_assert_eq(age_b64_decode("QQ", 2, 0, o, sizeof(o), &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(o[0], 'A');
	cr_assert_neq(age_b64_decode("QR", 2, 0, o, sizeof(o), &n), 0); /* non-zero low bits */
	cr_assert_neq(age_b64_decode("QQ==", 4, 0, o, sizeof(o), &n), 0);
	cr_assert_eq(age_b64_decode("QQ==", 4, 1, o, sizeof(o), &n), 0);
	cr_assert_neq(age_b64_decode("QQ=", 3, 1, o, sizeof(o), &n), 0);
	cr_assert_neq(age_b64_decode("Q", 1, 0, o, sizeof(o), &n), 0);
	cr_assert_neq(age_b64_decode("QQ\n", 3, 0, o, sizeof(o), &n), 0);
}
