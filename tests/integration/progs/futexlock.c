/*
 * weft-itest-futexlock - locks of a runtime's own, made of raw futex
 * system calls through syscall(2) as Rust's std does, never through
 * pthread:
 *
 *   plain  a three-state lock (0 free, 1 held, 2 held with waiters; the
 *          unlocker wakes with FUTEX_WAKE only when it sees 2): thread
 *          "plain-holder" takes it, lets "plain-waiter" try (a barrier),
 *          holds it 100 ms and releases it.
 *   pi     a priority-inheritance lock (the word holds the owner's tid;
 *          FUTEX_LOCK_PI / FUTEX_UNLOCK_PI): "pi-holder" and "pi-waiter"
 *          the same way.
 *
 * Each waiter must sleep in the kernel and be woken by its holder. Prints
 * "plain ok" and "pi ok".
 */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static _Atomic uint32_t plain_word, pi_word;
static pthread_barrier_t plain_taken, pi_taken;

static long futex(_Atomic uint32_t *word, int op, uint32_t value)
{
	return syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

static void hold_100ms(void)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

static void plain_lock(void)
{
	uint32_t free_word = 0;
	if (atomic_compare_exchange_strong(&plain_word, &free_word, 1))
		return;
	while (atomic_exchange(&plain_word, 2) != 0)
		futex(&plain_word, FUTEX_WAIT_PRIVATE, 2);
}

static void plain_unlock(void)
{
	if (atomic_exchange(&plain_word, 0) == 2)
		futex(&plain_word, FUTEX_WAKE_PRIVATE, 1);
}

static void pi_lock(void)
{
	uint32_t free_word = 0;
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	if (!atomic_compare_exchange_strong(&pi_word, &free_word, tid))
		futex(&pi_word, FUTEX_LOCK_PI_PRIVATE, 0);
}

static void pi_unlock(void)
{
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	if (!atomic_compare_exchange_strong(&pi_word, &tid, 0))
		futex(&pi_word, FUTEX_UNLOCK_PI_PRIVATE, 0);
}

static void *plain_holder(void *arg)
{
	pthread_setname_np(pthread_self(), "plain-holder");
	plain_lock();
	pthread_barrier_wait(&plain_taken);
	hold_100ms();
	plain_unlock();
	return arg;
}

static void *plain_waiter(void *arg)
{
	pthread_setname_np(pthread_self(), "plain-waiter");
	pthread_barrier_wait(&plain_taken);
	plain_lock();
	plain_unlock();
	return arg;
}

static void *pi_holder(void *arg)
{
	pthread_setname_np(pthread_self(), "pi-holder");
	pi_lock();
	pthread_barrier_wait(&pi_taken);
	hold_100ms();
	pi_unlock();
	return arg;
}

static void *pi_waiter(void *arg)
{
	pthread_setname_np(pthread_self(), "pi-waiter");
	pthread_barrier_wait(&pi_taken);
	pi_lock();
	pi_unlock();
	return arg;
}

static void pair(void *(*holder)(void *), void *(*waiter)(void *), pthread_barrier_t *barrier,
		 const char *done)
{
	pthread_t threads[2];
	pthread_barrier_init(barrier, NULL, 2);
	pthread_create(&threads[0], NULL, holder, NULL);
	pthread_create(&threads[1], NULL, waiter, NULL);
	pthread_join(threads[0], NULL);
	pthread_join(threads[1], NULL);
	puts(done);
}

int main(void)
{
	pair(plain_holder, plain_waiter, &plain_taken, "plain ok");
	pair(pi_holder, pi_waiter, &pi_taken, "pi ok");
	return 0;
}
