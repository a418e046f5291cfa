/*
 * skipped: the files of the served directories that are not traces weftd
 * can serve, each with why, so that a rescan does not open them again
 * until they change and the trace list can show them as broken.
 *
 * A file is known by its path and a key of what changes when it is
 * written: device, inode, size and mtime of the file and of its -wal
 * beside it (a recording writes to the -wal first). A rescan that finds
 * the same key skips the file without opening it; a new key means try
 * again. The caller serialises every call (the trace set's lock).
 */
#ifndef WEFT_SKIPPED_H
#define WEFT_SKIPPED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* What a rescan compares. */
struct skipped_key {
	dev_t dev;
	ino_t ino;
	off_t size, wal_size;
	struct timespec mtime, wal_mtime;
};

struct skipped;

struct skipped *skipped_new(void);
void skipped_free(struct skipped *s);

/* Fills key for path: 0, or -errno when path cannot be stat'ed (then
 * it is gone). */
int skipped_key_of(const char *path, struct skipped_key *key);

/* Whether path was skipped with exactly this key (so: skip it again). */
int skipped_same(const struct skipped *s, const char *path, const struct skipped_key *key);

/* Whether the file looks like a trace being created (empty, or a -wal
 * or -journal beside it): then it is skipped quietly, neither logged
 * nor listed, until it changes. */
int skipped_in_progress(const char *path, const struct skipped_key *key);

/* Remembers that path (with key) was skipped for error (quietly when
 * in_progress). Returns 1 when that is news to tell (a new file, or a new
 * reason, not in progress: worth a log line), 0 when not, -ENOMEM. */
int skipped_put(struct skipped *s, const char *path, const struct skipped_key *key,
		const char *error, int in_progress);

/* Forgets path (it became a trace, or it is gone). */
void skipped_remove(struct skipped *s, const char *path);

/* Forgets every file that no longer exists. */
void skipped_prune(struct skipped *s);

/* Calls fn for each skipped file not in progress, in the order first
 * skipped. */
typedef void (*skipped_fn)(void *ctx, const char *path, const char *error, int64_t bytes);
void skipped_each(const struct skipped *s, skipped_fn fn, void *ctx);

#endif
