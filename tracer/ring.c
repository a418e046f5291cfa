/*
 * ring.c — creating, attaching, claiming and draining the shared-memory
 * rings described in ring.h. Used by both the preload library (attach,
 * claim, release; must stay allocation-free and async-signal-safe) and the
 * collector (create, drain, free). The collector reads the shared file as
 * hostile input (see struct ring_map): geometry from private copies, each
 * shared field read once, every record checked before it is copied out.
 */
#include "ring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u

static int is_power_of_two(uint32_t value)
{
	return value && !(value & (value - 1));
}

/* Fill map from geometry the caller has validated (private values, not
 * reread from the shared header). */
static void map_fill(struct ring_map *map, uint8_t *base, size_t size, uint64_t slots_offset,
		     uint64_t data_offset, uint32_t slot_count, uint32_t ring_bytes)
{
	*map = (struct ring_map){
	    .base = base,
	    .size = size,
	    .header = (struct ring_file_header *)base,
	    .slots = (struct ring_slot *)(base + slots_offset),
	    .data = base + data_offset,
	    .slot_count = slot_count,
	    .ring_bytes = ring_bytes,
	    .fd = -1,
	};
}

/* Size the file fd, map it and write its header (geometry, collector
 * pid, magic last). Returns 0 with map filled, or -errno (nothing mapped;
 * fd is the caller's either way). */
static int init_file(int fd, uint32_t slot_count, uint32_t ring_bytes, struct ring_map *map)
{
	uint64_t slots_offset = PAGE;
	uint64_t slots_bytes =
	    ((uint64_t)slot_count * sizeof(struct ring_slot) + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	uint64_t data_offset = slots_offset + slots_bytes;
	uint64_t file_size = data_offset + (uint64_t)slot_count * ring_bytes;

	if (ftruncate(fd, (off_t)file_size) < 0)
		return -errno;
	uint8_t *base = mmap(NULL, file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return -errno;

	struct ring_file_header *header = (struct ring_file_header *)base;
	header->version = RING_FILE_VERSION;
	header->slot_count = slot_count;
	header->ring_bytes = ring_bytes;
	header->collector_pid = (uint32_t)getpid();
	header->slots_offset = slots_offset;
	header->data_offset = data_offset;
	header->file_size = file_size;
	atomic_store(&header->next_token, 1);
	atomic_store(&header->threads_lost, 0);
	atomic_store(&header->slot_high, 0);
	atomic_store(&header->closing, 0);
	/* Slots are zero (FREE) from ftruncate. The magic goes last so that an
	 * attacher never sees a half-initialised header. */
	atomic_thread_fence(memory_order_release);
	header->magic = RING_FILE_MAGIC;
	map_fill(map, base, file_size, slots_offset, data_offset, slot_count, ring_bytes);
	return 0;
}

int ring_file_create(const char *path, uint32_t slot_count, uint32_t ring_bytes,
		     struct ring_map *map)
{
	if (!slot_count || ring_bytes < PAGE || !is_power_of_two(ring_bytes))
		return -EINVAL;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = init_file(fd, slot_count, ring_bytes, map);
	close(fd);
	if (rc)
		unlink(path);
	return rc;
}

int ring_memfd_create(uint32_t slot_count, uint32_t ring_bytes, struct ring_map *map, char *path,
		      size_t cap)
{
	if (!slot_count || ring_bytes < PAGE || !is_power_of_two(ring_bytes))
		return -EINVAL;
	int fd = memfd_create("weft-rings", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int n = snprintf(path, cap, "/proc/%d/fd/%d", (int)getpid(), fd);
	int rc =
	    n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : init_file(fd, slot_count, ring_bytes, map);
	if (rc) {
		close(fd);
		return rc;
	}
	map->fd = fd;
	return 0;
}

/* The collector pid of the ring file at path when it is one of ours (a
 * regular file of this uid with the magic), else 0. */
static uint32_t ring_file_collector(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	struct ring_file_header header;
	uint32_t pid = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    pread(fd, &header, sizeof header, 0) == (ssize_t)sizeof header &&
	    header.magic == RING_FILE_MAGIC)
		pid = header.collector_pid;
	close(fd);
	return pid;
}

int ring_sweep_stale(const char *dir)
{
	DIR *listing = opendir(dir);
	if (!listing)
		return -errno;
	int removed = 0;
	struct dirent *entry;
	while ((entry = readdir(listing))) {
		if (strncmp(entry->d_name, "weft-", 5))
			continue;
		uint32_t pid = ring_file_collector(dirfd(listing), entry->d_name);
		if (pid && pid <= INT32_MAX && kill((pid_t)pid, 0) < 0 && errno == ESRCH &&
		    unlinkat(dirfd(listing), entry->d_name, 0) == 0)
			removed++;
	}
	closedir(listing);
	return removed;
}

int ring_file_attach(const char *path, struct ring_map *map)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < PAGE) {
		close(fd);
		return -EPROTO;
	}
	uint8_t *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int error = errno;
	close(fd);
	if (base == MAP_FAILED)
		return -error;

	/* Each field is read once into a local, then checked: the file is
	 * shared with programs that may write anything into it at any time. */
	const volatile struct ring_file_header *header = (struct ring_file_header *)base;
	uint64_t magic = header->magic;
	uint32_t version = header->version, slot_count = header->slot_count;
	uint32_t ring_bytes = header->ring_bytes;
	uint64_t slots_offset = header->slots_offset, data_offset = header->data_offset;
	uint64_t file_size = header->file_size;
	uint64_t size = (uint64_t)st.st_size;
	if (magic != RING_FILE_MAGIC || version != RING_FILE_VERSION || file_size != size ||
	    !slot_count || ring_bytes < PAGE || !is_power_of_two(ring_bytes) ||
	    slots_offset < sizeof(struct ring_file_header) || (slots_offset & 63) ||
	    slots_offset > size || (size - slots_offset) / sizeof(struct ring_slot) < slot_count ||
	    data_offset < slots_offset + (uint64_t)slot_count * sizeof(struct ring_slot) ||
	    data_offset > size || (size - data_offset) / ring_bytes < slot_count ||
	    (data_offset & 7)) {
		munmap(base, (size_t)st.st_size);
		return -EPROTO;
	}
	atomic_thread_fence(memory_order_acquire);
	map_fill(map, base, (size_t)size, slots_offset, data_offset, slot_count, ring_bytes);
	return 0;
}

