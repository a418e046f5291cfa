-- Indexes of schema version 1, created by the recorder when it finishes a
-- trace (inserting into an indexed table is about twice as slow, and a
-- trace is written once and read many times). A reader of a trace that is
-- still being recorded finds none of them and must cope.
CREATE INDEX IF NOT EXISTS thread_state_utid_ts ON thread_state(utid, ts);
CREATE INDEX IF NOT EXISTS process_state_upid_ts ON process_state(upid, ts);
CREATE INDEX IF NOT EXISTS sched_slice_cpu_ts ON sched_slice(cpu, ts);
CREATE INDEX IF NOT EXISTS flow_ts_out ON flow(ts_out);
CREATE INDEX IF NOT EXISTS flow_ts_in ON flow(ts_in);
-- the flow into a thread's span (the critical path's walk, who woke it)
CREATE INDEX IF NOT EXISTS flow_utid_in_ts ON flow(utid_in, ts_in);
