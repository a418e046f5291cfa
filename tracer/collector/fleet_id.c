/*
 * fleet_id.c — a trace's fleet identity, written to meta when a recording
 * starts, so that traces recorded on many hosts can be loaded into one
 * store (ClickHouse: schema/clickhouse.sql) and never collide:
 *
 *   trace_id       "<host>-<16 hex digits>": the uname nodename and 64
 *                  random bits from getrandom; unique across hosts and runs
 *   user, uid      who recorded (the effective uid and its passwd name;
 *                  user is the uid in decimal when it has no name)
 *   start_wall_ns  CLOCK_REALTIME at meta start_ts, in ns since the Unix
 *                  epoch. A trace time ts (CLOCK_MONOTONIC ns) happened at
 *                  wall time start_wall_ns + (ts - start_ts).
 *
 * The anchor is read as CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_MONOTONIC
 * back to back (the pair with the narrowest bracket of a few tries), the
 * realtime reading taken to lie at the middle of the bracket, then carried
 * back to start_ts along the monotonic clock. It is as right as the host's
 * clock was then (NTP, not weft, keeps hosts in step); a later step of the
 * wall clock does not move the trace's own times.
 */
#include "fleet_id.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "tracedb.h"

#define ANCHOR_TRIES 5

static int64_t clock_ns(clockid_t clock)
{
	struct timespec now;
	clock_gettime(clock, &now);
	return (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec;
}

/* CLOCK_REALTIME at the CLOCK_MONOTONIC time start_ts. */
static int64_t wall_at(int64_t start_ts)
{
	int64_t best_gap = INT64_MAX, wall = 0, mono = 0;
	for (int i = 0; i < ANCHOR_TRIES; i++) {
		int64_t before = clock_ns(CLOCK_MONOTONIC);
		int64_t real = clock_ns(CLOCK_REALTIME);
		int64_t after = clock_ns(CLOCK_MONOTONIC);
		if (after - before < best_gap) {
			best_gap = after - before;
			wall = real;
			mono = before + (after - before) / 2;
		}
	}
	return wall - (mono - start_ts);
}

int fleet_id_make(const char *host, char *buf, size_t len)
{
	unsigned char random[8];
	size_t got = 0;
	buf[0] = '\0';
	while (got < sizeof random) {
		ssize_t n = getrandom(random + got, sizeof random - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	unsigned long long bits = 0;
	for (size_t i = 0; i < sizeof random; i++)
		bits = bits << 8 | random[i];
	snprintf(buf, len, "%.64s-%016llx", host && host[0] ? host : "localhost", bits);
	return 0;
}

int fleet_id_write(struct tracedb *db, int64_t start_ts)
{
	struct utsname names;
	char id[128], user[64];
	int rc = fleet_id_make(uname(&names) == 0 ? names.nodename : NULL, id, sizeof id);
	if (!rc)
		rc = tracedb_meta(db, "trace_id", id);
	uid_t uid = geteuid();
	struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name)
		snprintf(user, sizeof user, "%s", pw->pw_name);
	else
		snprintf(user, sizeof user, "%u", (unsigned)uid);
	int meta_rc = tracedb_meta(db, "user", user);
	if (!meta_rc)
		meta_rc = tracedb_meta_int(db, "uid", (int64_t)uid);
	if (!meta_rc)
		meta_rc = tracedb_meta_int(db, "start_wall_ns", wall_at(start_ts));
	return rc ? rc : meta_rc;
}
