/*
 * param: see param.h. Parsing is by hand rather than strtoll so that
 * leading spaces, '+' signs, hex and trailing garbage are all refused.
 */
#include "param.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

int param_i64(const char *s, int64_t *out)
{
	if (!s || !*s)
		return -EINVAL;
	int neg = 0;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (!*s)
		return -EINVAL;
	uint64_t v = 0;
	const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');
		if (v > (limit - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int param_required_i64(const char *name, const char *value, int64_t *out, char *err, size_t errlen)
{
	if (!value) {
		snprintf(err, errlen, "%s is required", name);
		return -EINVAL;
	}
	if (param_i64(value, out) < 0) {
		snprintf(err, errlen, "%s must be an integer", name);
		return -EINVAL;
	}
	return 0;
}

static int parse_window(const char *start_value, const char *end_value, const char *px_value,
			int px_required, int allow_empty, struct param_window *out, char *err,
			size_t errlen)
{
	struct param_window w = {0};
	if (param_required_i64("start", start_value, &w.start, err, errlen) < 0 ||
	    param_required_i64("end", end_value, &w.end, err, errlen) < 0)
		return -EINVAL;
	if (w.start < -PARAM_TS_MAX || w.start > PARAM_TS_MAX || w.end < -PARAM_TS_MAX ||
	    w.end > PARAM_TS_MAX) {
		snprintf(err, errlen, "%s must be between %lld and %lld",
			 w.start < -PARAM_TS_MAX || w.start > PARAM_TS_MAX ? "start" : "end",
			 -(long long)PARAM_TS_MAX, (long long)PARAM_TS_MAX);
		return -EINVAL;
	}
	if (w.start > w.end || (w.start == w.end && !allow_empty)) {
		snprintf(err, errlen, "start must be less than end");
		return -EINVAL;
	}
	int64_t width;
	if (__builtin_sub_overflow(w.end, w.start, &width) || width > PARAM_WIDTH_MAX) {
		snprintf(err, errlen, "the window must be at most %lld ns wide",
			 (long long)PARAM_WIDTH_MAX);
		return -EINVAL;
	}
	if (px_value || px_required) {
		if (param_required_i64("px", px_value, &w.px, err, errlen) < 0)
			return -EINVAL;
		if (w.px < 1 || w.px > PARAM_PX_MAX) {
			snprintf(err, errlen, "px must be between 1 and %d", PARAM_PX_MAX);
			return -EINVAL;
		}
	}
	*out = w;
	return 0;
}

int param_window(const char *start_value, const char *end_value, const char *px_value,
		 int px_required, struct param_window *out, char *err, size_t errlen)
{
	return parse_window(start_value, end_value, px_value, px_required, 0, out, err, errlen);
}

int param_window_or_empty(const char *start_value, const char *end_value, struct param_window *out,
			  char *err, size_t errlen)
{
	return parse_window(start_value, end_value, NULL, 0, 1, out, err, errlen);
}

int param_id_list(const char *name, const char *value, int64_t **ids, size_t *count, char *err,
		  size_t errlen)
{
	*ids = NULL;
	*count = 0;
	if (!value)
		return 0;
	size_t n = 1;
	for (const char *p = value; *p; p++)
		n += *p == ',';
	if (n > PARAM_ID_LIST_MAX) {
		snprintf(err, errlen, "%s lists more than %d ids", name, PARAM_ID_LIST_MAX);
		return -EINVAL;
	}
	int64_t *out = malloc(n * sizeof(*out));
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	size_t k = 0;
	const char *p = value;
	char tmp[24];
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(tmp))
			goto bad;
		memcpy(tmp, p, len);
		tmp[len] = 0;
		if (param_i64(tmp, &out[k]) < 0)
			goto bad;
		k++;
		if (!comma)
			break;
		p = comma + 1;
	}
	*ids = out;
	*count = k;
	return 0;
bad:
	free(out);
	snprintf(err, errlen, "%s must be a comma-separated list of integers", name);
	return -EINVAL;
}

int param_limit(const char *value, int64_t def, int64_t max, int64_t *out, char *err, size_t errlen)
{
	if (!value) {
		*out = def;
		return 0;
	}
	int64_t v;
	if (param_i64(value, &v) < 0) {
		snprintf(err, errlen, "limit must be an integer");
		return -EINVAL;
	}
	if (v < 1 || v > max) {
		snprintf(err, errlen, "limit must be between 1 and %lld", (long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Whether s[0..n) is well-formed UTF-8 (no surrogates, no overlong
 * forms): a JSON "\ud800" comes out of SQLite as the bytes of a lone
 * surrogate. */
static int valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = c < 0x80	      ? 1
			     : (c >> 5) == 6  ? 2
			     : (c >> 4) == 14 ? 3
			     : (c >> 3) == 30 ? 4
					      : 0;
		if (len == 0 || i + len > n)
			return 0;
		unsigned cp = len == 1 ? c : c & (0x7F >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		static const unsigned least[5] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < least[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

/* Whether the JSON text has a \u0000 escape (SQLite's json_extract would
 * cut the string there without a word). Outside strings a backslash is
 * not JSON at all, so every backslash here begins an escape. */
static int has_nul_escape(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '\\') {
			if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
				return 1;
			i++;
		}
	return 0;
}

/* The body as plain SQL (it does not start with '{'). */
static int plain_sql(const char *body, size_t len, char **sql, char *err, size_t errlen)
{
	if (memchr(body, 0, len)) {
		snprintf(err, errlen, "the SQL contains a NUL byte");
		return -EINVAL;
	}
	if (!(*sql = strndup(body, len))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Reads the JSON object's "sql" and "limit" with SQLite's JSON functions
 * on stmt (bound to the body). */
static int read_json(sqlite3_stmt *stmt, char **sql, int64_t *limit, char *err, size_t errlen)
{
	if (sqlite3_step(stmt) != SQLITE_ROW || sqlite3_column_int(stmt, 0) != 1) {
		snprintf(err, errlen, "the body is not valid JSON");
		return -EINVAL;
	}
	const char *sql_type = (const char *)sqlite3_column_text(stmt, 1);
	if (!sql_type) {
		snprintf(err, errlen, "the body has no \"sql\"");
		return -EINVAL;
	}
	const unsigned char *text = sqlite3_column_text(stmt, 2);
	size_t n = (size_t)sqlite3_column_bytes(stmt, 2);
	if (strcmp(sql_type, "text") != 0 || !text || !valid_utf8(text, n)) {
		snprintf(err, errlen, "\"sql\" must be a string");
		return -EINVAL;
	}
	const char *limit_type = (const char *)sqlite3_column_text(stmt, 3);
	if (limit_type && (strcmp(limit_type, "integer") != 0 ||
			   param_i64((const char *)sqlite3_column_text(stmt, 4), limit) < 0)) {
		snprintf(err, errlen, "limit must be an integer");
		return -EINVAL;
	}
	if (!(*sql = strndup((const char *)text, n))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int param_sql_body(const char *body, size_t len, char **sql, int64_t *limit, char *err,
		   size_t errlen)
{
	*sql = NULL;
	size_t i = 0;
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r'))
		i++;
	if (i == len || body[i] != '{')
		return plain_sql(body, len, sql, err, errlen);
	if (memchr(body, 0, len) || has_nul_escape(body, len)) {
		snprintf(err, errlen, "the body is not valid JSON (or its SQL holds a NUL)");
		return -EINVAL;
	}
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int rc = -ENOMEM;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		SQLITE_OK ||
	    sqlite3_prepare_v2(
		db,
		"SELECT json_valid(?1) AND json_type(?1) = 'object', "
		"json_type(?1, '$.sql'), json_extract(?1, '$.sql'), "
		"json_type(?1, '$.limit'), CAST(json_extract(?1, '$.limit') AS TEXT)",
		-1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 1, body, (int)len, SQLITE_STATIC) != SQLITE_OK) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = read_json(stmt, sql, limit, err, errlen);
out:
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return rc;
}
