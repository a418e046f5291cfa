/*
 * test_preload_capture.c — libweft.so preloaded into a real program.
 *
 * The group setup creates a ring file, runs test_preload_workload (see its
 * comment for what it does) with LD_PRELOAD=libweft.so and WEFT_SHM
 * naming the file, waits for it, and drains every slot the way the
 * collector does. Each test then asserts one behaviour on those records.
 * The paths of libweft.so and of the workload come from the build
 * (WEFT_TEST_LIBWEFT, WEFT_TEST_WORKLOAD).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ring.h"

#define SLOTS 32
#define MAX_RECORDS 512

struct record {
	struct weft_event event;
	char payload[256];
	uint32_t slot;
	uint32_t pid;
	uint32_t tid;
	uint64_t token;
	uint32_t slot_state;
};

struct capture {
	char path[64];
	struct ring_map map;
	pid_t pid;
	int status;
	size_t count;
	struct record records[MAX_RECORDS];
};

static void collect(void *ctx, uint32_t slot_index, const struct weft_event *event)
{
	struct capture *c = ctx;
	if (c->count == MAX_RECORDS)
		return;
	struct ring_slot *slot = &c->map.slots[slot_index];
	struct record *r = &c->records[c->count++];
	r->event = *event;
	uint32_t len = event->size - WEFT_EVENT_HEADER_SIZE;
	memcpy(r->payload, event + 1, len < sizeof r->payload ? len : sizeof r->payload - 1);
	r->slot = slot_index;
	r->pid = slot->pid;
	r->tid = slot->tid;
	r->token = slot->token;
	r->slot_state = atomic_load(&slot->state);
}

static int run_workload(void **state)
{
	struct capture *c = calloc(1, sizeof *c);
	snprintf(c->path, sizeof c->path, "/dev/shm/weft-test-capture-%d", (int)getpid());
	unlink(c->path);
	if (ring_file_create(c->path, SLOTS, 65536, &c->map))
		return -1;
	c->pid = fork();
	if (c->pid == 0) {
		setenv("WEFT_SHM", c->path, 1);
		setenv("LD_PRELOAD", WEFT_TEST_LIBWEFT, 1);
		unsetenv("WEFT_OUT");
		execl(WEFT_TEST_WORKLOAD, WEFT_TEST_WORKLOAD, (char *)NULL);
		_exit(127);
	}
	if (c->pid < 0 || waitpid(c->pid, &c->status, 0) != c->pid)
		return -1;
	for (uint32_t i = 0; i < SLOTS; i++)
		if (atomic_load(&c->map.slots[i].state) != RING_SLOT_FREE)
			ring_drain(&c->map, i, collect, c);
	*state = c;
	return 0;
}

static int remove_ring(void **state)
{
	struct capture *c = *state;
	ring_file_unmap(&c->map);
	unlink(c->path);
	free(c);
	return 0;
}

/* The n-th record (from 0) of type in the slot, or NULL. */
static const struct record *find_in_slot(const struct capture *c, uint32_t slot, uint16_t type,
					 int n)
{
	for (size_t i = 0; i < c->count; i++)
		if (c->records[i].slot == slot && c->records[i].event.type == type && n-- == 0)
			return &c->records[i];
	return NULL;
}

/* The first record of type whose slot's pid is pid (0: any), or NULL. */
static const struct record *find(const struct capture *c, uint16_t type, uint32_t pid)
{
	for (size_t i = 0; i < c->count; i++)
		if (c->records[i].event.type == type && (!pid || c->records[i].pid == pid))
			return &c->records[i];
	return NULL;
}

static const struct record *first_of_slot(const struct capture *c, uint32_t slot)
{
	for (size_t i = 0; i < c->count; i++)
		if (c->records[i].slot == slot)
			return &c->records[i];
	return NULL;
}

/* In the main thread's slot of the first image, the i-th BLOCK_BEGIN of
 * reason/call, or NULL. */
