/*
 * cmd_query.c — `weft query FILE SQL [--csv|--json]`: run SQL on a trace,
 * opened read-only, and print the rows as an aligned table (default), CSV
 * (RFC 4180 quoting), a JSON array of objects, or JSON lines (one object a
 * line). Several statements separated by ';' run in order; each prints its
 * own result.
 *
 * CSV and JSON lines are what loaders read (ClickHouse: docs/FLEET.md), so
 * they keep NULL apart from every value:
 *   - CSV writes NULL as an unquoted \N, the empty string as "", and a text
 *     that is exactly \N quoted ("\N"). ClickHouse 18.16 (Debian 12) reads
 *     exactly that back: an unquoted \N is NULL, a quoted "\N" the two
 *     characters, while an empty field would be read as 0 or '' (the
 *     column's default), never as NULL. Python's csv module reads \N as
 *     the text '\N': a reader that wants NULLs maps it;
 *   - JSON writes null; integers as SQLite holds them (64-bit, exact);
 *     reals with the fewest digits (15 to 17) that read back to the
 *     same double; a real that JSON cannot hold (inf, nan) as null.
 *
 * A trace is hostile input, and so is what it makes us print:
 *   - only a regular file is opened (a FIFO would hang, a device or a
 *     directory make no sense), read-only, and with immutable=1 when no
 *     recording is writing it (no lock, no -shm: read-only directories and
 *     mounts work);
 *   - an authorizer lets statements read and nothing else (the rules of
 *     weftd's daemon/sqlguard.c, restated here: the CLI does not include
 *     the daemon): no write, ATTACH, VACUUM INTO, DDL, transactions, or
 *     pragma other than schema introspection;
 *   - rows stream: CSV and JSON are printed a row at a time, the table
 *     takes its column widths from the first TABLE_SAMPLE_ROWS rows, so
 *     memory does not grow with the result;
 *   - on a terminal, the table shows NUL, control characters (C0, DEL, C1)
 *     and bidi overrides escaped (\0, \x1b, \u202e), so trace data cannot
 *     move the cursor or reorder what the user reads. CSV and JSON stay
 *     exact (JSON escapes them as JSON does), whatever stdout is.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cmd.h"
#include "readguard.h"
#include "tracedb.h"

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
		} else if (!strcmp(arg, "--jsonl")) {
			args->format = QUERY_JSONL;
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

/* One cell as the output needs it: its bytes (text, or a blob shown as
 * x'..' hex), exactly as long as SQLite says (NULs included). */
struct cell {
	int type; /* SQLITE_INTEGER... */
	const char *bytes;
	size_t len;
};

/* The cell of column c of stmt's current row; blob hex goes into *hex
 * (grown as needed, freed by the caller). Returns 0 or -ENOMEM. */
static int read_cell(sqlite3_stmt *stmt, int c, struct cell *cell, char **hex, size_t *hex_cap)
{
	cell->type = sqlite3_column_type(stmt, c);
	if (cell->type == SQLITE_NULL) {
		*cell = (struct cell){.type = SQLITE_NULL, .bytes = "", .len = 0};
		return 0;
	}
	if (cell->type != SQLITE_BLOB) {
		const char *text = (const char *)sqlite3_column_text(stmt, c);
		cell->len = (size_t)sqlite3_column_bytes(stmt, c);
		cell->bytes = text ? text : "";
		if (!text)
			cell->len = 0;
		return 0;
	}
	const unsigned char *blob = sqlite3_column_blob(stmt, c);
	size_t n = (size_t)sqlite3_column_bytes(stmt, c);
	size_t need = n * 2 + 4; /* x'', the digits, a NUL */
	if (!*hex || need > *hex_cap) {
		char *grown = realloc(*hex, need);
		if (!grown)
			return -ENOMEM;
		*hex = grown;
		*hex_cap = need;
	}
	static const char digits[] = "0123456789abcdef";
	char *out = *hex;
	*out++ = 'x';
	*out++ = '\'';
	for (size_t i = 0; i < n; i++) {
		*out++ = digits[blob[i] >> 4];
		*out++ = digits[blob[i] & 15];
	}
	*out++ = '\'';
	*out = '\0';
	cell->bytes = *hex;
	cell->len = (size_t)(out - *hex);
	return 0;
}

