/*
 * test_preload_parts.c — the parts of libweft.so that interpose nothing:
 * argv packing from /proc/self/cmdline bytes and from an argv array, the
 * thread name from /proc/self/comm and from the exec'd path, the wait
 * status synthesized from waitid's siginfo, the tid of another thread read
 * through its pthread_t, and the mutex owner read from glibc's lock word.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmdline.h"
#include "owner.h"
#include "threadtid.h"
#include "waitstatus.h"

/* --- cmdline_pack ---------------------------------------------------- */

static void pack_keeps_every_argument_nul_terminated(void **state)
{
	const char raw[] = "ls\0-l\0/tmp\0";
	char out[64];
	size_t len = cmdline_pack(raw, sizeof raw - 1, out, sizeof out);
	assert_int_equal(len, sizeof raw - 1);
	assert_memory_equal(out, raw, len);
}

static void pack_terminates_a_last_argument_missing_its_nul(void **state)
{
	const char raw[] = {'s', 'h', '\0', 'x', 'y'};
	char out[16];
	size_t len = cmdline_pack(raw, sizeof raw, out, sizeof out);
	assert_int_equal(len, 6);
	assert_memory_equal(out, "sh\0xy\0", 6);
}

static void pack_cuts_the_argument_that_does_not_fit(void **state)
{
	const char raw[] = "prog\0abcdefgh\0tail\0";
	char out[10];
	size_t len = cmdline_pack(raw, sizeof raw - 1, out, sizeof out);
	assert_int_equal(len, 10);
	assert_memory_equal(out, "prog\0abcd\0", 10);
}

static void pack_of_nothing_is_empty(void **state)
{
	char out[8] = "xxxxxxx";
	assert_int_equal(cmdline_pack("", 0, out, sizeof out), 0);
	assert_int_equal(cmdline_pack("a\0", 2, out, 0), 0);
}

static void pack_reads_this_process_cmdline(void **state)
{
	char raw[4096], out[4096];
	long n = cmdline_read_file("/proc/self/cmdline", raw, sizeof raw);
	assert_true(n > 0);
	size_t len = cmdline_pack(raw, (size_t)n, out, sizeof out);
	assert_true(len > 0);
	assert_non_null(strstr(out, "test_preload_parts"));
}

/* --- cmdline_pack_argv ----------------------------------------------- */

/* The packing of argv equals the packing of the same arguments read as
 * /proc/self/cmdline bytes, whole and cut at every size. */
static void pack_argv_equals_pack_of_the_cmdline_bytes(void **state)
{
	char *argv[] = {"prog", "", "two words", "last", NULL};
	const char raw[] = "prog\0\0two words\0last";
	char from_argv[64], from_raw[64];
	for (size_t size = 0; size <= sizeof from_raw; size++) {
		size_t a = cmdline_pack_argv(4, argv, from_argv, size);
		size_t r = cmdline_pack(raw, sizeof raw, from_raw, size);
		assert_int_equal(a, r);
		assert_memory_equal(from_argv, from_raw, a);
	}
	assert_int_equal(cmdline_pack_argv(4, argv, from_argv, sizeof from_argv), sizeof raw);
	assert_int_equal(cmdline_pack_argv(0, argv, from_argv, sizeof from_argv), 0);
}

/* --- cmdline_comm_of_path -------------------------------------------- */

static void comm_of_path_is_the_last_component_cut_to_15(void **state)
{
	char out[16];
	assert_int_equal(cmdline_comm_of_path("/usr/bin/true", out, sizeof out), 4);
	assert_string_equal(out, "true");
	assert_int_equal(cmdline_comm_of_path("worker", out, sizeof out), 6);
	assert_string_equal(out, "worker");
	assert_int_equal(cmdline_comm_of_path("./a-name-longer-than-fifteen", out, sizeof out), 15);
	assert_string_equal(out, "a-name-longer-t");
	assert_int_equal(cmdline_comm_of_path("/bin/x2", out, 3), 2);
	assert_string_equal(out, "x2");
}

static void comm_of_path_gives_up_where_the_kernel_may_differ(void **state)
{
	char out[16];
	assert_int_equal(cmdline_comm_of_path(NULL, out, sizeof out), 0);
	assert_int_equal(cmdline_comm_of_path("", out, sizeof out), 0);
	assert_int_equal(cmdline_comm_of_path("/usr/bin/", out, sizeof out), 0);
	assert_int_equal(cmdline_comm_of_path("/dev/fd/3", out, sizeof out), 0);
	assert_string_equal(out, "");
}

/* This process's own name as the kernel keeps it equals the one derived
 * from the path it was started by. */
static void comm_of_path_matches_this_process(void **state)
{
	char raw[64], from_proc[16], from_path[16];
	long n = cmdline_read_file("/proc/self/comm", raw, sizeof raw);
	assert_true(n > 0);
	cmdline_comm(raw, (size_t)n, from_proc, sizeof from_proc);
	assert_true(cmdline_comm_of_path((const char *)getauxval(AT_EXECFN), from_path,
					 sizeof from_path) > 0);
	assert_string_equal(from_path, from_proc);
}

