/*
 * threadtid.c — see threadtid.h. The learned offset is process-wide
 * state written at start-up; -1 means "unknown".
 */
#include "threadtid.h"

#include <errno.h>

#define SCAN_BYTES 4096 /* struct pthread is about 2.3 KiB in glibc 2.36 */

static int tid_offset = -1;

int threadtid_learn(pthread_t thread, uint32_t tid)
{
	const unsigned char *base = (const unsigned char *)thread;
	for (int offset = 0; offset < SCAN_BYTES; offset += 4) {
		if (*(const uint32_t *)(base + offset) == tid) {
			__atomic_store_n(&tid_offset, offset, __ATOMIC_RELAXED);
			return 0;
		}
	}
	return -ENOENT;
}

int threadtid_check(pthread_t thread, uint32_t tid)
{
	int offset = __atomic_load_n(&tid_offset, __ATOMIC_RELAXED);
	if (offset < 0)
		return -EPROTO;
	const unsigned char *base = (const unsigned char *)thread;
	if (*(const uint32_t *)(base + offset) == tid)
		return 0;
	__atomic_store_n(&tid_offset, -1, __ATOMIC_RELAXED);
	return -EPROTO;
}

uint32_t threadtid_of(pthread_t thread)
{
	int offset = __atomic_load_n(&tid_offset, __ATOMIC_RELAXED);
	if (offset < 0 || !thread)
		return 0;
	return __atomic_load_n((const uint32_t *)((const unsigned char *)thread + offset),
			       __ATOMIC_RELAXED);
}
