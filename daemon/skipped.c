/*
 * skipped: see skipped.h. A plain array: a served directory holds tens or
 * hundreds of files that are not traces, not millions.
 */
#include "skipped.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *path, *error;
	struct skipped_key key;
	int in_progress;
};

struct skipped {
	struct entry *e;
	size_t n, cap;
};

struct skipped *skipped_new(void)
{
	return calloc(1, sizeof(struct skipped));
}

static void entry_free(struct entry *e)
{
	free(e->path);
	free(e->error);
}

void skipped_free(struct skipped *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_free(&s->e[i]);
	free(s->e);
	free(s);
}

int skipped_key_of(const char *path, struct skipped_key *key)
{
	struct stat st, wal;
	char wal_path[PATH_MAX];
	memset(key, 0, sizeof(*key));
	if (stat(path, &st) < 0)
		return -errno;
	key->dev = st.st_dev;
	key->ino = st.st_ino;
	key->size = st.st_size;
	key->mtime = st.st_mtim;
	if (snprintf(wal_path, sizeof(wal_path), "%s-wal", path) < (int)sizeof(wal_path) &&
	    stat(wal_path, &wal) == 0) {
		key->wal_size = wal.st_size;
		key->wal_mtime = wal.st_mtim;
	}
	return 0;
}

static int same_key(const struct skipped_key *a, const struct skipped_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->wal_size == b->wal_size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec && a->wal_mtime.tv_sec == b->wal_mtime.tv_sec &&
	       a->wal_mtime.tv_nsec == b->wal_mtime.tv_nsec;
}

static struct entry *find(const struct skipped *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].path, path) == 0)
			return &s->e[i];
	return NULL;
}

int skipped_same(const struct skipped *s, const char *path, const struct skipped_key *key)
{
	const struct entry *e = find(s, path);
	return e && same_key(&e->key, key);
}

int skipped_in_progress(const char *path, const struct skipped_key *key)
{
	char other[PATH_MAX];
	struct stat st;
	if (key->size == 0 || key->wal_size > 0 || key->wal_mtime.tv_sec)
		return 1;
	return snprintf(other, sizeof(other), "%s-journal", path) < (int)sizeof(other) &&
	       stat(other, &st) == 0;
}

int skipped_put(struct skipped *s, const char *path, const struct skipped_key *key,
		const char *error, int in_progress)
{
	struct entry *e = find(s, path);
	if (e) {
		int was = e->in_progress;
		e->key = *key;
		e->in_progress = in_progress;
		if (strcmp(e->error, error) == 0)
			return !in_progress && was;
		char *copy = strdup(error);
		if (!copy)
			return -ENOMEM;
		free(e->error);
		e->error = copy;
		return !in_progress;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct entry *p = realloc(s->e, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->e = p;
		s->cap = cap;
	}
	e = &s->e[s->n];
	e->path = strdup(path);
	e->error = strdup(error);
	e->key = *key;
	e->in_progress = in_progress;
	if (!e->path || !e->error) {
		entry_free(e);
		return -ENOMEM;
	}
	s->n++;
	return !in_progress;
}

static void remove_at(struct skipped *s, size_t i)
{
	entry_free(&s->e[i]);
	memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof(s->e[0]));
	s->n--;
}

void skipped_remove(struct skipped *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].path, path) == 0) {
			remove_at(s, i);
			return;
		}
}

void skipped_prune(struct skipped *s)
{
	struct stat st;
	for (size_t i = 0; i < s->n;)
		if (stat(s->e[i].path, &st) < 0 && errno == ENOENT)
			remove_at(s, i);
		else
			i++;
}

void skipped_each(const struct skipped *s, skipped_fn fn, void *ctx)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->e[i].in_progress)
			fn(ctx, s->e[i].path, s->e[i].error, (int64_t)s->e[i].key.size);
}
