/*
 * trace: see trace.h.
 *
 * Locks, always taken in this order and never two of one kind:
 *   set->lock      the traces array and the directory list;
 *   t->timeline    rwlock over the lod tracks (writers: loading);
 *   t->coarse      rwlock over the summary (writers: reading it, freeing
 *                  it once the timeline is loaded);
 *   t->lock        the connection pool, the status and its generation,
 *                  the background loader's thread.
 * Loading the timeline takes t->timeline exclusively, then borrows a
 * connection (t->lock briefly); the first load then frees the summary
 * (t->coarse exclusively). A request answering from the summary holds
 * t->coarse shared and nothing else.
 *
 * Track arrays are indexed by id (utid, upid, cpu); ids at or above
 * MAX_TRACK_ID are not loaded (weft's ids count up from 1).
 */
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "skipped.h"
#include "tracestatus.h"

#define POOL_MAX 8
#define MAX_TRACK_ID (1 << 22)

struct trace {
	const atomic_int *stopping; /* the set's */
	char *id, *path, *file;
	pthread_mutex_t lock;
	sqlite3 *pool[POOL_MAX];
	int npool;
	int immutable; /* open as a file that cannot change (query_open) */
	dev_t dev;     /* the file the pool's connections read */
	ino_t ino;
	int polled;
	struct trace_info info;
	struct timespec mtime, wal_mtime;
	int64_t wal_bytes;

	pthread_rwlock_t timeline_lock;
	struct trace_timeline timeline;
	int loaded;
	uint64_t loaded_generation;
	int64_t last_rowid[4]; /* thread_state, process_state, sched_slice, flow */

	atomic_int loaded_once; /* the timeline was loaded (stays set) */
	atomic_int load_failed; /* the background load failed */
	pthread_t loader;	/* the background load (under lock) */
	int loader_started;	/* under lock */
	const char *hold_loads; /* the set's WEFTD_HOLD_LOADS */
	pthread_rwlock_t coarse_lock;
	struct coarse *coarse; /* under coarse_lock */
	int coarse_state;      /* 0: not read yet, 1: read, -1: none (or freed) */
};

struct trace_set {
	pthread_mutex_t lock;
	struct trace **traces;
	size_t n, cap;
	struct trace **gone; /* deleted files: out of the list, kept until freed */
	size_t ngone;
	struct skipped *skipped; /* files of the directories that are not traces */
	char **dirs;
	size_t ndirs;
	uint64_t generation;
	atomic_int stopping;
	char *hold_loads; /* WEFTD_HOLD_LOADS, or NULL */
};

struct trace_set *trace_set_new(void)
{
	struct trace_set *set = calloc(1, sizeof(*set));
	if (!set)
		return NULL;
	const char *hold = getenv("WEFTD_HOLD_LOADS");
	if (hold && *hold && !(set->hold_loads = strdup(hold))) {
		free(set);
		return NULL;
	}
	if (!(set->skipped = skipped_new())) {
		free(set->hold_loads);
		free(set);
		return NULL;
	}
	pthread_mutex_init(&set->lock, NULL);
	return set;
}

static void free_tracks(struct lod_track **tracks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lod_track_free(tracks[i]);
	free(tracks);
}

static void trace_free(struct trace *t)
{
	if (t->loader_started)
		pthread_join(t->loader, NULL);
	coarse_free(t->coarse);
	pthread_rwlock_destroy(&t->coarse_lock);
	for (int i = 0; i < t->npool; i++)
		sqlite3_close(t->pool[i]);
	free_tracks(t->timeline.threads, t->timeline.nthreads);
	free_tracks(t->timeline.processes, t->timeline.nprocesses);
	free_tracks(t->timeline.cpus, t->timeline.ncpus);
	flowsum_free(t->timeline.flows);
	pthread_mutex_destroy(&t->lock);
	pthread_rwlock_destroy(&t->timeline_lock);
	free(t->id);
	free(t->path);
	free(t->file);
	free(t);
}

