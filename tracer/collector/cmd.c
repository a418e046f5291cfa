/*
 * cmd.c — the table of `weft` commands (one descriptor per cmd_*.c file)
 * and what they share.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

const struct cmd_entry *const cmd_table[] = {
    &cmd_record_entry,
    &cmd_query_entry,
    &cmd_export_entry,
    &cmd_report_entry,
    &cmd_diff_entry,
    NULL,
};

const struct cmd_entry *cmd_find(const char *name)
{
	for (int i = 0; cmd_table[i]; i++)
		if (!strcmp(cmd_table[i]->name, name))
			return cmd_table[i];
	return NULL;
}

void cmd_print_help(const struct cmd_entry *entry)
{
	printf("usage: weft %s\n\n%s.\n\n%s", entry->usage, entry->summary, entry->help);
}
