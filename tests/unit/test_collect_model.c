/*
 * test_collect_model.c — process identity and life cycle, fed with
 * records as the collector hands them over, checked in the written trace:
 * fork children link to their parent and start at the fork call, exec
 * keeps the process and renames it, untraced children get a row, the best
 * exit status wins, threads end with their process, mutex holders and
 * objects are named, a cycle of lock waits is a deadlock visible at once,
 * schedstat samples give Running and Ready.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "model.h"
#include "test_collect_util.h"
#include "tracedb.h"

struct fixture {
	char path[512];
	struct tracedb *db;
	struct model *model;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	temp_db_path(f->path, sizeof f->path, "model");
	assert_int_equal(tracedb_create(f->path, &f->db, NULL, 0), 0);
	f->model = model_new(f->db);
	assert_non_null(f->model);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	model_free(f->model);
	tracedb_close(f->db);
	remove_db(f->path);
	free(f);
	return 0;
}

/* Feed one record from (token, pid, tid). */
static void feed(struct fixture *f, uint64_t token, uint32_t pid, uint32_t tid, unsigned type,
		 unsigned reason, uint64_t ts, uint64_t a, uint64_t b, const void *payload,
		 size_t len)
{
	struct {
		struct weft_event head;
		uint8_t payload[256];
	} record = {0};
	record.head = (struct weft_event){
	    .type = (uint16_t)type, .reason = (uint8_t)reason, .ts = ts, .a = a, .b = b};
	record.head.size = (uint32_t)((WEFT_EVENT_HEADER_SIZE + len + 7) & ~7u);
	if (len)
		memcpy(record.payload, payload, len);
	struct model_source source = {.token = token, .pid = pid, .tid = tid};
	assert_int_equal(model_event(f->model, &source, &record.head), 0);
}

/* A process image starting: PROC_START + THREAD_START of its main thread. */
static void start_image(struct fixture *f, uint64_t token, uint32_t pid, unsigned origin,
			uint64_t ts, uint32_t ppid, uint64_t fork_ts, const char *argv, size_t len)
{
	feed(f, token, pid, pid, WEFT_EV_PROC_START, origin, ts, ppid, fork_ts, argv, len);
	feed(f, token, pid, pid, WEFT_EV_THREAD_START, 0, ts + 1, 0, 0, NULL, 0);
}

static void finish(struct fixture *f, int64_t ts)
{
	assert_int_equal(model_finish(f->model, ts), 0);
	assert_int_equal(tracedb_finish(f->db, "complete"), 0);
}

static void fork_child_links_to_parent_and_exec_renames_it(void **state)
{
	struct fixture *f = *state;
	char text[128];
	model_set_root(f->model, 100, 900, NULL, NULL);
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "sh\0-c\0ls -l\0", 12);
	/* The child's PROC_START is sorted before the parent's FORK record. */
	start_image(f, 2, 101, WEFT_ORIGIN_FORK, 1105, 100, 1100, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_FORK, 0, 1110, 101, 1100, NULL, 0);
	feed(f, 2, 101, 101, WEFT_EV_EXEC, 0, 1200, 0, 0, "/bin/ls\0", 8);
	start_image(f, 2, 101, WEFT_ORIGIN_EXEC, 1300, 100, 0, "ls\0-l\0", 6);
	feed(f, 2, 101, 101, WEFT_EV_PROC_EXIT, 1, 1400, 0, 0, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_WAIT, 1150, 101, 0, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_BLOCK_END, WEFT_REASON_WAIT, 1450, 101, 101, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_WAIT_RESULT, 0, 1451, 101, 0, NULL, 0);
	assert_int_equal(model_reaped(f->model, 1500, 100, 2 << 8, NULL), 0);
	finish(f, 1600);

	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM process"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM process WHERE pid = 101"), 1);
	assert_int_equal(sql_int(f->path, "SELECT c.parent_upid = p.upid FROM process c, process p "
					  "WHERE c.pid = 101 AND p.pid = 100"),
			 1);
	assert_int_equal(sql_int(f->path, "SELECT start_ts FROM process WHERE pid = 101"), 1100);
	assert_int_equal(sql_int(f->path, "SELECT start_ts FROM process WHERE pid = 100"), 900);
	assert_string_equal(
	    sql_text(f->path, "SELECT name FROM process WHERE pid = 101", text, sizeof text), "ls");
	assert_string_equal(
	    sql_text(f->path, "SELECT cmdline FROM process WHERE pid = 101", text, sizeof text),
	    "ls -l");
	assert_string_equal(
	    sql_text(f->path, "SELECT cmdline FROM process WHERE pid = 100", text, sizeof text),
	    "sh -c ls -l");
	assert_int_equal(sql_int(f->path, "SELECT exit_code FROM process WHERE pid = 101"), 0);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM process WHERE pid = 101"), 1451);
	assert_int_equal(sql_int(f->path, "SELECT exit_code FROM process WHERE pid = 100"), 2);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM process WHERE pid = 100"), 1500);
	/* One main thread row per process, kept across the exec. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM thread WHERE tid = 101"), 1);
	assert_int_equal(sql_int(f->path, "SELECT is_main FROM thread WHERE tid = 101"), 1);
	/* The child is New from the fork call to its first record. */
	assert_string_equal(sql_text(f->path,
				     "SELECT state FROM process_state s JOIN process p "
				     "USING (upid) WHERE p.pid = 101 ORDER BY ts",
				     text, sizeof text),
			    "New");
	assert_int_equal(sql_int(f->path, "SELECT dur FROM process_state s JOIN process p USING "
					  "(upid) WHERE p.pid = 101 ORDER BY ts"),
			 5);
	/* The parent waited on its child. */
	assert_string_equal(sql_text(f->path,
				     "SELECT o.label FROM thread_state s JOIN object o "
				     "USING (object_id) WHERE s.reason = 'wait'",
				     text, sizeof text),
			    "process 101");
}

