/*
 * life.c — process and thread life in a traced process: attaching at
 * start, the first records of a process image and of each thread, the
 * fork child's new identity, and the TLS they rely on (preload.h).
 *
 * Start of a process image (constructor, or the first wrapper call when a
 * library constructor ran earlier):
 *   1. attach WEFT_SHM (or start a collector for WEFT_OUT, or ask a
 *      running weftd for one, launch.h; with none, the process runs
 *      untraced);
 *   2. identity: if a slot in state EXEC carries this pid, the image
 *      replaces that process: adopt its token, mark that slot DONE and
 *      every other ACTIVE slot of the token DONE (threads exec killed);
 *      otherwise take a new token from next_token;
 *   3. claim a slot for the calling (main) thread and write PROC_START
 *      (origin EXEC, argv), THREAD_START (a = 0), THREAD_NAME (comm),
 *      and FD_CHANNEL for each pipe among its open fds (fdchan.h); the
 *      same pass over the open fds reads their O_NONBLOCK (fdnb.h).
 * Start-up is paid by every process image, so it makes as few system
 * calls as it can: nothing is resolved with dlsym up front (real.h), argv
 * comes from the constructor's arguments and the name from AT_EXECFN
 * (cmdline.h) rather than from /proc, and the open fds are listed once
 * (fdscan.h).
 * A process that records nothing (no WEFT_SHM, WEFT_OUT or weftd) does
 * no more than look for weftd: it registers no atfork handlers (they
 * serve recording only; the wrappers of fork and pthread_create resolve
 * what a child needs, real.h) and learns no thread layout.
 * A thread created through pthread_create claims its own slot first thing
 * in the new thread (preload_thread_begin): THREAD_START, then THREAD_NAME
 * with the name it inherited from its creator.
 * init_state makes start-up run once: NONE -> RUNNING -> DONE. A thread
 * that finds it RUNNING elsewhere records nothing for now.
 *
 * A fork child is given its identity by the atfork child handler, which
 * runs before fork() returns in the child and before the program's own
 * later-registered child handlers; the prepare handler raises in_fork so
 * that the handlers that run while the child has no identity yet record
 * nothing (the fork wrapper raises it too, for handlers registered after
 * ours, whose prepare step runs first). This also covers forks libweft.so
 * cannot interpose (daemon(3) and others inside glibc).
 */
#include "preload.h"
#include "runtimes.h"
#include "title.h"

#include <errno.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cmdline.h"
#include "fdchan.h"
#include "fdnb.h"
#include "launch.h"
#include "real.h"
#include "threadtid.h"

enum { INIT_NONE = 0, INIT_RUNNING = 1, INIT_DONE = 2 };

struct preload_process preload_proc;
__thread struct preload_thread preload_self __attribute__((tls_model("initial-exec")));
static int init_state;

/* The constructor's arguments (glibc passes main's argc/argv to ELF
 * constructors); NULL when start-up ran from a wrapper first. */
static int start_argc;
static char **start_argv;

uint32_t preload_tid(void)
{
	struct preload_thread *self = &preload_self;
	if (!self->tid)
		self->tid = (uint32_t)gettid();
	return self->tid;
}

/* Claim a slot for the calling thread. Returns 0, or -errno (nothing will
 * be recorded for the thread). */
static int claim_self(void)
{
	struct preload_thread *self = &preload_self;
	self->seen = 1;
	if (!preload_proc.attached)
		return -ENOTCONN;
	int rc = ring_claim(&preload_proc.map, preload_proc.pid, preload_tid(), preload_proc.ppid,
			    preload_proc.token, &self->writer);
	if (rc == 0)
		atomic_fetch_add(&preload_proc.slots, 1);
	return rc;
}