/* --- cmdline_comm ---------------------------------------------------- */

static void comm_drops_the_newline(void **state)
{
	char out[16];
	assert_int_equal(cmdline_comm("worker\n", 7, out, sizeof out), 6);
	assert_string_equal(out, "worker");
}

static void comm_keeps_at_most_15_characters(void **state)
{
	char out[16];
	assert_int_equal(cmdline_comm("abcdefghijklmnopqrst\n", 21, out, sizeof out), 15);
	assert_string_equal(out, "abcdefghijklmno");
}

static void read_file_reports_a_missing_file(void **state)
{
	char buffer[8];
	assert_int_equal(cmdline_read_file("/proc/self/no-such-file", buffer, sizeof buffer),
			 -ENOENT);
}

/* --- waitstatus ------------------------------------------------------ */

static void exited_child_status_matches_waitpid_encoding(void **state)
{
	int status = waitstatus_from_siginfo(CLD_EXITED, 7);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
}

static void killed_child_status_names_the_signal(void **state)
{
	int status = waitstatus_from_siginfo(CLD_KILLED, SIGKILL);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_false(WCOREDUMP(status));
}

static void dumped_child_status_says_core_dumped(void **state)
{
	int status = waitstatus_from_siginfo(CLD_DUMPED, SIGSEGV);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	assert_true(WCOREDUMP(status));
}

static void stopped_or_continued_child_is_not_a_termination(void **state)
{
	assert_int_equal(waitstatus_from_siginfo(CLD_STOPPED, SIGSTOP), -1);
	assert_int_equal(waitstatus_from_siginfo(CLD_CONTINUED, SIGCONT), -1);
	assert_int_equal(waitstatus_from_siginfo(0, 0), -1);
}

static void synthesized_status_equals_the_real_one(void **state)
{
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(42);
	siginfo_t info;
	assert_int_equal(waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT), 0);
	int synthesized = waitstatus_from_siginfo(info.si_code, info.si_status);
	int real = 0;
	assert_int_equal(waitpid(child, &real, 0), child);
	assert_int_equal(synthesized, real);
	assert_true(waitstatus_is_termination(real));
}

/* --- threadtid and owner --------------------------------------------- */

struct peer {
	sem_t ready;
	sem_t done;
	pthread_mutex_t *hold;
	uint32_t tid;
};

static void *peer_run(void *opaque)
{
	struct peer *peer = opaque;
	peer->tid = (uint32_t)syscall(SYS_gettid);
	if (peer->hold)
		pthread_mutex_lock(peer->hold);
	sem_post(&peer->ready);
	sem_wait(&peer->done);
	if (peer->hold)
		pthread_mutex_unlock(peer->hold);
	return NULL;
}

static void start_peer(struct peer *peer, pthread_t *thread, pthread_mutex_t *hold)
{
	peer->hold = hold;
	sem_init(&peer->ready, 0, 0);
	sem_init(&peer->done, 0, 0);
	assert_int_equal(pthread_create(thread, NULL, peer_run, peer), 0);
	sem_wait(&peer->ready);
}

static void stop_peer(struct peer *peer, pthread_t thread)
{
	sem_post(&peer->done);
	pthread_join(thread, NULL);
	sem_destroy(&peer->ready);
	sem_destroy(&peer->done);
}

static void tid_of_another_thread_is_read_through_its_pthread_t(void **state)
{
	assert_int_equal(threadtid_learn(pthread_self(), (uint32_t)syscall(SYS_gettid)), 0);
	struct peer peer;
	pthread_t thread;
	start_peer(&peer, &thread, NULL);
	assert_int_equal(threadtid_check(thread, peer.tid), 0);
	assert_int_equal(threadtid_of(thread), peer.tid);
	assert_int_not_equal(threadtid_of(thread), (uint32_t)getpid());
	stop_peer(&peer, thread);
}

static void tid_lookup_turns_off_after_a_mismatch(void **state)
{
	assert_int_equal(threadtid_learn(pthread_self(), (uint32_t)syscall(SYS_gettid)), 0);
	assert_int_equal(threadtid_check(pthread_self(), (uint32_t)syscall(SYS_gettid) + 1),
			 -EPROTO);
	assert_int_equal(threadtid_of(pthread_self()), 0);
}

static void mutex_owner_is_the_holding_thread(void **state)
{
	pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
	assert_int_equal(owner_of_mutex(&mutex), 0);
	struct peer peer;
	pthread_t thread;
	start_peer(&peer, &thread, &mutex);
	assert_int_equal(owner_of_mutex(&mutex), peer.tid);
	assert_int_equal(pthread_mutex_trylock(&mutex), EBUSY);
	stop_peer(&peer, thread);
	assert_int_equal(owner_of_mutex(&mutex), 0);
}

