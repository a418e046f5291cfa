/*
 * fdnb.c — see fdnb.h.
 */
#include "fdnb.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdscan.h"

uint64_t fdnb_bits[FDNB_MAX / 64];
__thread uint8_t fdnb_paused __attribute__((tls_model("initial-exec")));

void fdnb_set(int fd, int nonblocking)
{
	if ((unsigned)fd >= FDNB_MAX || fdnb_paused)
		return;
	uint64_t bit = 1ull << (fd % 64);
	uint64_t *word = &fdnb_bits[fd / 64];
	if (nonblocking) {
		if (!(__atomic_load_n(word, __ATOMIC_RELAXED) & bit))
			__atomic_fetch_or(word, bit, __ATOMIC_RELAXED);
	} else if (__atomic_load_n(word, __ATOMIC_RELAXED) & bit) {
		__atomic_fetch_and(word, ~bit, __ATOMIC_RELAXED);
	}
}

void fdnb_copy(int from, int to)
{
	fdnb_set(to, fdnb_is(from));
}

void fdnb_forget_all(void)
{
	for (int i = 0; i < FDNB_MAX / 64; i++)
		__atomic_store_n(&fdnb_bits[i], 0, __ATOMIC_RELAXED);
}

void fdnb_learn(int fd, unsigned mode)
{
	if (S_ISREG(mode) || S_ISDIR(mode))
		return;
	long flags = syscall(SYS_fcntl, fd, F_GETFL);
	fdnb_set(fd, flags >= 0 && (flags & O_NONBLOCK));
}

static void read_flags(int fd, void *unused)
{
	fdnb_learn(fd, 0);
}

void fdnb_scan(void)
{
	fdnb_forget_all();
	fdscan_each(FDNB_MAX, read_flags, NULL);
}
