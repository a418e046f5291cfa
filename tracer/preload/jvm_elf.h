/*
 * jvm_elf.h — a local function's address, from a loaded library's ELF
 * symbol table (.symtab, which Debian's libjvm.so keeps). Used once, when
 * the JVM starts, to know HotSpot's own Unsafe_Park when the JVM binds it
 * (jvm.h). The file is read as hostile input: every offset and size is
 * checked against the file before use.
 */
#ifndef WEFT_PRELOAD_JVM_ELF_H
#define WEFT_PRELOAD_JVM_ELF_H

#include <stdint.h>

/* The address of the function named name in the library at path loaded
 * at base, from its .symtab. Returns 0 and sets *address, -ENOENT (no
 * such symbol, no .symtab) or -errno (unreadable, not a 64-bit ELF). */
int jvm_elf_function(const char *path, uintptr_t base, const char *name, uintptr_t *address);

#endif
