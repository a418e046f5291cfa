-- weft fleet schema for ClickHouse (tested with Debian 12's 18.16).
--
-- Every host keeps writing its SQLite trace (schema/001_schema.sql); a fleet
-- loads the traces into ClickHouse (scripts/weft-ship) and asks questions
-- across them (docs/FLEET.md). This file is the ClickHouse side of that
-- contract.
--
-- Layout
--   * Database `weft`. For each SQLite table T, a MergeTree table T_local
--     on every node holding its share of the rows, and a Distributed table
--     T over the cluster named `weft` (the nodes' <remote_servers>), which
--     is what queries and inserts use.
--   * Every row carries trace_id (meta trace_id of the trace it came from,
--     written by `weft record`): ids such as utid, upid and object_id are
--     unique only within one trace, so every join joins on trace_id too.
--   * Rows are spread over the shards by cityHash64(trace_id): all the
--     rows of one trace live on one shard.
--   * Local tables are ordered by (trace_id, thread or process, time).
--   * Columns keep SQLite's names and meanings; INTEGER is Int64 (times
--     stay int64 ns of the recording host's CLOCK_MONOTONIC: this release
--     has no DateTime64), TEXT is String; a column that may be NULL in
--     SQLite is Nullable here, so NULL ("not known") stays apart from 0.
--   * trace: one row per loaded trace, the fleet identity taken from its
--     meta, written last by the loader: a trace with a row here is loaded
--     completely. Wall time of a trace time ts, in ns since the epoch:
--     start_wall_ns + (ts - start_ts).
--
-- Deliberately left out (tests/integration/test_fleet.py checks that every
-- SQLite table and column is either here or listed on a line below):
-- left out: track_overview -- the dashboard's drawing cache (BLOBs), derived from thread_state
-- left out: epoll_watch -- per-trace detail of epoll waits (which fds an epoll instance watched); not yet shipped
-- left out: poll_ready -- per-trace detail of readiness waits (which fd a wait returned ready); not yet shipped
--
-- Apply on every node (no ON CLUSTER: that needs ZooKeeper), one statement
-- at a time: `scripts/weft-ship --create-schema --clickhouse URL` does it.

CREATE DATABASE IF NOT EXISTS weft;

CREATE TABLE IF NOT EXISTS weft.trace_local (
    trace_id      String,
    host          String,
    user          String,
    command       String,
    start_wall_ns Int64,
    start_ts      Int64,
    end_ts        Nullable(Int64),
    schema_version Int64
) ENGINE = MergeTree() ORDER BY (trace_id);

CREATE TABLE IF NOT EXISTS weft.meta_local (
    trace_id String,
    key      String,
    value    Nullable(String)
) ENGINE = MergeTree() ORDER BY (trace_id, key);

CREATE TABLE IF NOT EXISTS weft.process_local (
    trace_id    String,
    upid        Int64,
    pid         Int64,
    ppid        Nullable(Int64),
    parent_upid Nullable(Int64),
    name        Nullable(String),
    cmdline     Nullable(String),
    start_ts    Nullable(Int64),
    end_ts      Nullable(Int64),
    exit_code   Nullable(Int64),
    exit_signal Nullable(Int64),
    traced      Int64
) ENGINE = MergeTree() ORDER BY (trace_id, upid);

CREATE TABLE IF NOT EXISTS weft.process_title_local (
    trace_id String,
    upid     Int64,
    ts       Int64,
    name     Nullable(String),
    cmdline  Nullable(String)
) ENGINE = MergeTree() ORDER BY (trace_id, upid, ts);

CREATE TABLE IF NOT EXISTS weft.thread_local (
    trace_id     String,
    utid         Int64,
    tid          Int64,
    upid         Int64,
    name         Nullable(String),
    start_ts     Nullable(Int64),
    end_ts       Nullable(Int64),
    is_main      Int64,
    sched_source Nullable(String)
) ENGINE = MergeTree() ORDER BY (trace_id, utid);

CREATE TABLE IF NOT EXISTS weft.thread_state_local (
    trace_id    String,
    utid        Int64,
    ts          Int64,
    dur         Int64,
    state       String,
    reason      Nullable(String),
    object_id   Nullable(Int64),
    cpu         Nullable(Int64),
    waker_utid  Nullable(Int64),
    holder_utid Nullable(Int64),
    callsite_id Nullable(Int64),
    waker_callsite_id Nullable(Int64)
) ENGINE = MergeTree() ORDER BY (trace_id, utid, ts);

CREATE TABLE IF NOT EXISTS weft.process_state_local (
    trace_id String,
    upid     Int64,
    ts       Int64,
    dur      Int64,
    state    String
) ENGINE = MergeTree() ORDER BY (trace_id, upid, ts);

CREATE TABLE IF NOT EXISTS weft.sched_slice_local (
    trace_id  String,
    cpu       Int64,
    ts        Int64,
    dur       Int64,
    utid      Int64,
    end_state Nullable(String)
) ENGINE = MergeTree() ORDER BY (trace_id, utid, ts);

CREATE TABLE IF NOT EXISTS weft.object_local (
    trace_id  String,
    object_id Int64,
    kind      String,
    upid      Nullable(Int64),
    address   Nullable(Int64),
    label     Nullable(String),
    callsite_id Nullable(Int64)
) ENGINE = MergeTree() ORDER BY (trace_id, object_id);

CREATE TABLE IF NOT EXISTS weft.flow_local (
    trace_id  String,
    ts_out    Int64,
    utid_out  Int64,
    ts_in     Int64,
    utid_in   Int64,
    kind      String,
    object_id Nullable(Int64),
    bytes     Nullable(Int64)
) ENGINE = MergeTree() ORDER BY (trace_id, utid_in, ts_in);

CREATE TABLE IF NOT EXISTS weft.critical_path_local (
    trace_id      String,
    seq           Int64,
    utid          Int64,
    ts            Int64,
    dur           Int64,
    state         Nullable(String),
    reason        Nullable(String),
    object_id     Nullable(Int64),
    via_object_id Nullable(Int64),
    edge          Nullable(String),
    next_utid     Nullable(Int64)
) ENGINE = MergeTree() ORDER BY (trace_id, utid, ts);

CREATE TABLE IF NOT EXISTS weft.deadlock_local (
    trace_id    String,
    deadlock_id Int64,
    ts          Int64,
    end_ts      Nullable(Int64),
    utids       String,
    object_ids  String
) ENGINE = MergeTree() ORDER BY (trace_id, deadlock_id, ts);

CREATE TABLE IF NOT EXISTS weft.deadlock_member_local (
    trace_id    String,
    deadlock_id Int64,
    position    Int64,
    utid        Int64,
    object_id   Nullable(Int64),
    holder_utid Nullable(Int64),
    wait_ts     Int64
) ENGINE = MergeTree() ORDER BY (trace_id, utid, wait_ts);

CREATE TABLE IF NOT EXISTS weft.wait_now_local (
    trace_id    String,
    utid        Int64,
    ts          Int64,
    reason      Nullable(String),
    object_id   Nullable(Int64),
    holder_utid Nullable(Int64)
) ENGINE = MergeTree() ORDER BY (trace_id, utid, ts);

CREATE TABLE IF NOT EXISTS weft.lock_order_edge_local (
    trace_id        String,
    from_object_id  Int64,
    to_object_id    Int64,
    utid            Int64,
    ts              Int64,
    from_mode       String,
    to_mode         String,
    held_object_ids Nullable(String)
) ENGINE = MergeTree() ORDER BY (trace_id, utid, ts);

CREATE TABLE IF NOT EXISTS weft.lock_order_cycle_local (
    trace_id  String,
    cycle_id  Int64,
    position  Int64,
    object_id Int64,
    utid      Int64,
    ts        Int64
) ENGINE = MergeTree() ORDER BY (trace_id, utid, ts);

-- Stacks of waits (schema v1's stack_* tables): per trace, ids as the
-- trace numbers them.
CREATE TABLE IF NOT EXISTS weft.stack_module_local (
    trace_id  String,
    module_id Int64,
    upid      Nullable(Int64),
    path      String,
    build_id  Nullable(String),
    start     Int64,
    end       Int64,
    ts        Nullable(Int64)
) ENGINE = MergeTree() ORDER BY (trace_id, module_id);

CREATE TABLE IF NOT EXISTS weft.stack_frame_local (
    trace_id  String,
    frame_id  Int64,
    module_id Nullable(Int64),
    rel_pc    Int64,
    function  Nullable(String),
    file      Nullable(String),
    line      Nullable(Int64)
) ENGINE = MergeTree() ORDER BY (trace_id, frame_id);

CREATE TABLE IF NOT EXISTS weft.stack_callsite_local (
    trace_id    String,
    callsite_id Int64,
    parent_id   Nullable(Int64),
    frame_id    Int64,
    depth       Int64
) ENGINE = MergeTree() ORDER BY (trace_id, callsite_id);

-- The Distributed tables: one per local table, same columns.
CREATE TABLE IF NOT EXISTS weft.trace AS weft.trace_local
    ENGINE = Distributed(weft, weft, trace_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.meta AS weft.meta_local
    ENGINE = Distributed(weft, weft, meta_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.process AS weft.process_local
    ENGINE = Distributed(weft, weft, process_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.process_title AS weft.process_title_local
    ENGINE = Distributed(weft, weft, process_title_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.thread AS weft.thread_local
    ENGINE = Distributed(weft, weft, thread_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.thread_state AS weft.thread_state_local
    ENGINE = Distributed(weft, weft, thread_state_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.process_state AS weft.process_state_local
    ENGINE = Distributed(weft, weft, process_state_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.sched_slice AS weft.sched_slice_local
    ENGINE = Distributed(weft, weft, sched_slice_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.object AS weft.object_local
    ENGINE = Distributed(weft, weft, object_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.flow AS weft.flow_local
    ENGINE = Distributed(weft, weft, flow_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.critical_path AS weft.critical_path_local
    ENGINE = Distributed(weft, weft, critical_path_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.deadlock AS weft.deadlock_local
    ENGINE = Distributed(weft, weft, deadlock_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.deadlock_member AS weft.deadlock_member_local
    ENGINE = Distributed(weft, weft, deadlock_member_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.wait_now AS weft.wait_now_local
    ENGINE = Distributed(weft, weft, wait_now_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.lock_order_edge AS weft.lock_order_edge_local
    ENGINE = Distributed(weft, weft, lock_order_edge_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.lock_order_cycle AS weft.lock_order_cycle_local
    ENGINE = Distributed(weft, weft, lock_order_cycle_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.stack_module AS weft.stack_module_local
    ENGINE = Distributed(weft, weft, stack_module_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.stack_frame AS weft.stack_frame_local
    ENGINE = Distributed(weft, weft, stack_frame_local, cityHash64(trace_id));
CREATE TABLE IF NOT EXISTS weft.stack_callsite AS weft.stack_callsite_local
    ENGINE = Distributed(weft, weft, stack_callsite_local, cityHash64(trace_id));
