/*
 * collect_internal.h — what the collector's files share (not for users of
 * collect.h): the queued item, the queues, and struct collect, whose
 * fields are grouped by the side that owns them (collect.c's head comment
 * says who may touch what and when).
 *   collect.c        the API, the queues, the two threads started/joined
 *   collect_drain.c  the drain side: rings, reaping, perf, /proc
 *   collect_write.c  the writer side: order, model, commits
 */
#ifndef WEFT_COLLECT_INTERNAL_H
#define WEFT_COLLECT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "collect.h"
#include "model.h"
#include "ring.h"
#include "sched_perf.h"
#include "table.h"
#include "tracedb.h"

/* One thread's schedstat file, kept open between samples (a pread of an
 * open /proc file costs a seventh of open + read + close). */
struct sample_file {
	int fd; /* -1: not open */
	uint32_t pid;
	uint32_t tid;
};

enum item_kind {
	ITEM_EVENT,
	ITEM_REAPED,
	ITEM_GONE,
	ITEM_SUSPEND, /* status: 1 stopped, 0 continued */
	ITEM_SWITCH,
	ITEM_SAMPLE,
	ITEM_TASK, /* perf task record: head.reason its enum sched_kind */
};

struct item {
	int64_t ts;
	uint64_t seq;
	enum item_kind kind;
	struct model_source source;
	struct weft_event head;
	uint8_t *full; /* the whole record when it has a payload */
	int status;    /* ITEM_REAPED; ITEM_SWITCH: cpu */
	bool out;      /* ITEM_SWITCH */
	bool preempt;  /* ITEM_SWITCH */
	struct model_proc_info info;
};

struct queue {
	struct item *items;
	size_t count;
	size_t cap;
};

/* What the stop poll last saw of a slot's thread alone (its own ptrace
 * stop), the tid telling a reused slot from the same thread. */
struct thread_stop {
	uint32_t tid;
	bool stopped;
};
/* chunk boundaries --keep-last keeps: a chunk is keep_last_ns /
 * (COLLECT_CHUNKS - 2) long */
#define COLLECT_CHUNKS 6

struct collect {
	enum collect_mode mode;
	pid_t attach_pid;
	char shm_path[256];
	bool shm_unlinked;
	pid_t root_pid;
	int64_t start_ts;
	int wake_fd;	    /* eventfd: the drain thread must look at stop_drain */
	int root_pidfd;	    /* drain side: readable when the root exits, or -1 */
	bool ring_hup[256]; /* drain side: perf ring fds poll() reports hung up */

	/* drain side */
	struct ring_map map;
	struct sched_perf *perf;	  /* NULL in 'calls' mode */
	bool sample;			  /* 'schedstat' mode */
	struct sample_file *sample_files; /* per ring slot */
	struct table *stops;		  /* attach mode: pid -> round << 1 | stopped */
	uint64_t stop_round;
	struct thread_stop *thread_stops; /* per ring slot (collect_drain.c) */
	uint32_t thread_stop_cursor;
	int64_t last_stop_poll_ns;
	int64_t last_sample_ns;
	struct queue drained;
	uint64_t next_seq;
	int64_t last_liveness_ns;
	int64_t switches;
	int64_t events_lost;
	bool root_reaped;
	int root_status;
	bool no_children;
	bool target_gone;
	int drain_error;

	/* handed over under lock */
	pthread_mutex_t lock;
	pthread_cond_t handed; /* staging_quiet or staging_error was raised */
	struct queue staging;
	bool staging_quiet;    /* the drain side saw the workload over */
	int64_t staging_swept; /* every ring was read after this moment (the
				* start of the latest full drain round), or 0 */
	int staging_error;

