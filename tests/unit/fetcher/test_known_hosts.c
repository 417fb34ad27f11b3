/* test_known_hosts.c — SSH host key checks against known_hosts text (keys and the hashed
 * line made by the real ssh-keygen; fingerprint as `ssh-keygen -lf` prints it). */
#include <stdio.h>
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <string.h>

#include "fetcher/known_hosts.h"

#define K1 "AAAAC3NzaC1lZDI1NTE5AAAAIGS12Sn30N9e06HXbBkQ7On6AxY5DwZdqNT1xq+wTw1w"
#define K2 "AAAAC3NzaC1lZDI1NTE5AAAAIGZBG5xIg3Uyg35ainf8q7Ls/cBlls4kzPLWs8zNj6Ei"
#define K1_FP "SHA256:DW1Tn3EMJnz3HFzgUbriBg8+WTa4At48vZiJuATa7PI"
/* `ssh-keygen -H` of "[git.example.com]:2222 ssh-ed25519 K1" */
#define HASHED "|1|XAqHaedtHwKHAdEvoH9PmHbtLlI=|OOq25882ssQtv+14Kql1JFVx9VQ= ssh-ed25519 " K1

static size_t blob(const char *b64, unsigned char *out)
{
	int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)strlen(b64));

	cr_assert_gt(n, 0);
	return (size_t)n; /* no padding in these keys */
}

static int check(const char *text, const char *host, int port, const char *key, char *msg)
{
	unsigned char b[256];
	size_t n = blob(key, b);
	struct err_ctx err = {{0}};
	int rc = known_hosts_check(text, host, port, b, n, &err);

	if (msg != NULL)
		snprintf(msg, sizeof(err.msg), "%s", err.msg); /* msg holds sizeof(err.msg) */
	return rc;
}

Test(known_hosts, fingerprint_as_ssh_keygen)
{
	unsigned char b[256];
	size_t n = blob(K1, b);
	char fp[64];

	cr_assert_eq(known_hosts_fingerprint(b, n, fp, sizeof(fp)), 0);
	cr_assert_str_eq(fp, K1_FP);
}

Test(known_hosts, plain_host_port_22_and_bracketed_port)
{
	const char *kh = "# comment\n\ngit.example.com ssh-ed25519 " K1 "\n"
			 "[127.0.0.1]:2222 ssh-ed25519 " K2 " test key\n";

	cr_assert_eq(check(kh, "git.example.com", 22, K1, NULL), 0);
	cr_assert_eq(check(kh, "GIT.Example.COM", 22, K1, NULL), 0);
	cr_assert_eq(check(kh, "127.0.0.1", 2222, K2, NULL), 0);
	/* the same host on another port is another entry */
	cr_assert_eq(check(kh, "127.0.0.1", 22, K2, NULL), ERR_PERM);
	cr_assert_eq(check(kh, "git.example.com", 2222, K1, NULL), ERR_PERM);
}

Test(known_hosts, other_key_is_refused_with_fingerprint)
{
	char msg[512];

	cr_assert_eq(check("git.example.com ssh-ed25519 " K2 "\n", "git.example.com", 22, K1, msg),
		     ERR_PERM);
	cr_assert(strstr(msg, "does not match") != NULL, "%s", msg);
	cr_assert(strstr(msg, K1_FP) != NULL, "%s", msg);
	cr_assert(strstr(msg, "ssh-ed25519") != NULL, "%s", msg);
}

Test(known_hosts, unknown_host_and_empty_text)
{
	char msg[512];

	cr_assert_eq(check("other.example.com ssh-ed25519 " K1 "\n", "git.example.com", 22, K1,
			   msg),
		     ERR_PERM);
	cr_assert(strstr(msg, "unknown") != NULL, "%s", msg);
	cr_assert(strstr(msg, "git.example.com") != NULL, "%s", msg);
	cr_assert_eq(check(NULL, "git.example.com", 22, K1, msg), ERR_PERM);
	cr_assert(strstr(msg, "no known_hosts") != NULL, "%s", msg);
	cr_assert_eq(check("", "git.example.com", 22, K1, NULL), ERR_PERM);
}

Test(known_hosts, hashed_names)
{
	cr_assert_eq(check(HASHED "\n", "git.example.com", 2222, K1, NULL), 0);
	cr_assert_eq(check(HASHED "\n", "git.example.com", 22, K1, NULL), ERR_PERM);
	cr_assert_eq(check(HASHED "\n", "git.example.org", 2222, K1, NULL), ERR_PERM);
}

Test(known_hosts, patterns_wildcards_negation_lists)
{
	const char *kh = "*.example.com,!evil.example.com ssh-ed25519 " K1 "\n"
			 "a.test,b.test ssh-ed25519 " K2 "\n";

	cr_assert_eq(check(kh, "git.example.com", 22, K1, NULL), 0);
	cr_assert_eq(check(kh, "evil.example.com", 22, K1, NULL), ERR_PERM);
	cr_assert_eq(check(kh, "b.test", 22, K2, NULL), 0);
	cr_assert_eq(check(kh, "c.test", 22, K2, NULL), ERR_PERM);
}

Test(known_hosts, revoked_wins_and_cert_authority_ignored)
{
	char msg[512];
	const char *kh = "git.example.com ssh-ed25519 " K1 "\n"
			 "@revoked git.example.com ssh-ed25519 " K1 "\n";

	cr_assert_eq(check(kh, "git.example.com", 22, K1, msg), ERR_PERM);
	cr_assert(strstr(msg, "revoked") != NULL, "%s", msg);
	cr_assert_eq(check("@cert-authority git.example.com ssh-ed25519 " K1 "\n",
			   "git.example.com", 22, K1, NULL),
		     ERR_PERM);
}

Test(known_hosts, malformed_lines_skipped_crlf_accepted)
{
	const char *kh = "git.example.com ssh-ed25519 !!notbase64!!\n"
			 "git.example.com\n"
			 "git.example.com ssh-ed25519 " K1 "\r\n";

	cr_assert_eq(check(kh, "git.example.com", 22, K1, NULL), 0);
}

Test(known_hosts, limits)
{
	static char big[KNOWN_HOSTS_MAX_TEXT + 2];

	memset(big, '#', sizeof(big) - 1);
	cr_assert_eq(check(big, "git.example.com", 22, K1, NULL), ERR_INVAL);
	cr_assert_eq(check("", "", 22, K1, NULL), ERR_INVAL);
	cr_assert_eq(check("", "h", 0, K1, NULL), ERR_INVAL);
}
