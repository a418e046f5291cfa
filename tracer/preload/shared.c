/*
 * shared.c — see shared.h.
 *
 * glibc marks a process-shared mutex with PTHREAD_MUTEX_PSHARED_BIT (128)
 * in __data.__kind, and a semaphore with FUTEX_PRIVATE_FLAG (128) in its
 * "private" word, the 32-bit word after its 64-bit value (glibc passes it
 * to futex calls with the flag inverted: 0 for a private semaphore).
 */
#include "shared.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emit.h"

#define MUTEX_PSHARED_BIT 128u
#define SEM_SHARED_FLAG 128u
#define DESCRIBED_MAX 64

/* Objects already described: address and the pid that described it (a
 * fork child describes them again in its own ring). */
static struct {
	uintptr_t address;
	int pid;
} described[DESCRIBED_MAX];

static int already_described(uintptr_t address, int pid)
{
	for (int i = 0; i < DESCRIBED_MAX; i++) {
		uintptr_t seen = __atomic_load_n(&described[i].address, __ATOMIC_ACQUIRE);
		if (seen == address && __atomic_load_n(&described[i].pid, __ATOMIC_RELAXED) == pid)
			return 1;
		if (!seen) {
			uintptr_t expected = 0;
			if (__atomic_compare_exchange_n(&described[i].address, &expected, address,
							0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				__atomic_store_n(&described[i].pid, pid, __ATOMIC_RELAXED);
				return 0;
			}
		}
	}
	/* Full: rewrite the record each time rather than keep more state. */
	return 0;
}

static uint64_t parse_hex(const char **p)
{
	uint64_t value = 0;
	for (;; (*p)++) {
		char c = **p;
		if (c >= '0' && c <= '9')
			value = value * 16 + (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			value = value * 16 + (uint64_t)(c - 'a' + 10);
		else
			return value;
	}
}

static uint64_t parse_dec(const char **p)
{
	uint64_t value = 0;
	while (**p >= '0' && **p <= '9')
		value = value * 10 + (uint64_t)(*(*p)++ - '0');
	return value;
}

/* One line of /proc/self/maps: "start-end perms offset maj:min inode ...".
 * Fills the key when address lies in a shared mapping. Returns 1 if the
 * line covers address (whatever the mapping), 0 otherwise. */
static int match_line(const char *line, uintptr_t address, uint64_t *device, uint64_t *inode,
		      uint64_t *offset, int *shared)
{
	const char *p = line;
	uint64_t start = parse_hex(&p);
	if (*p++ != '-')
		return 0;
	uint64_t end = parse_hex(&p);
	if (address < start || address >= end)
		return 0;
	if (*p++ != ' ' || !p[0] || !p[1] || !p[2] || !p[3])
		return 1;
	*shared = p[3] == 's';
	p += 5;
	uint64_t file_offset = parse_hex(&p);
	p++;
	uint64_t major = parse_hex(&p);
	p++;
	uint64_t minor = parse_hex(&p);
	p++;
	*inode = parse_dec(&p);
	*device = major << 20 | minor;
	*offset = file_offset + (address - start);
	return 1;
}

/* Finds the mapping of address. Returns 1 with the key when it is a
 * shared mapping of a file or of shared memory, 0 otherwise. */
static int mapping_of(uintptr_t address, uint64_t *device, uint64_t *inode, uint64_t *offset)
{
	long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buffer[1024], line[256]; /* small: this runs on the caller's stack */
	size_t line_len = 0;
	int found = 0, shared = 0, done = 0;
	long n;
	while (!done && (n = syscall(SYS_read, fd, buffer, sizeof buffer)) > 0) {
		for (long i = 0; i < n && !done; i++) {
			if (buffer[i] != '\n') {
				if (line_len < sizeof line - 1)
					line[line_len++] = buffer[i];
				continue;
			}
			line[line_len] = '\0';
			line_len = 0;
			if (match_line(line, address, device, inode, offset, &shared)) {
				found = shared && *inode != 0;
				done = 1;
			}
		}
	}
	syscall(SYS_close, fd);
	return found;
}

static void note(struct preload_thread *t, const void *object, uint8_t reason)
{
	uintptr_t address = (uintptr_t)object;
	int saved = errno;
	int pid = (int)syscall(SYS_getpid);
	uint64_t key[2]; /* device, offset */
	uint64_t inode;
	if (t->writer.slot && !already_described(address, pid) &&
	    mapping_of(address, &key[0], &inode, &key[1])) {
		preload_write_begin(t);
		emit_record_payload(&t->writer, WEFT_EV_OBJECT_KEY, reason, 0, emit_now(), address,
				    inode, key, sizeof key);
		preload_write_end(t);
	}
	errno = saved;
}

void shared_note_mutex(struct preload_thread *t, const pthread_mutex_t *mutex)
{
	unsigned kind = (unsigned)__atomic_load_n(&mutex->__data.__kind, __ATOMIC_RELAXED);
	if (kind & MUTEX_PSHARED_BIT)
		note(t, mutex, WEFT_REASON_MUTEX);
}

void shared_note_sem(struct preload_thread *t, const sem_t *sem)
{
	const uint32_t *words = (const uint32_t *)(const void *)sem;
	if (__atomic_load_n(&words[2], __ATOMIC_RELAXED) == SEM_SHARED_FLAG)
		note(t, sem, WEFT_REASON_SEM);
}