static void child_that_never_ran_the_library_gets_an_untraced_row(void **state)
{
	struct fixture *f = *state;
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "make\0", 5);
	feed(f, 1, 100, 100, WEFT_EV_FORK, 0, 1110, 102, 1100, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_WAIT_RESULT, 0, 1300, 102, SIGKILL, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_FORK, 0, 1410, 103, 1400, NULL, 0);
	struct model_proc_info info = {.start_ts = 1402, .ppid = 100, .name = "static-tool"};
	assert_int_equal(model_reaped(f->model, 1500, 103, 4 << 8, &info), 0);
	finish(f, 1600);

	char text[64];
	assert_int_equal(sql_int(f->path, "SELECT traced FROM process WHERE pid = 102"), 0);
	assert_int_equal(sql_int(f->path, "SELECT start_ts FROM process WHERE pid = 102"), 1100);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM process WHERE pid = 102"), 1300);
	assert_int_equal(sql_int(f->path, "SELECT exit_signal FROM process WHERE pid = 102"),
			 SIGKILL);
	assert_int_equal(sql_int(f->path, "SELECT exit_code FROM process WHERE pid = 102"), -998);
	assert_int_equal(sql_int(f->path, "SELECT parent_upid FROM process WHERE pid = 102"),
			 sql_int(f->path, "SELECT upid FROM process WHERE pid = 100"));
	assert_int_equal(sql_int(f->path, "SELECT exit_code FROM process WHERE pid = 103"), 4);
	assert_string_equal(
	    sql_text(f->path, "SELECT name FROM process WHERE pid = 103", text, sizeof text),
	    "static-tool");
	/* Every process ends; its states tile its life. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM process WHERE end_ts IS NULL"), 0);
	assert_int_equal(sql_int(f->path, "SELECT sum(dur) FROM process_state s JOIN process p "
					  "USING (upid) WHERE p.pid = 102"),
			 200);
}

static void reaped_status_beats_wait_result_beats_proc_exit(void **state)
{
	struct fixture *f = *state;
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "a\0", 2);
	start_image(f, 2, 101, WEFT_ORIGIN_FORK, 1100, 100, 1050, NULL, 0);
	start_image(f, 3, 102, WEFT_ORIGIN_FORK, 1100, 100, 1050, NULL, 0);
	feed(f, 2, 101, 101, WEFT_EV_PROC_EXIT, 1, 1200, 5, 0, NULL, 0);
	feed(f, 3, 102, 102, WEFT_EV_PROC_EXIT, 1, 1200, 5, 0, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_WAIT_RESULT, 0, 1300, 101, 6 << 8, NULL, 0);
	assert_int_equal(model_gone(f->model, 1400, 102), 0); /* nobody reaped it here */
	assert_int_equal(model_reaped(f->model, 1500, 100, SIGTERM, NULL), 0);
	finish(f, 1600);

	assert_int_equal(sql_int(f->path, "SELECT exit_code FROM process WHERE pid = 101"), 6);
	assert_int_equal(sql_int(f->path, "SELECT exit_code FROM process WHERE pid = 102"), 5);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM process WHERE pid = 102"), 1200);
	assert_int_equal(sql_int(f->path, "SELECT exit_signal FROM process WHERE pid = 100"),
			 SIGTERM);
}

static void threads_start_at_create_call_and_end_with_their_process(void **state)
{
	struct fixture *f = *state;
	char text[64];
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "cashiers\0", 9);
	feed(f, 1, 100, 200, WEFT_EV_THREAD_START, 0, 1120, 100, 1100, NULL, 0);
	feed(f, 1, 100, 200, WEFT_EV_THREAD_NAME, 0, 1121, 200, 0, "cashier-1\0", 10);
	feed(f, 1, 100, 201, WEFT_EV_THREAD_START, 0, 1130, 100, 1101, NULL, 0);
	/* 201 waits on a mutex that 200 holds. */
	feed(f, 1, 100, 201, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_MUTEX, 1200, 0xabc0, 200, NULL, 0);
	feed(f, 1, 100, 201, WEFT_EV_BLOCK_END, WEFT_REASON_MUTEX, 1250, 0xabc0, 0, NULL, 0);
	feed(f, 1, 100, 200, WEFT_EV_THREAD_EXIT, 0, 1300, 0, 0, NULL, 0);
	/* 201 never says it exits: the process is killed. */
	assert_int_equal(model_reaped(f->model, 1400, 100, SIGKILL, NULL), 0);
	finish(f, 1500);

	assert_int_equal(sql_int(f->path, "SELECT start_ts FROM thread WHERE tid = 200"), 1100);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM thread WHERE tid = 200"), 1300);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM thread WHERE tid = 201"), 1400);
	assert_string_equal(
	    sql_text(f->path, "SELECT name FROM thread WHERE tid = 200", text, sizeof text),
	    "cashier-1");
	assert_int_equal(sql_int(f->path, "SELECT s.holder_utid = h.utid FROM thread_state s, "
					  "thread h WHERE s.reason = 'mutex' AND h.tid = 200"),
			 1);
	assert_string_equal(
	    sql_text(f->path, "SELECT label FROM object WHERE kind = 'mutex'", text, sizeof text),
	    "mutex 0xabc0");
	/* Each thread's spans tile [start_ts, end_ts). */
	assert_int_equal(
	    sql_int(f->path,
		    "SELECT count(*) FROM thread t WHERE "
		    "(SELECT min(ts) FROM thread_state s WHERE s.utid = t.utid) != t.start_ts "
		    "OR (SELECT sum(dur) FROM thread_state s WHERE s.utid = t.utid) "
		    "   != t.end_ts - t.start_ts"),
	    0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM thread_state a JOIN thread_state b "
					  "ON a.utid = b.utid AND a.rowid != b.rowid "
					  "AND a.ts < b.ts + b.dur AND b.ts < a.ts + a.dur"),
			 0);
}

