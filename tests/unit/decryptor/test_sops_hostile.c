/* test_sops_hostile.c — hostile inputs generated from the real fixtures: tampered
 * ciphertext, IV, tag, MAC and lastmodified, reordered and moved values, tampered age
 * stanza bodies, truncated armor, malformed stores, oversize values, deep nesting and
 * billion-laughs aliases. Each must be refused, within 5 s and a 128 MiB data limit, with
 * an error naming the file and never containing plaintext, and without any output. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/secbuf.h"
#include "decryptor/keyring.h"
#include "decryptor/sops/sops.h"
#include "test_files.h"

#define SOPS_FX SMC_SHARED_DIR "/fixtures/sops"
#define AGE_YAML "fluxcd/age-secret.enc.yaml"
#define PGP_JSON "sops-repo/example.json"
#define PGP_YAML "sops-repo/example.yaml"

enum gen { G_NONE, G_DEEP_YAML, G_DEEP_JSON, G_LAUGHS, G_BIG_VALUE, G_MANY_ANCHORS,
	   G_NUL_YAML, G_LONG_KEY };

struct hostile {
	const char *name;
	const char *file;     /* fixture (relative), or output name for generated input */
	const char *find;     /* replaced once by repl; NULL: no substitution */
	const char *repl;
	const char *find2;    /* when set: find and find2 are swapped */
	enum gen gen;
	int rc;               /* expected error, 0 = any failure */
};

