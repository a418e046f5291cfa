/*
 * cmd_export.c — `weft export FILE --format chrome-json -o out.json`:
 * convert a trace for other viewers. The conversion itself is the trace
 * format library's exporter (format/export_chrome.h), which weftd's export
 * route uses too; this file is only the command line around it.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "export_chrome.h"

static int write_file(void *ctx, const char *buf, size_t n)
{
	return fwrite(buf, 1, n, ctx) == n ? 0 : -EIO;
}

/* Export file to output (written to output.tmp, renamed when complete).
 * Returns the exit status. */
static int export_file(const char *file, const char *output)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "weft: cannot open %s: %s\n", file,
			db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return 1;
	}
	sqlite3_busy_timeout(db, 2000);
	char temp[4096];
	snprintf(temp, sizeof temp, "%s.tmp", output);
	FILE *out = fopen(temp, "w");
	if (!out) {
		fprintf(stderr, "weft: cannot write %s: %s\n", temp, strerror(errno));
		sqlite3_close(db);
		return 1;
	}
	int rc = export_chrome_json(db, write_file, out);
	if (fclose(out) != 0 && !rc)
		rc = -EIO;
	if (rc) {
		fprintf(stderr, "weft: exporting %s failed: %s\n", file,
			rc == -EIO ? sqlite3_errmsg(db) : strerror(-rc));
		unlink(temp);
	} else if (rename(temp, output) != 0) {
		fprintf(stderr, "weft: cannot write %s: %s\n", output, strerror(errno));
		unlink(temp);
		rc = -errno;
	}
	sqlite3_close(db);
	return rc ? 1 : 0;
}

int cmd_export_parse(int argc, char **argv, struct export_args *args, char *err, size_t errlen)
{
	*args = (struct export_args){0};
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return 1;
		if (!strcmp(arg, "--format") || !strcmp(arg, "-o") || !strcmp(arg, "--output")) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "option %s needs an argument", arg);
				return -1;
			}
			if (!strcmp(arg, "--format"))
				args->format = argv[++i];
			else
				args->output = argv[++i];
		} else if (!strncmp(arg, "--format=", 9)) {
			args->format = arg + 9;
		} else if (arg[0] == '-' && arg[1]) {
			snprintf(err, errlen, "unknown option '%s'", arg);
			return -1;
		} else if (!args->file) {
			args->file = arg;
		} else {
			snprintf(err, errlen, "unexpected argument '%s'", arg);
			return -1;
		}
	}
	if (!args->file) {
		snprintf(err, errlen, "need a trace file");
		return -1;
	}
	if (!args->format)
		args->format = "chrome-json";
	if (strcmp(args->format, "chrome-json")) {
		snprintf(err, errlen, "unknown format '%s' (known: chrome-json)", args->format);
		return -1;
	}
	if (!args->output) {
		snprintf(err, errlen, "need -o FILE");
		return -1;
	}
	return 0;
}

static int export_exec(int argc, char **argv)
{
	struct export_args args;
	char err[512];
	int rc = cmd_export_parse(argc, argv, &args, err, sizeof err);
	if (rc > 0) {
		cmd_print_help(&cmd_export_entry);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "weft export: %s (see weft export --help)\n", err);
		return 2;
	}
	return export_file(args.file, args.output);
}

const struct cmd_entry cmd_export_entry = {
    .name = "export",
    .usage = "export FILE --format chrome-json -o OUT",
    .summary = "convert a trace to the Chrome trace-event JSON (ui.perfetto.dev)",
    .help = "  --format chrome-json  Chrome trace-event JSON, opens in ui.perfetto.dev\n"
	    "  -o, --output OUT      the file to write\n",
    .exec = export_exec,
};
