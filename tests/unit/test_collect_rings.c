/*
 * test_collect_rings.c — the collector end to end on real rings: threads
 * writing with ring_write while the collector drains (run under TSan too),
 * every record accounted for (stored or counted lost), and a forked
 * workload whose exit status and orphaned grandchild the collector reaps
 * as parent and subreaper.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "collect.h"
#include "test_collect_util.h"

#define WRITERS 4
#define WAITS_PER_WRITER 20000

struct writer_args {
	const char *shm_path;
	uint64_t token;
	uint32_t pid;
	atomic_int *started;
	uint64_t written;
	uint64_t dropped;
};

static uint64_t now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* A traced thread: its own mapping, its own slot, many blocking calls. */
static void *writer_main(void *arg)
{
	struct writer_args *args = arg;
	struct ring_map map;
	struct ring_writer writer;
	if (ring_file_attach(args->shm_path, &map))
		return NULL;
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	if (ring_claim(&map, args->pid, tid, 1, args->token, &writer)) {
		ring_file_unmap(&map);
		return NULL;
	}
	uint64_t created = now_ns();
	atomic_fetch_add(args->started, 1);
	int failed =
	    put(&writer, WEFT_EV_THREAD_START, 0, 0, now_ns(), args->pid, created, NULL, 0);
	args->written = 1;
	for (int i = 0; i < WAITS_PER_WRITER; i++) {
		failed += put(&writer, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_MUTEX, WEFT_CALL_MUTEX_LOCK,
			      now_ns(), 0x1000 + (uint64_t)(i % 3) * 64, 0, NULL, 0) != 0;
		failed += put(&writer, WEFT_EV_BLOCK_END, WEFT_REASON_MUTEX, WEFT_CALL_MUTEX_LOCK,
			      now_ns(), 0x1000 + (uint64_t)(i % 3) * 64, 0, NULL, 0) != 0;
		args->written += 2;
		if (i % 64 == 0) /* let the collector keep up, mostly */
			sched_yield();
	}
	failed += put(&writer, WEFT_EV_THREAD_EXIT, 0, 0, now_ns(), 0, 0, NULL, 0) != 0;
	args->written++;
	args->dropped = atomic_load(&writer.slot->dropped);
	assert_int_equal((uint64_t)failed, args->dropped);
	ring_release(&writer);
	ring_file_unmap(&map);
	return NULL;
}

