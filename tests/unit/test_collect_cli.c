/*
 * test_collect_cli.c — the weft command line: argument parsing of record,
 * query and export, the default output name, and `weft query` printing a
 * real trace as a table, CSV and JSON, refusing newer schemas.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cmd.h"
#include "test_collect_util.h"
#include "tracedb.h"

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
#define PARSE(fn, args, ...) fn(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), args, err, sizeof err)

static void record_takes_options_then_the_command(void **state)
{
	struct record_args args;
	char err[256];
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "-o", "run.db", "--", "ls", "-l"),
			 0);
	assert_string_equal(args.output, "run.db");
	assert_false(args.force);
	assert_string_equal(args.command[0], "ls");
	assert_string_equal(args.command[1], "-l");
	assert_null(args.command[2]);
	/* Without "--", the first non-option starts the command and its own
	 * options stay its own. */
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--force", "grep", "-o", "x"), 0);
	assert_true(args.force);
	assert_false(args.no_sched);
	assert_null(args.output);
	assert_string_equal(args.command[0], "grep");
	assert_string_equal(args.command[1], "-o");
}

static void record_rejects_what_it_cannot_run(void **state)
{
	struct record_args args;
	char err[256];
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "-o", "run.db"), -1);
	assert_non_null(strstr(err, "no command"));
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "-o"), -1);
	assert_non_null(strstr(err, "-o"));
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--bogus", "ls"), -1);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--help"), 1);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--no-sched", "-q", "ls"), 0);
	assert_true(args.no_sched);
	assert_true(args.quiet);
}

static void record_sched_picks_perf_schedstat_or_none(void **state)
{
	struct record_args args;
	char err[256];
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "ls"), 0);
	assert_int_equal(args.sched, RECORD_SCHED_AUTO);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--sched=schedstat", "ls"), 0);
	assert_int_equal(args.sched, RECORD_SCHED_SCHEDSTAT);
	assert_false(args.no_sched);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--sched=perf", "ls"), 0);
	assert_int_equal(args.sched, RECORD_SCHED_PERF);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--sched=none", "ls"), 0);
	assert_int_equal(args.sched, RECORD_SCHED_NONE);
	assert_true(args.no_sched);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--no-sched", "ls"), 0);
	assert_int_equal(args.sched, RECORD_SCHED_NONE);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--sched=ebpf", "ls"), -1);
	assert_non_null(strstr(err, "ebpf"));
}

static void record_attach_needs_shm_and_output_and_no_command(void **state)
{
	struct record_args args;
	char err[256];
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--attach", "123", "--shm",
			       "/dev/shm/weft-x", "-o", "run.db"),
			 0);
	assert_int_equal(args.attach_pid, 123);
	assert_string_equal(args.shm_path, "/dev/shm/weft-x");
	assert_null(args.command);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--attach", "123", "-o", "r.db"),
			 -1);
	assert_int_equal(
	    PARSE(cmd_record_parse, &args, "record", "--attach", "12x", "--shm", "s", "-o", "r.db"),
	    -1);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--attach", "1", "--shm", "s",
			       "-o", "r.db", "ls"),
			 -1);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--shm", "s", "ls"), -1);
}

/* --ready-fd: where --attach tells its launcher it started (launch.h). */
static void record_ready_fd_is_for_attach_and_above_stdio(void **state)
{
	struct record_args args;
	char err[256];
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--attach", "12", "--shm", "s",
			       "-o", "r.db", "--ready-fd", "3"),
			 0);
	assert_int_equal(args.ready_fd, 3);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--attach", "12", "--shm", "s",
			       "-o", "r.db", "--ready-fd", "1"),
			 -1);
	assert_non_null(strstr(err, "--ready-fd"));
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--ready-fd", "3", "ls"), -1);
	assert_non_null(strstr(err, "only for --attach"));
}

