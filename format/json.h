/*
 * json: an append-only JSON writer into a growing memory buffer.
 *
 * The writer tracks nesting so that callers never place commas themselves:
 * every value or key written after another one at the same depth gets its
 * separator. Strings are escaped per RFC 8259 (", \, control characters as
 * \uXXXX; bytes >= 0x80 pass through, invalid UTF-8 is replaced by U+FFFD so
 * that the output always parses).
 *
 * Allocation failure is sticky: the writer stops growing, json_failed()
 * returns true and json_take() returns NULL. Nothing else reports errors.
 */
#ifndef WEFT_JSON_H
#define WEFT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define JSON_MAX_DEPTH 32

struct json {
	char *buf;
	size_t len, cap;
	bool failed;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
};

void json_init(struct json *j);
void json_free(struct json *j);
/* Returns the NUL-terminated text (caller frees) and its length in *len;
 * NULL if an allocation failed. The writer is reset either way. */
char *json_take(struct json *j, size_t *len);
bool json_failed(const struct json *j);

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
/* Writes ids given as "1,2,3" (as SQLite's group_concat makes them) as a
 * JSON array of numbers; NULL or "" writes []. */
void json_id_csv(struct json *j, const char *csv);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_i64(struct json *j, int64_t v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Appends already-formed JSON text as one value. */
void json_raw(struct json *j, const char *text, size_t n);

/* Appends the escaped form of s[0..n) (without quotes) to out, which must
 * hold 6*n bytes; returns the number of bytes written. */
size_t json_escape(char *out, const char *s, size_t n);

#endif
