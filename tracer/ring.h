/*
 * ring.h — per-thread event rings in a shared-memory file.
 *
 * The collector creates one file (a memfd, named /proc/<pid>/fd/<fd>, or a
 * file in /dev/shm) and names it to the traced programs in the
 * environment variable WEFT_SHM. Every traced process maps
 * it; each of its threads claims one slot, and from then on is the only
 * writer of that slot's ring. The collector is the only reader. Because the
 * memory belongs to the file, not to the traced process, a process killed
 * with SIGKILL loses nothing it had appended: the collector drains it later.
 *
 * Layout of the file (all offsets from its start, little-endian, x86_64):
 *
 *   0                        struct ring_file_header (one page)
 *   slots_offset             slot_count x struct ring_slot (128 bytes each)
 *   data_offset              slot_count x ring_bytes of record data;
 *                            slot i's data starts at
 *                            data_offset + i * ring_bytes
 *
 * The file is sized with ftruncate and left sparse: a slot's data costs
 * memory only for the pages its thread has touched.
 *
 * Slot life cycle (ring_slot.state), each step a release store or a CAS:
 *
 *   A claim takes the lowest FREE slot, so that the slots in use (and the
 *   ring pages ever touched) stay as few as the threads alive at once;
 *   slot_high bounds them for whoever walks the slots (ring_slot_bound).
 *
 *   FREE --claim (CAS, writer)--> CLAIMING --writer fills pid/tid/token,
 *   resets head/tail--> ACTIVE --thread ends--> DONE --collector drained it
 *   --> FREE.  ACTIVE --execve about to run--> EXEC; EXEC --execve failed-->
 *   ACTIVE; EXEC --the new image adopts the token--> DONE.
 *   The collector also moves ACTIVE/EXEC slots to FREE once it knows their
 *   process is gone (SIGKILL, exit_group killing other threads), after a
 *   final drain.
 *
 * Ring protocol (single producer, single consumer, lock-free):
 *   head and tail are byte counters that only grow; the ring offset is
 *   counter & (ring_bytes - 1). The writer owns head, the reader owns tail.
 *   The writer reads tail (acquire), writes the record at head, then stores
 *   head + size (release). The reader reads head (acquire), reads records up
 *   to it, then stores the new tail (release). A record never wraps: when it
 *   does not fit before the end, the writer first writes a PAD record
 *   covering the rest of the ring. A record that does not fit in the free
 *   space is dropped and counted in `dropped` (written only by the writer);
 *   the writer never waits.
 *
 * Identity: a process incarnation is named by a token taken from
 * next_token when it starts (fork child or new image). pids can be reused;
 * tokens are not. An exec keeps the token (see EXEC above), so one process
 * keeps one identity across its images.
 */
#ifndef WEFT_RING_H
#define WEFT_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "event.h"

#define RING_FILE_MAGIC 0x3146485354464557ull /* "WEFTSHF1" */
#define RING_FILE_VERSION 1u
#define RING_DEFAULT_SLOTS 8192u /* 4,096 live threads and room to spare */
#define RING_DEFAULT_BYTES (256u * 1024u)
#define RING_EXEC_HINTS 960u /* the header page's room */
#define RING_EXEC_ALONE 0x80000000u

enum ring_slot_state {
	RING_SLOT_FREE = 0,
	RING_SLOT_CLAIMING = 1,
	RING_SLOT_ACTIVE = 2,
	RING_SLOT_EXEC = 3,
	RING_SLOT_DONE = 4,
};

struct ring_file_header {
	uint64_t magic;
	uint32_t version;
	uint32_t slot_count;
	uint32_t ring_bytes; /* power of two, >= 4096 */
	uint32_t collector_pid;
	uint64_t slots_offset;
	uint64_t data_offset;
	uint64_t file_size;
	_Atomic uint64_t next_token;   /* process incarnation tokens, from 1 */
	_Atomic uint64_t threads_lost; /* threads that found no free slot */
	_Atomic uint32_t slot_high;    /* one past the highest slot ever claimed */
	_Atomic uint32_t closing;      /* collector is finishing: claim no more */
	/* Where a new image finds the slot of the image it replaces without
	 * reading every slot: exec_hint[pid % RING_EXEC_HINTS] = slot index + 1
	 * of the last exec marked by that pid, | RING_EXEC_ALONE when the image
	 * had no other thread with a slot (a hint: checked against the
	 * slot), exec_pending = slots marked EXEC not yet adopted, undone or
	 * freed. Only when the hint misses and exec_pending is not 0 is every
	 * slot read. */
	_Atomic uint32_t exec_pending;
	_Atomic uint32_t exec_hint[RING_EXEC_HINTS];
};