static void exec_ends_the_other_threads_of_the_old_image(void **state)
{
	struct fixture *f = *state;
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "old\0", 4);
	feed(f, 1, 100, 200, WEFT_EV_THREAD_START, 0, 1100, 100, 1090, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_EXEC, 0, 1200, 0, 0, "/bin/new\0", 9);
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1300, 50, 0, "new\0", 4);
	assert_int_equal(model_reaped(f->model, 1400, 100, 0, NULL), 0);
	finish(f, 1500);

	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM thread WHERE tid = 200"), 1300);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM thread WHERE tid = 100"), 1400);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM process"), 1);
}

static void untraced_workload_keeps_its_command_line_and_fork_time(void **state)
{
	struct fixture *f = *state;
	char text[128];
	model_set_root(f->model, 300, 1000, "static-program-name", "./static-program-name -v");
	struct model_proc_info info = {.start_ts = 1010, .ppid = 1, .name = "static-program-"};
	assert_int_equal(model_reaped(f->model, 2000, 300, 1 << 8, &info), 0);
	finish(f, 2100);

	assert_string_equal(sql_text(f->path, "SELECT name FROM process", text, sizeof text),
			    "static-program-name");
	assert_string_equal(sql_text(f->path, "SELECT cmdline FROM process", text, sizeof text),
			    "./static-program-name -v");
	assert_int_equal(sql_int(f->path, "SELECT start_ts FROM process"), 1000);
	assert_int_equal(sql_int(f->path, "SELECT traced FROM process"), 0);
	assert_int_equal(sql_int(f->path, "SELECT exit_code FROM process"), 1);
	assert_int_equal(sql_int(f->path, "SELECT sum(dur) FROM process_state"), 1000);
}

static void context_switches_give_cpus_ready_spans_and_sched_slices(void **state)
{
	struct fixture *f = *state;
	char text[64];
	/* Before the thread is known, and for unknown processes: ignored. */
	assert_int_equal(model_switch(f->model, 990, 100, 100, 0, false, false), 0);
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "spin\0", 5);
	assert_int_equal(model_switch(f->model, 1005, 999, 999, 0, false, false), 0);
	assert_int_equal(model_switch(f->model, 1010, 100, 100, 1, false, false), 0);
	assert_int_equal(model_switch(f->model, 1100, 100, 100, 1, true, true), 0); /* preempted */
	assert_int_equal(model_switch(f->model, 1150, 100, 100, 0, false, false), 0);
	feed(f, 1, 100, 100, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_SLEEP, 1200, 0, 1000, NULL, 0);
	assert_int_equal(model_switch(f->model, 1210, 100, 100, 0, true, false), 0); /* sleeps */
	assert_int_equal(model_switch(f->model, 1300, 100, 100, 0, false, false), 0);
	feed(f, 1, 100, 100, WEFT_EV_BLOCK_END, WEFT_REASON_SLEEP, 1310, 0, 0, NULL, 0);
	assert_int_equal(model_reaped(f->model, 1400, 100, 0, NULL), 0);
	finish(f, 1500);

	assert_string_equal(sql_text(f->path, "SELECT sched_source FROM thread", text, sizeof text),
			    "perf");
	assert_int_equal(sql_int(f->path, "SELECT cpu FROM thread_state WHERE ts = 1010"), 1);
	assert_string_equal(
	    sql_text(f->path, "SELECT state FROM thread_state WHERE ts = 1100", text, sizeof text),
	    "Ready");
	assert_string_equal(
	    sql_text(f->path, "SELECT state FROM process_state WHERE ts = 1100", text, sizeof text),
	    "Ready");
	/* On the CPU inside sleep() until the switch-out: Running, then
	 * Blocked on sleep. */
	assert_int_equal(sql_int(f->path, "SELECT dur FROM thread_state WHERE ts = 1150"), 60);
	assert_string_equal(
	    sql_text(f->path, "SELECT reason FROM thread_state WHERE ts = 1210", text, sizeof text),
	    "sleep");
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sched_slice"), 3);
	assert_string_equal(sql_text(f->path, "SELECT end_state FROM sched_slice WHERE ts = 1010",
				     text, sizeof text),
			    "Ready");
	assert_string_equal(sql_text(f->path, "SELECT end_state FROM sched_slice WHERE ts = 1150",
				     text, sizeof text),
			    "Blocked");
	assert_string_equal(sql_text(f->path,
				     "SELECT end_state || ' ' || dur FROM sched_slice "
				     "WHERE ts = 1300",
				     text, sizeof text),
			    "Terminated 100");
}

