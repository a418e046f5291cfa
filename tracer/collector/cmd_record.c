/*
 * cmd_record.c — `weft record`: run a command under the tracer and write
 * its trace.
 *
 * weft creates the collector (ring file + trace), puts libweft.so in front
 * of LD_PRELOAD and the ring file in WEFT_SHM, forks and execs the command,
 * and drains until the workload and every orphaned descendant are gone (it
 * is their child subreaper). Ctrl-C reaches the workload through the
 * terminal's foreground process group; weft ignores SIGINT/SIGQUIT while
 * it runs and passes SIGTERM/SIGHUP on to it. weft exits with the
 * workload's status, as a shell would report it.
 *
 * With --attach PID --shm PATH, weft is the collector a preloaded program
 * started for itself: no fork, the recording ends when PID and every
 * process that attached are gone.
 */
#include <elf.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bound.h"
#include "cmd.h"
#include "collect.h"
#include "tracedb.h"

/* The workload's pid, for the SIGTERM/SIGHUP handler (the one place a
 * signal handler needs it), and the collector for attach mode's stop. */
static volatile pid_t forward_pid;
static struct collect *volatile stop_collector;

static void on_forwarded_signal(int signo)
{
	int saved = errno;
	if (forward_pid > 0)
		kill(forward_pid, signo);
	else if (stop_collector)
		collect_stop(stop_collector);
	errno = saved;
}

/* --sched=MODE. Returns 0 or -1 with the message in err. */
static int parse_sched(const char *mode, struct record_args *args, char *err, size_t errlen)
{
	if (!strcmp(mode, "perf"))
		args->sched = RECORD_SCHED_PERF;
	else if (!strcmp(mode, "schedstat"))
		args->sched = RECORD_SCHED_SCHEDSTAT;
	else if (!strcmp(mode, "none"))
		args->sched = RECORD_SCHED_NONE;
	else {
		snprintf(err, errlen, "--sched takes perf, schedstat or none, not '%s'", mode);
		return -1;
	}
	args->no_sched = args->sched == RECORD_SCHED_NONE;
	return 0;
}

/* A number in [min, INT_MAX], or -1. */
static long parse_number(const char *value, long min)
{
	char *end;
	long n = strtol(value, &end, 10);
	return *value && !*end && n >= min && n <= INT_MAX ? n : -1;
}

/* An option that takes a value (arg is its name). Returns 0 or -1. */
static int parse_valued(const char *arg, const char *value, struct record_args *args, char *err,
			size_t errlen)
{
	if (arg[1] == 'o' || !strcmp(arg, "--output")) {
		args->output = value;
	} else if (!strcmp(arg, "--shm")) {
		args->shm_path = value;
	} else if (!strcmp(arg, "--keep-last") || !strcmp(arg, "--duration")) {
		char why[200];
		int64_t *ns = arg[2] == 'k' ? &args->keep_last_ns : &args->duration_ns;
		if (bound_parse_duration(value, ns, why, sizeof why)) {
			snprintf(err, errlen, "%s: %s", arg, why);
			return -1;
		}
	} else if (!strcmp(arg, "--max-size")) {
		char why[200];
		if (bound_parse_size(value, &args->max_bytes, why, sizeof why)) {
			snprintf(err, errlen, "%s: %s", arg, why);
			return -1;
		}
	} else if (!strcmp(arg, "--ready-fd")) {
		long fd = parse_number(value, 3);
		if (fd < 0) {
			snprintf(err, errlen,
				 "--ready-fd needs a file descriptor above 2, not '%s'", value);
			return -1;
		}
		args->ready_fd = (int)fd;
	} else {
		long pid = parse_number(value, 1);
		if (pid < 0) {
			snprintf(err, errlen, "--attach needs a process id, not '%s'", value);
			return -1;
		}
		args->attach_pid = (pid_t)pid;
	}
	return 0;
}

/* What the options say together, once all are read. Returns 0 or -1. */
static int check_record_args(const struct record_args *args, char *err, size_t errlen)
{
	if (args->attach_pid) {
		if (args->command) {
			snprintf(err, errlen, "--attach records a running process: no command");
			return -1;
		}
		if ((!args->shm_path && !args->ready_fd) || !args->output) {
			snprintf(err, errlen,
				 "--attach needs --shm PATH (or --ready-fd) and -o FILE");
			return -1;
		}
		return 0;
	}
	if (args->shm_path || args->ready_fd) {
		snprintf(err, errlen, "%s is only for --attach",
			 args->shm_path ? "--shm" : "--ready-fd");
		return -1;
	}
	if (!args->command) {
		snprintf(err, errlen, "no command to record");
		return -1;
	}
	return 0;
}

