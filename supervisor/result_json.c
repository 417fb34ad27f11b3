/* result_json.c — RESULT → JSON summary. */
#include "supervisor/result_json.h"

static const char *const outcome_names[] = {"written", "unchanged", "pruned",
					    "refused", "failed",    "retained"};

static json_t *counts(const struct msg_result *r, enum item_kind kind)
{
	json_int_t n[6] = {0};
	json_t *o = json_object();

	for (size_t i = 0; i < r->nitems; i++) {
		if (r->items[i].kind == kind && r->items[i].outcome < 6)
			n[r->items[i].outcome]++;
	}
	for (size_t k = 0; o != NULL && k < 6; k++)
		json_object_set_new(o, outcome_names[k], json_integer(n[k]));
	return o;
}

json_t *result_json(const struct msg_result *r)
{
	json_t *o = json_object(), *items = json_array(), *files = json_array();

	if (o == NULL || items == NULL || files == NULL) {
		json_decref(o);
		json_decref(items);
		json_decref(files);
		return NULL;
	}
	json_object_set_new(o, "revision", json_string(r->revision ? r->revision : ""));
	json_object_set_new(o, "config", json_sprintf("%s/%s", r->ns ? r->ns : "",
						      r->name ? r->name : ""));
	json_object_set_new(o, "secrets", counts(r, ITEM_SECRET));
	json_object_set_new(o, "configs", counts(r, ITEM_CONFIG));
	for (size_t i = 0; i < r->nitems; i++) {
		const struct result_item *it = &r->items[i];
		json_t *j = json_pack("{s:s, s:s, s:s}", "name", it->name ? it->name : "", "kind",
				      it->kind == ITEM_SECRET ? "secret" : "config", "outcome",
				      it->outcome < 6 ? outcome_names[it->outcome] : "?");

		if (j == NULL)
			continue;
		if (it->key)
			json_object_set_new(j, "key", json_string(it->key));
		if (it->reason)
			json_object_set_new(j, "reason", json_string(it->reason));
		json_array_append_new(items, j);
	}
	json_object_set_new(o, "items", items);
	for (size_t i = 0; i < r->nfiles; i++) {
		json_array_append_new(files, json_pack("{s:s, s:b, s:i}", "path", r->files[i].path,
						       "encrypted", r->files[i].encrypted, "keys",
						       (json_int_t)r->files[i].count));
	}
	json_object_set_new(o, "files", files);
	if (r->code != 0) {
		json_object_set_new(o, "error",
				    json_pack("{s:s, s:s, s:i}", "stage", r->stage ? r->stage : "",
					      "reason", r->reason ? r->reason : "", "code",
					      (json_int_t)r->code));
	}
	return o;
}