static void errorcheck_mutex_owner_is_read_too(void **state)
{
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_t mutex;
	pthread_mutex_init(&mutex, &attr);
	pthread_mutex_lock(&mutex);
	assert_int_equal(owner_of_mutex(&mutex), (uint32_t)syscall(SYS_gettid));
	pthread_mutex_unlock(&mutex);
	pthread_mutex_destroy(&mutex);
	pthread_mutexattr_destroy(&attr);
}

static void rwlock_writer_is_the_holding_thread(void **state)
{
	pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
	pthread_rwlock_wrlock(&rwlock);
	assert_int_equal(owner_of_rwlock_writer(&rwlock), (uint32_t)syscall(SYS_gettid));
	pthread_rwlock_unlock(&rwlock);
	assert_int_equal(owner_of_rwlock_writer(&rwlock), 0);
}

/* Wait up to 2 s for check(object) to hold; the waiting thread needs a
 * moment to reach its futex. */
static int eventually(int (*check)(const void *), const void *object)
{
	for (int i = 0; i < 2000; i++) {
		if (check(object))
			return 1;
		usleep(1000);
	}
	return 0;
}

static int mutex_waited(const void *mutex)
{
	return owner_mutex_has_waiters(mutex);
}

static int cond_waited(const void *cond)
{
	return owner_cond_has_waiters(cond);
}

static int sem_waited(const void *sem)
{
	return owner_sem_has_waiters(sem);
}

static void *lock_and_unlock(void *mutex)
{
	pthread_mutex_lock(mutex);
	pthread_mutex_unlock(mutex);
	return NULL;
}

static void mutex_with_a_blocked_locker_has_waiters(void **state)
{
	pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&mutex);
	assert_false(owner_mutex_has_waiters(&mutex));
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, lock_and_unlock, &mutex), 0);
	assert_true(eventually(mutex_waited, &mutex));
	pthread_mutex_unlock(&mutex);
	pthread_join(thread, NULL);
}

struct cond_wait {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	int go;
};

static void *wait_for_go(void *opaque)
{
	struct cond_wait *w = opaque;
	pthread_mutex_lock(&w->mutex);
	while (!w->go)
		pthread_cond_wait(&w->cond, &w->mutex);
	pthread_mutex_unlock(&w->mutex);
	return NULL;
}

static void cond_with_a_waiting_thread_has_waiters(void **state)
{
	struct cond_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	assert_false(owner_cond_has_waiters(&w.cond));
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, wait_for_go, &w), 0);
	assert_true(eventually(cond_waited, &w.cond));
	pthread_mutex_lock(&w.mutex);
	w.go = 1;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.mutex);
	pthread_join(thread, NULL);
	assert_false(owner_cond_has_waiters(&w.cond));
}

static void *wait_on_sem(void *sem)
{
	sem_wait(sem);
	return NULL;
}

static void sem_with_a_waiting_thread_has_waiters(void **state)
{
	sem_t sem;
	sem_init(&sem, 0, 0);
	assert_false(owner_sem_has_waiters(&sem));
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, wait_on_sem, &sem), 0);
	assert_true(eventually(sem_waited, &sem));
	sem_post(&sem);
	pthread_join(thread, NULL);
	assert_false(owner_sem_has_waiters(&sem));
	sem_destroy(&sem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pack_keeps_every_argument_nul_terminated),
	    cmocka_unit_test(pack_terminates_a_last_argument_missing_its_nul),
	    cmocka_unit_test(pack_cuts_the_argument_that_does_not_fit),
	    cmocka_unit_test(pack_of_nothing_is_empty),
	    cmocka_unit_test(pack_reads_this_process_cmdline),
	    cmocka_unit_test(pack_argv_equals_pack_of_the_cmdline_bytes),
	    cmocka_unit_test(comm_of_path_is_the_last_component_cut_to_15),
	    cmocka_unit_test(comm_of_path_gives_up_where_the_kernel_may_differ),
	    cmocka_unit_test(comm_of_path_matches_this_process),
	    cmocka_unit_test(comm_drops_the_newline),
	    cmocka_unit_test(comm_keeps_at_most_15_characters),
	    cmocka_unit_test(read_file_reports_a_missing_file),
	    cmocka_unit_test(exited_child_status_matches_waitpid_encoding),
	    cmocka_unit_test(killed_child_status_names_the_signal),
	    cmocka_unit_test(dumped_child_status_says_core_dumped),
	    cmocka_unit_test(stopped_or_continued_child_is_not_a_termination),
	    cmocka_unit_test(synthesized_status_equals_the_real_one),
	    cmocka_unit_test(tid_of_another_thread_is_read_through_its_pthread_t),
	    cmocka_unit_test(tid_lookup_turns_off_after_a_mismatch),
	    cmocka_unit_test(mutex_owner_is_the_holding_thread),
	    cmocka_unit_test(errorcheck_mutex_owner_is_read_too),
	    cmocka_unit_test(rwlock_writer_is_the_holding_thread),
	    cmocka_unit_test(mutex_with_a_blocked_locker_has_waiters),
	    cmocka_unit_test(cond_with_a_waiting_thread_has_waiters),
	    cmocka_unit_test(sem_with_a_waiting_thread_has_waiters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
