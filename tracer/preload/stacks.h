/*
 * stacks.h — where in the program a thread waits or wakes another
 * (the slow path only).
 *
 * Before a recorded wait begins (PRELOAD_BLOCKING) and before a wake-up
 * record (an unlock, a signal or post that wakes a waiter), the wrapper
 * calls stacks_record: it writes a STACK record (event.h) naming the
 * stack by an id, with the program counters as payload the first time
 * this process image shows that id. The collector pairs a STACK record
 * with the BLOCK_BEGIN or wake-up record that follows it in the same ring.
 *
 * Modes (WEFT_STACKS in the environment, set by `weft record --stacks`):
 *   full      up to STACKS_MAX_FRAMES frames unwound from .eh_frame by
 *             glibc's backtrace() (libgcc's unwinder; see below);
 *   callsite  the return address into the program only (no unwinding when
 *             the wrapper itself was called by the program);
 *   none      nothing.
 *
 * Modules: every loaded object (path, load range, bias, build-id) is
 * written as a MODULE record at the start of a process image, again in a
 * fork child, and whenever a stack holds a pc outside every known module
 * (a dlopen since): the collector turns pcs into module + offset.
 *
 * Deduplication: a lock-free open-addressing table of the ids this image
 * has written (compare-and-swap on an empty slot). The thread that
 * inserts an id writes the definition, stamped before the insertion, so
 * every reference sorts after it. A fork child forgets the table.
 *
 * The unwinder: glibc's backtrace(), warmed up at start (its first call
 * loads libgcc_s and allocates). After that it allocates nothing, and
 * libgcc takes no lock of its own (no unwind tables registered by hand:
 * its fast path) but the loader's, through dl_iterate_phdr, as a rescan
 * here does and as any .eh_frame unwinder must. libunwind's
 * unw_backtrace costs the same (bench/RESULTS.md) but opens a pipe in the
 * traced process on first use (its memory validation) that the program
 * would see among its descriptors. Frame pointers would be cheaper but
 * Debian's libraries are built without them. The thread is busy
 * (preload.h) while it unwinds, so a signal handler interrupting it
 * records nothing.
 */
#ifndef WEFT_PRELOAD_STACKS_H
#define WEFT_PRELOAD_STACKS_H

#include <stdint.h>

#include "ring.h"

#define STACKS_MAX_FRAMES 32

enum stacks_mode { STACKS_NONE = 0, STACKS_CALLSITE = 1, STACKS_FULL = 2 };

/* The roles of a STACK record (its reason field). */
enum stacks_role { STACKS_WAIT = 1, STACKS_WAKE = 2 };

extern int stacks_mode;

struct preload_thread;

/* Start of a process image: read WEFT_STACKS, warm the unwinder (its first
 * use may allocate), write a MODULE record per loaded object. */
void stacks_start(struct ring_writer *writer, uint64_t ts);

/* In a fork child: forget which stacks were written, write the modules
 * again for the child's records. */
void stacks_fork_child(struct ring_writer *writer, uint64_t ts);

/* Write the STACK record of the calling thread (role), whose wrapper was
 * called from return_address (0: unknown). */
void stacks_record(struct preload_thread *t, uint8_t role, uintptr_t return_address);

/* --- the parts, exposed for the unit tests ----------------------------- */

/* The id of a stack of depth pcs (never 0). */
uint64_t stacks_hash(const uintptr_t *pcs, unsigned depth);

/* The dedupe table: 1 when id was not in it and is now (the caller writes
 * the definition), 0 when it was, -1 when the table is full (write the
 * definition every time). */
int stacks_seen_insert(uint64_t id);
void stacks_seen_clear(void);

/* Unwind the caller's stack into pcs (at most max), skipping frames inside
 * libweft. Returns the depth; *truncated is set when the stack was deeper. */
unsigned stacks_unwind(uintptr_t *pcs, unsigned max, int *truncated);

#endif