static void record_bounds_take_units_and_refuse_the_rest(void **state)
{
	struct record_args args;
	char err[256];
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--keep-last", "5m", "--max-size",
			       "500M", "--duration", "10s", "ls"),
			 0);
	assert_true(args.keep_last_ns == 300ll * 1000000000ll);
	assert_true(args.max_bytes == 500ll << 20);
	assert_true(args.duration_ns == 10ll * 1000000000ll);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--max-size", "2G", "--duration",
			       "500ms", "ls"),
			 0);
	assert_true(args.max_bytes == 2ll << 30);
	assert_true(args.duration_ns == 500ll * 1000000ll);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--max-size", "4096", "ls"), 0);
	assert_true(args.max_bytes == 4096);
	static char bad[][2][16] = {
	    {"--keep-last", "10"},
	    {"--keep-last", "s"},
	    {"--duration", "-5s"},
	    {"--duration", "0s"},
	    {"--duration", "1.5s"},
	    {"--duration", "5 m"},
	    {"--max-size", "0"},
	    {"--max-size", "2X"},
	    {"--max-size", "M"},
	    {"--max-size", "99999999999T"},
	    {"--duration", "99999999999h"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(
		    PARSE(cmd_record_parse, &args, "record", bad[i][0], bad[i][1], "ls"), -1);
		assert_non_null(strstr(err, bad[i][0]));
		assert_non_null(strstr(err, bad[i][1]));
	}
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "ls", "--duration"), 0);
	assert_int_equal(PARSE(cmd_record_parse, &args, "record", "--duration"), -1);
	assert_non_null(strstr(err, "needs an argument"));
}

static void default_output_name_never_reuses_a_file(void **state)
{
	char dir[] = "/tmp/weft-test-cli-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(dir), 0);
	char name[256];
	cmd_record_default_output("/usr/bin/sort", name, sizeof name);
	assert_string_equal(name, "weft-sort-1.db");
	close(open(name, O_CREAT | O_WRONLY, 0600));
	cmd_record_default_output("sort", name, sizeof name);
	assert_string_equal(name, "weft-sort-2.db");
	unlink("weft-sort-1.db");
	assert_int_equal(chdir(cwd), 0);
	rmdir(dir);
}

static void query_and_export_parse_their_arguments(void **state)
{
	struct query_args query;
	struct export_args export;
	char err[256];
	assert_int_equal(PARSE(cmd_query_parse, &query, "query", "run.db", "SELECT 1", "--csv"), 0);
	assert_string_equal(query.file, "run.db");
	assert_string_equal(query.sql, "SELECT 1");
	assert_int_equal(query.format, QUERY_CSV);
	assert_int_equal(PARSE(cmd_query_parse, &query, "query", "--json", "run.db", "SELECT 1"),
			 0);
	assert_int_equal(query.format, QUERY_JSON);
	assert_int_equal(PARSE(cmd_query_parse, &query, "query", "run.db"), -1);
	assert_int_equal(PARSE(cmd_query_parse, &query, "query", "a", "b", "c"), -1);
	assert_int_equal(PARSE(cmd_export_parse, &export, "export", "run.db", "--format",
			       "chrome-json", "-o", "out.json"),
			 0);
	assert_string_equal(export.output, "out.json");
	assert_int_equal(
	    PARSE(cmd_export_parse, &export, "export", "run.db", "--format", "svg", "-o", "x"), -1);
	assert_non_null(strstr(err, "svg"));
	assert_int_equal(PARSE(cmd_export_parse, &export, "export", "run.db"), -1);
	assert_ptr_equal(cmd_find("record"), &cmd_record_entry);
	assert_ptr_equal(cmd_find("query"), &cmd_query_entry);
	assert_null(cmd_find("frobnicate"));
}

