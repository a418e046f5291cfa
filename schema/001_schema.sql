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
--     start_ts, end_ts bounds of the recording (ns, CLOCK_MONOTONIC)
--     capture_mode     where Running/Ready/Blocked come from:
--                      'perf' (context-switch records), 'schedstat'
--                      (sampled /proc run_delay) or 'calls' (interposed
--                      blocking calls only)
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
--   name         the image's short name (comm)
--   cmdline      argv joined with spaces
--   start_ts     fork/clone call in the parent, else the first event seen
--   end_ts       the moment the process ended
--   exit_code    exit status when it exited normally, else NULL
--   exit_signal  the signal number that killed it, else NULL
--   traced       1 if weft's library ran inside it (0: static binary or
--                killed before start-up; only its life cycle is known)
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

-- thread: one row per thread.
--   utid         weft's thread id
--   tid          kernel id
--   upid         the process it belongs to
--   name         the thread's name (comm, or pthread_setname_np)
--   start_ts     pthread_create call (main thread: the process's start)
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
--               'join' 'sleep' 'io' 'poll' 'wait' 'futex' 'other';
--               NULL otherwise
--   object_id   what it waited on (object.object_id), when known
--   cpu         the CPU it ran on (Running spans with perf data), else NULL
--   waker_utid  the thread whose action ended this span, when known
--   holder_utid for Blocked on a lock: the thread that held it when the
--               wait began (glibc's mutex owner), when known
CREATE TABLE thread_state (
    utid       INTEGER NOT NULL REFERENCES thread(utid),
    ts         INTEGER NOT NULL,
    dur        INTEGER NOT NULL,
    state      TEXT NOT NULL,
    reason     TEXT,
    object_id  INTEGER REFERENCES object(object_id),
    cpu        INTEGER,
    waker_utid INTEGER REFERENCES thread(utid),
    holder_utid INTEGER REFERENCES thread(utid)
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
--            'thread' 'process'
--   upid     owning process (NULL for objects shared between processes)
--   address  the object's address in its process, or the inode for
--            pipes and sockets, or the fd number for kind 'fd'
--   label    readable name: 'mutex 0x7f..', 'pipe:[12345]', 'fd 3'
CREATE TABLE object (
    object_id INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,
    upid      INTEGER REFERENCES process(upid),
    address   INTEGER,
    label     TEXT
);

-- flow: an edge from one thread's action to another thread's wake-up or
-- start: unlock -> acquire, signal -> wake, sem_post -> sem_wait,
-- pthread_create -> first run, exit -> join, fork -> child start,
-- child exit -> waitpid, write -> read (bytes), send -> recv (bytes).
--   kind    'unlock' 'signal' 'post' 'barrier' 'create' 'join' 'fork'
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
-- threads waited.
CREATE VIEW lock_contention AS
SELECT o.object_id, o.kind, o.label, o.upid,
       COUNT(*) AS waits, SUM(s.dur) AS total_wait, MAX(s.dur) AS max_wait,
       COUNT(DISTINCT s.utid) AS waiting_threads
FROM thread_state s
JOIN object o USING (object_id)
WHERE s.state = 'Blocked'
  AND o.kind IN ('mutex', 'rwlock', 'sem', 'cond', 'barrier')
GROUP BY o.object_id;

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

-- Indexes for the questions the daemon asks (spans of a thread in a time
-- window). The recorder may create them only when it finishes, to keep
-- inserts fast; readers must cope with their absence on a trace still
-- being written.
