/*
 * weft-itest-noperf - run a command where perf_event_open is forbidden.
 *
 *   weft-itest-noperf CMD [ARGS...]
 *
 * Installs a seccomp filter that makes perf_event_open fail with EACCES
 * (as a container's default profile does), then execs CMD: `weft record`
 * run this way must fall back from perf to sampling schedstat. Every other
 * system call is allowed. x86_64 and aarch64.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NOPERF_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NOPERF_ARCH AUDIT_ARCH_AARCH64
#else
#error "weft-itest-noperf: unknown architecture"
#endif

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: weft-itest-noperf CMD [ARGS...]\n");
		return 2;
	}
	struct sock_filter filter[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOPERF_ARCH, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_perf_event_open, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog program = {.len = sizeof filter / sizeof filter[0], .filter = filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program)) {
		fprintf(stderr, "weft-itest-noperf: seccomp: %s\n", strerror(errno));
		return 126;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "weft-itest-noperf: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
