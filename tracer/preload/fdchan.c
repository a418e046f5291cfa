/*
 * fdchan.c — see fdchan.h.
 */
#include "fdchan.h"

#include <sys/stat.h>
#include <unistd.h>

#include "emit.h"
#include "fdscan.h"

#define WORDS (FDCHAN_MAX / 64)
#define KIND_PIPE 1
#define KIND_SOCKET 2

static uint64_t known[WORDS];

static int test_and_set(int fd, int value)
{
	uint64_t bit = 1ull << (fd % 64);
	uint64_t old = value ? __atomic_fetch_or(&known[fd / 64], bit, __ATOMIC_RELAXED)
			     : __atomic_fetch_and(&known[fd / 64], ~bit, __ATOMIC_RELAXED);
	return (old & bit) != 0;
}

unsigned fdchan_note(struct ring_writer *writer, int fd)
{
	if (fd < 0 || fd >= FDCHAN_MAX)
		return 0;
	struct stat st;
	if (fstat(fd, &st) != 0)
		st.st_mode = 0;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		test_and_set(fd, 1);
		emit_record(writer, WEFT_EV_FD_CHANNEL,
			    S_ISSOCK(st.st_mode) ? KIND_SOCKET : KIND_PIPE, 0, emit_now(),
			    (uint64_t)fd, (uint64_t)st.st_ino);
	} else if (test_and_set(fd, 0)) {
		emit_record(writer, WEFT_EV_FD_CHANNEL, KIND_PIPE, 0, emit_now(), (uint64_t)fd, 0);
	}
	return st.st_mode;
}

void fdchan_closed(struct ring_writer *writer, int fd)
{
	if (fd < 0 || fd >= FDCHAN_MAX)
		return;
	uint64_t bit = 1ull << (fd % 64);
	if (!(__atomic_load_n(&known[fd / 64], __ATOMIC_RELAXED) & bit))
		return;
	if (test_and_set(fd, 0))
		emit_record(writer, WEFT_EV_FD_CHANNEL, KIND_PIPE, 0, emit_now(), (uint64_t)fd, 0);
}

struct scan {
	struct ring_writer *writer;
	void (*also)(int fd, unsigned mode, void *ctx);
	void *ctx;
};

static void note_scanned(int fd, void *opaque)
{
	struct scan *scan = opaque;
	unsigned mode = fdchan_note(scan->writer, fd);
	if (scan->also)
		scan->also(fd, mode, scan->ctx);
}

void fdchan_scan(struct ring_writer *writer, void (*also)(int fd, unsigned mode, void *ctx),
		 void *ctx)
{
	struct scan scan = {writer, also, ctx};
	for (int i = 0; i < WORDS; i++)
		__atomic_store_n(&known[i], 0, __ATOMIC_RELAXED);
	fdscan_each(FDCHAN_MAX, note_scanned, &scan);
}

void fdchan_inherit(struct ring_writer *writer)
{
	for (int word = 0; word < WORDS; word++) {
		uint64_t bits = __atomic_load_n(&known[word], __ATOMIC_RELAXED);
		while (bits) {
			int bit = __builtin_ctzll(bits);
			bits &= bits - 1;
			fdchan_note(writer, word * 64 + bit);
		}
	}
}
