/* util/netaddr: which addresses a fetch may connect to, and host
 * allow-lists. Tables; no I/O (inet_pton only parses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "util/netaddr.h"

/* ---- netaddr_is_public ----------------------------------------------------
 */

struct addr_case {
  const char *addr;
  int is_public;
};

static const struct addr_case v4_cases[] = {
    /* Public, including the neighbours of every refused range. */
    {"8.8.8.8", 1},
    {"1.1.1.1", 1},
    {"1.0.0.0", 1},
    {"9.255.255.255", 1},
    {"11.0.0.0", 1},
    {"100.63.255.255", 1},
    {"100.128.0.0", 1},
    {"126.255.255.255", 1},
    {"128.0.0.0", 1},
    {"169.253.255.255", 1},
    {"169.255.0.0", 1},
    {"172.15.255.255", 1},
    {"172.32.0.0", 1},
    {"192.0.1.0", 1},
    {"192.0.3.0", 1},
    {"192.167.255.255", 1},
    {"192.169.0.0", 1},
    {"198.17.255.255", 1},
    {"198.20.0.0", 1},
    {"198.51.99.255", 1},
    {"198.51.101.0", 1},
    {"203.0.112.255", 1},
    {"203.0.114.0", 1},
    {"223.255.255.255", 1},
    /* Not public. */
    {"0.0.0.0", 0},
    {"0.255.255.255", 0},
    {"10.0.0.0", 0},
    {"10.255.255.255", 0},
    {"100.64.0.0", 0},
    {"100.127.255.255", 0},
    {"127.0.0.1", 0},
    {"127.255.255.254", 0},
    {"169.254.0.1", 0},
    {"169.254.169.254", 0}, /* cloud metadata */
    {"172.16.0.0", 0},
    {"172.31.255.255", 0},
    {"192.0.0.0", 0},
    {"192.0.0.255", 0},
    {"192.0.2.1", 0},
    {"192.168.0.1", 0},
    {"192.168.255.255", 0},
    {"198.18.0.0", 0},
    {"198.19.255.255", 0},
    {"198.51.100.7", 0},
    {"203.0.113.9", 0},
    {"224.0.0.1", 0},
    {"239.255.255.255", 0},
    {"240.0.0.1", 0},
    {"254.255.255.255", 0},
    {"255.255.255.255", 0},
};

static const struct addr_case v6_cases[] = {
    /* Public. */
    {"2606:4700:4700::1111", 1},
    {"2001:4860:4860::8888", 1},
    {"2a00:1450:4001:80e::200e", 1},
    {"2001:db9::1", 1},
    {"2001:db7:ffff::1", 1},
    /* Not public. */
    {"::", 0},
    {"::1", 0},
    {"fc00::", 0},
    {"fd12:3456:789a::1", 0},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0},
    {"fe80::1", 0},
    {"febf:ffff::1", 0},
    {"fec0::1", 0},
    {"feff::1", 0},
    {"ff02::1", 0},
    {"ff0e::101", 0},
    {"2001:db8::", 0},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 0},
    {"100::", 0},
    {"100::ffff:ffff:ffff:ffff", 0},
    {"64:ff9b:1::808:808", 0},                   /* local-use NAT64 */
    {"2001:0:4136:e378:8000:63bf:3fff:fdd2", 0}, /* Teredo */
    /* IPv4-mapped: judged by the IPv4 address. */
    {"::ffff:8.8.8.8", 1},
    {"::ffff:127.0.0.1", 0},
    {"::ffff:10.1.2.3", 0},
    {"::ffff:169.254.169.254", 0},
    {"::ffff:0.0.0.0", 0},
    {"::ffff:255.255.255.255", 0},
    /* IPv4-compatible. */
    {"::8.8.8.8", 1},
    {"::127.0.0.1", 0},
    {"::192.168.1.1", 0},
    {"::2", 0},
    /* NAT64. */
    {"64:ff9b::808:808", 1},
    {"64:ff9b::7f00:1", 0},
    {"64:ff9b::a9fe:a9fe", 0},
    {"64:ff9b::ac10:1", 0},
    /* 6to4: the IPv4 address follows 2002:. */
    {"2002:808:808::1", 1},
    {"2002:7f00:1::1", 0},
    {"2002:a9fe:a9fe::", 0},
    {"2002:c0a8:101::1", 0},
    {"2002:a00:1:ffff:ffff:ffff:ffff:ffff", 0},
};

static void test_is_public_v4(void **state)
{
  for (size_t i = 0; i < sizeof v4_cases / sizeof v4_cases[0]; i++) {
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons(443);
    assert_int_equal(inet_pton(AF_INET, v4_cases[i].addr, &in.sin_addr), 1);
    if (netaddr_is_public((const struct sockaddr *)&in) !=
        v4_cases[i].is_public)
      fail_msg("%s: expected is_public=%d", v4_cases[i].addr,
               v4_cases[i].is_public);
  }
}

