/*
 * event.h — the records a traced thread appends to its ring.
 *
 * Every record starts with the 32-byte header below and may carry a payload
 * (size - 32 bytes, padded to a multiple of 8). A ring belongs to exactly one
 * thread (see ring.h), so records carry no tid: the ring's slot says whose
 * they are. Within one ring, records are in timestamp order.
 *
 * Only transitions are recorded. A wrapper that finds the fast path free (an
 * uncontended lock, a sem_trywait that succeeds) appends nothing.
 *
 * Field use per type (ts is always CLOCK_MONOTONIC ns at the moment named):
 *
 *  PAD          ring wrap filler; skip size bytes. No other field is valid.
 *  PROC_START   first record of a process image, written by its main thread
 *               from the library constructor (origin EXEC) or by a fork child
 *               right after fork returned (origin FORK).
 *               reason = enum weft_origin, a = ppid, b = the parent's fork
 *               call ts when known (origin FORK), else 0.
 *               payload: argv, each NUL-terminated, truncated to fit
 *               WEFT_PAYLOAD_MAX (origin EXEC only).
 *  THREAD_START first record of a thread. a = creator tid (0 for a main
 *               thread), b = ts of the creator's pthread_create call
 *               (the thread is New from b to ts).
 *  THREAD_NAME  a = tid named (may be another thread of the process);
 *               payload: the name, NUL-terminated, at most 16 bytes.
 *  THREAD_EXIT  the thread is about to end (start routine returned or
 *               pthread_exit). No further record follows in this ring.
 *  PROC_EXIT    exit()/_exit() called. a = status argument, reason = 1 for
 *               exit(), 0 for _exit()/_Exit().
 *  BLOCK_BEGIN  the thread is about to wait. reason = enum weft_reason,
 *               call = enum weft_call, a = object (address of the mutex/
 *               cond/sem/..., fd for io, pid for wait, 0 if none),
 *               b = extra: owner tid of a mutex (read just before ts),
 *               the mutex a condition wait gives up and takes back,
 *               timeout ns of a sleep, the thread joined, or 0.
 *  BLOCK_END    the wait is over. reason/call/a as in the BLOCK_BEGIN it
 *               closes, b = the call's result (return value, or -errno).
 *               Readiness waits (reason POLL) name their object and what
 *               became ready: in BLOCK_BEGIN a = the one fd waited on
 *               (poll/ppoll of one pollfd, select/pselect of one fd), the
 *               epoll fd (epoll_wait/epoll_pwait), or WEFT_POLL_SEVERAL
 *               (more than one fd, none singled out); in BLOCK_END, when
 *               b > 0, a = what became ready first: the fd (poll: the
 *               first pollfd with revents; select: the lowest fd left in
 *               a set) or, for epoll, the data word of the first event
 *               returned (EPOLL_CTL says which fd was added with it);
 *               when b <= 0, a as in BLOCK_BEGIN.
 *               BLOCK_BEGIN/END never nest within one thread.
 *  FORK         in the parent, after fork/vfork/posix_spawn/system created
 *               a child. a = child pid, b = ts of the call's start,
 *               call = which call.
 *  EXEC         about to execve. payload: the path, NUL-terminated.
 *  EXEC_FAIL    execve returned. a = errno.
 *  WAIT_RESULT  a wait*() call reaped a child. a = child pid, b = the raw
 *               wait status (WIFEXITED/WIFSIGNALED apply).
 *  SIGNAL_SENT  kill/tgkill/raise by this thread. a = target pid/tid,
 *               b = signal number. (For Suspended/killed attribution.)
 *
 * Records numbered 32 and above are reserved for wake-up edges (unlock,
 * signal, post, message bytes); see the issue on flows.
 */
#ifndef WEFT_EVENT_H
#define WEFT_EVENT_H

#include <stdint.h>

