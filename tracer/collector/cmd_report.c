/*
 * cmd_report.c — `weft report FILE [--json]`: the one page to read after a
 * recording. Wall and CPU time, parallelism, the critical path's breakdown
 * (by state, thread and object), the top waits with their holders, lost
 * events and processes that failed, led by the deadlocks and lock-order
 * inversions found (or the word that there were none). The numbers come from
 * facts.c; this file only lays them out, as text or as one JSON object.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cmd.h"
#include "facts.h"
#include "json.h"

#define REPORT_TOP 10

int cmd_report_parse(int argc, char **argv, struct report_args *args, char *err, size_t errlen)
{
	*args = (struct report_args){0};
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return 1;
		if (!strcmp(arg, "--json")) {
			args->json = true;
		} else if (arg[0] == '-' && arg[1]) {
			snprintf(err, errlen, "unknown option '%s'", arg);
			return -1;
		} else if (args->files[1]) {
			snprintf(err, errlen, "unexpected argument '%s'", arg);
			return -1;
		} else {
			args->files[args->files[0] ? 1 : 0] = arg;
		}
	}
	if (!args->files[0]) {
		snprintf(err, errlen, "need a trace file");
		return -1;
	}
	return 0;
}

int cmd_load_facts(const char *file, struct facts *facts)
{
	sqlite3 *db;
	if (cmd_open_trace(file, &db))
		return -EIO;
	if (sqlite3_exec(db, "SELECT 1 FROM meta LIMIT 1", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "weft: cannot read %s as a trace: %s\n", file, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -EIO;
	}
	int rc = facts_load(db, facts);
	if (rc == -ENOENT)
		fprintf(stderr, "weft: %s has no finished process to report on\n", file);
	else if (rc)
		fprintf(stderr, "weft: reading %s failed: %s\n", file,
			rc == -EIO ? sqlite3_errmsg(db) : strerror(-rc));
	sqlite3_close(db);
	return rc;
}

static double share(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_list(const char *title, const struct fact_list *list, int64_t whole, bool use_key)
{
	char time[32];
	printf("\n  %s\n", title);
	if (!list->count)
		printf("    (none)\n");
	for (size_t i = 0; i < list->count && i < REPORT_TOP; i++) {
		const struct fact *fact = &list->items[i];
		printf("    %-40.40s %12s %6.1f %%\n", use_key ? fact->key : fact->label,
		       facts_format_ns(time, sizeof time, fact->ns), share(fact->ns, whole));
	}
}

static void print_waits(const struct facts *f)
{
	char time[32];
	printf("\nTop waits (every thread, by object)\n");
	if (!f->waits.count)
		printf("  (no thread waited on a known object)\n");
	for (size_t i = 0; i < f->waits.count && i < REPORT_TOP; i++) {
		const struct fact *wait = &f->waits.items[i];
		const struct fact *held = facts_find(&f->holders, wait->key);
		printf("  %-40.40s %12s in %lld wait%s%s%s\n", wait->label,
		       facts_format_ns(time, sizeof time, wait->ns), (long long)wait->count,
		       wait->count == 1 ? "" : "s", held && held->label[0] ? ", held by " : "",
		       held ? held->label : "");
	}
}

/* What the report leads with: the deadlocks that happened and the lock
 * orders that could deadlock (none: said so). */
static void print_cycles(const struct facts *f)
{
	char time[32];
	if (!f->deadlocks)
		printf("Deadlocks: none\n");
	else
		printf("Deadlocks: %lld, threads each waiting for a lock the next one held (SELECT * "
		       "FROM deadlocks)\n",
		       (long long)f->deadlocks);
	for (size_t i = 0; i < f->deadlock_list.count; i++) {
		const struct fact *d = &f->deadlock_list.items[i];
		if (d->ns < 0)
			printf("  %s (still stuck when the recording ended)\n", d->label);
		else
			printf("  %s (for %s)\n", d->label,
			       facts_format_ns(time, sizeof time, d->ns));
	}
	if (!f->inversions)
		printf("Lock-order inversions: none (no locks taken in orders that could "
		       "deadlock)\n");
	else
		printf("Lock-order inversions: %lld, locks taken in orders that could deadlock, "
		       "though this run did not (SELECT * FROM lock_order_inversions)\n",
		       (long long)f->inversions);
	for (size_t i = 0; i < f->inversion_list.count; i++)
		printf("  %s\n", f->inversion_list.items[i].label);
}

