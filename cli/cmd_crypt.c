/* cmd_crypt.c — `smc decrypt` and `smc encrypt`: SOPS (every store) and plain age files,
 * natively, with no sops, age or gpg binary involved (gpgme drives gpg for OpenPGP). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "decryptor/keyring.h"
#include "decryptor/pgp.h"
#include "decryptor/sops/sops.h"

#define CRYPT_MAX_INPUT ((size_t)128 << 20) /* largest file encrypted or decrypted */
#define CRYPT_MAX_RECIPIENTS 32
#define CRYPT_MAX_FILES 65536 /* files one `smc decrypt` opens (keys loaded once) */

/* Reads a whole regular file into a secbuf (it may be plaintext). */
static int read_file(const char *path, struct secbuf **out)
{
	struct secbuf *b = NULL;
	uint8_t chunk[65536];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		cli_error("%s: %s", path, strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cli_error("%s: not a regular file", path);
		close(fd);
		return 1;
	}
	if (secbuf_new(&b, CRYPT_MAX_INPUT) != 0 ||
	    (st.st_size > 0 && secbuf_reserve(b, (size_t)st.st_size) != 0)) {
		secbuf_free(b);
		close(fd);
		return 1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (secbuf_put(b, chunk, (size_t)n) != 0) {
			cli_error("%s: larger than %zu bytes", path, CRYPT_MAX_INPUT);
			rc = 1;
			break;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (n < 0) {
		cli_error("%s: %s", path, strerror(errno));
		rc = 1;
	}
	close(fd);
	if (rc != 0) {
		secbuf_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int cmd_decrypt(int argc, char **argv)
{
	static const struct option longopts[] = {{"keys", required_argument, NULL, 'k'},
						 {"identity", required_argument, NULL, 'i'},
						 {NULL, 0, NULL, 0}};
	const char *keys = NULL, *identity = NULL;
	struct keyring *kr = NULL;
	struct secbuf *in = NULL, *plain = NULL, *idf = NULL;
	struct err_ctx err = {{0}};
	int ch, code = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "k:i:", longopts, NULL)) != -1) {
		if (ch == 'k')
			keys = optarg;
		else if (ch == 'i')
			identity = optarg;
		else
			return 2;
	}
	if (optind >= argc || argc - optind > CRYPT_MAX_FILES ||
	    (keys != NULL && identity != NULL)) {
		cli_error("usage: smc decrypt [--keys DIR | --identity FILE] FILE...");
		return 2;
	}
	if (keys == NULL && identity == NULL)
		keys = getenv("SMC_KEYS_DIR");
	if (keyring_new(&kr) != 0)
		return 1;
	if (keys != NULL && keyring_load_dir(kr, keys, &err) != 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	if (identity != NULL) {
		if (read_file(identity, &idf) != 0)
			goto out;
		if (keyring_add(kr, identity, idf->data, idf->len, &err) != 0) {
			cli_error("%s", err.msg);
			goto out;
		}
	}
	if (keys == NULL && identity == NULL) {
		cli_error("no keys: pass --keys DIR or --identity FILE (or set SMC_KEYS_DIR)");
		goto out;
	}
	/* several files: keys are loaded once, plaintexts written one after the other */
	for (int i = optind; i < argc; i++) {
		if (read_file(argv[i], &in) != 0)
			goto out;
		if (sops_decrypt_auto(kr, NULL, argv[i], in->data, in->len, &plain, &err) != 0) {
			cli_error("%s", err.msg);
			goto out;
		}
		if (fwrite(plain->data, 1, plain->len, stdout) != plain->len)
			goto out;
		secbuf_free(plain);
		secbuf_free(in);
		plain = NULL;
		in = NULL;
	}
	code = fflush(stdout) == 0 ? 0 : 1;
out:
	secbuf_free(plain);
	secbuf_free(in);
	secbuf_free(idf);
	keyring_free(kr);
	return code;
}

int cmd_encrypt(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"age", required_argument, NULL, 'a'},
		{"pgp", required_argument, NULL, 'p'},
		{"pgp-pubkey", required_argument, NULL, 'P'},
		{"encrypted-regex", required_argument, NULL, 'e'},
		{"mac-only-encrypted", no_argument, NULL, 'm'},
		{"shamir-threshold", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0}};
	const char *age[CRYPT_MAX_RECIPIENTS], *pgp[CRYPT_MAX_RECIPIENTS];
	const char *pubkeys[CRYPT_MAX_RECIPIENTS];
	size_t nage = 0, npgp = 0, npub = 0;
	struct sops_encrypt_opts o;
	struct pgp_home *home = NULL;
	struct secbuf *in = NULL, *key = NULL;
	struct buf out;
	struct err_ctx err = {{0}};
	int ch, code = 1;

	memset(&o, 0, sizeof(o));
	buf_init(&out, SOPS_MAX_OUTPUT);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "a:p:P:e:mt:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (nage == CRYPT_MAX_RECIPIENTS)
				return 2;
			age[nage++] = optarg;
			break;
		case 'p':
			if (npgp == CRYPT_MAX_RECIPIENTS)
				return 2;
			pgp[npgp++] = optarg;
			break;
		case 'P':
			if (npub == CRYPT_MAX_RECIPIENTS)
				return 2;
			pubkeys[npub++] = optarg;
			break;
		case 'e': o.encrypted_regex = optarg; break;
		case 'm': o.mac_only_encrypted = 1; break;
		case 't':
			o.key_groups = 1;
			o.threshold = (int)strtol(optarg, NULL, 10);
			break;
		default: return 2;
		}
	}
	if (optind + 1 != argc || nage + npgp == 0) {
		cli_error("usage: smc encrypt --age RECIPIENT... | --pgp FINGERPRINT... "
			  "[--pgp-pubkey FILE...] [--encrypted-regex RE] FILE");
		return 2;
	}
	if (npgp > 0) {
		if (npub == 0) {
			cli_error("--pgp needs the recipients' public keys: --pgp-pubkey FILE");
			return 2;
		}
		if (pgp_home_new(&home, &err) != 0) {
			cli_error("%s", err.msg);
			return 1;
		}
		for (size_t i = 0; i < npub; i++) {
			if (read_file(pubkeys[i], &key) != 0)
				goto out;
			if (pgp_home_import(home, key->data, key->len, NULL, &err) != 0) {
				cli_error("%s: %s", pubkeys[i], err.msg);
				goto out;
			}
			secbuf_free(key);
			key = NULL;
		}
	}
	o.age = age;
	o.nage = nage;
	o.pgp = pgp;
	o.npgp = npgp;
	o.pgp_home = home;
	if (read_file(argv[optind], &in) != 0)
		goto out;
	if (sops_encrypt(&o, argv[optind], in->data, in->len, &out, &err) != 0) {
		cli_error("%s", err.msg);
		goto out;
	}
	code = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0 ? 0 : 1;
out:
	buf_free(&out);
	secbuf_free(in);
	secbuf_free(key);
	pgp_home_free(home);
	return code;
}
