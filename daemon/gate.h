/*
 * gate: which requests weftd answers at all, decided from the request's
 * headers before anything else runs.
 *
 *   1. Host must name where weftd listens: the listen address, or
 *      localhost / 127.0.0.1 / [::1], each with the port (a page served
 *      from another name that resolves to 127.0.0.1 -- DNS rebinding --
 *      is refused). Listening on the wildcard address, any Host passes
 *      (the token below then guards everything).
 *   2. When weftd listens beyond loopback, every request carries the
 *      access token made at start-up: as ?token=TOKEN (the response then
 *      sets it as an HttpOnly, SameSite=Strict cookie named
 *      weftd_token_PORT, which the dashboard's later requests carry), as
 *      that cookie, or as "Authorization: Bearer TOKEN".
 *   3. A request that changes state (any method but GET and HEAD) must
 *      come from weftd's own origin: an Origin header, when present, is
 *      exactly http://HOST; Sec-Fetch-Site, when present, is same-origin
 *      or none. A POST must say Content-Type: application/json (what the
 *      dashboard sends; a form or text/plain from another page, which a
 *      browser sends without asking, is refused).
 *
 * The gate knows nothing of HTTP libraries: the caller hands it the
 * header values (NULL when absent). Immutable once the port is set, so
 * any number of threads may check requests at once.
 */
#ifndef WEFT_GATE_H
#define WEFT_GATE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define GATE_TOKEN_LEN 48 /* hex digits */

struct gate;

/* What the gate looks at, NULL when absent. */
struct gate_request {
	const char *method;
	const char *host, *origin, *sec_fetch_site, *content_type;
	const char *authorization; /* the Authorization header */
	const char *cookie_token;  /* the value of the cookie gate_cookie_name() */
	const char *token_arg;	   /* the ?token= query parameter */
};

/* A gate for a server listening on addr (its port set later by
 * gate_set_port). Beyond loopback it makes a random token. NULL without
 * memory or randomness. */
struct gate *gate_new(const struct sockaddr_in *addr);
void gate_free(struct gate *g);

/* The port actually bound (port 0 asks the kernel for one). */
void gate_set_port(struct gate *g, uint16_t port);

/* The access token, or NULL when none is needed (loopback). */
const char *gate_token(const struct gate *g);

/* The cookie that carries the token ("weftd_token_PORT"). */
const char *gate_cookie_name(const struct gate *g);

enum gate_verdict {
	GATE_PASS,
	GATE_PASS_SET_COOKIE, /* passed through ?token=: set the cookie */
	GATE_REFUSE,	      /* why says why, for the client */
};

/* Checks one request. */
enum gate_verdict gate_check(const struct gate *g, const struct gate_request *r, char *why,
			     size_t whylen);

/* Writes the Set-Cookie value for GATE_PASS_SET_COOKIE into out. 0, or
 * -ENOSPC when it does not fit. */
int gate_set_cookie(const struct gate *g, char *out, size_t outlen);

#endif