static void drained_records_are_all_stored_or_counted_lost(void **state)
{
	char path[512];
	temp_db_path(path, sizeof path, "rings-threads");
	struct collect_options options = {.db_path = path,
					  .mode = COLLECT_ATTACH,
					  .attach_pid = getpid(),
					  .slot_count = 16,
					  .ring_bytes = 65536};
	struct collect *collect;
	assert_int_equal(collect_open(&options, &collect, NULL, 0), 0);
	const char *shm_path = collect_shm_path(collect);
	assert_int_equal(access(shm_path, F_OK), 0);

	/* The process's main thread announces the process. */
	struct ring_map map;
	struct ring_writer main_writer;
	assert_int_equal(ring_file_attach(shm_path, &map), 0);
	uint64_t token = atomic_fetch_add(&map.header->next_token, 1);
	uint32_t pid = (uint32_t)getpid();
	assert_int_equal(ring_claim(&map, pid, pid, 1, token, &main_writer), 0);
	static const char argv[] = "lockers\0-n\0004\0";
	assert_int_equal(put(&main_writer, WEFT_EV_PROC_START, WEFT_ORIGIN_EXEC, 0, now_ns(), 1, 0,
			     argv, sizeof argv - 1),
			 0);
	assert_int_equal(put(&main_writer, WEFT_EV_THREAD_START, 0, 0, now_ns(), 0, 0, NULL, 0), 0);

	atomic_int started = 0;
	pthread_t threads[WRITERS];
	struct writer_args args[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		args[i] = (struct writer_args){
		    .shm_path = shm_path, .token = token, .pid = pid, .started = &started};
		assert_int_equal(pthread_create(&threads[i], NULL, writer_main, &args[i]), 0);
	}
	/* The collector drains while they write. */
	while (atomic_load(&started) < WRITERS)
		assert_true(collect_poll(collect) >= 0);
	for (int i = 0; i < WRITERS; i++) {
		while (pthread_tryjoin_np(threads[i], NULL) != 0) {
			assert_true(collect_poll(collect) >= 0);
			struct timespec pause = {0, 200000};
			nanosleep(&pause, NULL);
		}
	}
	assert_int_equal(put(&main_writer, WEFT_EV_PROC_EXIT, 1, 0, now_ns(), 0, 0, NULL, 0), 0);
	ring_release(&main_writer);
	ring_file_unmap(&map);

	struct collect_summary summary;
	assert_int_equal(collect_finish(collect, "complete", &summary), 0);
	collect_close(collect);
	assert_int_not_equal(access(shm_path, F_OK), 0); /* the ring file is gone */

	uint64_t written = 3, dropped = 0;
	for (int i = 0; i < WRITERS; i++) {
		written += args[i].written;
		dropped += args[i].dropped;
	}
	assert_int_equal((uint64_t)summary.events + (uint64_t)summary.events_lost, written);
	assert_int_equal((uint64_t)summary.events_lost, dropped);
	assert_int_equal(summary.threads, WRITERS + 1);
	assert_int_equal(sql_int(path, "SELECT value FROM meta WHERE key = 'events_lost'"),
			 (long long)dropped);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM thread"), WRITERS + 1);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM object WHERE kind = 'mutex'"), 3);
	if (!dropped) /* each writer waited WAITS_PER_WRITER times (merges aside) */
		assert_true(sql_int(path, "SELECT count(*) FROM thread_state WHERE "
					  "state = 'Blocked'") > 0);
	/* Every thread's spans tile its life, without overlap. */
	assert_int_equal(sql_int(path,
				 "SELECT count(*) FROM thread t WHERE "
				 "(SELECT sum(dur) FROM thread_state s WHERE s.utid = t.utid) "
				 "!= t.end_ts - t.start_ts"),
			 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM process_state a JOIN process_state b "
				       "ON a.upid = b.upid AND a.rowid != b.rowid "
				       "AND a.ts < b.ts + b.dur AND b.ts < a.ts + a.dur"),
			 0);
	char text[64];
	assert_string_equal(sql_text(path, "SELECT cmdline FROM process", text, sizeof text),
			    "lockers -n 4");
	assert_string_equal(
	    sql_text(path, "SELECT value FROM meta WHERE key = 'status'", text, sizeof text),
	    "complete");
	remove_db(path);
}

/* The forked workload: announces itself, forks an untraced grandchild
 * that outlives it, exits 7. */
static void workload(const char *shm_path)
{
	struct ring_map map;
	struct ring_writer writer;
	if (ring_file_attach(shm_path, &map))
		_exit(100);
	uint64_t token = atomic_fetch_add(&map.header->next_token, 1);
	uint32_t pid = (uint32_t)getpid();
	if (ring_claim(&map, pid, pid, (uint32_t)getppid(), token, &writer))
		_exit(101);
	static const char argv[] = "family\0--orphan\0";
	put(&writer, WEFT_EV_PROC_START, WEFT_ORIGIN_EXEC, 0, now_ns(), (uint64_t)getppid(), 0,
	    argv, sizeof argv - 1);
	put(&writer, WEFT_EV_THREAD_START, 0, 0, now_ns(), 0, 0, NULL, 0);
	uint64_t fork_ts = now_ns();
	pid_t child = fork();
	if (child == 0) {
		struct timespec pause = {0, 100 * 1000 * 1000};
		nanosleep(&pause, NULL);
		_exit(3);
	}
	put(&writer, WEFT_EV_FORK, 0, WEFT_CALL_FORK, now_ns(), (uint64_t)child, fork_ts, NULL, 0);
	put(&writer, WEFT_EV_PROC_EXIT, 1, 0, now_ns(), 7, 0, NULL, 0);
	_exit(7); /* no ring_release: the collector frees the slot of the dead */
}

