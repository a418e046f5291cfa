/*
 * wrap_sigwait.c — waits for a signal (hot path): sigsuspend, sigwaitinfo,
 * sigtimedwait and pause, as a server's master process sits between its
 * children's deaths and its operator's signals (nginx's master lives in
 * sigsuspend). Each records BLOCK_BEGIN/END with reason signal and no
 * object; a sigtimedwait with a zero timeout cannot wait and passes
 * through.
 */
#include <signal.h>
#include <unistd.h>

#include "preload.h"
#include "real.h"

#define SIGNAL_WAIT(t, call, expr) PRELOAD_BLOCKING_ERRNO(t, WEFT_REASON_SIGNAL, call, 0, 0, expr)

WEFT_EXPORT int sigsuspend(const sigset_t *mask)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(sigsuspend)(mask);
	return SIGNAL_WAIT(t, WEFT_CALL_SIGSUSPEND, REAL(sigsuspend)(mask));
}

WEFT_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(sigwaitinfo)(set, info);
	return SIGNAL_WAIT(t, WEFT_CALL_SIGWAITINFO, REAL(sigwaitinfo)(set, info));
}

WEFT_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	struct preload_thread *t = preload_recorder();
	if (!t || (timeout && timeout->tv_sec == 0 && timeout->tv_nsec == 0))
		return REAL(sigtimedwait)(set, info, timeout);
	return SIGNAL_WAIT(t, WEFT_CALL_SIGTIMEDWAIT, REAL(sigtimedwait)(set, info, timeout));
}

WEFT_EXPORT int pause(void)
{
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pause)();
	return SIGNAL_WAIT(t, WEFT_CALL_PAUSE, REAL(pause)());
}
