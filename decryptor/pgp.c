/* pgp.c — gpgme with a private ephemeral home (see pgp.h). */
#define _XOPEN_SOURCE 700
#include "decryptor/pgp.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gpgme.h>

#include "common/str.h"
#include "common/xmalloc.h"

struct pgp_home {
	char dir[256];
	gpgme_ctx_t ctx;
};

static int pgp_init(void)
{
	static int done;

	if (!done) {
		if (gpgme_check_version(NULL) == NULL)
			return ERR_UNSUPPORTED;
		if (gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) != 0)
			return ERR_UNSUPPORTED;
		done = 1;
	}
	return 0;
}

const char *pgp_home_dir(const struct pgp_home *h)
{
	return h->dir;
}

int pgp_home_new_in(const char *parent, struct pgp_home **out, struct err_ctx *err)
{
	struct pgp_home *h;
	int rc;

	if (parent == NULL || parent[0] != '/' || strlen(parent) > PGP_MAX_PARENT)
		return err_set(err, ERR_INVAL, "pgp: bad parent directory for a home");
	if ((rc = pgp_init()) != 0)
		return err_set(err, rc, "gpgme: OpenPGP engine (gpg) not available");
	h = xcalloc(1, sizeof(*h));
	if (h == NULL)
		return ERR_NOMEM;
	if (str_fmt(h->dir, sizeof(h->dir), "%s/smc-gpg-XXXXXX", parent) != 0 ||
	    mkdtemp(h->dir) == NULL) {
		free(h);
		return err_set(err, ERR_IO, "pgp: cannot create a private GNUPGHOME: %s",
			       strerror(errno));
	}
	(void)chmod(h->dir, 0700);
	if (gpgme_new(&h->ctx) != 0 || gpgme_set_protocol(h->ctx, GPGME_PROTOCOL_OpenPGP) != 0 ||
	    gpgme_ctx_set_engine_info(h->ctx, GPGME_PROTOCOL_OpenPGP, NULL, h->dir) != 0 ||
	    gpgme_set_pinentry_mode(h->ctx, GPGME_PINENTRY_MODE_LOOPBACK) != 0) {
		pgp_home_free(h);
		return err_set(err, ERR_UNSUPPORTED, "gpgme: cannot set up a context");
	}
	gpgme_set_armor(h->ctx, 1);
	gpgme_set_offline(h->ctx, 1);
	*out = h;
	return 0;
}

int pgp_home_new(struct pgp_home **out, struct err_ctx *err)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 64)
		tmp = "/tmp";
	return pgp_home_new_in(tmp, out, err);
}

int pgp_home_import(struct pgp_home *h, const uint8_t *key, size_t n, size_t *nsecret,
		    struct err_ctx *err)
{
	gpgme_data_t d = NULL;
	gpgme_import_result_t r;
	gpgme_error_t ge;

	if (n > PGP_MAX_KEYFILE)
		return err_set(err, ERR_TOOBIG, "pgp: key file too large");
	if (gpgme_data_new_from_mem(&d, (const char *)key, n, 0) != 0)
		return ERR_NOMEM;
	ge = gpgme_op_import(h->ctx, d);
	gpgme_data_release(d);
	if (ge != 0)
		return err_set(err, ERR_INVAL, "pgp: key import failed: %s", gpgme_strerror(ge));
	r = gpgme_op_import_result(h->ctx);
	if (r == NULL || (r->imported == 0 && r->secret_imported == 0 && r->unchanged == 0 &&
			  r->secret_unchanged == 0))
		return err_set(err, ERR_INVAL, "pgp: no key could be imported");
	if (nsecret != NULL)
		*nsecret = (size_t)(r->secret_imported + r->secret_unchanged);
	return 0;
}

struct pgp_sink {
	struct secbuf *s;
	int overflow; /* the plaintext passed the cap */
};

/* gpgme writes the plaintext through this callback straight into a secbuf. */
static ssize_t sink_write(void *handle, const void *buf, size_t size)
{
	struct pgp_sink *k = handle;

	if (secbuf_put(k->s, buf, size) != 0) {
		k->overflow = 1;
		errno = EFBIG;
		return -1;
	}
	return (ssize_t)size;
}

