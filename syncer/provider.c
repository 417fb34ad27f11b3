/* provider.c — the table of providers, the ownership mark and the item report. */
#include "syncer/provider.h"

#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "syncer/providers/aws/provider_aws.h"
#include "syncer/providers/azure/provider_azure.h"
#include "syncer/providers/gcp/provider_gcp.h"
#include "syncer/providers/local/local_store.h"

/* Every provider the syncer can drive. A new provider adds its ops here. */
static const struct provider_ops *const provider_table[] = {
	&local_store_ops,
	&provider_aws,
	&provider_gcp,
	&provider_azure,
};

const struct provider_ops *provider_find(const char *kind)
{
	if (kind == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(provider_table) / sizeof(provider_table[0]); i++) {
		if (strcmp(provider_table[i]->kind, kind) == 0)
			return provider_table[i];
	}
	return NULL;
}

char *provider_owner(const struct job *job)
{
	const char *ns = job->config.ns ? job->config.ns : "";
	const char *name = job->config.name ? job->config.name : "";
	size_t a = strlen(ns), b = strlen(name), n;
	char *p;

	if (!size_add(a, b, &n) || !size_add(n, 2, &n))
		return NULL;
	p = malloc(n);
	if (p == NULL)
		return NULL;
	memcpy(p, ns, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b);
	p[a + 1 + b] = '\0';
	return p;
}

void report_init(struct report *r)
{
	r->items = NULL;
	r->n = r->cap = 0;
}

void report_free(struct report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].name);
		free(r->items[i].key);
		free(r->items[i].reason);
	}
	free(r->items);
	report_init(r);
}

int report_add(struct report *r, const char *name, const char *key, enum item_kind kind,
	       enum item_outcome outcome, const char *reason)
{
	struct result_item *it;

	if (r->n >= REPORT_MAX_ITEMS)
		return ERR_TOOBIG;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		struct result_item *p = xreallocarray(r->items, ncap, sizeof(*p));

		if (p == NULL)
			return ERR_NOMEM;
		r->items = p;
		r->cap = ncap;
	}
	it = &r->items[r->n];
	memset(it, 0, sizeof(*it));
	it->name = xstrdup(name ? name : "");
	it->key = key ? xstrdup(key) : NULL;
	it->reason = reason ? xstrdup(reason) : NULL;
	if (it->name == NULL || (key != NULL && it->key == NULL) ||
	    (reason != NULL && it->reason == NULL)) {
		free(it->name);
		free(it->key);
		free(it->reason);
		return ERR_NOMEM;
	}
	it->kind = (uint32_t)kind;
	it->outcome = (uint32_t)outcome;
	r->n++;
	return 0;
}

size_t report_count(const struct report *r, enum item_kind kind, enum item_outcome outcome)
{
	size_t c = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (r->items[i].kind == (uint32_t)kind && r->items[i].outcome == (uint32_t)outcome)
			c++;
	}
	return c;
}

const struct result_item *report_find(const struct report *r, enum item_kind kind,
				      const char *name)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->items[i].kind == (uint32_t)kind && strcmp(r->items[i].name, name) == 0)
			return &r->items[i];
	}
	return NULL;
}

int provider_refuses(const struct job *job, int own, const char *other, const char *mark,
		     char *reason, size_t n)
{
	if (own == -1) {
		(void)str_fmt(reason, n, "exists and is owned by %s", other);
		return 1;
	}
	if (own == 0 && !job->policy.adopt_existing) {
		(void)str_fmt(reason, n,
			      "exists without %s" PROVIDER_MANAGED_BY_KEY "=" PROVIDER_MANAGED_BY_VALUE
			      " (set adoptExisting to take it over)",
			      mark);
		return 1;
	}
	return 0;
}
