/*
 * wrap_proc.c — process life: fork, exec, spawn, exit, signals sent.
 *
 * fork: the parent writes FORK (a = child pid, b = ts of the call's
 * start) after the real fork returned; the child is given its identity by
 * the atfork child handler (life.c) before anything in it can record. The
 * in_fork flag is raised across the real call so that the program's
 * atfork handlers record nothing into the parent's ring from the child.
 * Before the first fork every real function is resolved (real.h).
 *
 * vfork (dash runs every simple command through it) stays a vfork: a fork
 * in its place copies the shell's page tables and takes copy-on-write
 * faults, about 0.1 ms per command. A C wrapper cannot call vfork (the
 * child would return through, and the parent then reuse, a frame the
 * child has already popped), so on x86-64 vfork is a few instructions of
 * assembly in the shape of glibc's own: it keeps its return address in a
 * register across the system call. Before the call, vfork_prepare raises
 * busy and fdnb_paused in the calling thread; the child borrows that
 * thread's TLS and memory until it execs or exits, so everything it does
 * passes through unrecorded and leaves the parent's fd tables alone. The
 * parent then lowers both and writes FORK (call VFORK), with the path the
 * child exec'd as payload (the exec wrappers leave it in vfork_exec). The
 * child has no identity of its own: the image it execs starts as a new
 * process (life.c) that the collector joins to the FORK by pid; a child
 * that exits without exec, or execs an image our library cannot enter
 * (a static binary), is known from FORK, the kernel's records and its
 * parent's wait. Elsewhere vfork is fork.
 * posix_spawn's FORK carries the spawned path the same way.
 *
 * exec family: EXEC (payload: the path) is written and the slot moved
 * ACTIVE -> EXEC before the real call; the new image adopts the token
 * (life.c). If the call returns, it failed: the slot goes back to ACTIVE
 * and EXEC_FAIL (a = errno) is written.
 *
 * posix_spawn/posix_spawnp write FORK (call POSIX_SPAWN) with the child's
 * pid; system() cannot report its child's pid, so it is recorded as a
 * wait (BLOCK_BEGIN/END, reason wait, call SYSTEM).
 *
 * exit() and a return from main write PROC_EXIT (reason 1, a = status;
 * __libc_start_main is wrapped to see main's return value, because glibc
 * calls exit() internally, out of the wrappers' reach); _exit/_Exit write
 * PROC_EXIT with reason 0. kill/tgkill/raise write SIGNAL_SENT.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdnb.h"
#include "preload.h"
#include "real.h"
#include "title.h"

#define WEFT_STR_(x) #x
#define WEFT_STR(x) WEFT_STR_(x)

extern char **environ;

/* --- fork ------------------------------------------------------------ */

static pid_t fork_as(uint8_t call)
{
	real_resolve_all_once(); /* the child must not enter dlsym (real.h) */
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(fork)();
	uint64_t ts = emit_now();
	t->fork_ts = ts;
	t->in_fork = 1;
	pid_t pid = REAL(fork)();
	int saved = errno;
	if (pid == 0) {
		/* The atfork child handler normally did this already. */
		if (preload_proc.attached && preload_proc.pid != (uint32_t)syscall(SYS_getpid))
			preload_fork_child(ts);
		preload_self.in_fork = 0;
	} else {
		t->in_fork = 0;
		t->fork_ts = 0;
		if (pid > 0)
			preload_emit(t, WEFT_EV_FORK, 0, call, (uint64_t)pid, ts);
	}
	errno = saved;
	return pid;
}

WEFT_EXPORT pid_t fork(void)
{
	return fork_as(WEFT_CALL_FORK);
}

#if defined(__x86_64__)
/* Before the system call: the child will run on this thread's TLS. A
 * vfork inside a vfork child (or in a signal handler meanwhile) nests: the
 * counters keep the outer one's state until it returns. errno is kept. */
void weft_vfork_prepare(void);
void weft_vfork_prepare(void)
{
	int saved = errno;
	real_resolve_all_once();
	if (!preload_self.in_vfork) {
		struct preload_thread *t = preload_recorder();
		preload_self.fork_ts = t ? emit_now() : 0;
		preload_self.vfork_exec[0] = '\0';
	}
	preload_self.busy++;
	fdnb_paused++;
	preload_self.in_vfork++;
	errno = saved;
}

/* After it, in the parent (the child has exec'd or exited): result is the
 * child's pid or -errno. Returns what vfork returns. */
pid_t weft_vfork_parent(long result);
pid_t weft_vfork_parent(long result)
{
	preload_self.in_vfork--;
	fdnb_paused--;
	preload_self.busy--;
	if (result < 0) {
		errno = (int)-result;
		return -1;
	}
	if (preload_self.in_vfork) /* an inner vfork: the outer one records */
		return (pid_t)result;
	uint64_t ts = preload_self.fork_ts;
	preload_self.fork_ts = 0;
	int saved = errno;
	struct preload_thread *t = ts ? preload_recorder() : NULL;
	if (t) {
		preload_write_begin(t);
		emit_record_string(&t->writer, WEFT_EV_FORK, 0, WEFT_CALL_VFORK, emit_now(),
				   (uint64_t)result, ts, preload_self.vfork_exec, WEFT_PAYLOAD_MAX);
		preload_write_end(t);
	}
	errno = saved;
	return (pid_t)result;
}

