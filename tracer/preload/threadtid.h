/*
 * threadtid.h — the kernel tid of another thread, given its pthread_t.
 *
 * glibc has no public call for it before 2.42 (pthread_gettid_np), but a
 * pthread_t points at glibc's struct pthread, which holds the tid. Its
 * offset is learned at start-up from a thread whose tid is known (the
 * first offset in the struct holding that tid), then checked again on
 * every thread that starts through libweft.so; a mismatch turns the lookup
 * off for good (it then answers 0, "unknown").
 *
 * The kernel zeroes the field when the thread exits, so a dead thread
 * reads 0 as well. Reading a pthread_t of a thread already joined is
 * undefined, as it is for the program.
 */
#ifndef WEFT_PRELOAD_THREADTID_H
#define WEFT_PRELOAD_THREADTID_H

#include <pthread.h>
#include <stdint.h>

/* Learn the offset from thread (the caller's own pthread_self()) whose
 * kernel tid is tid. Returns 0, or -ENOENT when no offset holds it. */
int threadtid_learn(pthread_t thread, uint32_t tid);

/* Check the learned offset against a thread of known tid; on mismatch,
 * stop answering. Returns 0 when it agrees, -EPROTO when it did not. */
int threadtid_check(pthread_t thread, uint32_t tid);

/* The tid of thread, or 0 when unknown. Hot path: one load. */
uint32_t threadtid_of(pthread_t thread);

#endif
