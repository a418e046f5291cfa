-- weft trace schema, version 1.
--
-- A weft trace is one SQLite file. This file creates every table and view of
-- schema version 1; PRAGMA user_version holds the version. Names here are a
-- public contract: users' SQL depends on them. Add freely; rename nothing
-- without a new numbered file that migrates.
--
-- Conventions
--   * Timestamps (*_ts, ts) are int64 nanoseconds of CLOCK_MONOTONIC, the
--     same clock as clock_gettime(CLOCK_MONOTONIC) and perf's records.
--   * Durations (dur) are int64 nanoseconds.
--   * upid / utid are weft's own ids, unique within the trace; pid / tid are
--     the kernel's and may be reused by the kernel during a long recording.
--   * NULL means "not known" (for example the exit code of a process whose
--     end nobody observed), never zero.

PRAGMA user_version = 1;

-- meta: one row per fact about the recording.
--   Keys written by the recorder:
--     schema_version   '1'
--     command          the recorded command line, shell-quoted
--     host, kernel     uname nodename and release
--     trace_id         '<host>-<16 hex digits>' (64 random bits): names the
--                      trace among many hosts' (schema/clickhouse.sql)
--     user, uid        who recorded (effective uid, its passwd name)
--     start_wall_ns    CLOCK_REALTIME at start_ts, ns since the Unix epoch:
--                      ts happened at wall time start_wall_ns + (ts - start_ts)
--     start_ts, end_ts bounds of the recording (ns, CLOCK_MONOTONIC)
--     capture_mode     where Running/Ready/Blocked come from:
--                      'perf' (context-switch records), 'schedstat'
--                      (sampled /proc run_delay) or 'calls' (interposed
--                      blocking calls only)
--     sched_fallback_reason  why perf was not used, when capture_mode is
--                      'schedstat' ('perf_event_open: Permission denied
--                      (perf_event_paranoid 3)', 'forced with
--                      --sched=schedstat', attach mode)
--     sched_events_lost  context switches perf dropped ('perf' only)
--     events           events the recorder took from the rings (the
--                      threads' records, not the kernel's switches)
--     events_lost      events dropped because a ring was full
--     threads_lost     threads that found no free ring (their events lost)
--     status           'recording' while the recorder writes, then
--                      'complete', or 'interrupted' if it stopped early
--     exit_status      the workload's exit status as a shell reports it
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);

-- process: one row per process incarnation (a pid from fork/clone to its
-- end). An exec keeps the row (same pid, same upid) and updates name and
-- cmdline to the new image.
--   upid         weft's process id
--   pid, ppid    kernel ids; ppid is the parent at the process's start
--   parent_upid  the parent's upid when the parent is in the trace
--   name         the image's short name (comm); for a process that
--                retitled itself, its last title (see process_title)
--   cmdline      argv joined with spaces, as ps shows it at the end of the
--                process's life
--   start_ts     fork/clone call in the parent, else the first event seen
--   end_ts       the moment the process ended
--   exit_code    exit status when it exited normally, else NULL
--   exit_signal  the signal number that killed it, else NULL
--   traced       1 if weft's library ran inside it (0: static binary or
--                killed before start-up: its calls are unknown; its threads
--                and their scheduling come from the kernel's records when
--                meta.capture_mode is 'perf', else only its life cycle)
CREATE TABLE process (
    upid        INTEGER PRIMARY KEY,
    pid         INTEGER NOT NULL,
    ppid        INTEGER,
    parent_upid INTEGER REFERENCES process(upid),
    name        TEXT,
    cmdline     TEXT,
    start_ts    INTEGER,
    end_ts      INTEGER,
    exit_code   INTEGER,
    exit_signal INTEGER,
    traced      INTEGER NOT NULL DEFAULT 1
);

