/*
 * stacks.c — see stacks.h.
 */
#include <dlfcn.h>
#include <elf.h>
#include <execinfo.h>
#include <link.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stacks.h"
#include "emit.h"
#include "preload.h"

int stacks_mode = STACKS_FULL;

#define SEEN_SLOTS 8192u /* power of two */
#define SEEN_PROBES 32u
static uint64_t seen[SEEN_SLOTS];

#define MODULES_MAX 512u
struct known_module {
	uintptr_t start, end, bias;
	uint8_t build_id_len;
	uint8_t build_id[39];
	char path[256];
};
static struct known_module modules[MODULES_MAX];
static unsigned module_count;
static char exe_path[512];
static uintptr_t self_start, self_end; /* libweft's own range */

/* The MODULE record payload (event.h). */
struct module_payload {
	uint64_t bias;
	uint8_t build_id_len;
	uint8_t build_id[39];
	char path[WEFT_PAYLOAD_MAX - 48];
};

uint64_t stacks_hash(const uintptr_t *pcs, unsigned depth)
{
	uint64_t hash = 1469598103934665603ull ^ depth;
	for (unsigned i = 0; i < depth; i++) {
		hash ^= (uint64_t)pcs[i];
		hash *= 1099511628211ull;
		hash ^= hash >> 29;
	}
	return hash ? hash : 1;
}

int stacks_seen_insert(uint64_t id)
{
	unsigned slot = (unsigned)(id ^ (id >> 32)) & (SEEN_SLOTS - 1);
	for (unsigned probe = 0; probe < SEEN_PROBES; probe++) {
		uint64_t *cell = &seen[(slot + probe) & (SEEN_SLOTS - 1)];
		uint64_t value = __atomic_load_n(cell, __ATOMIC_ACQUIRE);
		if (value == id)
			return 0;
		if (value == 0) {
			uint64_t expected = 0;
			if (__atomic_compare_exchange_n(cell, &expected, id, 0, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return 1;
			if (expected == id)
				return 0;
		}
	}
	return -1;
}

void stacks_seen_clear(void)
{
	memset(seen, 0, sizeof seen);
}

static int in_self(uintptr_t pc)
{
	return pc >= self_start && pc < self_end;
}

unsigned stacks_unwind(uintptr_t *pcs, unsigned max, int *truncated)
{
	void *raw[STACKS_MAX_FRAMES + 16];
	int cap = (int)(sizeof raw / sizeof raw[0]);
	int n = backtrace(raw, cap);
	unsigned depth = 0, kept = 0;
	/* libweft's own frames (the wrapper, a thread's or main's trampoline)
	 * are left out: the stack reads as the program's */
	for (int i = 0; i < n; i++) {
		if (in_self((uintptr_t)raw[i]))
			continue;
		kept++;
		if (depth < max)
			pcs[depth++] = (uintptr_t)raw[i];
	}
	*truncated = kept > max || n == cap;
	return depth;
}

/* The build-id note of an object, from its PT_NOTE segments in memory. */
static unsigned build_id_of(const struct dl_phdr_info *info, uint8_t *out, unsigned max)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *note = (const char *)(info->dlpi_addr + ph->p_vaddr);
		size_t left = ph->p_memsz;
		while (left >= sizeof(ElfW(Nhdr))) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)note;
			size_t name = (nh->n_namesz + 3u) & ~3u, desc = (nh->n_descsz + 3u) & ~3u;
			size_t size = sizeof *nh + name + desc;
			if (size > left)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(note + sizeof *nh, "GNU", 4) == 0) {
				unsigned len = nh->n_descsz < max ? nh->n_descsz : max;
				memcpy(out, note + sizeof *nh + name, len);
				return len;
			}
			note += size;
			left -= size;
		}
	}
	return 0;
}

/* One MODULE record (event.h). */
static void emit_module(struct ring_writer *writer, uint64_t ts, const struct known_module *m)
{
	struct module_payload payload;
	memset(&payload, 0, offsetof(struct module_payload, path));
	payload.bias = m->bias;
	payload.build_id_len = m->build_id_len;
	memcpy(payload.build_id, m->build_id, sizeof payload.build_id);
	size_t len = strlen(m->path);
	memcpy(payload.path, m->path, len + 1);
	if (writer && writer->slot)
		emit_record_payload(writer, WEFT_EV_MODULE, 0, 0, ts, m->start, m->end, &payload,
				    (uint32_t)(offsetof(struct module_payload, path) + len + 1));
}

struct scan {
	struct ring_writer *writer;
	uint64_t ts;
};