static const struct record *main_wait(const struct capture *c, uint8_t reason, uint8_t call)
{
	const struct record *start = find(c, WEFT_EV_PROC_START, (uint32_t)c->pid);
	const struct record *begin;
	for (int n = 0; (begin = find_in_slot(c, start->slot, WEFT_EV_BLOCK_BEGIN, n)); n++)
		if (begin->event.reason == reason && begin->event.call == call)
			return begin;
	return NULL;
}

/* The next record of r's slot, the STACK records (where the thread was,
 * written before a wait) aside. */
static const struct record *next_in_slot(const struct capture *c, const struct record *r)
{
	for (const struct record *next = r + 1; next < c->records + c->count; next++)
		if (next->slot == r->slot && next->event.type != WEFT_EV_STACK)
			return next;
	return NULL;
}

static void program_behaves_as_without_the_tracer(void **state)
{
	struct capture *c = *state;
	assert_true(WIFEXITED(c->status));
	assert_int_equal(WEXITSTATUS(c->status), 0);
	assert_int_equal(atomic_load(&c->map.header->threads_lost), 0);
}

static void process_starts_with_its_argv_and_parent(void **state)
{
	struct capture *c = *state;
	const struct record *start = find(c, WEFT_EV_PROC_START, (uint32_t)c->pid);
	assert_non_null(start);
	assert_ptr_equal(start, first_of_slot(c, start->slot));
	assert_int_equal(start->event.reason, WEFT_ORIGIN_EXEC);
	assert_int_equal(start->event.a, (uint64_t)getpid());
	assert_string_equal(start->payload, WEFT_TEST_WORKLOAD);
	const struct record *thread = find_in_slot(c, start->slot, WEFT_EV_THREAD_START, 0);
	assert_non_null(thread);
	assert_int_equal(thread->event.a, 0);
	const struct record *name = find_in_slot(c, start->slot, WEFT_EV_THREAD_NAME, 0);
	assert_non_null(name);
	assert_int_equal(name->event.a, (uint64_t)c->pid);
	assert_true(strncmp(name->payload, "test_preload_wo", 15) == 0);
}

/* The holder thread: the slot whose THREAD_NAME says "holder". */
static const struct record *holder_name(const struct capture *c)
{
	for (size_t i = 0; i < c->count; i++)
		if (c->records[i].event.type == WEFT_EV_THREAD_NAME &&
		    !strcmp(c->records[i].payload, "holder"))
			return &c->records[i];
	return NULL;
}

static void created_thread_starts_with_its_creator_and_ends(void **state)
{
	struct capture *c = *state;
	const struct record *name = holder_name(c);
	assert_non_null(name);
	assert_int_equal(name->event.a, name->tid);
	assert_int_not_equal(name->tid, (uint32_t)c->pid);
	const struct record *start = first_of_slot(c, name->slot);
	assert_int_equal(start->event.type, WEFT_EV_THREAD_START);
	assert_int_equal(start->event.a, (uint64_t)c->pid);
	assert_true(start->event.b > 0 && start->event.b <= start->event.ts);
	/* It starts with the name it inherited, then takes its own. */
	const struct record *inherited = find_in_slot(c, name->slot, WEFT_EV_THREAD_NAME, 0);
	assert_true(strncmp(inherited->payload, "test_preload_wo", 15) == 0);
	assert_ptr_equal(find_in_slot(c, name->slot, WEFT_EV_THREAD_NAME, 1), name);
	const struct record *exit = find_in_slot(c, name->slot, WEFT_EV_THREAD_EXIT, 0);
	assert_non_null(exit);
	assert_true(exit->event.ts >= start->event.ts);
	assert_null(find_in_slot(c, name->slot, WEFT_EV_THREAD_EXIT, 1));
	assert_int_equal(name->slot_state, RING_SLOT_DONE);
}