/* How many bytes of the character at p (len bytes left) are a code point
 * to show escaped on a terminal, and that code point into *code; 0 for a
 * byte to print as it is. */
static size_t unsafe_at(const unsigned char *p, size_t len, unsigned *code)
{
	if (p[0] < 0x20 || p[0] == 0x7f) {
		*code = p[0];
		return 1;
	}
	if (len >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { /* C1 */
		*code = p[1];
		return 2;
	}
	if (len >= 3 && p[0] == 0xe2 &&
	    ((p[1] == 0x80 && ((p[2] >= 0x8e && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae))) ||
	     (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9))) { /* bidi marks, overrides */
		*code = 0x2000u | ((unsigned)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		return 3;
	}
	if (len >= 2 && p[0] == 0xd8 && p[1] == 0x9c) { /* U+061C arabic letter mark */
		*code = 0x61c;
		return 2;
	}
	return 0;
}

/* Write a cell's bytes to out, escaped when escape is set (see the head of
 * this file). Returns the width it takes on a terminal. */
static size_t put_cell(FILE *out, const struct cell *cell, bool escape)
{
	const unsigned char *p = (const unsigned char *)cell->bytes;
	size_t width = 0;
	for (size_t i = 0; i < cell->len;) {
		unsigned code;
		size_t n = escape ? unsafe_at(p + i, cell->len - i, &code) : 0;
		if (!n) {
			if (out)
				putc(p[i], out);
			width += (p[i] & 0xc0) != 0x80;
			i++;
			continue;
		}
		char text[16];
		if (code == 0)
			snprintf(text, sizeof text, "\\0");
		else if (code < 0x100)
			snprintf(text, sizeof text, "\\x%02x", code);
		else
			snprintf(text, sizeof text, "\\u%04x", code);
		if (out)
			fputs(text, out);
		width += strlen(text);
		i += n;
	}
	return width;
}

static void pad(size_t n)
{
	for (size_t i = 0; i < n; i++)
		putchar(' ');
}

/* The aligned table. Column widths come from the header and the first
 * TABLE_SAMPLE_ROWS rows (held as copies until printed); later rows are
 * printed as they come, a wider cell pushing its row right. */
#define TABLE_SAMPLE_ROWS 256

struct table {
	int columns;
	bool escape;
	size_t *widths;
	struct cell *held; /* TABLE_SAMPLE_ROWS x columns, bytes owned */
	size_t held_rows;
	bool printed_header;
};

static void table_print_row(const struct table *table, const struct cell *row)
{
	for (int c = 0; c < table->columns; c++) {
		const struct cell *cell = &row[c];
		size_t width = put_cell(NULL, cell, table->escape);
		size_t gap = width < table->widths[c] ? table->widths[c] - width : 0;
		bool numeric = cell->type == SQLITE_INTEGER || cell->type == SQLITE_FLOAT;
		if (c)
			fputs("  ", stdout);
		if (numeric)
			pad(gap);
		put_cell(stdout, cell, table->escape);
		if (!numeric && c + 1 < table->columns)
			pad(gap);
	}
	putchar('\n');
}

static void table_flush(struct table *table, sqlite3_stmt *stmt)
{
	if (table->printed_header)
		return;
	table->printed_header = true;
	for (int c = 0; c < table->columns; c++) {
		const char *name = sqlite3_column_name(stmt, c);
		struct cell cell = {SQLITE_TEXT, name ? name : "?", name ? strlen(name) : 1};
		if (c)
			fputs("  ", stdout);
		size_t width = put_cell(stdout, &cell, table->escape);
		if (c + 1 < table->columns)
			pad(table->widths[c] - width);
	}
	putchar('\n');
	for (int c = 0; c < table->columns; c++) {
		if (c)
			fputs("  ", stdout);
		for (size_t i = 0; i < table->widths[c]; i++)
			putchar('-');
	}
	putchar('\n');
	for (size_t r = 0; r < table->held_rows; r++) {
		struct cell *row = &table->held[r * (size_t)table->columns];
		table_print_row(table, row);
		for (int c = 0; c < table->columns; c++)
			free((char *)row[c].bytes);
	}
	table->held_rows = 0;
}

/* Take one row: held while the widths are being measured, else printed.
 * Returns 0 or -ENOMEM. */
static int table_row(struct table *table, sqlite3_stmt *stmt, const struct cell *row)
{
	if (table->printed_header) {
		table_print_row(table, row);
		return 0;
	}
	struct cell *copy = &table->held[table->held_rows * (size_t)table->columns];
	for (int c = 0; c < table->columns; c++) {
		char *bytes = malloc(row[c].len + 1);
		if (!bytes) {
			for (int k = 0; k < c; k++)
				free((char *)copy[k].bytes);
			return -ENOMEM;
		}
		memcpy(bytes, row[c].bytes, row[c].len);
		bytes[row[c].len] = '\0';
		copy[c] = (struct cell){row[c].type, bytes, row[c].len};
		size_t width = put_cell(NULL, &row[c], table->escape);
		if (width > table->widths[c])
			table->widths[c] = width;
	}
	if (++table->held_rows == TABLE_SAMPLE_ROWS)
		table_flush(table, stmt);
	return 0;
}

/* One CSV field: NULL as an unquoted \N; the empty string, a text that
 * is \N, and fields holding a comma, quote or line break quoted. */
static void print_csv_field(const struct cell *cell)
{
	if (cell->type == SQLITE_NULL) {
		fputs("\\N", stdout);
		return;
	}
	bool quote = cell->len == 0 || (cell->len == 2 && !memcmp(cell->bytes, "\\N", 2));
	for (size_t i = 0; i < cell->len && !quote; i++)
		quote = strchr(",\"\r\n", cell->bytes[i]) && cell->bytes[i];
	if (!quote) {
		fwrite(cell->bytes, 1, cell->len, stdout);
		return;
	}
	putchar('"');
	for (size_t i = 0; i < cell->len; i++) {
		if (cell->bytes[i] == '"')
			putchar('"');
		putchar(cell->bytes[i]);
	}
	putchar('"');
}

static void print_json_string(const char *text, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '\r')
			fputs("\\r", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* One JSON value: null, an integer as SQLite holds it, a real with the
 * fewest digits that read back to it (null when not finite), else a
 * string. */
static void print_json_value(sqlite3_stmt *stmt, int c, const struct cell *cell)
{
	if (cell->type == SQLITE_NULL) {
		fputs("null", stdout);
	} else if (cell->type == SQLITE_INTEGER) {
		fwrite(cell->bytes, 1, cell->len, stdout);
	} else if (cell->type == SQLITE_FLOAT) {
		double value = sqlite3_column_double(stmt, c);
		char text[32];
		for (int digits = 15; isfinite(value) && digits <= 17; digits++) {
			snprintf(text, sizeof text, "%.*g", digits, value);
			if (strtod(text, NULL) == value)
				break;
		}
		if (isfinite(value))
			fputs(text, stdout);
		else
			fputs("null", stdout);
	} else {
		print_json_string(cell->bytes, cell->len);
	}
}

/* One row as a JSON object: after "[" (first) or "," with a line break
 * for the array (QUERY_JSON), on a line of its own for QUERY_JSONL. */
static void print_json_row(sqlite3_stmt *stmt, const struct cell *row, int columns,
			   enum query_format format, bool first)
{
	if (format == QUERY_JSON)
		fputs(first ? "\n{" : ",\n{", stdout);
	else
		putchar('{');
	for (int c = 0; c < columns; c++) {
		const char *name = sqlite3_column_name(stmt, c);
		if (c)
			putchar(',');
		print_json_string(name ? name : "?", name ? strlen(name) : 1);
		putchar(':');
		print_json_value(stmt, c, &row[c]);
	}
	fputs(format == QUERY_JSONL ? "}\n" : "}", stdout);
}

/* --- running ------------------------------------------------------------ */

/* Step stmt to its end, printing each row as format asks. Returns 0,
 * -ENOMEM, or -EIO (SQLite's message printed). */
static int run_statement(sqlite3 *db, sqlite3_stmt *stmt, enum query_format format)
{
	int columns = sqlite3_column_count(stmt);
	bool escape = format == QUERY_TABLE && isatty(STDOUT_FILENO);
	struct cell *row = calloc((size_t)columns + 1, sizeof *row);
	struct table table = {
	    .columns = columns,
	    .escape = escape,
	    .widths = calloc((size_t)columns + 1, sizeof *table.widths),
	    .held = calloc(((size_t)columns + 1) * TABLE_SAMPLE_ROWS, sizeof *table.held),
	};
	char *hex = NULL;
	size_t hex_cap = 0, rows = 0;
	int rc = 0, step;
	if (!row || !table.widths || !table.held) {
		rc = -ENOMEM;
		goto out;
	}
	for (int c = 0; c < columns; c++) {
		const char *name = sqlite3_column_name(stmt, c);
		struct cell cell = {SQLITE_TEXT, name ? name : "?", name ? strlen(name) : 1};
		table.widths[c] = put_cell(NULL, &cell, escape);
		if (format == QUERY_CSV) {
			if (c)
				putchar(',');
			print_csv_field(&cell);
		}
	}
	if (format == QUERY_CSV && columns)
		fputs("\r\n", stdout);
	if (format == QUERY_JSON)
		putchar('[');
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int c = 0; c < columns && !rc; c++)
			rc = read_cell(stmt, c, &row[c], &hex, &hex_cap);
		if (!rc && format == QUERY_TABLE)
			rc = table_row(&table, stmt, row);
		if (rc)
			break;
		if (format == QUERY_JSON || format == QUERY_JSONL) {
			print_json_row(stmt, row, columns, format, rows == 0);
		} else if (format == QUERY_CSV) {
			for (int c = 0; c < columns; c++) {
				if (c)
					putchar(',');
				print_csv_field(&row[c]);
			}
			fputs("\r\n", stdout);
		}
		rows++;
	}
	if (!rc && step != SQLITE_DONE && step != SQLITE_ROW) {
		fprintf(stderr, "weft: %s\n", sqlite3_errmsg(db));
		rc = -EIO;
	}
	if (format == QUERY_JSON)
		fputs(rows ? "\n]\n" : "]\n", stdout);
	if (format == QUERY_TABLE && columns)
		table_flush(&table, stmt);
out:
	for (size_t r = 0; r < table.held_rows; r++)
		for (int c = 0; c < columns; c++)
			free((char *)table.held[r * (size_t)columns + (size_t)c].bytes);
	free(table.held);
	free(table.widths);
	free(row);
	free(hex);
	return rc;
}

/* Prepare the next statement of *sql under the guard. Returns 0 with
 * *stmt (NULL when only space or comments were left) and *sql moved past
 * it, or -EPERM/-EINVAL with the reason printed. */
static int prepare_guarded(sqlite3 *db, const char **sql, sqlite3_stmt **stmt)
{
	struct readguard guard = {""};
	const char *tail = NULL;
	sqlite3_set_authorizer(db, readguard_authorize, &guard);
	int rc = sqlite3_prepare_v2(db, *sql, -1, stmt, &tail);
	sqlite3_set_authorizer(db, NULL, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "weft: %s%s%s%s\n", sqlite3_errmsg(db),
			guard.refused[0] ? " (" : "", guard.refused, guard.refused[0] ? ")" : "");
		*stmt = NULL;
		return guard.refused[0] || rc == SQLITE_AUTH ? -EPERM : -EINVAL;
	}
	if (*stmt && (!sqlite3_stmt_readonly(*stmt) || !readguard_starts_like_a_read(*sql))) {
		fprintf(stderr, "weft: only statements that read are allowed: the trace is "
				"read-only\n");
		sqlite3_finalize(*stmt);
		*stmt = NULL;
		return -EPERM;
	}
	*sql = tail;
	return 0;
}

