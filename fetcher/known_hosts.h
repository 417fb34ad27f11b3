/* known_hosts.h — SSH host key verification against OpenSSH known_hosts text.
 *
 * The text comes with the job (cluster mode: the repository Secret's `sshKnownHosts`
 * field, else the `ssh_known_hosts` key of the ConfigMap argocd-ssh-known-hosts-cm in the
 * Argo namespace, as ArgoCD itself keeps them). Lines: "[@revoked] patterns keytype base64
 * [comment]"; patterns are comma-separated host names, "[host]:port" for a port other
 * than 22, '*'/'?' wildcards, "!negation", and hashed "|1|salt|hmac" names (HashKnownHosts).
 * "@cert-authority" lines are ignored (no CA-signed host keys). Blank lines, comments and
 * malformed lines are skipped. */
#ifndef SMC_FETCHER_KNOWN_HOSTS_H
#define SMC_FETCHER_KNOWN_HOSTS_H

#include <stddef.h>

#include "common/err.h"

#define KNOWN_HOSTS_MAX_TEXT ((size_t)16 << 10) /* = MSG_MAX_KNOWN_HOSTS */
#define KNOWN_HOSTS_MAX_LINE 8192		 /* longer lines are skipped */
#define KNOWN_HOSTS_MAX_KEY 2048		 /* bytes of one decoded host key */

/* Checks the server's host key (the SSH wire blob: string type, then the key data, as
 * libssh2 gives it and as known_hosts holds it in base64) for host and port.
 * 0 when a line for the host lists exactly this key. Otherwise ERR_PERM with err saying
 * which: no known_hosts at all, the host is not listed, it is listed with other keys only
 * (possible man-in-the-middle), or the key is @revoked; the message names the host and the
 * key's type and SHA256 fingerprint (OpenSSH's form), never anything secret.
 * ERR_INVAL for a text or host over the limits. text may be NULL (= empty). */
int known_hosts_check(const char *text, const char *host, int port, const unsigned char *key,
		      size_t keylen, struct err_ctx *err);

/* OpenSSH's fingerprint of a host key blob: "SHA256:<base64 without padding>" into buf
 * (at least 52 bytes). 0 or ERR_INVAL. */
int known_hosts_fingerprint(const unsigned char *key, size_t keylen, char *buf, size_t size);

#endif