static void contended_mutex_names_its_owner(void **state)
{
	struct capture *c = *state;
	const struct record *holder = holder_name(c);
	assert_non_null(holder);
	const struct record *start = find(c, WEFT_EV_PROC_START, (uint32_t)c->pid);
	const struct record *begin = NULL, *end = NULL;
	for (int n = 0; (begin = find_in_slot(c, start->slot, WEFT_EV_BLOCK_BEGIN, n)); n++)
		if (begin->event.reason == WEFT_REASON_MUTEX)
			break;
	assert_non_null(begin);
	assert_int_equal(begin->event.call, WEFT_CALL_MUTEX_LOCK);
	assert_int_equal(begin->event.b, holder->tid);
	assert_int_not_equal(begin->event.a, 0);
	/* The next record of the thread closes it, with the lock's result. */
	for (const struct record *r = begin + 1; r < c->records + c->count; r++)
		if (r->slot == begin->slot) {
			end = r;
			break;
		}
	assert_non_null(end);
	assert_int_equal(end->event.type, WEFT_EV_BLOCK_END);
	assert_int_equal(end->event.reason, WEFT_REASON_MUTEX);
	assert_int_equal(end->event.a, begin->event.a);
	assert_int_equal(end->event.b, 0);
	assert_true(end->event.ts > begin->event.ts);
}

static void releasing_a_wanted_mutex_records_the_unlock(void **state)
{
	struct capture *c = *state;
	const struct record *holder = holder_name(c);
	const struct record *begin = main_wait(c, WEFT_REASON_MUTEX, WEFT_CALL_MUTEX_LOCK);
	assert_non_null(holder);
	assert_non_null(begin);
	const struct record *end = next_in_slot(c, begin);
	const struct record *unlock = find_in_slot(c, holder->slot, WEFT_EV_UNLOCK, 0);
	assert_non_null(unlock);
	assert_int_equal(unlock->event.a, begin->event.a);
	assert_true(unlock->event.ts > begin->event.ts);
	assert_true(unlock->event.ts <= end->event.ts);
}

static void fork_is_recorded_in_parent_and_child(void **state)
{
	struct capture *c = *state;
	const struct record *fork_record = find(c, WEFT_EV_FORK, (uint32_t)c->pid);
	assert_non_null(fork_record);
	assert_int_equal(fork_record->event.call, WEFT_CALL_FORK);
	uint32_t child = (uint32_t)fork_record->event.a;
	assert_int_not_equal(child, 0);
	const struct record *child_start = find(c, WEFT_EV_PROC_START, child);
	assert_non_null(child_start);
	assert_ptr_equal(child_start, first_of_slot(c, child_start->slot));
	assert_int_equal(child_start->event.reason, WEFT_ORIGIN_FORK);
	assert_int_equal(child_start->event.a, (uint64_t)c->pid);
	assert_int_equal(child_start->event.b, fork_record->event.b);
	assert_int_not_equal(child_start->token, fork_record->token);
	assert_non_null(find_in_slot(c, child_start->slot, WEFT_EV_THREAD_START, 0));
	const struct record *exit = find_in_slot(c, child_start->slot, WEFT_EV_PROC_EXIT, 0);
	assert_non_null(exit);
	assert_int_equal(exit->event.a, 7);
	assert_int_equal(exit->event.reason, 0); /* _exit */
}

static void reaped_child_status_is_recorded(void **state)
{
	struct capture *c = *state;
	const struct record *fork_record = find(c, WEFT_EV_FORK, (uint32_t)c->pid);
	const struct record *result = find(c, WEFT_EV_WAIT_RESULT, (uint32_t)c->pid);
	assert_non_null(fork_record);
	assert_non_null(result);
	assert_int_equal(result->event.a, fork_record->event.a);
	assert_true(WIFEXITED((int)result->event.b));
	assert_int_equal(WEXITSTATUS((int)result->event.b), 7);
	const struct record *begin = find(c, WEFT_EV_BLOCK_BEGIN, (uint32_t)c->pid);
	for (int n = 0; begin && begin->event.reason != WEFT_REASON_WAIT; n++)
		begin = find_in_slot(c, begin->slot, WEFT_EV_BLOCK_BEGIN, n);
	assert_non_null(begin);
	assert_int_equal(begin->event.call, WEFT_CALL_WAITPID);
	assert_int_equal(begin->event.a, fork_record->event.a);
}

