#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/err.h"

/* A DNS name is at most 253 characters, 254 with the root's dot. */
#define HOST_MAX 254

struct v4_range {
  uint32_t net;
  int bits;
};

struct v6_range {
  unsigned char net[16];
  int bits;
};

/* Not public (IANA special-purpose registry, RFC 6890 and successors).
 * Keep docs/fetch.md in step. */
static const struct v4_range v4_refused[] = {
    {0x00000000u, 8},  /* 0.0.0.0/8 "this network" */
    {0x0a000000u, 8},  /* 10.0.0.0/8 private */
    {0x64400000u, 10}, /* 100.64.0.0/10 carrier-grade NAT */
    {0x7f000000u, 8},  /* 127.0.0.0/8 loopback */
    {0xa9fe0000u, 16}, /* 169.254.0.0/16 link-local, cloud metadata */
    {0xac100000u, 12}, /* 172.16.0.0/12 private */
    {0xc0000000u, 24}, /* 192.0.0.0/24 IETF protocol assignments */
    {0xc0000200u, 24}, /* 192.0.2.0/24 TEST-NET-1 */
    {0xc0a80000u, 16}, /* 192.168.0.0/16 private */
    {0xc6120000u, 15}, /* 198.18.0.0/15 benchmarking */
    {0xc6336400u, 24}, /* 198.51.100.0/24 TEST-NET-2 */
    {0xcb007100u, 24}, /* 203.0.113.0/24 TEST-NET-3 */
    {0xe0000000u, 4},  /* 224.0.0.0/4 multicast */
    {0xf0000000u, 4},  /* 240.0.0.0/4 reserved */
    {0xffffffffu, 32}, /* 255.255.255.255 broadcast */
};

static const struct v6_range v6_refused[] = {
    {{0}, 128}, /* :: unspecified */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128}, /* ::1 */
    {{0xfc}, 7},                                /* fc00::/7 unique local */
    {{0xfe, 0x80}, 10},                         /* fe80::/10 link-local */
    {{0xfe, 0xc0}, 10},                         /* fec0::/10 site-local */
    {{0xff}, 8},                                /* ff00::/8 multicast */
    {{0x20, 0x01, 0x0d, 0xb8}, 32},             /* 2001:db8::/32 docs */
    {{0x01, 0x00}, 64},                         /* 100::/64 discard */
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48}, /* 64:ff9b:1::/48 local NAT64 */
    {{0x20, 0x01, 0x00, 0x00}, 32},             /* 2001::/32 Teredo */
};

/* IPv6 prefixes that carry an IPv4 address at byte 'at'. */
struct v6_embed {
  struct v6_range r;
  int at;
};

static const struct v6_embed v6_embedded[] = {
    {{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96}, 12}, /* ::ffff:0:0/96 */
    {{{0}, 96}, 12},                      /* ::/96 compatible */
    {{{0x00, 0x64, 0xff, 0x9b}, 96}, 12}, /* 64:ff9b::/96 NAT64 */
    {{{0x20, 0x02}, 16}, 2},              /* 2002::/16 6to4 */
};

static int v4_public(uint32_t a)
{
  for (size_t i = 0; i < sizeof v4_refused / sizeof v4_refused[0]; i++) {
    const struct v4_range *r = &v4_refused[i];
    uint32_t mask = r->bits ? 0xffffffffu << (32 - r->bits) : 0;
    if ((a & mask) == r->net)
      return 0;
  }
  return 1;
}

static int v6_in(const unsigned char a[16], const struct v6_range *r)
{
  int full = r->bits / 8, rest = r->bits % 8;
  if (memcmp(a, r->net, (size_t)full) != 0)
    return 0;
  if (rest) {
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    if ((a[full] & mask) != (r->net[full] & mask))
      return 0;
  }
  return 1;
}