/* The kernel's task records (perf) make what runs none of our code: a
 * child that execs a static binary gets its row at its fork, its name from
 * the exec, threads with their own names and exits, and scheduler spans;
 * a thread made by a raw clone() inside a traced process too. */
static void kernel_records_make_what_runs_none_of_our_code(void **state)
{
	struct fixture *f = *state;
	char text[64];
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "make\0", 5);
	assert_int_equal(model_task_fork(f->model, 1100, 102, 102, 100, 100), 0);
	assert_int_equal(model_task_comm(f->model, 1150, 102, 102, "gotool", true), 0);
	assert_int_equal(model_switch(f->model, 1160, 102, 102, 0, false, false), 0);
	feed(f, 1, 100, 100, WEFT_EV_FORK, 0, 1170, 102, 1090, "/opt/bin/gotool\0", 16);
	assert_int_equal(model_switch(f->model, 1200, 102, 102, 0, true, false), 0);
	assert_int_equal(model_task_fork(f->model, 1210, 102, 103, 102, 102), 0);
	assert_int_equal(model_switch(f->model, 1220, 102, 103, 1, false, false), 0);
	assert_int_equal(model_task_comm(f->model, 1225, 102, 103, "worker", false), 0);
	assert_int_equal(model_switch(f->model, 1300, 102, 103, 1, true, false), 0);
	assert_int_equal(model_task_exit(f->model, 1310, 102, 103), 0);
	assert_int_equal(model_switch(f->model, 1320, 102, 102, 0, false, false), 0);
	assert_int_equal(model_switch(f->model, 1380, 102, 102, 0, true, false), 0);
	assert_int_equal(model_task_exit(f->model, 1390, 102, 102), 0);
	feed(f, 1, 100, 100, WEFT_EV_WAIT_RESULT, 0, 1400, 102, 4 << 8, NULL, 0);
	/* a raw clone() in the traced process */
	assert_int_equal(model_task_fork(f->model, 1500, 100, 101, 100, 100), 0);
	assert_int_equal(model_switch(f->model, 1510, 100, 101, 0, false, false), 0);
	assert_int_equal(model_switch(f->model, 1600, 100, 101, 0, true, false), 0);
	assert_int_equal(model_task_exit(f->model, 1610, 100, 101), 0);
	assert_int_equal(model_reaped(f->model, 1900, 100, 0, NULL), 0);
	finish(f, 2000);

	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM process"), 2);
	assert_int_equal(sql_int(f->path, "SELECT traced FROM process WHERE pid = 102"), 0);
	assert_int_equal(sql_int(f->path, "SELECT start_ts FROM process WHERE pid = 102"), 1100);
	assert_int_equal(sql_int(f->path, "SELECT exit_code FROM process WHERE pid = 102"), 4);
	assert_int_equal(sql_int(f->path, "SELECT parent_upid FROM process WHERE pid = 102"),
			 sql_int(f->path, "SELECT upid FROM process WHERE pid = 100"));
	assert_string_equal(
	    sql_text(f->path, "SELECT name FROM process WHERE pid = 102", text, sizeof text),
	    "gotool");
	assert_string_equal(
	    sql_text(f->path, "SELECT cmdline FROM process WHERE pid = 102", text, sizeof text),
	    "/opt/bin/gotool");
	assert_string_equal(
	    sql_text(f->path, "SELECT name FROM thread WHERE tid = 103", text, sizeof text),
	    "worker");
	assert_int_equal(sql_int(f->path, "SELECT start_ts FROM thread WHERE tid = 103"), 1210);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM thread WHERE tid = 103"), 1310);
	assert_int_equal(sql_int(f->path, "SELECT sum(dur) FROM thread_state s JOIN thread t "
					  "USING (utid) WHERE t.tid = 103 AND s.state = 'Running'"),
			 80);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sched_slice s JOIN thread t "
					  "USING (utid) WHERE t.tid = 102"),
			 2);
	/* the fork flow reaches the untraced child's main thread */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flow WHERE kind = 'fork' AND "
					  "utid_in = (SELECT utid FROM thread WHERE tid = 102)"),
			 1);
	/* the raw clone: a thread of the traced process, its creator's name */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM thread t JOIN process p "
					  "USING (upid) WHERE t.tid = 101 AND p.pid = 100"),
			 1);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM thread WHERE tid = 101"), 1610);
	assert_string_equal(
	    sql_text(f->path, "SELECT name FROM thread WHERE tid = 101", text, sizeof text),
	    "make");
	/* every thread's spans tile its life */
	assert_int_equal(sql_int(f->path,
				 "SELECT count(*) FROM thread t WHERE "
				 "(SELECT sum(dur) FROM thread_state s WHERE s.utid = t.utid) "
				 "!= t.end_ts - t.start_ts"),
			 0);
}

/* Untraced processes whose parent is untraced too: only the kernel says
 * when they end (their last thread's exit), and a tid or pid the kernel
 * reuses makes a new thread or process, not the old one's. Our FORK record
 * coming before the kernel's names the child from its path. */
