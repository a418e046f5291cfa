/*
 * model_internal.h — what the parts of the model share (not for
 * users of model.h):
 *   model.c         processes and threads: life cycle, rows, records
 *                   (model_event), flows;
 *   model_ipc.c     objects and IPC: lock/cond/sem objects and their
 *                   wake-ups, process-shared objects, pipes and sockets
 *                   and the bytes that cross them;
 *   model_lock.c    who holds each lock, lock waits and deadlocks;
 *   model_kernel.c  what only the kernel shows: perf task, comm and
 *                   context-switch records, schedstat samples;
 *   model_poll.c    readiness waits: what poll/select/epoll wait on,
 *                   epoll watch lists, which fd became ready;
 *   model_exit.c    how processes end: exit status, reaps, stops,
 *                   processes gone, the end of the recording.
 * The structures below are the model's state; model.c's head comment
 * says which table holds what. Single-threaded: the collector's loop owns
 * the model. Functions that fail record the first error in model->error
 * (model_fail) and every entry point of model.h returns it.
 */
#ifndef WEFT_MODEL_INTERNAL_H
#define WEFT_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "model.h"

enum status_source {
	STATUS_NONE = 0,
	STATUS_PROC_EXIT,
	STATUS_WAIT_RESULT,
	STATUS_REAPED,
};

struct thread;

struct process {
	int64_t upid;
	uint32_t pid;
	int64_t ppid;
	int64_t parent_upid;
	uint64_t token; /* 0: untraced */
	char name[64];
	char *cmdline;
	int64_t start_ts;
	int64_t end_ts;
	int64_t last_ts; /* latest record */
	int64_t exit_ts; /* PROC_EXIT record, or -1 */
	int exit_code;
	int exit_signal;
	enum status_source status_source;
	bool traced;
	bool ended;
	char exec_path[256]; /* EXEC not yet followed by a new image */
	int64_t first_ts;    /* its first record (PROC_START), or -1 */
	int64_t fork_utid;   /* the thread that forked it, -1 when unknown */
	int64_t fork_ts;     /* that thread's fork call */
	bool fork_flow_done;
	struct span_process *spans;
	struct thread *threads;
	struct process *next;
};

struct thread {
	int64_t utid;
	uint32_t tid;
	struct process *process;
	struct span_thread *spans;
	char name[64];
	int64_t start_ts;
	int64_t end_ts;
	bool is_main;
	bool ended;
	bool from_kernel;    /* made from perf records; none of ours named it */
	bool has_sched;	     /* switch records seen: sched_source 'perf' */
	bool has_samples;    /* schedstat samples seen: 'schedstat' */
	uint64_t sample_run; /* the counters at the latest sample */
	uint64_t sample_wait;
	int64_t slice_start; /* on a CPU since, or -1 */
	int slice_cpu;
	/* the blocking call in progress (or the last one) */
	unsigned call_reason;
	uint64_t call_address;
	uint64_t call_extra;
	int64_t call_object;
	int64_t call_begin_ts;
	int64_t call_end_ts;
	int64_t call_holder;	     /* utid holding the lock waited for, or -1 */
	bool call_lock;		     /* a lock wait among its lock's waiters (model_lock.c) */
	bool call_read;		     /* ... for reading */
	int64_t call_mutex;	     /* a condition wait's mutex object, or 0 */
	uint64_t lock_orders_unseen; /* the latest LOCK_ORDER b */
	/* the stack (innermost callsite_id, -1: none) of the STACK record
	 * just before its next wait or wake-up record (stackdb.h) */
	int64_t wait_callsite;
	int64_t wake_callsite;
	struct thread *next;
	struct thread *retire_next; /* ended, in model->retiring (model_retire.c) */
};

struct pending_fork {
	uint32_t pid;
	struct process *parent; /* lives as long as the model */
	int64_t parent_utid;	/* the thread that forked */
	int64_t ppid;
	int64_t fork_ts;
	char exec_path[256]; /* what a vfork child or a spawn ran, or "" */
};

#define MODEL_MAX_CPUS 1024