static const struct hostile cases[] = {
	/* value ciphertext, IV, tag, type */
	{"ciphertext byte", AGE_YAML, "data:mHeXsmQ=", "data:mHeXsmA=", NULL, G_NONE, ERR_CRYPTO},
	{"ciphertext length", AGE_YAML, "data:mHeXsmQ=", "data:mHeXsmQA", NULL, G_NONE, 0},
	{"iv byte", AGE_YAML, "iv:vUMpILz3", "iv:vUMpILz4", NULL, G_NONE, ERR_CRYPTO},
	{"iv empty", AGE_YAML, "iv:vUMpILz3xchORqkzDFvgwENY7EqIHHGJdEF6C8xqbFE=", "iv:", NULL, G_NONE, 0},
	{"tag byte", AGE_YAML, "tag:IroV7hyk", "tag:IroV7hyl", NULL, G_NONE, ERR_CRYPTO},
	{"tag short", AGE_YAML, "tag:IroV7hykADvD0IUaq6kikA==", "tag:IroV7hykADvD0IUa", NULL, G_NONE, 0},
	{"unknown type", AGE_YAML, "mHeXsmQ=,iv:vUMp", "mHeXsmQ=,iv:vUMp", NULL, G_NONE, 0},
	{"bad base64", AGE_YAML, "data:mHeXsmQ=", "data:mH*XsmQ=", NULL, G_NONE, 0},
	{"value in clear", AGE_YAML, "key: ENC[AES256_GCM,data:mHeXsmQ=", "key: plain #", NULL, G_NONE, 0},
	{"value type comment", AGE_YAML, "FBZaaXAN", "FBZaaXAN", NULL, G_NONE, 0},
	/* MAC and lastmodified */
	{"mac byte", AGE_YAML, "mac: ENC[AES256_GCM,data:vmrF", "mac: ENC[AES256_GCM,data:vmrG", NULL, G_NONE, ERR_CRYPTO},
	{"mac tag", AGE_YAML, "tag:Dg0HFdLg", "tag:Dg0HFdLh", NULL, G_NONE, ERR_CRYPTO},
	{"mac removed", AGE_YAML, "  mac: ENC", "  xmac: ENC", NULL, G_NONE, ERR_CRYPTO},
	{"mac empty", AGE_YAML, "  mac: ENC", "  mac: \"\"\n  zz: ENC", NULL, G_NONE, ERR_CRYPTO},
	{"lastmodified changed", AGE_YAML, "2024-11-12T13:33:42Z", "2024-11-12T13:33:43Z", NULL, G_NONE, ERR_CRYPTO},
	{"lastmodified garbage", AGE_YAML, "2024-11-12T13:33:42Z", "yesterday", NULL, G_NONE, 0},
	{"lastmodified missing", AGE_YAML, "lastmodified:", "lastmodifie:", NULL, G_NONE, 0},
	/* structure */
	{"key added", AGE_YAML, "stringData:", "extra_unencrypted: x\nstringData:", NULL, G_NONE, ERR_CRYPTO},
	{"key renamed", AGE_YAML, "  key: ENC", "  kez: ENC", NULL, G_NONE, ERR_CRYPTO},
	{"clear value changed", AGE_YAML, "name: age", "name: agf", NULL, G_NONE, ERR_CRYPTO},
	{"list reordered", PGP_JSON, "ENC[AES256_GCM,data:lkUEC7s3qU9AY6W+,iv:KjF9i0K9u7THbb3Bn1adQrIKpv1ZqA3PiJkctgFm3Bw=,tag:LBSqqr+gn15x0Pz5JKMJJQ==,type:str]",
	 NULL, "ENC[AES256_GCM,data:z9Ujp3n2yXBqPNM1,iv:1nbZrIKozuS2p2AgD5/gHgjMN/VSd8SFeCbWdjy9Cf0=,tag:tfwaYihQDMAsmy/yt6ScLg==,type:str]", G_NONE, ERR_CRYPTO},
	{"value moved to other key", PGP_JSON, "ENC[AES256_GCM,data:f8++3g==,iv:rYuVzzb+C40QlYgO4Dl2V7atZUx0ITBcyb5fUsftKMo=,tag:krquPqa1HQltZqidzNamrA==,type:str]",
	 NULL, "ENC[AES256_GCM,data:94a2Q8c=,iv:c3NC7L80UTtbz7gdvPV5oSUwg30lC3Kg82uvRVs5CZw=,tag:kUXRNerUWmSe44mwD4w5uA==,type:str]", G_NONE, ERR_CRYPTO},
	{"empty value made non-empty", PGP_JSON, "\"anEmptyValue\": \"\"", "\"anEmptyValue\": \"x\"", NULL, G_NONE, 0},
	{"duplicate key", AGE_YAML, "kind: Secret", "kind: Secret\nkind: Other", NULL, G_NONE, ERR_INVAL},
	{"duplicate sops", AGE_YAML, "apiVersion: v1", "sops: {}\napiVersion: v1", NULL, G_NONE, ERR_INVAL},
	{"sops not a map", AGE_YAML, "sops:\n", "sops: x\nold:\n", NULL, G_NONE, ERR_INVAL},
	{"no keys", AGE_YAML, "  age:\n    - recipient", "  agx:\n    - recipient", NULL, G_NONE, ERR_INVAL},
	{"two rules", AGE_YAML, "  encrypted_regex:", "  unencrypted_suffix: _x\n  encrypted_regex:", NULL, G_NONE, ERR_INVAL},
	{"top level sequence", AGE_YAML, "apiVersion: v1\n", "- a\n", NULL, G_NONE, 0},
	{"yaml syntax", AGE_YAML, "kind: Secret", "kind: [Secret", NULL, G_NONE, ERR_INVAL},
	/* age data key stanza */
	{"stanza body tampered", AGE_YAML, "ZXFxMWJ5amkrN1VX", "ZXFxMWJ5amkrN1VY", NULL, G_NONE, ERR_NOKEY},
	{"stanza share tampered", AGE_YAML, "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBZeHVSdjJo", "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBZeHVSdjJp", NULL, G_NONE, ERR_NOKEY},
	{"age payload tampered", AGE_YAML, "LKiZDcq+nqKDUI7o", "LKiZDcq+nqKDUI7p", NULL, G_NONE, ERR_NOKEY},
	{"armor truncated", AGE_YAML, "        -----END AGE ENCRYPTED FILE-----\n", "", NULL, G_NONE, ERR_NOKEY},
	{"armor header broken", AGE_YAML, "-----BEGIN AGE ENCRYPTED FILE-----", "-----BEGIN AGE ENCRYPTED FILE----", NULL, G_NONE, ERR_NOKEY},
	{"armor garbage line", AGE_YAML, "LKiZDcq+nqKDUI7owZ+xNs2w5SrQjEWVhDXRSeSSRiJrK/bCYKzRxA==", "LKiZDcq+nqKDUI7owZ+xNs2w5SrQjEWVhDXRSeSSRiJrK/bCYKzRxA==\n        AAAA", NULL, G_NONE, ERR_NOKEY},
	{"enc empty", AGE_YAML, "enc: |", "enc: \"\"\n      x: |", NULL, G_NONE, ERR_NOKEY},
	/* pgp data key */
	{"pgp message tampered", "sops-repo/functional-tests/format.enc.yaml", "vbfY+l/3HDta5fHHe1RI", "vbfY+l/3HDta5fHHe1RJ", NULL, G_NONE, 0},
	/* other stores */
	{"dotenv value tampered", "fluxcd/age.enc.env", "data:3PTvx6o=", "data:4PTvx6o=", NULL, G_NONE, ERR_CRYPTO},
	{"dotenv line without =", "fluxcd/age.enc.env", "key=ENC", "keyENC", NULL, G_NONE, ERR_INVAL},
	{"dotenv list index huge", "fluxcd/age.enc.env", "sops_age__list_0__map_recipient", "sops_age__list_99999__map_recipient", NULL, G_NONE, 0},
	{"dotenv mac tampered", "fluxcd/age.enc.env", "sops_mac=ENC[AES256_GCM,data:YQH", "sops_mac=ENC[AES256_GCM,data:YQI", NULL, G_NONE, ERR_CRYPTO},
	{"binary data tampered", "fluxcd/age.binary.enc.txt", "data:QNbPAYY=", "data:RNbPAYY=", NULL, G_NONE, ERR_CRYPTO},
	{"binary data missing", "fluxcd/age.binary.enc.txt", "\"data\":", "\"datx\":", NULL, G_NONE, 0},
	{"json truncated", "fluxcd/age.binary.enc.txt", "\"sops\": {", "\"sops\": {{", NULL, G_NONE, ERR_INVAL},
	{"ini value tampered", "sops-repo/example.ini", "data:7cWtsg==", "data:8cWtsg==", NULL, G_NONE, ERR_CRYPTO},
	{"ini unterminated triple quote", "sops-repo/functional-tests/format-2.enc.ini", "-----END PGP MESSAGE-----\"\"\"", "-----END PGP MESSAGE-----", NULL, G_NONE, ERR_INVAL},
	/* resource exhaustion */
	{"deep yaml nesting", "deep.yaml", NULL, NULL, NULL, G_DEEP_YAML, ERR_TOOBIG},
	{"deep json nesting", "deep.json", NULL, NULL, NULL, G_DEEP_JSON, 0},
	{"billion laughs", "laughs.yaml", NULL, NULL, NULL, G_LAUGHS, ERR_TOOBIG},
	{"oversize value", "big.yaml", NULL, NULL, NULL, G_BIG_VALUE, ERR_TOOBIG},
	{"many anchors", "anchors.yaml", NULL, NULL, NULL, G_MANY_ANCHORS, ERR_TOOBIG},
	{"NUL in yaml", "nul.yaml", NULL, NULL, NULL, G_NUL_YAML, 0},
	{"oversize key", "longkey.yaml", NULL, NULL, NULL, G_LONG_KEY, 0},
};

