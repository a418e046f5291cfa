/*
 * bound.c — durations and sizes of bound.h. Whatever the user typed is
 * checked whole: digits, then exactly one known unit, no overflow.
 */
#include "bound.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The leading whole number of text (at least one digit, no sign), with
 * *rest after it. -1 when there is none or it overflows. */
static int64_t leading_number(const char *text, const char **rest)
{
	int64_t n = 0;
	const char *p = text;
	*rest = text;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	*rest = p;
	return p == text ? -1 : n;
}

int bound_parse_duration(const char *text, int64_t *ns, char *err, size_t errlen)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {{"ms", 1000000ll},
		     {"s", 1000000000ll},
		     {"m", 60 * 1000000000ll},
		     {"h", 3600 * 1000000000ll}};
	const char *rest;
	int64_t n = leading_number(text, &rest);
	for (size_t i = 0; n > 0 && i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(rest, units[i].unit))
			continue;
		if (n > INT64_MAX / units[i].ns)
			break;
		*ns = n * units[i].ns;
		return 0;
	}
	snprintf(err, errlen,
		 "'%s' is not a duration: a positive whole number and a unit, ms, s, m or h "
		 "(10s, 5m, 2h)",
		 text);
	return -EINVAL;
}

int bound_parse_size(const char *text, int64_t *bytes, char *err, size_t errlen)
{
	static const char *const units = "KMGT";
	const char *rest;
	int64_t n = leading_number(text, &rest);
	int shift = 0;
	if (*rest) {
		const char *unit = strchr(units, toupper((unsigned char)*rest));
		if (unit) {
			shift = 10 * (int)(unit - units + 1);
			rest++;
			if (!strcmp(rest, "iB"))
				rest += 2;
		}
		if (*rest == 'B' || *rest == 'b')
			rest++;
	}
	if (n > 0 && !*rest && n <= (INT64_MAX >> shift)) {
		*bytes = n << shift;
		return 0;
	}
	snprintf(err, errlen,
		 "'%s' is not a size: a positive whole number of bytes, or with K, M, G or T "
		 "(500M, 2G)",
		 text);
	return -EINVAL;
}
