/*
 * param: strict parsing of request parameters (query-string values).
 *
 * Every function takes the raw value as MHD hands it over (NULL when the
 * parameter is absent) and either fills its output and returns 0, or
 * returns -EINVAL and writes a message for the client ("start must be an
 * integer") into err. Nothing is allocated except by param_id_list, whose
 * array the caller frees. Integers are decimal, optionally signed, with no
 * surrounding space and no overflow.
 */
#ifndef WEFT_PARAM_H
#define WEFT_PARAM_H

#include <stddef.h>
#include <stdint.h>

#define PARAM_PX_MAX 10000
/* Times a request may name: +-2^62 ns (146 years either side of the
 * clock's zero), and a window at most that wide (PARAM_WIDTH_MAX), so that
 * end - start never overflows; the tracks store no span beyond +-2^60
 * (LOD_TS_MAX) and saturate the sums of a time and a window's pixel. */
#define PARAM_TS_MAX ((int64_t)1 << 62)
#define PARAM_WIDTH_MAX ((int64_t)1 << 62)
#define PARAM_ID_LIST_MAX 100000

struct param_window {
	int64_t start, end; /* start < end */
	int64_t px;	    /* 1..PARAM_PX_MAX; 0 when not asked for */
};

/* Parses a decimal int64: 0, or -EINVAL on anything else. */
int param_i64(const char *s, int64_t *out);

/* Parses the required integer `name` into *out. */
int param_required_i64(const char *name, const char *value, int64_t *out, char *err, size_t errlen);

/* Parses start, end (required, each within +-PARAM_TS_MAX, start < end,
 * end - start at most PARAM_WIDTH_MAX)
 * and, when px_value is not NULL or px_required is set, px
 * (1..PARAM_PX_MAX). */
int param_window(const char *start_value, const char *end_value, const char *px_value,
		 int px_required, struct param_window *out, char *err, size_t errlen);

/* As param_window without px, but start == end is an empty window (a
 * trace with no events yet has start 0, end 0). */
int param_window_or_empty(const char *start_value, const char *end_value, struct param_window *out,
			  char *err, size_t errlen);

/* Parses "1,2,3" (at most PARAM_ID_LIST_MAX ids) into a malloc'd array
 * (*ids, *count); an absent value gives *ids = NULL, *count = 0 and 0.
 * -ENOMEM if the array cannot be allocated. */
int param_id_list(const char *name, const char *value, int64_t **ids, size_t *count, char *err,
		  size_t errlen);

/* Parses an optional limit in 1..max (default def when absent). */
int param_limit(const char *value, int64_t def, int64_t max, int64_t *out, char *err,
		size_t errlen);

/* Parses an SQL request body: a JSON object {"sql": "...", "limit": N}
 * (other keys ignored; read with SQLite's JSON functions, json_valid and
 * json_extract), or, when the body does not start with '{', the body
 * itself as the SQL. *sql is malloc'd (caller frees); *limit is left
 * alone when absent. Returns 0, -EINVAL (with err) or -ENOMEM. */
int param_sql_body(const char *body, size_t len, char **sql, int64_t *limit, char *err,
		   size_t errlen);

#endif