static void exec_image_adopts_the_token(void **state)
{
	struct capture *c = *state;
	const struct record *exec = find(c, WEFT_EV_EXEC, (uint32_t)c->pid);
	assert_non_null(exec);
	assert_string_equal(exec->payload, "/proc/self/exe");
	assert_int_equal(exec->slot_state, RING_SLOT_DONE);
	assert_null(find(c, WEFT_EV_EXEC_FAIL, (uint32_t)c->pid));
	/* The new image: same pid, another slot, the same token, argv. */
	const struct record *image = NULL;
	for (size_t i = 0; i < c->count; i++)
		if (c->records[i].event.type == WEFT_EV_PROC_START &&
		    c->records[i].pid == (uint32_t)c->pid && c->records[i].slot != exec->slot)
			image = &c->records[i];
	assert_non_null(image);
	assert_int_equal(image->event.reason, WEFT_ORIGIN_EXEC);
	assert_int_equal(image->token, exec->token);
	assert_true(image->event.ts > exec->event.ts);
	assert_string_equal(image->payload, WEFT_TEST_WORKLOAD); /* argv[0] as given */
	const char *second = image->payload + strlen(image->payload) + 1;
	assert_string_equal(second, "exec-image");
	/* Its name is the one the kernel gives it, from the path it was
	 * exec'd by (/proc/self/exe), not from argv[0]. */
	const struct record *name = find_in_slot(c, image->slot, WEFT_EV_THREAD_NAME, 0);
	assert_non_null(name);
	assert_string_equal(name->payload, "exe");
	const struct record *exit = find_in_slot(c, image->slot, WEFT_EV_PROC_EXIT, 0);
	assert_non_null(exit);
	assert_int_equal(exit->event.reason, 1); /* returned from main */
	assert_int_equal(exit->event.a, 0);
}

static void waits_never_nest_within_a_thread(void **state)
{
	struct capture *c = *state;
	size_t begins = 0;
	for (size_t i = 0; i < c->count; i++) {
		const struct record *r = &c->records[i];
		if (r->event.type != WEFT_EV_BLOCK_BEGIN)
			continue;
		begins++;
		const struct record *next = next_in_slot(c, r);
		assert_non_null(next);
		assert_int_equal(next->event.type, WEFT_EV_BLOCK_END);
		assert_int_equal(next->event.reason, r->event.reason);
		assert_int_equal(next->event.call, r->event.call);
		assert_int_equal(next->event.a, r->event.a);
	}
	assert_true(begins >= 5);
}

static void signal_handler_inside_a_wait_records_nothing(void **state)
{
	struct capture *c = *state;
	const struct record *start = find(c, WEFT_EV_PROC_START, (uint32_t)c->pid);
	const struct record *begin, *interrupted = NULL;
	for (int n = 0;
	     !interrupted && (begin = find_in_slot(c, start->slot, WEFT_EV_BLOCK_BEGIN, n)); n++) {
		const struct record *end = next_in_slot(c, begin);
		if (begin->event.call == WEFT_CALL_POLL && end &&
		    end->event.type == WEFT_EV_BLOCK_END && (int64_t)end->event.b == -EINTR)
			interrupted = begin;
	}
	/* The poll the handler interrupted is closed by its own BLOCK_END:
	 * the handler's write() left nothing in between. */
	assert_non_null(interrupted);
}