static void kernel_only_processes_end_at_exit_and_reused_ids_are_new(void **state)
{
	struct fixture *f = *state;
	char text[64];
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "sh\0", 3);
	/* 200: a static shell, forked by kernel record only; it forks 300 */
	assert_int_equal(model_task_fork(f->model, 1100, 200, 200, 100, 100), 0);
	assert_int_equal(model_task_fork(f->model, 1200, 300, 300, 200, 200), 0);
	assert_int_equal(model_task_fork(f->model, 1210, 300, 301, 300, 300), 0);
	assert_int_equal(model_task_exit(f->model, 1250, 300, 301), 0);
	assert_int_equal(model_task_exit(f->model, 1300, 300, 300), 0); /* 300 is over */
	/* pid 300 again (reaped by 200, which we cannot see), tid 301 again */
	assert_int_equal(model_task_fork(f->model, 1400, 300, 300, 200, 200), 0);
	assert_int_equal(model_task_fork(f->model, 1410, 300, 301, 300, 300), 0);
	assert_int_equal(model_switch(f->model, 1420, 300, 301, 0, false, false), 0);
	assert_int_equal(model_switch(f->model, 1450, 300, 301, 0, true, false), 0);
	assert_int_equal(model_task_exit(f->model, 1460, 300, 301), 0);
	assert_int_equal(model_task_exit(f->model, 1470, 300, 300), 0);
	/* our FORK first, then the kernel's: one process, named by its path */
	feed(f, 1, 100, 100, WEFT_EV_FORK, 0, 1500, 400, 1490, "/usr/bin/tool\0", 14);
	assert_int_equal(model_task_fork(f->model, 1495, 400, 400, 100, 100), 0);
	assert_int_equal(model_task_exit(f->model, 1600, 400, 400), 0);
	feed(f, 1, 100, 100, WEFT_EV_WAIT_RESULT, 0, 1610, 400, 2 << 8, NULL, 0);
	assert_int_equal(model_task_exit(f->model, 1700, 200, 200), 0);
	assert_int_equal(model_reaped(f->model, 1800, 200, 0, NULL), 0);
	assert_int_equal(model_reaped(f->model, 1900, 100, 0, NULL), 0);
	finish(f, 5000);

	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM process WHERE pid = 300"), 2);
	assert_int_equal(sql_int(f->path, "SELECT min(end_ts) FROM process WHERE pid = 300"), 1300);
	assert_int_equal(sql_int(f->path, "SELECT max(end_ts) FROM process WHERE pid = 300"), 1470);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM thread WHERE tid = 301"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM thread t JOIN process p USING "
					  "(upid) WHERE t.tid = 301 AND p.start_ts = 1400"),
			 1);
	assert_int_equal(sql_int(f->path,
				 "SELECT sum(s.dur) FROM thread_state s JOIN thread t "
				 "USING (utid) JOIN process p USING (upid) WHERE t.tid = 301 "
				 "AND p.start_ts = 1400 AND s.state = 'Running'"),
			 30);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM process WHERE pid = 400"), 1);
	assert_int_equal(sql_int(f->path, "SELECT exit_code FROM process WHERE pid = 400"), 2);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM process WHERE pid = 400"), 1600);
	assert_string_equal(
	    sql_text(f->path, "SELECT name FROM process WHERE pid = 400", text, sizeof text),
	    "tool");
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM process WHERE pid = 200"), 1700);
	assert_int_equal(sql_int(f->path, "SELECT exit_code FROM process WHERE pid = 200"), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM process WHERE end_ts IS NULL"), 0);
}

