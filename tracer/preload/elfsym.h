/*
 * elfsym.h — a local symbol's address, from a loaded object's ELF symbol
 * table (.symtab, which some binaries keep: Debian's libjvm.so, the node
 * binary). Used once per process image, never on the hot path: HotSpot's
 * Unsafe_Park when the JVM binds it (jvm.h), libuv's thread-pool objects
 * (runtimes.h). The file is read as hostile input: every offset and size
 * is checked against the file before use.
 */
#ifndef WEFT_PRELOAD_ELFSYM_H
#define WEFT_PRELOAD_ELFSYM_H

#include <stdint.h>

/* What to look for: a symbol of type (STT_FUNC, STT_OBJECT) named name,
 * among the local symbols of the source file file (the STT_FILE entry
 * that precedes them, "threadpool.c"), or anywhere when file is NULL. */
struct elfsym_query {
	const char *file;
	const char *name;
	unsigned type;
	uintptr_t address; /* out: base + its value */
};

/* Looks each of the count queries up in the .symtab of the object at path
 * loaded at base (dladdr's dli_fbase; ignored for an executable that is
 * not position-independent). Returns how many were found (their address set), or
 * -errno (unreadable, not a 64-bit ELF, no .symtab: -ENOENT). */
int elfsym_find(const char *path, uintptr_t base, struct elfsym_query *queries, int count);

#endif
