/*
 * bound.h — the bounds of a bounded recording as a user writes them:
 * durations (`10s`, `5m`, `2h`, `500ms`) and sizes (`500M`, `2G`, `64K`,
 * plain bytes). Parsing only; collect_bound.c enforces them.
 */
#ifndef WEFT_BOUND_H
#define WEFT_BOUND_H

#include <stddef.h>
#include <stdint.h>

/* A duration: a positive whole number followed by ms, s, m or h (no unit:
 * refused, as "10" could mean anything). 0 with *ns, or -EINVAL with why
 * in err. */
int bound_parse_duration(const char *text, int64_t *ns, char *err, size_t errlen);

/* A size: a positive whole number of bytes, or followed by K, M, G or T
 * (powers of 1024; an optional trailing B or iB). 0 with *bytes, or
 * -EINVAL with why in err. */
int bound_parse_size(const char *text, int64_t *bytes, char *err, size_t errlen);

#endif