/* The child returns with a jump, not ret: ret would pop the return address
 * from the shadow stack it shares with its parent (with CET shadow stacks
 * on), which the parent's own ret needs; notrack since a return address
 * is no indirect-branch target. */
/* clang-format off */
__asm__(".pushsection .text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	.cfi_startproc\n"
#ifdef __CET__
	"	endbr64\n"
#endif
	"	subq $8, %rsp\n" /* align the stack for the call */
	"	.cfi_adjust_cfa_offset 8\n"
	"	call weft_vfork_prepare\n"
	"	addq $8, %rsp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq %rdi\n" /* the return address, out of the child's reach */
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_register rip, rdi\n"
	"	movl $" WEFT_STR(SYS_vfork) ", %eax\n"
	"	syscall\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	.cfi_remember_state\n"
	"	pushq %rdi\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset rip, 0\n"
	"	movq %rax, %rdi\n"
	"	jmp weft_vfork_parent\n" /* returns to our caller */
	"	.cfi_restore_state\n"
	"1:	notrack jmp *%rdi\n" /* the child */
	"	.cfi_endproc\n"
	".size vfork, .-vfork\n"
	".popsection\n");
/* clang-format on */
#else
WEFT_EXPORT pid_t vfork(void)
{
	return fork_as(WEFT_CALL_VFORK);
}
#endif

/* --- exec ------------------------------------------------------------ */

/* A vfork child's exec (it runs on its parent's TLS, with nothing of its
 * own to record into): leave the path for the parent's FORK. */
static void vfork_child_exec(const char *path)
{
	size_t i = 0;
	for (; path && path[i] && i + 1 < sizeof preload_self.vfork_exec; i++)
		preload_self.vfork_exec[i] = path[i];
	preload_self.vfork_exec[i] = '\0';
}

static void exec_begin(struct preload_thread *t, const char *path)
{
	if (preload_self.in_vfork)
		vfork_child_exec(path);
	if (!t || !t->writer.slot)
		return;
	preload_write_begin(t);
	emit_record_string(&t->writer, WEFT_EV_EXEC, 0, 0, emit_now(), 0, 0, path,
			   WEFT_PAYLOAD_MAX);
	preload_write_end(t);
	ring_exec_mark(&preload_proc.map, &t->writer, preload_proc.pid,
		       atomic_load(&preload_proc.slots) <= 1);
}

/* The exec call returned result (always -1): undo exec_begin. */
static int exec_failed(struct preload_thread *t, int result)
{
	int saved = errno;
	if (preload_self.in_vfork)
		preload_self.vfork_exec[0] = '\0';
	if (t && t->writer.slot) {
		ring_exec_undo(&preload_proc.map, &t->writer);
		preload_emit(t, WEFT_EV_EXEC_FAIL, 0, 0, (uint64_t)saved, 0);
	}
	errno = saved;
	return result;
}

WEFT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	struct preload_thread *t = preload_recorder();
	exec_begin(t, path);
	return exec_failed(t, REAL(execve)(path, argv, envp));
}

WEFT_EXPORT int execv(const char *path, char *const argv[])
{
	struct preload_thread *t = preload_recorder();
	exec_begin(t, path);
	return exec_failed(t, REAL(execv)(path, argv));
}

WEFT_EXPORT int execvp(const char *file, char *const argv[])
{
	struct preload_thread *t = preload_recorder();
	exec_begin(t, file);
	return exec_failed(t, REAL(execvp)(file, argv));
}

WEFT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct preload_thread *t = preload_recorder();
	exec_begin(t, file);
	return exec_failed(t, REAL(execvpe)(file, argv, envp));
}

WEFT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	struct preload_thread *t = preload_recorder();
	char path[32] = "/proc/self/fd/";
	char digits[12];
	int n = 0;
	unsigned value = (unsigned)fd;
	do
		digits[n++] = (char)('0' + value % 10);
	while ((value /= 10) && n < (int)sizeof digits);
	size_t at = 14;
	while (n)
		path[at++] = digits[--n];
	path[at] = '\0';
	exec_begin(t, path);
	return exec_failed(t, REAL(fexecve)(fd, argv, envp));
}

/* The variadic forms: collect the arguments into an argv on the stack.
 * The count pass and the copy pass read the same va_list contents. */
#define COLLECT_ARGV(first, last_param, argv_name)                                                 \
	size_t argc_ = 1;                                                                          \
	va_list count_;                                                                            \
	va_start(count_, last_param);                                                              \
	while (va_arg(count_, const char *))                                                       \
		argc_++;                                                                           \
	va_end(count_);                                                                            \
	char *argv_name[argc_ + 1];                                                                \
	va_list copy_;                                                                             \
	va_start(copy_, last_param);                                                               \
	argv_name[0] = (char *)(first);                                                            \
	for (size_t i_ = 1; i_ <= argc_; i_++)                                                     \
		argv_name[i_] = va_arg(copy_, char *);