void trace_set_free(struct trace_set *set)
{
	if (!set)
		return;
	trace_set_stop(set); /* a load in the background gives up */
	for (size_t i = 0; i < set->n; i++)
		trace_free(set->traces[i]);
	for (size_t i = 0; i < set->ngone; i++)
		trace_free(set->gone[i]);
	free(set->gone);
	skipped_free(set->skipped);
	for (size_t i = 0; i < set->ndirs; i++)
		free(set->dirs[i]);
	free(set->dirs);
	free(set->traces);
	free(set->hold_loads);
	pthread_mutex_destroy(&set->lock);
	free(set);
}

static int has_wal(const char *path)
{
	char wal[PATH_MAX];
	struct stat st;
	return snprintf(wal, sizeof(wal), "%s-wal", path) >= (int)sizeof(wal) ||
	       stat(wal, &st) == 0;
}

static int finished(const char *status)
{
	return strcmp(status, "complete") == 0 || strcmp(status, "incomplete") == 0 ||
	       strcmp(status, "interrupted") == 0;
}

/* Opens path read-only, immutable when the file cannot change any more:
 * no -wal beside it and its status says the recording ended (then
 * read-only directories and mounts work too). 0 with *db and *immutable,
 * or query_open's error. */
static int open_trace(const char *path, sqlite3 **db, int *immutable)
{
	*immutable = 0;
	if (!has_wal(path) && query_open(path, 1, db) == 0) {
		struct query_status st;
		int version;
		if (query_check_trace(*db, &version) == 0 && version <= QUERY_SCHEMA_VERSION &&
		    query_status(*db, &st) == 0 && finished(st.status)) {
			*immutable = 1;
			return 0;
		}
		sqlite3_close(*db);
	}
	return query_open(path, 0, db);
}

/* Checks that path is a weft trace this weftd can read; *immutable says
 * how to open it (open_trace). */
static int validate(const char *path, int *immutable, char *err, size_t errlen)
{
	sqlite3 *db;
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a weft trace (not a regular file)", path);
		return -ENOTSUP;
	}
	int rc = open_trace(path, &db, immutable);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	int version;
	rc = query_check_trace(db, &version);
	if (rc == 0 && version > QUERY_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s has schema version %d; this weftd reads up to %d", path,
			 version, QUERY_SCHEMA_VERSION);
		rc = -EPROTO;
	} else if (rc == -ENOTSUP) {
		snprintf(err, errlen, "%s is not a weft trace", path);
	} else if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
	}
	sqlite3_close(db);
	return rc;
}

