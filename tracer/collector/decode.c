/*
 * decode.c — field decoding of decode.h.
 */
#include "decode.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

const uint8_t *decode_payload(const struct weft_event *event, size_t *len)
{
	if (event->size <= WEFT_EVENT_HEADER_SIZE) {
		*len = 0;
		return NULL;
	}
	*len = event->size - WEFT_EVENT_HEADER_SIZE;
	return (const uint8_t *)event + WEFT_EVENT_HEADER_SIZE;
}

size_t decode_string(const struct weft_event *event, char *out, size_t cap)
{
	size_t len;
	const uint8_t *payload = decode_payload(event, &len);
	if (!cap)
		return 0;
	size_t n = 0;
	while (payload && n < len && n + 1 < cap && payload[n])
		n++;
	if (n)
		memcpy(out, payload, n);
	out[n] = '\0';
	return n;
}

const char *decode_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Append src (n bytes) to out at *used, keeping room for the NUL. */
static void append(char *out, size_t cap, size_t *used, const char *src, size_t n)
{
	if (!out || !cap || *used + 1 >= cap)
		return;
	if (n > cap - 1 - *used)
		n = cap - 1 - *used;
	memcpy(out + *used, src, n);
	*used += n;
	out[*used] = '\0';
}

int decode_argv(const uint8_t *payload, size_t len, char *cmdline, size_t cmdline_cap, char *name,
		size_t name_cap)
{
	size_t used = 0;
	int count = 0;
	if (cmdline && cmdline_cap)
		cmdline[0] = '\0';
	if (name && name_cap)
		name[0] = '\0';
	size_t pos = 0;
	while (payload && pos < len) {
		size_t end = pos;
		while (end < len && payload[end])
			end++;
		if (end == pos && end + 1 >= len)
			break; /* padding after the last argument */
		const char *arg = (const char *)payload + pos;
		size_t arg_len = end - pos;
		if (count == 0 && name && name_cap) {
			char first[4096];
			size_t n = arg_len < sizeof first - 1 ? arg_len : sizeof first - 1;
			memcpy(first, arg, n);
			first[n] = '\0';
			snprintf(name, name_cap, "%s", decode_basename(first));
		}
		if (count)
			append(cmdline, cmdline_cap, &used, " ", 1);
		append(cmdline, cmdline_cap, &used, arg, arg_len);
		count++;
		pos = end + 1;
		/* The payload is padded with NULs to 8 bytes: stop at them. */
		if (pos < len && !payload[pos]) {
			size_t rest = pos;
			while (rest < len && !payload[rest])
				rest++;
			if (rest == len)
				break;
		}
	}
	return count;
}

int decode_wait_status(int status, int *exit_code, int *exit_signal)
{
	*exit_code = -1;
	*exit_signal = -1;
	if (WIFEXITED(status)) {
		*exit_code = WEXITSTATUS(status);
		return 0;
	}
	if (WIFSIGNALED(status)) {
		*exit_signal = WTERMSIG(status);
		return 0;
	}
	return -EINVAL;
}

const char *decode_object(unsigned reason, uint64_t a, uint64_t b, uint64_t *address)
{
	*address = a;
	switch (reason) {
	case WEFT_REASON_MUTEX:
		return a ? "mutex" : NULL;
	case WEFT_REASON_RWLOCK:
		return a ? "rwlock" : NULL;
	case WEFT_REASON_COND:
		return a ? "cond" : NULL;
	case WEFT_REASON_SEM:
		return a ? "sem" : NULL;
	case WEFT_REASON_BARRIER:
		return a ? "barrier" : NULL;
	case WEFT_REASON_FUTEX:
		return a ? "futex" : NULL;
	case WEFT_REASON_IO:
		return a <= 0x7fffffffu ? "fd" : NULL;
	case WEFT_REASON_JOIN:
		*address = b ? b : a;
		return *address ? "thread" : NULL;
	case WEFT_REASON_WAIT:
		/* a pid > 0 names one child; -1/0/-pgid name none. */
		return a > 0 && a <= 0x7fffffffu ? "process" : NULL;
	default:
		return NULL;
	}
}

void decode_object_label(const char *kind, uint64_t address, char *out, size_t cap)
{
	if (!strcmp(kind, "fd") || !strcmp(kind, "thread") || !strcmp(kind, "process"))
		snprintf(out, cap, "%s %llu", kind, (unsigned long long)address);
	else
		snprintf(out, cap, "%s 0x%llx", kind, (unsigned long long)address);
}
