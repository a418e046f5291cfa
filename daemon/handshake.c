/*
 * handshake.c — see handshake.h.
 */
#include "handshake.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads a decimal without sign or leading zero into *value (at most
 * max); the number of characters read, or 0. */
static size_t read_number(const char *p, size_t len, long long max, long long *value)
{
	size_t i = 0;
	long long v = 0;
	if (len == 0 || !is_digit(p[0]) || (p[0] == '0' && len > 1 && is_digit(p[1])))
		return 0;
	while (i < len && is_digit(p[i])) {
		v = v * 10 + (p[i] - '0');
		if (v > max)
			return 0;
		i++;
	}
	*value = v;
	return i;
}

static char file_char(char c)
{
	int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
		 c == '_' || c == '.';
	return ok ? c : '_';
}

int handshake_parse(const char *line, size_t len, struct handshake_request *req)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len + 1 > HANDSHAKE_LINE_MAX || len < 5 || memcmp(line, "weft ", 5) != 0)
		return -EINVAL;
	if (memchr(line, '\0', len) || memchr(line, '\n', len))
		return -EINVAL;
	const char *p = line + 5;
	size_t left = len - 5;
	long long version, pid;
	size_t n = read_number(p, left, 1000000, &version);
	if (!n || n == left || p[n] != ' ')
		return -EINVAL;
	p += n + 1;
	left -= n + 1;
	n = read_number(p, left, 0x7fffffff, &pid);
	if (!n || pid < 1 || n == left || p[n] != ' ')
		return -EINVAL;
	p += n + 1;
	left -= n + 1;
	if (left == 0)
		return -EINVAL;
	if (version != HANDSHAKE_VERSION)
		return -EPROTONOSUPPORT;
	req->version = (int)version;
	req->pid = (pid_t)pid;
	size_t keep = left < sizeof(req->comm) - 1 ? left : sizeof(req->comm) - 1;
	for (size_t i = 0; i < keep; i++)
		req->comm[i] = file_char(p[i]);
	req->comm[keep] = 0;
	if (req->comm[0] == '.')
		req->comm[0] = '_';
	return 0;
}

int handshake_trace_name(const struct handshake_request *req, time_t when, int n, char *out,
			 size_t cap)
{
	struct tm tm;
	char stamp[32] = "00000000-000000";
	if (gmtime_r(&when, &tm))
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	char suffix[16] = "";
	if (n > 1)
		snprintf(suffix, sizeof(suffix), "-%d", n);
	int len = snprintf(out, cap, "%s-%d-%s%s.db", req->comm[0] ? req->comm : "program",
			   (int)req->pid, stamp, suffix);
	if (len < 0 || (size_t)len >= cap) {
		if (cap > 0)
			out[0] = 0;
		return -ENAMETOOLONG;
	}
	return len;
}
