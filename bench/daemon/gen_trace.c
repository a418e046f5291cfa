/*
 * weft_gen_trace: writes a synthetic weft trace (schema v1, created from
 * the embedded schema/001_schema.sql) for benchmarks and tests.
 *
 *   weft_gen_trace -o FILE [-n SPANS] [-t THREADS] [-p PROCESSES]
 *                  [--seed N] [--status S] [--no-indexes] [--no-slices]
 *                  [--no-overview]
 *
 * Defaults: 10,000,000 thread_state spans over 200 threads in
 * threads/20 processes (at least 1). Each thread is born New, then loops
 * Running -> (Ready | Blocked on mutex/cond/sem/io/sleep/poll/futex/other)
 * -> Running..., its spans tiling [start_ts, end_ts). Blocked spans on a
 * lock name the object, its holder (holder_utid) and the waker
 * (waker_utid), with a matching flow (unlock/signal/post); io waits on a
 * pipe get a 'pipe' flow with bytes. Running spans get a sched_slice on
 * CPU utid % 2 (slices of different threads may overlap: no scheduler is
 * simulated). Processes get process_state spans. The last two threads of
 * process 1 end in a deadlock: each Blocked, to the end, on a mutex the
 * other holds, recorded in deadlock and deadlock_member as the recorder
 * does (the thread whose wait closed the cycle first). Rows are written in one transaction with
 * prepared statements; indexes (schema/001_indexes.sql) after, unless
 * --no-indexes (a trace still being recorded has none). Every span row is
 * also added to the tracks' coarse summary (tracer/collector/overview_build.h),
 * written into track_overview as the recorder writes it when it finishes,
 * unless --no-overview (a trace of an older recorder, or one still being
 * recorded, has none).
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "overview_build.h"

extern const char weft_embed__001_schema_sql[];
extern const char weft_embed__001_indexes_sql[];

#define T0 1000000000LL
#define MUTEXES_PER_PROCESS 8

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int64_t between(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static sqlite3 *db;

static void die(const char *what)
{
	fprintf(stderr, "weft_gen_trace: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static void exec(const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "weft_gen_trace: %s\n", err);
		exit(1);
	}
}

static sqlite3_stmt *prep(const char *sql)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		die(sql);
	return s;
}

static void bind_opt(sqlite3_stmt *s, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

static void run(sqlite3_stmt *s)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		die("insert");
	sqlite3_reset(s);
}

static sqlite3_stmt *ins_state, *ins_flow, *ins_slice, *ins_pstate;
static struct overview *overview; /* NULL with --no-overview */

/* Adds a row to the overview, as the recorder's writer does. */
static void summarize(enum overview_kind kind, int64_t id, int64_t ts, int64_t dur, const char *st,
		      const char *reason, int64_t object)
{
	if (overview && overview_add(overview, kind, id, ts, dur, overview_state_index(st),
				     overview_reason_index(reason), object) < 0) {
		fprintf(stderr, "weft_gen_trace: out of memory\n");
		exit(1);
	}
}