static uint32_t v4_at(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

static int v6_public(const unsigned char a[16])
{
  for (size_t i = 0; i < sizeof v6_refused / sizeof v6_refused[0]; i++)
    if (v6_in(a, &v6_refused[i]))
      return 0;
  for (size_t i = 0; i < sizeof v6_embedded / sizeof v6_embedded[0]; i++)
    if (v6_in(a, &v6_embedded[i].r))
      return v4_public(v4_at(a + v6_embedded[i].at));
  return 1;
}

int netaddr_is_public(const struct sockaddr *sa)
{
  sa_family_t family;
  int pub = 0;

  if (!sa)
    goto out;
  /* memcpy, not casts: 'sa' may be any sockaddr storage, of any alignment. */
  memcpy(&family, (const char *)sa + offsetof(struct sockaddr, sa_family),
         sizeof family);
  if (family == AF_INET) {
    struct sockaddr_in in;
    memcpy(&in, sa, sizeof in);
    pub = v4_public(v4_at((const unsigned char *)&in.sin_addr.s_addr));
  } else if (family == AF_INET6) {
    struct sockaddr_in6 in6;
    memcpy(&in6, sa, sizeof in6);
    pub = v6_public(in6.sin6_addr.s6_addr);
  }
out:
  return pub;
}

static unsigned char lower(unsigned char c)
{
  return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive comparison of n bytes. */
static int same(const char *a, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
      return 0;
  return 1;
}

/* The labels in front of a suffix match: letters, digits, '-' and '_',
 * separated by single dots. */
static int labels_ok(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.') {
      if (i == 0 || s[i - 1] == '.')
        return 0;
    } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return 0;
    }
  }
  return n > 0 && s[n - 1] != '.';
}

int netaddr_host_allowed(const char *host, const char *const *allow)
{
  size_t n;
  int ok = 0;

  if (!host)
    goto out;
  n = strnlen(host, HOST_MAX + 1);
  if (n > HOST_MAX)
    goto out;
  if (n && host[n - 1] == '.')
    n--;
  if (!n)
    goto out;
  if (!allow) {
    ok = 1;
    goto out;
  }
  for (size_t i = 0; allow[i] && !ok; i++) {
    const char *e = allow[i];
    size_t en = strlen(e);
    if (!en)
      continue;
    if (e[0] == '.') {
      /* "a.example.com" ends with ".example.com"; the part in front of the
       * dot must be a real name. */
      ok = n > en && same(host + n - en, e, en) && labels_ok(host, n - en);
    } else {
      ok = n == en && same(host, e, n);
    }
  }
out:
  return ok;
}

enum lb_err netaddr_hosts_split(const char *setting, char **text_out,
                                const char ***list_out)
{
  size_t n = 0, cap = 1;
  char *save = NULL, *tok, *text;
  const char **list;
  *list_out = NULL;
  if (!(*text_out = text = strdup(setting ? setting : "")))
    return LB_ENOMEM;
  for (const char *c = text; *c; c++)
    if (*c == ' ' || *c == ',' || *c == '\t')
      cap++;
  if (!(*list_out = list = calloc(cap + 1, sizeof *list)))
    return LB_ENOMEM;
  for (tok = strtok_r(text, " ,\t", &save); tok && n < cap;
       tok = strtok_r(NULL, " ,\t", &save))
    list[n++] = tok;
  list[n] = NULL;
  return LB_OK;
}

int netaddr_literal_private(const char *host)
{
  struct sockaddr_in in;
  struct sockaddr_in6 in6;
  char bare[64];
  size_t n = host ? strlen(host) : 0;

  /* "[::1]" as a URL writes it. */
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof bare) {
    memcpy(bare, host + 1, n - 2);
    bare[n - 2] = '\0';
    host = bare;
  }
  if (!host)
    return 0;
  memset(&in, 0, sizeof in);
  memset(&in6, 0, sizeof in6);
  if (inet_pton(AF_INET, host, &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    return !netaddr_is_public((const struct sockaddr *)&in);
  }
  if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    return !netaddr_is_public((const struct sockaddr *)&in6);
  }
  return 0;
}