static void emit_comm(struct ring_writer *writer, uint64_t ts, uint32_t tid)
{
	char raw[64], name[16];
	if (!cmdline_comm_of_path((const char *)getauxval(AT_EXECFN), name, sizeof name)) {
		long n = cmdline_read_file("/proc/self/comm", raw, sizeof raw);
		if (n <= 0)
			return;
		cmdline_comm(raw, (size_t)n, name, sizeof name);
	}
	emit_thread_name(writer, ts, tid, name);
}

static void learn_nonblocking(int fd, unsigned mode, void *unused)
{
	fdnb_learn(fd, mode);
}

static void start_image(void)
{
	struct preload_thread *self = &preload_self;
	preload_proc.pid = (uint32_t)getpid();
	preload_proc.ppid = (uint32_t)getppid();
	uint64_t token = ring_exec_adopt(&preload_proc.map, preload_proc.pid);
	atomic_store(&preload_proc.slots, 0);
	if (!token)
		token = atomic_fetch_add(&preload_proc.map.header->next_token, 1);
	preload_proc.token = token;
	fdnb_forget_all();
	if (claim_self()) {
		fdnb_scan();
		return;
	}

	uint64_t ts = emit_now();
	char argv[WEFT_PAYLOAD_MAX];
	size_t len;
	if (start_argv) {
		len = cmdline_pack_argv(start_argc, start_argv, argv, sizeof argv);
	} else {
		char raw[WEFT_PAYLOAD_MAX];
		long n = cmdline_read_file("/proc/self/cmdline", raw, sizeof raw);
		len = n > 0 ? cmdline_pack(raw, (size_t)n, argv, sizeof argv) : 0;
	}
	emit_record_payload(&self->writer, WEFT_EV_PROC_START, WEFT_ORIGIN_EXEC, 0, ts,
			    preload_proc.ppid, 0, argv, (uint32_t)len);
	emit_record(&self->writer, WEFT_EV_THREAD_START, 0, 0, ts, 0, 0);
	emit_comm(&self->writer, ts, preload_tid());
	runtimes_find(&self->writer, ts);
	fdchan_scan(&self->writer, learn_nonblocking, NULL);
}

static void fork_prepare(void)
{
	struct preload_thread *self = &preload_self;
	real_resolve_all_once(); /* forks inside glibc; the wrappers did it */
	self->in_fork = 1;
	if (!self->fork_ts)
		self->fork_ts = emit_now();
}

static void fork_parent(void)
{
	struct preload_thread *self = &preload_self;
	self->in_fork = 0;
	self->fork_ts = 0;
}

static void fork_child(void)
{
	int saved = errno; /* the child sees errno as it was before fork() */
	preload_fork_child(preload_self.fork_ts);
	errno = saved;
}

