/*
 * param: see param.h. Parsing is by hand rather than strtoll so that
 * leading spaces, '+' signs, hex and trailing garbage are all refused.
 */
#include "param.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int param_window(const char *start_value, const char *end_value, const char *px_value,
		 int px_required, struct param_window *out, char *err, size_t errlen)
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
	if (w.start >= w.end) {
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

/* A cursor over the JSON body. */
struct cursor {
	const char *p, *end;
};

static void skip_space(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v |= (unsigned)(ch - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Parses a JSON string at c->p into a malloc'd C string (NUL bytes from
 * \u0000 are refused). 0, -EINVAL, -ENOMEM. */
static int parse_string(struct cursor *c, char **out)
{
	if (c->p >= c->end || *c->p != '"')
		return -EINVAL;
	c->p++;
	char *buf = malloc((size_t)(c->end - c->p) + 1);
	if (!buf)
		return -ENOMEM;
	size_t n = 0;
	while (c->p < c->end && *c->p != '"') {
		char ch = *c->p++;
		if ((unsigned char)ch < 0x20)
			goto bad;
		if (ch != '\\') {
			buf[n++] = ch;
			continue;
		}
		if (c->p >= c->end)
			goto bad;
		ch = *c->p++;
		switch (ch) {
		case '"':
		case '\\':
		case '/':
			buf[n++] = ch;
			break;
		case 'b':
			buf[n++] = '\b';
			break;
		case 'f':
			buf[n++] = '\f';
			break;
		case 'n':
			buf[n++] = '\n';
			break;
		case 'r':
			buf[n++] = '\r';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case 'u': {
			unsigned cp, lo;
			if (c->end - c->p < 4 || hex4(c->p, &cp) < 0)
				goto bad;
			c->p += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' ||
				    hex4(c->p + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
					goto bad;
				c->p += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			} else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
				goto bad;
			}
			n += put_utf8(buf + n, cp);
			break;
		}
		default:
			goto bad;
		}
	}
	if (c->p >= c->end)
		goto bad;
	c->p++;
	buf[n] = 0;
	*out = buf;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

/* Skips one JSON value of any type (for keys the caller ignores). */
static int skip_value(struct cursor *c, int depth)
{
	skip_space(c);
	if (c->p >= c->end || depth > 32)
		return -EINVAL;
	char ch = *c->p;
	if (ch == '"') {
		char *s;
		int rc = parse_string(c, &s);
		if (rc == 0)
			free(s);
		return rc;
	}
	if (ch == '{' || ch == '[') {
		char close = ch == '{' ? '}' : ']';
		c->p++;
		skip_space(c);
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 0;
		}
		for (;;) {
			if (ch == '{') {
				skip_space(c);
				char *key;
				int rc = parse_string(c, &key);
				if (rc)
					return rc;
				free(key);
				skip_space(c);
				if (c->p >= c->end || *c->p++ != ':')
					return -EINVAL;
			}
			int rc = skip_value(c, depth + 1);
			if (rc)
				return rc;
			skip_space(c);
			if (c->p >= c->end)
				return -EINVAL;
			if (*c->p == ',') {
				c->p++;
				continue;
			}
			if (*c->p++ != close)
				return -EINVAL;
			return 0;
		}
	}
	const char *start = c->p;
	while (c->p < c->end && (strchr("+-.eE", *c->p) || (*c->p >= '0' && *c->p <= '9') ||
				 (*c->p >= 'a' && *c->p <= 'z')))
		c->p++;
	return c->p > start ? 0 : -EINVAL;
}

int param_sql_body(const char *body, size_t len, char **sql, int64_t *limit, char *err,
		   size_t errlen)
{
	*sql = NULL;
	struct cursor c = {body, body + len};
	skip_space(&c);
	if (c.p >= c.end || *c.p != '{') {
		*sql = malloc(len + 1);
		if (!*sql)
			return -ENOMEM;
		memcpy(*sql, body, len);
		(*sql)[len] = 0;
		if (strlen(*sql) != len) {
			free(*sql);
			*sql = NULL;
			snprintf(err, errlen, "the SQL contains a NUL byte");
			return -EINVAL;
		}
		return 0;
	}
	c.p++;
	int rc = 0;
	skip_space(&c);
	if (c.p < c.end && *c.p == '}') {
		c.p++;
		goto end;
	}
	for (;;) {
		char *key = NULL;
		skip_space(&c);
		if ((rc = parse_string(&c, &key)) < 0)
			goto fail;
		skip_space(&c);
		if (c.p >= c.end || *c.p++ != ':') {
			free(key);
			rc = -EINVAL;
			goto fail;
		}
		skip_space(&c);
		if (strcmp(key, "sql") == 0) {
			free(*sql);
			*sql = NULL;
			rc = parse_string(&c, sql);
			if (rc < 0) {
				free(key);
				snprintf(err, errlen, "\"sql\" must be a string");
				goto out;
			}
		} else if (strcmp(key, "limit") == 0) {
			char num[24];
			size_t n = 0;
			while (c.p < c.end && n < sizeof(num) - 1 &&
			       (*c.p == '-' || (*c.p >= '0' && *c.p <= '9')))
				num[n++] = *c.p++;
			num[n] = 0;
			if (param_i64(num, limit) < 0) {
				free(key);
				snprintf(err, errlen, "limit must be an integer");
				rc = -EINVAL;
				goto out;
			}
		} else if ((rc = skip_value(&c, 0)) < 0) {
			free(key);
			goto fail;
		}
		free(key);
		skip_space(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (c.p < c.end && *c.p == '}') {
			c.p++;
			break;
		}
		rc = -EINVAL;
		goto fail;
	}
end:
	skip_space(&c);
	if (c.p != c.end) {
		rc = -EINVAL;
		goto fail;
	}
	if (!*sql) {
		snprintf(err, errlen, "the body has no \"sql\"");
		return -EINVAL;
	}
	return 0;
fail:
	if (rc == -EINVAL)
		snprintf(err, errlen, "the body is not valid JSON");
	else
		snprintf(err, errlen, "out of memory");
out:
	free(*sql);
	*sql = NULL;
	return rc;
}