/* Run `weft query` with its stdout captured into out. Returns its status. */
static int run_query(char **argv, int argc, char *out, size_t cap)
{
	char path[] = "/tmp/weft-test-cli-out-XXXXXX";
	int fd = mkstemp(path);
	fflush(stdout);
	int saved = dup(1);
	dup2(fd, 1);
	int status = cmd_query_entry.exec(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	ssize_t n = pread(fd, out, cap - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return status;
}

static void make_trace(char *path, size_t cap)
{
	temp_db_path(path, cap, "cli");
	struct tracedb *db;
	assert_int_equal(tracedb_create(path, &db, NULL, 0), 0);
	struct tracedb_process p = {.upid = 1,
				    .pid = 42,
				    .ppid = -1,
				    .parent_upid = -1,
				    .name = "a,b",
				    .cmdline = "say \"hi\"",
				    .start_ts = 0,
				    .end_ts = 10,
				    .exit_code = 0,
				    .exit_signal = -1,
				    .traced = 1};
	assert_int_equal(tracedb_process_insert(db, &p), 0);
	p.upid = 2;
	p.pid = 1234;
	p.name = "sh";
	p.cmdline = NULL;
	assert_int_equal(tracedb_process_insert(db, &p), 0);
	assert_int_equal(tracedb_finish(db, "complete"), 0);
	tracedb_close(db);
}

static void query_prints_table_csv_and_json(void **state)
{
	char path[512], out[4096];
	make_trace(path, sizeof path);
	char sql[] = "SELECT pid, name, cmdline FROM process ORDER BY upid";
	assert_int_equal(run_query(ARGV("query", path, sql), 3, out, sizeof out), 0);
	assert_string_equal(out, "pid   name  cmdline\n"
				 "----  ----  --------\n"
				 "  42  a,b   say \"hi\"\n"
				 "1234  sh    \n");
	assert_int_equal(run_query(ARGV("query", path, sql, "--csv"), 4, out, sizeof out), 0);
	assert_string_equal(out,
			    "pid,name,cmdline\r\n42,\"a,b\",\"say \"\"hi\"\"\"\r\n1234,sh,\\N\r\n");
	assert_int_equal(run_query(ARGV("query", path, sql, "--json"), 4, out, sizeof out), 0);
	assert_string_equal(out,
			    "[\n{\"pid\":42,\"name\":\"a,b\",\"cmdline\":\"say \\\"hi\\\"\"},\n"
			    "{\"pid\":1234,\"name\":\"sh\",\"cmdline\":null}\n]\n");
	assert_int_not_equal(
	    run_query(ARGV("query", path, "SELECT nope FROM process"), 3, out, sizeof out), 0);
	/* Read-only: writing fails and changes nothing. */
	assert_int_not_equal(
	    run_query(ARGV("query", path, "DELETE FROM process"), 3, out, sizeof out), 0);
	assert_int_equal(sql_int(path, "SELECT count(*) FROM process"), 2);
	remove_db(path);
}

static void query_refuses_a_newer_schema(void **state)
{
	char path[512], out[256];
	temp_db_path(path, sizeof path, "cli-v2");
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA user_version = 2; CREATE TABLE t(x);", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(run_query(ARGV("query", path, "SELECT 1"), 3, out, sizeof out), 1);
	assert_string_equal(out, "");
	remove_db(path);
}

#ifdef WEFT_HAVE_EXPORT
static void export_writes_chrome_json_naming_every_process(void **state)
{
	char path[512], json[600], text[8192];
	make_trace(path, sizeof path);
	snprintf(json, sizeof json, "%s.json", path);
	unlink(json);
	assert_int_equal(
	    cmd_export_entry.exec(6, ARGV("export", path, "--format", "chrome-json", "-o", json)),
	    0);
	FILE *file = fopen(json, "r");
	assert_non_null(file);
	size_t n = fread(text, 1, sizeof text - 1, file);
	text[n] = '\0';
	fclose(file);
	assert_non_null(strstr(text, "\"traceEvents\""));
	assert_non_null(strstr(text, "\"pid\":1234"));
	assert_non_null(strstr(text, "\"name\":\"a,b\""));
	unlink(json);
	/* A missing trace: an error and no output file. */
	assert_int_not_equal(
	    cmd_export_entry.exec(4, ARGV("export", "/nonexistent/run.db", "-o", json)), 0);
	assert_int_not_equal(access(json, F_OK), 0);
	remove_db(path);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(record_takes_options_then_the_command),
	    cmocka_unit_test(record_rejects_what_it_cannot_run),
	    cmocka_unit_test(record_sched_picks_perf_schedstat_or_none),
	    cmocka_unit_test(record_attach_needs_shm_and_output_and_no_command),
	    cmocka_unit_test(record_ready_fd_is_for_attach_and_above_stdio),
	    cmocka_unit_test(record_bounds_take_units_and_refuse_the_rest),
	    cmocka_unit_test(default_output_name_never_reuses_a_file),
	    cmocka_unit_test(query_and_export_parse_their_arguments),
	    cmocka_unit_test(query_prints_table_csv_and_json),
	    cmocka_unit_test(query_refuses_a_newer_schema),
#ifdef WEFT_HAVE_EXPORT
	    cmocka_unit_test(export_writes_chrome_json_naming_every_process),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
