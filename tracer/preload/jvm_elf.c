/*
 * jvm_elf.c — see jvm_elf.h. Reads the section headers, the symbol table
 * and its string table with pread into buffers of their own (bounded), and
 * looks the name up linearly. Not the hot path: once per JVM.
 */
#include "jvm_elf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JVM_ELF_MAX_TABLE (64u << 20) /* a symbol or string table larger is refused */

/* size bytes at offset of fd into a new buffer (*out). Returns 0 or -errno. */
static int jvm_elf_read(int fd, uint64_t offset, uint64_t size, void **out)
{
	*out = NULL;
	if (!size || size > JVM_ELF_MAX_TABLE)
		return -EINVAL;
	char *buffer = malloc(size);
	if (!buffer)
		return -ENOMEM;
	uint64_t done = 0;
	while (done < size) {
		ssize_t n = pread(fd, buffer + done, size - done, (off_t)(offset + done));
		if (n <= 0) {
			free(buffer);
			return n < 0 ? -errno : -EINVAL;
		}
		done += (uint64_t)n;
	}
	*out = buffer;
	return 0;
}

/* name among the count symbols of symbols (names in strings of size
 * bytes): its value, or 0. */
static uint64_t jvm_elf_lookup(const Elf64_Sym *symbols, size_t count, const char *strings,
			       size_t size, const char *name)
{
	size_t length = strlen(name);
	for (size_t i = 0; i < count; i++) {
		const Elf64_Sym *s = &symbols[i];
		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || !s->st_value || s->st_name >= size ||
		    size - s->st_name <= length)
			continue;
		if (!memcmp(strings + s->st_name, name, length + 1))
			return s->st_value;
	}
	return 0;
}

int jvm_elf_function(const char *path, uintptr_t base, const char *name, uintptr_t *address)
{
	Elf64_Ehdr header;
	Elf64_Shdr *sections = NULL;
	void *symbols = NULL, *strings = NULL;
	int rc = -ENOENT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, &header, sizeof header, 0) != (ssize_t)sizeof header ||
	    memcmp(header.e_ident, ELFMAG, SELFMAG) || header.e_ident[EI_CLASS] != ELFCLASS64 ||
	    header.e_shentsize != sizeof(Elf64_Shdr) || !header.e_shnum) {
		rc = -ENOEXEC;
		goto out;
	}
	rc = jvm_elf_read(fd, header.e_shoff, (uint64_t)header.e_shnum * sizeof *sections,
			  (void **)&sections);
	if (rc)
		goto out;
	rc = -ENOENT;
	for (unsigned i = 0; i < header.e_shnum; i++) {
		const Elf64_Shdr *table = &sections[i];
		if (table->sh_type != SHT_SYMTAB || table->sh_link >= header.e_shnum)
			continue;
		const Elf64_Shdr *names = &sections[table->sh_link];
		if (jvm_elf_read(fd, table->sh_offset, table->sh_size, &symbols) ||
		    jvm_elf_read(fd, names->sh_offset, names->sh_size, &strings))
			break;
		uint64_t value = jvm_elf_lookup(symbols, table->sh_size / sizeof(Elf64_Sym),
						strings, names->sh_size, name);
		if (value) {
			*address = base + value;
			rc = 0;
		}
		break;
	}
out:
	free(strings);
	free(symbols);
	free(sections);
	close(fd);
	return rc;
}