static void wait_left_by_siglongjmp_is_closed_and_recording_goes_on(void **state)
{
	struct capture *c = *state;
	const struct record *start = find(c, WEFT_EV_PROC_START, (uint32_t)c->pid);
	const struct record *begin, *end = NULL;
	for (int n = 0; (begin = find_in_slot(c, start->slot, WEFT_EV_BLOCK_BEGIN, n)); n++) {
		end = next_in_slot(c, begin);
		if (begin->event.call == WEFT_CALL_READ && end && (int64_t)end->event.b == -EINTR)
			break;
	}
	assert_non_null(begin);
	assert_int_equal(end->event.type, WEFT_EV_BLOCK_END);
	assert_int_equal(end->event.call, WEFT_CALL_READ);
	const struct record *sleep = next_in_slot(c, end);
	assert_non_null(sleep);
	assert_int_equal(sleep->event.type, WEFT_EV_BLOCK_BEGIN);
	assert_int_equal(sleep->event.call, WEFT_CALL_USLEEP);
	assert_int_equal(sleep->event.b, 1000000);
}

static void raw_futex_wait_is_recorded(void **state)
{
	struct capture *c = *state;
	const struct record *begin = main_wait(c, WEFT_REASON_FUTEX, WEFT_CALL_FUTEX);
	assert_non_null(begin);
	assert_int_not_equal(begin->event.a, 0);
	const struct record *end = next_in_slot(c, begin);
	assert_int_equal(end->event.type, WEFT_EV_BLOCK_END);
	assert_int_equal((int64_t)end->event.b, -ETIMEDOUT);
	assert_true(end->event.ts - begin->event.ts >= 1000000);
}

static void reads_on_non_blocking_fds_leave_nothing_but_the_first_eagain(void **state)
{
	struct capture *c = *state;
	const struct record *start = find(c, WEFT_EV_PROC_START, (uint32_t)c->pid);
	int eagain = 0;
	const struct record *end;
	for (int n = 0; (end = find_in_slot(c, start->slot, WEFT_EV_BLOCK_END, n)); n++)
		if (end->event.call == WEFT_CALL_READ && (int64_t)end->event.b == -EAGAIN)
			eagain++;
	/* The socketpair and the pipe were known non-blocking from the calls
	 * that made them so; the eventfd is learned from its first EAGAIN. */
	assert_int_equal(eagain, 1);
}

static void bytes_moved_on_non_blocking_fds_are_recorded_without_a_wait(void **state)
{
	struct capture *c = *state;
	const struct record *start = find(c, WEFT_EV_PROC_START, (uint32_t)c->pid);
	const struct record *wrote = NULL, *read = NULL, *r;
	for (int n = 0; (r = find_in_slot(c, start->slot, WEFT_EV_IO_DONE, n)); n++) {
		if (r->event.call == WEFT_CALL_WRITE && r->event.b == 3)
			wrote = r;
		if (r->event.call == WEFT_CALL_READ && r->event.b == 3)
			read = r;
	}
	assert_non_null(wrote);
	assert_non_null(read);
	assert_int_not_equal(wrote->event.a, read->event.a);
	assert_true(read->event.ts > wrote->event.ts);
	/* No wait was recorded on either end (the workload closes no fd
	 * before, so the numbers were never anything else). */
	for (int n = 0; (r = find_in_slot(c, start->slot, WEFT_EV_BLOCK_BEGIN, n)); n++)
		assert_false(r->event.reason == WEFT_REASON_IO &&
			     (r->event.a == wrote->event.a || r->event.a == read->event.a));
}

/* The first pair of FD_CHANNEL records in slot naming one pipe, written
 * at or after ts. */
static const struct record *pipe_pair(const struct capture *c, uint32_t slot, uint64_t ts)
{
	const struct record *first, *second;
	for (int n = 0; (first = find_in_slot(c, slot, WEFT_EV_FD_CHANNEL, n)); n++) {
		second = find_in_slot(c, slot, WEFT_EV_FD_CHANNEL, n + 1);
		if (second && first->event.ts >= ts && first->event.b &&
		    second->event.b == first->event.b && second->event.a != first->event.a)
			return first;
	}
	return NULL;
}

static void a_new_pipe_names_both_ends_with_one_channel(void **state)
{
	struct capture *c = *state;
	/* The workload makes its pipe after the fork (step 4). */
	const struct record *fork_record = find(c, WEFT_EV_FORK, (uint32_t)c->pid);
	assert_non_null(fork_record);
	const struct record *ends = pipe_pair(c, fork_record->slot, fork_record->event.ts);
	assert_non_null(ends);
	assert_int_equal(ends->event.reason, 1);
	assert_true(ends->event.a > 2);
}

