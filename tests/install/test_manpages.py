"""Man pages agree with --help: every program and weft command has one,
every option its --help names appears in it (read from --help now, so an
option added later without its man page fails by name), and groff renders
each without a warning."""

import os
import re
import unittest

from installlib import SOURCE_DIR, help_options, help_text, programs, run

MAN_DIR = os.path.join(SOURCE_DIR, "docs", "man")


def page_text(path):
    """The text of a roff page as a reader sees its words: comments
    dropped, \\- as -, font changes and \\& removed."""
    lines = []
    with open(path) as f:
        for line in f:
            if line.startswith('.\\"') or line.startswith("'\\\""):
                continue
            lines.append(line)
    text = "".join(lines).replace("\\-", "-").replace("\\&", "")
    return re.sub(r"\\f(?:\[[^]]*\]|\(..|.)", "", text)


def mentions(text, option):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(option), text) is not None


class ManPages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.programs = programs()

    def test_every_program_and_command_has_a_page(self):
        missing = [name for name, _ in self.programs
                   if not os.path.isfile(os.path.join(MAN_DIR, name + ".1"))]
        self.assertEqual(missing, [], "no docs/man/NAME.1 for these")

    def test_every_page_is_of_a_program_or_command(self):
        names = {name for name, _ in self.programs}
        stale = [f for f in sorted(os.listdir(MAN_DIR))
                 if f.endswith(".1") and f[:-2] not in names]
        self.assertEqual(stale, [], "pages of no program or command")

    def test_every_option_in_help_is_in_the_page(self):
        missing = []
        for name, argv in self.programs:
            path = os.path.join(MAN_DIR, name + ".1")
            if not os.path.isfile(path):
                continue  # test_every_program_and_command_has_a_page
            text = page_text(path)
            options = help_options(help_text(argv))
            self.assertTrue(options, "no option found in the --help of %s" % name)
            missing += ["%s: %s" % (name, o) for o in options if not mentions(text, o)]
        self.assertEqual(missing, [], "options of --help missing from their man page")

    def test_pages_render_without_warnings(self):
        for name, _ in self.programs:
            path = os.path.join(MAN_DIR, name + ".1")
            if not os.path.isfile(path):
                continue
            p = run(["groff", "-t", "-man", "-ww", "-z", path])
            self.assertEqual((p.returncode, p.stderr), (0, ""), name)
            p = run(["groff", "-t", "-man", "-Tutf8", "-P-cbou", path])
            self.assertEqual(p.returncode, 0, name)
            # NAME: "name - summary", what apropos and whatis show
            self.assertRegex(p.stdout, r"NAME\n\s+%s\s+-\s+\S" % re.escape(name))


class HelpParsing(unittest.TestCase):
    """The option reader itself, on the shapes --help texts use."""

    def test_reads_options_not_hyphenated_words(self):
        text = ("usage: weft record [-o FILE] [--sched=MODE] [--] CMD\n"
                "  -o, --output FILE  (default: weft-CMD-N.db)\n"
                "  --csv|--json  /tmp/weft-UID/weftd.sock non-blocking\n")
        self.assertEqual(help_options(text), ["--csv", "--json", "--output", "--sched", "-o"])


if __name__ == "__main__":
    unittest.main()