static bool takes_value(const char *arg)
{
	return !strcmp(arg, "-o") || !strcmp(arg, "--output") || !strcmp(arg, "--attach") ||
	       !strcmp(arg, "--shm") || !strcmp(arg, "--ready-fd") || !strcmp(arg, "--keep-last") ||
	       !strcmp(arg, "--max-size") || !strcmp(arg, "--duration");
}

int cmd_record_parse(int argc, char **argv, struct record_args *args, char *err, size_t errlen)
{
	*args = (struct record_args){0};
	int i = 1;
	for (; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (arg[0] != '-' || !arg[1])
			break;
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return 1;
		if (!strcmp(arg, "--force") || !strcmp(arg, "-f")) {
			args->force = true;
		} else if (!strcmp(arg, "-q") || !strcmp(arg, "--quiet")) {
			args->quiet = true;
		} else if (!strcmp(arg, "--no-sched")) {
			args->no_sched = true;
			args->sched = RECORD_SCHED_NONE;
		} else if (!strncmp(arg, "--sched=", 8)) {
			if (parse_sched(arg + 8, args, err, errlen))
				return -1;
		} else if (takes_value(arg)) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "option %s needs an argument", arg);
				return -1;
			}
			if (parse_valued(arg, argv[++i], args, err, errlen))
				return -1;
		} else if (!strncmp(arg, "--output=", 9)) {
			args->output = arg + 9;
		} else {
			snprintf(err, errlen, "unknown option '%s'", arg);
			return -1;
		}
	}
	if (i < argc)
		args->command = &argv[i];
	return check_record_args(args, err, errlen);
}

void cmd_record_default_output(const char *command, char *out, size_t cap)
{
	const char *slash = strrchr(command, '/');
	const char *base = slash ? slash + 1 : command;
	for (int n = 1;; n++) {
		snprintf(out, cap, "weft-%s-%d.db", base, n);
		if (access(out, F_OK) != 0)
			return;
	}
}

/* Find command like execvp would. Returns 0 with the path in out, or
 * -ENOENT / -EACCES. */
static int resolve_command(const char *command, char *out, size_t cap)
{
	if (strchr(command, '/')) {
		snprintf(out, cap, "%s", command);
		return access(out, F_OK) ? -ENOENT : access(out, X_OK) ? -EACCES : 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	int found_no_exec = 0;
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		snprintf(out, cap, "%.*s%s%s", (int)len, path, len ? "/" : "", command);
		struct stat st;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			found_no_exec = 1;
		}
		if (!colon)
			break;
		path = colon + 1;
	}
	return found_no_exec ? -EACCES : -ENOENT;
}

/* 1 when path is an ELF executable without PT_INTERP (static), else 0. */
static int is_static_elf(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	Elf64_Ehdr header;
	int result = 0;
	if (pread(fd, &header, sizeof header, 0) != sizeof header ||
	    memcmp(header.e_ident, ELFMAG, SELFMAG) || header.e_ident[EI_CLASS] != ELFCLASS64 ||
	    header.e_phentsize != sizeof(Elf64_Phdr))
		goto out;
	result = 1;
	for (int i = 0; i < header.e_phnum; i++) {
		Elf64_Phdr program;
		off_t offset = (off_t)header.e_phoff + (off_t)i * (off_t)sizeof program;
		if (pread(fd, &program, sizeof program, offset) != sizeof program) {
			result = 0;
			break;
		}
		if (program.p_type == PT_INTERP) {
			result = 0;
			break;
		}
	}
out:
	close(fd);
	return result;
}

/* Where libweft.so is. $WEFT_LIB when set; else, relative to the weft
 * binary itself (so a whole installed prefix can be moved), the first of
 * PREFIX/lib/weft/libweft.so (installed: a private directory) and
 * PREFIX/lib/libweft.so (the build tree) that is readable, where PREFIX is
 * <dir of weft>/.. .
 * Returns 0 with the path in out (cap bytes), or -ENOENT (or -errno of
 * WEFT_LIB) with the path or paths tried, joined by " and ", in out. */