enum weft_event_type {
	WEFT_EV_PAD = 0,
	WEFT_EV_PROC_START = 1,
	WEFT_EV_THREAD_START = 2,
	WEFT_EV_THREAD_NAME = 3,
	WEFT_EV_THREAD_EXIT = 4,
	WEFT_EV_PROC_EXIT = 5,
	WEFT_EV_BLOCK_BEGIN = 6,
	WEFT_EV_BLOCK_END = 7,
	WEFT_EV_FORK = 8,
	WEFT_EV_EXEC = 9,
	WEFT_EV_EXEC_FAIL = 10,
	WEFT_EV_WAIT_RESULT = 11,
	WEFT_EV_SIGNAL_SENT = 12,
	WEFT_EV_TYPE_COUNT_V1 = 13,
	/* 32..63: wake-up edges, defined with the flow work. */
	WEFT_EV_UNLOCK = 32,	  /* a = object; a contended lock released */
	WEFT_EV_COND_SIGNAL = 33, /* a = cond, b = 1 for broadcast */
	WEFT_EV_SEM_POST = 34,	  /* a = sem */
	WEFT_EV_IO_DONE = 35,	  /* a = fd, b = bytes moved; call says which */
	/* fd a now refers to channel b (the st_ino of a pipe, FIFO or socket;
	 * 0: the fd was closed or now refers to something else). reason = 1
	 * (pipe or FIFO) or 2 (socket: written when socket, socketpair or
	 * accept makes one, too). Written for the pipes a process image or fork child starts
	 * with, and when the program makes one (pipe, pipe2), renumbers one
	 * (dup, dup2, dup3) or closes one (close). Two fds of any processes
	 * with the same channel are the two ends of one pipe. */
	WEFT_EV_FD_CHANNEL = 36,
	/* Socket a (inode) is connected to socket b (inode; 0 when only its
	 * addresses are known). Written once per connection, not per message:
	 * by socketpair (b known), by connect/accept on a Unix socket (b from
	 * the kernel's sock_diag) and on a TCP socket (b = 0; the payload
	 * "tcp LOCAL REMOTE" lets the collector pair it with the other end's
	 * "tcp REMOTE LOCAL"). payload: a label, NUL-terminated. */
	WEFT_EV_SOCKET_PEER = 37,
	/* The process-shared object at address a (reason says its kind: mutex
	 * or sem) lies in the shared mapping of inode b; payload: u64 device,
	 * u64 the object's offset in that mapping. The same device, inode and
	 * offset in two processes is the same object. Written once per object
	 * and process, before the first wait or wake-up recorded on it. */
	WEFT_EV_OBJECT_KEY = 38,
	/* Lock a (address | flags: 1 taken for reading, 2 a rwlock) was taken
	 * by call, a call that could block, while the locks of the payload
	 * were held (u64 each, address | the same flags, oldest first, at
	 * most 16), and the thread had not shown one of those (held, a)
	 * orders before (lockorder.h). reason: MUTEX or RWLOCK. b = how many
	 * new orders this thread could not remember so far (its set is
	 * full); a record with no payload only reports that count. */
	WEFT_EV_LOCK_ORDER = 39,
	/* The object at address a (reason says its kind) is one a person
	 * knows by name in the runtime that runs here (CPython's GIL);
	 * payload: the name, NUL-terminated. Written at the start of the
	 * process image (and again in a fork child), before any wait on it. */
	WEFT_EV_OBJECT_NAME = 45,
	/* The process's command line as ps shows it now, written when a fork
	 * child that did not exec ends (servers retitle such children by
	 * overwriting their argv area). payload: argv as PROC_START's. */
	WEFT_EV_PROC_TITLE = 46,
	/* Where the thread is (stacks.h): written just before the BLOCK_BEGIN
	 * of a wait (reason 1) or the wake-up record of a call that wakes a
	 * waiter (reason 2), which it describes. a = the stack's id (a hash
	 * of its pcs, never 0, unique within the process image), b = depth
	 * (bits 0..15) | 1 << 16 when the stack was cut at 32 frames.
	 * payload: the first time the image shows that id, the pcs (u64
	 * each, innermost first: the return address into the program that
	 * made the call first); else empty. A stack with no payload refers to
	 * an earlier definition in any ring of the same process. */
	WEFT_EV_STACK = 47,
	/* An object loaded in the process (main program, shared library,
	 * dlopen'ed library, vDSO), written at the start of a process image,
	 * in a fork child, and before a stack that runs in an object loaded
	 * since. a = lowest address of its loaded segments, b = end of the
	 * highest. payload: u64 load bias (pc - bias = the ELF's address),
	 * u8 length of the build-id, 39 bytes of build-id (NT_GNU_BUILD_ID,
	 * zero padded), the path NUL-terminated. */
	WEFT_EV_MODULE = 48,
	/* 49: reserved for stacks. */
	/* 50..55: a managed runtime's view (jvm.h). */
	/* Something the runtime's view could not give for this process (a
	 * JVM that refused the JVMTI capabilities, an agent path it cannot
	 * take), said once; payload: the sentence, NUL-terminated. The
	 * program itself runs as untraced. */
	WEFT_EV_RUNTIME_NOTE = 50,
	/* epoll_ctl on epoll fd a >> 32 for fd a & 0xffffffff succeeded;
	 * reason = the op (EPOLL_CTL_ADD 1, DEL 2; MOD is not recorded),
	 * b = the data word of the epoll_event given (ADD; 0 for DEL). The epoll instance's
	 * watch list, and the key from an epoll wait's ready data word back
	 * to its fd (BLOCK_END). */
	WEFT_EV_EPOLL_CTL = 56,
	/* 57..59: reserved for the servers work (counted calls). */
};

/* BLOCK_BEGIN a of a readiness wait on several fds at once. */
#define WEFT_POLL_SEVERAL UINT64_MAX

enum weft_origin {
	WEFT_ORIGIN_EXEC = 1, /* a new program image (first process or exec) */
	WEFT_ORIGIN_FORK = 2, /* a fork child, same image as its parent */
};