void ring_file_unmap(struct ring_map *map)
{
	if (map->base) {
		munmap(map->base, map->size);
		if (map->fd >= 0)
			close(map->fd);
	}
	map->base = NULL;
	map->size = 0;
}

int ring_claim(struct ring_map *map, uint32_t pid, uint32_t tid, uint32_t ppid, uint64_t token,
	       struct ring_writer *writer)
{
	struct ring_file_header *header = map->header;
	uint32_t count = map->slot_count;

	if (atomic_load_explicit(&header->closing, memory_order_acquire)) {
		atomic_fetch_add(&header->threads_lost, 1);
		return -ENOSPC;
	}
	for (uint32_t index = 0; index < count; index++) {
		struct ring_slot *slot = &map->slots[index];
		uint32_t expected = RING_SLOT_FREE;
		if (atomic_load_explicit(&slot->state, memory_order_relaxed) != RING_SLOT_FREE)
			continue;
		if (!atomic_compare_exchange_strong(&slot->state, &expected, RING_SLOT_CLAIMING))
			continue;
		/* Raised before the slot is ACTIVE: a walk that sees it so
		 * reads it. */
		uint32_t high = atomic_load_explicit(&header->slot_high, memory_order_relaxed);
		while (high < index + 1 && !atomic_compare_exchange_weak_explicit(
					       &header->slot_high, &high, index + 1,
					       memory_order_release, memory_order_relaxed))
			;
		slot->pid = pid;
		slot->tid = tid;
		slot->ppid = ppid;
		slot->token = token;
		atomic_store_explicit(&slot->head, 0, memory_order_relaxed);
		atomic_store_explicit(&slot->tail, 0, memory_order_relaxed);
		atomic_store_explicit(&slot->dropped, 0, memory_order_relaxed);
		atomic_store_explicit(&slot->state, RING_SLOT_ACTIVE, memory_order_release);
		writer->slot = slot;
		writer->data = map->data + (size_t)index * map->ring_bytes;
		writer->mask = map->ring_bytes - 1;
		writer->index = index;
		return 0;
	}
	atomic_fetch_add(&header->threads_lost, 1);
	return -ENOSPC;
}

void ring_exec_mark(struct ring_map *map, struct ring_writer *writer, uint32_t pid, int alone)
{
	struct ring_file_header *header = map->header;
	atomic_fetch_add_explicit(&header->exec_pending, 1, memory_order_relaxed);
	atomic_store_explicit(&header->exec_hint[pid % RING_EXEC_HINTS],
			      (writer->index + 1) | (alone ? RING_EXEC_ALONE : 0),
			      memory_order_relaxed);
	atomic_store_explicit(&writer->slot->state, RING_SLOT_EXEC, memory_order_release);
}

void ring_exec_undo(struct ring_map *map, struct ring_writer *writer)
{
	uint32_t expected = RING_SLOT_EXEC;
	if (atomic_compare_exchange_strong(&writer->slot->state, &expected, RING_SLOT_ACTIVE))
		atomic_fetch_sub_explicit(&map->header->exec_pending, 1, memory_order_relaxed);
}

