"""Where in the program each wait happened (weft record --stacks): the
stack of a Blocked span, symbolized when the recording ends (function,
file:line from DWARF, module + offset without symbols), the waker's stack,
locks named after their global symbol, and --stacks=none writing none."""

import json
import os
import re
import shutil
import subprocess
import unittest

from weftlib import BIN_DIR, TIMEOUT, WEFT, TraceTest, demo, prog

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The frames of the stack of a Blocked span, innermost first.
STACK_OF = """
WITH RECURSIVE up(callsite_id, parent_id, frame_id, depth) AS (
    SELECT callsite_id, parent_id, frame_id, depth FROM stack_callsite
    WHERE callsite_id = ?
    UNION ALL
    SELECT c.callsite_id, c.parent_id, c.frame_id, c.depth
    FROM stack_callsite c JOIN up ON c.callsite_id = up.parent_id)
SELECT up.depth, f.function, f.file, f.line, f.rel_pc, m.path, m.upid
FROM up JOIN stack_frame f USING (frame_id)
LEFT JOIN stack_module m USING (module_id)
ORDER BY up.depth DESC"""


def source_lines(path, pattern, start_pattern=None, end_pattern=None):
    """The numbers of the lines of a source file matching pattern (within
    the part from the first line matching start_pattern to the next one
    matching end_pattern, when given)."""
    found, inside = [], start_pattern is None
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not inside and start_pattern and re.search(start_pattern, line):
                inside = True
            elif inside and end_pattern and re.search(end_pattern, line):
                break
            if inside and re.search(pattern, line):
                found.append(number)
    return found


