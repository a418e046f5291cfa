/*
 * facts.h — the numbers `weft report` prints and `weft diff` compares, read
 * from one trace: wall and CPU time, the critical path's breakdown, waits
 * per object, time per thread and state, the deadlocks and lock-order
 * inversions found. Threads and objects carry a match
 * key that names them the same way in two runs of one command:
 *
 *   thread  "<process name>/<thread name>#<n>", n counting threads of that
 *           name by start time
 *   object  "<kind>#<n>", n counting objects of that kind by their first
 *           wait (addresses differ between runs; the order of first
 *           contention does not, for one program)
 */
#ifndef WEFT_FACTS_H
#define WEFT_FACTS_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct fact {
	char *key;   /* match key (see above), or the state for breakdowns */
	char *label; /* what a person reads: "worker-1 (pid 12)", "mutex 0x.." */
	int64_t ns;  /* time */
	int64_t count;
	int64_t id; /* utid (thread lists) or object_id (object lists) in this
		     * trace; -1 for states and failures */
};

struct fact_list {
	struct fact *items; /* sorted by ns, largest first */
	size_t count;
};

struct facts {
	char *command, *status, *exit_status, *capture_mode;
	int64_t wall_ns, cpu_ns;
	int64_t processes, threads;
	int64_t events_lost, threads_lost, deadlocks;
	struct fact_list path_state;	 /* key "Running", "Blocked mutex", ... */
	struct fact_list path_thread;	 /* key: thread match key */
	struct fact_list path_object;	 /* key: object match key; count: ns blocked on it */
	struct fact_list waits;		 /* all Blocked time per object, key as above */
	struct fact_list thread_time;	 /* key "<thread key> <state>[ <reason>]" */
	struct fact_list failures;	 /* processes that exited non-zero or by a signal */
	struct fact_list holders;	 /* lock_contention: key object key, label holders */
	int64_t inversions;		 /* distinct lock-order cycles (0: none, or no table) */
	struct fact_list deadlock_list;	 /* key "deadlock <id>", label its cycle, ns how long
					  * it held (-1: still at the end), count its threads;
					  * the first FACTS_MAX_CYCLES by time */
	struct fact_list inversion_list; /* key "inversion <id>", label its locks in cycle
					  * order and its threads, ns when it was complete,
					  * count its locks; the first FACTS_MAX_CYCLES */
};

#define FACTS_MAX_CYCLES 50

/* Reads the facts of the trace open on db (read-only is fine: a critical
 * path missing from the file is computed into a TEMP table).
 * Returns 0, or -ENOMEM, -ENOENT (no root process), -EIO with the SQLite
 * error in db. facts is filled on success and empty after a failure. */
int facts_load(sqlite3 *db, struct facts *facts);

void facts_free(struct facts *facts);

/* ns as a person reads it ("1.234 s", "12.5 ms", "830 us", "-4.0 ms"),
 * into out (32 bytes are always enough); returns out. */
char *facts_format_ns(char *out, size_t cap, int64_t ns);

/* The fact keyed key in list, or NULL. */
const struct fact *facts_find(const struct fact_list *list, const char *key);

#endif
