/*
 * cmd_query.c — `weft query FILE SQL [--csv|--json]`: run SQL on a trace,
 * opened read-only, and print the rows as an aligned table (default), CSV
 * (RFC 4180 quoting) or a JSON array of objects. Several statements
 * separated by ';' run in order; each prints its own result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cmd.h"

#define QUERY_SCHEMA_VERSION 1

int cmd_query_parse(int argc, char **argv, struct query_args *args, char *err, size_t errlen)
{
	*args = (struct query_args){.format = QUERY_TABLE};
	int positional = 0;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return 1;
		if (!strcmp(arg, "--csv")) {
			args->format = QUERY_CSV;
		} else if (!strcmp(arg, "--json")) {
			args->format = QUERY_JSON;
		} else if (!strcmp(arg, "--table")) {
			args->format = QUERY_TABLE;
		} else if (arg[0] == '-' && arg[1] && positional < 2 && strchr(arg, ' ') == NULL) {
			snprintf(err, errlen, "unknown option '%s'", arg);
			return -1;
		} else if (positional == 0) {
			args->file = arg;
			positional++;
		} else if (positional == 1) {
			args->sql = arg;
			positional++;
		} else {
			snprintf(err, errlen, "unexpected argument '%s' (quote the SQL)", arg);
			return -1;
		}
	}
	if (!args->file || !args->sql) {
		snprintf(err, errlen, "need a trace file and an SQL statement");
		return -1;
	}
	return 0;
}

/* --- output ------------------------------------------------------------- */

struct rows {
	int columns;
	char **names;
	char **cells; /* rows x columns, NULL for SQL NULL */
	int *types;   /* SQLITE_INTEGER... per cell */
	size_t count;
	size_t cap;
};

static int rows_add(struct rows *rows, sqlite3_stmt *stmt)
{
	if (rows->count == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 64;
		char **cells = realloc(rows->cells, cap * (size_t)rows->columns * sizeof *cells);
		if (!cells)
			return -ENOMEM;
		rows->cells = cells;
		int *types = realloc(rows->types, cap * (size_t)rows->columns * sizeof *types);
		if (!types)
			return -ENOMEM;
		rows->types = types;
		rows->cap = cap;
	}
	for (int c = 0; c < rows->columns; c++) {
		size_t at = rows->count * (size_t)rows->columns + (size_t)c;
		int type = sqlite3_column_type(stmt, c);
		rows->types[at] = type;
		if (type == SQLITE_NULL) {
			rows->cells[at] = NULL;
		} else if (type == SQLITE_BLOB) {
			int n = sqlite3_column_bytes(stmt, c);
			const unsigned char *blob = sqlite3_column_blob(stmt, c);
			char *hex = malloc((size_t)n * 2 + 3);
			if (!hex)
				return -ENOMEM;
			strcpy(hex, "x'");
			for (int i = 0; i < n; i++)
				sprintf(hex + 2 + i * 2, "%02x", blob[i]);
			rows->cells[at] = hex;
		} else {
			const char *text = (const char *)sqlite3_column_text(stmt, c);
			rows->cells[at] = strdup(text ? text : "");
			if (!rows->cells[at])
				return -ENOMEM;
		}
	}
	rows->count++;
	return 0;
}

static void rows_free(struct rows *rows)
{
	for (size_t i = 0; i < rows->count * (size_t)rows->columns; i++)
		free(rows->cells[i]);
	for (int c = 0; c < rows->columns; c++)
		free(rows->names[c]);
	free(rows->names);
	free(rows->cells);
	free(rows->types);
}

static size_t display_width(const char *text)
{
	size_t width = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if ((*p & 0xC0) != 0x80)
			width++;
	return width;
}

static void print_table(const struct rows *rows)
{
	size_t *widths = calloc((size_t)rows->columns, sizeof *widths);
	if (!widths)
		return;
	for (int c = 0; c < rows->columns; c++)
		widths[c] = display_width(rows->names[c]);
	for (size_t r = 0; r < rows->count; r++)
		for (int c = 0; c < rows->columns; c++) {
			const char *cell = rows->cells[r * (size_t)rows->columns + (size_t)c];
			size_t w = cell ? display_width(cell) : 0;
			if (w > widths[c])
				widths[c] = w;
		}
	for (int pass = 0; pass < 2; pass++) {
		for (int c = 0; c < rows->columns; c++) {
			int pad = c + 1 < rows->columns
				      ? (int)(widths[c] - display_width(rows->names[c]))
				      : 0;
			if (pass == 0)
				printf("%s%s%*s", c ? "  " : "", rows->names[c], pad, "");
			else
				for (size_t i = 0; i < widths[c] + (c ? 2 : 0); i++)
					putchar(i < 2 && c ? ' ' : '-');
		}
		putchar('\n');
	}
	for (size_t r = 0; r < rows->count; r++) {
		for (int c = 0; c < rows->columns; c++) {
			size_t at = r * (size_t)rows->columns + (size_t)c;
			const char *cell = rows->cells[at] ? rows->cells[at] : "";
			int numeric =
			    rows->types[at] == SQLITE_INTEGER || rows->types[at] == SQLITE_FLOAT;
			int pad = (int)(widths[c] - display_width(cell));
			if (c)
				fputs("  ", stdout);
			if (numeric)
				printf("%*s%s", pad, "", cell);
			else if (c + 1 < rows->columns)
				printf("%s%*s", cell, pad, "");
			else
				fputs(cell, stdout);
		}
		putchar('\n');
	}
	free(widths);
}

