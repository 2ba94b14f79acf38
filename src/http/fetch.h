/* Fetches one URL that came from outside (an MMS provider's media URL) with
 * libcurl, without letting the URL reach anything it should not: see
 * docs/fetch.md.
 *
 * Before any connection the URL must be http or https (https only with
 * require_https), carry no user name or password, and name a host on the
 * allow-list; a host that is a literal address must be public. Every
 * address curl then connects to is checked again (so a name that resolves
 * to 127.0.0.1 or 169.254.169.254 is refused), proxies from the environment
 * are ignored, and redirects are followed here, one hop at a time, each hop
 * checked the same way. The Basic credentials go only to the first URL's
 * origin (scheme, host and port).
 *
 * Ownership: the policy, its strings and the URL belong to the caller and
 * are only read. 'out' is the caller's (buf_init'ed, released by the
 * caller): fetch_get() empties it first, and on success it holds the body;
 * on failure it is left empty. 'res' is the caller's and always filled.
 *
 * Thread-safe: each call uses its own curl handle and nothing global, but
 * curl_global_init() must have run before the first call (main does it). */
#ifndef LB_HTTP_FETCH_H
#define LB_HTTP_FETCH_H

#include <stddef.h>

#include "util/buf.h"

/* Hard caps, whatever the policy says. */
#define FETCH_URL_MAX 8192     /* bytes in a URL, redirects included */
#define FETCH_REDIRECTS_MAX 10 /* redirects followed */

struct fetch_policy {
  /* Allowed hosts (netaddr_host_allowed); NULL: any. */
  const char *const *hosts;
  int allow_private; /* 1 only in tests and the simulated carrier */
  int require_https; /* refuse http:// URLs */
  size_t max_bytes;  /* body cap; 0: out's own cap (the smaller wins) */
  long timeout_ms;   /* whole fetch, all hops; must be > 0 */
  int max_redirects; /* each hop re-checked; 0: none followed */
  /* Basic auth "user:pass", NULL for none. Sent only to the first URL's
   * exact host (and its scheme and port), never after a redirect to
   * another host. */
  const char *userpwd;
};

struct fetch_result {
  long http_status; /* of the last response; 0 if none */
  /* 1: retrying cannot help (policy refusal, 4xx except 408/429, too
   * large). */
  int final;
  /* As the server said; informational only, never trusted. */
  char content_type[128];
  /* For people and logs: never contains credentials or the URL's query
   * string (nor any URL: hosts only). */
  char error[300];
};

/* Returns LB_OK (a 2xx answer, body in 'out'), or:
 *   LB_EDENIED   refused by the policy (scheme, host, private address,
 *                too many redirects, credentials in the URL); final
 *   LB_EINVAL    a bad argument or a URL that cannot be parsed; final
 *   LB_ETOOBIG   the body is larger than the cap; final
 *   LB_ETIMEOUT  timeout_ms passed; not final
 *   LB_EIO       an HTTP error (final for 4xx but 408 and 429) or a
 *                connection error (not final)
 *   LB_ENOMEM    not final */
enum lb_err fetch_get(const struct fetch_policy *p, const char *url,
                      struct buf *out, struct fetch_result *res);

#endif