int pgp_home_decrypt(struct pgp_home *h, const char *msg, size_t n, struct secbuf **out,
		     struct err_ctx *err)
{
	return pgp_home_decrypt_max(h, msg, n, PGP_MAX_PLAINTEXT, out, err);
}

int pgp_home_decrypt_max(struct pgp_home *h, const char *msg, size_t n, size_t max,
			 struct secbuf **out, struct err_ctx *err)
{
	struct gpgme_data_cbs cbs = {NULL, sink_write, NULL, NULL};
	gpgme_data_t in = NULL, pt = NULL;
	struct pgp_sink sink = {NULL, 0};
	struct secbuf *s = NULL;
	gpgme_error_t ge;
	int rc;

	if (n == 0 || n > PGP_MAX_MESSAGE)
		return err_set(err, ERR_INVAL, "pgp: message empty or too large");
	if (max == 0 || max > PGP_MAX_PLAINTEXT)
		return err_set(err, ERR_INVAL, "pgp: bad plaintext cap");
	if ((rc = secbuf_new(&s, max)) != 0)
		return rc;
	sink.s = s;
	if (gpgme_data_new_from_mem(&in, msg, n, 0) != 0 ||
	    gpgme_data_new_from_cbs(&pt, &cbs, &sink) != 0) {
		rc = ERR_NOMEM;
		goto out;
	}
	ge = gpgme_op_decrypt(h->ctx, in, pt);
	if (sink.overflow) {
		rc = err_set(err, ERR_TOOBIG, "pgp: plaintext longer than %zu bytes refused", max);
		goto out;
	}
	if (gpgme_err_code(ge) == GPG_ERR_NO_SECKEY) {
		rc = err_set(err, ERR_NOKEY, "pgp: no secret key for this message");
		goto out;
	}
	if (ge != 0) {
		rc = err_set(err, ERR_CRYPTO, "pgp: decryption failed: %s", gpgme_strerror(ge));
		goto out;
	}
	if (s->len == 0) {
		rc = err_set(err, ERR_CRYPTO, "pgp: decryption produced no data");
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	gpgme_data_release(in);
	gpgme_data_release(pt);
	secbuf_free(s);
	return rc;
}

int pgp_home_encrypt(struct pgp_home *h, const char *fpr, const uint8_t *data, size_t n,
		     char **armored, struct err_ctx *err)
{
	gpgme_key_t keys[2] = {NULL, NULL};
	gpgme_data_t in = NULL, ct = NULL;
	gpgme_error_t ge;
	char *p, *r;
	size_t len = 0;
	int rc;

	if ((ge = gpgme_get_key(h->ctx, fpr, &keys[0], 0)) != 0)
		return err_set(err, ERR_NOKEY, "pgp: public key %.64s not found", fpr);
	if (gpgme_data_new_from_mem(&in, (const char *)data, n, 0) != 0 ||
	    gpgme_data_new(&ct) != 0) {
		rc = ERR_NOMEM;
		goto out;
	}
	ge = gpgme_op_encrypt(h->ctx, keys,
			      GPGME_ENCRYPT_ALWAYS_TRUST | GPGME_ENCRYPT_NO_ENCRYPT_TO, in, ct);
	if (ge != 0) {
		rc = err_set(err, ERR_CRYPTO, "pgp: encryption to %.64s failed: %s", fpr,
			     gpgme_strerror(ge));
		goto out;
	}
	p = gpgme_data_release_and_get_mem(ct, &len);
	ct = NULL;
	if (p == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	r = xstrndup(p, len);
	gpgme_free(p);
	if (r == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	*armored = r;
	rc = 0;
out:
	gpgme_data_release(in);
	gpgme_data_release(ct);
	gpgme_key_unref(keys[0]);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : 0;
	(void)unlink(path);
	return 0;
}

/* gpgconf --homedir DIR --kill gpg-agent: the agent gpg started for this home only. */
static void kill_agent(const char *dir)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execlp("gpgconf", "gpgconf", "--homedir", dir, "--kill", "gpg-agent", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		(void)waitpid(pid, &st, 0);
}

void pgp_home_free(struct pgp_home *h)
{
	if (h == NULL)
		return;
	if (h->ctx != NULL)
		gpgme_release(h->ctx);
	if (h->dir[0] != '\0') {
		kill_agent(h->dir);
		(void)nftw(h->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	free(h);
}