static void print_csv_field(const char *text)
{
	if (!strpbrk(text, ",\"\r\n")) {
		fputs(text, stdout);
		return;
	}
	putchar('"');
	for (const char *p = text; *p; p++) {
		if (*p == '"')
			putchar('"');
		putchar(*p);
	}
	putchar('"');
}

static void print_csv(const struct rows *rows)
{
	for (int c = 0; c < rows->columns; c++) {
		if (c)
			putchar(',');
		print_csv_field(rows->names[c]);
	}
	fputs("\r\n", stdout);
	for (size_t r = 0; r < rows->count; r++) {
		for (int c = 0; c < rows->columns; c++) {
			const char *cell = rows->cells[r * (size_t)rows->columns + (size_t)c];
			if (c)
				putchar(',');
			print_csv_field(cell ? cell : "");
		}
		fputs("\r\n", stdout);
	}
}

static void print_json_string(const char *text)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p == '\r')
			fputs("\\r", stdout);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void print_json(const struct rows *rows)
{
	putchar('[');
	for (size_t r = 0; r < rows->count; r++) {
		fputs(r ? ",\n{" : "\n{", stdout);
		for (int c = 0; c < rows->columns; c++) {
			size_t at = r * (size_t)rows->columns + (size_t)c;
			if (c)
				putchar(',');
			print_json_string(rows->names[c]);
			putchar(':');
			const char *cell = rows->cells[at];
			int type = rows->types[at];
			if (!cell)
				fputs("null", stdout);
			else if (type == SQLITE_INTEGER ||
				 (type == SQLITE_FLOAT &&
				  strspn(cell, "0123456789.-+e") == strlen(cell)))
				fputs(cell, stdout);
			else
				print_json_string(cell);
		}
		putchar('}');
	}
	fputs(rows->count ? "\n]\n" : "]\n", stdout);
}

/* --- running ------------------------------------------------------------ */

static int run_statement(sqlite3 *db, sqlite3_stmt *stmt, enum query_format format)
{
	struct rows rows = {.columns = sqlite3_column_count(stmt)};
	int rc = 0;
	if (rows.columns) {
		rows.names = calloc((size_t)rows.columns, sizeof *rows.names);
		if (!rows.names)
			return -ENOMEM;
		for (int c = 0; c < rows.columns; c++) {
			const char *name = sqlite3_column_name(stmt, c);
			rows.names[c] = strdup(name ? name : "?");
		}
	}
	int step;
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (rows_add(&rows, stmt)) {
			rc = -ENOMEM;
			break;
		}
	}
	if (!rc && step != SQLITE_DONE) {
		fprintf(stderr, "weft: %s\n", sqlite3_errmsg(db));
		rc = -EIO;
	}
	if (!rc && rows.columns) {
		if (format == QUERY_CSV)
			print_csv(&rows);
		else if (format == QUERY_JSON)
			print_json(&rows);
		else
			print_table(&rows);
	}
	rows_free(&rows);
	return rc;
}

static int query_exec(int argc, char **argv)
{
	struct query_args args;
	char err[512];
	int rc = cmd_query_parse(argc, argv, &args, err, sizeof err);
	if (rc > 0) {
		cmd_print_help(&cmd_query_entry);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "weft query: %s (see weft query --help)\n", err);
		return 2;
	}
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(args.file, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "weft: cannot open %s: %s\n", args.file,
			db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return 1;
	}
	sqlite3_busy_timeout(db, 2000);
	sqlite3_stmt *stmt = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (version < 0) {
		fprintf(stderr, "weft: cannot read %s: %s\n", args.file, sqlite3_errmsg(db));
		sqlite3_close(db);
		return 1;
	}
	if (version > QUERY_SCHEMA_VERSION) {
		fprintf(stderr,
			"weft: %s has schema version %d; this weft reads up to %d: upgrade weft\n",
			args.file, version, QUERY_SCHEMA_VERSION);
		sqlite3_close(db);
		return 1;
	}
	if (version == 0)
		fprintf(stderr, "weft: warning: %s is not a weft trace (no schema version)\n",
			args.file);

	const char *sql = args.sql;
	int status = 0;
	while (sql && *sql) {
		const char *tail = NULL;
		stmt = NULL;
		if (sqlite3_prepare_v2(db, sql, -1, &stmt, &tail) != SQLITE_OK) {
			fprintf(stderr, "weft: %s\n", sqlite3_errmsg(db));
			status = 1;
			break;
		}
		if (stmt) {
			rc = run_statement(db, stmt, args.format);
			sqlite3_finalize(stmt);
			if (rc) {
				status = 1;
				break;
			}
		}
		sql = tail;
	}
	sqlite3_close(db);
	return status;
}

const struct cmd_entry cmd_query_entry = {
    .name = "query",
    .usage = "query FILE SQL [--csv|--json]",
    .summary = "run SQL on a trace and print the rows",
    .help = "Opens FILE read-only and runs SQL (several statements may be separated\n"
	    "by ';'). Tables and views: meta, process, thread, thread_state,\n"
	    "process_state, sched_slice, object, flow, deadlock, deadlock_member,\n"
	    "thread_state_time, process_state_time, lock_contention, lock_holders,\n"
	    "message_traffic, deadlocks.\n"
	    "\n"
	    "  --csv    comma-separated values with a header line\n"
	    "  --json   a JSON array of objects\n"
	    "  (default: an aligned table)\n",
    .exec = query_exec,
};
