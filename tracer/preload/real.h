/*
 * real.h — the real (next in link order) definitions of every function
 * libweft.so interposes, resolved lazily and together.
 *
 * REAL(name) yields a pointer to the real `name`, typed like the
 * declaration in the system headers. The first use of a name resolves it
 * with dlsym(RTLD_NEXT) (dlvsym where glibc keeps several versions and the
 * unversioned lookup could pick an old one) and caches it; later uses are
 * one atomic load. Two threads resolving the same name at once store the
 * same value. errno is kept.
 *
 * Resolution is lazy: a process resolves only the names it calls (a short
 * program calls a handful; resolving all ~100 costs more than the rest of
 * start-up when not recording). dlsym must not run where it is unsafe, so
 * everything is resolved at once (real_resolve_all) before the first:
 *   - fork: a fork child of a multithreaded program must not enter dlsym
 *     (the loader's lock may have been held by a thread that does not
 *     exist in the child); done by the pthread_create wrapper (before the
 *     process has a second thread), the fork wrappers, and the atfork
 *     prepare handler of a recording process (forks inside glibc);
 *   - signal handler installed through sigaction() or signal(): a handler
 *     must not enter dlsym either (it may interrupt the loader).
 * Another library's constructor can call, say, pthread_mutex_lock before
 * libweft.so's constructor ran: the lazy resolution serves it too.
 *
 * A name that cannot be resolved is fatal (a message on fd 2, abort): the
 * program cannot run on without the function it called.
 */
#ifndef WEFT_PRELOAD_REAL_H
#define WEFT_PRELOAD_REAL_H

#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* glibc's entry point into main; not declared in any header. */
typedef int (*real_main_fn)(int, char **, char **);
int __libc_start_main(real_main_fn main, int argc, char **argv, void (*init)(void),
		      void (*fini)(void), void (*rtld_fini)(void), void *stack_end);

