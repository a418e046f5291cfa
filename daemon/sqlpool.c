/*
 * sqlpool: see sqlpool.h. Jobs the pool still holds form one list in
 * submission order (queued ones wait in it for a thread); a thread takes
 * the oldest queued job. Connections are resumed outside the lock: MHD
 * takes locks of its own there.
 */
#include "sqlpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "sqlguard.h"
#include "trace.h"

enum job_state { HELD, QUEUED, RUNNING, DONE }; /* HELD: until sqlpool_job_start */

struct sqlpool_job {
	struct sqlpool *pool;
	struct MHD_Connection *conn;
	struct trace *trace;
	char *sql;
	int64_t limit;
	int budget_ms;
	int64_t deadline_ms;
	enum job_state state;
	int answered; /* conn was resumed (or is being) */
	int refs;     /* the request's and the pool's */
	sqlite3 *db;  /* while RUNNING */
	int rc;	      /* when DONE */
	char *text;   /* the answer when rc == 0 */
	size_t len;
	char err[512];
	struct sqlpool_job *next; /* in pool->jobs while the pool holds it */
};

struct sqlpool {
	pthread_mutex_t lock;
	pthread_cond_t work, tick;
	pthread_t threads[SQLPOOL_THREADS], watchdog;
	int nthreads, watching, stopping;
	int stuck; /* threads stopping could not wait for */
	struct sqlpool_job *jobs;
	size_t queued;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drops one reference. The last may be either side's, and the request's
 * side holds no lock when it lets go: the count is atomic. */
static void job_unref(struct sqlpool_job *job)
{
	if (__atomic_sub_fetch(&job->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(job->sql);
	free(job->text);
	free(job);
}

static void unlink_job(struct sqlpool *p, struct sqlpool_job *job)
{
	for (struct sqlpool_job **at = &p->jobs; *at; at = &(*at)->next)
		if (*at == job) {
			*at = job->next;
			return;
		}
}

/* Marks job answered; returns its connection to resume (outside the
 * lock), or NULL if it was answered already. Caller holds p->lock. */
static struct MHD_Connection *answer(struct sqlpool_job *job)
{
	if (job->answered)
		return NULL;
	job->answered = 1;
	return job->conn;
}

/* Runs one job (p->lock not held): the answer goes into the job. */
static void run(struct sqlpool *p, struct sqlpool_job *job, sqlite3 *db)
{
	struct json j;
	json_init(&j);
	int remaining = (int)(job->deadline_ms - now_ms());
	int rc = db ? sqlguard_run(db, job->sql, job->limit, remaining > 1 ? remaining : 1, &j,
				   job->err, sizeof(job->err))
		    : -EIO;
	if (!db)
		snprintf(job->err, sizeof(job->err), "cannot open the trace");
	if (rc == -EINTR) /* the whole budget, not what was left of it */
		snprintf(job->err, sizeof(job->err), "query interrupted after %d ms",
			 job->budget_ms);
	char *text = NULL;
	size_t len = 0;
	if (rc == 0 && !(text = json_take(&j, &len))) {
		rc = -ENOMEM;
		snprintf(job->err, sizeof(job->err), "out of memory");
	}
	json_free(&j);
	pthread_mutex_lock(&p->lock);
	job->rc = rc;
	job->text = text;
	job->len = len;
	pthread_mutex_unlock(&p->lock);
}

static void *work(void *arg)
{
	struct sqlpool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct sqlpool_job *job = p->jobs;
		while (job && job->state != QUEUED)
			job = job->next;
		if (!job) {
			if (p->stopping)
				break;
			pthread_cond_wait(&p->work, &p->lock);
			continue;
		}
		job->state = RUNNING;
		p->queued--;
		pthread_mutex_unlock(&p->lock);
		sqlite3 *db = trace_acquire(job->trace);
		pthread_mutex_lock(&p->lock);
		job->db = db;
		if (db && (p->stopping || now_ms() >= job->deadline_ms))
			sqlite3_interrupt(db);
		pthread_mutex_unlock(&p->lock);
		run(p, job, db);
		pthread_mutex_lock(&p->lock);
		job->db = NULL;
		pthread_mutex_unlock(&p->lock);
		trace_release(job->trace, db);
		pthread_mutex_lock(&p->lock);
		job->state = DONE;
		unlink_job(p, job);
		struct MHD_Connection *conn = answer(job);
		job_unref(job);
		pthread_mutex_unlock(&p->lock);
		if (conn)
			MHD_resume_connection(conn);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* One look at every job (see sqlpool.h); fills conns with the
 * connections to resume. Caller holds p->lock. */
static size_t watch_jobs(struct sqlpool *p, struct MHD_Connection **conns, size_t cap)
{
	int64_t now = now_ms();
	size_t n = 0;
	struct sqlpool_job *job = p->jobs;
	while (job && n < cap) {
		struct sqlpool_job *next = job->next;
		int late = p->stopping || now >= job->deadline_ms;
		if (job->state == QUEUED && late) {
			job->state = DONE;
			job->rc = -EINTR;
			snprintf(job->err, sizeof(job->err), "query interrupted after %d ms",
				 job->budget_ms);
			p->queued--;
			unlink_job(p, job);
			struct MHD_Connection *conn = answer(job);
			if (conn)
				conns[n++] = conn;
			job_unref(job);
		} else if (job->state == RUNNING && late) {
			if (job->db)
				sqlite3_interrupt(job->db);
			struct MHD_Connection *conn =
			    p->stopping || now >= job->deadline_ms + SQLPOOL_GRACE_MS ? answer(job)
										      : NULL;
			if (conn)
				conns[n++] = conn;
		}
		job = next;
	}
	return n;
}

static void *watchdog(void *arg)
{
	struct sqlpool *p = arg;
	struct MHD_Connection *conns[SQLPOOL_QUEUE_MAX + SQLPOOL_THREADS];
	pthread_mutex_lock(&p->lock);
	for (;;) {
		size_t n = watch_jobs(p, conns, sizeof(conns) / sizeof(conns[0]));
		int stopping = p->stopping;
		pthread_mutex_unlock(&p->lock);
		for (size_t i = 0; i < n; i++)
			MHD_resume_connection(conns[i]);
		pthread_mutex_lock(&p->lock);
		if (stopping && !p->jobs)
			break;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += SQLPOOL_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->tick, &p->lock, &until);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct sqlpool *sqlpool_new(void)
{
	struct sqlpool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->tick, &attr);
	pthread_condattr_destroy(&attr);
	for (int i = 0; i < SQLPOOL_THREADS; i++)
		if (pthread_create(&p->threads[p->nthreads], NULL, work, p) == 0)
			p->nthreads++;
	p->watching = pthread_create(&p->watchdog, NULL, watchdog, p) == 0;
	if (p->nthreads == 0 || !p->watching) {
		sqlpool_free(p);
		return NULL;
	}
	return p;
}

/* How long stopping waits for a thread still inside one SQL call that
 * does not look at interrupts. */
#define STOP_WAIT_S 2

int sqlpool_stop(struct sqlpool *p)
{
	if (!p)
		return 0;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->work);
	pthread_cond_signal(&p->tick);
	pthread_mutex_unlock(&p->lock);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_WAIT_S;
	/* the watchdog answers every request at once, then waits for the
	 * threads' jobs to leave; a thread stuck in one call is left to the
	 * process's exit */
	for (int i = 0; i < p->nthreads; i++)
		if (pthread_timedjoin_np(p->threads[i], NULL, &until) != 0)
			p->stuck++;
	if (p->watching && (p->stuck || pthread_timedjoin_np(p->watchdog, NULL, &until) != 0))
		p->stuck++;
	p->watching = 0;
	p->nthreads = 0;
	return p->stuck;
}

void sqlpool_free(struct sqlpool *p)
{
	if (!p)
		return;
	sqlpool_stop(p);
	if (p->stuck)
		return; /* a thread may still use it: left to the process's exit */
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->tick);
	free(p);
}

int sqlpool_submit(struct sqlpool *p, struct MHD_Connection *conn, struct trace *t, const char *sql,
		   int64_t limit, int budget_ms, struct sqlpool_job **out)
{
	struct sqlpool_job *job = calloc(1, sizeof(*job));
	if (!job || !(job->sql = strdup(sql))) {
		free(job);
		return -ENOMEM;
	}
	job->pool = p;
	job->conn = conn;
	job->trace = t;
	job->limit = limit;
	job->budget_ms = budget_ms;
	job->deadline_ms = now_ms() + budget_ms;
	job->refs = 2;
	job->state = HELD;
	pthread_mutex_lock(&p->lock);
	int rc = p->stopping ? -ESHUTDOWN : p->queued >= SQLPOOL_QUEUE_MAX ? -EBUSY : 0;
	if (rc == 0) {
		struct sqlpool_job **at = &p->jobs;
		while (*at)
			at = &(*at)->next;
		*at = job;
		p->queued++;
	}
	pthread_mutex_unlock(&p->lock);
	if (rc < 0) {
		free(job->sql);
		free(job);
		return rc;
	}
	*out = job;
	return 0;
}

void sqlpool_job_start(struct sqlpool_job *job)
{
	struct sqlpool *p = job->pool;
	pthread_mutex_lock(&p->lock);
	job->state = QUEUED;
	pthread_cond_signal(&p->work);
	pthread_cond_signal(&p->tick); /* stopping meanwhile: answer it */
	pthread_mutex_unlock(&p->lock);
}

int sqlpool_job_result(struct sqlpool_job *job, char **text, size_t *len, char *err, size_t errlen)
{
	struct sqlpool *p = job->pool;
	int rc;
	pthread_mutex_lock(&p->lock);
	if (job->state != DONE) { /* answered late by the watchdog */
		snprintf(err, errlen, "query interrupted after %d ms", job->budget_ms);
		rc = -EINTR;
	} else if ((rc = job->rc) < 0) {
		snprintf(err, errlen, "%s", job->err);
	} else {
		*text = job->text;
		*len = job->len;
		job->text = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void sqlpool_job_release(void *job)
{
	job_unref(job);
}
