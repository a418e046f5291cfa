/*
 * wrap_signal.c — installing signal handlers: sigaction() and signal().
 *
 * Nothing is recorded. A wrapper called from a signal handler must not
 * enter dlsym (real.h), so the first time a program installs a handler
 * (a function, not SIG_DFL or SIG_IGN) every real function is resolved,
 * before the handler can run. Arguments, result and errno pass through.
 */
#include <signal.h>

#include "preload.h"
#include "real.h"

static int installs_handler(void (*handler)(int))
{
	return handler != SIG_DFL && handler != SIG_IGN;
}

WEFT_EXPORT int sigaction(int number, const struct sigaction *action, struct sigaction *old)
{
	if (action && installs_handler(action->sa_handler))
		real_resolve_all_once();
	return REAL(sigaction)(number, action, old);
}

WEFT_EXPORT sighandler_t signal(int number, sighandler_t handler)
{
	if (installs_handler(handler))
		real_resolve_all_once();
	return REAL(signal)(number, handler);
}