static void state(int64_t utid, int64_t ts, int64_t dur, const char *st, const char *reason,
		  int64_t object, int64_t cpu, int64_t waker, int64_t holder)
{
	sqlite3_bind_int64(ins_state, 1, utid);
	sqlite3_bind_int64(ins_state, 2, ts);
	sqlite3_bind_int64(ins_state, 3, dur);
	sqlite3_bind_text(ins_state, 4, st, -1, SQLITE_STATIC);
	if (reason)
		sqlite3_bind_text(ins_state, 5, reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(ins_state, 5);
	bind_opt(ins_state, 6, object);
	bind_opt(ins_state, 7, cpu);
	bind_opt(ins_state, 8, waker);
	bind_opt(ins_state, 9, holder);
	run(ins_state);
	summarize(OVERVIEW_THREAD, utid, ts, dur, st, reason, object);
}

static void flow(int64_t ts_out, int64_t utid_out, int64_t ts_in, int64_t utid_in, const char *kind,
		 int64_t object, int64_t bytes)
{
	sqlite3_bind_int64(ins_flow, 1, ts_out);
	sqlite3_bind_int64(ins_flow, 2, utid_out);
	sqlite3_bind_int64(ins_flow, 3, ts_in);
	sqlite3_bind_int64(ins_flow, 4, utid_in);
	sqlite3_bind_text(ins_flow, 5, kind, -1, SQLITE_STATIC);
	bind_opt(ins_flow, 6, object);
	bind_opt(ins_flow, 7, bytes);
	run(ins_flow);
}

/* The deadlock of threads a and b: a waits (since wait[0], until end[0])
 * for mutex object, which b holds; b (since wait[1]) for object + 1, which
 * a holds. Written as the recorder writes it: found when the later of the
 * two waits began, ended when the first wait ended, position 0 the thread
 * whose wait closed the cycle. */
static void deadlock(int64_t a, int64_t b, int64_t object, const int64_t wait[2],
		     const int64_t end[2])
{
	int closer = wait[1] >= wait[0]; /* index of the wait that closed it */
	int64_t utid[2] = {a, b}, obj[2] = {object, object + 1};
	int first = closer, second = !closer;
	char utids[48], objects[48];
	snprintf(utids, sizeof(utids), "%" PRId64 ",%" PRId64, utid[first], utid[second]);
	snprintf(objects, sizeof(objects), "%" PRId64 ",%" PRId64, obj[first], obj[second]);
	sqlite3_stmt *d = prep("INSERT INTO deadlock(deadlock_id, ts, end_ts, utids, object_ids) "
			       "VALUES (1, ?1, ?2, ?3, ?4)");
	sqlite3_bind_int64(d, 1, wait[closer]);
	sqlite3_bind_int64(d, 2, end[0] < end[1] ? end[0] : end[1]);
	sqlite3_bind_text(d, 3, utids, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(d, 4, objects, -1, SQLITE_TRANSIENT);
	run(d);
	sqlite3_finalize(d);
	sqlite3_stmt *m = prep("INSERT INTO deadlock_member(deadlock_id, position, utid, "
			       "object_id, holder_utid, wait_ts) VALUES (1, ?1, ?2, ?3, ?4, ?5)");
	for (int pos = 0; pos < 2; pos++) {
		int k = pos == 0 ? first : second;
		sqlite3_bind_int(m, 1, pos);
		sqlite3_bind_int64(m, 2, utid[k]);
		sqlite3_bind_int64(m, 3, obj[k]);
		sqlite3_bind_int64(m, 4, utid[!k]);
		sqlite3_bind_int64(m, 5, wait[k]);
		run(m);
	}
	sqlite3_finalize(m);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: weft_gen_trace -o FILE [-n SPANS] [-t THREADS] [-p PROCESSES]\n"
		     "                      [--seed N] [--status S] [--no-indexes] [--no-slices]\n"
		     "                      [--no-overview]\n");
}

/* What to generate (the command line). */
struct gen {
	const char *out, *status;
	long long spans, threads, processes;
	int indexes, slices, summary;
};

/* Fills *g from the command line. Returns -1 to go on, else the exit
 * status (help printed: 0, a usage error: 2). */
static int parse_args(int argc, char **argv, struct gen *g)
{
	*g = (struct gen){.status = "complete",
			  .spans = 10000000,
			  .threads = 200,
			  .indexes = 1,
			  .slices = 1,
			  .summary = 1};
	for (int i = 1; i < argc && argv[i]; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-o") == 0 && v)
			g->out = v, i++;
		else if (strcmp(a, "-n") == 0 && v)
			g->spans = atoll(v), i++;
		else if (strcmp(a, "-t") == 0 && v)
			g->threads = atoll(v), i++;
		else if (strcmp(a, "-p") == 0 && v)
			g->processes = atoll(v), i++;
		else if (strcmp(a, "--seed") == 0 && v)
			rng_state ^= (uint64_t)atoll(v) * 0x9E3779B97F4A7C15ULL, i++;
		else if (strcmp(a, "--status") == 0 && v)
			g->status = v, i++;
		else if (strcmp(a, "--no-indexes") == 0)
			g->indexes = 0;
		else if (strcmp(a, "--no-slices") == 0)
			g->slices = 0;
		else if (strcmp(a, "--no-overview") == 0)
			g->summary = 0;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!g->out || g->spans < 1 || g->threads < 1) {
		usage(stderr);
		return 2;
	}
	if (g->processes < 1)
		g->processes = g->threads / 20 > 0 ? g->threads / 20 : 1;
	if (g->processes > g->threads)
		g->processes = g->threads;
	return -1;
}

#define OBJECTS_PER_PROCESS (MUTEXES_PER_PROCESS + 3)

/* objects: per process MUTEXES_PER_PROCESS mutexes, a cond, a sem, a pipe */
static void write_objects(long long processes)
{
	sqlite3_stmt *ins_obj = prep("INSERT INTO object(object_id, kind, upid, address, label) "
				     "VALUES (?1, ?2, ?3, ?4, ?5)");
	for (long long p = 0; p < processes; p++) {
		for (int k = 0; k < OBJECTS_PER_PROCESS; k++) {
			int64_t id = 1 + p * OBJECTS_PER_PROCESS + k;
			const char *kind = k < MUTEXES_PER_PROCESS	  ? "mutex"
					   : k == MUTEXES_PER_PROCESS	  ? "cond"
					   : k == MUTEXES_PER_PROCESS + 1 ? "sem"
									  : "pipe";
			int64_t address = 0x55550000 + id * 64;
			char label[64];
			if (strcmp(kind, "pipe") == 0)
				snprintf(label, sizeof(label), "pipe:[%" PRId64 "]", 40000 + id);
			else
				snprintf(label, sizeof(label), "%s 0x%" PRIx64, kind, address);
			sqlite3_bind_int64(ins_obj, 1, id);
			sqlite3_bind_text(ins_obj, 2, kind, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins_obj, 3, p + 1);
			sqlite3_bind_int64(ins_obj, 4, address);
			sqlite3_bind_text(ins_obj, 5, label, -1, SQLITE_TRANSIENT);
			run(ins_obj);
		}
	}
	sqlite3_finalize(ins_obj);
}

/* A Running span of utid at ts, and its CPU slice when slices. */
static int64_t running_span(int64_t utid, int64_t ts, int slices)
{
	int64_t dur = between(1000, 200000);
	int64_t cpu = utid % 2;
	state(utid, ts, dur, "Running", NULL, -1, cpu, -1, -1);
	if (slices) {
		const char *end_state = rnd() % 4 == 0 ? "Ready" : "Blocked";
		sqlite3_bind_int64(ins_slice, 1, cpu);
		sqlite3_bind_int64(ins_slice, 2, ts);
		sqlite3_bind_int64(ins_slice, 3, dur);
		sqlite3_bind_int64(ins_slice, 4, utid);
		sqlite3_bind_text(ins_slice, 5, end_state, -1, SQLITE_STATIC);
		run(ins_slice);
		summarize(OVERVIEW_CPU, cpu, ts, dur, end_state, NULL, utid);
	}
	return dur;
}

/* A Blocked span of utid at ts on one of its process's objects (from
 * base_obj on), held by or woken by peer, with its flow. Returns its
 * duration. */
static int64_t blocked_span(int64_t utid, int64_t ts, int64_t base_obj, int64_t peer)
{
	unsigned r = (unsigned)(rnd() % 100);
	const char *reason;
	int64_t object = -1, holder = -1, waker = -1;
	const char *flow_kind = NULL;
	int64_t bytes = -1;
	int64_t dur = between(5000, 2000000);
	if (r < 40) {
		reason = "mutex";
		object = base_obj + (int64_t)(rnd() % MUTEXES_PER_PROCESS);
		holder = waker = peer;
		flow_kind = "unlock";
	} else if (r < 55) {
		reason = "cond";
		object = base_obj + MUTEXES_PER_PROCESS;
		waker = peer;
		flow_kind = "signal";
	} else if (r < 65) {
		reason = "sem";
		object = base_obj + MUTEXES_PER_PROCESS + 1;
		waker = peer;
		flow_kind = "post";
	} else if (r < 75) {
		reason = "io";
		object = base_obj + MUTEXES_PER_PROCESS + 2;
		waker = peer;
		flow_kind = "pipe";
		bytes = between(1, 65536);
	} else if (r < 85) {
		reason = "sleep";
	} else if (r < 90) {
		reason = "poll";
	} else if (r < 95) {
		reason = "futex";
	} else {
		reason = "other";
	}
	state(utid, ts, dur, "Blocked", reason, object, -1, waker, holder);
	if (flow_kind && waker > 0)
		flow(ts + dur - between(100, 1000), waker, ts + dur, utid, flow_kind, object,
		     bytes);
	return dur;
}

/* The deadlocked pair: the last two threads of process 1 (*b < 0: none). */
static void deadlock_pair(const struct gen *g, int64_t *a, int64_t *b)
{
	*a = *b = -1;
	for (long long u = g->threads; u >= 1 && *b < 0; u--)
		if ((u - 1) % g->processes == 0) {
			if (*a < 0)
				*a = u;
			else if (u != *a)
				*b = u;
		}
}

/* The spans of thread utid from ts: n of them, New first, then Running
 * alternating with Ready or Blocked. Returns where they end. */
static int64_t thread_spans(const struct gen *g, int64_t utid, int64_t ts, long long n)
{
	int64_t upid = 1 + (utid - 1) % g->processes;
	int64_t base_obj = (upid - 1) * OBJECTS_PER_PROCESS + 1;
	/* a peer thread in the same process, for holders and wakers */
	int64_t peer = utid + g->processes <= g->threads
			   ? utid + g->processes
			   : (utid > g->processes ? utid - g->processes : -1);
	for (long long i = 0; i < n; i++) {
		int64_t dur;
		if (i == 0) {
			dur = between(2000, 20000);
			state(utid, ts, dur, "New", NULL, -1, -1, -1, -1);
		} else if (i % 2 == 1) {
			dur = running_span(utid, ts, g->slices);
		} else if (rnd() % 4 == 0) {
			dur = between(5000, 100000);
			state(utid, ts, dur, "Ready", NULL, -1, -1, -1, -1);
		} else {
			dur = blocked_span(utid, ts, base_obj, peer);
		}
		ts += dur;
	}
	return ts;
}

/* Every thread: its spans and its row; thread_end[utid] its end. Returns
 * the trace's end. */
static int64_t write_threads(const struct gen *g, int64_t *thread_end)
{
	sqlite3_stmt *ins_thread =
	    prep("INSERT INTO thread(utid, tid, upid, name, start_ts, end_ts, "
		 "is_main, sched_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		 "'perf')");
	int64_t trace_end = T0;
	long long per_thread = g->spans / g->threads;
	long long extra = g->spans % g->threads;
	int64_t dl_a, dl_b;
	deadlock_pair(g, &dl_a, &dl_b);
	int64_t dl_wait[2] = {0, 0}, dl_end[2] = {0, 0}; /* [0]: dl_a's, [1]: dl_b's */
	for (long long utid = 1; utid <= g->threads; utid++) {
		int64_t upid = 1 + (utid - 1) % g->processes;
		int is_main = utid <= g->processes;
		int64_t start = T0 + (is_main ? 0 : 50000 + utid * 1000);
		int64_t ts = thread_spans(g, utid, start, per_thread + (utid <= extra));
		if (utid == dl_a || utid == dl_b) {
			/* wait forever on the other one's mutex (object differs) */
			int64_t other = utid == dl_a ? dl_b : dl_a;
			int64_t object =
			    (upid - 1) * OBJECTS_PER_PROCESS + 1 + (utid == dl_a ? 0 : 1);
			state(utid, ts, 5000000000LL, "Blocked", "mutex", object, -1, -1, other);
			dl_wait[utid == dl_a ? 0 : 1] = ts;
			ts += 5000000000LL;
			dl_end[utid == dl_a ? 0 : 1] = ts;
		}
		thread_end[utid] = ts;
		if (ts > trace_end)
			trace_end = ts;
		char name[32];
		if (is_main)
			snprintf(name, sizeof(name), "proc%" PRId64, upid);
		else
			snprintf(name, sizeof(name), "worker-%lld", utid);
		sqlite3_bind_int64(ins_thread, 1, utid);
		sqlite3_bind_int64(ins_thread, 2, 1000 + utid);
		sqlite3_bind_int64(ins_thread, 3, upid);
		sqlite3_bind_text(ins_thread, 4, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins_thread, 5, start);
		sqlite3_bind_int64(ins_thread, 6, ts);
		sqlite3_bind_int(ins_thread, 7, is_main);
		run(ins_thread);
	}
	if (dl_b > 0)
		deadlock(dl_a, dl_b, 1 /* process 1's first mutex */, dl_wait, dl_end);
	sqlite3_finalize(ins_thread);
	return trace_end;
}

/* Process p's states up to end: New, then Running/Ready/Waiting in ~1 ms
 * steps. */
static void process_states(long long p, int64_t end)
{
	static const char *const pst[] = {"Running", "Ready", "Running", "Waiting"};
	int64_t ts = T0, dur = 20000;
	sqlite3_bind_int64(ins_pstate, 1, p);
	sqlite3_bind_int64(ins_pstate, 2, ts);
	sqlite3_bind_int64(ins_pstate, 3, dur);
	sqlite3_bind_text(ins_pstate, 4, "New", -1, SQLITE_STATIC);
	run(ins_pstate);
	summarize(OVERVIEW_PROCESS, p, ts, dur, "New", NULL, -1);
	for (ts += dur; ts < end; ts += dur) {
		dur = between(100000, 2000000);
		if (ts + dur > end)
			dur = end - ts;
		sqlite3_bind_int64(ins_pstate, 1, p);
		sqlite3_bind_int64(ins_pstate, 2, ts);
		sqlite3_bind_int64(ins_pstate, 3, dur);
		const char *st = pst[rnd() % 4];
		sqlite3_bind_text(ins_pstate, 4, st, -1, SQLITE_STATIC);
		run(ins_pstate);
		summarize(OVERVIEW_PROCESS, p, ts, dur, st, NULL, -1);
	}
}

/* Every process: its row, ending with its last thread, and its states. */
static void write_processes(const struct gen *g, const int64_t *thread_end)
{
	sqlite3_stmt *ins_proc = prep("INSERT INTO process(upid, pid, ppid, parent_upid, name, "
				      "cmdline, start_ts, end_ts, exit_code, exit_signal, traced) "
				      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, 1)");
	for (long long p = 1; p <= g->processes; p++) {
		int64_t end = T0;
		for (long long u = p; u <= g->threads; u += g->processes)
			if (thread_end[u] > end)
				end = thread_end[u];
		char name[32], cmd[64];
		snprintf(name, sizeof(name), "proc%lld", p);
		snprintf(cmd, sizeof(cmd), "./proc%lld --work", p);
		sqlite3_bind_int64(ins_proc, 1, p);
		sqlite3_bind_int64(ins_proc, 2, 1000 + p);
		sqlite3_bind_int64(ins_proc, 3, p == 1 ? 999 : 1001);
		bind_opt(ins_proc, 4, p == 1 ? -1 : 1);
		sqlite3_bind_text(ins_proc, 5, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins_proc, 6, cmd, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins_proc, 7, T0);
		sqlite3_bind_int64(ins_proc, 8, end);
		sqlite3_bind_int64(ins_proc, 9, 0);
		run(ins_proc);
		process_states(p, end);
	}
	sqlite3_finalize(ins_proc);
}

static void write_meta(const struct gen *g, int64_t trace_end)
{
	sqlite3_stmt *ins_meta = prep("INSERT INTO meta(key, value) VALUES (?1, ?2)");
	char start_s[24], end_s[24], cmd[128];
	snprintf(start_s, sizeof(start_s), "%lld", T0);
	snprintf(end_s, sizeof(end_s), "%" PRId64, trace_end);
	snprintf(cmd, sizeof(cmd), "weft_gen_trace -n %lld -t %lld -p %lld", g->spans, g->threads,
		 g->processes);
	const char *meta[][2] = {
	    {"schema_version", "1"},  {"command", cmd},	     {"host", "synthetic"},
	    {"kernel", "synthetic"},  {"start_ts", start_s}, {"end_ts", end_s},
	    {"capture_mode", "perf"}, {"events_lost", "0"},  {"threads_lost", "0"},
	    {"status", g->status},    {"exit_status", "0"},
	};
	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		sqlite3_bind_text(ins_meta, 1, meta[i][0], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_meta, 2, meta[i][1], -1, SQLITE_STATIC);
		run(ins_meta);
	}
	sqlite3_finalize(ins_meta);
}

