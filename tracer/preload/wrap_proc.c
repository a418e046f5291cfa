/*
 * wrap_proc.c — process life: fork, exec, spawn, exit, signals sent.
 *
 * fork/vfork: the parent writes FORK (a = child pid, b = ts of the call's
 * start) after the real fork returned; the child is given its identity by
 * the atfork child handler (life.c) before anything in it can record. The
 * in_fork flag is raised across the real call so that the program's
 * atfork handlers record nothing into the parent's ring from the child.
 * vfork is implemented as fork: a wrapper cannot return into a vfork child
 * (it would run on the parent's stack frame the wrapper is about to pop).
 * Before the first fork every real function is resolved (real.h).
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

#include "preload.h"
#include "real.h"

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

WEFT_EXPORT pid_t vfork(void)
{
	return fork_as(WEFT_CALL_VFORK);
}

/* --- exec ------------------------------------------------------------ */

static void exec_begin(struct preload_thread *t, const char *path)
{
	if (!t || !t->writer.slot)
		return;
	preload_write_begin(t);
	emit_record_string(&t->writer, WEFT_EV_EXEC, 0, 0, emit_now(), 0, 0, path,
			   WEFT_PAYLOAD_MAX);
	preload_write_end(t);
	atomic_store_explicit(&t->writer.slot->state, RING_SLOT_EXEC, memory_order_release);
}

/* The exec call returned result (always -1): undo exec_begin. */
static int exec_failed(struct preload_thread *t, int result)
{
	int saved = errno;
	if (t && t->writer.slot) {
		atomic_store_explicit(&t->writer.slot->state, RING_SLOT_ACTIVE,
				      memory_order_release);
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

WEFT_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
			    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	struct preload_thread *t = preload_recorder();
	uint64_t ts = t ? emit_now() : 0;
	pid_t local;
	pid_t *where = pid ? pid : &local;
	int result = REAL(posix_spawn)(where, path, actions, attr, argv, envp);
	if (t && result == 0)
		preload_emit(t, WEFT_EV_FORK, 0, WEFT_CALL_POSIX_SPAWN, (uint64_t)*where, ts);
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
		preload_emit(t, WEFT_EV_FORK, 0, WEFT_CALL_POSIX_SPAWN, (uint64_t)*where, ts);
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
	if (t)
		preload_emit(t, WEFT_EV_PROC_EXIT, reason, 0, (uint32_t)status, 0);
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
