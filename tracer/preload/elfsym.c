/*
 * elfsym.c — see elfsym.h. Maps the file read-only (only the pages of
 * the symbol table and of the names compared are read), checks each
 * table lies inside it, and looks the names up in one pass. Not the hot
 * path: once per image.
 */
#include "elfsym.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

/* The file's bytes [offset, offset + size), or NULL when they lie outside
 * it (or size overflows). */
static const void *elfsym_at(const char *file, uint64_t file_size, uint64_t offset, uint64_t size)
{
	if (offset > file_size || size > file_size - offset)
		return NULL;
	return file + offset;
}

/* Fill the queries from the count symbols of symbols (names in strings
 * of size bytes). Returns how many were found. */
static int elfsym_lookup(const Elf64_Sym *symbols, size_t count, const char *strings, size_t size,
			 struct elfsym_query *queries, int query_count)
{
	const char *file = NULL;
	int found = 0;
	for (size_t i = 0; i < count && found < query_count; i++) {
		const Elf64_Sym *s = &symbols[i];
		if (s->st_name >= size) /* the table ends with a NUL (elfsym_find) */
			continue;
		const char *name = strings + s->st_name;
		if (ELF64_ST_TYPE(s->st_info) == STT_FILE) {
			file = name;
			continue;
		}
		for (int q = 0; q < query_count; q++) {
			struct elfsym_query *query = &queries[q];
			if (query->address || ELF64_ST_TYPE(s->st_info) != query->type ||
			    !s->st_value || strcmp(name, query->name))
				continue;
			if (query->file && (!file || strcmp(file, query->file)))
				continue;
			query->address = s->st_value;
			found++;
		}
	}
	return found;
}

int elfsym_find(const char *path, uintptr_t base, struct elfsym_query *queries, int count)
{
	struct stat st;
	char *file = MAP_FAILED;
	int rc = -ENOEXEC;
	for (int q = 0; q < count; q++)
		queries[q].address = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(Elf64_Ehdr))
		goto out;
	file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (file == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	uint64_t size = (uint64_t)st.st_size;
	const Elf64_Ehdr *header = (const Elf64_Ehdr *)file;
	const Elf64_Shdr *sections =
	    elfsym_at(file, size, header->e_shoff, (uint64_t)header->e_shnum * sizeof *sections);
	if (memcmp(header->e_ident, ELFMAG, SELFMAG) || header->e_ident[EI_CLASS] != ELFCLASS64 ||
	    header->e_shentsize != sizeof(Elf64_Shdr) || !sections || header->e_shoff % 8)
		goto out;
	if (header->e_type == ET_EXEC) /* not position-independent: values are addresses */
		base = 0;
	rc = -ENOENT;
	for (unsigned i = 0; i < header->e_shnum; i++) {
		const Elf64_Shdr *table = &sections[i];
		if (table->sh_type != SHT_SYMTAB || table->sh_link >= header->e_shnum)
			continue;
		const Elf64_Shdr *names = &sections[table->sh_link];
		const Elf64_Sym *symbols = elfsym_at(file, size, table->sh_offset, table->sh_size);
		const char *strings = elfsym_at(file, size, names->sh_offset, names->sh_size);
		if (symbols && strings && names->sh_size && !strings[names->sh_size - 1] &&
		    table->sh_offset % 8 == 0)
			rc = elfsym_lookup(symbols, table->sh_size / sizeof(Elf64_Sym), strings,
					   names->sh_size, queries, count);
		break;
	}
	for (int q = 0; rc > 0 && q < count; q++)
		if (queries[q].address)
			queries[q].address += base;
out:
	if (file != MAP_FAILED)
		munmap(file, (size_t)st.st_size);
	close(fd);
	return rc;
}