int main(int argc, char **argv)
{
	struct gen g;
	int rc = parse_args(argc, argv, &g);
	if (rc >= 0)
		return rc;
	if (g.summary && !(overview = overview_new(0))) {
		fprintf(stderr, "weft_gen_trace: out of memory\n");
		return 1;
	}
	unlink(g.out);
	if (sqlite3_open(g.out, &db) != SQLITE_OK)
		die(g.out);
	exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;");
	exec(weft_embed__001_schema_sql);
	exec("BEGIN");
	write_objects(g.processes);
	ins_state = prep("INSERT INTO thread_state(utid, ts, dur, state, reason, object_id, cpu, "
			 "waker_utid, holder_utid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	ins_flow =
	    prep("INSERT INTO flow(ts_out, utid_out, ts_in, utid_in, kind, object_id, bytes) "
		 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	ins_slice = prep("INSERT INTO sched_slice(cpu, ts, dur, utid, end_state) "
			 "VALUES (?1, ?2, ?3, ?4, ?5)");
	ins_pstate =
	    prep("INSERT INTO process_state(upid, ts, dur, state) VALUES (?1, ?2, ?3, ?4)");
	int64_t *thread_end = calloc((size_t)g.threads + 1, sizeof(int64_t));
	if (!thread_end) {
		fprintf(stderr, "weft_gen_trace: out of memory\n");
		return 1;
	}
	int64_t trace_end = write_threads(&g, thread_end);
	write_processes(&g, thread_end);
	write_meta(&g, trace_end);
	sqlite3_finalize(ins_state);
	sqlite3_finalize(ins_flow);
	sqlite3_finalize(ins_slice);
	sqlite3_finalize(ins_pstate);
	if (overview && overview_write(overview, db) < 0)
		die("track_overview");
	overview_free(overview);
	exec("COMMIT");
	if (g.indexes)
		exec(weft_embed__001_indexes_sql);
	exec("PRAGMA journal_mode = WAL");
	free(thread_end);
	if (sqlite3_close(db) != SQLITE_OK)
		die("close");
	return 0;
}
