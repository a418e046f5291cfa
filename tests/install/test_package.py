"""The Debian package: scripts/package.sh builds weft_VERSION_ARCH.deb with
Depends from the libraries it links; apt-get installs it; weft and weftd
work from PATH with their man pages and completion; apt-get remove leaves
no file of ours under /usr. Needs root; removes what it installed even when
a check fails, so the tests after it see the machine as it was."""

import os
import re
import subprocess
import unittest

from installlib import (BUILD_DIR, PIPELINE, SOURCE_DIR, VERSION, cleanup, clean_env,
                        elf_files, help_text, programs, record_pipeline, run, search_paths,
                        serve_traces, tempdir, traced_pipeline)

# Another apt-get (scripts/deps.sh of another tree) may hold the lock a while.
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=240"]


def installed(package):
    p = run(["dpkg-query", "-W", "-f=${Status}", package])
    return p.returncode == 0 and "install ok installed" in p.stdout


@unittest.skipIf(os.geteuid() != 0, "needs root (installs into /usr)")
class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path in ("/usr/bin/weft", "/usr/bin/weftd", "/usr/lib/weft"):
            if os.path.exists(path):
                raise AssertionError("%s exists already: remove the weft installed on this "
                                     "machine before this test" % path)
        if installed("weft"):
            raise AssertionError("package weft is installed already: apt-get remove weft")
        cls.dir = tempdir("package")
        out = os.path.join(cls.dir, "out")
        p = run([os.path.join(SOURCE_DIR, "scripts", "package.sh"), BUILD_DIR, out],
                timeout=300)
        if p.returncode != 0:
            raise AssertionError("scripts/package.sh failed: %s%s" % (p.stdout, p.stderr))
        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        cls.name = "weft_%s_%s.deb" % (VERSION, arch)
        cls.deb = os.path.join(out, cls.name)
        cls.printed = p.stdout.strip()
        if not os.path.isfile(cls.deb):
            raise AssertionError("no %s in %s: %s" % (cls.name, os.listdir(out), p.stdout))
        listing = run(["dpkg-deb", "-c", cls.deb]).stdout
        # "-rwxr-xr-x root/root 1234 2026-01-01 00:00 ./usr/bin/weft"
        cls.contents = [line.split()[5] for line in listing.splitlines()]
        cls.files = [line.split()[5][1:] for line in listing.splitlines()
                     if not line.startswith("d")]

    @classmethod
    def tearDownClass(cls):
        cleanup(cls.dir)

    def field(self, name):
        return run(["dpkg-deb", "-f", self.deb, name]).stdout.strip()

    def test_package_sh_prints_the_package(self):
        self.assertEqual(self.printed, self.deb)

    def test_control_fields(self):
        self.assertEqual(self.field("Package"), "weft")
        self.assertEqual(self.field("Version"), VERSION)
        depends = [d.split()[0] for d in self.field("Depends").split(", ")]
        # what weft and weftd link, found by dpkg-shlibdeps
        self.assertIn("libc6", depends)
        self.assertIn("libsqlite3-0", depends)
        self.assertTrue(any(re.match(r"libmicrohttpd\d+$", d) for d in depends), depends)

    def test_everything_under_usr(self):
        self.assertEqual([p for p in self.contents if not p.startswith("./usr/")
                          and p != "./"], [])
        for wanted in ("/usr/bin/weft", "/usr/bin/weftd", "/usr/lib/weft/libweft.so",
                       "/usr/share/man/man1/weft.1.gz", "/usr/share/man/man1/weft-record.1.gz",
                       "/usr/share/man/man1/weftd.1.gz",
                       "/usr/share/bash-completion/completions/weft",
                       "/usr/share/doc/weft/API.md"):
            self.assertIn(wanted, self.files)

    def test_no_search_path_into_the_build_tree(self):
        unpacked = os.path.join(self.dir, "unpacked")
        subprocess.run(["dpkg-deb", "-x", self.deb, unpacked], check=True)
        elves = elf_files(unpacked)
        self.assertEqual(len(elves), 3, elves)
        for elf in elves:
            self.assertEqual(search_paths(elf), [], elf)

    def test_installed_from_path_then_removed_cleanly(self):
        try:
            p = run([*APT, "install", "./" + self.name], cwd=os.path.dirname(self.deb),
                    env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertTrue(installed("weft"))
            self.check_installed()
        finally:
            p = run([*APT, "remove", "weft"],
                    env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertFalse(installed("weft"))
        left = [f for f in self.files if os.path.lexists(f)]
        self.assertEqual(left, [], "files of the package left behind")
        for directory in ("/usr/lib/weft", "/usr/share/doc/weft"):
            self.assertFalse(os.path.exists(directory), directory)

    def check_installed(self):
        env = clean_env()
        work = os.path.join(self.dir, "work")
        os.makedirs(work)
        # weft and weftd are found on PATH, from any directory
        p = run(["weft", "--version"], cwd=work, env=env)
        self.assertEqual(p.stdout, "weft %s\n" % VERSION)
        if "--version" in help_text(["/usr/bin/weftd"]):
            self.assertEqual(run(["weftd", "--version"], env=env).stdout, "weftd %s\n" % VERSION)
        p = run(["weft", "record", "-o", "true.db", "--", "true"], cwd=work, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        p, trace = record_pipeline("weft", work, env)
        self.assertEqual(p.returncode, 0, p.stderr)
        names, piped = traced_pipeline(trace)
        self.assertEqual(names, {"sh": 1, "ls": 1, "grep": 1})
        self.assertGreater(piped, 0)
        listing, status = serve_traces("weftd", trace, env)
        self.assertEqual((status, [t["file"] for t in listing["traces"]]), (0, ["run.db"]))
        self.assertIn(PIPELINE, listing["traces"][0]["command"])
        # man finds the page of every program and weft command
        pages = [name for name, _ in programs("/usr/bin/weft", "/usr/bin/weftd")]
        self.assertTrue({"weft", "weft-record", "weft-query", "weft-export", "weftd"} <=
                        set(pages), pages)
        for page in pages:
            p = run(["man", "-w", page], env=env)
            self.assertEqual(p.stdout.strip(), "/usr/share/man/man1/%s.1.gz" % page)
        # bash-completion loads the completion on the first Tab after weft
        script = ("source /usr/share/bash-completion/bash_completion; "
                  "__load_completion weft && complete -p weft weftd")
        p = run(["bash", "--norc", "-c", script], env=env)
        self.assertEqual(p.stdout.splitlines(), ["complete -F _weft weft",
                                                 "complete -F _weftd weftd"], p.stderr)


if __name__ == "__main__":
    unittest.main()
