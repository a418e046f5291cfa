/*
 * cmd_diff.c — `weft diff A B [--json]`: two runs of one command side by
 * side, and the differences that explain the change in wall time. Threads
 * and objects are matched by the keys of facts.h (names and order, not ids
 * or addresses); each list is the union of both runs' keys, sorted by the
 * size of the change, so what moved most comes first (format/factdiff.h,
 * which weftd's compare view shares). Objects waited on in
 * one run only are the new or vanished waits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "factdiff.h"
#include "facts.h"
#include "json.h"

#define DIFF_TOP 10

static const char *shown(const struct factdiff_change *c, bool use_key)
{
	return use_key || !c->label[0] ? c->key : c->label;
}

/* B - A with its sign: "+12.0 ms", "-3.000 s". */
static char *format_change(char *out, size_t cap, int64_t a, int64_t b)
{
	out[0] = b >= a ? '+' : '\0';
	facts_format_ns(out + (b >= a), cap - 1, b - a);
	return out;
}

static void print_changes(const char *title, const struct factdiff *list, bool use_key)
{
	char a[32], b[32], d[32];
	printf("\n%s\n", title);
	if (!list->count)
		printf("  (none in either run)\n");
	for (size_t i = 0; i < list->count && i < DIFF_TOP; i++) {
		const struct factdiff_change *c = &list->items[i];
		printf("  %-40.40s %12s %12s %13s%s\n", shown(c, use_key),
		       facts_format_ns(a, sizeof a, c->a), facts_format_ns(b, sizeof b, c->b),
		       format_change(d, sizeof d, c->a, c->b),
		       !c->in_a	  ? "  (new in B)"
		       : !c->in_b ? "  (gone in B)"
				  : "");
	}
}

enum { STATE, OBJECT, WAITS, THREADS, LISTS };

static const char *const titles[LISTS] = {
    [STATE] = "Critical path by state                          A            B        change",
    [OBJECT] = "Critical path by object                         A            B        change",
    [WAITS] = "Waits by object, every thread                   A            B        change",
    [THREADS] = "Time per thread and state                       A            B        change",
};
static const char *const json_names[LISTS] = {
    [STATE] = "critical_path_by_state",
    [OBJECT] = "critical_path_by_object",
    [WAITS] = "waits_by_object",
    [THREADS] = "thread_time",
};

static void print_headline(const struct facts *a, const struct facts *b,
			   const struct factdiff lists[LISTS])
{
	char ta[32], tb[32], td[32];
	printf("wall time   %s -> %s (%s, %.2fx)\n", facts_format_ns(ta, sizeof ta, a->wall_ns),
	       facts_format_ns(tb, sizeof tb, b->wall_ns),
	       format_change(td, sizeof td, a->wall_ns, b->wall_ns),
	       a->wall_ns ? (double)b->wall_ns / (double)a->wall_ns : 0.0);
	printf("CPU time    %s -> %s\n", facts_format_ns(ta, sizeof ta, a->cpu_ns),
	       facts_format_ns(tb, sizeof tb, b->cpu_ns));
	if (lists[OBJECT].count) {
		const struct factdiff_change *top = &lists[OBJECT].items[0];
		printf("Biggest change on the critical path by object: %s %s\n", top->label,
		       format_change(td, sizeof td, top->a, top->b));
	}
	if (lists[STATE].count) {
		const struct factdiff_change *top = &lists[STATE].items[0];
		printf("Biggest change on the critical path by state: %s %s\n", top->key,
		       format_change(td, sizeof td, top->a, top->b));
	}
}

static void json_changes(struct json *j, const char *name, const struct factdiff *list)
{
	json_key(j, name);
	json_arr_begin(j);
	for (size_t i = 0; i < list->count; i++) {
		const struct factdiff_change *c = &list->items[i];
		json_obj_begin(j);
		json_key(j, "key");
		json_str(j, c->key);
		json_key(j, "label");
		json_str(j, c->label);
		json_key(j, "a_ns");
		c->in_a ? json_i64(j, c->a) : json_null(j);
		json_key(j, "b_ns");
		c->in_b ? json_i64(j, c->b) : json_null(j);
		json_key(j, "change_ns");
		json_i64(j, c->b - c->a);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static int print_json(const struct report_args *args, const struct facts *a, const struct facts *b,
		      const struct factdiff lists[LISTS])
{
	struct json j;
	json_init(&j);
	json_obj_begin(&j);
	json_key(&j, "a");
	json_str(&j, args->files[0]);
	json_key(&j, "b");
	json_str(&j, args->files[1]);
	json_key(&j, "wall_ns");
	json_arr_begin(&j);
	json_i64(&j, a->wall_ns);
	json_i64(&j, b->wall_ns);
	json_arr_end(&j);
	json_key(&j, "cpu_ns");
	json_arr_begin(&j);
	json_i64(&j, a->cpu_ns);
	json_i64(&j, b->cpu_ns);
	json_arr_end(&j);
	for (int i = 0; i < LISTS; i++)
		json_changes(&j, json_names[i], &lists[i]);
	json_obj_end(&j);
	return cmd_print_json(&j);
}

static int diff_exec(int argc, char **argv)
{
	struct report_args args;
	char err[256];
	int rc = cmd_report_parse(argc, argv, &args, err, sizeof err);
	if (rc == 1) {
		cmd_print_help(&cmd_diff_entry);
		return 0;
	}
	if (rc < 0 || !args.files[1]) {
		fprintf(stderr, "weft: diff: %s (see weft diff --help)\n",
			rc < 0 ? err : "need two trace files");
		return 2;
	}
	struct facts a, b;
	struct factdiff lists[LISTS] = {0};
	if (cmd_load_facts(args.files[0], &a))
		return 1;
	int status = 1;
	if (cmd_load_facts(args.files[1], &b))
		goto out_a;
	const struct fact_list *pairs[LISTS][2] = {
	    [STATE] = {&a.path_state, &b.path_state},
	    [OBJECT] = {&a.path_object, &b.path_object},
	    [WAITS] = {&a.waits, &b.waits},
	    [THREADS] = {&a.thread_time, &b.thread_time},
	};
	for (int i = 0; i < LISTS; i++)
		if (factdiff_compare(pairs[i][0], pairs[i][1], &lists[i])) {
			fprintf(stderr, "weft: out of memory\n");
			goto out;
		}
	if (args.json) {
		status = print_json(&args, &a, &b, lists);
	} else {
		printf("weft diff: A %s\n           B %s\n\n", args.files[0], args.files[1]);
		print_headline(&a, &b, lists);
		print_changes(titles[STATE], &lists[STATE], true);
		print_changes(titles[OBJECT], &lists[OBJECT], false);
		print_changes(titles[WAITS], &lists[WAITS], false);
		print_changes(titles[THREADS], &lists[THREADS], false);
		status = 0;
	}
out:
	for (int i = 0; i < LISTS; i++)
		factdiff_free(&lists[i]);
	facts_free(&b);
out_a:
	facts_free(&a);
	return status;
}

const struct cmd_entry cmd_diff_entry = {
    .name = "diff",
    .usage = "diff A B [--json]",
    .summary = "compare two traces of one command: what changed the wall time",
    .help = "Compares two runs of the same command: wall and CPU time, the critical path\n"
	    "by state and by object, waits by object and time per thread and state, each\n"
	    "sorted by the size of the change. Threads are matched by process and thread\n"
	    "name and start order, objects by kind and the order of their first wait, so\n"
	    "runs with other pids and addresses line up.\n\n"
	    "  --json   one JSON object instead of text\n",
    .exec = diff_exec,
};