_Static_assert(sizeof(struct ring_file_header) <= 4096, "the header fits its page");

struct ring_slot {
	/* first cache line: written by the writer (and state by both) */
	_Atomic uint32_t state;
	uint32_t pid;
	uint32_t tid;
	uint32_t ppid;
	uint64_t token;
	_Atomic uint64_t head;
	_Atomic uint64_t dropped;
	uint8_t pad0[64 - 40];
	/* second cache line: written by the reader */
	_Atomic uint64_t tail;
	uint8_t pad1[64 - 8];
};

_Static_assert(sizeof(struct ring_slot) == 128, "slot header size is part of the format");

/* A mapped ring file, as each side sees it. Plain data, no allocation.
 *
 * Trust: every byte of the file can be written by the traced programs, so
 * the collector trusts none of it. The geometry (slot_count, ring_bytes)
 * is copied here once, when the file is created or validated on attach,
 * and never read from the shared header again; ring_drain checks every
 * cursor and record against it and hands out private copies of records,
 * so a program that scribbles over its ring costs its own events, counted
 * in corrupt_rings, never the collector's memory safety. */
struct ring_map {
	uint8_t *base;
	size_t size;
	struct ring_file_header *header;
	struct ring_slot *slots;
	uint8_t *data;
	int fd;		     /* kept open (ring_memfd_create), else -1 */
	uint32_t slot_count; /* private copies of the geometry */
	uint32_t ring_bytes;
	uint64_t corrupt_rings; /* collector side: drains that found a ring corrupt */
};

/* The largest record a writer appends (header, the largest payload). */
#define RING_RECORD_MAX ((WEFT_EVENT_HEADER_SIZE + WEFT_PAYLOAD_MAX + 7u) & ~7u)

/* A writer's handle on its claimed slot; lives in the thread's TLS. */
struct ring_writer {
	struct ring_slot *slot;
	uint8_t *data;
	uint32_t mask; /* ring_bytes - 1 */
	uint32_t index;
};

/* --- collector side -------------------------------------------------- */

/* Create (O_EXCL) and map a ring file at path with slot_count slots of
 * ring_bytes each. Returns 0, or -errno with nothing created or mapped. */
int ring_file_create(const char *path, uint32_t slot_count, uint32_t ring_bytes,
		     struct ring_map *map);

/* The same in an anonymous file (memfd) that nothing on disk names: its
 * path for WEFT_SHM, /proc/<pid>/fd/<fd> (opened by same-uid processes
 * only), goes into path. The file goes away with the collector and the
 * last mapping: a collector killed with SIGKILL leaves nothing in
 * /dev/shm. Returns 0 (map->fd open until ring_file_unmap), or -errno with
 * nothing created. */
int ring_memfd_create(uint32_t slot_count, uint32_t ring_bytes, struct ring_map *map, char *path,
		      size_t cap);

/* Remove the ring files in dir (named weft-*, of this uid, with the
 * magic) whose collector process is gone: what collectors killed with
 * SIGKILL left behind. Returns how many were removed, or -errno (dir
 * unreadable). A collector in another pid namespace looks gone. */
int ring_sweep_stale(const char *dir);

typedef void (*ring_visit_fn)(void *ctx, uint32_t slot_index, const struct weft_event *event);

/* Read every complete record of slot_index, calling visit for each (PAD
 * records are skipped), then release the space to the writer. visit gets
 * a private copy of the record, whose size field is the one checked
 * (at least the header, a multiple of 8, at most RING_RECORD_MAX): valid
 * only during the call. A ring whose cursors or records break the format
 * (a program scribbled over it) is dropped: everything up to its head is
 * released unread and map->corrupt_rings counts it. Returns the number of
 * records visited. Safe while the writer appends; reader side of the
 * protocol. slot_index must be below map->slot_count (0 otherwise). */
size_t ring_drain(struct ring_map *map, uint32_t slot_index, ring_visit_fn visit, void *ctx);