-- process_title: each time a process was retitled, as ps would have shown
-- it: by prctl(PR_SET_NAME) on its main thread (name), or, for a child
-- forked without exec, by overwriting its argv area as setproctitle does
-- (PostgreSQL's "postgres: checkpointer", nginx's "nginx: worker
-- process"), seen when that child ends (ts: then). process.name and
-- process.cmdline hold the last row's values.
CREATE TABLE process_title (
    upid    INTEGER NOT NULL REFERENCES process(upid),
    ts      INTEGER NOT NULL,
    name    TEXT,
    cmdline TEXT
);

-- thread: one row per thread.
--   utid         weft's thread id
--   tid          kernel id
--   upid         the process it belongs to
--   name         the thread's name (comm, or pthread_setname_np)
--   start_ts     pthread_create call, or the clone() the kernel reports
--                for a thread made otherwise (main thread: the process's
--                start)
--   end_ts       the thread's exit (or its process's end)
--   is_main      1 for the thread whose tid equals the pid
--   sched_source where this thread's Running/Ready/Blocked came from:
--                'perf', 'schedstat' or 'calls' (see meta.capture_mode)
CREATE TABLE thread (
    utid         INTEGER PRIMARY KEY,
    tid          INTEGER NOT NULL,
    upid         INTEGER NOT NULL REFERENCES process(upid),
    name         TEXT,
    start_ts     INTEGER,
    end_ts       INTEGER,
    is_main      INTEGER NOT NULL DEFAULT 0,
    sched_source TEXT
);