struct model {
	struct tracedb *db;
	struct table *by_token;
	struct table *live_by_pid;
	struct table *exited; /* pid -> untraced process ended, its status to come */
	struct table *threads;
	struct table *objects;
	struct table *forks;
	struct table *wakes;
	struct table *fd_channels;
	struct table *pipe_holders; /* (ino, 0) -> struct pipe_holders */
	struct table *sockets;	    /* (ino, 0) -> struct socket_end */
	struct table *shared_keys;  /* (upid, address) -> struct shared_key */
	struct table *tcp_waiting;  /* (hash of "tcp L R", 0) -> struct socket_end */
	struct table *epoll_data;   /* (upid << 32 | epfd, data word) -> fd + 1 (model_poll.c) */
	struct channels *channels;
	struct thread *io_reader; /* the thread whose read is being matched */
	struct waitgraph *waits;  /* lock waits in progress, for deadlocks */
	int64_t next_deadlock_id;
	struct table *locks; /* (object_id, 0) -> holder and waiters (model_lock.c) */
	struct model_candidate *candidates; /* cycles not yet deadlocks */
	size_t candidate_count;
	size_t candidate_cap;
	int64_t next_candidate_mark;
	struct lockgraph *lock_orders; /* (model_lock.c) */
	struct stackdb *stacks;	       /* modules, frames, callsites */
	int64_t waker_callsite;	       /* of the wake model_wake_flow draws, or -1 */
	int64_t next_lock_cycle_id;
	int64_t lock_orders_unseen; /* orders the threads' full sets dropped */
	bool samples;		    /* threads take Running/Ready from model_sample */
	struct process *processes;
	int64_t next_upid;
	int64_t next_utid;
	int64_t next_object_id;
	uint32_t root_pid;
	int64_t root_fork_ts;
	/* per CPU: the last switch-out seen there (0: none since the last
	 * switch-in), the moment the CPU changed hands */
	int64_t cpu_handover[MODEL_MAX_CPUS];
	char *root_cmdline;
	char root_name[64];
	struct model_stats stats;
	/* ended threads, oldest end first, freed once no record of them can
	 * come (model_retire.c) */
	struct thread *retiring, *retiring_tail;
	int error;
};

/* --- model.c ----------------------------------------------------------- */

/* Keep error as model->error unless one is kept already (0: no-op). */
void model_fail(struct model *model, int error);
void model_process_write(struct model *model, struct process *p, bool insert);
void model_thread_write(struct model *model, struct thread *t, bool insert);
/* The live process with that pid, or NULL. */
struct process *model_live_process(struct model *model, int64_t pid);
void model_set_cmdline(struct process *p, const char *cmdline);
/* A new process row, New from start_ts. NULL (and model->error) on
 * failure. */
struct process *model_process_create(struct model *model, uint32_t pid, int64_t ppid,
				     struct process *parent, uint64_t token, int64_t start_ts);
/* A new thread row of p, New from created_ts. NULL (and model->error). */
struct thread *model_thread_create(struct model *model, struct process *p, uint32_t tid,
				   int64_t created_ts);
/* Close the thread's CPU slice at ts, if it is on one. */
void model_slice_end(struct model *model, struct thread *t, int64_t ts, const char *end_state);
/* The thread ends at ts (no-op when it has ended). */
void model_thread_finish_row(struct model *model, struct thread *t, int64_t ts);
/* The process ends at ts: its threads, its spans, its row. */
void model_process_end(struct model *model, struct process *p, int64_t ts);
/* A flow row (none from a thread to itself, or backwards in time). */
void model_flow_bytes(struct model *model, int64_t ts_out, int64_t utid_out, int64_t ts_in,
		      int64_t utid_in, const char *kind, int64_t object_id, int64_t bytes);
void model_flow(struct model *model, int64_t ts_out, int64_t utid_out, int64_t ts_in,
		int64_t utid_in, const char *kind, int64_t object_id);
/* utid_out's action at ts_out woke t, whose blocking call returned at ts:
 * name the waker on t's Blocked span and write the flow so that it ends in
 * that span (at its switch-in when it closed before the call returned,
 * else at ts), where the span's details find it. A waker stamped after
 * that switch-in (its call returned after the kernel had run t) is moved
 * back to it: the wake happened within its call, no later. */
void model_wake_flow(struct model *model, int64_t ts_out, int64_t utid_out, struct thread *t,
		     int64_t ts, const char *kind, int64_t object_id);
/* The fork edge of p, once both ends are known. */
void model_fork_flow(struct model *model, struct process *p);

/* --- model_retire.c ---------------------------------------------------- */

/* t has ended: free it once the horizon is MODEL_RETIRE_NS past its end
 * (a main thread stays with its process). */
void model_retire_later(struct model *model, struct thread *t);
/* --- model_poll.c ------------------------------------------------------ */

/* The object of a readiness wait's BLOCK_BEGIN (event.h): the one fd's
 * object, the epoll object, or -1 (several fds). */