class Stacks(TraceTest):
    def record_with(self, argv, *options, name="trace"):
        db = os.path.join(self.tmp, name + ".db")
        proc = subprocess.run([WEFT, "record", "-o", db, *options, "--", *argv],
                              capture_output=True, timeout=TIMEOUT, cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        return db

    def stack(self, db, callsite_id):
        return self.query(db, STACK_OF, (callsite_id,))

    def blocked_stacks(self, db, where="1", params=()):
        """(span, stack) for every Blocked span with a callsite."""
        spans = self.query(db, f"""SELECT s.*, t.name AS thread_name, t.upid
            FROM thread_state s JOIN thread t USING (utid)
            WHERE s.state = 'Blocked' AND s.callsite_id IS NOT NULL AND {where}""", params)
        return [(span, self.stack(db, span["callsite_id"])) for span in spans]

    def test_prodcons_consumer_waits_show_its_function_file_and_line(self):
        db = self.record_with([demo("prodcons")])
        source = os.path.join(SOURCE_ROOT, "examples", "prodcons.c")
        wait_lines = source_lines(source, r"pthread_cond_wait\(", r"consumer_main\(",
                                  r"^}")
        self.assertTrue(wait_lines, "prodcons.c has no pthread_cond_wait in consumer_main")
        waits = self.blocked_stacks(db, "t.name LIKE 'consumer-%' AND s.reason = 'cond'")
        self.assertTrue(waits, "no condition wait of a consumer with a stack")
        for span, frames in waits:
            self.assertEqual(frames[0]["function"], "consumer_main", [tuple(f) for f in frames])
            self.assertEqual(os.path.basename(frames[0]["file"]), "prodcons.c")
            self.assertIn(frames[0]["line"], wait_lines)
            self.assertTrue(frames[0]["path"].endswith("weft-demo-prodcons"))

    def test_report_lists_the_blocked_call_sites_with_file_and_line(self):
        db = self.record_with([demo("prodcons")])
        source = os.path.join(SOURCE_ROOT, "examples", "prodcons.c")
        wait_lines = source_lines(source, r"pthread_(cond_wait|mutex_lock)\(",
                                  r"consumer_main\(", r"^}")
        text = subprocess.run([WEFT, "report", db], capture_output=True, text=True,
                              timeout=TIMEOUT, check=True).stdout
        self.assertIn("Top blocked call sites", text)
        listed = [int(n) for n in re.findall(r"consumer_main prodcons\.c:(\d+)", text)]
        self.assertTrue(listed, text)
        self.assertTrue(set(listed) <= set(wait_lines), (listed, wait_lines))
        report = json.loads(subprocess.run([WEFT, "report", "--json", db], capture_output=True,
                                           timeout=TIMEOUT, check=True).stdout)
        functions = {c["function"] for c in report["blocked_callsites"]}
        self.assertIn("consumer_main", functions)

    def test_a_wakers_stack_names_the_producer(self):
        db = self.record_with([demo("prodcons")])
        woken = self.query(db, """SELECT waker_callsite_id FROM thread_state s
            JOIN thread t USING (utid) WHERE t.name LIKE 'consumer-%'
            AND s.reason = 'cond' AND s.waker_callsite_id IS NOT NULL""")
        self.assertTrue(woken, "no consumer wait with its waker's stack")
        functions = {self.stack(db, row["waker_callsite_id"])[0]["function"] for row in woken}
        self.assertIn("producer_main", functions)

    def test_lockhold_mutex_is_labelled_by_its_global_symbol(self):
        db = self.record_with([demo("lockhold"), "50"])
        source = os.path.join(SOURCE_ROOT, "examples", "lockhold.c")
        with open(source) as f:
            text = f.read().splitlines()
        names = [re.search(r"pthread_mutex_t (\w+)", text[n - 1]).group(1)
                 for n in source_lines(source, r"^static pthread_mutex_t \w+")]
        self.assertTrue(names)
        labels = [r["label"] for r in self.query(db, """SELECT o.label FROM object o
            JOIN thread_state s USING (object_id) WHERE s.reason = 'mutex'""")]
        self.assertTrue(labels, "no mutex wait recorded")
        self.assertIn(labels[0], names)

    def test_python_threading_waits_carry_frames_in_libpython(self):
        script = os.path.join(self.tmp, "locks.py")
        with open(script, "w") as f:
            f.write("import threading, time\n"
                    "lock = threading.Lock()\n"
                    "def work():\n"
                    "    for i in range(30):\n"
                    "        with lock:\n"
                    "            time.sleep(0.001)\n"
                    "ts = [threading.Thread(target=work) for _ in range(3)]\n"
                    "for t in ts: t.start()\n"
                    "for t in ts: t.join()\n")
        db = self.record_with(["python3", script])
        python_frames = 0
        for span, frames in self.blocked_stacks(db):
            python_frames += sum(1 for f in frames if f["path"] and
                                 re.search(r"libpython|/python3", f["path"])
                                 and f["function"])
        self.assertGreater(python_frames, 0, "no symbolized frame in libpython/python3")

    def test_a_stripped_binary_shows_module_and_offset(self):
        stripped = os.path.join(self.tmp, "lockhold-stripped")
        shutil.copy(demo("lockhold"), stripped)
        subprocess.run(["strip", stripped], check=True)
        db = self.record_with([stripped, "50"])
        frames = self.query(db, """SELECT f.* FROM stack_frame f
            JOIN stack_module m USING (module_id) WHERE m.path = ?""", (stripped,))
        self.assertTrue(frames, "no frame in the stripped program")
        for frame in frames:
            self.assertIsNone(frame["file"])
            self.assertGreater(frame["rel_pc"], 0)
        modules = self.query(db, "SELECT * FROM stack_module WHERE path = ?", (stripped,))
        self.assertTrue(modules[0]["build_id"])
        self.assertLess(modules[0]["start"], modules[0]["end"])

    def test_a_dlopened_librarys_frames_are_symbolized(self):
        library = os.path.join(BIN_DIR, "weft-itest-dlwait.so")
        db = self.record_with([prog("stackwaits"), "dlopen", library])
        waits = self.blocked_stacks(db, "s.reason = 'cond'")
        self.assertTrue(waits, "no condition wait with a stack")
        frames = waits[0][1]
        self.assertEqual(frames[0]["function"], "dlwait_block")
        self.assertEqual(os.path.basename(frames[0]["file"]), "dlwait_lib.c")
        self.assertEqual(frames[0]["path"], library)
        self.assertIn("main", [f["function"] for f in frames])

    def test_a_wait_in_a_signal_handler_has_the_handler_and_main(self):
        db = self.record_with([prog("stackwaits"), "signal"])
        waits = self.blocked_stacks(db, "s.reason = 'sleep'")
        self.assertTrue(waits, "no sleep with a stack")
        functions = [f["function"] for f in waits[0][1]]
        self.assertEqual(functions[0], "handler_sleeps")
        self.assertIn("main", functions)

    def test_a_wait_in_a_forked_child_has_the_childs_stack(self):
        db = self.record_with([prog("stackwaits"), "fork"])
        child = self.query(db, "SELECT upid FROM process WHERE parent_upid IS NOT NULL")
        self.assertEqual(len(child), 1)
        waits = self.blocked_stacks(db, "s.reason = 'sleep' AND t.upid = ?",
                                    (child[0]["upid"],))
        self.assertTrue(waits, "no sleep of the child with a stack")
        frames = waits[0][1]
        self.assertEqual(frames[0]["function"], "child_sleeps")
        self.assertIn("main", [f["function"] for f in frames])
        # its frames lie in the child's own modules
        self.assertEqual({f["upid"] for f in frames if f["upid"] is not None},
                         {child[0]["upid"]})

    def test_callsite_mode_keeps_one_frame(self):
        db = self.record_with([demo("prodcons")], "--stacks=callsite")
        self.assertEqual(self.query(db, "SELECT value FROM meta WHERE key = 'stacks'")[0][0],
                         "callsite")
        waits = self.blocked_stacks(db, "t.name LIKE 'consumer-%' AND s.reason = 'cond'")
        self.assertTrue(waits)
        for span, frames in waits:
            self.assertEqual(len(frames), 1)
            self.assertEqual(frames[0]["function"], "consumer_main")

    def test_stacks_none_writes_no_stacks(self):
        db = self.record_with([demo("prodcons")], "--stacks=none")
        self.assertEqual(self.query(db, "SELECT value FROM meta WHERE key = 'stacks'")[0][0],
                         "none")
        for table in ("stack_module", "stack_frame", "stack_callsite"):
            self.assertEqual(self.query(db, f"SELECT COUNT(*) FROM {table}")[0][0], 0, table)
        self.assertEqual(self.query(db, """SELECT COUNT(*) FROM thread_state
            WHERE callsite_id IS NOT NULL OR waker_callsite_id IS NOT NULL""")[0][0], 0)
        self.assertGreater(self.query(db, """SELECT COUNT(*) FROM thread_state
            WHERE state = 'Blocked'""")[0][0], 0)

    def test_output_is_that_of_the_untraced_run(self):
        library = os.path.join(BIN_DIR, "weft-itest-dlwait.so")
        for mode in (["signal"], ["fork"], ["dlopen", library]):
            rec = self.record([prog("stackwaits"), *mode], name="out-" + mode[0])
            plain = self.run_untraced([prog("stackwaits"), *mode])
            self.assertEqual(rec.stdout, plain.stdout)
            self.assertEqual(rec.returncode, plain.returncode)


if __name__ == "__main__":
    unittest.main()