static void wake_ups_become_flows_and_name_the_waker(void **state)
{
	struct fixture *f = *state;
	char text[64];
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "lockers\0", 8);
	/* 200 created by 100 at 1100; it waits on a mutex 100 holds. */
	feed(f, 1, 100, 200, WEFT_EV_THREAD_START, 0, 1120, 100, 1100, NULL, 0);
	feed(f, 1, 100, 200, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_MUTEX, 1200, 0xa0, 100, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_UNLOCK, WEFT_REASON_MUTEX, 1290, 0xa0, 0, NULL, 0);
	feed(f, 1, 100, 200, WEFT_EV_BLOCK_END, WEFT_REASON_MUTEX, 1300, 0xa0, 0, NULL, 0);
	/* An unlock before the wait began woke nobody; a timed-out wait
	 * was woken by nobody. */
	feed(f, 1, 100, 100, WEFT_EV_UNLOCK, WEFT_REASON_MUTEX, 1310, 0xa0, 0, NULL, 0);
	feed(f, 1, 100, 200, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_MUTEX, 1400, 0xa0, 100, NULL, 0);
	feed(f, 1, 100, 200, WEFT_EV_BLOCK_END, WEFT_REASON_MUTEX, 1450, 0xa0, 110, NULL, 0);
	/* 200 exits; 100 joins it. */
	feed(f, 1, 100, 100, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_JOIN, 1460, 0x7f00, 200, NULL, 0);
	feed(f, 1, 100, 200, WEFT_EV_THREAD_EXIT, 0, 1500, 0, 0, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_BLOCK_END, WEFT_REASON_JOIN, 1510, 0x7f00, 0, NULL, 0);
	/* 100 forks 101 (child's records first), waits for it. */
	start_image(f, 2, 101, WEFT_ORIGIN_FORK, 1605, 100, 1600, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_FORK, 0, 1610, 101, 1600, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_WAIT, 1620, 101, 0, NULL, 0);
	feed(f, 2, 101, 101, WEFT_EV_PROC_EXIT, 1, 1700, 0, 0, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_BLOCK_END, WEFT_REASON_WAIT, 1710, 101, 101, NULL, 0);
	feed(f, 1, 100, 100, WEFT_EV_WAIT_RESULT, 0, 1711, 101, 0, NULL, 0);
	assert_int_equal(model_reaped(f->model, 1800, 100, 0, NULL), 0);
	finish(f, 1900);

	const char *by_kind = "SELECT ts_out || ' ' || o.tid || ' ' || ts_in || ' ' || i.tid "
			      "FROM flow f JOIN thread o ON o.utid = f.utid_out "
			      "JOIN thread i ON i.utid = f.utid_in WHERE kind = '%s'";
	char sql[512];
	snprintf(sql, sizeof sql, by_kind, "create");
	assert_string_equal(sql_text(f->path, sql, text, sizeof text), "1100 100 1120 200");
	snprintf(sql, sizeof sql, by_kind, "unlock");
	assert_string_equal(sql_text(f->path, sql, text, sizeof text), "1290 100 1300 200");
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flow WHERE kind = 'unlock'"), 1);
	assert_string_equal(sql_text(f->path,
				     "SELECT o.label FROM flow JOIN object o USING "
				     "(object_id) WHERE flow.kind = 'unlock'",
				     text, sizeof text),
			    "mutex 0xa0");
	snprintf(sql, sizeof sql, by_kind, "join");
	assert_string_equal(sql_text(f->path, sql, text, sizeof text), "1500 200 1510 100");
	snprintf(sql, sizeof sql, by_kind, "fork");
	assert_string_equal(sql_text(f->path, sql, text, sizeof text), "1600 100 1605 101");
	snprintf(sql, sizeof sql, by_kind, "waitpid");
	assert_string_equal(sql_text(f->path, sql, text, sizeof text), "1700 101 1710 100");
	/* The Blocked spans those edges ended name their waker. */
	assert_int_equal(sql_int(f->path, "SELECT t.tid FROM thread_state s JOIN thread t ON "
					  "t.utid = s.waker_utid WHERE s.ts = 1200"),
			 100);
	assert_int_equal(sql_int(f->path, "SELECT waker_utid FROM thread_state WHERE ts = 1400"),
			 -998);
	assert_int_equal(sql_int(f->path, "SELECT t.tid FROM thread_state s JOIN thread t ON "
					  "t.utid = s.waker_utid WHERE s.ts = 1620"),
			 101);
}

static void pipe_bytes_flow_between_processes_on_one_pipe(void **state)
{
	struct fixture *f = *state;
	char text[64];
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "ls\0", 3);
	start_image(f, 2, 101, WEFT_ORIGIN_EXEC, 1000, 50, 0, "grep\0", 5);
	feed(f, 1, 100, 100, WEFT_EV_FD_CHANNEL, 1, 1010, 1, 77, NULL, 0);
	feed(f, 2, 101, 101, WEFT_EV_FD_CHANNEL, 1, 1010, 0, 77, NULL, 0);
	/* grep waits for data on its end of the pipe. */
	feed(f, 2, 101, 101, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_IO, 1020, 0, 0, NULL, 0);
	for (int i = 0; i < 3; i++) {
		struct weft_event done = {.type = WEFT_EV_IO_DONE,
					  .call = WEFT_CALL_WRITE,
					  .ts = 1100 + (uint64_t)i * 10,
					  .a = 1,
					  .b = 4096,
					  .size = WEFT_EVENT_HEADER_SIZE};
		struct model_source ls = {.token = 1, .pid = 100, .tid = 100};
		assert_int_equal(model_event(f->model, &ls, &done), 0);
	}
	feed(f, 2, 101, 101, WEFT_EV_BLOCK_END, WEFT_REASON_IO, 1101, 0, 4096, NULL, 0);
	struct weft_event done = {.type = WEFT_EV_IO_DONE,
				  .call = WEFT_CALL_READ,
				  .ts = 1140,
				  .a = 0,
				  .b = 12288,
				  .size = WEFT_EVENT_HEADER_SIZE};
	struct model_source grep = {.token = 2, .pid = 101, .tid = 101};
	assert_int_equal(model_event(f->model, &grep, &done), 0);
	/* ls's stdout is closed: later writes on fd 1 are on nothing. */
	feed(f, 1, 100, 100, WEFT_EV_FD_CHANNEL, 1, 1150, 1, 0, NULL, 0);
	done = (struct weft_event){.type = WEFT_EV_IO_DONE,
				   .call = WEFT_CALL_WRITE,
				   .ts = 1160,
				   .a = 1,
				   .b = 10,
				   .size = WEFT_EVENT_HEADER_SIZE};
	struct model_source ls = {.token = 1, .pid = 100, .tid = 100};
	assert_int_equal(model_event(f->model, &ls, &done), 0);
	assert_int_equal(model_reaped(f->model, 1200, 100, 0, NULL), 0);
	assert_int_equal(model_reaped(f->model, 1200, 101, 0, NULL), 0);
	finish(f, 1300);

	assert_string_equal(sql_text(f->path,
				     "SELECT kind || ' ' || label || ' ' || messages || "
				     "' ' || bytes FROM message_traffic",
				     text, sizeof text),
			    "pipe pipe:[77] 1 12288");
	assert_int_equal(sql_int(f->path, "SELECT ts_out FROM flow WHERE kind = 'pipe'"), 1120);
	assert_int_equal(sql_int(f->path, "SELECT upid FROM object WHERE kind = 'pipe'"), -998);
	assert_string_equal(sql_text(f->path,
				     "SELECT o.label FROM thread_state s JOIN object o "
				     "USING (object_id) WHERE s.reason = 'io'",
				     text, sizeof text),
			    "pipe:[77]");
}

