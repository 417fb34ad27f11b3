/* naming.h — remote names of secrets and configs (reference-controller.md §2.8).
 *
 * name = join with '-' of [prefix if non-empty, key, suffix with its leading '-'s stripped
 * if non-empty], then the reference sanitising:
 *   '.', '/', ' ' and every code point that is not alphanumeric, '-' or '_' → '_'
 *   (one '_' per code point); runs of '-' collapse to one; leading/trailing '-' trimmed;
 *   case kept.
 * then the provider's own rule:
 *   local, gcp  [A-Za-z0-9_-], at most 255 bytes
 *   aws         the reference output unchanged (a subset of AWS's set), at most 512 bytes
 *   azure       [0-9A-Za-z-], at most 127 bytes: '_' → '-', then runs of '-' collapse and
 *               leading/trailing '-' are trimmed again
 *
 * Unicode decision: the reference keeps Unicode alphanumerics (é, ß, 名), but none of the
 * stores accepts them (GCP and Azure allow ASCII only, AWS Secrets Manager allows ASCII
 * letters, digits and /_+=.@-; the local store mirrors GCP so a local run predicts a cloud
 * one). A key whose name would keep a non-ASCII alphanumeric is therefore refused with
 * ERR_INVAL naming the key, for every provider, instead of failing later at the cloud.
 * Non-ASCII code points that are not alphanumeric (symbols, emoji, punctuation) become '_'
 * exactly as in the reference. "Alphanumeric" for non-ASCII is glibc's iswalnum in the
 * C.UTF-8 locale (close to, not identical with, Rust's char::is_alphanumeric: glibc does
 * not count some "No" numbers such as '²' as alphanumeric); when that locale cannot be
 * loaded every non-ASCII code point counts as alphanumeric, so the key is refused rather
 * than given a name that could differ from the reference. */
#ifndef SMC_NAMING_H
#define SMC_NAMING_H

#include "common/err.h"

#define NAMING_MAX_INPUT 4096  /* prefix + key + suffix bytes accepted before sanitising */
#define NAMING_MAX_LOCAL 255
#define NAMING_MAX_GCP 255
#define NAMING_MAX_AWS 512
#define NAMING_MAX_AZURE 127

/* Loads the locale used to classify non-ASCII code points. Optional: the first
 * naming_remote_name call does it lazily; a sandboxed process calls it before its sandbox
 * closes the file system. Returns 0, or ERR_NOTFOUND when the locale is unavailable (the
 * conservative fallback described above is then used). */
int naming_init(void);

/* The remote name of key for provider_kind ("local", "gcp", "aws", "azure"). prefix and
 * suffix may be NULL or "". Owned out-parameter *out (free()). ERR_INVAL (err names the
 * key) for invalid UTF-8, an empty result, a kept non-ASCII alphanumeric or a name longer
 * than the provider allows; ERR_UNSUPPORTED for an unknown provider kind. */
int naming_remote_name(const char *provider_kind, const char *prefix, const char *key,
		       const char *suffix, char **out, struct err_ctx *err);

#endif