static void parent_mode_reaps_workload_and_orphans_with_their_status(void **state)
{
	char path[512];
	temp_db_path(path, sizeof path, "rings-parent");
	struct collect_options options = {
	    .db_path = path, .mode = COLLECT_PARENT, .slot_count = 8, .ring_bytes = 8192};
	struct collect *collect;
	assert_int_equal(collect_open(&options, &collect, NULL, 0), 0);
	int64_t fork_ts = collect_now();
	pid_t pid = fork();
	if (pid == 0)
		workload(collect_shm_path(collect));
	assert_true(pid > 0);
	collect_set_root(collect, pid, fork_ts, "family", "family --orphan");
	assert_int_equal(collect_run(collect), 0);
	struct collect_summary summary;
	assert_int_equal(collect_finish(collect, "complete", &summary), 0);
	collect_close(collect);

	assert_true(summary.root_reaped);
	assert_true(WIFEXITED(summary.root_status));
	assert_int_equal(WEXITSTATUS(summary.root_status), 7);
	assert_int_equal(summary.processes, 2);
	char text[64];
	assert_int_equal(sql_int(path, "SELECT exit_code FROM process WHERE upid = 1"), 7);
	assert_int_equal(sql_int(path, "SELECT start_ts FROM process WHERE upid = 1"), fork_ts);
	assert_string_equal(
	    sql_text(path, "SELECT name FROM process WHERE upid = 1", text, sizeof text), "family");
	/* The grandchild outlived its parent and was reaped by the collector. */
	assert_int_equal(sql_int(path, "SELECT exit_code FROM process WHERE upid = 2"), 3);
	assert_int_equal(sql_int(path, "SELECT traced FROM process WHERE upid = 2"), 0);
	assert_int_equal(sql_int(path, "SELECT parent_upid FROM process WHERE upid = 2"), 1);
	assert_true(sql_int(path, "SELECT end_ts - start_ts FROM process WHERE upid = 2") >=
		    100 * 1000 * 1000);
	assert_int_equal(sql_int(path, "SELECT value FROM meta WHERE key = 'exit_status'"), 7);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM process WHERE end_ts IS NULL"), 0);
	remove_db(path);
}

/* Reaps every child of the test process until none is left. */
static void *reaper_main(void *arg)
{
	(void)arg;
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
	return NULL;
}

/* The attached program: announces itself, forks a child that claims its
 * ring only 200 ms later, and exits at once. */
static void attached_program(int path_fd)
{
	char shm_path[256] = "";
	if (read(path_fd, shm_path, sizeof shm_path - 1) <= 0)
		_exit(100);
	struct ring_map map;
	struct ring_writer writer;
	if (ring_file_attach(shm_path, &map))
		_exit(101);
	uint32_t pid = (uint32_t)getpid();
	uint64_t token = atomic_fetch_add(&map.header->next_token, 1);
	if (ring_claim(&map, pid, pid, (uint32_t)getppid(), token, &writer))
		_exit(102);
	put(&writer, WEFT_EV_PROC_START, WEFT_ORIGIN_EXEC, 0, now_ns(), 1, 0, "late\0", 5);
	put(&writer, WEFT_EV_THREAD_START, 0, 0, now_ns(), 0, 0, NULL, 0);
	uint64_t fork_ts = now_ns();
	pid_t child = fork();
	if (child == 0) {
		struct timespec pause = {0, 200 * 1000 * 1000};
		nanosleep(&pause, NULL);
		uint32_t me = (uint32_t)getpid();
		uint64_t child_token = atomic_fetch_add(&map.header->next_token, 1);
		if (ring_claim(&map, me, me, pid, child_token, &writer))
			_exit(103);
		put(&writer, WEFT_EV_PROC_START, WEFT_ORIGIN_FORK, 0, now_ns(), pid, fork_ts, NULL,
		    0);
		put(&writer, WEFT_EV_THREAD_START, 0, 0, now_ns(), 0, 0, NULL, 0);
		put(&writer, WEFT_EV_PROC_EXIT, 1, 0, now_ns(), 5, 0, NULL, 0);
		_exit(5);
	}
	put(&writer, WEFT_EV_FORK, 0, WEFT_CALL_FORK, now_ns(), (uint64_t)child, fork_ts, NULL, 0);
	put(&writer, WEFT_EV_PROC_EXIT, 1, 0, now_ns(), 0, 0, NULL, 0);
	_exit(0);
}

static void attach_mode_waits_for_children_not_yet_attached(void **state)
{
	char path[512];
	temp_db_path(path, sizeof path, "rings-attach");
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[1]);
		attached_program(fds[0]);
	}
	close(fds[0]);
	struct collect_options options = {.db_path = path,
					  .mode = COLLECT_ATTACH,
					  .attach_pid = pid,
					  .slot_count = 8,
					  .ring_bytes = 8192};
	struct collect *collect;
	assert_int_equal(collect_open(&options, &collect, NULL, 0), 0);
	const char *shm_path = collect_shm_path(collect);
	assert_int_equal(write(fds[1], shm_path, strlen(shm_path)), (ssize_t)strlen(shm_path));
	close(fds[1]);
	pthread_t reaper;
	assert_int_equal(pthread_create(&reaper, NULL, reaper_main, NULL), 0);
	assert_int_equal(collect_run(collect), 0);
	struct collect_summary summary;
	assert_int_equal(collect_finish(collect, "complete", &summary), 0);
	collect_close(collect);
	pthread_join(reaper, NULL);

	assert_int_equal(summary.processes, 2);
	assert_int_equal(sql_int(path, "SELECT exit_code FROM process WHERE upid = 1"), 0);
	assert_int_equal(sql_int(path, "SELECT exit_code FROM process WHERE upid = 2"), 5);
	assert_int_equal(sql_int(path, "SELECT traced FROM process WHERE upid = 2"), 1);
	assert_int_equal(sql_int(path, "SELECT parent_upid FROM process WHERE upid = 2"), 1);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM process WHERE end_ts IS NULL"), 0);
	remove_db(path);
}

