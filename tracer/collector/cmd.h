/*
 * cmd.h — the commands of the `weft` CLI. Each command lives in its own
 * file (cmd_record.c, cmd_query.c, cmd_export.c) and exports one const
 * descriptor; cmd_table lists them. A command's exec gets argv with argv[0]
 * = the command's name, prints errors to stderr as "weft: ..." and returns
 * the process's exit status.
 *
 * Argument parsing is separate from running so that it can be tested:
 * each *_parse returns 0 with args filled, 1 when --help was asked (usage
 * printed by exec, not by parse), or -1 with a message in err.
 */
#ifndef WEFT_CMD_H
#define WEFT_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cmd_entry {
	const char *name;
	const char *usage;   /* the synopsis after "weft " */
	const char *summary; /* one line for `weft --help` */
	const char *help;    /* the rest of `weft CMD --help` */
	int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry cmd_record_entry;
extern const struct cmd_entry cmd_query_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_diff_entry;

/* NULL-terminated. */
extern const struct cmd_entry *const cmd_table[];

/* The command called name, or NULL. */
const struct cmd_entry *cmd_find(const char *name);

/* Print "usage: weft <usage>" and the help of entry to stdout. */
void cmd_print_help(const struct cmd_entry *entry);

/* --- record ------------------------------------------------------------ */

/* Where Running/Ready come from (--sched=MODE). */
enum record_sched {
	RECORD_SCHED_AUTO = 0,	/* perf, else schedstat */
	RECORD_SCHED_PERF,	/* perf, else interposed calls only */
	RECORD_SCHED_SCHEDSTAT, /* sampled /proc schedstat */
	RECORD_SCHED_NONE,	/* interposed calls only */
};

struct record_args {
	const char *output; /* NULL: weft-<cmd>-<N>.db */
	bool force;
	bool quiet;
	bool no_sched; /* --no-sched, --sched=none: interposed calls only */
	enum record_sched sched;
	pid_t attach_pid;     /* > 0: --attach mode */
	const char *shm_path; /* --shm */
	int ready_fd;	      /* --ready-fd: where --attach says it started (launch.h) */
	char **command;	      /* NULL-terminated, NULL in attach mode */
	int64_t keep_last_ns; /* --keep-last, 0: none */
	int64_t max_bytes;    /* --max-size, 0: none */
	int64_t duration_ns;  /* --duration, 0: none */
};

int cmd_record_parse(int argc, char **argv, struct record_args *args, char *err, size_t errlen);

/* The default output name for command: the first of weft-<base>-1.db,
 * weft-<base>-2.db, ... that does not exist in the current directory. */
void cmd_record_default_output(const char *command, char *out, size_t cap);

/* --- query ------------------------------------------------------------- */

enum query_format {
	QUERY_TABLE,
	QUERY_CSV,
	QUERY_JSON,
	QUERY_JSONL, /* one JSON object per line, for loaders */
};

struct query_args {
	const char *file;
	const char *sql;
	enum query_format format;
};

int cmd_query_parse(int argc, char **argv, struct query_args *args, char *err, size_t errlen);

/* --- export ------------------------------------------------------------ */

struct export_args {
	const char *file;
	const char *format;
	const char *output;
};

int cmd_export_parse(int argc, char **argv, struct export_args *args, char *err, size_t errlen);

/* --- report, diff ------------------------------------------------------ */

struct report_args {
	const char *files[2]; /* report: files[0]; diff: both */
	bool json;
};

/* Parses `report FILE [--json]` and `diff A B [--json]` alike. */
int cmd_report_parse(int argc, char **argv, struct report_args *args, char *err, size_t errlen);

struct facts;
struct json;
typedef struct sqlite3 sqlite3;

/* Opens the trace at path read-only (cmd_query.c): a regular file only;
 * immutable when no recording writes it and no WAL holds rows (nothing can
 * change it, and no lock or -shm is needed). Returns 0 and *db, or 1 with
 * the error printed and *db NULL. */
int cmd_open_trace(const char *path, sqlite3 **db);

/* facts_load on file, with errors told on stderr. Returns 0 or < 0. */
int cmd_load_facts(const char *file, struct facts *facts);

/* Prints the JSON text of j and a newline to stdout; the exit status. */
int cmd_print_json(struct json *j);

#endif