static void print_text(const char *file, const struct facts *f)
{
	char wall[32], cpu[32];
	printf("weft report: %s\n\n", file);
	print_cycles(f);
	printf("\n");
	printf("  command      %s\n", f->command);
	printf("  status       %s, exit status %s\n", f->status[0] ? f->status : "unknown",
	       f->exit_status[0] ? f->exit_status : "unknown");
	printf("  wall time    %s\n", facts_format_ns(wall, sizeof wall, f->wall_ns));
	printf("  CPU time     %s: %.2f threads Running on average (parallelism)\n",
	       facts_format_ns(cpu, sizeof cpu, f->cpu_ns),
	       f->wall_ns ? (double)f->cpu_ns / (double)f->wall_ns : 0.0);
	printf("  processes    %lld, threads %lld\n", (long long)f->processes,
	       (long long)f->threads);
	printf("  lost         %lld events, %lld threads%s\n", (long long)f->events_lost,
	       (long long)f->threads_lost,
	       f->events_lost || f->threads_lost ? " (the trace is incomplete there)" : "");

	printf("\nCritical path (%s): the work and waits that set the wall time\n", wall);
	print_list("by state (Ready: waiting for a CPU; Blocked: waiting on something)",
		   &f->path_state, f->wall_ns, true);
	print_list("by thread", &f->path_thread, f->wall_ns, false);
	print_list("by object (blocked on it, or its holder/writer working)", &f->path_object,
		   f->wall_ns, false);
	print_waits(f);
	printf("\nProcesses that failed: %s\n", f->failures.count ? "" : "none");
	for (size_t i = 0; i < f->failures.count; i++)
		printf("  %s\n", f->failures.items[i].label);
}

static void json_list(struct json *j, const char *name, const struct fact_list *list,
		      const char *label_name, const char *count_name)
{
	json_key(j, name);
	json_arr_begin(j);
	for (size_t i = 0; i < list->count; i++) {
		const struct fact *fact = &list->items[i];
		json_obj_begin(j);
		json_key(j, "key");
		json_str(j, fact->key);
		if (label_name) {
			json_key(j, label_name);
			json_str(j, fact->label);
		}
		json_key(j, "ns");
		json_i64(j, fact->ns);
		json_key(j, count_name);
		json_i64(j, fact->count);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void json_facts(struct json *j, const struct facts *f)
{
	const struct {
		const char *key, *value;
	} texts[] = {{"command", f->command},
		     {"status", f->status},
		     {"exit_status", f->exit_status},
		     {"capture_mode", f->capture_mode}};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		json_key(j, texts[i].key);
		json_str(j, texts[i].value);
	}
	const struct {
		const char *key;
		int64_t value;
	} numbers[] = {{"wall_ns", f->wall_ns},		{"cpu_ns", f->cpu_ns},
		       {"processes", f->processes},	{"threads", f->threads},
		       {"events_lost", f->events_lost}, {"threads_lost", f->threads_lost},
		       {"deadlocks", f->deadlocks},	{"inversions", f->inversions}};
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
		json_key(j, numbers[i].key);
		json_i64(j, numbers[i].value);
	}
	json_key(j, "parallelism");
	json_double(j, f->wall_ns ? (double)f->cpu_ns / (double)f->wall_ns : 0.0);
	json_key(j, "critical_path");
	json_obj_begin(j);
	json_list(j, "by_state", &f->path_state, NULL, "segments");
	json_list(j, "by_thread", &f->path_thread, "thread", "segments");
	json_list(j, "by_object", &f->path_object, "object", "blocked_ns");
	json_obj_end(j);
	json_list(j, "waits", &f->waits, "object", "waits");
	json_list(j, "holders", &f->holders, "holders", "waits");
	json_list(j, "failures", &f->failures, "process", "count");
	json_list(j, "deadlock_list", &f->deadlock_list, "cycle", "threads");
	json_list(j, "inversion_list", &f->inversion_list, "cycle", "locks");
}

int cmd_print_json(struct json *j)
{
	size_t len;
	char *text = json_take(j, &len);
	if (!text) {
		fprintf(stderr, "weft: out of memory\n");
		return 1;
	}
	fwrite(text, 1, len, stdout);
	putchar('\n');
	free(text);
	return 0;
}

static int report_exec(int argc, char **argv)
{
	struct report_args args;
	char err[256];
	int rc = cmd_report_parse(argc, argv, &args, err, sizeof err);
	if (rc == 1) {
		cmd_print_help(&cmd_report_entry);
		return 0;
	}
	if (rc < 0 || args.files[1]) {
		fprintf(stderr, "weft: report: %s (see weft report --help)\n",
			rc < 0 ? err : "one trace at a time (weft diff compares two)");
		return 2;
	}
	struct facts facts;
	if (cmd_load_facts(args.files[0], &facts))
		return 1;
	rc = 0;
	if (args.json) {
		struct json j;
		json_init(&j);
		json_obj_begin(&j);
		json_key(&j, "file");
		json_str(&j, args.files[0]);
		json_facts(&j, &facts);
		json_obj_end(&j);
		rc = cmd_print_json(&j);
	} else {
		print_text(args.files[0], &facts);
	}
	facts_free(&facts);
	return rc;
}

const struct cmd_entry cmd_report_entry = {
    .name = "report",
    .usage = "report FILE [--json]",
    .summary = "one page on a trace: wall time, critical path, top waits",
    .help = "Prints what set the wall time of the recorded command (its critical path:\n"
	    "the chain of work and waits walked back from its end, by state, thread and\n"
	    "object), its CPU time and parallelism, the waits that took longest and who\n"
	    "held the lock, lost events and processes that failed. It leads with the\n"
	    "deadlocks and lock-order inversions (locks taken in orders that could\n"
	    "deadlock) found, or says there were none.\n\n"
	    "  --json   one JSON object instead of text\n",
    .exec = report_exec,
};