static void stopped_process_is_suspended_until_continued(void **state)
{
	struct fixture *f = *state;
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "sh\0", 3);
	assert_int_equal(model_suspend(f->model, 1100, 100, 0, true), 0);
	assert_int_equal(model_suspend(f->model, 1400, 100, 0, false), 0);
	assert_int_equal(model_suspend(f->model, 1450, 999, 0, true), 0); /* unknown: ignored */
	assert_int_equal(model_reaped(f->model, 1500, 100, 0, NULL), 0);
	finish(f, 1600);

	assert_int_equal(sql_int(f->path, "SELECT ts FROM process_state WHERE state = 'Suspended'"),
			 1100);
	assert_int_equal(
	    sql_int(f->path, "SELECT dur FROM process_state WHERE state = 'Suspended'"), 300);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM process_state WHERE ts = 1400 AND "
					  "state = 'Running'"),
			 1);
	/* Its thread is Suspended with it. */
	assert_int_equal(
	    sql_int(f->path,
		    "SELECT dur FROM thread_state WHERE ts = 1100 AND state = 'Suspended'"),
	    300);
}

static void thread_stopped_alone_is_suspended_its_process_not(void **state)
{
	struct fixture *f = *state;
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "app\0", 4);
	feed(f, 1, 100, 101, WEFT_EV_THREAD_START, 0, 1010, 100, 1005, NULL, 0);
	/* 101 alone is stopped (a debugger's ptrace stop), then resumed. */
	assert_int_equal(model_suspend(f->model, 1100, 100, 101, true), 0);
	assert_int_equal(model_suspend(f->model, 1300, 100, 101, false), 0);
	/* Then both, one by one: the process is Suspended while both are. */
	assert_int_equal(model_suspend(f->model, 1400, 100, 101, true), 0);
	assert_int_equal(model_suspend(f->model, 1420, 100, 100, true), 0);
	assert_int_equal(model_suspend(f->model, 1450, 100, 100, false), 0);
	assert_int_equal(model_suspend(f->model, 1460, 100, 101, false), 0);
	assert_int_equal(model_reaped(f->model, 1500, 100, 0, NULL), 0);
	finish(f, 1600);

	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM thread_state JOIN thread USING "
					  "(utid) WHERE tid = 101 AND state = 'Suspended'"),
			 2);
	assert_int_equal(sql_int(f->path, "SELECT dur FROM thread_state JOIN thread USING (utid) "
					  "WHERE tid = 101 AND state = 'Suspended' AND ts = 1100"),
			 200);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM thread_state JOIN thread USING "
					  "(utid) WHERE tid = 100 AND state = 'Suspended'"),
			 1);
	assert_int_equal(
	    sql_int(f->path, "SELECT count(*) FROM process_state WHERE state = 'Suspended'"), 1);
	assert_int_equal(
	    sql_int(f->path, "SELECT ts * 1000 + dur FROM process_state WHERE state = 'Suspended'"),
	    1420 * 1000 + 30);
}

static void reaped_process_ends_at_its_final_switch_out(void **state)
{
	struct fixture *f = *state;
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "short\0", 6);
	assert_int_equal(model_switch(f->model, 1010, 100, 100, 0, false, false), 0);
	feed(f, 1, 100, 100, WEFT_EV_PROC_EXIT, 1, 1300, 0, 0, NULL, 0);
	assert_int_equal(model_switch(f->model, 1350, 100, 100, 0, true, false), 0); /* dies */
	assert_int_equal(model_reaped(f->model, 1400, 100, 0, NULL), 0);
	finish(f, 1500);

	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM process"), 1350);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM thread"), 1350);
	assert_int_equal(sql_int(f->path, "SELECT max(ts + dur) FROM process_state"), 1350);
	assert_int_equal(sql_int(f->path, "SELECT max(ts + dur) FROM thread_state"), 1350);
}