static void the_next_image_finds_the_pipes_it_inherited(void **state)
{
	struct capture *c = *state;
	const struct record *exec = find(c, WEFT_EV_EXEC, (uint32_t)c->pid);
	const struct record *fork_record = find(c, WEFT_EV_FORK, (uint32_t)c->pid);
	const struct record *ends = pipe_pair(c, exec->slot, fork_record->event.ts);
	assert_non_null(ends);
	const struct record *image = NULL;
	for (size_t i = 0; i < c->count; i++)
		if (c->records[i].event.type == WEFT_EV_PROC_START &&
		    c->records[i].pid == (uint32_t)c->pid && c->records[i].slot != exec->slot)
			image = &c->records[i];
	assert_non_null(image);
	int found = 0;
	for (int n = 0;; n++) {
		const struct record *r = find_in_slot(c, image->slot, WEFT_EV_FD_CHANNEL, n);
		if (!r)
			break;
		if (r->event.a == ends->event.a && r->event.b == ends->event.b)
			found = 1;
	}
	assert_true(found);
}

static void close_range_closes_the_pipes_it_covers(void **state)
{
	struct capture *c = *state;
	const struct record *start = find(c, WEFT_EV_PROC_START, (uint32_t)c->pid);
	uint64_t opened[2] = {0, 0}, closed[2] = {0, 0};
	const struct record *r;
	for (int n = 0; (r = find_in_slot(c, start->slot, WEFT_EV_FD_CHANNEL, n)); n++) {
		if (r->event.a != 100 && r->event.a != 101)
			continue;
		if (r->event.b)
			opened[r->event.a - 100] = r->event.b;
		else if (opened[r->event.a - 100])
			closed[r->event.a - 100] = 1;
	}
	assert_int_not_equal(opened[0], 0);
	assert_int_equal(opened[0], opened[1]);
	assert_int_equal(closed[0], 1);
	assert_int_equal(closed[1], 1);
}

static void every_slot_keeps_time_order(void **state)
{
	struct capture *c = *state;
	for (size_t i = 1; i < c->count; i++)
		if (c->records[i].slot == c->records[i - 1].slot)
			assert_true(c->records[i].event.ts >= c->records[i - 1].event.ts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(program_behaves_as_without_the_tracer),
	    cmocka_unit_test(process_starts_with_its_argv_and_parent),
	    cmocka_unit_test(created_thread_starts_with_its_creator_and_ends),
	    cmocka_unit_test(contended_mutex_names_its_owner),
	    cmocka_unit_test(releasing_a_wanted_mutex_records_the_unlock),
	    cmocka_unit_test(fork_is_recorded_in_parent_and_child),
	    cmocka_unit_test(reaped_child_status_is_recorded),
	    cmocka_unit_test(exec_image_adopts_the_token),
	    cmocka_unit_test(waits_never_nest_within_a_thread),
	    cmocka_unit_test(signal_handler_inside_a_wait_records_nothing),
	    cmocka_unit_test(wait_left_by_siglongjmp_is_closed_and_recording_goes_on),
	    cmocka_unit_test(raw_futex_wait_is_recorded),
	    cmocka_unit_test(reads_on_non_blocking_fds_leave_nothing_but_the_first_eagain),
	    cmocka_unit_test(bytes_moved_on_non_blocking_fds_are_recorded_without_a_wait),
	    cmocka_unit_test(a_new_pipe_names_both_ends_with_one_channel),
	    cmocka_unit_test(the_next_image_finds_the_pipes_it_inherited),
	    cmocka_unit_test(close_range_closes_the_pipes_it_covers),
	    cmocka_unit_test(every_slot_keeps_time_order),
	};
	return cmocka_run_group_tests(tests, run_workload, remove_ring);
}