/* X(name, version): version is NULL for a plain dlsym. */
#define REAL_SYMBOLS(X)                                                                            \
	X(pthread_mutex_lock, NULL)                                                                \
	X(pthread_mutex_trylock, NULL)                                                             \
	X(pthread_mutex_timedlock, NULL)                                                           \
	X(pthread_mutex_clocklock, NULL)                                                           \
	X(pthread_mutex_unlock, NULL)                                                              \
	X(pthread_rwlock_rdlock, NULL)                                                             \
	X(pthread_rwlock_tryrdlock, NULL)                                                          \
	X(pthread_rwlock_timedrdlock, NULL)                                                        \
	X(pthread_rwlock_wrlock, NULL)                                                             \
	X(pthread_rwlock_trywrlock, NULL)                                                          \
	X(pthread_rwlock_unlock, NULL)                                                             \
	X(pthread_rwlock_timedwrlock, NULL)                                                        \
	X(pthread_rwlock_clockrdlock, NULL)                                                        \
	X(pthread_rwlock_clockwrlock, NULL)                                                        \
	X(pthread_cond_wait, "GLIBC_2.3.2")                                                        \
	X(pthread_cond_timedwait, "GLIBC_2.3.2")                                                   \
	X(pthread_cond_clockwait, NULL)                                                            \
	X(pthread_cond_signal, "GLIBC_2.3.2")                                                      \
	X(pthread_cond_broadcast, "GLIBC_2.3.2")                                                   \
	X(sem_wait, NULL)                                                                          \
	X(sem_trywait, NULL)                                                                       \
	X(sem_timedwait, NULL)                                                                     \
	X(sem_clockwait, NULL)                                                                     \
	X(sem_post, NULL)                                                                          \
	X(pthread_barrier_wait, NULL)                                                              \
	X(pthread_join, NULL)                                                                      \
	X(pthread_tryjoin_np, NULL)                                                                \
	X(pthread_timedjoin_np, NULL)                                                              \
	X(pthread_create, NULL)                                                                    \
	X(pthread_exit, NULL)                                                                      \
	X(pthread_setname_np, NULL)                                                                \
	X(prctl, NULL)                                                                             \
	X(sleep, NULL)                                                                             \
	X(usleep, NULL)                                                                            \
	X(nanosleep, NULL)                                                                         \
	X(clock_nanosleep, NULL)                                                                   \
	X(read, NULL)                                                                              \
	X(write, NULL)                                                                             \
	X(readv, NULL)                                                                             \
	X(writev, NULL)                                                                            \
	X(recv, NULL)                                                                              \
	X(recvfrom, NULL)                                                                          \
	X(recvmsg, NULL)                                                                           \
	X(send, NULL)                                                                              \
	X(sendto, NULL)                                                                            \
	X(sendmsg, NULL)                                                                           \
	X(accept, NULL)                                                                            \
	X(accept4, NULL)                                                                           \
	X(connect, NULL)                                                                           \
	X(poll, NULL)                                                                              \
	X(ppoll, NULL)                                                                             \
	X(select, NULL)                                                                            \
	X(pselect, NULL)                                                                           \
	X(epoll_wait, NULL)                                                                        \
	X(epoll_ctl, NULL)                                                                         \
	X(epoll_pwait, NULL)                                                                       \
	X(pipe, NULL)                                                                              \
	X(pipe2, NULL)                                                                             \
	X(dup, NULL)                                                                               \
	X(dup2, NULL)                                                                              \
	X(dup3, NULL)                                                                              \
	X(close, NULL)                                                                             \
	X(close_range, NULL)                                                                       \
	X(closefrom, NULL)                                                                         \
	X(fcntl, NULL)                                                                             \
	X(fcntl64, NULL)                                                                           \
	X(ioctl, NULL)                                                                             \
	X(open, NULL)                                                                              \
	X(open64, NULL)                                                                            \
	X(openat, NULL)                                                                            \
	X(openat64, NULL)                                                                          \
	X(__open_2, NULL)                                                                          \
	X(__open64_2, NULL)                                                                        \
	X(__openat_2, NULL)                                                                        \
	X(__openat64_2, NULL)                                                                      \
	X(socket, NULL)                                                                            \
	X(socketpair, NULL)                                                                        \
	X(fork, NULL)                                                                              \
	X(execve, NULL)                                                                            \
	X(execv, NULL)                                                                             \
	X(execvp, NULL)                                                                            \
	X(execvpe, NULL)                                                                           \
	X(fexecve, NULL)                                                                           \
	X(posix_spawn, NULL)                                                                       \
	X(posix_spawnp, NULL)                                                                      \
	X(system, NULL)                                                                            \
	X(exit, NULL)                                                                              \
	X(_exit, NULL)                                                                             \
	X(_Exit, NULL)                                                                             \
	X(wait, NULL)                                                                              \
	X(waitpid, NULL)                                                                           \
	X(wait3, NULL)                                                                             \
	X(wait4, NULL)                                                                             \
	X(waitid, NULL)                                                                            \
	X(kill, NULL)                                                                              \
	X(tgkill, NULL)                                                                            \
	X(raise, NULL)                                                                             \
	X(syscall, NULL)                                                                           \
	X(sigaction, NULL)                                                                         \
	X(signal, NULL)                                                                            \
	X(pread, NULL)                                                                             \
	X(pread64, NULL)                                                                           \
	X(pwrite, NULL)                                                                            \
	X(pwrite64, NULL)                                                                          \
	X(preadv, NULL)                                                                            \
	X(pwritev, NULL)                                                                           \
	X(fsync, NULL)                                                                             \
	X(fdatasync, NULL)                                                                         \
	X(sync_file_range, NULL)                                                                   \
	X(sigsuspend, NULL)                                                                        \
	X(sigwaitinfo, NULL)                                                                       \
	X(sigtimedwait, NULL)                                                                      \
	X(pause, NULL)                                                                             \
	X(__libc_start_main, NULL)

enum real_id {
#define REAL_ENUM(name, version) REAL_ID_##name,
	REAL_SYMBOLS(REAL_ENUM)
#undef REAL_ENUM
	    REAL_COUNT
};

/* Resolved pointers, NULL until first use. Owned by real.c. */
extern void *real_table[REAL_COUNT];

/* Resolve id now (slow path of REAL). Never returns NULL. */
void *real_resolve(enum real_id id);

/* Nonzero once real_resolve_all ran. Owned by real.c. */
extern int real_all_resolved;

/* Resolve every name not resolved yet (see the top of the file for when).
 * Not async-signal-safe. */
void real_resolve_all(void);

/* real_resolve_all, once: afterwards one load. */
static inline void real_resolve_all_once(void)
{
	if (__builtin_expect(!__atomic_load_n(&real_all_resolved, __ATOMIC_ACQUIRE), 0))
		real_resolve_all();
}

static inline void *real_get(enum real_id id)
{
	void *fn = __atomic_load_n(&real_table[id], __ATOMIC_ACQUIRE);
	if (__builtin_expect(fn == NULL, 0))
		fn = real_resolve(id);
	return fn;
}

#define REAL(name) ((__typeof__(&name))real_get(REAL_ID_##name))

#endif
