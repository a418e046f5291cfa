"""cmake --install: the layout, then the whole prefix moved elsewhere still
works (weft finds libweft.so relative to itself), WEFT_LIB overrides it, a
missing library is named, DESTDIR stages without touching the prefix."""

import os
import shutil
import unittest

from installlib import (BUILD_DIR, CMAKE, PIPELINE, VERSION, WEFT, cleanup, clean_env,
                        elf_files, help_commands, help_text, record_pipeline, run,
                        search_paths, serve_traces, tempdir, traced_pipeline,
                        wait_complete)


def install(prefix, destdir=None):
    env = dict(os.environ)
    env.pop("DESTDIR", None)
    if destdir:
        env["DESTDIR"] = destdir
    p = run([CMAKE, "--install", BUILD_DIR, "--prefix", prefix], env=env, timeout=300)
    if p.returncode != 0:
        raise AssertionError("cmake --install failed: %s%s" % (p.stdout, p.stderr))


class MovedPrefix(unittest.TestCase):
    """Installed into one prefix, used from another."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempdir("relocate")
        first = os.path.join(cls.dir, "first", "prefix")
        install(first)
        cls.prefix = os.path.join(cls.dir, "elsewhere", "moved")
        os.makedirs(os.path.dirname(cls.prefix))
        os.rename(first, cls.prefix)
        shutil.rmtree(os.path.join(cls.dir, "first"))
        cls.weft = os.path.join(cls.prefix, "bin", "weft")
        cls.weftd = os.path.join(cls.prefix, "bin", "weftd")
        cls.env = clean_env()

    @classmethod
    def tearDownClass(cls):
        cleanup(cls.dir)

    def path(self, *parts):
        return os.path.join(self.prefix, *parts)

    def test_layout(self):
        expected = ["bin/weft", "bin/weftd", "lib/weft/libweft.so",
                    "share/man/man1/weft.1.gz", "share/man/man1/weftd.1.gz",
                    "share/bash-completion/completions/weft",
                    "share/bash-completion/completions/weftd",
                    "share/doc/weft/API.md", "share/doc/weft/README.md",
                    "share/doc/weft/schema/001_schema.sql"]
        for command in help_commands(help_text([WEFT])):
            expected.append("share/man/man1/weft-%s.1.gz" % command)
        missing = [f for f in expected if not os.path.isfile(self.path(f))]
        self.assertEqual(missing, [], "not installed under %s" % self.prefix)
        for program in ("bin/weft", "bin/weftd"):
            self.assertTrue(os.access(self.path(program), os.X_OK), program)

    def test_nothing_points_into_the_build_tree(self):
        build = os.path.realpath(BUILD_DIR)
        elves = elf_files(self.prefix)
        self.assertEqual(len(elves), 3, elves)  # weft, weftd, libweft.so
        for elf in elves:
            for entry in search_paths(elf):
                for directory in entry.split(":"):
                    self.assertFalse(os.path.realpath(directory).startswith(build),
                                     "%s has RPATH/RUNPATH %s" % (elf, entry))

    def test_version_is_the_projects(self):
        p = run([self.weft, "--version"], env=self.env)
        self.assertEqual((p.returncode, p.stdout), (0, "weft %s\n" % VERSION))
        # weftd --version once weftd's --help offers it
        if "--version" in help_text([self.weftd]):
            p = run([self.weftd, "--version"], env=self.env)
            self.assertEqual((p.returncode, p.stdout), (0, "weftd %s\n" % VERSION))

    def test_moved_weft_records_a_pipeline_that_moved_weftd_serves(self):
        work = os.path.join(self.dir, "work")
        os.makedirs(work)
        untraced = run(["sh", "-c", PIPELINE], env=self.env)
        p, trace = record_pipeline(self.weft, work, self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, untraced.stdout)
        names, piped = traced_pipeline(trace)
        # libweft.so ran in each process (found under the moved prefix):
        # the pipe's bytes are known only from inside them
        self.assertEqual(names, {"sh": 1, "ls": 1, "grep": 1})
        self.assertGreater(piped, 0)
        listing, status = serve_traces(self.weftd, trace, self.env)
        self.assertEqual(status, 0)
        self.assertEqual([(t["file"], t["status"]) for t in listing["traces"]],
                         [("run.db", "complete")])
        self.assertIn(PIPELINE, listing["traces"][0]["command"])

    def test_library_preloaded_by_hand_starts_the_moved_weft(self):
        # WEFT_OUT: libweft.so starts a collector, `weft record --attach`,
        # found beside itself (PREFIX/lib/weft/../../bin/weft), not on PATH
        work = os.path.join(self.dir, "by-hand")
        os.makedirs(work)
        trace = os.path.join(work, "run.db")
        env = dict(self.env, LD_PRELOAD=self.path("lib", "weft", "libweft.so"), WEFT_OUT=trace)
        p = run(["sh", "-c", PIPELINE], cwd=work, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(wait_complete(trace), "complete")
        names, piped = traced_pipeline(trace)
        self.assertEqual(names, {"sh": 1, "ls": 1, "grep": 1})
        self.assertGreater(piped, 0)


class LibraryElsewhere(unittest.TestCase):
    """The preload library moved out of the prefix."""

    def setUp(self):
        self.dir = tempdir("library")
        self.prefix = os.path.join(self.dir, "prefix")
        install(self.prefix)
        self.weft = os.path.join(self.prefix, "bin", "weft")
        self.odd = os.path.join(self.dir, "odd", "place", "libweft.so")
        os.makedirs(os.path.dirname(self.odd))
        os.rename(os.path.join(self.prefix, "lib", "weft", "libweft.so"), self.odd)
        self.work = os.path.join(self.dir, "work")
        os.makedirs(self.work)

    def tearDown(self):
        cleanup(self.dir)

    def test_missing_library_is_named_and_nothing_runs(self):
        marker = os.path.join(self.work, "ran")
        p = run([self.weft, "record", "-o", "run.db", "--", "touch", marker], cwd=self.work,
                env=clean_env())
        self.assertEqual(p.returncode, 1)
        self.assertIn(os.path.join(self.prefix, "lib", "weft", "libweft.so"), p.stderr)
        self.assertIn("WEFT_LIB", p.stderr)
        self.assertFalse(os.path.exists(marker))
        self.assertFalse(os.path.exists(os.path.join(self.work, "run.db")))

    def test_weft_lib_overrides_the_layout(self):
        env = dict(clean_env(), WEFT_LIB=self.odd)
        p, trace = record_pipeline(self.weft, self.work, env)
        self.assertEqual(p.returncode, 0, p.stderr)
        names, piped = traced_pipeline(trace)
        self.assertEqual(names, {"sh": 1, "ls": 1, "grep": 1})
        self.assertGreater(piped, 0)

    def test_weft_lib_that_does_not_exist_is_named(self):
        missing = os.path.join(self.dir, "nowhere", "libweft.so")
        p = run([self.weft, "record", "-o", "run.db", "--", "true"], cwd=self.work,
                env=dict(clean_env(), WEFT_LIB=missing))
        self.assertEqual(p.returncode, 1)
        self.assertIn(missing, p.stderr)


class StagedWithDestdir(unittest.TestCase):
    def test_destdir_stages_under_it_and_not_in_the_prefix(self):
        stage = tempdir("destdir")
        prefix = "/opt/weft-install-test-%d" % os.getpid()
        try:
            install(prefix, destdir=stage)
            staged = stage + prefix
            for f in ("bin/weft", "bin/weftd", "lib/weft/libweft.so",
                      "share/man/man1/weft.1.gz"):
                self.assertTrue(os.path.isfile(os.path.join(staged, f)), f)
            self.assertFalse(os.path.exists(prefix))
            # a staged tree moved into place works like any prefix
            p = run([os.path.join(staged, "bin", "weft"), "--version"])
            self.assertEqual(p.stdout, "weft %s\n" % VERSION)
        finally:
            cleanup(stage)


if __name__ == "__main__":
    unittest.main()
