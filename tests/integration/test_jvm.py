"""A HotSpot JVM seen from inside (tracer/preload/jvm.h): Java monitors are
objects with their owner as holder, a Java deadlock is a deadlock row,
Thread.sleep is a sleep, Java threads keep their full names, and the
program's output and exit status are those of an untraced run."""

import csv
import os
import signal
import subprocess
import textwrap
import time
import unittest

from weftlib import TIMEOUT, WEFT, TraceTest

JAVA_SOURCES = {
    # Three contenders block on one monitor that lock-holder keeps until
    # all three are BLOCKED; rl-waiter parks on a ReentrantLock rl-holder
    # keeps until it is WAITING; one thread with a long name sleeps;
    # output on both streams and exit status 3.
    "Contended.java": """
        import java.util.concurrent.locks.ReentrantLock;
        public class Contended {
            static final Object lock = new Object();
            static long counter;
            public static void main(String[] args) throws Exception {
                Thread sleeper = new Thread(() -> {
                    try { Thread.sleep(200); } catch (InterruptedException e) { }
                }, "a-thread-named-well-beyond-fifteen");
                sleeper.start();
                Thread[] contenders = new Thread[3];
                Thread holder = new Thread(() -> {
                    synchronized (lock) {
                        for (int i = 0; i < contenders.length; i++) {
                            final int n = i;
                            contenders[i] = new Thread(() -> {
                                synchronized (lock) { counter++; }
                            }, "contender-" + n);
                            contenders[i].start();
                        }
                        for (Thread c : contenders)
                            while (c.getState() != Thread.State.BLOCKED)
                                Thread.onSpinWait();
                        counter += 10;
                        try { Thread.sleep(300); } catch (InterruptedException e) { }
                    }
                }, "lock-holder");
                holder.start();
                holder.join();
                ReentrantLock reentrant = new ReentrantLock();
                Thread rlWaiter = new Thread(() -> {
                    reentrant.lock();
                    reentrant.unlock();
                }, "rl-waiter");
                Thread rlHolder = new Thread(() -> {
                    reentrant.lock();
                    rlWaiter.start();
                    while (rlWaiter.getState() != Thread.State.WAITING)
                        Thread.onSpinWait();
                    reentrant.unlock();
                }, "rl-holder");
                rlHolder.start();
                rlHolder.join();
                rlWaiter.join();
                for (Thread c : contenders) c.join();
                sleeper.join();
                System.out.println("counter " + counter);
                System.err.println("to stderr");
                System.exit(3);
            }
        }
    """,
    # Two threads each take one monitor, then wait for the other's.
    "Deadlock.java": """
        import java.util.concurrent.CountDownLatch;
        public class Deadlock {
            static final Object first = new Object();
            static final Object second = new Object();
            static final CountDownLatch both = new CountDownLatch(2);
            static void take(Object mine, Object theirs) {
                synchronized (mine) {
                    both.countDown();
                    try { both.await(); } catch (InterruptedException e) { }
                    synchronized (theirs) { System.out.println("never"); }
                }
            }
            public static void main(String[] args) throws Exception {
                Thread a = new Thread(() -> take(first, second), "deadlock-left-worker");
                Thread b = new Thread(() -> take(second, first), "deadlock-right-worker");
                a.start();
                b.start();
                System.out.println(ProcessHandle.current().pid() + " started");
                System.out.flush();
                a.join();
            }
        }
    """,
}


def setUpModule():
    global CLASSES
    import tempfile
    CLASSES = tempfile.mkdtemp(prefix="weft-it-java-")
    for name, text in JAVA_SOURCES.items():
        with open(os.path.join(CLASSES, name), "w") as f:
            f.write(textwrap.dedent(text))
    subprocess.run(["javac", "-d", CLASSES, *JAVA_SOURCES], cwd=CLASSES, check=True,
                   timeout=TIMEOUT)


def tearDownModule():
    import shutil
    shutil.rmtree(CLASSES, ignore_errors=True)


def java(*args):
    return ["java", "-cp", CLASSES, *args]


