/*
 * weft.c — the `weft` command line: dispatch to the command table of
 * cmd.h, plus `--help` and `--version`.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "unknown"
#endif

static void print_usage(FILE *out)
{
	fprintf(out, "usage: weft COMMAND [ARGS...]\n"
		     "       weft --version\n\n"
		     "Records what the threads and processes of a program do, into a SQLite\n"
		     "trace. Commands:\n\n");
	for (int i = 0; cmd_table[i]; i++)
		fprintf(out, "  %-8s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fprintf(out, "\n'weft COMMAND --help' describes each command. Options:\n\n"
		     "  -h, --help     this help (weft --help COMMAND: that command's)\n"
		     "  -V, --version  print weft's version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		const struct cmd_entry *entry = argc > 2 ? cmd_find(argv[2]) : NULL;
		if (entry)
			cmd_print_help(entry);
		else
			print_usage(stdout);
		return 0;
	}
	if (!strcmp(name, "-V") || !strcmp(name, "--version")) {
		printf("weft %s\n", WEFT_VERSION);
		return 0;
	}
	const struct cmd_entry *entry = cmd_find(name);
	if (!entry) {
		fprintf(stderr, "weft: unknown command '%s' (see weft --help)\n", name);
		return 2;
	}
	return entry->exec(argc - 1, argv + 1);
}
