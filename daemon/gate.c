/*
 * gate: see gate.h. The accepted Host values are made once, when the port
 * is known; the token is compared in constant time.
 */
#include "gate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define HOSTS 4

struct gate {
	struct in_addr addr;
	int wildcard;				/* listening on 0.0.0.0 */
	char token[GATE_TOKEN_LEN + 1];		/* "" on loopback */
	char hosts[HOSTS][INET_ADDRSTRLEN + 8]; /* accepted Host values */
	char cookie[32];
	uint16_t port;
};

static int is_loopback(struct in_addr a)
{
	return (ntohl(a.s_addr) >> 24) == 127;
}

struct gate *gate_new(const struct sockaddr_in *addr)
{
	struct gate *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->addr = addr->sin_addr;
	g->wildcard = addr->sin_addr.s_addr == htonl(INADDR_ANY);
	if (!is_loopback(addr->sin_addr)) {
		unsigned char raw[GATE_TOKEN_LEN / 2];
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
			free(g);
			return NULL;
		}
		for (size_t i = 0; i < sizeof(raw); i++)
			snprintf(g->token + 2 * i, 3, "%02x", raw[i]);
	}
	gate_set_port(g, ntohs(addr->sin_port));
	return g;
}

void gate_free(struct gate *g)
{
	free(g);
}

void gate_set_port(struct gate *g, uint16_t port)
{
	char addr[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &g->addr, addr, sizeof(addr));
	const char *names[HOSTS] = {"localhost", "127.0.0.1", "[::1]", addr};
	g->port = port;
	for (int i = 0; i < HOSTS; i++)
		snprintf(g->hosts[i], sizeof(g->hosts[i]), "%s:%u", names[i], port);
	snprintf(g->cookie, sizeof(g->cookie), "weftd_token_%u", port);
}

const char *gate_token(const struct gate *g)
{
	return g->token[0] ? g->token : NULL;
}

const char *gate_cookie_name(const struct gate *g)
{
	return g->cookie;
}

/* Whether text is the token: the same length and bytes, in a time that
 * does not depend on where they differ. */
static int is_token(const struct gate *g, const char *text)
{
	if (!text || strlen(text) != GATE_TOKEN_LEN)
		return 0;
	unsigned char diff = 0;
	for (size_t i = 0; i < GATE_TOKEN_LEN; i++)
		diff |= (unsigned char)(text[i] ^ g->token[i]);
	return diff == 0;
}

static int host_ok(const struct gate *g, const char *host)
{
	if (!host || !host[0])
		return 0;
	if (g->wildcard)
		return 1;
	for (int i = 0; i < HOSTS; i++)
		if (strcasecmp(host, g->hosts[i]) == 0)
			return 1;
	/* the default port may be left out */
	if (g->port == 80)
		for (int i = 0; i < HOSTS; i++) {
			size_t n = strlen(g->hosts[i]) - 3;
			if (strlen(host) == n && strncasecmp(host, g->hosts[i], n) == 0)
				return 1;
		}
	return 0;
}

/* Whether an Origin header names weftd itself: "http://" + the Host. */
static int same_origin(const char *origin, const char *host)
{
	return strncasecmp(origin, "http://", 7) == 0 && strcasecmp(origin + 7, host) == 0;
}

/* "application/json", optionally followed by parameters. */
static int is_json_type(const char *type)
{
	if (!type)
		return 0;
	while (*type == ' ' || *type == '\t')
		type++;
	size_t n = strlen("application/json");
	if (strncasecmp(type, "application/json", n) != 0)
		return 0;
	type += n;
	while (*type == ' ' || *type == '\t')
		type++;
	return *type == 0 || *type == ';';
}

static enum gate_verdict check_token(const struct gate *g, const struct gate_request *r)
{
	if (is_token(g, r->token_arg))
		return GATE_PASS_SET_COOKIE;
	if (is_token(g, r->cookie_token))
		return GATE_PASS;
	const char *auth = r->authorization;
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && is_token(g, auth + 7))
		return GATE_PASS;
	return GATE_REFUSE;
}

enum gate_verdict gate_check(const struct gate *g, const struct gate_request *r, char *why,
			     size_t whylen)
{
	if (!host_ok(g, r->host)) {
		snprintf(why, whylen,
			 "Host %.100s is not where this weftd listens (use http://%s/)",
			 r->host ? r->host : "(none)", g->hosts[g->wildcard ? 1 : 3]);
		return GATE_REFUSE;
	}
	enum gate_verdict verdict = GATE_PASS;
	if (g->token[0] && (verdict = check_token(g, r)) == GATE_REFUSE) {
		snprintf(why, whylen,
			 "this weftd needs its access token: open the URL with ?token= it "
			 "printed at start-up, or send Authorization: Bearer TOKEN");
		return GATE_REFUSE;
	}
	const char *m = r->method ? r->method : "";
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return verdict;
	if (r->origin && !same_origin(r->origin, r->host)) {
		snprintf(why, whylen, "cross-origin %s refused (Origin %.100s)", m, r->origin);
		return GATE_REFUSE;
	}
	if (r->sec_fetch_site && strcmp(r->sec_fetch_site, "same-origin") != 0 &&
	    strcmp(r->sec_fetch_site, "none") != 0) {
		snprintf(why, whylen, "cross-origin %s refused (Sec-Fetch-Site %.40s)", m,
			 r->sec_fetch_site);
		return GATE_REFUSE;
	}
	if (strcmp(m, "POST") == 0 && !is_json_type(r->content_type)) {
		snprintf(why, whylen, "POST needs Content-Type: application/json (got %.60s)",
			 r->content_type ? r->content_type : "none");
		return GATE_REFUSE;
	}
	return verdict;
}

int gate_set_cookie(const struct gate *g, char *out, size_t outlen)
{
	int n =
	    snprintf(out, outlen, "%s=%s; Path=/; HttpOnly; SameSite=Strict", g->cookie, g->token);
	return n < 0 || (size_t)n >= outlen ? -ENOSPC : 0;
}