WEFT_EXPORT int execl(const char *path, const char *arg, ...)
{
	COLLECT_ARGV(arg, arg, argv);
	va_end(copy_);
	struct preload_thread *t = preload_recorder();
	exec_begin(t, path);
	return exec_failed(t, REAL(execve)(path, argv, environ));
}

WEFT_EXPORT int execlp(const char *file, const char *arg, ...)
{
	COLLECT_ARGV(arg, arg, argv);
	va_end(copy_);
	struct preload_thread *t = preload_recorder();
	exec_begin(t, file);
	return exec_failed(t, REAL(execvp)(file, argv));
}

WEFT_EXPORT int execle(const char *path, const char *arg, ...)
{
	COLLECT_ARGV(arg, arg, argv);
	char *const *envp = va_arg(copy_, char *const *);
	va_end(copy_);
	struct preload_thread *t = preload_recorder();
	exec_begin(t, path);
	return exec_failed(t, REAL(execve)(path, argv, envp));
}

/* --- spawn and system ------------------------------------------------ */

/* FORK for a spawned child (payload: the path it runs). */
static void spawned(struct preload_thread *t, pid_t pid, uint64_t ts, const char *path)
{
	int saved = errno;
	preload_write_begin(t);
	emit_record_string(&t->writer, WEFT_EV_FORK, 0, WEFT_CALL_POSIX_SPAWN, emit_now(),
			   (uint64_t)pid, ts, path, WEFT_PAYLOAD_MAX);
	preload_write_end(t);
	errno = saved;
}

WEFT_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
			    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	struct preload_thread *t = preload_recorder();
	uint64_t ts = t ? emit_now() : 0;
	pid_t local;
	pid_t *where = pid ? pid : &local;
	int result = REAL(posix_spawn)(where, path, actions, attr, argv, envp);
	if (t && result == 0)
		spawned(t, *where, ts, path);
	return result;
}

WEFT_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			     const posix_spawn_file_actions_t *actions,
			     const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	struct preload_thread *t = preload_recorder();
	uint64_t ts = t ? emit_now() : 0;
	pid_t local;
	pid_t *where = pid ? pid : &local;
	int result = REAL(posix_spawnp)(where, file, actions, attr, argv, envp);
	if (t && result == 0)
		spawned(t, *where, ts, file);
	return result;
}

WEFT_EXPORT int system(const char *command)
{
	struct preload_thread *t = preload_recorder();
	if (!t || !command)
		return REAL(system)(command);
	return PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_WAIT, WEFT_CALL_SYSTEM, 0, 0,
				      REAL(system)(command));
}

/* --- exit ------------------------------------------------------------ */

/* PROC_EXIT: reason 1 for exit() and a return from main, 0 for
 * _exit()/_Exit(). */
static void exiting(uint8_t reason, int status)
{
	struct preload_thread *t = preload_recorder();
	if (t) {
		title_at_exit(t);
		preload_emit(t, WEFT_EV_PROC_EXIT, reason, 0, (uint32_t)status, 0);
	}
}

static real_main_fn program_main;

static int main_returning(int argc, char **argv, char **envp)
{
	int status = program_main(argc, argv, envp);
	exiting(1, status);
	return status;
}

WEFT_EXPORT int __libc_start_main(real_main_fn main, int argc, char **argv, void (*init)(void),
				  void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	program_main = main;
	return REAL(__libc_start_main)(main_returning, argc, argv, init, fini, rtld_fini,
				       stack_end);
}

WEFT_EXPORT void exit(int status)
{
	exiting(1, status);
	REAL(exit)(status);
	__builtin_unreachable();
}

WEFT_EXPORT void _exit(int status)
{
	exiting(0, status);
	REAL(_exit)(status);
	__builtin_unreachable();
}

WEFT_EXPORT void _Exit(int status)
{
	exiting(0, status);
	REAL(_Exit)(status);
	__builtin_unreachable();
}

/* --- signals sent ---------------------------------------------------- */

WEFT_EXPORT int kill(pid_t pid, int signal)
{
	struct preload_thread *t = preload_recorder();
	if (t && signal)
		preload_emit(t, WEFT_EV_SIGNAL_SENT, 0, 0, (uint64_t)(int64_t)pid,
			     (uint64_t)signal);
	return REAL(kill)(pid, signal);
}

WEFT_EXPORT int tgkill(pid_t tgid, pid_t tid, int signal)
{
	struct preload_thread *t = preload_recorder();
	if (t && signal)
		preload_emit(t, WEFT_EV_SIGNAL_SENT, 0, 0, (uint64_t)(int64_t)tid,
			     (uint64_t)signal);
	return REAL(tgkill)(tgid, tid, signal);
}

WEFT_EXPORT int raise(int signal)
{
	struct preload_thread *t = preload_recorder();
	if (t && signal)
		preload_emit(t, WEFT_EV_SIGNAL_SENT, 0, 0, preload_tid(), (uint64_t)signal);
	return REAL(raise)(signal);
}