/* Records of two threads that overlap in time, drained in separate rounds
 * while the first round's are still held back: the model must see them in
 * time order across both rings. The process is Waiting only while both of
 * its threads are blocked, [t + 20 ms, t + 30 ms); handed over thread by
 * thread, it would never be. */
static void rounds_are_merged_in_time_order(void **state)
{
	char path[512];
	temp_db_path(path, sizeof path, "rings-order");
	struct collect_options options = {.db_path = path,
					  .mode = COLLECT_ATTACH,
					  .attach_pid = getpid(),
					  .slot_count = 8,
					  .ring_bytes = 65536};
	struct collect *collect;
	assert_int_equal(collect_open(&options, &collect, NULL, 0), 0);
	struct ring_map map;
	struct ring_writer a, b;
	assert_int_equal(ring_file_attach(collect_shm_path(collect), &map), 0);
	uint64_t token = atomic_fetch_add(&map.header->next_token, 1);
	uint32_t pid = (uint32_t)getpid();
	/* In the future, so that every round holds them back until finish. */
	uint64_t t = now_ns() + 5000000000ull, ms = 1000000;
	assert_int_equal(ring_claim(&map, pid, pid, 1, token, &a), 0);
	static const char argv[] = "order\0";
	assert_int_equal(
	    put(&a, WEFT_EV_PROC_START, WEFT_ORIGIN_EXEC, 0, t, 1, 0, argv, sizeof argv - 1), 0);
	assert_int_equal(put(&a, WEFT_EV_THREAD_START, 0, 0, t, 0, 0, NULL, 0), 0);
	assert_int_equal(
	    put(&a, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_SLEEP, 0, t + 10 * ms, 0, 0, NULL, 0), 0);
	assert_int_equal(
	    put(&a, WEFT_EV_BLOCK_END, WEFT_REASON_SLEEP, 0, t + 30 * ms, 0, 0, NULL, 0), 0);
	assert_true(collect_poll(collect) >= 0);
	assert_int_equal(ring_claim(&map, pid, pid + 1, 1, token, &b), 0);
	assert_int_equal(put(&b, WEFT_EV_THREAD_START, 0, 0, t + 1 * ms, pid, t, NULL, 0), 0);
	assert_int_equal(
	    put(&b, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_SLEEP, 0, t + 20 * ms, 0, 0, NULL, 0), 0);
	assert_int_equal(
	    put(&b, WEFT_EV_BLOCK_END, WEFT_REASON_SLEEP, 0, t + 40 * ms, 0, 0, NULL, 0), 0);
	assert_int_equal(put(&b, WEFT_EV_THREAD_EXIT, 0, 0, t + 45 * ms, 0, 0, NULL, 0), 0);
	assert_true(collect_poll(collect) >= 0);
	assert_int_equal(put(&a, WEFT_EV_PROC_EXIT, 1, 0, t + 50 * ms, 0, 0, NULL, 0), 0);
	ring_release(&a);
	ring_release(&b);
	ring_file_unmap(&map);
	struct collect_summary summary;
	assert_int_equal(collect_finish(collect, "complete", &summary), 0);
	collect_close(collect);

	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM process_state WHERE state = 'Waiting' "
		 "AND ts = %llu AND dur = %llu",
		 (unsigned long long)(t + 20 * ms), (unsigned long long)(10 * ms));
	assert_int_equal(sql_int(path, sql), 1);
	assert_int_equal(
	    sql_int(path, "SELECT count(*) FROM process_state WHERE state = 'Waiting'"), 1);
	remove_db(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(drained_records_are_all_stored_or_counted_lost),
	    cmocka_unit_test(rounds_are_merged_in_time_order),
	    cmocka_unit_test(attach_mode_waits_for_children_not_yet_attached),
	    cmocka_unit_test(parent_mode_reaps_workload_and_orphans_with_their_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