static void test_is_public_v6(void **state)
{
  for (size_t i = 0; i < sizeof v6_cases / sizeof v6_cases[0]; i++) {
    struct sockaddr_in6 in6;
    memset(&in6, 0, sizeof in6);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(443);
    assert_int_equal(inet_pton(AF_INET6, v6_cases[i].addr, &in6.sin6_addr), 1);
    if (netaddr_is_public((const struct sockaddr *)&in6) !=
        v6_cases[i].is_public)
      fail_msg("%s: expected is_public=%d", v6_cases[i].addr,
               v6_cases[i].is_public);
  }
}

/* Other families and NULL are never public; the address may sit anywhere in
 * memory (callers hand in pieces of larger structures). */
static void test_is_public_other(void **state)
{
  struct sockaddr_un un;
  struct sockaddr_in6 in6;
  unsigned char raw[sizeof in6 + 1];

  assert_int_equal(netaddr_is_public(NULL), 0);
  memset(&un, 0, sizeof un);
  un.sun_family = AF_UNIX;
  assert_int_equal(netaddr_is_public((const struct sockaddr *)&un), 0);

  memset(&in6, 0, sizeof in6);
  in6.sin6_family = AF_INET6;
  assert_int_equal(inet_pton(AF_INET6, "2606:4700::1", &in6.sin6_addr), 1);
  memcpy(raw + 1, &in6, sizeof in6);
  assert_int_equal(netaddr_is_public((const struct sockaddr *)(raw + 1)), 1);
  assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.1", &in6.sin6_addr), 1);
  memcpy(raw + 1, &in6, sizeof in6);
  assert_int_equal(netaddr_is_public((const struct sockaddr *)(raw + 1)), 0);
}

/* ---- netaddr_host_allowed -------------------------------------------------
 */

static const char *const allow[] = {"api.twilio.com", ".twiliocdn.com",
                                    "127.0.0.1", NULL};

struct host_case {
  const char *host;
  int allowed;
};

static const struct host_case host_cases[] = {
    /* Exact entries. */
    {"api.twilio.com", 1},
    {"API.Twilio.COM", 1},
    {"api.twilio.com.", 1},
    {"api.twilio.com..", 0},
    {"api.twilio.co", 0},
    {"xapi.twilio.com", 0},
    {"x.api.twilio.com", 0},
    {"api.twilio.com.evil", 0},
    {"127.0.0.1", 1},
    {"127.0.0.2", 0},
    {"127.0.0.1.evil", 0},
    /* Suffix entries. */
    {"media.twiliocdn.com", 1},
    {"a.b.twiliocdn.com", 1},
    {"MEDIA.TwilioCDN.Com.", 1},
    {"a_b-c.twiliocdn.com", 1},
    {"twiliocdn.com", 0},
    {".twiliocdn.com", 0},
    {"twiliocdn.com.evil", 0},
    {"media.twiliocdn.com.evil", 0},
    {"eviltwiliocdn.com", 0},
    {"a..twiliocdn.com", 0},
    {".a.twiliocdn.com", 0},
    {"a b.twiliocdn.com", 0},
    {"evil.com/.twiliocdn.com", 0},
    {"evil.com:80@x.twiliocdn.com", 0},
    /* Not hosts. */
    {"", 0},
    {".", 0},
};

static void test_host_allowed(void **state)
{
  for (size_t i = 0; i < sizeof host_cases / sizeof host_cases[0]; i++)
    if (netaddr_host_allowed(host_cases[i].host, allow) !=
        host_cases[i].allowed)
      fail_msg("'%s': expected allowed=%d", host_cases[i].host,
               host_cases[i].allowed);
}

static void test_host_allowed_edges(void **state)
{
  static const char *const none[] = {NULL};
  static const char *const empty_entry[] = {"", ".", NULL};
  char longhost[400];

  /* No list: any host; an empty list: none. */
  assert_int_equal(netaddr_host_allowed("anything.example", NULL), 1);
  assert_int_equal(netaddr_host_allowed("", NULL), 0);
  assert_int_equal(netaddr_host_allowed(NULL, NULL), 0);
  assert_int_equal(netaddr_host_allowed(NULL, allow), 0);
  assert_int_equal(netaddr_host_allowed("api.twilio.com", none), 0);
  /* An empty entry or a bare dot matches nothing. */
  assert_int_equal(netaddr_host_allowed("x", empty_entry), 0);
  assert_int_equal(netaddr_host_allowed(".", empty_entry), 0);
  /* Longer than any DNS name. */
  memset(longhost, 'a', sizeof longhost);
  snprintf(longhost + 300, sizeof longhost - 300, ".twiliocdn.com");
  assert_int_equal(netaddr_host_allowed(longhost, allow), 0);
  snprintf(longhost + 200, sizeof longhost - 200, ".twiliocdn.com");
  assert_int_equal(netaddr_host_allowed(longhost, allow), 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_is_public_v4),
      cmocka_unit_test(test_is_public_v6),
      cmocka_unit_test(test_is_public_other),
      cmocka_unit_test(test_host_allowed),
      cmocka_unit_test(test_host_allowed_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
