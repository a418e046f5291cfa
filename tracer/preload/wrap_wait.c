/*
 * wrap_wait.c — wrappers for the waits on child processes (hot path).
 *
 * A wait that may block records BLOCK_BEGIN/END (reason wait, a = the pid
 * argument as the call saw it). Every child reaped (terminated, not merely
 * stopped or continued) gets a WAIT_RESULT record (a = child pid, b = raw
 * wait status), also when WNOHANG made the call non-blocking and thus
 * unrecorded otherwise. waitid's status is synthesized from its siginfo
 * (waitstatus.h); with WNOWAIT nothing is reaped and no WAIT_RESULT is
 * written. The caller's status pointer may be NULL: a local one is passed
 * to the real call, which changes nothing the program can see.
 */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "preload.h"
#include "real.h"
#include "waitstatus.h"

/* A wait call returned result (a pid, 0 or -1) with status: record the
 * child's end. Returns result, errno as the call left it. */
static pid_t reaped(struct preload_thread *t, pid_t result, int status)
{
	int saved = errno;
	if (result > 0 && waitstatus_is_termination(status))
		preload_emit(t, WEFT_EV_WAIT_RESULT, 0, 0, (uint64_t)result,
			     (uint64_t)(uint32_t)status);
	errno = saved;
	return result;
}

WEFT_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *usage)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(wait4)(pid, status, options, usage);
	int local = 0;
	int *where = status ? status : &local;
	pid_t result;
	if (options & WNOHANG)
		result = REAL(wait4)(pid, where, options, usage);
	else
		result = PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_WAIT, WEFT_CALL_WAIT4, (int64_t)pid,
						0, REAL(wait4)(pid, where, options, usage));
	return reaped(t, result, *where);
}

WEFT_EXPORT pid_t wait3(int *status, int options, struct rusage *usage)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(wait3)(status, options, usage);
	int local = 0;
	int *where = status ? status : &local;
	pid_t result;
	if (options & WNOHANG)
		result = REAL(wait3)(where, options, usage);
	else
		result = PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_WAIT, WEFT_CALL_WAIT4, (int64_t)-1,
						0, REAL(wait3)(where, options, usage));
	return reaped(t, result, *where);
}

WEFT_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(waitpid)(pid, status, options);
	int local = 0;
	int *where = status ? status : &local;
	pid_t result;
	if (options & WNOHANG)
		result = REAL(waitpid)(pid, where, options);
	else
		result =
		    PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_WAIT, WEFT_CALL_WAITPID, (int64_t)pid, 0,
					   REAL(waitpid)(pid, where, options));
	return reaped(t, result, *where);
}

WEFT_EXPORT pid_t wait(int *status)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(wait)(status);
	int local = 0;
	int *where = status ? status : &local;
	pid_t result = PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_WAIT, WEFT_CALL_WAIT, (int64_t)-1, 0,
					      REAL(wait)(where));
	return reaped(t, result, *where);
}

WEFT_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(waitid)(idtype, id, info, options);
	siginfo_t local;
	siginfo_t *where = info ? info : &local;
	if (!info)
		local.si_pid = 0;
	int64_t object = idtype == P_PID ? (int64_t)id : -1;
	int result;
	if (options & WNOHANG)
		result = REAL(waitid)(idtype, id, where, options);
	else
		result = PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_WAIT, WEFT_CALL_WAITID, object, 0,
						REAL(waitid)(idtype, id, where, options));
	int saved = errno;
	if (result == 0 && !(options & WNOWAIT) && where->si_pid > 0) {
		int status = waitstatus_from_siginfo(where->si_code, where->si_status);
		if (status >= 0)
			reaped(t, where->si_pid, status);
	}
	errno = saved;
	return result;
}
