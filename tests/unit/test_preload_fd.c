/*
 * test_preload_fd.c — what libweft.so knows about a process's file
 * descriptors: which are non-blocking (fdnb), which are pipes and what
 * FD_CHANNEL records say about them (fdchan), and the scan of
 * open fds both start from (fdscan). Real fds, a real ring file.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
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

#include "fdchan.h"
#include "fdnb.h"
#include "fdscan.h"
#include "ring.h"

/* --- fdscan ---------------------------------------------------------- */

struct seen_fds {
	int count;
	int has[64];
};

static void remember(int fd, void *ctx)
{
	struct seen_fds *seen = ctx;
	seen->count++;
	if (fd < 64)
		seen->has[fd] = 1;
}

static void scan_visits_every_open_fd_once(void **state)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct seen_fds seen = {0};
	assert_int_equal(fdscan_each(64, remember, &seen), 0);
	assert_true(seen.has[fds[0]] && seen.has[fds[1]]);
	close(fds[1]);
	struct seen_fds after = {0};
	assert_int_equal(fdscan_each(64, remember, &after), 0);
	assert_true(after.has[fds[0]]);
	assert_false(after.has[fds[1]]);
	assert_int_equal(after.count, seen.count - 1);
	close(fds[0]);
}

struct fd_list {
	int count;
	int fds[1024];
};

static void list(int fd, void *ctx)
{
	struct fd_list *l = ctx;
	if (l->count < 1024)
		l->fds[l->count++] = fd;
}

/* The scan finds what /proc/self/fd lists, high fds (past the first
 * chunk of the scan) included. */
static void scan_finds_what_proc_lists(void **state)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(dup2(fds[0], 300), 300);
	assert_int_equal(dup2(fds[1], 1023), 1023);
	struct fd_list scanned = {0};
	assert_int_equal(fdscan_each(1024, list, &scanned), 0);
	struct fd_list listed = {0};
	DIR *dir = opendir("/proc/self/fd");
	assert_non_null(dir);
	struct dirent *entry;
	while ((entry = readdir(dir)))
		if (entry->d_name[0] != '.' && atoi(entry->d_name) != dirfd(dir) &&
		    atoi(entry->d_name) < 1024)
			listed.fds[listed.count++] = atoi(entry->d_name);
	closedir(dir);
	int sorted = 1;
	for (int i = 1; i < scanned.count; i++)
		sorted &= scanned.fds[i - 1] < scanned.fds[i];
	assert_true(sorted);
	assert_int_equal(scanned.count, listed.count);
	for (int i = 0; i < listed.count; i++) {
		int found = 0;
		for (int j = 0; j < scanned.count; j++)
			found |= scanned.fds[j] == listed.fds[i];
		assert_true(found);
	}
	assert_int_equal(scanned.fds[scanned.count - 1], 1023);
	close(300);
	close(1023);
	close(fds[0]);
	close(fds[1]);
}

static void scan_skips_fds_at_or_above_the_limit(void **state)
{
	int high = dup2(0, 60);
	assert_int_equal(high, 60);
	struct seen_fds seen = {0};
	assert_int_equal(fdscan_each(60, remember, &seen), 0);
	assert_false(seen.has[60]);
	close(high);
}

/* --- fdnb ------------------------------------------------------------ */

static void nonblocking_bit_follows_set_and_copy(void **state)
{
	fdnb_set(40, 1);
	assert_true(fdnb_is(40));
	fdnb_copy(40, 41);
	assert_true(fdnb_is(41));
	fdnb_set(40, 0);
	assert_false(fdnb_is(40));
	fdnb_copy(40, 41);
	assert_false(fdnb_is(41));
}

static void out_of_range_fds_are_never_nonblocking(void **state)
{
	fdnb_set(-1, 1);
	fdnb_set(FDNB_MAX, 1);
	assert_false(fdnb_is(-1));
	assert_false(fdnb_is(FDNB_MAX));
}

static void scan_reads_the_real_flags(void **state)
{
	int fds[2];
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	int blocking[2];
	assert_int_equal(pipe(blocking), 0);
	fdnb_set(blocking[0], 1); /* stale: the scan must correct it */
	fdnb_scan();
	assert_true(fdnb_is(fds[0]));
	assert_true(fdnb_is(fds[1]));
	assert_false(fdnb_is(blocking[0]));
	close(fds[0]);
	close(fds[1]);
	close(blocking[0]);
	close(blocking[1]);
}

