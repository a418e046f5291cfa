/*
 * json: see json.h. The buffer doubles as it grows and is always
 * NUL-terminated after the last byte written (so json_take can hand it out
 * as a C string). need_comma[d] is true when depth d already holds a value.
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <inttypes.h>

void json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
}

void json_free(struct json *j)
{
	free(j->buf);
	json_init(j);
}

bool json_failed(const struct json *j)
{
	return j->failed;
}

char *json_take(struct json *j, size_t *len)
{
	char *out = j->buf;
	if (j->failed || !out) {
		free(out);
		out = j->failed ? NULL : strdup("");
		if (len)
			*len = 0;
	} else if (len) {
		*len = j->len;
	}
	json_init(j);
	return out;
}

static bool reserve(struct json *j, size_t extra)
{
	if (j->failed)
		return false;
	if (j->len + extra + 1 <= j->cap)
		return true;
	size_t cap = j->cap ? j->cap : 256;
	while (cap < j->len + extra + 1)
		cap *= 2;
	char *p = realloc(j->buf, cap);
	if (!p) {
		j->failed = true;
		return false;
	}
	j->buf = p;
	j->cap = cap;
	return true;
}

static void put(struct json *j, const char *s, size_t n)
{
	if (!reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = 0;
}

/* Writes the separator a new value at the current depth needs. */
static void separate(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma[j->depth])
		put(j, ",", 1);
	j->need_comma[j->depth] = true;
}

static void open_(struct json *j, char c)
{
	separate(j);
	put(j, &c, 1);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	else
		j->failed = true;
	j->need_comma[j->depth] = false;
}

static void close_(struct json *j, char c)
{
	put(j, &c, 1);
	if (j->depth > 0)
		j->depth--;
}

void json_obj_begin(struct json *j)
{
	open_(j, '{');
}
void json_obj_end(struct json *j)
{
	close_(j, '}');
}
void json_arr_begin(struct json *j)
{
	open_(j, '[');
}
void json_arr_end(struct json *j)
{
	close_(j, ']');
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

size_t json_escape(char *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
			i++;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
			i++;
		} else if (c == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
			i++;
		} else if (c == '\r') {
			out[o++] = '\\';
			out[o++] = 'r';
			i++;
		} else if (c < 0x20 || c == 0x7F) {
			static const char hex[] = "0123456789abcdef";
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 15];
			o += 6;
			i++;
		} else if (c < 0x80) {
			out[o++] = (char)c;
			i++;
		} else {
			size_t len = utf8_len(s + i, n - i);
			if (len == 0) {
				memcpy(out + o, "\\ufffd", 6);
				o += 6;
				i++;
			} else {
				memcpy(out + o, s + i, len);
				o += len;
				i += len;
			}
		}
	}
	return o;
}

void json_strn(struct json *j, const char *s, size_t n)
{
	separate(j);
	if (!reserve(j, 6 * n + 2))
		return;
	j->buf[j->len++] = '"';
	j->len += json_escape(j->buf + j->len, s, n);
	j->buf[j->len++] = '"';
	j->buf[j->len] = 0;
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_key(struct json *j, const char *key)
{
	json_str(j, key);
	put(j, ":", 1);
	j->after_key = true;
}

void json_i64(struct json *j, int64_t v)
{
	char tmp[24];
	char *end = tmp + sizeof(tmp), *p = end;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	separate(j);
	put(j, p, (size_t)(end - p));
}

void json_double(struct json *j, double v)
{
	char tmp[32];
	int n;
	if (!isfinite(v))
		n = snprintf(tmp, sizeof(tmp), "null");
	else
		n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	separate(j);
	put(j, tmp, (size_t)n);
}

void json_bool(struct json *j, bool v)
{
	separate(j);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json *j)
{
	separate(j);
	put(j, "null", 4);
}

void json_raw(struct json *j, const char *text, size_t n)
{
	separate(j);
	put(j, text, n);
}

void json_id_csv(struct json *j, const char *csv)
{
	json_arr_begin(j);
	while (csv && *csv) {
		char *end;
		long long v = strtoll(csv, &end, 10);
		if (end == csv)
			break;
		json_i64(j, v);
		csv = *end == ',' ? end + 1 : end;
	}
	json_arr_end(j);
}