static char *make_id(struct trace_set *set, const char *file)
{
	size_t len = strlen(file);
	if (len > 3 && strcmp(file + len - 3, ".db") == 0)
		len -= 3;
	if (len > 100)
		len = 100;
	char base[112];
	for (size_t i = 0; i < len; i++) {
		char c = file[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
		base[i] = ok ? c : '_';
	}
	base[len] = 0;
	if (len == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		snprintf(base, sizeof(base), "trace");
	char id[128];
	snprintf(id, sizeof(id), "%s", base);
	for (int k = 2;; k++) {
		int taken = 0;
		for (size_t i = 0; i < set->n && !taken; i++)
			taken = strcmp(set->traces[i]->id, id) == 0;
		if (!taken)
			break;
		snprintf(id, sizeof(id), "%s-%d", base, k);
	}
	return strdup(id);
}

/* Adds a validated file unless it is already served. Caller holds
 * set->lock. 1 if added, 0 if already there, -ENOMEM. */
static int add_locked(struct trace_set *set, const char *path, int immutable)
{
	char real[PATH_MAX];
	if (!realpath(path, real))
		return -errno;
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->traces[i]->path, real) == 0)
			return 0;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		struct trace **p = realloc(set->traces, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		set->traces = p;
		set->cap = cap;
	}
	struct trace *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	const char *slash = strrchr(real, '/');
	t->path = strdup(real);
	t->file = strdup(slash ? slash + 1 : real);
	t->id = t->file ? make_id(set, t->file) : NULL;
	if (!t->path || !t->file || !t->id) {
		free(t->path);
		free(t->file);
		free(t->id);
		free(t);
		return -ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_rwlock_init(&t->timeline_lock, NULL);
	pthread_rwlock_init(&t->coarse_lock, NULL);
	t->stopping = &set->stopping;
	t->hold_loads = set->hold_loads;
	t->immutable = immutable;
	struct stat st;
	if (stat(real, &st) == 0) {
		t->dev = st.st_dev;
		t->ino = st.st_ino;
	}
	set->traces[set->n++] = t;
	set->generation++;
	return 1;
}

static int is_db_name(const char *name)
{
	size_t len = strlen(name);
	return len > 3 && name[0] != '.' && strcmp(name + len - 3, ".db") == 0;
}

/* The served trace whose file is real, or NULL. Caller holds set->lock. */
static struct trace *find_path_locked(struct trace_set *set, const char *real)
{
	for (size_t k = 0; k < set->n; k++)
		if (strcmp(set->traces[k]->path, real) == 0)
			return set->traces[k];
	return NULL;
}

/* err without the path it starts with ("is not a weft trace"). */
static const char *reason(const char *err, const char *path)
{
	size_t n = strlen(path);
	if (strncmp(err, path, n) != 0)
		return err;
	err += n;
	while (*err == ':' || *err == ' ')
		err++;
	return err;
}

/* One *.db of a served directory: served once it is a trace, else
 * remembered with why (skipped.h: logged once, not opened again until it
 * changes). Called without set->lock: validating opens the file. 1 if
 * the list changed. */
static int scan_file(struct trace_set *set, const char *path)
{
	struct skipped_key key;
	char real[PATH_MAX], err[512];
	if (skipped_key_of(path, &key) < 0 || !realpath(path, real))
		return 0;
	pthread_mutex_lock(&set->lock);
	int known = find_path_locked(set, real) || skipped_same(set->skipped, path, &key);
	pthread_mutex_unlock(&set->lock);
	if (known)
		return 0;
	int immutable;
	int rc = validate(path, &immutable, err, sizeof(err));
	int changed = 0;
	pthread_mutex_lock(&set->lock);
	if (rc == 0) {
		skipped_remove(set->skipped, path);
		changed = add_locked(set, path, immutable) > 0;
	} else if (skipped_put(set->skipped, path, &key, reason(err, path),
			       skipped_in_progress(path, &key)) > 0) {
		fprintf(stderr, "weftd: skipping %s: %s\n", path, reason(err, path));
		changed = 1;
	}
	if (changed)
		set->generation++;
	pthread_mutex_unlock(&set->lock);
	return changed;
}

/* Serves the traces of dir (scan_file for each *.db, in name order so
 * that ids stay stable between runs). 1 if the list changed. */
static int scan_dir(struct trace_set *set, const char *dir)
{
	struct dirent **names;
	char path[PATH_MAX];
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return 0;
	int changed = 0;
	for (int i = 0; i < n; i++) {
		if (is_db_name(names[i]->d_name) && snprintf(path, sizeof(path), "%s/%s", dir,
							     names[i]->d_name) < (int)sizeof(path))
			changed |= scan_file(set, path);
		free(names[i]);
	}
	free(names);
	return changed;
}

/* Takes the traces whose file is gone out of the list (kept until
 * trace_set_free: a request may hold one), and forgets skipped files
 * that are gone. 1 if the list changed. */
static int drop_gone(struct trace_set *set)
{
	int changed = 0;
	struct stat st;
	pthread_mutex_lock(&set->lock);
	for (size_t i = 0; i < set->n;) {
		struct trace *t = set->traces[i];
		if (stat(t->path, &st) == 0 || errno != ENOENT) {
			i++;
			continue;
		}
		struct trace **gone = realloc(set->gone, (set->ngone + 1) * sizeof(*gone));
		if (!gone)
			break;
		set->gone = gone;
		set->gone[set->ngone++] = t;
		memmove(&set->traces[i], &set->traces[i + 1], (set->n - i - 1) * sizeof(t));
		set->n--;
		changed = 1;
	}
	skipped_prune(set->skipped);
	if (changed)
		set->generation++;
	pthread_mutex_unlock(&set->lock);
	return changed;
}

int trace_set_add(struct trace_set *set, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char real[PATH_MAX];
	if (stat(path, &st) < 0 || !realpath(path, real)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISDIR(st.st_mode)) {
		int immutable;
		int rc = validate(path, &immutable, err, errlen);
		pthread_mutex_lock(&set->lock);
		if (rc == 0 && add_locked(set, path, immutable) < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			rc = -ENOMEM;
		}
		pthread_mutex_unlock(&set->lock);
		return rc;
	}
	pthread_mutex_lock(&set->lock);
	char **dirs = realloc(set->dirs, (set->ndirs + 1) * sizeof(*dirs));
	if (dirs)
		set->dirs = dirs;
	char *copy = dirs ? strdup(real) : NULL;
	if (copy)
		set->dirs[set->ndirs++] = copy;
	pthread_mutex_unlock(&set->lock);
	if (!copy) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	scan_dir(set, copy);
	return 0;
}

void trace_set_stop(struct trace_set *set)
{
	atomic_store(&set->stopping, 1);
}

int trace_set_rescan(struct trace_set *set)
{
	int changed = drop_gone(set);
	/* directories are only ever appended, their strings kept to the end */
	for (size_t i = 0;; i++) {
		pthread_mutex_lock(&set->lock);
		const char *dir = i < set->ndirs ? set->dirs[i] : NULL;
		pthread_mutex_unlock(&set->lock);
		if (!dir)
			break;
		changed |= scan_dir(set, dir);
	}
	return changed;
}

void trace_set_each_broken(struct trace_set *set, trace_broken_fn fn, void *ctx)
{
	pthread_mutex_lock(&set->lock);
	skipped_each(set->skipped, fn, ctx);
	pthread_mutex_unlock(&set->lock);
}

size_t trace_set_count(struct trace_set *set)
{
	pthread_mutex_lock(&set->lock);
	size_t n = set->n;
	pthread_mutex_unlock(&set->lock);
	return n;
}

struct trace *trace_set_at(struct trace_set *set, size_t i)
{
	pthread_mutex_lock(&set->lock);
	struct trace *t = i < set->n ? set->traces[i] : NULL;
	pthread_mutex_unlock(&set->lock);
	return t;
}

struct trace *trace_set_find(struct trace_set *set, const char *id)
{
	struct trace *found = NULL;
	pthread_mutex_lock(&set->lock);
	for (size_t i = 0; i < set->n && !found; i++)
		if (strcmp(set->traces[i]->id, id) == 0)
			found = set->traces[i];
	pthread_mutex_unlock(&set->lock);
	return found;
}

uint64_t trace_set_generation(struct trace_set *set)
{
	pthread_mutex_lock(&set->lock);
	uint64_t g = set->generation;
	pthread_mutex_unlock(&set->lock);
	return g;
}

const char *trace_id(const struct trace *t)
{
	return t->id;
}

const char *trace_file(const struct trace *t)
{
	return t->file;
}

const char *trace_path(const struct trace *t)
{
	return t->path;
}

sqlite3 *trace_acquire(struct trace *t)
{
	sqlite3 *db = NULL;
	pthread_mutex_lock(&t->lock);
	if (t->npool > 0)
		db = t->pool[--t->npool];
	int immutable = t->immutable;
	pthread_mutex_unlock(&t->lock);
	if (!db && query_open(t->path, immutable, &db) < 0)
		return NULL;
	return db;
}

void trace_release(struct trace *t, sqlite3 *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&t->lock);
	if (t->npool < POOL_MAX) {
		t->pool[t->npool++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&t->lock);
	sqlite3_close(db);
}

static int same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static int64_t clamp_ts(int64_t ts)
{
	return ts < -LOD_TS_MAX ? -LOD_TS_MAX : ts > LOD_TS_MAX ? LOD_TS_MAX : ts;
}

/* The file was replaced (a new recording under the same name): the
 * pooled connections read the old one, and immutability is decided
 * again. Caller holds t->lock. */
static void replaced(struct trace *t, const struct stat *st)
{
	for (int i = 0; i < t->npool; i++)
		sqlite3_close(t->pool[i]);
	t->npool = 0;
	t->immutable = 0;
	t->dev = st->st_dev;
	t->ino = st->st_ino;
	t->polled = 0;
}

int trace_poll(struct trace *t)
{
	struct stat st, wal;
	char wal_path[PATH_MAX];
	if (stat(t->path, &st) < 0)
		return -errno;
	snprintf(wal_path, sizeof(wal_path), "%s-wal", t->path);
	if (stat(wal_path, &wal) < 0)
		memset(&wal, 0, sizeof(wal));

	pthread_mutex_lock(&t->lock);
	if (st.st_ino != t->ino || st.st_dev != t->dev)
		replaced(t, &st);
	int unchanged = t->polled && t->info.bytes == st.st_size &&
			same_time(t->mtime, st.st_mtim) && t->wal_bytes == wal.st_size &&
			same_time(t->wal_mtime, wal.st_mtim);
	int recording = strcmp(t->info.status.status, "recording") == 0;
	pthread_mutex_unlock(&t->lock);
	/* a recorder killed leaves the file as it was: only its lock tells */
	if (unchanged && !(recording && tracestatus_recorder_pid(t->path) == 0))
		return 0;

	sqlite3 *db = trace_acquire(t);
	if (!db)
		return -EIO;
	struct query_status status;
	int rc = query_status(db, &status);
	trace_release(t, db);
	if (rc < 0)
		return rc;
	const char *shown = tracestatus_resolve(t->path, status.status);
	if (shown != status.status)
		snprintf(status.status, sizeof status.status, "%s", shown);
	/* the bounds come from the file: keep them where the tracks live */
	status.start_ts = clamp_ts(status.start_ts);
	status.end_ts = clamp_ts(status.end_ts);

	pthread_mutex_lock(&t->lock);
	int changed = !t->polled || t->info.bytes != st.st_size || t->wal_bytes != wal.st_size ||
		      memcmp(&t->info.status, &status, sizeof(status)) != 0;
	t->polled = 1;
	t->mtime = st.st_mtim;
	t->wal_mtime = wal.st_mtim;
	t->wal_bytes = wal.st_size;
	t->info.bytes = st.st_size;
	t->info.wal_bytes = wal.st_size;
	t->info.status = status;
	/* a recording that ended and left no -wal: opened as immutable from
	 * now on (read-only mounts; no locks) */
	if (!t->immutable && finished(status.status) && wal.st_size == 0 && !has_wal(t->path))
		t->immutable = 1;
	if (changed)
		t->info.generation++;
	pthread_mutex_unlock(&t->lock);
	return changed;
}

int trace_info(struct trace *t, struct trace_info *info)
{
	pthread_mutex_lock(&t->lock);
	int polled = t->polled;
	pthread_mutex_unlock(&t->lock);
	if (!polled) {
		int rc = trace_poll(t);
		if (rc < 0)
			return rc;
	}
	pthread_mutex_lock(&t->lock);
	*info = t->info;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* Loading: rows go to the track of their id, created on first sight.
 * Rows come in (id, ts) order, so a track is complete when the next id
 * begins: it is sealed (mipmap built, spare capacity returned) at once,
 * which keeps the loading peak at one unsealed track rather than all. */
struct loader {
	struct lod_track ***tracks;
	size_t *ntracks;
	const atomic_int *stopping;
	uint32_t rows;
	struct lod_track *current;
	int growing; /* the trace is still being recorded */
};

/* Seal a track after a load: one that grows on keeps room to grow. */
static int seal_track(struct lod_track *t, int growing)
{
	return growing ? lod_track_seal_growing(t) : lod_track_seal(t);
}

static struct lod_track *track_for(struct lod_track ***tracks, size_t *n, int64_t id)
{
	if (id < 0 || id >= MAX_TRACK_ID)
		return NULL;
	if ((size_t)id >= *n) {
		size_t cap = *n ? *n : 16;
		while (cap <= (size_t)id)
			cap *= 2;
		struct lod_track **p = realloc(*tracks, cap * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + *n, 0, (cap - *n) * sizeof(*p));
		*tracks = p;
		*n = cap;
	}
	if (!(*tracks)[id])
		(*tracks)[id] = lod_track_new();
	return (*tracks)[id];
}

static int load_row(void *ctx, int64_t id, int64_t ts, int64_t dur, const char *state,
		    const char *reason, int64_t object)
{
	struct loader *l = ctx;
	if ((++l->rows & 0xFFFF) == 0 && atomic_load(l->stopping))
		return -ECANCELED;
	struct lod_track *t = track_for(l->tracks, l->ntracks, id);
	if (!t)
		return id < 0 || id >= MAX_TRACK_ID ? 0 : -ENOMEM;
	if (t != l->current) {
		/* a failed seal leaves the track dirty: load() seals it again */
		if (l->current)
			seal_track(l->current, l->growing);
		l->current = t;
	}
	if (lod_track_append(t, ts, dur, overview_state_index(state), overview_reason_index(reason),
			     object) < 0)
		return -ENOMEM;
	return 0;
}

static int add_flow(void *ctx, int64_t object_id, const char *kind, int64_t ts_out, int64_t ts_in,
		    int64_t utid_out, int64_t utid_in, int64_t bytes)
{
	if (ts_out < -LOD_TS_MAX || ts_out > LOD_TS_MAX || ts_in < -LOD_TS_MAX ||
	    ts_in > LOD_TS_MAX)
		return 0; /* not a time of this trace (lod.h) */
	return flowsum_add(ctx, object_id, kind, ts_out, ts_in, utid_out, utid_in, bytes);
}

/* Flow buckets: about FLOW_BUCKETS over the trace as first seen (at
 * least LIVE_FLOW_EXTENT_NS of it while it is being recorded). */
#define FLOW_BUCKETS 1024
#define LIVE_FLOW_EXTENT_NS (3600 * 1000000000ll)

/* The test hook (trace.h): waits until t->hold_loads exists. -ECANCELED
 * if weftd stops meanwhile. */
static int hold_load(struct trace *t)
{
	while (t->hold_loads && access(t->hold_loads, F_OK) != 0) {
		if (atomic_load(t->stopping))
			return -ECANCELED;
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	return 0;
}

static int load(struct trace *t, sqlite3 *db, const struct trace_info *info)
{
	struct trace_timeline *tl = &t->timeline;
	struct lod_track ***tracks[3] = {&tl->threads, &tl->processes, &tl->cpus};
	size_t *counts[3] = {&tl->nthreads, &tl->nprocesses, &tl->ncpus};
	int rc = 0;
	int growing = !finished(info->status.status);
	/* One read transaction so the three tables are read at one moment. */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (int k = 0; k < 3 && rc == 0; k++) {
		struct loader l = {.tracks = tracks[k],
				   .ntracks = counts[k],
				   .stopping = t->stopping,
				   .growing = growing};
		rc = query_load_spans(db, (enum query_track)k, t->last_rowid[k], &t->last_rowid[k],
				      load_row, &l);
	}
	if (rc == 0 && !tl->flows) {
		int64_t extent = info->status.end_ts - info->status.start_ts, width = 1024;
		/* a trace still being recorded grows past its extent as first
		 * seen: buckets for an hour of it keep the sums usable (under
		 * their entry cap) as it does, at the cost of wider edges read
		 * from SQLite while it is short */
		if (growing && extent < LIVE_FLOW_EXTENT_NS)
			extent = LIVE_FLOW_EXTENT_NS;
		while (width < extent / FLOW_BUCKETS)
			width <<= 1;
		tl->flows = flowsum_new(info->status.start_ts, width);
		if (!tl->flows)
			rc = -ENOMEM;
	}
	if (rc == 0)
		rc = query_load_flows(db, t->last_rowid[3], &t->last_rowid[3], add_flow, tl->flows);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_db_release_memory(db); /* the page cache the scans filled */
	tl->bytes = 0;
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < *counts[k]; i++) {
			struct lod_track *track = (*tracks[k])[i];
			if (!track)
				continue;
			if (seal_track(track, growing) < 0)
				rc = -ENOMEM;
			tl->bytes += lod_track_bytes(track);
		}
	return rc;
}

int trace_timeline_read(struct trace *t, const struct trace_timeline **out)
{
	struct trace_info info;
	int rc = trace_info(t, &info);
	if (rc < 0)
		return rc;
	pthread_rwlock_rdlock(&t->timeline_lock);
	if (t->loaded && t->loaded_generation == info.generation) {
		*out = &t->timeline;
		return 0;
	}
	pthread_rwlock_unlock(&t->timeline_lock);

	pthread_rwlock_wrlock(&t->timeline_lock);
	if (atomic_load(t->stopping)) {
		pthread_rwlock_unlock(&t->timeline_lock);
		return -ECANCELED;
	}
	if (!t->loaded || t->loaded_generation != info.generation) {
		if (!t->loaded && (rc = hold_load(t)) < 0) {
			pthread_rwlock_unlock(&t->timeline_lock);
			return rc;
		}
		sqlite3 *db = trace_acquire(t);
		if (!db) {
			pthread_rwlock_unlock(&t->timeline_lock);
			return -EIO;
		}
		rc = load(t, db, &info);
		trace_release(t, db);
		if (rc < 0) {
			pthread_rwlock_unlock(&t->timeline_lock);
			return rc;
		}
		if (!t->loaded) {
			/* the exact timeline answers from now on */
			atomic_store(&t->loaded_once, 1);
			pthread_rwlock_wrlock(&t->coarse_lock);
			coarse_free(t->coarse);
			t->coarse = NULL;
			t->coarse_state = -1;
			pthread_rwlock_unlock(&t->coarse_lock);
		}
		t->loaded = 1;
		t->loaded_generation = info.generation;
	}
	pthread_rwlock_unlock(&t->timeline_lock);
	pthread_rwlock_rdlock(&t->timeline_lock);
	*out = &t->timeline;
	return 0;
}

void trace_timeline_done(struct trace *t)
{
	pthread_rwlock_unlock(&t->timeline_lock);
}

/* The background loader: the first load, for trace_timeline_try. */
static void *load_in_background(void *arg)
{
	struct trace *t = arg;
	const struct trace_timeline *tl;
	if (trace_timeline_read(t, &tl) == 0)
		trace_timeline_done(t);
	else if (!atomic_load(t->stopping))
		atomic_store(&t->load_failed, 1);
	return NULL;
}

int trace_timeline_try(struct trace *t, const struct trace_timeline **tl)
{
	if (atomic_load(&t->loaded_once) || atomic_load(&t->load_failed) ||
	    atomic_load(t->stopping))
		return trace_timeline_read(t, tl);
	pthread_mutex_lock(&t->lock);
	if (!t->loader_started && pthread_create(&t->loader, NULL, load_in_background, t) == 0)
		t->loader_started = 1;
	int started = t->loader_started;
	pthread_mutex_unlock(&t->lock);
	/* without a thread (none could start): load here, as before */
	return started ? -EAGAIN : trace_timeline_read(t, tl);
}

int trace_coarse_read(struct trace *t, const struct coarse **out)
{
	pthread_rwlock_rdlock(&t->coarse_lock);
	if (t->coarse_state > 0) {
		*out = t->coarse;
		return 0;
	}
	int state = t->coarse_state;
	pthread_rwlock_unlock(&t->coarse_lock);
	if (state < 0)
		return -ENOENT;

	struct trace_info info;
	if (trace_info(t, &info) < 0)
		return -ENOENT;
	/* a recording has no summary yet (one will come when it finishes) */
	if (strcmp(info.status.status, "recording") == 0)
		return -ENOENT;
	pthread_rwlock_wrlock(&t->coarse_lock);
	if (t->coarse_state == 0) {
		sqlite3 *db = atomic_load(&t->loaded_once) ? NULL : trace_acquire(t);
		int rc = db ? coarse_load(db, &t->coarse) : -ENOENT;
		trace_release(t, db);
		if (rc == 0 && coarse_spans(t->coarse) < TRACE_COARSE_MIN_SPANS) {
			coarse_free(t->coarse);
			t->coarse = NULL;
			rc = -ENOENT;
		}
		t->coarse_state = rc == 0 ? 1 : -1;
	}
	pthread_rwlock_unlock(&t->coarse_lock);
	pthread_rwlock_rdlock(&t->coarse_lock);
	if (t->coarse_state > 0) {
		*out = t->coarse;
		return 0;
	}
	pthread_rwlock_unlock(&t->coarse_lock);
	return -ENOENT;
}

void trace_coarse_done(struct trace *t)
{
	pthread_rwlock_unlock(&t->coarse_lock);
}
