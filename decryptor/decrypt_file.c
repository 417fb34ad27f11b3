/* decrypt_file.c — SOPS or passthrough, per file. */
#include "decryptor/decrypt_file.h"

#include "decryptor/raw.h"
#include "decryptor/sops/sops.h"

int decrypt_file_open(void *arg, const struct tree_file *f, struct secbuf **plain,
		      bool *encrypted, struct err_ctx *err)
{
	const struct decrypt_file_ctx *ctx = arg;
	struct secbuf *out = NULL;
	int rc;

	if (!sops_is_encrypted(f->path, f->data, f->size))
		return raw_open_plain(NULL, f, plain, encrypted, err);
	if (ctx == NULL || ctx->kr == NULL)
		return err_set(err, ERR_NOKEY,
			       "%s: SOPS-encrypted, but the decryptor was started without keys "
			       "(--keys DIR)",
			       f->path);
	rc = sops_decrypt(ctx->kr, ctx->ns, f->path, f->data, f->size, &out, err);
	if (rc != 0)
		return rc;
	*plain = out;
	*encrypted = true;
	return 0;
}
