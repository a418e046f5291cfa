/*
 * factdiff.c — see factdiff.h. Each side is indexed once (an array of
 * pointers sorted by key) and the other side looks its keys up by binary
 * search, so two lists of a hundred thousand threads' states still compare
 * in a blink.
 */
#include "factdiff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int64_t magnitude(const struct factdiff_change *c)
{
	int64_t d = c->b - c->a;
	return d < 0 ? -d : d;
}

static int by_magnitude(const void *x, const void *y)
{
	int64_t mx = magnitude(x), my = magnitude(y);
	if (mx != my)
		return mx < my ? 1 : -1;
	return strcmp(((const struct factdiff_change *)x)->key,
		      ((const struct factdiff_change *)y)->key);
}

static int by_key(const void *x, const void *y)
{
	return strcmp((*(const struct fact *const *)x)->key, (*(const struct fact *const *)y)->key);
}

/* list's entries by key: an array of list->count pointers (NULL: -ENOMEM
 * unless the list is empty, then a valid 1-slot array). */
static const struct fact **index_of(const struct fact_list *list)
{
	const struct fact **index = calloc(list->count + 1, sizeof *index);
	if (!index)
		return NULL;
	for (size_t i = 0; i < list->count; i++)
		index[i] = &list->items[i];
	qsort(index, list->count, sizeof *index, by_key);
	return index;
}

static const struct fact *lookup(const struct fact **index, size_t count, const char *key)
{
	struct fact probe = {.key = (char *)key};
	const struct fact *want = &probe;
	const struct fact **hit = bsearch(&want, index, count, sizeof *index, by_key);
	return hit ? *hit : NULL;
}

int factdiff_compare(const struct fact_list *a, const struct fact_list *b, struct factdiff *out)
{
	*out = (struct factdiff){0};
	const struct fact **index_a = index_of(a), **index_b = index_of(b);
	out->items = calloc(a->count + b->count + 1, sizeof *out->items);
	if (!index_a || !index_b || !out->items) {
		free(out->items);
		out->items = NULL;
		free(index_a);
		free(index_b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->count; i++) {
		const struct fact *x = &a->items[i], *y = lookup(index_b, b->count, x->key);
		out->items[out->count++] = (struct factdiff_change){
		    .key = x->key,
		    .label = y ? y->label : x->label,
		    .a = x->ns,
		    .b = y ? y->ns : 0,
		    .id_a = x->id,
		    .id_b = y ? y->id : -1,
		    .in_a = true,
		    .in_b = y != NULL,
		};
	}
	for (size_t i = 0; i < b->count; i++) {
		const struct fact *y = &b->items[i];
		if (lookup(index_a, a->count, y->key))
			continue;
		out->items[out->count++] = (struct factdiff_change){.key = y->key,
								    .label = y->label,
								    .b = y->ns,
								    .id_a = -1,
								    .id_b = y->id,
								    .in_b = true};
	}
	qsort(out->items, out->count, sizeof *out->items, by_magnitude);
	free(index_a);
	free(index_b);
	return 0;
}

void factdiff_free(struct factdiff *diff)
{
	free(diff->items);
	*diff = (struct factdiff){0};
}
