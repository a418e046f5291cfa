/*
 * bench_collect.c — how fast the collector moves records from rings into
 * SQLite. `weft-bench-collect [THREADS [EVENTS_PER_THREAD [poll]]]` starts
 * THREADS writer threads that append BLOCK_BEGIN/BLOCK_END pairs (a mutex
 * wait each) as fast as their rings take them, while the collector runs as
 * `weft record` runs it: collect_run, a drain thread and a writer thread
 * (with `poll`: collect_poll on one thread, drain and write in turn).
 * Prints events stored, events lost and events/s from the first record to
 * the finished trace (indexes included), and the collector's CPU time (the
 * process's, less the writer threads'). Not a test: the numbers depend on
 * the machine.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "ring.h"

struct writer {
	pthread_t thread;
	const char *shm_path;
	uint64_t token;
	long events;
	atomic_int *done;
	double cpu; /* the writer thread's CPU time, s */
};

static double thread_cpu(clockid_t clock)
{
	struct timespec t;
	clock_gettime(clock, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Rows the trace holds: thread_state, process_state, object, thread. */
static long long count_rows(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	long long rows = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(
		db,
		"SELECT (SELECT count(*) FROM thread_state) + "
		"(SELECT count(*) FROM process_state) + (SELECT count(*) FROM object) + "
		"(SELECT count(*) FROM thread)",
		-1, &stmt, NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			rows = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
	return rows;
}

static void *run_collector(void *arg)
{
	collect_run(arg);
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* Append, retrying while the ring is full (the benchmark measures the
 * reader, so the writer waits instead of dropping). It sleeps rather than
 * spins: a spinning writer would take the CPU the collector needs, which
 * no traced program does (a full ring drops and moves on). */
static void append(struct ring_writer *writer, struct weft_event *event)
{
	while (ring_write(writer, event, NULL, 0) != 0) {
		atomic_fetch_sub(&writer->slot->dropped, 1); /* not a real loss */
		struct timespec pause = {0, 50000};
		nanosleep(&pause, NULL);
	}
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct ring_map map;
	struct ring_writer writer;
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	if (ring_file_attach(w->shm_path, &map) ||
	    ring_claim(&map, (uint32_t)getpid(), tid, 1, w->token, &writer)) {
		fprintf(stderr, "bench: cannot claim a ring\n");
		exit(1);
	}
	struct weft_event event = {.type = WEFT_EV_THREAD_START, .ts = now_ns(), .a = 1};
	append(&writer, &event);
	for (long i = 0; i + 1 < w->events; i += 2) {
		event = (struct weft_event){.type = WEFT_EV_BLOCK_BEGIN,
					    .reason = WEFT_REASON_MUTEX,
					    .ts = now_ns(),
					    .a = 0x1000 + (uint64_t)(i & 0x7) * 64};
		append(&writer, &event);
		event.type = WEFT_EV_BLOCK_END;
		event.ts = now_ns();
		append(&writer, &event);
	}
	event = (struct weft_event){.type = WEFT_EV_THREAD_EXIT, .ts = now_ns()};
	append(&writer, &event);
	ring_release(&writer);
	ring_file_unmap(&map);
	w->cpu = thread_cpu(CLOCK_THREAD_CPUTIME_ID);
	atomic_fetch_add(w->done, 1);
	return NULL;
}

/* This process announces itself on the collector's ring file, as a
 * preloaded program would: the main thread's ring (into *map, *writer),
 * and PROC_START. Returns the process's token. */
static uint64_t start_process(struct collect *collect, struct ring_map *map,
			      struct ring_writer *writer)
{
	ring_file_attach(collect_shm_path(collect), map);
	uint64_t token = atomic_fetch_add(&map->header->next_token, 1);
	ring_claim(map, (uint32_t)getpid(), (uint32_t)getpid(), 1, token, writer);
	struct weft_event start = {
	    .type = WEFT_EV_PROC_START, .reason = WEFT_ORIGIN_EXEC, .ts = now_ns(), .a = 1};
	ring_write(writer, &start, "bench\0", 6);
	return token;
}

/* Remove the trace at path and its -wal and -shm files. */
static void remove_trace(const char *path)
{
	char side[80];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	long per_thread = argc > 2 ? atol(argv[2]) : 2000000;
	int one_thread = argc > 3 && strcmp(argv[3], "poll") == 0;
	char path[64];
	snprintf(path, sizeof path, "/tmp/weft-bench-collect-%d.db", (int)getpid());
	struct collect_options options = {.db_path = path,
					  .mode = COLLECT_ATTACH,
					  .attach_pid = getpid(),
					  .slot_count = 64,
					  .ring_bytes = 4u << 20};
	struct collect *collect;
	char err[256] = "";
	if (collect_open(&options, &collect, err, sizeof err)) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	struct ring_map map;
	struct ring_writer main_writer;
	uint64_t token = start_process(collect, &map, &main_writer);

	atomic_int done = 0;
	double cpu_begin = thread_cpu(CLOCK_PROCESS_CPUTIME_ID);
	pthread_t collector;
	if (!one_thread && pthread_create(&collector, NULL, run_collector, collect) != 0) {
		fprintf(stderr, "bench: cannot start the collector\n");
		return 1;
	}
	struct writer *writers = calloc((size_t)threads, sizeof *writers);
	uint64_t begin = now_ns();
	for (int i = 0; i < threads; i++) {
		writers[i] = (struct writer){.shm_path = collect_shm_path(collect),
					     .token = token,
					     .events = per_thread,
					     .done = &done};
		pthread_create(&writers[i].thread, NULL, writer_main, &writers[i]);
	}
	while (atomic_load(&done) < threads) {
		struct timespec pause = {0, 200000};
		if (one_thread)
			collect_poll(collect);
		nanosleep(&pause, NULL);
	}
	double writers_cpu = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(writers[i].thread, NULL);
		writers_cpu += writers[i].cpu;
	}
	ring_release(&main_writer);
	ring_file_unmap(&map);
	if (!one_thread) { /* finish drains and writes whatever is left */
		collect_stop(collect);
		pthread_join(collector, NULL);
	}
	struct collect_summary summary;
	int rc = collect_finish(collect, "complete", &summary);
	uint64_t end = now_ns();
	double cpu = thread_cpu(CLOCK_PROCESS_CPUTIME_ID) - cpu_begin - writers_cpu;
	collect_close(collect);
	double seconds = (double)(end - begin) / 1e9;
	/* Wall time includes the writers competing for the CPUs; the collector
	 * threads' CPU time is what the collector itself costs. */
	long long rows = count_rows(path);
	printf(
	    "%s threads %d events %lld lost %lld wall %.3f s (%.0f events/s) collector cpu %.3f s "
	    "(%.0f events/s) rows %lld (%.0f rows/s)%s\n",
	    one_thread ? "poll" : "run", threads, (long long)summary.events,
	    (long long)summary.events_lost, seconds, (double)summary.events / seconds, cpu,
	    (double)summary.events / cpu, rows, (double)rows / seconds,
	    rc ? " (trace write FAILED)" : "");
	remove_trace(path);
	free(writers);
	return rc ? 1 : 0;
}
