"""Processes are named as ps names them at the end of their lives: a child
forked without exec that overwrote its argv area (setproctitle) or named
itself with prctl(PR_SET_NAME), with each change in process_title."""

import unittest

from weftlib import TraceTest, prog


class TitlesTest(TraceTest):

    def setUp(self):
        super().setUp()
        # a long argument gives the child room to write its title
        rec = self.record([prog("retitle"), "x" * 40])
        self.assert_recorded_ok(rec)
        self.assertEqual(rec.stdout, b"done\n")
        self.db = rec.db
        self.children = self.query(self.db, "SELECT * FROM process WHERE parent_upid IS NOT NULL "
                                            "ORDER BY start_ts")
        self.assertEqual(len(self.children), 2)

    def test_a_child_that_overwrote_its_argv_is_named_by_its_title(self):
        child = self.children[0]
        self.assertEqual(child["cmdline"], "retitle: worker one")
        self.assertEqual(child["name"], "retitle: worker one")
        titles = self.query(self.db, "SELECT name, cmdline FROM process_title WHERE upid = ?",
                            (child["upid"],))
        self.assertEqual([tuple(t) for t in titles],
                         [("retitle: worker one", "retitle: worker one")])

    def test_a_child_named_by_prctl_keeps_that_name(self):
        child = self.children[1]
        self.assertEqual(child["name"], "renamed-two")
        titles = self.query(self.db, "SELECT name FROM process_title WHERE upid = ?",
                            (child["upid"],))
        self.assertEqual([t["name"] for t in titles], ["renamed-two"])

    def test_the_parent_keeps_its_own_name_and_command_line(self):
        parent = self.query(self.db, "SELECT * FROM process WHERE parent_upid IS NULL")[0]
        self.assertTrue(parent["name"].startswith("weft-itest-ret"), parent["name"])
        self.assertIn("x" * 40, parent["cmdline"])
        self.assertEqual(self.query(self.db, "SELECT COUNT(*) FROM process_title "
                                             "WHERE upid = ?", (parent["upid"],))[0][0], 0)


if __name__ == "__main__":
    unittest.main()
