/* Address and host-name policy for outbound fetches (docs/fetch.md). Pure:
 * no I/O, no allocation, no global state; thread-safe.
 *
 * netaddr_is_public() says whether a socket address may be connected to by
 * a fetch on behalf of someone outside the clinic: loopback, private,
 * link-local (cloud metadata), shared, documentation, benchmarking,
 * multicast and reserved ranges are not public. IPv6 forms that carry an
 * IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that
 * address. The caller owns 'sa'; it is only read.
 *
 * netaddr_host_allowed() matches a host name against an allow-list. The
 * list and its strings belong to the caller. */
#ifndef LB_NETADDR_H
#define LB_NETADDR_H

struct sockaddr;

/* 1 if 'sa' (AF_INET or AF_INET6, read through sa_family) is a public
 * unicast address; 0 for every other address, any other family and NULL.
 * For AF_INET6, 'sa' must point at a whole struct sockaddr_in6. */
int netaddr_is_public(const struct sockaddr *sa);

/* 1 if 'host' is on 'allow', a NULL-terminated list of entries that are
 * either an exact host ("api.twilio.com") or a suffix starting with a dot
 * (".twiliocdn.com" matches "media.twiliocdn.com", not "twiliocdn.com" nor
 * "eviltwiliocdn.com"). ASCII case is ignored; one trailing dot on 'host'
 * is ignored. allow == NULL allows any non-empty host. NULL or empty
 * 'host': 0. */
int netaddr_host_allowed(const char *host, const char *const *allow);

/* 1 if 'host' (as in a URL: "10.0.0.1", "::1" or "[::1]") is a literal
 * address that is not public; 0 for a public one and for a name. */
int netaddr_literal_private(const char *host);

/* Splits a setting such as "api.twilio.com .twiliocdn.com" (names
 * separated by spaces or commas) into a NULL-terminated list for
 * netaddr_host_allowed(). *text_out holds the names, *list_out points
 * into it; the caller frees both (also on failure). An empty setting
 * gives an empty list, which allows no host (never "any host"). */
enum lb_err netaddr_hosts_split(const char *setting, char **text_out,
                                const char ***list_out);

#endif
