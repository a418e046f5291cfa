"""bash completion (completions/weft.bash): what Tab offers after the words
a user typed, computed by bash itself with the completion function that
`complete -p` names, as bash would call it."""

import os
import stat
import subprocess
import unittest

from installlib import (SOURCE_DIR, WEFT, WEFTD, cleanup, help_commands, help_options,
                        help_text, tempdir)

COMPLETION = os.path.join(SOURCE_DIR, "completions", "weft.bash")

# Sets COMP_WORDS to the arguments (the last one is the word being
# completed), calls the function `complete -p NAME` names and prints
# COMPREPLY, one a line.
DRIVER = r'''
source "$1"; shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
name=${COMP_WORDS[0]##*/}
spec=$(complete -p "$name") || exit 3
func=$(sed -E 's/.* -F ([^ ]+) .*/\1/' <<<"$spec")
"$func" "$name" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
'''


class Completion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir("completion")
        # a working directory with traces, other files and a directory
        cls.work = os.path.join(cls.dir, "work")
        os.makedirs(os.path.join(cls.work, "traces"))
        for name in ("run.db", "other.db", "notes.txt"):
            open(os.path.join(cls.work, name), "w").close()
        # a program of our own on PATH, for `weft record -- CMD`
        cls.bin = os.path.join(cls.dir, "bin")
        os.makedirs(cls.bin)
        prog = os.path.join(cls.bin, "zzweftprog")
        with open(prog, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(prog, stat.S_IRWXU)
        cls.env = dict(os.environ, PATH=cls.bin + ":" + os.path.dirname(WEFT) + ":" +
                       os.environ.get("PATH", "/usr/bin:/bin"))

    @classmethod
    def tearDownClass(cls):
        cleanup(cls.dir)

    def complete(self, *words):
        p = subprocess.run(["bash", "--norc", "-c", DRIVER, "driver", COMPLETION, *words],
                           capture_output=True, text=True, cwd=self.work, env=self.env,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return set(filter(None, p.stdout.split("\n")))

    def test_commands_of_weft(self):
        commands = set(help_commands(help_text([WEFT])))
        self.assertTrue({"record", "query", "export"} <= commands)
        self.assertEqual(self.complete(WEFT, ""), commands)
        self.assertEqual(self.complete("weft", "rec"), {"record"})

    def test_options_of_weft_and_each_command_as_help_lists_them(self):
        cases = [([WEFT], [WEFT])]
        for command in help_commands(help_text([WEFT])):
            cases.append(([WEFT, command], [WEFT, command]))
        cases.append(([WEFTD], [WEFTD]))
        for typed, argv in cases:
            offered = {o.rstrip("=") for o in self.complete(*typed, "-")}
            wanted = set(help_options(help_text(argv)))
            self.assertEqual(wanted - offered, set(), "not offered after %s" % typed)

    def test_option_taking_a_value_ends_without_a_space(self):
        self.assertEqual(self.complete("weft", "record", "--sch"), {"--sched="})

    def test_sched_modes_however_bash_splits_the_word(self):
        modes = {"perf", "schedstat", "none"}
        # COMP_WORDBREAKS with '=' (bash's default): "--sched" "=" ""
        self.assertEqual(self.complete("weft", "record", "--sched", "="), modes)
        self.assertEqual(self.complete("weft", "record", "--sched", "=", "s"), {"schedstat"})
        # without '=': one word
        self.assertEqual(self.complete("weft", "record", "--sched=p"), {"perf"})

    def test_traces_where_a_trace_is_read(self):
        traces = {"run.db", "other.db", "traces"}  # *.db and directories
        self.assertEqual(self.complete("weft", "query", ""), traces)
        self.assertEqual(self.complete("weft", "export", ""), traces)
        self.assertEqual(self.complete("weftd", ""), traces)
        self.assertEqual(self.complete("weftd", "--no-collect", "r"), {"run.db"})

    def test_option_values(self):
        self.assertEqual(self.complete("weft", "export", "run.db", "--format", ""),
                         {"chrome-json"})
        self.assertEqual(self.complete("weftd", "--trace-dir", ""), {"traces"})
        self.assertIn("notes.txt", self.complete("weft", "record", "-o", ""))

    def test_the_recorded_command(self):
        self.assertIn("zzweftprog", self.complete("weft", "record", "--", "zzweft"))
        self.assertIn("zzweftprog", self.complete("weft", "record", "-o", "x.db", "zzweft"))
        self.assertIn("zzweftprog",
                      self.complete("weft", "record", "--sched", "=", "perf", "zzweft"))
        # then the command's arguments, not weft's options
        self.assertNotIn("--sched=", self.complete("weft", "record", "--", "ls", "--"))


if __name__ == "__main__":
    unittest.main()
