/* test_gcp_codec.c — the GCP provider's encodings: CRC32C against published vectors and the
 * values gcloud sent, label-value encoding of the owner, and
 * the ownership check on Secret/Parameter objects (ours, unmarked, another config's). */
#include <criterion/criterion.h>
#include <string.h>

#include <jansson.h>

#include "common/secbuf.h"
#include "syncer/provider.h"
#include "syncer/providers/gcp/gcp_codec.h"
#include "syncer/providers/gcp/gcp_secrets.h"

Test(gcp_codec, crc32c_vectors)
{
	static const uint8_t zeros[32] = {0};
	uint8_t ones[32], inc[32];

	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	cr_assert_eq(gcp_crc32c("123456789", 9), 0xE3069283u);
	cr_assert_eq(gcp_crc32c("", 0), 0u);
	/* RFC 3720 (iSCSI) appendix B.4 */
	cr_assert_eq(gcp_crc32c(zeros, 32), 0x8A9136AAu);
	cr_assert_eq(gcp_crc32c(ones, 32), 0x62A8AB43u);
	cr_assert_eq(gcp_crc32c(inc, 32), 0x46DD794Eu);
	/* what gcloud sent as dataCrc32c (wire doc §2.2) */
	cr_assert_eq(gcp_crc32c("hunter2", 7), 1736498283u);
}

Test(gcp_codec, label_values)
{
	char v[GCP_LABEL_MAX + 1], w[GCP_LABEL_MAX + 1];
	char longname[200];

	cr_assert_eq(gcp_label_value("demo", v), 0);
	cr_assert_str_eq(v, "demo");
	cr_assert_eq(gcp_label_value("My.App-1_x", v), 0);
	cr_assert_str_eq(v, "my_app-1_x");
	memset(longname, 'a', 120);
	longname[120] = '\0';
	cr_assert_eq(gcp_label_value(longname, v), 0);
	cr_assert_eq(strlen(v), 63);
	cr_assert_eq(v[54], '-');
	longname[119] = 'b'; /* same first 54 characters, another hash */
	cr_assert_eq(gcp_label_value(longname, w), 0);
	cr_assert_eq(strlen(w), 63);
	cr_assert_str_neq(v, w);
}

Test(gcp_codec, owner_labels_and_check)
{
	json_t *l = gcp_owner_labels("demo", "my.config", "config");
	json_t *obj = json_pack("{s:O}", "labels", l);
	char other[200];

	cr_assert_not_null(l);
	cr_assert_str_eq(json_string_value(json_object_get(l, "managed-by")),
			 "secret-manager-controller");
	cr_assert_str_eq(json_string_value(json_object_get(l, "owner-namespace")), "demo");
	cr_assert_str_eq(json_string_value(json_object_get(l, "owner-name")), "my_config");
	cr_assert_str_eq(json_string_value(json_object_get(l, "item-kind")), "config");
	cr_assert_str_eq(gcp_owner_kind(obj), "config");
	/* by labels (no annotation: Parameter Manager) */
	cr_assert_eq(gcp_owner_check(obj, "demo", "my.config", other, sizeof(other)), 1);
	cr_assert_eq(gcp_owner_check(obj, "demo", "other", other, sizeof(other)), -1);
	cr_assert_str_eq(other, "demo/my_config");
	/* the annotation, when present, decides exactly ('.' and '/' kept) */
	json_object_set_new(obj, "annotations", json_pack("{s:s}", "owner", "demo/my.config"));
	cr_assert_eq(gcp_owner_check(obj, "demo", "my.config", other, sizeof(other)), 1);
	cr_assert_eq(gcp_owner_check(obj, "demo", "my_config", other, sizeof(other)), -1);
	cr_assert_str_eq(other, "demo/my.config");
	/* unmarked */
	json_object_del(l, "managed-by");
	json_object_set_new(obj, "labels", json_pack("{s:s}", "team", "x"));
	cr_assert_eq(gcp_owner_check(obj, "demo", "my.config", other, sizeof(other)), 0);
	cr_assert_str_eq(gcp_owner_kind(obj), "secret");
	json_decref(obj);
	json_decref(l);
}

Test(gcp_codec, secret_ids)
{
	char n[300];

	cr_assert(gcp_secrets_valid_name("inventory-API_TOKEN"));
	cr_assert_not(gcp_secrets_valid_name(""));
	cr_assert_not(gcp_secrets_valid_name("a.b"));
	cr_assert_not(gcp_secrets_valid_name("a/b"));
	memset(n, 'x', 255);
	n[255] = '\0';
	cr_assert(gcp_secrets_valid_name(n));
	n[255] = 'x';
	n[256] = '\0';
	cr_assert_not(gcp_secrets_valid_name(n));
}
