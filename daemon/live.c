/*
 * live: see live.h. Streams form a doubly linked list under live->lock;
 * a stream is unlinked and freed by MHD's response free callback, which
 * MHD only calls for a connection that is not suspended.
 */
#include "live.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "trace.h"

enum stream_state { RUNNING, SUSPENDING, SUSPENDED };

struct stream {
	struct live *hub;
	struct MHD_Connection *conn;
	struct trace *trace; /* NULL: the trace list */
	enum stream_state state;
	int sent_any, finished;
	uint64_t sent_generation;
	int64_t last_send_ms;
	char buf[1024];
	size_t len, off;
	char last[1024]; /* the data of the last event sent */
	struct stream *prev, *next;
};

struct live {
	struct trace_set *set;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running, stopping;
	struct stream *streams;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct live *live_new(struct trace_set *set)
{
	struct live *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->set = set;
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&l->wake, &attr);
	pthread_condattr_destroy(&attr);
	return l;
}

/* The stream's current generation: the trace's or the list's. */
static uint64_t generation(struct stream *s, struct trace_info *info)
{
	if (!s->trace)
		return trace_set_generation(s->hub->set);
	if (trace_info(s->trace, info) < 0)
		return s->sent_generation;
	return info->generation;
}

static int has_news(struct stream *s)
{
	struct trace_info info;
	return !s->sent_any || generation(s, &info) != s->sent_generation ||
	       now_ms() - s->last_send_ms >= LIVE_HEARTBEAT_MS;
}

static int always(struct stream *s)
{
	return 1;
}

/* Resumes the suspended streams for which pred holds. Called and returns
 * with l->lock held, but drops it around MHD_resume_connection (MHD takes
 * its own locks, and calls free_stream, which takes ours). A stream set
 * RUNNING here stays allocated until resumed: MHD frees nothing
 * suspended. Returns 1 if some stream is still SUSPENDING. */
static int resume_where(struct live *l, int (*pred)(struct stream *))
{
	struct MHD_Connection *batch[64];
	int suspending;
	for (;;) {
		size_t n = 0;
		suspending = 0;
		for (struct stream *s = l->streams; s && n < 64; s = s->next) {
			if (s->state == SUSPENDED && pred(s)) {
				s->state = RUNNING;
				batch[n++] = s->conn;
			} else if (s->state == SUSPENDING) {
				suspending = 1;
			}
		}
		if (n == 0)
			break;
		pthread_mutex_unlock(&l->lock);
		for (size_t i = 0; i < n; i++)
			MHD_resume_connection(batch[i]);
		pthread_mutex_lock(&l->lock);
	}
	return suspending;
}

static void *watch(void *arg)
{
	struct live *l = arg;
	pthread_mutex_lock(&l->lock);
	while (!l->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += LIVE_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&l->wake, &l->lock, &until);
		if (l->stopping)
			break;
		pthread_mutex_unlock(&l->lock);

		trace_set_rescan(l->set);
		for (size_t i = 0;; i++) {
			struct trace *t = trace_set_at(l->set, i);
			if (!t)
				break;
			trace_poll(t);
		}

		pthread_mutex_lock(&l->lock);
		resume_where(l, has_news);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

int live_start(struct live *l)
{
	int rc = pthread_create(&l->thread, NULL, watch, l);
	if (rc)
		return -rc;
	l->running = 1;
	return 0;
}

void live_stop(struct live *l)
{
	pthread_mutex_lock(&l->lock);
	l->stopping = 1;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	if (l->running)
		pthread_join(l->thread, NULL);
	l->running = 0;
	for (;;) {
		pthread_mutex_lock(&l->lock);
		int waiting = resume_where(l, always);
		pthread_mutex_unlock(&l->lock);
		if (!waiting)
			break;
		struct timespec pause = {0, 5000000};
		nanosleep(&pause, NULL);
	}
}

void live_free(struct live *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->wake);
	free(l);
}

/* Formats the next event into s->buf, if any is due. */
static void next_event(struct stream *s)
{
	struct trace_info info;
	uint64_t gen = generation(s, &info);
	struct json j;
	json_init(&j);
	if (!s->sent_any || gen != s->sent_generation) {
		json_obj_begin(&j);
		const char *event = "traces";
		if (s->trace) {
			event = "update";
			json_key(&j, "end_ts");
			json_i64(&j, info.status.end_ts);
			json_key(&j, "status");
			json_str(&j, info.status.status);
			json_key(&j, "bytes"); /* what the recording wrote: -wal too */
			json_i64(&j, info.bytes + info.wal_bytes);
			if (strcmp(info.status.status, "recording") != 0)
				s->finished = 1;
		} else {
			json_key(&j, "count");
			json_i64(&j, (int64_t)trace_set_count(s->hub->set));
		}
		json_obj_end(&j);
		size_t len;
		char *text = json_take(&j, &len);
		/* the generation also moves for what an update does not carry
		 * (mtime, counts): an update the same as the last is not sent */
		if (text && (!s->sent_any || strcmp(text, s->last) != 0)) {
			int n = snprintf(s->buf, sizeof(s->buf), "event: %s\ndata: %s\n\n", event,
					 text);
			s->len = n > 0 && (size_t)n < sizeof(s->buf) ? (size_t)n : 0;
			snprintf(s->last, sizeof(s->last), "%s", text);
		}
		free(text);
		s->sent_any = 1;
		s->sent_generation = gen;
	} else if (now_ms() - s->last_send_ms >= LIVE_HEARTBEAT_MS) {
		s->len = (size_t)snprintf(s->buf, sizeof(s->buf), ": ping\n\n");
	}
	s->off = 0;
	if (s->len)
		s->last_send_ms = now_ms();
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	if (s->off == s->len) {
		s->len = s->off = 0;
		if (s->finished)
			return MHD_CONTENT_READER_END_OF_STREAM;
		next_event(s);
	}
	if (s->off < s->len) {
		size_t n = s->len - s->off < max ? s->len - s->off : max;
		memcpy(buf, s->buf + s->off, n);
		s->off += n;
		return (ssize_t)n;
	}
	struct live *l = s->hub;
	pthread_mutex_lock(&l->lock);
	if (l->stopping) {
		pthread_mutex_unlock(&l->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	s->state = SUSPENDING;
	pthread_mutex_unlock(&l->lock);
	MHD_suspend_connection(s->conn);
	pthread_mutex_lock(&l->lock);
	s->state = SUSPENDED;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static void free_stream(void *cls)
{
	struct stream *s = cls;
	struct live *l = s->hub;
	pthread_mutex_lock(&l->lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		l->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	pthread_mutex_unlock(&l->lock);
	free(s);
}

struct MHD_Response *live_response(struct live *l, struct MHD_Connection *conn, struct trace *t)
{
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->hub = l;
	s->conn = conn;
	s->trace = t;
	s->last_send_ms = now_ms();
	if (!t) /* the list stream starts with the current list's generation */
		s->sent_generation = trace_set_generation(l->set);
	struct MHD_Response *resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, read_stream, s, free_stream);
	if (!resp) {
		free(s);
		return NULL;
	}
	pthread_mutex_lock(&l->lock);
	s->next = l->streams;
	if (s->next)
		s->next->prev = s;
	l->streams = s;
	pthread_mutex_unlock(&l->lock);
	return resp;
}