static char *dup_shared(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = cr_malloc(strlen(s) + 1);
	memcpy(d, s, strlen(s) + 1);
	return d;
}

/* Criterion runs each case in a fresh process image (PIE: other addresses), so the
 * parameters and their strings live in its shared memory. */
ParameterizedTestParameters(sops_hostile, refused)
{
	size_t n = sizeof(cases) / sizeof(cases[0]), i;
	struct hostile *p = cr_malloc(n * sizeof(*p));

	for (i = 0; i < n; i++) {
		p[i] = cases[i];
		p[i].name = dup_shared(cases[i].name);
		p[i].file = dup_shared(cases[i].file);
		p[i].find = dup_shared(cases[i].find);
		p[i].repl = dup_shared(cases[i].repl);
		p[i].find2 = dup_shared(cases[i].find2);
	}
	return cr_make_param_array(struct hostile, p, n, NULL);
}

static char *replace(char *s, size_t *n, const char *find, const char *repl)
{
	char *at = strstr(s, find), *r;
	size_t fl = strlen(find), rl = strlen(repl);

	cr_assert_not_null(at, "pattern not in fixture: %.40s", find);
	r = malloc(*n - fl + rl + 1);
	memcpy(r, s, (size_t)(at - s));
	memcpy(r + (at - s), repl, rl);
	memcpy(r + (at - s) + rl, at + fl, *n - (size_t)(at - s) - fl + 1);
	*n = *n - fl + rl;
	free(s);
	return r;
}