static int find_library(char *out, size_t cap)
{
	const char *env = getenv("WEFT_LIB");
	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return access(out, R_OK) ? -errno : 0;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		int error = errno;
		snprintf(out, cap, "/proc/self/exe");
		return -error;
	}
	self[n] = '\0';
	/* /proc/self/exe has no symbolic links left: <dir of weft>/.. is the
	 * prefix, self without its last two components. */
	for (int up = 0; up < 2; up++) {
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
	}
	static const char *const candidates[] = {"lib/weft/libweft.so", "lib/libweft.so"};
	for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
		int len = snprintf(out, cap, "%s/%s", self, candidates[i]);
		if (len > 0 && (size_t)len < cap && access(out, R_OK) == 0)
			return 0;
	}
	int len = snprintf(out, cap, "%s/%s and %s/%s", self, candidates[0], self, candidates[1]);
	return len < 0 ? -EINVAL : -ENOENT;
}

/* argv joined with spaces, arguments with shell metacharacters quoted. */
static void join_command(char **argv, char *out, size_t cap)
{
	size_t used = 0;
	out[0] = '\0';
	for (int i = 0; argv[i] && used + 1 < cap; i++) {
		const char *arg = argv[i];
		int quote = !*arg || strpbrk(arg, " \t\n'\"\\$`|&;<>()*?[]#~{}!") != NULL;
		used += (size_t)snprintf(out + used, cap - used, "%s", i ? " " : "");
		if (used + 1 >= cap)
			break;
		if (!quote) {
			used += (size_t)snprintf(out + used, cap - used, "%s", arg);
			continue;
		}
		used += (size_t)snprintf(out + used, cap - used, "'");
		for (const char *p = arg; *p && used + 5 < cap; p++) {
			if (*p == '\'')
				used += (size_t)snprintf(out + used, cap - used, "'\\''");
			else
				out[used++] = *p;
		}
		out[used < cap ? used : cap - 1] = '\0';
		if (used + 1 < cap)
			used += (size_t)snprintf(out + used, cap - used, "'");
	}
	if (used >= cap)
		out[cap - 1] = '\0';
}