class ContendedMonitor(TraceTest):

    def record_quiet(self, argv, name):
        db = os.path.join(self.tmp, name + ".db")
        proc = subprocess.run([WEFT, "record", "-q", "-o", db, "--", *argv],
                              capture_output=True, timeout=TIMEOUT, cwd=self.tmp)
        return db, proc

    def setUp(self):
        super().setUp()
        self.db, self.traced = self.record_quiet(java("Contended"), "contended")

    def test_output_and_exit_status_are_those_of_an_untraced_run(self):
        untraced = self.run_untraced(java("Contended"))
        self.assertEqual(untraced.returncode, 3)
        self.assertEqual(untraced.stdout, b"counter 13\n")
        self.assertEqual((self.traced.returncode, self.traced.stdout, self.traced.stderr),
                         (untraced.returncode, untraced.stdout, untraced.stderr))

    def monitor_waits(self, db):
        return self.query(db, """
            SELECT t.name AS waiter, o.object_id, o.kind, o.label, h.name AS holder,
                   s.ts
            FROM thread_state s JOIN thread t USING (utid)
            JOIN object o USING (object_id)
            LEFT JOIN thread h ON h.utid = s.holder_utid
            WHERE s.state = 'Blocked' AND s.reason = 'mutex'
              AND t.name LIKE 'contender-%' AND o.label LIKE 'java.%'
            ORDER BY s.ts""")

    def test_the_contenders_wait_on_one_monitor_held_by_its_owner(self):
        waits = self.monitor_waits(self.db)
        self.assertEqual({w["waiter"] for w in waits},
                         {"contender-0", "contender-1", "contender-2"})
        self.assertEqual(len({w["object_id"] for w in waits}), 1, [dict(w) for w in waits])
        self.assertEqual(waits[0]["kind"], "mutex")
        self.assertRegex(waits[0]["label"], r"^java\.lang\.Object#\d+$")
        # lock-holder kept it while all three were blocked; after it, one
        # contender holds it while the others wait
        holders = {w["holder"] for w in waits}
        self.assertIn("lock-holder", holders)
        self.assertLessEqual(holders, {"lock-holder", "contender-0", "contender-1",
                                       "contender-2", None})

    def test_each_contender_waits_mostly_on_the_monitor_not_on_a_park_event(self):
        # HotSpot parks a blocked thread on an event of its own; the Java
        # view explains that wait, so the event is not shown as its object
        for name in ("contender-0", "contender-1", "contender-2"):
            most = self.query(self.db, """
                SELECT s.reason, o.label, SUM(s.dur) AS blocked
                FROM thread_state s JOIN thread t USING (utid)
                LEFT JOIN object o USING (object_id)
                WHERE s.state = 'Blocked' AND t.name = ?
                GROUP BY s.reason, o.label ORDER BY blocked DESC LIMIT 1""", (name,))
            self.assertEqual(most[0]["reason"], "mutex", (name, tuple(most[0])))
            self.assertRegex(most[0]["label"], r"^java\.lang\.Object#\d+$")

    def test_thread_sleep_is_a_sleep_and_a_long_java_name_is_kept(self):
        sleeper = self.thread_by_name(self.db, "a-thread-named-well-beyond-fifteen")
        most = self.query(self.db, """SELECT reason, SUM(dur) AS blocked FROM thread_state
            WHERE utid = ? AND state = 'Blocked' GROUP BY reason
            ORDER BY blocked DESC LIMIT 1""", (sleeper["utid"],))
        self.assertEqual(most[0]["reason"], "sleep")
        self.thread_by_name(self.db, "lock-holder")
        # the thread that runs main(), and one the JVM starts for itself
        self.thread_by_name(self.db, "main")
        self.thread_by_name(self.db, "Reference Handler")

    def test_a_reentrant_lock_wait_names_the_lock_and_its_owner(self):
        waits = self.query(self.db, """
            SELECT o.kind, o.label, h.name AS holder
            FROM thread_state s JOIN thread t USING (utid)
            JOIN object o USING (object_id)
            LEFT JOIN thread h ON h.utid = s.holder_utid
            WHERE s.state = 'Blocked' AND t.name = 'rl-waiter'
              AND o.label LIKE 'ReentrantLock%'""")
        self.assertTrue(waits, "rl-waiter has no wait on its ReentrantLock")
        self.assertEqual({(w["kind"], w["holder"]) for w in waits}, {("mutex", "rl-holder")})
        self.assertRegex(waits[0]["label"], r"^ReentrantLock\$NonfairSync#\d+$")

    def test_a_jvm_with_xrs_runs_as_untraced_and_is_recorded(self):
        untraced = self.run_untraced(java("-Xrs", "Contended"))
        db, traced = self.record_quiet(java("-Xrs", "Contended"), "xrs")
        self.assertEqual((traced.returncode, traced.stdout, traced.stderr),
                         (untraced.returncode, untraced.stdout, untraced.stderr))
        waits = self.monitor_waits(db)
        self.assertEqual({w["waiter"] for w in waits},
                         {"contender-0", "contender-1", "contender-2"})


class JavaDeadlock(TraceTest):

    def query_live(self, db, sql):
        out = subprocess.run([WEFT, "query", db, sql, "--csv"], capture_output=True,
                             timeout=30)
        return list(csv.reader(out.stdout.decode().splitlines()))

    def test_a_java_deadlock_is_found_live_with_both_threads_and_monitors(self):
        db = os.path.join(self.tmp, "deadlock.db")
        recorder = subprocess.Popen([WEFT, "record", "-q", "-o", db, "--",
                                     *java("Deadlock")], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, cwd=self.tmp)
        self.addCleanup(recorder.stderr.close)
        self.addCleanup(recorder.stdout.close)
        self.addCleanup(lambda: recorder.poll() is not None or recorder.kill())
        line = recorder.stdout.readline().decode()
        self.assertTrue(line.endswith(" started\n"), f"program said {line!r}")
        pid = int(line.split()[0])
        self.addCleanup(lambda: recorder.poll() is not None or os.kill(pid, signal.SIGKILL))

        found = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(found) < 2:
            time.sleep(0.2)
            found = self.query_live(db, "SELECT threads FROM deadlocks")
        self.assertEqual(len(found), 2, f"no deadlock seen while stuck: {found}")

        os.kill(pid, signal.SIGKILL)
        self.assertEqual(recorder.wait(timeout=TIMEOUT), 137)
        rows = self.query(db, "SELECT * FROM deadlocks")
        self.assertEqual(len(rows), 1, [dict(r) for r in rows])
        self.assertEqual(sorted(rows[0]["threads"].split(", ")),
                         ["deadlock-left-worker", "deadlock-right-worker"])
        objects = rows[0]["objects"].split(", ")
        self.assertEqual(len(set(objects)), 2)
        for label in objects:
            self.assertRegex(label, r"^java\.lang\.Object#\d+$")
        members = self.query(db, """SELECT t.name, h.name AS holder FROM deadlock_member m
            JOIN thread t USING (utid) JOIN thread h ON h.utid = m.holder_utid""")
        self.assertEqual(sorted((m["name"], m["holder"]) for m in members),
                         [("deadlock-left-worker", "deadlock-right-worker"),
                          ("deadlock-right-worker", "deadlock-left-worker")])


if __name__ == "__main__":
    unittest.main()
