/*
 * sqlpool: the SQL console's own threads, so that a slow query never
 * holds an HTTP worker (each MHD worker serves many connections: one slow
 * query on it would stall them all, and the trace list with them).
 *
 * A request submits a job (its trace, the SQL, a row limit, a time
 * budget) and suspends its connection; one of the pool's threads runs it
 * under sqlguard on a connection borrowed from the trace, keeps the answer
 * and resumes the HTTP connection, whose handler then sends it. At most
 * SQLPOOL_QUEUE_MAX jobs wait; beyond that a request is told the console
 * is busy (sqlpool_submit: -EBUSY) at once.
 *
 * The watchdog thread wakes every SQLPOOL_TICK_MS. A running job past its
 * deadline is interrupted (sqlite3_interrupt, which SQLite also checks
 * where the progress handler is not called); a job still running
 * SQLPOOL_GRACE_MS after it (one SQL function call that never looks at
 * interrupts, such as printf with an enormous width) is answered without
 * waiting: its thread finishes the call in the background, its answer is
 * dropped, and its thread stays taken meanwhile (the share stays bounded).
 * A queued job whose deadline passes is answered without running.
 *
 * A job belongs to both sides (the HTTP request, the pool) and is freed
 * when both have let go (sqlpool_job_release, and the pool when done);
 * everything in it is under the pool's lock.
 */
#ifndef WEFT_SQLPOOL_H
#define WEFT_SQLPOOL_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#define SQLPOOL_THREADS 2
#define SQLPOOL_QUEUE_MAX 16
#define SQLPOOL_TICK_MS 50
#define SQLPOOL_GRACE_MS 500

struct sqlpool;
struct sqlpool_job;
struct trace;

/* A pool with its threads started. NULL on failure. */
struct sqlpool *sqlpool_new(void);
/* Interrupts every job, answers every waiting request (call before
 * MHD_stop_daemon) and joins the threads, waiting at most about 2 s for
 * one stuck in a call that does not look at interrupts. Returns how many
 * threads were left running: they may still use the pool and the trace
 * they read, so neither may be freed before the process exits (then
 * sqlpool_free leaves the pool alone). */
int sqlpool_stop(struct sqlpool *p);
void sqlpool_free(struct sqlpool *p);

/* Takes sql (copied) to run on trace t with at most limit rows within
 * budget_ms (counted from now, waiting included); conn is resumed once
 * the answer is there. The job waits until sqlpool_job_start, which the
 * caller calls after suspending conn (so that no resume comes first).
 * Returns 0 with *job (the caller's reference), -EBUSY when
 * SQLPOOL_QUEUE_MAX jobs wait already, -ENOMEM, or -ESHUTDOWN. */
int sqlpool_submit(struct sqlpool *p, struct MHD_Connection *conn, struct trace *t, const char *sql,
		   int64_t limit, int budget_ms, struct sqlpool_job **job);

/* Lets the job run (see sqlpool_submit). */
void sqlpool_job_start(struct sqlpool_job *job);

/* The answer once the connection was resumed: 0 with the JSON text
 * (*text, malloc'd, the caller's) or the sqlguard error (-EPERM, -EINVAL,
 * -EINTR, -EIO, -ENOMEM) with its message in err. */
int sqlpool_job_result(struct sqlpool_job *job, char **text, size_t *len, char *err, size_t errlen);

/* Lets go of the caller's reference (a void * for the request's keep). */
void sqlpool_job_release(void *job);

#endif