static void remove_trace(const char *path)
{
	char side[PATH_MAX + 8];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

/* Before anything runs: output must not exist, or (with --force) be a
 * finished weft trace, which is then removed. Returns 0, or -1 with one
 * line on stderr and nothing touched. */
static int make_room(const char *output, bool force)
{
	struct stat st;
	if (lstat(output, &st) < 0)
		return 0;
	if (!force) {
		fprintf(stderr, "weft: %s already exists (use --force to overwrite a trace)\n",
			output);
		return -1;
	}
	char why[256];
	if (tracedb_replace(output, why, sizeof why)) {
		fprintf(stderr, "weft: not replacing %s: it %s\n", output, why);
		return -1;
	}
	return 0;
}

/* A reader that kept the trace open (weftd) keeps it in WAL mode: say so
 * (every row is in the file all the same: tracedb_close checkpointed). */
static void warn_if_not_one_file(const char *output)
{
	char wal[PATH_MAX + 8];
	struct stat st;
	snprintf(wal, sizeof wal, "%s-wal", output);
	if (lstat(wal, &st) == 0)
		fprintf(stderr,
			"weft: %s is open in another program (weftd?): every row is in it, but it "
			"stays in WAL mode, with %s beside it, until that program closes it\n",
			output, wal);
}

/* One clear warning when the trace stopped being written (disk full). */
static void warn_if_incomplete(const char *output, const struct collect_summary *summary)
{
	if (!summary->incomplete)
		return;
	fprintf(stderr,
		"weft: warning: %s is incomplete: %s; it holds what was written until then "
		"(meta status 'incomplete'), %lld events after it were not written\n",
		output, summary->incomplete_reason, (long long)summary->events_unwritten);
}

static void print_summary(const char *output, const struct collect_summary *summary)
{
	fprintf(stderr,
		"weft: recorded %lld process%s, %lld thread%s, %lld events into %s (%lld lost",
		(long long)summary->processes, summary->processes == 1 ? "" : "es",
		(long long)summary->threads, summary->threads == 1 ? "" : "s",
		(long long)summary->events, output, (long long)summary->events_lost);
	if (summary->switches_lost)
		fprintf(stderr, ", %lld context switches lost", (long long)summary->switches_lost);
	if (summary->rings_corrupt)
		fprintf(stderr, ", %lld rings found scribbled over and dropped",
			(long long)summary->rings_corrupt);
	if (summary->threads_lost)
		fprintf(stderr, ", %lld threads untraced: no free ring",
			(long long)summary->threads_lost);
	fprintf(stderr, ")\n");
}

/* The signals weft handles differently from its workload, and how weft
 * found them (the workload gets them back as they were: a command started
 * with SIGINT ignored, as `cmd &` does, keeps it ignored). */
static const int own_signals[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE};
#define OWN_SIGNALS (sizeof own_signals / sizeof own_signals[0])

/* In the child: wait until the parent says go (its perf events are open),
 * then the workload's environment and signals, then exec. */
static void exec_workload(char **command, const char *library, const char *shm_path,
			  const sigset_t *mask, const struct sigaction *saved, int go_fd)
{
	char go;
	while (read(go_fd, &go, 1) < 0 && errno == EINTR)
		;
	close(go_fd);
	for (size_t i = 0; i < OWN_SIGNALS; i++)
		sigaction(own_signals[i], &saved[i], NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	const char *old = getenv("LD_PRELOAD");
	setenv("WEFT_SHM", shm_path, 1);
	if (access(library, R_OK) != 0) /* warned about already */
		goto run;
	char preload[PATH_MAX * 2];
	if (old && *old)
		snprintf(preload, sizeof preload, "%s:%s", library, old);
	else
		snprintf(preload, sizeof preload, "%s", library);
	setenv("LD_PRELOAD", preload, 1);
run:
	execvp(command[0], command);
	int error = errno;
	fprintf(stderr, "weft: cannot run '%s': %s\n", command[0], strerror(error));
	_exit(error == ENOENT ? 127 : 126);
}

/* pid's command line from /proc, arguments joined with spaces, into out
 * ("" when unreadable). */
static void read_cmdline(pid_t pid, char *out, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, cap - 1);
	close(fd);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	while (n > 0 && out[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
}

/* collect_options.progress: finishing the trace takes longer than a
 * moment (it should not: its indexes and summary grow as it is written),
 * so say what it is doing rather than sit silent after the program has
 * ended. ctx: the trace's path. */
static void tell_finishing(void *ctx, const char *what, int64_t elapsed_ns)
{
	fprintf(stderr, "weft: finishing %s: %s (%.1f s so far)\n", (const char *)ctx, what,
		(double)elapsed_ns / 1e9);
}

/* Attach mode's answer to the process that started it (launch.h), on
 * args->ready_fd when given: "ok <ring file>", or "error <why>" (also on
 * stderr). */
static void answer_launcher(const struct record_args *args, const char *why, const char *shm_path)
{
	if (why)
		fprintf(stderr, "weft: %s\n", why);
	if (args->ready_fd <= 0)
		return;
	char line[600];
	int n = why ? snprintf(line, sizeof line, "error %s\n", why)
		    : snprintf(line, sizeof line, "ok %s\n", shm_path);
	if (n > 0 &&
	    write(args->ready_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
		why = NULL; /* the launcher is gone: nobody to tell */
	close(args->ready_fd);
}

static int record_attach(const struct record_args *args)
{
	char command[4096];
	read_cmdline(args->attach_pid, command, sizeof command);
	struct collect_options options = {
	    .command = command[0] ? command : NULL,
	    .db_path = args->output,
	    .shm_path = args->shm_path,
	    .mode = COLLECT_ATTACH,
	    .attach_pid = args->attach_pid,
	    .progress = args->quiet ? NULL : tell_finishing,
	    .progress_ctx = (void *)args->output,
	    .keep_last_ns = args->keep_last_ns,
	    .max_bytes = args->max_bytes,
	    .duration_ns = args->duration_ns,
	};
	char err[512] = "", why[600];
	struct collect *collect;
	struct stat st;
	assert(args->output); /* cmd_record_parse: --attach needs -o */
	if (!args->force && lstat(args->output, &st) == 0) {
		snprintf(why, sizeof why, "%s already exists", args->output);
		answer_launcher(args, why, NULL);
		return 1;
	}
	if (args->force && tracedb_replace(args->output, err, sizeof err)) {
		snprintf(why, sizeof why, "not replacing %s: it %s", args->output, err);
		answer_launcher(args, why, NULL);
		return 1;
	}
	int rc = collect_open(&options, &collect, err, sizeof err);
	if (rc) {
		snprintf(why, sizeof why, "cannot create %s: %s", args->output,
			 err[0] ? err : strerror(-rc));
		answer_launcher(args, why, NULL);
		return 1;
	}
	answer_launcher(args, NULL, collect_shm_path(collect));
	/* perf opened now would miss the threads that already run: sample. */
	if (args->sched != RECORD_SCHED_NONE && args->sched != RECORD_SCHED_PERF)
		rc = collect_watch_schedstat(
		    collect, "attach mode: perf would not see the threads already running");
	else if (args->sched == RECORD_SCHED_PERF)
		rc = collect_watch_sched(collect, args->attach_pid);
	if (rc && !args->quiet)
		fprintf(stderr,
			"weft: no scheduler data (%s); Running will mean "
			"'not in a blocking call'\n",
			strerror(-rc));
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	stop_collector = collect;
	signal(SIGTERM, on_forwarded_signal);
	signal(SIGHUP, on_forwarded_signal);
	rc = collect_run(collect);
	struct collect_summary summary;
	int finish = collect_finish(collect, rc ? "interrupted" : "complete", &summary);
	stop_collector = NULL;
	collect_close(collect);
	warn_if_incomplete(args->output, &summary);
	if (rc || finish) {
		fprintf(stderr, "weft: writing %s failed\n", args->output);
		return 1;
	}
	if (!summary.incomplete)
		warn_if_not_one_file(args->output);
	if (!args->quiet)
		print_summary(args->output, &summary);
	return 0;
}

/* Between fork and exec: open perf on the workload, or sample schedstat,
 * as --sched asks (see enum record_sched). */
static void watch_scheduler(struct collect *collect, pid_t pid, const struct record_args *args)
{
	char reason[256] = "forced with --sched=schedstat";
	if (args->sched == RECORD_SCHED_AUTO || args->sched == RECORD_SCHED_PERF) {
		int rc = collect_watch_sched(collect, pid);
		if (!rc)
			return;
		int paranoid = -1;
		FILE *file = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
		if (file) {
			if (fscanf(file, "%d", &paranoid) != 1)
				paranoid = -1;
			fclose(file);
		}
		snprintf(reason, sizeof reason, "perf_event_open: %s (perf_event_paranoid %d)",
			 strerror(-rc), paranoid);
		if (args->sched == RECORD_SCHED_PERF) {
			if (!args->quiet)
				fprintf(stderr,
					"weft: no scheduler data (%s); Running will mean "
					"'not in a blocking call'\n",
					reason);
			return;
		}
	}
	if (args->sched == RECORD_SCHED_NONE)
		return;
	int rc = collect_watch_schedstat(collect, reason);
	if (!args->quiet && args->sched == RECORD_SCHED_AUTO)
		fprintf(stderr, "weft: no perf (%s): sampling /proc schedstat instead%s%s\n",
			reason, rc ? ", which failed too: " : "", rc ? strerror(-rc) : "");
	else if (rc && !args->quiet)
		fprintf(stderr,
			"weft: no schedstat (%s); Running will mean 'not in a "
			"blocking call'\n",
			strerror(-rc));
}

/* What a recording needs before the command runs: its resolved path, the
 * library, the output (made room for) and the command line. Returns 0, or
 * the exit status with the error told. */
struct record_plan {
	char path[PATH_MAX], library[PATH_MAX], output[PATH_MAX];
	char command_line[8192];
};

static int plan_recording(const struct record_args *args, struct record_plan *plan)
{
	assert(args->command && args->command[0]); /* cmd_record_parse: a command */
	int rc = resolve_command(args->command[0], plan->path, sizeof plan->path);
	if (rc) {
		fprintf(stderr, "weft: cannot run '%s': %s\n", args->command[0], strerror(-rc));
		return rc == -ENOENT ? 127 : 126;
	}
	rc = find_library(plan->library, sizeof plan->library);
	if (rc) {
		fprintf(stderr,
			"weft: cannot find libweft.so (tried %s: %s); set WEFT_LIB to its "
			"path\n",
			plan->library, strerror(-rc));
		return 1;
	}
	if (args->output)
		snprintf(plan->output, sizeof plan->output, "%s", args->output);
	else
		cmd_record_default_output(args->command[0], plan->output, sizeof plan->output);
	if (make_room(plan->output, args->force))
		return 1;
	if (is_static_elf(plan->path))
		fprintf(stderr,
			"weft: %s is statically linked: libweft.so cannot load into it, so "
			"only what the kernel shows is recorded (its threads and when they "
			"run), not its calls\n",
			plan->path);
	join_command(args->command, plan->command_line, sizeof plan->command_line);
	return 0;
}

/* The recorder's own signals while the workload runs: SIGTERM and SIGHUP
 * are blocked (old_mask: as they were) until the workload is forked, then
 * forwarded to it; SIGINT and SIGQUIT (the terminal's, which reach the
 * workload too) and SIGPIPE are ignored. saved: the dispositions the
 * workload gets back. */
static void take_signals(sigset_t *old_mask, struct sigaction saved[OWN_SIGNALS])
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, old_mask);
	for (size_t i = 0; i < OWN_SIGNALS; i++)
		sigaction(own_signals[i], NULL, &saved[i]);
	struct sigaction ignore = {.sa_handler = SIG_IGN};
	sigemptyset(&ignore.sa_mask);
	sigaction(SIGINT, &ignore, NULL);
	sigaction(SIGQUIT, &ignore, NULL);
	sigaction(SIGPIPE, &ignore, NULL); /* a closed stderr must not kill the recorder */
	struct sigaction forward = {.sa_handler = on_forwarded_signal, .sa_flags = SA_RESTART};
	sigemptyset(&forward.sa_mask);
	sigaction(SIGTERM, &forward, NULL);
	sigaction(SIGHUP, &forward, NULL);
}

/* Forks the workload, which waits on a pipe until the scheduler is
 * watched, then runs. Returns its pid, or -1 with the error told (the
 * trace is then removed). */
static pid_t start_workload(const struct record_args *args, const struct record_plan *plan,
			    struct collect *collect, const sigset_t *old_mask,
			    const struct sigaction saved[OWN_SIGNALS])
{
	fflush(NULL);
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0) {
		fprintf(stderr, "weft: cannot create a pipe: %s\n", strerror(errno));
		return -1;
	}
	int64_t fork_ts = collect_now();
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		exec_workload(args->command, plan->library, collect_shm_path(collect), old_mask,
			      saved, go[0]);
	}
	close(go[0]);
	if (pid < 0) {
		fprintf(stderr, "weft: cannot fork: %s\n", strerror(errno));
		close(go[1]);
		return -1;
	}
	forward_pid = pid;
	watch_scheduler(collect, pid, args);
	close(go[1]); /* the workload may run */
	const char *slash = strrchr(args->command[0], '/');
	collect_set_root(collect, pid, fork_ts, slash ? slash + 1 : args->command[0],
			 plan->command_line);
	return pid;
}

/* Records until the workload and its descendants are gone, finishes the
 * trace and says how it went. Returns the workload's exit status as a
 * shell reports it (1 when it was never reaped). */
static int record_until_done(struct collect *collect, const char *output, bool quiet)
{
	int rc = collect_run(collect);
	struct collect_summary summary;
	int finish = collect_finish(collect, rc ? "interrupted" : "complete", &summary);
	collect_close(collect);
	if (rc || finish)
		fprintf(stderr, "weft: writing %s failed\n", output);
	else if (summary.incomplete)
		warn_if_incomplete(output, &summary);
	else if (!quiet)
		print_summary(output, &summary);
	if (!rc && !finish && !summary.incomplete)
		warn_if_not_one_file(output);
	if (!summary.root_reaped)
		return 1;
	if (WIFSIGNALED(summary.root_status))
		return 128 + WTERMSIG(summary.root_status);
	return WEXITSTATUS(summary.root_status);
}

static int record_exec(int argc, char **argv)
{
	struct record_args args;
	char err[512];
	int rc = cmd_record_parse(argc, argv, &args, err, sizeof err);
	if (rc > 0) {
		cmd_print_help(&cmd_record_entry);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "weft record: %s (see weft record --help)\n", err);
		return 2;
	}
	if (args.attach_pid)
		return record_attach(&args);
	struct record_plan plan;
	if ((rc = plan_recording(&args, &plan)))
		return rc;
	struct collect_options options = {
	    .db_path = plan.output,
	    .mode = COLLECT_PARENT,
	    .command = plan.command_line,
	    .progress = args.quiet ? NULL : tell_finishing,
	    .progress_ctx = plan.output,
	    .keep_last_ns = args.keep_last_ns,
	    .max_bytes = args.max_bytes,
	    .duration_ns = args.duration_ns,
	};
	struct collect *collect;
	err[0] = '\0';
	rc = collect_open(&options, &collect, err, sizeof err);
	if (rc) {
		fprintf(stderr, "weft: cannot create %s: %s\n", plan.output,
			err[0] ? err : strerror(-rc));
		return 1;
	}
	sigset_t old_mask;
	struct sigaction saved[OWN_SIGNALS];
	take_signals(&old_mask, saved);
	if (start_workload(&args, &plan, collect, &old_mask, saved) < 0) {
		collect_close(collect);
		remove_trace(plan.output);
		return 1;
	}
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return record_until_done(collect, plan.output, args.quiet);
}