static char *generate(enum gen g, size_t *n)
{
	size_t cap = 8u << 20, o = 0, i;
	char *s = malloc(cap);

	switch (g) {
	case G_DEEP_YAML:
		for (i = 0; i < 200; i++)
			o += (size_t)snprintf(s + o, cap - o, "%*sk%zu:\n", (int)(2 * i), "", i);
		o += (size_t)snprintf(s + o, cap - o, "%*sv: x\n", 400, "");
		break;
	case G_DEEP_JSON:
		for (i = 0; i < 100000; i++)
			s[o++] = '[';
		s[0] = '{';
		break;
	case G_LAUGHS:
		o += (size_t)snprintf(s + o, cap - o, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
		for (i = 1; i < 10; i++)
			o += (size_t)snprintf(s + o, cap - o, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n",
					      (char)('a' + i), (char)('a' + i), (char)('a' + i - 1),
					      (char)('a' + i - 1), (char)('a' + i - 1), (char)('a' + i - 1),
					      (char)('a' + i - 1), (char)('a' + i - 1), (char)('a' + i - 1),
					      (char)('a' + i - 1), (char)('a' + i - 1));
		break;
	case G_BIG_VALUE:
		o += (size_t)snprintf(s + o, cap - o, "k: ");
		memset(s + o, 'A', 5u << 20);
		o += 5u << 20;
		s[o++] = '\n';
		break;
	case G_MANY_ANCHORS:
		for (i = 0; i < 2000; i++)
			o += (size_t)snprintf(s + o, cap - o, "k%zu: &a%zu v\n", i, i);
		break;
	case G_NUL_YAML:
		memcpy(s, "a: b\0c\nsops: {}\n", 16);
		o = 16;
		break;
	case G_LONG_KEY:
		memset(s, 'k', 10000);
		o = 10000;
		o += (size_t)snprintf(s + o, cap - o, ": v\n");
		break;
	default:
		break;
	}
	s[o] = '\0';
	*n = o;
	return s;
}

static void limit_memory(void)
{
#ifndef SMC_SANITIZE
	struct rlimit rl = {128u << 20, 128u << 20};

	cr_assert_eq(setrlimit(RLIMIT_DATA, &rl), 0);
#endif
}

ParameterizedTest(struct hostile *h, sops_hostile, refused, .timeout = 5)
{
	struct keyring *kr;
	struct secbuf *out = NULL;
	struct err_ctx err = {{0}};
	char path[512], *in;
	size_t n;
	uint8_t *d;
	int rc;

	cr_assert_eq(keyring_new(&kr), 0);
	d = slurp(SOPS_FX "/fluxcd/keys/age.txt", &n);
	cr_assert_eq(keyring_add(kr, "flux.agekey", d, n, NULL), 0);
	free(d);
	if (h->file != NULL && strncmp(h->file, "sops-repo/", 10) == 0) {
		d = slurp(SOPS_FX "/keys/sops-functional-tests-key.asc", &n);
		cr_assert_eq(keyring_add(kr, "functional.asc", d, n, NULL), 0);
		free(d);
	}
	if (h->gen != G_NONE) {
		in = generate(h->gen, &n);
		snprintf(path, sizeof(path), "%s", h->file);
	} else {
		snprintf(path, sizeof(path), "%s/%s", SOPS_FX, h->file);
		in = (char *)slurp(path, &n);
		/* the untouched fixture opens: the mutation is what is refused */
		cr_assert_eq(sops_decrypt(kr, NULL, path, (uint8_t *)in, n, &out, &err), 0, "%s: %s",
			     h->name, err.msg);
		secbuf_free(out);
		out = NULL;
		if (h->find2 != NULL) {
			char tmp[] = "\x01SWAP\x01";

			in = replace(in, &n, h->find, tmp);
			in = replace(in, &n, h->find2, h->find);
			in = replace(in, &n, tmp, h->find2);
		} else if (strcmp(h->name, "unknown type") == 0) {
			in = replace(in, &n, "tag:IroV7hykADvD0IUaq6kikA==,type:str]",
				     "tag:IroV7hykADvD0IUaq6kikA==,type:bogus]");
		} else if (strcmp(h->name, "value type comment") == 0) {
			in = replace(in, &n, "tag:IroV7hykADvD0IUaq6kikA==,type:str]",
				     "tag:IroV7hykADvD0IUaq6kikA==,type:comment]");
		} else if (h->find != NULL) {
			in = replace(in, &n, h->find, h->repl);
		}
	}
	limit_memory();
	memset(&err, 0, sizeof(err));
	rc = sops_decrypt(kr, NULL, path, (uint8_t *)in, n, &out, &err);
	cr_assert_neq(rc, 0, "%s: accepted", h->name);
	if (h->rc != 0)
		cr_assert_eq(rc, h->rc, "%s: rc %d (%s), want %d", h->name, rc, err.msg, h->rc);
	cr_assert_null(out, "%s: output returned for a failed file", h->name);
	cr_assert_neq(err.msg[0], '\0', "%s: no reason given", h->name);
	cr_assert_not_null(strstr(err.msg, h->file), "%s: error does not name the file: %s",
			   h->name, err.msg);
	/* plaintexts of the fixtures never appear in an error */
	cr_assert_null(strstr(err.msg, "John"), "%s", err.msg);
	cr_assert_null(strstr(err.msg, "t00m4nys3cr3tz"), "%s", err.msg);
	free(in);
	keyring_free(kr);
}

Test(sops_hostile, at_least_forty_cases)
{
	cr_assert_geq(sizeof(cases) / sizeof(cases[0]), 40);
}