/* --- fdchan ---------------------------------------------------------- */

struct fixture {
	char path[64];
	struct ring_map map;
	struct ring_writer writer;
	int count;
	struct weft_event events[16];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/dev/shm/weft-test-fd-%d", (int)getpid());
	unlink(f->path);
	assert_int_equal(ring_file_create(f->path, 1, 4096, &f->map), 0);
	assert_int_equal(ring_claim(&f->map, 1, 1, 0, 1, &f->writer), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ring_file_unmap(&f->map);
	unlink(f->path);
	free(f);
	return 0;
}

static void collect(void *ctx, uint32_t slot, const struct weft_event *event)
{
	struct fixture *f = ctx;
	if (f->count < 16)
		f->events[f->count++] = *event;
}

static void drain(struct fixture *f)
{
	f->count = 0;
	ring_drain(&f->map, 0, collect, f);
}

static void pipe_ends_are_recorded_with_their_inode(void **state)
{
	struct fixture *f = *state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct stat st;
	fstat(fds[0], &st);
	fdchan_note(&f->writer, fds[0]);
	fdchan_note(&f->writer, fds[1]);
	drain(f);
	assert_int_equal(f->count, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->events[i].type, WEFT_EV_FD_CHANNEL);
		assert_int_equal(f->events[i].reason, 1);
		assert_int_equal(f->events[i].a, (uint64_t)fds[i]);
		assert_int_equal(f->events[i].b, (uint64_t)st.st_ino);
	}
	fdchan_closed(&f->writer, fds[0]);
	fdchan_closed(&f->writer, fds[0]); /* once only */
	drain(f);
	assert_int_equal(f->count, 1);
	assert_int_equal(f->events[0].a, (uint64_t)fds[0]);
	assert_int_equal(f->events[0].b, 0);
	close(fds[0]);
	fdchan_closed(&f->writer, fds[1]);
	close(fds[1]);
}

static void other_fds_leave_nothing_unless_they_replaced_a_pipe(void **state)
{
	struct fixture *f = *state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fdchan_note(&f->writer, fds[0]);
	int null = open("/dev/null", O_RDONLY);
	fdchan_note(&f->writer, null);
	drain(f);
	assert_int_equal(f->count, 1); /* the pipe only */
	/* fds[0] now refers to /dev/null: the pipe is gone from it. */
	assert_int_equal(dup2(null, fds[0]), fds[0]);
	fdchan_note(&f->writer, fds[0]);
	drain(f);
	assert_int_equal(f->count, 1);
	assert_int_equal(f->events[0].a, (uint64_t)fds[0]);
	assert_int_equal(f->events[0].b, 0);
	close(null);
	close(fds[0]);
	close(fds[1]);
}

static void scan_records_the_pipes_already_open(void **state)
{
	struct fixture *f = *state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fdchan_scan(&f->writer, NULL, NULL);
	drain(f);
	int found = 0;
	for (int i = 0; i < f->count; i++)
		found += f->events[i].a == (uint64_t)fds[0] || f->events[i].a == (uint64_t)fds[1];
	assert_int_equal(found, 2);
	/* A fork child records them again from what the parent knew. */
	fdchan_inherit(&f->writer);
	drain(f);
	found = 0;
	for (int i = 0; i < f->count; i++)
		found += f->events[i].a == (uint64_t)fds[0] || f->events[i].a == (uint64_t)fds[1];
	assert_int_equal(found, 2);
	fdchan_closed(&f->writer, fds[0]);
	fdchan_closed(&f->writer, fds[1]);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scan_visits_every_open_fd_once),
	    cmocka_unit_test(scan_finds_what_proc_lists),
	    cmocka_unit_test(scan_skips_fds_at_or_above_the_limit),
	    cmocka_unit_test(nonblocking_bit_follows_set_and_copy),
	    cmocka_unit_test(out_of_range_fds_are_never_nonblocking),
	    cmocka_unit_test(scan_reads_the_real_flags),
	    cmocka_unit_test_setup_teardown(pipe_ends_are_recorded_with_their_inode, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(other_fds_leave_nothing_unless_they_replaced_a_pipe,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(scan_records_the_pipes_already_open, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