/* dl_iterate_phdr callback: write each object not known yet. */
static int scan_one(struct dl_phdr_info *info, size_t size, void *data)
{
	struct scan *scan = data;
	(void)size;
	uintptr_t start = UINTPTR_MAX, end = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (lo < start)
			start = lo;
		if (lo + ph->p_memsz > end)
			end = lo + ph->p_memsz;
	}
	if (start >= end)
		return 0;
	for (unsigned i = 0; i < module_count; i++)
		if (modules[i].start == start && modules[i].bias == info->dlpi_addr)
			return 0;
	if (module_count >= MODULES_MAX)
		return 0;
	struct known_module *m = &modules[module_count++];
	*m = (struct known_module){.start = start, .end = end, .bias = info->dlpi_addr};
	m->build_id_len = (uint8_t)build_id_of(info, m->build_id, sizeof m->build_id);
	const char *path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : exe_path;
	size_t len = strnlen(path, sizeof m->path - 1);
	memcpy(m->path, path, len);
	m->path[len] = '\0';
	emit_module(scan->writer, scan->ts, m);
	return 0;
}

static void scan_modules(struct ring_writer *writer, uint64_t ts)
{
	struct scan scan = {writer, ts};
	dl_iterate_phdr(scan_one, &scan);
}

void stacks_start(struct ring_writer *writer, uint64_t ts)
{
	const char *mode = getenv("WEFT_STACKS");
	if (mode && strcmp(mode, "none") == 0)
		stacks_mode = STACKS_NONE;
	else if (mode && strcmp(mode, "callsite") == 0)
		stacks_mode = STACKS_CALLSITE;
	else
		stacks_mode = STACKS_FULL;
	module_count = 0;
	stacks_seen_clear();
	if (stacks_mode == STACKS_NONE)
		return;
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
	exe_path[n > 0 ? n : 0] = '\0';
	Dl_info self;
	if (dladdr((void *)stacks_start, &self) && self.dli_fbase) {
		self_start = (uintptr_t)self.dli_fbase;
		self_end = self_start;
	}
	scan_modules(writer, ts);
	for (unsigned i = 0; i < module_count; i++)
		if (modules[i].start <= (uintptr_t)stacks_start &&
		    (uintptr_t)stacks_start < modules[i].end) {
			self_start = modules[i].start;
			self_end = modules[i].end;
		}
	uintptr_t warm[4];
	int truncated;
	stacks_unwind(warm, 4, &truncated); /* the first use loads libgcc_s, allocates */
}

void stacks_fork_child(struct ring_writer *writer, uint64_t ts)
{
	if (stacks_mode == STACKS_NONE)
		return;
	stacks_seen_clear();
	/* from our own copy: the loader's lock may be held by a thread of the
	 * parent that the child does not have */
	for (unsigned i = 0; i < module_count; i++)
		emit_module(writer, ts, &modules[i]);
}

static int known_pc(uintptr_t pc)
{
	for (unsigned i = 0; i < module_count; i++)
		if (pc >= modules[i].start && pc < modules[i].end)
			return 1;
	return 0;
}

void stacks_record(struct preload_thread *t, uint8_t role, uintptr_t return_address)
{
	if (!t->writer.slot || stacks_mode == STACKS_NONE)
		return;
	int saved = errno;
	preload_write_begin(t);
	uintptr_t pcs[STACKS_MAX_FRAMES];
	unsigned depth;
	int truncated = 0;
	if (stacks_mode == STACKS_CALLSITE && return_address && !in_self(return_address)) {
		pcs[0] = return_address;
		depth = 1;
	} else {
		depth = stacks_unwind(pcs, stacks_mode == STACKS_CALLSITE ? 1 : STACKS_MAX_FRAMES,
				      &truncated);
		if (stacks_mode == STACKS_CALLSITE)
			truncated = 0;
	}
	uint64_t ts = emit_now(); /* before the insertion: definitions sort first */
	uint64_t id = stacks_hash(pcs, depth);
	uint64_t flags = depth | (uint64_t)truncated << 16;
	int fresh = stacks_seen_insert(id);
	if (fresh) {
		for (unsigned i = 0; i < depth; i++)
			if (!known_pc(pcs[i])) { /* loaded since: a dlopen */
				scan_modules(&t->writer, ts);
				break;
			}
		emit_record_payload(&t->writer, WEFT_EV_STACK, role, 0, ts, id, flags, pcs,
				    depth * (uint32_t)sizeof pcs[0]);
	} else {
		emit_record(&t->writer, WEFT_EV_STACK, role, 0, ts, id, flags);
	}
	preload_write_end(t);
	errno = saved;
}