/* How many slots, from index 0, a walk over the slots in use must read:
 * one past the highest ever claimed, at most map->slot_count (the header
 * is the workload's to scribble on; the bound is clamped, never trusted). */
static inline uint32_t ring_slot_bound(const struct ring_map *map)
{
	uint32_t high = atomic_load_explicit(&map->header->slot_high, memory_order_acquire);
	return high < map->slot_count ? high : map->slot_count;
}

/* Return a drained DONE (or abandoned) slot to FREE. */
void ring_slot_free(struct ring_map *map, uint32_t slot_index);

/* --- both sides ------------------------------------------------------ */

/* Map an existing ring file read-write. Returns 0, or -errno (-EPROTO when
 * the file is not a ring file of this version) with nothing mapped.
 * Async-signal-safe and allocation-free: usable from a library constructor
 * and a fork child. */
int ring_file_attach(const char *path, struct ring_map *map);

void ring_file_unmap(struct ring_map *map);

/* --- writer side ----------------------------------------------------- */

/* Claim a free slot for the calling thread. Returns 0 and fills writer, or
 * -ENOSPC (counted in threads_lost) when every slot is taken or the
 * collector is closing. Lock-free; not on the hot path (once per thread). */
int ring_claim(struct ring_map *map, uint32_t pid, uint32_t tid, uint32_t ppid, uint64_t token,
	       struct ring_writer *writer);

/* Mark the writer's slot DONE (thread ended) and forget it. */
void ring_release(struct ring_writer *writer);

/* The writer's process pid is about to exec: its slot becomes EXEC, for
 * the new image to adopt (ring_exec_adopt); alone: no other thread of the
 * process holds a slot. ring_exec_undo when the exec failed (the slot is
 * ACTIVE again). */
void ring_exec_mark(struct ring_map *map, struct ring_writer *writer, uint32_t pid, int alone);
void ring_exec_undo(struct ring_map *map, struct ring_writer *writer);

/* A new image of pid starts: the token of the image it replaces (its EXEC
 * slot, now DONE, and the ACTIVE slots of that image's other threads,
 * now DONE too), or 0 when pid did not exec from a traced image. Reads
 * one slot in the common case (see exec_hint). */
uint64_t ring_exec_adopt(struct ring_map *map, uint32_t pid);

/* Hot path. Append one record: header `event` (its size field is set here)
 * and payload_len bytes of payload. Never blocks, never allocates, makes no
 * system call. Returns 0, or -ENOSPC when the ring is full (the record is
 * dropped and counted). */
static inline int ring_write(struct ring_writer *writer, struct weft_event *event,
			     const void *payload, uint32_t payload_len)
{
	struct ring_slot *slot = writer->slot;
	uint32_t ring_bytes = writer->mask + 1;
	uint32_t size = (WEFT_EVENT_HEADER_SIZE + payload_len + 7u) & ~7u;
	uint64_t head = atomic_load_explicit(&slot->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&slot->tail, memory_order_acquire);
	uint32_t offset = (uint32_t)head & writer->mask;
	uint32_t room_to_end = ring_bytes - offset;
	uint64_t needed = size + (room_to_end < size ? room_to_end : 0);

	if (head - tail + needed > ring_bytes) {
		uint64_t dropped = atomic_load_explicit(&slot->dropped, memory_order_relaxed);
		atomic_store_explicit(&slot->dropped, dropped + 1, memory_order_relaxed);
		return -28; /* ENOSPC */
	}
	if (room_to_end < size) {
		struct weft_event *pad = (struct weft_event *)(writer->data + offset);
		pad->size = room_to_end;
		pad->type = WEFT_EV_PAD;
		head += room_to_end;
		offset = 0;
	}
	event->size = size;
	memcpy(writer->data + offset, event, WEFT_EVENT_HEADER_SIZE);
	if (payload_len) {
		uint8_t *at = writer->data + offset + WEFT_EVENT_HEADER_SIZE;
		memcpy(at, payload, payload_len);
		/* The padding too: the ring's bytes are those of records past
		 * (a wrapped or reused ring), and a payload ends at the record's. */
		for (uint32_t i = WEFT_EVENT_HEADER_SIZE + payload_len; i < size; i++)
			writer->data[offset + i] = 0;
	}
	atomic_store_explicit(&slot->head, head + size, memory_order_release);
	return 0;
}

#endif