	/* writer side */
	bool writer_quiet; /* write_step saw the workload over (attach: not all gone) */
	struct tracedb *db;
	struct model *model;
	struct queue pending; /* [pending_head, pending_sorted) in order, then new */
	size_t pending_head;  /* items before it were handed to the model */
	size_t pending_sorted;
	struct item *scratch; /* merge_pending's buffer */
	size_t scratch_cap;
	int error;
	/* Writing failed (disk full...): from then on records are drained and
	 * counted in events_unwritten, not written (collect_write_give_up). */
	int write_failed;
	char fail_reason[160];
	int64_t fail_ts;
	int64_t events_unwritten;
	/* bounds (collect_bound.c): a recording cut short by --duration or
	 * --max-size writes nothing more (records are drained and counted in
	 * events_unwritten); --keep-last drops whole chunks of old spans */
	int64_t keep_last_ns, max_bytes, duration_ns;
	bool bound_stopped;
	struct tracedb_chunk chunks[COLLECT_CHUNKS];
	size_t nchunks;
	int64_t dropped_rows;

	atomic_int stop;       /* collect_stop */
	atomic_int stop_drain; /* collect_run: the drain thread must return */
};

/* --- collect_bound.c --------------------------------------------------- */

/* The horizon the writer may reach: no further than a --duration cut. */
int64_t collect_bound_horizon(const struct collect *c, int64_t horizon);
/* After the writer reached horizon: cut a --duration or --max-size
 * recording short, or drop --keep-last's oldest chunk. Sets c->error on a
 * failure to write. */
void collect_bound_step(struct collect *c, int64_t horizon);

/* --- collect.c --------------------------------------------------------- */

/* Room for more items in q. Returns 0 or -ENOMEM (q unchanged). */
int collect_queue_reserve(struct queue *q, size_t more);
/* Move every item of from to the end of to. Returns 0 or -ENOMEM (nothing
 * moved). */
int collect_queue_move(struct queue *to, struct queue *from);
/* Give back most of q's array when a burst that grew it has passed (at
 * most a quarter used), keeping QUEUE_KEEP_ITEMS or twice what it holds:
 * the queues' memory follows the backlog, not its peak. */
#define QUEUE_KEEP_ITEMS 16384
void collect_queue_trim(struct queue *q);
/* Free q's items and their records; q is left empty. */
void collect_queue_free(struct queue *q);

/* --- collect_drain.c: drain side --------------------------------------- */

/* One round: reap, sweep, liveness, perf, stops, samples, hand over. */
void collect_drain_step(struct collect *c);
/* The drain thread of collect_run (arg: the collector). */
void *collect_drain_main(void *arg);
/* Queue what ring slot index holds. */
void collect_drain_slot(struct collect *c, uint32_t index);
/* Free ring slot index, counting what it dropped as lost. */
void collect_drain_free_slot(struct collect *c, uint32_t index);
/* sched_perf_drain's callback (ctx: the collector): queue a switch or a
 * task record. */
void collect_drain_on_switch(void *ctx, const struct sched_switch *sw);
/* (parent mode) Reap every exited child, queueing stops too. */
void collect_drain_reap(struct collect *c);
void collect_drain_sample_close(struct sample_file *file);
/* pid exists (or cannot be told not to). */
bool collect_pid_alive(pid_t pid);

/* --- collect_write.c: writer side -------------------------------------- */

/* Take what the drain side handed over, write what is older than horizon.
 * Returns 1 when the recording is over, 0 when not, or -errno. */
int collect_write_step(struct collect *c, int64_t horizon);
/* Hand the pending items up to horizon to the model. */
void collect_write_queue(struct collect *c, int64_t horizon);
/* Wait up to COLLECT_WRITE_NS, less when the drain side signals. */
void collect_write_wait(struct collect *c);
/* Stop writing after error (-EIO: the trace's SQLite message says why):
 * abandon the trace's open transaction (tracedb_abandon), note why and
 * when, drop what is pending. The recording goes on without a writer. */
void collect_write_give_up(struct collect *c, int error);
/* Free the pending items, counting the records among them unwritten. */
void collect_write_discard(struct collect *c);

#endif
