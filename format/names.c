/*
 * names.c — the tables of names.h.
 */
#include "names.h"

#include <string.h>

const char *const names_states[NAMES_STATE_COUNT] = {
    "New", "Running", "Ready", "Blocked", "Waiting", "Suspended", "Terminated",
};

const char *const names_reasons[NAMES_REASON_COUNT] = {
    "mutex", "rwlock", "cond", "sem",  "barrier", "join",
    "sleep", "io",     "poll", "wait", "futex",	  "other", "signal",
};

const char *const names_kinds[NAMES_KIND_COUNT] = {"thread", "process", "cpu"};

static int index_of(const char *const *names, int count, const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < count; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

int names_state_index(const char *name)
{
	return index_of(names_states, NAMES_STATE_COUNT, name);
}

int names_reason_index(const char *name)
{
	return index_of(names_reasons, NAMES_REASON_COUNT, name);
}

int names_kind_index(const char *name)
{
	return index_of(names_kinds, NAMES_KIND_COUNT, name);
}