int cmd_open_trace(const char *path, sqlite3 **out)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "weft: cannot open %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "weft: cannot open %s: %s, not a trace file\n", path,
			S_ISDIR(st.st_mode)    ? "a directory"
			: S_ISFIFO(st.st_mode) ? "a FIFO"
					       : "not a regular file");
		return 1;
	}
	char wal[PATH_MAX + 8];
	struct stat wal_st;
	snprintf(wal, sizeof wal, "%s-wal", path);
	bool immutable =
	    tracedb_recorder_pid(path) == 0 && (stat(wal, &wal_st) < 0 || wal_st.st_size == 0);
	/* a URI, to say immutable; every byte but the unreserved ones escaped */
	size_t len = strlen(path);
	char *uri = malloc(len * 3 + 32);
	if (!uri) {
		fprintf(stderr, "weft: out of memory\n");
		return 1;
	}
	char *p = uri + sprintf(uri, "file:");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (isalnum(c) || strchr("/-._~", c))
			*p++ = (char)c;
		else
			p += sprintf(p, "%%%02X", c);
	}
	sprintf(p, "?mode=ro%s", immutable ? "&immutable=1" : "");
	int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(uri, out, flags, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "weft: cannot open %s: %s\n", path,
			*out ? sqlite3_errmsg(*out) : "out of memory");
		sqlite3_close(*out);
		*out = NULL;
		return 1;
	}
	sqlite3_busy_timeout(*out, 2000);
	sqlite3_db_config(*out, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(*out, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	return 0;
}

/* 0 when db's schema version is one this weft reads (a warning when it is
 * not a weft trace at all), else 1 with the error printed. */
static int check_version(sqlite3 *db, const char *path)
{
	sqlite3_stmt *stmt = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (version < 0) {
		fprintf(stderr, "weft: cannot read %s: %s\n", path, sqlite3_errmsg(db));
		return 1;
	}
	if (version > QUERY_SCHEMA_VERSION) {
		fprintf(stderr,
			"weft: %s has schema version %d; this weft reads up to %d: upgrade weft\n",
			path, version, QUERY_SCHEMA_VERSION);
		return 1;
	}
	if (version == 0)
		fprintf(stderr, "weft: warning: %s is not a weft trace (no schema version)\n",
			path);
	return 0;
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
	sqlite3 *db;
	if (cmd_open_trace(args.file, &db))
		return 1;
	int status = check_version(db, args.file);
	char trace_status[32];
	if (!status && !tracedb_status(args.file, trace_status, sizeof trace_status) &&
	    !strcmp(trace_status, "interrupted"))
		fprintf(stderr,
			"weft: note: %s is interrupted: its recorder stopped without finishing it "
			"(meta status still says 'recording')\n",
			args.file);
	const char *sql = args.sql;
	while (!status && sql && *sql) {
		sqlite3_stmt *stmt;
		if (prepare_guarded(db, &sql, &stmt)) {
			status = 1;
			break;
		}
		if (!stmt)
			break;
		rc = run_statement(db, stmt, args.format);
		sqlite3_finalize(stmt);
		if (rc == -ENOMEM)
			fprintf(stderr, "weft: out of memory\n");
		if (rc)
			status = 1;
	}
	fflush(stdout);
	sqlite3_close(db);
	return status;
}

const struct cmd_entry cmd_query_entry = {
    .name = "query",
    .usage = "query FILE SQL [--csv|--json|--jsonl]",
    .summary = "run SQL on a trace and print the rows",
    .help = "Opens FILE read-only and runs SQL (several statements may be separated\n"
	    "by ';'); only statements that read are allowed. Tables and views:\n"
	    "meta, process, thread, thread_state,\n"
	    "process_state, sched_slice, object, flow, deadlock, deadlock_member,\n"
	    "thread_state_time, process_state_time, lock_contention, lock_holders,\n"
	    "message_traffic, deadlocks.\n"
	    "\n"
	    "  --csv    comma-separated values with a header line; NULL is an\n"
	    "           unquoted \\N, the empty string \"\" (as ClickHouse reads it)\n"
	    "  --json   a JSON array of objects\n"
	    "  --jsonl  one JSON object per line (JSONEachRow), NULL as null\n"
	    "  --table  an aligned table (the default)\n",
    .exec = query_exec,
};