static void cycle_of_lock_waits_is_a_deadlock_committed_at_once(void **state)
{
	struct fixture *f = *state;
	char text[256];
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "app\0", 4);
	for (uint32_t tid = 200; tid <= 203; tid++)
		feed(f, 1, 100, tid, WEFT_EV_THREAD_START, 0, 1010 + tid - 200, 100, 1005, NULL, 0);
	/* 200 -> B (held by 201) -> 201 -> C (held by 202): a chain, no cycle. */
	feed(f, 1, 100, 200, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_MUTEX, 1100, 0xb0, 201, NULL, 0);
	feed(f, 1, 100, 201, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_MUTEX, 1110, 0xc0, 202, NULL, 0);
	/* 203 waits for A too, held by 200: still no cycle. */
	feed(f, 1, 100, 203, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_MUTEX, 1115, 0xa0, 200, NULL, 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM deadlock"), 0);
	/* 202 -> A (held by 200) closes 200 -> 201 -> 202 -> 200. No commit
	 * tick has run: the row must be visible to a reader already. */
	feed(f, 1, 100, 202, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_MUTEX, 1120, 0xa0, 200, NULL, 0);
	/* A candidate until it has stood MODEL_DEADLOCK_CONFIRM_NS. */
	assert_int_equal(model_advance(f->model, 1119 + MODEL_DEADLOCK_CONFIRM_NS), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM deadlock"), 0);
	assert_int_equal(model_advance(f->model, 1120 + MODEL_DEADLOCK_CONFIRM_NS), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM deadlock"), 1);
	assert_int_equal(sql_int(f->path, "SELECT ts FROM deadlock"), 1120);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM deadlock WHERE end_ts IS NULL"), 1);
	assert_string_equal(sql_text(f->path,
				     "SELECT group_concat(t.tid, ',') FROM "
				     "(SELECT utid FROM deadlock_member ORDER BY position) m "
				     "JOIN thread t USING (utid)",
				     text, sizeof text),
			    "202,200,201");
	assert_string_equal(sql_text(f->path, "SELECT objects FROM deadlocks", text, sizeof text),
			    "mutex 0xa0, mutex 0xb0, mutex 0xc0");
	/* 201's wait ends (say, a timed lock gave up): the deadlock is over. */
	feed(f, 1, 100, 201, WEFT_EV_BLOCK_END, WEFT_REASON_MUTEX, 1300 + MODEL_DEADLOCK_CONFIRM_NS,
	     0xc0, 110, NULL, 0);
	finish(f, 1500 + MODEL_DEADLOCK_CONFIRM_NS);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM deadlock"),
			 1300 + MODEL_DEADLOCK_CONFIRM_NS);
	assert_int_equal(sql_int(f->path, "SELECT dur FROM deadlocks"),
			 180 + MODEL_DEADLOCK_CONFIRM_NS);
	assert_int_equal(sql_int(f->path, "SELECT thread_count FROM deadlocks"), 3);
}

static void relocking_a_held_mutex_is_a_deadlock_of_one(void **state)
{
	struct fixture *f = *state;
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "app\0", 4);
	feed(f, 1, 100, 100, WEFT_EV_BLOCK_BEGIN, WEFT_REASON_MUTEX, 1100, 0xa0, 100, NULL, 0);
	assert_int_equal(model_advance(f->model, 1100 + MODEL_DEADLOCK_CONFIRM_NS), 0);
	finish(f, 1500 + MODEL_DEADLOCK_CONFIRM_NS);
	assert_int_equal(sql_int(f->path, "SELECT thread_count FROM deadlocks"), 1);
	assert_int_equal(sql_int(f->path, "SELECT end_ts FROM deadlock"),
			 1500 + MODEL_DEADLOCK_CONFIRM_NS);
}

static void schedstat_samples_give_running_and_ready(void **state)
{
	struct fixture *f = *state;
	char text[64];
	model_use_samples(f->model);
	start_image(f, 1, 100, WEFT_ORIGIN_EXEC, 1000, 50, 0, "app\0", 4);
	feed(f, 1, 100, 200, WEFT_EV_THREAD_START, 0, 1000, 100, 1000, NULL, 0);
	/* Counters since the thread began: 400 ns ran, 600 waited. */
	assert_int_equal(model_sample(f->model, 2000, 100, 200, 400, 600), 0);
	/* Counters of another incarnation (smaller) are ignored. */
	assert_int_equal(model_sample(f->model, 2500, 100, 200, 10, 10), 0);
	feed(f, 1, 100, 200, WEFT_EV_THREAD_EXIT, 0, 2000, 0, 0, NULL, 0);
	finish(f, 3000);
	assert_string_equal(
	    sql_text(f->path, "SELECT sched_source FROM thread WHERE tid = 200", text, sizeof text),
	    "schedstat");
	assert_string_equal(
	    sql_text(f->path, "SELECT sched_source FROM thread WHERE tid = 100", text, sizeof text),
	    "calls");
	assert_int_equal(sql_int(f->path, "SELECT sum(dur) FROM thread_state s JOIN thread t "
					  "USING (utid) WHERE t.tid = 200 AND state = 'Running'"),
			 400);
	assert_int_equal(sql_int(f->path, "SELECT sum(dur) FROM thread_state s JOIN thread t "
					  "USING (utid) WHERE t.tid = 200 AND state = 'Ready'"),
			 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(fork_child_links_to_parent_and_exec_renames_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(child_that_never_ran_the_library_gets_an_untraced_row,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(reaped_status_beats_wait_result_beats_proc_exit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(threads_start_at_create_call_and_end_with_their_process,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(exec_ends_the_other_threads_of_the_old_image, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(untraced_workload_keeps_its_command_line_and_fork_time,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(kernel_records_make_what_runs_none_of_our_code, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		kernel_only_processes_end_at_exit_and_reused_ids_are_new, setup, teardown),
	    cmocka_unit_test_setup_teardown(context_switches_give_cpus_ready_spans_and_sched_slices,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(wake_ups_become_flows_and_name_the_waker, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(pipe_bytes_flow_between_processes_on_one_pipe, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(thread_stopped_alone_is_suspended_its_process_not,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(stopped_process_is_suspended_until_continued, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(cycle_of_lock_waits_is_a_deadlock_committed_at_once,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(relocking_a_held_mutex_is_a_deadlock_of_one, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(schedstat_samples_give_running_and_ready, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(reaped_process_ends_at_its_final_switch_out, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