-- thread_state: what a thread was doing. The spans of one thread tile
-- [thread.start_ts, thread.end_ts) with no gaps and no overlaps. A thread
-- is Terminated from its end_ts on; no span is written for that.
--   state       'New' | 'Running' | 'Ready' | 'Blocked'
--   reason      for Blocked: 'mutex' 'rwlock' 'cond' 'sem' 'barrier'
--               'join' 'sleep' 'io' 'poll' 'wait' 'futex' 'other'
--               'signal' (sigsuspend, sigwaitinfo, sigtimedwait, pause);
--               NULL otherwise
--   object_id   what it waited on (object.object_id), when known
--   cpu         the CPU it ran on (Running spans with perf data), else NULL
--   waker_utid  the thread whose action ended this span, when known
--   holder_utid for Blocked on a lock: the thread that held it when the
--               wait began (glibc's mutex owner), when known
--   callsite_id for Blocked in an interposed call: the innermost callsite
--               (stack_callsite) of the wait's stack, or of its call site
--               alone with --stacks=callsite; NULL when unknown
--   waker_callsite_id  the innermost callsite of the call that ended the
--               wait (unlock, condition signal, sem_post), when known
CREATE TABLE thread_state (
    utid       INTEGER NOT NULL REFERENCES thread(utid),
    ts         INTEGER NOT NULL,
    dur        INTEGER NOT NULL,
    state      TEXT NOT NULL,
    reason     TEXT,
    object_id  INTEGER REFERENCES object(object_id),
    cpu        INTEGER,
    waker_utid INTEGER REFERENCES thread(utid),
    holder_utid INTEGER REFERENCES thread(utid),
    callsite_id INTEGER REFERENCES stack_callsite(callsite_id),
    waker_callsite_id INTEGER REFERENCES stack_callsite(callsite_id)
);

-- process_state: the same for processes, derived from their threads:
--   'New'        fork/clone until the child's first event
--   'Running'    at least one thread Running
--   'Ready'      some thread Ready, none Running
--   'Waiting'    every live thread Blocked
--   'Suspended'  stopped by SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU until SIGCONT
-- Spans tile [process.start_ts, process.end_ts).
CREATE TABLE process_state (
    upid  INTEGER NOT NULL REFERENCES process(upid),
    ts    INTEGER NOT NULL,
    dur   INTEGER NOT NULL,
    state TEXT NOT NULL
);

-- sched_slice: what ran on each CPU (the time-slicing view).
--   end_state   how the slice ended: 'Ready' (preempted) or 'Blocked'
--               (switched out voluntarily) or 'Terminated'
CREATE TABLE sched_slice (
    cpu       INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    dur       INTEGER NOT NULL,
    utid      INTEGER NOT NULL REFERENCES thread(utid),
    end_state TEXT
);

-- object: things threads wait on or talk through.
--   kind     'mutex' 'rwlock' 'cond' 'sem' 'barrier' 'fd' 'pipe' 'socket'
--            'thread' 'process' 'epoll'
--   upid     owning process (NULL for objects shared between processes)
--   address  the object's address in its process, or the inode for
--            pipes and sockets, or the fd number for kinds 'fd' and
--            'epoll' (an epoll instance, by its fd in its process)
--   label    readable name: 'mutex 0x7f..', 'pipe:[12345]', 'fd 3'; a lock
--            in a module's .data/.bss: its symbol name ('queue_lock')
--   callsite_id  where it was first waited on (innermost callsite), or NULL
CREATE TABLE object (
    object_id INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,
    upid      INTEGER REFERENCES process(upid),
    address   INTEGER,
    label     TEXT,
    callsite_id INTEGER
);

-- Stacks (weft record --stacks=full|callsite|none; meta 'stacks' says
-- which, 'stacks_truncated' how many distinct stacks were cut at 32
-- frames, 'stacks_symbolize_ns' how long naming the frames took when the
-- recording ended). As Perfetto's stack_profile_* tables.
-- stack_module: every object loaded in a process (main program, shared
-- libraries, dlopen'ed libraries), with its load range there.
CREATE TABLE stack_module (
    module_id INTEGER PRIMARY KEY,
    upid      INTEGER REFERENCES process(upid),
    path      TEXT NOT NULL,
    build_id  TEXT,                  -- hex of NT_GNU_BUILD_ID, NULL when none
    start     INTEGER NOT NULL,      -- load address range in that process
    end       INTEGER NOT NULL,
    ts        INTEGER                -- when it was seen loaded
);
-- stack_frame: a return address in a module. function, file and line are
-- filled when the recording ends (symbol table, DWARF); NULL when not
-- known: show the module's path + rel_pc.
CREATE TABLE stack_frame (
    frame_id  INTEGER PRIMARY KEY,
    module_id INTEGER REFERENCES stack_module(module_id),  -- NULL: unknown module
    rel_pc    INTEGER NOT NULL,      -- pc relative to the module's load bias
    function  TEXT,                  -- NULL when no symbol is known
    file      TEXT,                  -- from DWARF, NULL when unknown
    line      INTEGER
);
-- stack_callsite: stacks as a prefix tree. A stack is named by its
-- innermost node; walk parent_id to the outermost. A stack cut at 32
-- frames has as outermost node the frame '[truncated]' (module NULL).
CREATE TABLE stack_callsite (
    callsite_id INTEGER PRIMARY KEY,
    parent_id   INTEGER REFERENCES stack_callsite(callsite_id), -- NULL: outermost
    frame_id    INTEGER NOT NULL REFERENCES stack_frame(frame_id),
    depth       INTEGER NOT NULL     -- 0 = outermost frame
);

-- epoll_watch: what an epoll instance watches, as epoll_ctl changed it
-- (EPOLL_CTL_ADD and _DEL; a watched fd that is closed leaves without a
-- 'del' row, as the kernel drops it).
--   object_id          the epoll object (object.kind 'epoll')
--   ts                 when epoll_ctl returned
--   op                 'add' or 'del'
--   fd                 the fd added or removed, in the epoll's process
--   watched_object_id  the fd's object: its socket connection, pipe, or
--                      an object of kind 'fd' / 'socket' (NULL: not known)
-- A Blocked span of reason 'poll' names what it waits on in object_id:
-- the one fd of a poll/ppoll/select/pselect (its socket, pipe or fd
-- object), the epoll object of an epoll_wait/epoll_pwait, or NULL when
-- the call waited on several fds at once.
CREATE TABLE epoll_watch (
    object_id         INTEGER NOT NULL REFERENCES object(object_id),
    ts                INTEGER NOT NULL,
    op                TEXT NOT NULL,
    fd                INTEGER NOT NULL,
    watched_object_id INTEGER REFERENCES object(object_id)
);

-- poll_ready: which fd a readiness wait (poll, ppoll, select, pselect,
-- epoll_wait, epoll_pwait) returned ready, one row per recorded wait that
-- returned at least one. The wait's Blocked span(s) are the thread's
-- thread_state rows of reason 'poll' that end at or before ts (the
-- call's return) and begin after the thread's previous Running span.
--   utid       the thread that waited
--   ts         when the call returned
--   object_id  the object of the first fd reported ready (for epoll: the
--              fd added with the data word of the first event returned;
--              NULL when not known)
--   ready      the call's result: how many fds (poll, epoll) or bits
--              (select) are ready
CREATE TABLE poll_ready (
    utid      INTEGER NOT NULL REFERENCES thread(utid),
    ts        INTEGER NOT NULL,
    object_id INTEGER REFERENCES object(object_id),
    ready     INTEGER NOT NULL
);

-- flow: an edge from one thread's action to another thread's wake-up or
-- start: unlock -> acquire, signal -> wake, sem_post -> sem_wait,
-- pthread_create -> first run, exit -> join, fork -> child start,
-- FUTEX_WAKE -> the raw futex wait it ended (a runtime's own locks),
-- child exit -> waitpid, write -> read (bytes), send -> recv (bytes).
--   kind    'unlock' 'signal' 'post' 'barrier' 'futex' 'create' 'join' 'fork'
--           'waitpid' 'pipe' 'socket'
CREATE TABLE flow (
    ts_out    INTEGER NOT NULL,
    utid_out  INTEGER NOT NULL REFERENCES thread(utid),
    ts_in     INTEGER NOT NULL,
    utid_in   INTEGER NOT NULL REFERENCES thread(utid),
    kind      TEXT NOT NULL,
    object_id INTEGER REFERENCES object(object_id),
    bytes     INTEGER
);

-- critical_path: the chain of work and waits that set the wall time of the
-- recorded command (its root process, from start to end), found by walking
-- back from the end: a Running, Ready or New stretch stays on its thread, a
-- Blocked one jumps to the thread whose action ended it (the flow into the
-- span: unlock, signal, post, pipe or socket write, child exit, thread
-- exit; else waker_utid; else the lock's holder) at the time of that action,
-- and the start of a thread jumps to its creator. The segments tile
-- [process.start_ts, process.end_ts) of the root: SUM(dur) is its wall time.
-- Written when the recording ends (`weft report` computes it for traces
-- that lack it).
--   seq        0, 1, ... in time order
--   utid       the thread the path is on
--   state      its state then ('Running', 'Ready', 'New', 'Blocked'); NULL
--              where the trace knows nothing (before a thread whose creator
--              is unknown)
--   reason, object_id   of a Blocked stretch
--   via_object_id  the object whose wait led the path to this thread: the
--              lock this thread held (it released it to the waiter), the
--              pipe it wrote, the thread or process whose end was awaited;
--              NULL when the path came here otherwise
--   edge       how this stretch ended a wait of the path's next thread
--              (a flow kind, 'waker' or 'holder'); NULL when the path stays
--              on this thread
--   next_utid  that next thread
CREATE TABLE critical_path (
    seq       INTEGER PRIMARY KEY,
    utid      INTEGER NOT NULL REFERENCES thread(utid),
    ts        INTEGER NOT NULL,
    dur       INTEGER NOT NULL,
    state     TEXT,
    reason    TEXT,
    object_id INTEGER REFERENCES object(object_id),
    via_object_id INTEGER REFERENCES object(object_id),
    edge      TEXT,
    next_utid INTEGER REFERENCES thread(utid)
);

-- critical_path_time: critical-path time by thread, state and reason (ns).
-- Ready on the path is the "not enough CPUs" signal; Blocked on a lock on
-- the path is the contention that set the wall time.
CREATE VIEW critical_path_time AS
SELECT c.utid, t.tid, t.name AS thread_name, p.upid, p.pid,
       p.name AS process_name, c.state, c.reason,
       COUNT(*) AS segments, SUM(c.dur) AS total_dur
FROM critical_path c
JOIN thread t USING (utid)
JOIN process p ON p.upid = t.upid
GROUP BY c.utid, c.state, c.reason;

-- critical_path_object: critical-path time charged to each object (ns):
-- blocked_dur waiting on it, held_dur on the threads its waits led to (the
-- holder's hold, the writer's work), total_dur both.
CREATE VIEW critical_path_object AS
SELECT o.object_id, o.kind, o.label,
       SUM(CASE WHEN c.object_id = o.object_id THEN c.dur ELSE 0 END) AS blocked_dur,
       SUM(CASE WHEN c.object_id = o.object_id THEN 0 ELSE c.dur END) AS held_dur,
       SUM(c.dur) AS total_dur
FROM critical_path c
JOIN object o ON o.object_id = COALESCE(c.object_id, c.via_object_id)
GROUP BY o.object_id;

-- thread_state_time: time in each state per thread (ns), one row per
-- (thread, state, reason).
CREATE VIEW thread_state_time AS
SELECT t.utid, t.tid, t.name AS thread_name, p.upid, p.pid,
       p.name AS process_name, s.state, s.reason,
       COUNT(*) AS spans, SUM(s.dur) AS total_dur
FROM thread_state s
JOIN thread t USING (utid)
JOIN process p ON p.upid = t.upid
GROUP BY s.utid, s.state, s.reason;

-- process_state_time: time in each state per process (ns).
CREATE VIEW process_state_time AS
SELECT p.upid, p.pid, p.name AS process_name, s.state,
       COUNT(*) AS spans, SUM(s.dur) AS total_dur
FROM process_state s
JOIN process p USING (upid)
GROUP BY s.upid, s.state;

-- lock_contention: per object that somebody blocked on (mutex, rwlock,
-- sem, cond, barrier): how many waits, total and longest wait, how many
-- threads waited, and who: waiters names the threads that waited, holders
-- the threads that held the lock when a wait began (mutex and rwlock
-- writers; NULL when never known), each a comma-separated list of thread
-- names (the tid when a thread has no name), most waited-for first.
-- lock_holders has the numbers per (object, holder). One pass over the
-- Blocked spans (`per`, materialized): as fast as counting alone when
-- few threads share a lock.
CREATE VIEW lock_contention AS
WITH per AS MATERIALIZED (
  SELECT s.object_id, s.utid, s.holder_utid, COUNT(*) AS n, SUM(s.dur) AS total,
         MAX(s.dur) AS longest
  FROM thread_state s JOIN object o USING (object_id)
  WHERE s.state = 'Blocked'
    AND o.kind IN ('mutex', 'rwlock', 'sem', 'cond', 'barrier')
  GROUP BY s.object_id, s.utid, s.holder_utid)
SELECT o.object_id, o.kind, o.label, o.upid, c.waits, c.total_wait, c.max_wait,
       c.waiting_threads, w.waiters, h.holders
FROM (SELECT object_id, SUM(n) AS waits, SUM(total) AS total_wait, MAX(longest) AS max_wait,
             COUNT(DISTINCT utid) AS waiting_threads
      FROM per GROUP BY object_id) c
JOIN object o USING (object_id)
LEFT JOIN (SELECT object_id, group_concat(who, ', ') AS waiters
           FROM (SELECT p.object_id, COALESCE(t.name, t.tid) AS who
                 FROM per p JOIN thread t ON t.utid = p.utid
                 GROUP BY p.object_id, p.utid
                 ORDER BY p.object_id, SUM(p.total) DESC, p.utid)
           GROUP BY object_id) w USING (object_id)
LEFT JOIN (SELECT object_id, group_concat(who, ', ') AS holders
           FROM (SELECT p.object_id, COALESCE(t.name, t.tid) AS who
                 FROM per p JOIN thread t ON t.utid = p.holder_utid
                 GROUP BY p.object_id, p.holder_utid
                 ORDER BY p.object_id, SUM(p.total) DESC, p.holder_utid)
           GROUP BY object_id) h USING (object_id);

-- lock_holders: per lock and the thread that held it while others waited
-- (thread_state.holder_utid): how many waits it caused, their total and
-- longest duration, and how many threads waited for it.
CREATE VIEW lock_holders AS
SELECT o.object_id, o.kind, o.label, s.holder_utid,
       h.tid AS holder_tid, h.name AS holder_name,
       COUNT(*) AS waits, SUM(s.dur) AS total_wait, MAX(s.dur) AS max_wait,
       COUNT(DISTINCT s.utid) AS waiting_threads
FROM thread_state s
JOIN object o USING (object_id)
JOIN thread h ON h.utid = s.holder_utid
WHERE s.state = 'Blocked'
GROUP BY o.object_id, s.holder_utid;

-- deadlock: a cycle in the wait-for graph: each thread of the cycle waits
-- for a lock (mutex, rwlock) held by the next, the last by the first, so
-- none can go on. Holders are the trace's own: the lock's owner when a
-- wait began, then whoever the records show taking or releasing it, in
-- timestamp order. The recorder keeps the waits in progress in memory and
-- writes the row, and commits, once the cycle has stood 10 ms with none of
-- its waits over (a release and the next acquisition can take that long
-- to show in their records): a program stuck in a deadlock shows it while
-- it is still stuck.
--   deadlock_id  1, 2, ... in the order they were found
--   ts           when the wait that closed the cycle began
--   end_ts       when the first wait of the cycle ended (a timed lock gave
--                up, the thread or process ended); NULL while it holds
--   utids        the threads of the cycle, comma-separated, cycle order
--   object_ids   what each waits for, same order: thread i waits for
--                object i, which thread i+1 (the first, for the last) holds
CREATE TABLE deadlock (
    deadlock_id INTEGER PRIMARY KEY,
    ts          INTEGER NOT NULL,
    end_ts      INTEGER,
    utids       TEXT NOT NULL,
    object_ids  TEXT NOT NULL
);

-- deadlock_member: the same cycle, one row per thread (position 0, 1, ...
-- in cycle order): utid waits since wait_ts for object_id, held by
-- holder_utid.
CREATE TABLE deadlock_member (
    deadlock_id INTEGER NOT NULL REFERENCES deadlock(deadlock_id),
    position    INTEGER NOT NULL,
    utid        INTEGER NOT NULL REFERENCES thread(utid),
    object_id   INTEGER REFERENCES object(object_id),
    holder_utid INTEGER REFERENCES thread(utid),
    wait_ts     INTEGER NOT NULL
);

-- wait_now: the threads inside a blocking call right now, while the trace
-- is being recorded: the recorder rewrites the table at each commit (about
-- every 150 ms, as of the records it has sorted, which lag ~50 ms). Empty
-- once the recording is over. For "why is my program stuck?" with
-- `weft query` on a live trace.
--   utid         the waiting thread, since ts
--   reason       as thread_state.reason
--   object_id    what it waits on, when known
--   holder_utid  the lock's holder now (as of the records), when known
CREATE TABLE wait_now (
    utid        INTEGER NOT NULL REFERENCES thread(utid),
    ts          INTEGER NOT NULL,
    reason      TEXT,
    object_id   INTEGER REFERENCES object(object_id),
    holder_utid INTEGER REFERENCES thread(utid)
);

-- deadlocks: each deadlock readably. threads and objects list thread names
-- (the tid when a thread has no name) and object labels in cycle order;
-- cycle reads 'alice -> mutex 0x.. -> bob -> mutex 0x.. -> alice'.
-- dur is NULL while the deadlock holds.
CREATE VIEW deadlocks AS
SELECT d.deadlock_id, d.ts, d.end_ts, d.end_ts - d.ts AS dur,
       (SELECT COUNT(*) FROM deadlock_member m
        WHERE m.deadlock_id = d.deadlock_id) AS thread_count,
       (SELECT group_concat(who, ', ') FROM
          (SELECT COALESCE(t.name, t.tid) AS who FROM deadlock_member m
           JOIN thread t ON t.utid = m.utid
           WHERE m.deadlock_id = d.deadlock_id ORDER BY m.position)) AS threads,
       (SELECT group_concat(what, ', ') FROM
          (SELECT COALESCE(o.label, 'object ' || m.object_id) AS what
           FROM deadlock_member m LEFT JOIN object o ON o.object_id = m.object_id
           WHERE m.deadlock_id = d.deadlock_id ORDER BY m.position)) AS objects,
       (SELECT group_concat(step, ' -> ') FROM
          (SELECT COALESCE(t.name, t.tid) || ' -> ' ||
                  COALESCE(o.label, 'object ' || m.object_id) AS step
           FROM deadlock_member m
           JOIN thread t ON t.utid = m.utid
           LEFT JOIN object o ON o.object_id = m.object_id
           WHERE m.deadlock_id = d.deadlock_id ORDER BY m.position))
       || ' -> ' ||
       (SELECT COALESCE(t.name, t.tid) FROM deadlock_member m
        JOIN thread t ON t.utid = m.utid
        WHERE m.deadlock_id = d.deadlock_id AND m.position = 0) AS cycle
FROM deadlock d;

-- track_overview: a coarse summary of each track (one thread's, one
-- process's or one CPU's spans), written by the recorder when it finishes
-- a trace, so that a reader (weftd) can draw the zoomed-out timeline at
-- once instead of first reading every span. Added to version 1 later: a
-- trace written before it, or whose recorder never finished, lacks the
-- table or its rows, and readers must cope (weftd then reads the spans
-- first, as it always did). Derived data: it never disagrees with the
-- span tables, only says less.
--   kind          'thread' (id = utid), 'process' (upid) or 'cpu' (cpu)
--   start_ts      the start of the track's first span
--   end_ts        the latest end of its spans
--   spans         its rows in thread_state, process_state or sched_slice
--   bucket_ns     the width of its buckets, a power of two; bucket k of
--                 the blob covers [(first_bucket + k) * bucket_ns, + bucket_ns)
--   buckets       bucket_count buckets covering [start_ts, end_ts), each
--                 with the time per state of the spans shorter than a bucket
--   long_spans    the spans of a bucket or longer, whole
-- The blobs' byte layout is in tracer/collector/overview.c. They number
-- states New=0 Running=1 Ready=2 Blocked=3 Waiting=4 Suspended=5
-- Terminated=6 and reasons mutex=0 rwlock=1 cond=2 sem=3 barrier=4 join=5
-- sleep=6 io=7 poll=8 wait=9 futex=10 other=11 signal=12 (weftd's API numbers them
-- alike); a CPU's "state" is its slices' end_state, "object" the utid.
-- At most 4096 buckets a track: zoomed in further, readers need the spans.
CREATE TABLE track_overview (
    kind         TEXT NOT NULL,
    id           INTEGER NOT NULL,
    start_ts     INTEGER NOT NULL,
    end_ts       INTEGER NOT NULL,
    spans        INTEGER NOT NULL,
    bucket_ns    INTEGER NOT NULL,
    first_bucket INTEGER NOT NULL,
    bucket_count INTEGER NOT NULL,
    buckets      BLOB NOT NULL,
    long_spans   BLOB NOT NULL,
    PRIMARY KEY (kind, id)
);

-- message_traffic: per channel, bytes and messages that flowed through it.
CREATE VIEW message_traffic AS
SELECT o.object_id, o.kind, o.label,
       COUNT(*) AS messages, SUM(f.bytes) AS bytes,
       COUNT(DISTINCT f.utid_out) AS writers,
       COUNT(DISTINCT f.utid_in) AS readers
FROM flow f
JOIN object o USING (object_id)
WHERE f.kind IN ('pipe', 'socket')
GROUP BY o.object_id;

-- lock_order_edge: lock to_object_id was taken, by a call that could block
-- (not a trylock), while from_object_id was held: an order in which the
-- program takes locks. One row per (from, to) pair and thread the first
-- time that thread shows it (at most 4 threads a pair), with what else it
-- held. Recorded even when nothing waited: lock orders are how deadlocks
-- are found before they happen.
--   from_object_id, to_object_id  mutexes or rwlocks (object kind)
--   utid, ts      the thread and the moment it took to_object_id
--   from_mode, to_mode  'write' (a mutex, or a rwlock for writing) or
--                 'read' (a rwlock for reading)
--   held_object_ids  the other locks it held then, comma-separated, or
--                 NULL: a lock all the threads of a cycle held (a gate)
--                 serializes their orders, so no inversion is reported
CREATE TABLE lock_order_edge (
    from_object_id  INTEGER NOT NULL REFERENCES object(object_id),
    to_object_id    INTEGER NOT NULL REFERENCES object(object_id),
    utid            INTEGER NOT NULL REFERENCES thread(utid),
    ts              INTEGER NOT NULL,
    from_mode       TEXT NOT NULL,
    to_mode         TEXT NOT NULL,
    held_object_ids TEXT
);

-- lock_order_cycle: a cycle of lock orders (an inversion): lock 0 was held
-- while lock 1 was taken, lock 1 while lock 2, ..., the last while lock 0.
-- Threads taking them at once in those orders could deadlock, though this
-- run did not. One row per member (position 0, 1, ... in cycle order):
-- object_id is held while utid takes the next at ts (the lock_order_edge
-- row). Not reported: cycles whose threads all held one more lock in
-- common (a gate), cycles of read locks that cannot block each other
-- (each member must wait for a holder in a conflicting mode). One thread
-- taking A then B and later B then A is a cycle too. Each distinct cycle
-- (the same locks in the same order) once.
CREATE TABLE lock_order_cycle (
    cycle_id  INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    object_id INTEGER NOT NULL REFERENCES object(object_id),
    utid      INTEGER NOT NULL REFERENCES thread(utid),
    ts        INTEGER NOT NULL,
    PRIMARY KEY (cycle_id, position)
);

-- lock_order_inversions: each cycle readably: its length, its threads and
-- its locks in cycle order ('mutex 0x.. -> mutex 0x.. -> mutex 0x..' back
-- to the first), and when it was first complete.
CREATE VIEW lock_order_inversions AS
SELECT c.cycle_id, COUNT(*) AS lock_count,
       COUNT(DISTINCT c.utid) AS thread_count,
       MAX(c.ts) AS ts,
       (SELECT group_concat(who, ', ') FROM
          (SELECT DISTINCT COALESCE(t.name, t.tid) AS who FROM lock_order_cycle m
           JOIN thread t ON t.utid = m.utid
           WHERE m.cycle_id = c.cycle_id ORDER BY m.position)) AS threads,
       (SELECT group_concat(what, ' -> ') FROM
          (SELECT COALESCE(o.label, 'object ' || m.object_id) AS what
           FROM lock_order_cycle m LEFT JOIN object o ON o.object_id = m.object_id
           WHERE m.cycle_id = c.cycle_id ORDER BY m.position)) AS cycle
FROM lock_order_cycle c
GROUP BY c.cycle_id;

-- Indexes for the questions the daemon asks (spans of a thread in a time
-- window). The recorder may create them only when it finishes, to keep
-- inserts fast; readers must cope with their absence on a trace still
-- being written.

-- blocked_by_callsite: Blocked time by the stack it was spent in.
--   waits       Blocked spans there (a wait cut by scheduler records counts
--               once per span)
CREATE VIEW blocked_by_callsite AS
SELECT callsite_id, COUNT(*) AS waits, SUM(dur) AS blocked_ns
FROM thread_state
WHERE state = 'Blocked' AND callsite_id IS NOT NULL
GROUP BY callsite_id;
