/*
 * waitstatus.h — the raw wait status (as waitpid reports it) of a child
 * that waitid reaped, synthesized from the siginfo waitid filled, so that
 * every WAIT_RESULT record carries the same encoding.
 */
#ifndef WEFT_PRELOAD_WAITSTATUS_H
#define WEFT_PRELOAD_WAITSTATUS_H

/* code/value (si_code/si_status) of a SIGCHLD siginfo -> wait status: CLD_EXITED ->
 * (status & 0xff) << 8; CLD_KILLED -> signo; CLD_DUMPED -> signo | 0x80.
 * Returns -1 for reports that are not a termination (stopped, continued,
 * trapped, or no child: si_code 0). */
int waitstatus_from_siginfo(int code, int value);

/* Nonzero when a waitpid status says the child terminated (exited or was
 * killed), i.e. was reaped rather than stopped or continued. */
int waitstatus_is_termination(int status);

#endif
