/*
 * scribble - a program that writes garbage over its own shared-memory ring
 * (the file WEFT_SHM names), as a buggy or hostile program could.
 *
 * Four threads take turns on a mutex (events to record), then the main
 * thread overwrites the ring file's geometry (slot count, ring size,
 * offsets) and, in its own slot, the record bytes after the reader's
 * tail and the head past them, then four threads take turns again.
 * Prints "done" and exits 0. Without WEFT_SHM it only takes turns.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The parts of tracer/ring.h's layout this program overwrites. */
struct header {
	uint64_t magic;
	uint32_t version, slot_count, ring_bytes, collector_pid;
	uint64_t slots_offset, data_offset, file_size;
};
struct slot {
	uint32_t state, pid, tid, ppid;
	uint64_t token, head, dropped;
	uint8_t pad0[64 - 40];
	uint64_t tail;
	uint8_t pad1[64 - 8];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *take_turns(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&lock);
		struct timespec pause = {0, 20000};
		nanosleep(&pause, NULL);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void round_of_turns(void)
{
	pthread_t threads[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&threads[i], NULL, take_turns, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
}

static void scribble(const char *path)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return;
	uint8_t *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return;
	struct header *header = (struct header *)base;
	struct header honest = *header;
	header->slot_count = 1u << 30;
	header->ring_bytes = 1u << 30;
	header->slots_offset = 1ull << 40;
	header->data_offset = 1ull << 40;
	struct slot *slots = (struct slot *)(base + honest.slots_offset);
	for (uint32_t i = 0; i < honest.slot_count; i++) {
		struct slot *slot = &slots[i];
		if (slot->pid != (uint32_t)getpid() || slot->tid != (uint32_t)gettid())
			continue;
		uint8_t *data = base + honest.data_offset + (uint64_t)i * honest.ring_bytes;
		uint64_t tail = __atomic_load_n(&slot->tail, __ATOMIC_ACQUIRE);
		uint32_t at = (uint32_t)(tail & (honest.ring_bytes - 1));
		uint32_t room = honest.ring_bytes - at < 512 ? honest.ring_bytes - at : 512;
		memset(data + at, 0xff, room);
		__atomic_store_n(&slot->head, tail + room, __ATOMIC_RELEASE);
	}
	munmap(base, (size_t)st.st_size);
}

int main(void)
{
	round_of_turns();
	const char *shm = getenv("WEFT_SHM");
	if (shm && *shm)
		scribble(shm);
	round_of_turns();
	puts("done");
	return 0;
}
