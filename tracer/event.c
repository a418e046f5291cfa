/*
 * event.c — names for the enums of event.h, as the schema and the CLI
 * spell them.
 */
#include "event.h"

#include "names.h"

#include <stddef.h>

/* The reasons' names are the trace format's (format/names.h), numbered
 * one past its table: 0 is "no reason". */
_Static_assert(WEFT_REASON_COUNT == NAMES_REASON_COUNT + 1,
	       "enum weft_reason and names_reasons must list the same reasons");

static const char *const call_names[WEFT_CALL_COUNT] = {
    [WEFT_CALL_NONE] = NULL,
    [WEFT_CALL_MUTEX_LOCK] = "pthread_mutex_lock",
    [WEFT_CALL_MUTEX_TIMEDLOCK] = "pthread_mutex_timedlock",
    [WEFT_CALL_RWLOCK_RDLOCK] = "pthread_rwlock_rdlock",
    [WEFT_CALL_RWLOCK_WRLOCK] = "pthread_rwlock_wrlock",
    [WEFT_CALL_RWLOCK_TIMEDRDLOCK] = "pthread_rwlock_timedrdlock",
    [WEFT_CALL_RWLOCK_TIMEDWRLOCK] = "pthread_rwlock_timedwrlock",
    [WEFT_CALL_COND_WAIT] = "pthread_cond_wait",
    [WEFT_CALL_COND_TIMEDWAIT] = "pthread_cond_timedwait",
    [WEFT_CALL_SEM_WAIT] = "sem_wait",
    [WEFT_CALL_SEM_TIMEDWAIT] = "sem_timedwait",
    [WEFT_CALL_BARRIER_WAIT] = "pthread_barrier_wait",
    [WEFT_CALL_JOIN] = "pthread_join",
    [WEFT_CALL_TIMEDJOIN] = "pthread_timedjoin_np",
    [WEFT_CALL_SLEEP] = "sleep",
    [WEFT_CALL_USLEEP] = "usleep",
    [WEFT_CALL_NANOSLEEP] = "nanosleep",
    [WEFT_CALL_CLOCK_NANOSLEEP] = "clock_nanosleep",
    [WEFT_CALL_READ] = "read",
    [WEFT_CALL_WRITE] = "write",
    [WEFT_CALL_READV] = "readv",
    [WEFT_CALL_WRITEV] = "writev",
    [WEFT_CALL_RECV] = "recv",
    [WEFT_CALL_RECVFROM] = "recvfrom",
    [WEFT_CALL_RECVMSG] = "recvmsg",
    [WEFT_CALL_SEND] = "send",
    [WEFT_CALL_SENDTO] = "sendto",
    [WEFT_CALL_SENDMSG] = "sendmsg",
    [WEFT_CALL_ACCEPT] = "accept",
    [WEFT_CALL_CONNECT] = "connect",
    [WEFT_CALL_POLL] = "poll",
    [WEFT_CALL_PPOLL] = "ppoll",
    [WEFT_CALL_SELECT] = "select",
    [WEFT_CALL_PSELECT] = "pselect",
    [WEFT_CALL_EPOLL_WAIT] = "epoll_wait",
    [WEFT_CALL_WAIT] = "wait",
    [WEFT_CALL_WAITPID] = "waitpid",
    [WEFT_CALL_WAIT4] = "wait4",
    [WEFT_CALL_WAITID] = "waitid",
    [WEFT_CALL_FORK] = "fork",
    [WEFT_CALL_VFORK] = "vfork",
    [WEFT_CALL_POSIX_SPAWN] = "posix_spawn",
    [WEFT_CALL_SYSTEM] = "system",
    [WEFT_CALL_FUTEX] = "futex",
    [WEFT_CALL_PREAD] = "pread",
    [WEFT_CALL_PWRITE] = "pwrite",
    [WEFT_CALL_PREADV] = "preadv",
    [WEFT_CALL_PWRITEV] = "pwritev",
    [WEFT_CALL_FSYNC] = "fsync",
    [WEFT_CALL_FDATASYNC] = "fdatasync",
    [WEFT_CALL_SYNC_FILE_RANGE] = "sync_file_range",
    [WEFT_CALL_SIGSUSPEND] = "sigsuspend",
    [WEFT_CALL_SIGWAITINFO] = "sigwaitinfo",
    [WEFT_CALL_SIGTIMEDWAIT] = "sigtimedwait",
    [WEFT_CALL_PAUSE] = "pause",
    [WEFT_CALL_JAVA_MONITOR_ENTER] = "synchronized",
    [WEFT_CALL_JAVA_OBJECT_WAIT] = "Object.wait",
    [WEFT_CALL_JAVA_SLEEP] = "Thread.sleep",
    [WEFT_CALL_JAVA_PARK] = "LockSupport.park",
};

const char *weft_reason_name(unsigned reason)
{
	return reason >= 1 && reason < WEFT_REASON_COUNT ? names_reasons[reason - 1] : NULL;
}

const char *weft_call_name(unsigned call)
{
	return call < WEFT_CALL_COUNT ? call_names[call] : NULL;
}
