/*
 * waitstatus.c — see waitstatus.h.
 */
#include "waitstatus.h"

#include <signal.h>
#include <sys/wait.h>

int waitstatus_from_siginfo(int code, int value)
{
	switch (code) {
	case CLD_EXITED:
		return (value & 0xff) << 8;
	case CLD_KILLED:
		return value & 0x7f;
	case CLD_DUMPED:
		return (value & 0x7f) | 0x80;
	default:
		return -1;
	}
}

int waitstatus_is_termination(int status)
{
	return WIFEXITED(status) || WIFSIGNALED(status);
}