const struct cmd_entry cmd_record_entry = {
    .name = "record",
    .usage = "record [-o FILE] [--force] [-q] [--sched=MODE] [--keep-last DURATION]\n"
	     "                   [--max-size SIZE] [--duration DURATION] [--] CMD [ARGS...]\n"
	     "       weft record --attach PID (--shm PATH | --ready-fd FD) -o FILE",
    .summary = "run a command and record what its threads and processes do",
    .help = "Runs CMD with libweft.so preloaded and writes its trace, a SQLite file.\n"
	    "weft exits with CMD's exit status (128+N when a signal N killed it).\n"
	    "\n"
	    "  -o, --output FILE  the trace to write (default: weft-CMD-N.db)\n"
	    "  -f, --force        replace FILE if it is a weft trace not being\n"
	    "                     recorded (anything else is refused, untouched)\n"
	    "  -q, --quiet        no summary line on stderr\n"
	    "  --sched=MODE       where Running/Ready/Blocked come from (meta\n"
	    "                     capture_mode): perf (context switches), schedstat\n"
	    "                     (/proc CPU counters sampled every 10 ms), none\n"
	    "                     (Running means 'not in a blocking call': 'calls').\n"
	    "                     Default: perf, else schedstat when perf is not\n"
	    "                     allowed (meta sched_fallback_reason says why);\n"
	    "                     with --attach: schedstat (perf would see only the\n"
	    "                     attached thread and what it starts from then on)\n"
	    "  --no-sched         the same as --sched=none\n"
	    "  --attach PID       record processes that preloaded libweft.so by hand:\n"
	    "                     create the ring file at --shm PATH and record until\n"
	    "                     PID and every process that attached are gone\n"
	    "  --ready-fd FD      with --attach: write \"ok RINGFILE\" (or \"error WHY\")\n"
	    "                     and a newline to FD once recording (or not), close\n"
	    "                     it; without --shm the ring file is a memfd\n"
	    "  --keep-last DURATION  flight recorder: keep the spans of the last\n"
	    "                     DURATION only, dropping older ones in whole chunks\n"
	    "                     (process, thread and object rows stay; meta\n"
	    "                     dropped_before_ts and dropped_rows say what went)\n"
	    "  --max-size SIZE    stop adding events once the trace would pass SIZE;\n"
	    "                     the program runs on untouched (meta truncated\n"
	    "                     'max-size' and truncated_ts say when)\n"
	    "  --duration DURATION  record the first DURATION, then let the program\n"
	    "                     run on untraced (meta truncated 'duration')\n"
	    "                     DURATION: 500ms, 10s, 5m, 2h; SIZE: bytes or\n"
	    "                     64K, 500M, 2G\n"
	    "  -h, --help         this help\n"
	    "\n"
	    "Environment: WEFT_LIB overrides the path of libweft.so (default:\n"
	    "<dir of weft>/../lib/weft/libweft.so, else <dir of weft>/../lib/libweft.so).\n",
    .exec = record_exec,
};
