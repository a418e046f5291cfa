/*
 * wrap_thread.c — thread life: creation, exit and names.
 *
 * pthread_create runs the program's start routine inside a trampoline that
 * claims the new thread's slot and writes THREAD_START (a = creator tid,
 * b = ts of the pthread_create call) before the routine, and THREAD_EXIT
 * after it returns or unwinds (pthread_exit, cancellation; a cleanup
 * handler covers both). The trampoline's argument is malloc'd by the
 * creator and freed by the new thread (or by the creator if creation
 * fails): thread creation is not the hot path.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "preload.h"
#include "real.h"
#include "threadtid.h"

struct trampoline {
	void *(*start)(void *);
	void *arg;
	uint32_t creator_tid;
	uint64_t create_ts;
};

static void thread_unwound(void *unused)
{
	preload_thread_end();
}

static void *trampoline_run(void *opaque)
{
	struct trampoline trampoline = *(struct trampoline *)opaque;
	free(opaque);
	preload_thread_begin(trampoline.creator_tid, trampoline.create_ts);
	void *result;
	pthread_cleanup_push(thread_unwound, NULL);
	result = trampoline.start(trampoline.arg);
	pthread_cleanup_pop(0);
	preload_thread_end();
	return result;
}

WEFT_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			       void *(*start)(void *), void *arg)
{
	/* From now on another thread may hold the loader's lock when this
	 * process forks: resolve while there is only one (real.h). */
	real_resolve_all_once();
	struct preload_thread *t = preload_recorder();
	if (!t)
		return REAL(pthread_create)(thread, attr, start, arg);
	uint64_t ts = emit_now();
	int saved = errno;
	t->busy++;
	struct trampoline *trampoline = malloc(sizeof *trampoline);
	t->busy--;
	if (!trampoline) {
		errno = saved;
		return REAL(pthread_create)(thread, attr, start, arg);
	}
	errno = saved;
	*trampoline = (struct trampoline){start, arg, preload_tid(), ts};
	int result = REAL(pthread_create)(thread, attr, trampoline_run, trampoline);
	if (result) {
		saved = errno;
		free(trampoline);
		errno = saved;
	}
	return result;
}

WEFT_EXPORT void pthread_exit(void *retval)
{
	/* Unwinding runs the trampoline's cleanup handler; a thread that did
	 * not start in the trampoline (the main thread) ends here. */
	struct preload_thread *t = preload_recorder();
	if (t && preload_proc.pid && preload_tid() == preload_proc.pid)
		preload_thread_end();
	REAL(pthread_exit)(retval);
	__builtin_unreachable();
}

WEFT_EXPORT int pthread_setname_np(pthread_t thread, const char *name)
{
	int result = REAL(pthread_setname_np)(thread, name);
	struct preload_thread *t = preload_recorder();
	if (result == 0 && t && t->writer.slot) {
		int saved = errno;
		uint32_t tid =
		    pthread_equal(thread, pthread_self()) ? preload_tid() : threadtid_of(thread);
		if (tid) {
			preload_write_begin(t);
			emit_thread_name(&t->writer, emit_now(), tid, name);
			preload_write_end(t);
		}
		errno = saved;
	}
	return result;
}

WEFT_EXPORT int prctl(int option, ...)
{
	va_list args;
	va_start(args, option);
	unsigned long arg2 = va_arg(args, unsigned long);
	unsigned long arg3 = va_arg(args, unsigned long);
	unsigned long arg4 = va_arg(args, unsigned long);
	unsigned long arg5 = va_arg(args, unsigned long);
	va_end(args);
	int result = REAL(prctl)(option, arg2, arg3, arg4, arg5);
	if (result == 0 && option == PR_SET_NAME && arg2) {
		int saved = errno;
		struct preload_thread *t = preload_recorder();
		if (t && t->writer.slot) {
			preload_write_begin(t);
			emit_thread_name(&t->writer, emit_now(), preload_tid(), (const char *)arg2);
			preload_write_end(t);
		}
		errno = saved;
	}
	return result;
}