/* Slot index's EXEC of pid, adopted: its token, or 0. */
static uint64_t exec_take(struct ring_map *map, uint32_t index, uint32_t pid)
{
	struct ring_slot *slot = &map->slots[index];
	uint32_t expected = RING_SLOT_EXEC;
	if (atomic_load_explicit(&slot->state, memory_order_acquire) != RING_SLOT_EXEC ||
	    slot->pid != pid)
		return 0;
	uint64_t token = slot->token;
	if (!atomic_compare_exchange_strong(&slot->state, &expected, RING_SLOT_DONE))
		return 0;
	atomic_fetch_sub_explicit(&map->header->exec_pending, 1, memory_order_relaxed);
	return token;
}

uint64_t ring_exec_adopt(struct ring_map *map, uint32_t pid)
{
	struct ring_file_header *header = map->header;
	uint32_t count = ring_slot_bound(map);
	uint32_t hint =
	    atomic_load_explicit(&header->exec_hint[pid % RING_EXEC_HINTS], memory_order_relaxed);
	uint32_t index = hint & ~RING_EXEC_ALONE;
	uint64_t token = index && index <= count ? exec_take(map, index - 1, pid) : 0;
	if (token && (hint & RING_EXEC_ALONE))
		return token;
	for (uint32_t i = 0; !token && i < count; i++) {
		if (!atomic_load_explicit(&header->exec_pending, memory_order_relaxed))
			return 0; /* no exec in flight: pid is a new process */
		token = exec_take(map, i, pid);
	}
	if (!token)
		return 0;
	/* The other threads of the image it replaces died with it. */
	for (uint32_t i = 0; i < count; i++) {
		struct ring_slot *slot = &map->slots[i];
		uint32_t state = RING_SLOT_ACTIVE;
		if (atomic_load_explicit(&slot->state, memory_order_acquire) == RING_SLOT_ACTIVE &&
		    slot->token == token && slot->pid == pid)
			atomic_compare_exchange_strong(&slot->state, &state, RING_SLOT_DONE);
	}
	return token;
}

void ring_release(struct ring_writer *writer)
{
	if (writer->slot)
		atomic_store_explicit(&writer->slot->state, RING_SLOT_DONE, memory_order_release);
	writer->slot = NULL;
	writer->data = NULL;
}

/* Drop what slot holds up to head, unread, and count the ring corrupt. */
static void drop_corrupt(struct ring_map *map, struct ring_slot *slot, uint64_t head)
{
	map->corrupt_rings++;
	atomic_store_explicit(&slot->tail, head, memory_order_release);
}

size_t ring_drain(struct ring_map *map, uint32_t slot_index, ring_visit_fn visit, void *ctx)
{
	if (slot_index >= map->slot_count)
		return 0;
	struct ring_slot *slot = &map->slots[slot_index];
	uint32_t ring_bytes = map->ring_bytes;
	uint32_t mask = ring_bytes - 1;
	const uint8_t *data = map->data + (size_t)slot_index * ring_bytes;
	uint64_t tail = atomic_load_explicit(&slot->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&slot->head, memory_order_acquire);
	size_t visited = 0;
	union {
		struct weft_event event;
		uint8_t bytes[RING_RECORD_MAX];
	} copy;

	/* The writer owns head but not the rules: a head behind the tail or a
	 * ring's length ahead of it cannot come from ring_write. */
	if (head < tail || head - tail > ring_bytes) {
		drop_corrupt(map, slot, head);
		return 0;
	}
	while (tail < head) {
		uint32_t offset = (uint32_t)tail & mask;
		uint32_t room = ring_bytes - offset;
		uint32_t size;
		memcpy(&size, data + offset, sizeof size); /* read once */
		if (size < 8 || (size & 7) || size > room || size > head - tail ||
		    size > RING_RECORD_MAX) {
			drop_corrupt(map, slot, head);
			return visited;
		}
		if (size >= WEFT_EVENT_HEADER_SIZE) {
			memcpy(copy.bytes, data + offset, size);
			copy.event.size = size; /* the size checked, whatever is there now */
			if (copy.event.type != WEFT_EV_PAD) {
				visit(ctx, slot_index, &copy.event);
				visited++;
			}
		}
		tail += size;
	}
	atomic_store_explicit(&slot->tail, tail, memory_order_release);
	return visited;
}

void ring_slot_free(struct ring_map *map, uint32_t slot_index)
{
	if (slot_index >= map->slot_count)
		return;
	struct ring_slot *slot = &map->slots[slot_index];
	slot->pid = 0;
	slot->tid = 0;
	/* Last: from FREE on, a claimer may write the slot at once. */
	uint32_t before =
	    atomic_exchange_explicit(&slot->state, RING_SLOT_FREE, memory_order_acq_rel);
	if (before == RING_SLOT_EXEC) /* its image died before adopting it */
		atomic_fetch_sub_explicit(&map->header->exec_pending, 1, memory_order_relaxed);
}
