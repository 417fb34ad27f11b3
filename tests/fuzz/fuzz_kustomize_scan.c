/* fuzz_kustomize_scan.c — libFuzzer target for decryptor/kustomize_scan.c. The input is the
 * overlay's kustomization in a small tree (a base with its own kustomization, a resource,
 * a generator input). Any input must give either a refusal with one of the documented codes
 * and a message naming a kustomization file of the tree, with the output untouched, or a
 * result whose every reference is a file of the tree; the same input must scan the same
 * way twice. */
/* FUZZ_LINK: decryptor */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decryptor/kustomize_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int add(struct tree *t, const char *path, const char *text)
{
	return tree_add(t, path, text, strlen(text), 0644);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kustomize_scan s, again;
	struct err_ctx err = {{0}};
	struct tree t;
	int rc, rc2;

	tree_init(&t);
	if (add(&t, "base/kustomization.yaml", "resources: [secret.yaml]\n") != 0 ||
	    add(&t, "base/secret.yaml", "apiVersion: v1\nkind: Secret\n") != 0 ||
	    add(&t, "o/app.env", "a=b\n") != 0 || add(&t, "o/p.yaml", "x: y\n") != 0 ||
	    tree_add(&t, "o/kustomization.yaml", data, size, 0644) != 0) {
		tree_free(&t);
		return 0;
	}
	memset(&s, 0x5a, sizeof(s));
	rc = kustomize_scan_run(&t, "o", &s, &err);
	if (rc != 0) {
		if (!(rc == ERR_NOMEM || rc == ERR_INVAL || rc == ERR_PERM || rc == ERR_TOOBIG ||
		      rc == ERR_NOTFOUND))
			abort();
		if (s.nkust != (size_t)0x5a5a5a5a5a5a5a5aULL)
			abort();
		if (strncmp(err.msg, "o/kustomization.yaml", 20) != 0 &&
		    strncmp(err.msg, "base/kustomization.yaml", 23) != 0 &&
		    strncmp(err.msg, "o/", 2) != 0 && strncmp(err.msg, "base/", 5) != 0 &&
		    strncmp(err.msg, "./", 2) != 0 && strncmp(err.msg, ".:", 2) != 0)
			abort();
	} else {
		if (s.nkust == 0 || strcmp(s.kustomizations[0], "o/kustomization.yaml") != 0)
			abort();
		for (size_t i = 0; i < s.nrefs; i++) {
			if (tree_find(&t, s.refs[i].path) == NULL)
				abort();
		}
	}
	rc2 = kustomize_scan_run(&t, "o", &again, NULL);
	if (rc2 != rc)
		abort();
	if (rc == 0) {
		if (again.nrefs != s.nrefs || again.nkust != s.nkust)
			abort();
		kustomize_scan_free(&again);
		kustomize_scan_free(&s);
	}
	tree_free(&t);
	return 0;
}
