/* Which requests weftd lets in (daemon/gate.c): Host names weftd's own
 * address, state changes come from its own origin as JSON, and beyond
 * loopback the access token is required. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gate.h"

static struct gate *gate_at(const char *ip, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &a.sin_addr);
	struct gate *g = gate_new(&a);
	assert_non_null(g);
	return g;
}

static enum gate_verdict check(const struct gate *g, struct gate_request r)
{
	char why[256] = "";
	enum gate_verdict v = gate_check(g, &r, why, sizeof(why));
	assert_true(v != GATE_REFUSE || why[0]);
	return v;
}

static void only_hosts_naming_weftd_pass_on_loopback(void **state)
{
	struct gate *g = gate_at("127.0.0.1", 7878);
	assert_null(gate_token(g));
	const char *good[] = {"127.0.0.1:7878", "localhost:7878", "LocalHost:7878", "[::1]:7878"};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(check(g, (struct gate_request){.method = "GET", .host = good[i]}),
				 GATE_PASS);
	const char *bad[] = {"evil.example",	   "evil.example:7878", "127.0.0.1",
			     "127.0.0.1:7879",	   "localhost:78780",	"",
			     "127.0.0.1:7878.evil"};
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(check(g, (struct gate_request){.method = "GET", .host = bad[i]}),
				 GATE_REFUSE);
	assert_int_equal(check(g, (struct gate_request){.method = "GET"}), GATE_REFUSE);
	gate_free(g);
}

static void the_bound_port_replaces_port_zero(void **state)
{
	struct gate *g = gate_at("127.0.0.1", 0);
	gate_set_port(g, 41000);
	assert_int_equal(
	    check(g, (struct gate_request){.method = "GET", .host = "localhost:41000"}), GATE_PASS);
	assert_int_equal(check(g, (struct gate_request){.method = "GET", .host = "localhost:0"}),
			 GATE_REFUSE);
	assert_string_equal(gate_cookie_name(g), "weftd_token_41000");
	gate_free(g);
}

static void state_changes_come_from_the_same_origin_as_json(void **state)
{
	struct gate *g = gate_at("127.0.0.1", 80);
	struct gate_request r = {
	    .method = "POST", .host = "localhost", .content_type = "application/json"};
	assert_int_equal(check(g, r), GATE_PASS);
	r.origin = "http://localhost";
	r.sec_fetch_site = "same-origin";
	assert_int_equal(check(g, r), GATE_PASS);
	r.origin = "http://evil.example";
	assert_int_equal(check(g, r), GATE_REFUSE);
	r.origin = "null";
	assert_int_equal(check(g, r), GATE_REFUSE);
	r.origin = NULL;
	r.sec_fetch_site = "cross-site";
	assert_int_equal(check(g, r), GATE_REFUSE);
	r.sec_fetch_site = NULL;
	r.content_type = "text/plain";
	assert_int_equal(check(g, r), GATE_REFUSE);
	r.content_type = NULL;
	assert_int_equal(check(g, r), GATE_REFUSE);
	r.content_type = "application/json;charset=utf-8";
	assert_int_equal(check(g, r), GATE_PASS);
	/* a GET changes nothing: another origin may embed it */
	assert_int_equal(check(g, (struct gate_request){.method = "GET",
							.host = "localhost",
							.origin = "http://evil.example"}),
			 GATE_PASS);
	gate_free(g);
}

static void beyond_loopback_the_token_is_required(void **state)
{
	struct gate *g = gate_at("0.0.0.0", 7878);
	const char *token = gate_token(g);
	assert_non_null(token);
	assert_int_equal(strlen(token), GATE_TOKEN_LEN);
	struct gate_request r = {.method = "GET", .host = "myhost.lan:7878"};
	assert_int_equal(check(g, r), GATE_REFUSE);
	r.token_arg = token;
	assert_int_equal(check(g, r), GATE_PASS_SET_COOKIE);
	r.token_arg = NULL;
	r.cookie_token = token;
	assert_int_equal(check(g, r), GATE_PASS);
	r.cookie_token = NULL;
	char bearer[80];
	snprintf(bearer, sizeof(bearer), "Bearer %s", token);
	r.authorization = bearer;
	assert_int_equal(check(g, r), GATE_PASS);
	bearer[10] ^= 1;
	assert_int_equal(check(g, r), GATE_REFUSE);
	char cookie[160];
	assert_int_equal(gate_set_cookie(g, cookie, sizeof(cookie)), 0);
	assert_non_null(strstr(cookie, "HttpOnly"));
	assert_non_null(strstr(cookie, "SameSite=Strict"));
	assert_non_null(strstr(cookie, token));
	struct gate *other = gate_at("0.0.0.0", 7878);
	assert_string_not_equal(gate_token(other), token);
	gate_free(other);
	gate_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(only_hosts_naming_weftd_pass_on_loopback),
	    cmocka_unit_test(the_bound_port_replaces_port_zero),
	    cmocka_unit_test(state_changes_come_from_the_same_origin_as_json),
	    cmocka_unit_test(beyond_loopback_the_token_is_required),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