/* Start-up, once per process image; see the top of the file. */
static void preload_init(void)
{
	int expected = INIT_NONE;
	if (!__atomic_compare_exchange_n(&init_state, &expected, INIT_RUNNING, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	struct preload_thread *self = &preload_self;
	int saved = errno;
	self->busy++;
	/* A set-user-ID or otherwise privileged image (AT_SECURE) records
	 * nothing: libweft.so reaches one only through /etc/ld.so.preload,
	 * and WEFT_OUT, WEFT_BIN and WEFT_SOCKET come from a less privileged
	 * caller (weft would be run, as that image's user, from $WEFT_BIN). */
	const char *shm = getenv("WEFT_SHM");
	if (getauxval(AT_SECURE)) {
		preload_proc.attached = 0;
	} else if (shm && *shm) {
		preload_proc.attached = ring_file_attach(shm, &preload_proc.map) == 0;
	} else {
		/* WEFT_OUT: a collector of our own; else a running weftd, if
		 * one is named or at its default socket; else untraced. */
		const char *out = getenv("WEFT_OUT");
		if (out && *out)
			preload_proc.attached = launch_collector(out, &preload_proc.map) == 0;
		else
			preload_proc.attached = launch_ask_weftd(&preload_proc.map) == 0;
	}
	if (preload_proc.attached) {
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		threadtid_learn(pthread_self(), preload_tid());
		start_image();
	}
	self->seen = 1;
	self->busy--;
	errno = saved;
	__atomic_store_n(&init_state, INIT_DONE, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void preload_constructor(int argc, char **argv, char **envp)
{
	start_argc = argc;
	start_argv = argv;
	preload_init();
	start_argv = NULL; /* the program may rewrite its argv from now on */
}

struct preload_thread *preload_thread_adopt(void)
{
	struct preload_thread *self = &preload_self;
	if (self->busy || self->in_fork)
		return NULL;
	if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == INIT_NONE)
		preload_init();
	if (self->writer.slot)
		return self;
	if (self->seen || __atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != INIT_DONE)
		return NULL;
	/* A thread that did not start through our pthread_create (its
	 * creator is unknown). */
	self->busy++;
	if (claim_self() == 0)
		emit_record(&self->writer, WEFT_EV_THREAD_START, 0, 0, emit_now(), 0, 0);
	self->busy--;
	return self->writer.slot ? self : NULL;
}

void preload_thread_begin(uint32_t creator_tid, uint64_t create_ts)
{
	struct preload_thread *self = &preload_self;
	if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == INIT_NONE)
		preload_init();
	self->busy++;
	threadtid_check(pthread_self(), preload_tid());
	if (claim_self() == 0) {
		/* A new thread carries its creator's name until it sets its own:
		 * record the name it starts with, as ps and top show it. */
		uint64_t ts = emit_now();
		char name[16] = "";
		emit_record(&self->writer, WEFT_EV_THREAD_START, 0, 0, ts, creator_tid, create_ts);
		if (syscall(SYS_prctl, PR_GET_NAME, name, 0, 0, 0) == 0 && name[0])
			emit_thread_name(&self->writer, ts, preload_tid(), name);
	}
	self->busy--;
}

void preload_thread_end(void)
{
	struct preload_thread *self = &preload_self;
	self->seen = 1;
	if (!self->writer.slot)
		return;
	self->busy++;
	uint64_t ts = emit_now();
	if (self->wait_frame) {
		/* Cancelled, or pthread_exit from a signal handler, inside a
		 * recorded wait: the wait never returned. Close it. */
		emit_record(&self->writer, WEFT_EV_BLOCK_END, self->wait_reason, self->wait_call,
			    ts, self->wait_object, (uint64_t) - (int64_t)ECANCELED);
		self->wait_frame = 0;
	}
	emit_record(&self->writer, WEFT_EV_THREAD_EXIT, 0, 0, ts, 0, 0);
	ring_release(&self->writer);
	atomic_fetch_sub(&preload_proc.slots, 1);
	self->busy--;
}

void preload_fork_child(uint64_t fork_ts)
{
	struct preload_thread *self = &preload_self;
	self->writer = (struct ring_writer){0};
	self->tid = 0;
	self->fork_ts = 0;
	self->seen = 1;
	/* forked from a signal handler: the parent's wait and ring write that
	 * the handler interrupted are not the child's */
	self->wait_frame = 0;
	self->busy = 0;
	title_note_fork();
	if (preload_proc.attached && __atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == INIT_DONE) {
		uint32_t parent = preload_proc.pid;
		preload_proc.pid = (uint32_t)getpid();
		preload_proc.ppid = parent;
		preload_proc.token = atomic_fetch_add(&preload_proc.map.header->next_token, 1);
		atomic_store(&preload_proc.slots, 0); /* the parent's other threads are not here */
		if (claim_self() == 0) {
			uint64_t ts = emit_now();
			emit_record(&self->writer, WEFT_EV_PROC_START, WEFT_ORIGIN_FORK, 0, ts,
				    parent, fork_ts);
			emit_record(&self->writer, WEFT_EV_THREAD_START, 0, 0, ts, 0, 0);
			runtimes_rename(&self->writer, ts);
			fdchan_inherit(&self->writer);
		}
	}
	self->in_fork = 0;
}
