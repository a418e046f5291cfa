/*
 * test_preload_secure.c — a privileged image (AT_SECURE: set-user-ID,
 * set-group-ID, file capabilities) records nothing, whatever its
 * environment names: the environment comes from a less privileged caller.
 * test_preload_secure_prog (linked against libweft.so) is copied next to
 * this test's ring file and run with WEFT_SHM naming it, once as a plain
 * file (it records: the test can see recording) and once set-group-ID to
 * another group (it must not touch the ring file). Needs root (to give
 * the copy another group); skipped otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ring.h"

#define SLOTS 8

/* Run prog with WEFT_SHM=ring; its exit status, and the number of slots
 * it left claimed and tokens it took. */
static void run(const char *prog, const char *ring, int *status, int *claimed, uint64_t *tokens)
{
	struct ring_map map;
	unlink(ring);
	assert_int_equal(ring_file_create(ring, SLOTS, 16384, &map), 0);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("WEFT_SHM", ring, 1);
		unsetenv("LD_PRELOAD");
		execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, status, 0), pid);
	*claimed = 0;
	for (uint32_t i = 0; i < SLOTS; i++)
		*claimed += atomic_load(&map.slots[i].state) != RING_SLOT_FREE;
	*tokens = atomic_load(&map.header->next_token) - 1;
	ring_file_unmap(&map);
	unlink(ring);
}

static void privileged_image_records_nothing(void **state)
{
	if (geteuid() != 0)
		skip();
	char prog[64], ring[64];
	snprintf(prog, sizeof prog, "/dev/shm/weft-test-secure-prog-%d", (int)getpid());
	snprintf(ring, sizeof ring, "/dev/shm/weft-test-secure-ring-%d", (int)getpid());
	int in = open(WEFT_TEST_SECURE_PROG, O_RDONLY);
	assert_true(in >= 0);
	struct stat st;
	assert_int_equal(fstat(in, &st), 0);
	unlink(prog);
	int out = open(prog, O_WRONLY | O_CREAT | O_EXCL, 0755);
	assert_true(out >= 0);
	assert_int_equal(sendfile(out, in, NULL, (size_t)st.st_size), st.st_size);
	close(in);
	close(out);

	int status, claimed;
	uint64_t tokens;
	run(prog, ring, &status, &claimed, &tokens);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(tokens, 2); /* the program and its fork child */
	assert_true(claimed >= 2);

	/* Set-group-ID to a group that is not ours: AT_SECURE. */
	gid_t other = getegid() == 65534 ? 65533 : 65534;
	assert_int_equal(chown(prog, (uid_t)-1, other), 0);
	assert_int_equal(chmod(prog, 02755), 0);
	run(prog, ring, &status, &claimed, &tokens);
	unlink(prog);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(tokens, 0);
	assert_int_equal(claimed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(privileged_image_records_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
