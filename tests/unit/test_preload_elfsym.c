/*
 * test_preload_elfsym.c — elfsym_find (tracer/preload/elfsym.h): local
 * symbols of this very test binary found by source file and name, at the
 * address the program sees; and files that are not what they claim
 * (empty, not ELF, cut short, tables pointing past the end) refused
 * without reading outside them.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "elfsym.h"

/* Local symbols of this file: what the lookups look for. */
static int elfsym_probe_object = 7;
static __attribute__((noinline)) int elfsym_probe_function(void)
{
	return elfsym_probe_object;
}

static uintptr_t self_base(void)
{
	Dl_info info;
	assert_true(dladdr((void *)elfsym_probe_function, &info));
	return (uintptr_t)info.dli_fbase;
}

static void finds_local_symbols_of_a_source_file(void **state)
{
	(void)state;
	struct elfsym_query queries[] = {
	    {.file = "test_preload_elfsym.c", .name = "elfsym_probe_object", .type = STT_OBJECT},
	    {.file = "test_preload_elfsym.c", .name = "elfsym_probe_function", .type = STT_FUNC},
	    {.name = "elfsym_probe_object", .type = STT_OBJECT},
	};
	assert_int_equal(elfsym_find("/proc/self/exe", self_base(), queries, 3), 3);
	assert_ptr_equal((void *)queries[0].address, &elfsym_probe_object);
	assert_ptr_equal((void *)queries[1].address, (void *)elfsym_probe_function);
	assert_ptr_equal((void *)queries[2].address, &elfsym_probe_object);
	assert_int_equal(elfsym_probe_function(), 7);
}

static void another_file_or_type_finds_nothing(void **state)
{
	(void)state;
	struct elfsym_query queries[] = {
	    {.file = "threadpool.c", .name = "elfsym_probe_object", .type = STT_OBJECT},
	    {.file = "test_preload_elfsym.c", .name = "elfsym_probe_object", .type = STT_FUNC},
	};
	assert_int_equal(elfsym_find("/proc/self/exe", self_base(), queries, 2), 0);
	assert_int_equal(queries[0].address, 0);
	assert_int_equal(queries[1].address, 0);
}

/* A copy of this binary at path, cut to length bytes (0: whole), with
 * patch applied to its bytes. */
static void copy_self(const char *path, size_t length, void (*patch)(char *, size_t))
{
	int in = open("/proc/self/exe", O_RDONLY);
	assert_true(in >= 0);
	struct stat st;
	assert_int_equal(fstat(in, &st), 0);
	size_t size = length ? length : (size_t)st.st_size;
	char *bytes = malloc(size);
	assert_non_null(bytes);
	assert_int_equal(pread(in, bytes, size, 0), (ssize_t)size);
	close(in);
	if (patch)
		patch(bytes, size);
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	assert_int_equal(write(out, bytes, size), (ssize_t)size);
	close(out);
	free(bytes);
}

static void sections_past_the_end(char *bytes, size_t size)
{
	((Elf64_Ehdr *)bytes)->e_shoff = (Elf64_Off)size - 8;
}

static void symbol_table_past_the_end(char *bytes, size_t size)
{
	Elf64_Ehdr *header = (Elf64_Ehdr *)bytes;
	Elf64_Shdr *sections = (Elf64_Shdr *)(bytes + header->e_shoff);
	assert_true(header->e_shoff + header->e_shnum * sizeof *sections <= size);
	for (unsigned i = 0; i < header->e_shnum; i++)
		if (sections[i].sh_type == SHT_SYMTAB)
			sections[i].sh_size = (Elf64_Xword)size; /* from its offset: past the end */
}

static void string_table_link_out_of_range(char *bytes, size_t size)
{
	(void)size;
	Elf64_Ehdr *header = (Elf64_Ehdr *)bytes;
	Elf64_Shdr *sections = (Elf64_Shdr *)(bytes + header->e_shoff);
	for (unsigned i = 0; i < header->e_shnum; i++)
		if (sections[i].sh_type == SHT_SYMTAB)
			sections[i].sh_link = 0xffff;
}

static void refuses_files_that_lie(void **state)
{
	(void)state;
	char dir[] = "/tmp/weft-elfsym-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/lib.so", dir);
	struct elfsym_query query = {.name = "elfsym_probe_object", .type = STT_OBJECT};

	copy_self(path, 1, NULL); /* one byte */
	assert_int_equal(elfsym_find(path, 0, &query, 1), -ENOEXEC);
	FILE *text = fopen(path, "w");
	fputs("not an ELF file, though long enough to hold an ELF header, surely", text);
	fclose(text);
	assert_int_equal(elfsym_find(path, 0, &query, 1), -ENOEXEC);
	copy_self(path, 4096, NULL); /* the section headers are cut off */
	assert_int_equal(elfsym_find(path, 0, &query, 1), -ENOEXEC);
	copy_self(path, 0, sections_past_the_end);
	assert_int_equal(elfsym_find(path, 0, &query, 1), -ENOEXEC);
	copy_self(path, 0, symbol_table_past_the_end);
	assert_int_equal(elfsym_find(path, 0, &query, 1), -ENOENT);
	copy_self(path, 0, string_table_link_out_of_range);
	assert_int_equal(elfsym_find(path, 0, &query, 1), -ENOENT);
	assert_int_equal(query.address, 0);
	assert_int_equal(elfsym_find("/nonexistent/lib.so", 0, &query, 1), -ENOENT);

	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(finds_local_symbols_of_a_source_file),
	    cmocka_unit_test(another_file_or_type_finds_nothing),
	    cmocka_unit_test(refuses_files_that_lie),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
