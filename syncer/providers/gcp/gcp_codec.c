/* gcp_codec.c — CRC32C, base64, JSON wiping and the ownership marks (see gcp_codec.h). */
#include "syncer/providers/gcp/gcp_codec.h"

#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/str.h"
#include "syncer/provider.h"

uint32_t gcp_crc32c(const void *p, size_t n)
{
	static uint32_t table[256];
	static int ready;
	const uint8_t *b = p;
	uint32_t c = 0xFFFFFFFFu;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = (v & 1) ? (v >> 1) ^ 0x82F63B78u : v >> 1;
			table[i] = v;
		}
		ready = 1;
	}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ b[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

int gcp_label_value(const char *text, char out[GCP_LABEL_MAX + 1])
{
	size_t n = strlen(text), i;

	for (i = 0; i < n && i < GCP_LABEL_MAX; i++) {
		char ch = text[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		      ch == '-'))
			ch = '_';
		out[i] = ch;
	}
	out[i] = '\0';
	if (n > GCP_LABEL_MAX) {
		uint8_t md[32];
		unsigned int mdlen = 0;

		if (EVP_Digest(text, n, md, &mdlen, EVP_sha256(), NULL) != 1)
			return ERR_CRYPTO;
		str_fmt(out + 54, GCP_LABEL_MAX + 1 - 54, "-%02x%02x%02x%02x", md[0], md[1], md[2],
			md[3]);
	}
	return 0;
}

int gcp_owner_labels_merge(json_t *labels, const char *ns, const char *name, const char *kind)
{
	char lns[GCP_LABEL_MAX + 1], lname[GCP_LABEL_MAX + 1];

	if (gcp_label_value(ns, lns) != 0 || gcp_label_value(name, lname) != 0)
		return ERR_CRYPTO;
	if (json_object_set_new(labels, PROVIDER_MANAGED_BY_KEY,
				json_string(PROVIDER_MANAGED_BY_VALUE)) != 0 ||
	    json_object_set_new(labels, GCP_LABEL_OWNER_NS, json_string(lns)) != 0 ||
	    json_object_set_new(labels, GCP_LABEL_OWNER_NAME, json_string(lname)) != 0 ||
	    json_object_set_new(labels, GCP_LABEL_KIND, json_string(kind)) != 0)
		return ERR_NOMEM;
	return 0;
}

json_t *gcp_owner_labels(const char *ns, const char *name, const char *kind)
{
	json_t *l = json_object();

	if (l != NULL && gcp_owner_labels_merge(l, ns, name, kind) != 0) {
		json_decref(l);
		return NULL;
	}
	return l;
}

int gcp_owner_check(json_t *obj, const char *ns, const char *name, char *other, size_t osz)
{
	json_t *labels = json_object_get(obj, "labels");
	const char *mb = json_string_value(json_object_get(labels, PROVIDER_MANAGED_BY_KEY));
	const char *ann = json_string_value(
	    json_object_get(json_object_get(obj, "annotations"), PROVIDER_OWNER_KEY));
	const char *lns = json_string_value(json_object_get(labels, GCP_LABEL_OWNER_NS));
	const char *lname = json_string_value(json_object_get(labels, GCP_LABEL_OWNER_NAME));
	char ens[GCP_LABEL_MAX + 1], ename[GCP_LABEL_MAX + 1];

	if (mb == NULL || strcmp(mb, PROVIDER_MANAGED_BY_VALUE) != 0)
		return 0;
	if (ann != NULL) {
		size_t a = strlen(ns);

		if (strncmp(ann, ns, a) == 0 && ann[a] == '/' && strcmp(ann + a + 1, name) == 0)
			return 1;
		str_fmt(other, osz, "%s", ann);
		return -1;
	}
	if (gcp_label_value(ns, ens) != 0 || gcp_label_value(name, ename) != 0)
		return -1;
	if (lns != NULL && lname != NULL && strcmp(lns, ens) == 0 && strcmp(lname, ename) == 0)
		return 1;
	str_fmt(other, osz, "%s/%s", lns ? lns : "?", lname ? lname : "?");
	return -1;
}

const char *gcp_owner_kind(json_t *obj)
{
	const char *k =
	    json_string_value(json_object_get(json_object_get(obj, "labels"), GCP_LABEL_KIND));

	return k != NULL && strcmp(k, "config") == 0 ? "config" : "secret";
}
