/*
 * title.h — a process's title as ps shows it at its end.
 *
 * Servers retitle the processes they fork without exec, by overwriting
 * their argv area as setproctitle does (PostgreSQL's "postgres:
 * checkpointer", nginx's "nginx: worker process"); no call tells. When
 * such a fork child ends, its title is read back from /proc/self/cmdline
 * and written as PROC_TITLE (event.h), so that the trace names it as ps
 * does. A title set with prctl(PR_SET_NAME) is already a THREAD_NAME.
 * Not the hot path: once per fork child, at its exit.
 */
#ifndef WEFT_PRELOAD_TITLE_H
#define WEFT_PRELOAD_TITLE_H

struct preload_thread;

/* In a fork child: this image's title may change (async-signal-safe). */
void title_note_fork(void);

/* At exit: PROC_TITLE with the command line now, in a fork child. */
void title_at_exit(struct preload_thread *t);

#endif
