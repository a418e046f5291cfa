/*
 * shared.h — naming a process-shared lock or semaphore so that every
 * process using it names the same object.
 *
 * A pthread mutex or semaphore made process-shared lives in memory that
 * several processes map, each at an address of its own. When such an
 * object is first contended in a process, an OBJECT_KEY record (event.h)
 * says which mapping holds it: the mapping's device and inode and the
 * object's offset in it, read from /proc/self/maps. The collector then
 * keys the object, and the wake-ups on it, by that instead of by the
 * process and address. Not on the hot path: only where a wait or a
 * wake-up is being recorded, once per object and process (a small table
 * remembers which objects were described). Async-signal-safe: raw system
 * calls only, no allocation.
 */
#ifndef WEFT_PRELOAD_SHARED_H
#define WEFT_PRELOAD_SHARED_H

#include <pthread.h>
#include <semaphore.h>

#include "preload.h"

/* If mutex is process-shared and not yet described by this process, write
 * its OBJECT_KEY. */
void shared_note_mutex(struct preload_thread *t, const pthread_mutex_t *mutex);

/* The same for a process-shared semaphore. */
void shared_note_sem(struct preload_thread *t, const sem_t *sem);

#endif