/* Why a thread is Blocked. The names are the schema's reason strings. */
enum weft_reason {
	WEFT_REASON_NONE = 0,
	WEFT_REASON_MUTEX = 1,
	WEFT_REASON_RWLOCK = 2,
	WEFT_REASON_COND = 3,
	WEFT_REASON_SEM = 4,
	WEFT_REASON_BARRIER = 5,
	WEFT_REASON_JOIN = 6,
	WEFT_REASON_SLEEP = 7,
	WEFT_REASON_IO = 8,
	WEFT_REASON_POLL = 9,
	WEFT_REASON_WAIT = 10,
	WEFT_REASON_FUTEX = 11,
	WEFT_REASON_OTHER = 12,
	WEFT_REASON_SIGNAL = 13, /* sigsuspend, sigwaitinfo, sigtimedwait, pause */
	WEFT_REASON_COUNT = 14,
};

/* The interposed call a record came from (detail beside the reason). */
enum weft_call {
	WEFT_CALL_NONE = 0,
	WEFT_CALL_MUTEX_LOCK,
	WEFT_CALL_MUTEX_TIMEDLOCK,
	WEFT_CALL_RWLOCK_RDLOCK,
	WEFT_CALL_RWLOCK_WRLOCK,
	WEFT_CALL_RWLOCK_TIMEDRDLOCK,
	WEFT_CALL_RWLOCK_TIMEDWRLOCK,
	WEFT_CALL_COND_WAIT,
	WEFT_CALL_COND_TIMEDWAIT,
	WEFT_CALL_SEM_WAIT,
	WEFT_CALL_SEM_TIMEDWAIT,
	WEFT_CALL_BARRIER_WAIT,
	WEFT_CALL_JOIN,
	WEFT_CALL_TIMEDJOIN,
	WEFT_CALL_SLEEP,
	WEFT_CALL_USLEEP,
	WEFT_CALL_NANOSLEEP,
	WEFT_CALL_CLOCK_NANOSLEEP,
	WEFT_CALL_READ,
	WEFT_CALL_WRITE,
	WEFT_CALL_READV,
	WEFT_CALL_WRITEV,
	WEFT_CALL_RECV,
	WEFT_CALL_RECVFROM,
	WEFT_CALL_RECVMSG,
	WEFT_CALL_SEND,
	WEFT_CALL_SENDTO,
	WEFT_CALL_SENDMSG,
	WEFT_CALL_ACCEPT,
	WEFT_CALL_CONNECT,
	WEFT_CALL_POLL,
	WEFT_CALL_PPOLL,
	WEFT_CALL_SELECT,
	WEFT_CALL_PSELECT,
	WEFT_CALL_EPOLL_WAIT,
	WEFT_CALL_WAIT,
	WEFT_CALL_WAITPID,
	WEFT_CALL_WAIT4,
	WEFT_CALL_WAITID,
	WEFT_CALL_FORK,
	WEFT_CALL_VFORK,
	WEFT_CALL_POSIX_SPAWN,
	WEFT_CALL_SYSTEM,
	WEFT_CALL_FUTEX,
	WEFT_CALL_PREAD,
	WEFT_CALL_PWRITE,
	WEFT_CALL_PREADV,
	WEFT_CALL_PWRITEV,
	WEFT_CALL_FSYNC,
	WEFT_CALL_FDATASYNC,
	WEFT_CALL_SYNC_FILE_RANGE,
	WEFT_CALL_SIGSUSPEND,
	WEFT_CALL_SIGWAITINFO,
	WEFT_CALL_SIGTIMEDWAIT,
	WEFT_CALL_PAUSE,
	/* a HotSpot JVM's view (jvm.h): BLOCK_BEGIN a = the monitor's key
	 * (bit 62 set with the object's JVMTI tag: never a user address) */
	WEFT_CALL_JAVA_MONITOR_ENTER, /* MUTEX, b = the owner's tid (0: unknown) */
	WEFT_CALL_JAVA_OBJECT_WAIT,   /* COND, b = the monitor given up (= a) */
	WEFT_CALL_JAVA_SLEEP,	      /* SLEEP, b = timeout ns */
	/* LockSupport.park(blocker): MUTEX, b = the owner's tid, for a lock
	 * (ReentrantLock...); COND for other blockers (a Condition, b = 0) */
	WEFT_CALL_JAVA_PARK,
	WEFT_CALL_COUNT,
};

struct weft_event {
	uint32_t size;	/* bytes of this record, header included, multiple of 8 */
	uint16_t type;	/* enum weft_event_type */
	uint8_t reason; /* enum weft_reason or enum weft_origin, per type */
	uint8_t call;	/* enum weft_call */
	uint64_t ts;	/* CLOCK_MONOTONIC ns */
	uint64_t a;
	uint64_t b;
};

#define WEFT_EVENT_HEADER_SIZE 32u
#define WEFT_PAYLOAD_MAX 2048u

_Static_assert(sizeof(struct weft_event) == WEFT_EVENT_HEADER_SIZE,
	       "the event header is part of the shared-memory format");

/* The schema's string for a reason ("mutex", ...); NULL for NONE/unknown. */
const char *weft_reason_name(unsigned reason);
/* The interposed function's name for a call ("pthread_mutex_lock", ...). */
const char *weft_call_name(unsigned call);

#endif