int64_t model_poll_object(struct model *model, struct process *p, const struct weft_event *event);
/* EPOLL_CTL: an epoll_watch row, and the data word's fd for later waits. */
void model_poll_ctl(struct model *model, struct process *p, const struct weft_event *event);
/* BLOCK_END of a readiness wait of t that returned > 0: a poll_ready row. */
void model_poll_ready(struct model *model, struct process *p, struct thread *t,
		      const struct weft_event *event);

/* --- model_exit.c ------------------------------------------------------ */

/* p's exit status is status (a wait status) from source, unless a better
 * source gave it already. */
void model_exit_status(struct process *p, enum status_source source, int status);
/* The process that a reap/wait of pid ends: the live one, else an
 * untraced one made from a pending FORK record or from info (may be
 * NULL); reaper: the traced parent that waited, or NULL. NULL (and
 * model->error) when out of memory. */
struct process *model_exit_process(struct model *model, uint32_t pid, int64_t ts,
				   struct process *reaper, const struct model_proc_info *info);

/* --- model_ipc.c ------------------------------------------------------- */

/* channel_flow_fn and channel_infer_fn of model->channels. */
void model_ipc_channel_flow(void *ctx, uint64_t ino, int64_t ts_out, int64_t utid_out,
			    int64_t ts_in, int64_t utid_in, int64_t bytes);
bool model_ipc_infer_pipe_writer(void *ctx, uint64_t ino, int64_t ts_in, int64_t utid_in,
				 int64_t *utid_out, int64_t *ts_out);
/* The object row a BLOCK_BEGIN record waits on (made at first use), or
 * -1 when the record names none. */
/* The object an fd of p refers to: its socket connection, its pipe, a
 * socket not connected (by inode), else an object of kind 'fd'. -1 when
 * none could be made. */
int64_t model_ipc_fd_object(struct model *model, struct process *p, uint64_t fd);
int64_t model_ipc_object_for(struct model *model, struct process *p,
			     const struct weft_event *event);
/* OBJECT_NAME: the object named by a runtime's name (made now, with that
 * label, unless a wait already made it). */
void model_ipc_object_named(struct model *model, struct process *p, const struct weft_event *event);
/* An unlock/signal/post (kind) by t: the latest wake-up of its object. */
void model_ipc_note_wake(struct model *model, struct process *p, struct thread *t,
			 const struct weft_event *event, const char *kind);
/* t's blocking call ended at ts with result: name who woke it. */
void model_ipc_call_woken(struct model *model, struct process *p, struct thread *t, int64_t ts,
			  uint64_t result);
/* FD_CHANNEL, SOCKET_PEER, OBJECT_KEY and IO_DONE records. */
void model_ipc_fd_channel(struct model *model, struct process *p, const struct weft_event *event);
void model_ipc_socket_peer(struct model *model, const struct weft_event *event);
void model_ipc_object_key(struct model *model, struct process *p, const struct weft_event *event);
void model_ipc_io_done(struct model *model, struct process *p, struct thread *t,
		       const struct weft_event *event);

/* --- model_lock.c ------------------------------------------------------ */

/* A BLOCK_BEGIN of t on object_id, before t's call_* fields take it: the
 * holder its wait names (a lock's owner, by the record and by the trace
 * so far), or -1 (not a lock, or not known). t's previous call is over. */
int64_t model_lock_holder_named(struct model *model, struct process *p, struct thread *t,
				const struct weft_event *event, int64_t object_id);
/* The same BLOCK_BEGIN once t's call_* fields say so: t waits for the
 * lock (wait-for graph; a cycle becomes a deadlock candidate), or a
 * condition wait gives its mutex up. */
void model_lock_wait_begin(struct model *model, struct process *p, struct thread *t,
			   const struct weft_event *event, int64_t object_id, int64_t holder);
/* t's blocking call ended at ts with result (BLOCK_END b): a lock taken,
 * a condition wait's mutex taken back; t's wait leaves the graph (a
 * deadlock it was part of ends). */
void model_lock_wait_end(struct model *model, struct thread *t, int64_t ts, int64_t result);
/* An UNLOCK record of t: its lock is free. */
void model_lock_unlock(struct model *model, struct process *p, struct thread *t,
		       const struct weft_event *event);
/* A LOCK_ORDER record of t: lock order edges and the cycles they close. */
void model_lock_order(struct model *model, struct process *p, struct thread *t,
		      const struct weft_event *event);
/* The recording ends: meta lock_orders_dropped. */
void model_lock_finish(struct model *model);
/* t ends at ts: its wait, if any, is over. */
void model_lock_thread_end(struct model *model, struct thread *t, int64_t ts);
void model_lock_free(struct model *model);

#endif
