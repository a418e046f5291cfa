/*
 * names.h — the one table of the trace's state, reason and track-kind
 * names: what thread_state.state, process_state.state, sched_slice's
 * end_state and thread_state.reason hold (schema/001_schema.sql,
 * DESIGN.md "States"), in the order everything that numbers them uses:
 * the stored track overview (overview.h), weftd's API ("states" and
 * "reasons" of /api/traces/{id}, which the dashboard reads instead of a
 * list of its own) and the recorder (span.h's states and event.h's
 * reasons are numbered one past these, 0 meaning none).
 *
 * Renaming or reordering an entry changes the trace format and the API:
 * it takes a schema version bump.
 */
#ifndef WEFT_NAMES_H
#define WEFT_NAMES_H

#define NAMES_STATE_COUNT 7
#define NAMES_REASON_COUNT 13
#define NAMES_KIND_COUNT 3

/* "New" "Running" "Ready" "Blocked" "Waiting" "Suspended" "Terminated". */
extern const char *const names_states[NAMES_STATE_COUNT];
/* "mutex" "rwlock" "cond" "sem" "barrier" "join" "sleep" "io" "poll"
 * "wait" "futex" "other" "signal". */
extern const char *const names_reasons[NAMES_REASON_COUNT];
/* "thread" "process" "cpu": the kinds of tracks (track_overview.kind). */
extern const char *const names_kinds[NAMES_KIND_COUNT];

/* Index of name in the tables above; -1 if NULL or unknown. */
int names_state_index(const char *name);
int names_reason_index(const char *name);
int names_kind_index(const char *name);

#endif
