/* Many POSTs at once with one libcurl multi handle, on one thread: the
 * webhook worker's transport. A slow receiver holds only its own
 * transfer, never the others. Each transfer has the same guards as a
 * media fetch (docs/fetch.md): https only unless allow_private, every
 * address checked at connect time (so a name resolving to 127.0.0.1 or
 * 169.254.169.254 is refused), no proxy from the environment, no
 * redirects followed (a 3xx is just an answer), a whole-transfer timeout,
 * and the response body read up to a small cap and dropped.
 *
 * Ownership: http_multi_add copies the request; the tag is the caller's.
 * One thread drives a multi (http_multi_run); http_multi_wakeup may be
 * called from any thread. */
#ifndef LB_HTTP_MULTI_H
#define LB_HTTP_MULTI_H

#include <stddef.h>

#include "util/err.h"
#include "util/wire.h"

#define HTTP_MULTI_MAX 128 /* transfers at once */

struct http_multi_options {
  long timeout_ms;   /* each transfer, connect included */
  int allow_private; /* http:// and private addresses too (demo, tests) */
  size_t body_max;   /* response bytes read; the rest ends the transfer */
};

struct http_multi_result {
  void *tag;
  long status;     /* HTTP status; 0 when there was no answer */
  enum lb_err err; /* LB_OK (an answer), LB_ETIMEOUT, LB_EDENIED (address
                      refused), LB_EIO (anything else) */
  char error[256]; /* for people: never the URL's query or a secret */
  long duration_ms;
  long retry_after_s; /* from Retry-After, -1 if none */
};

struct http_multi;

enum lb_err http_multi_new(const struct http_multi_options *o,
                           struct http_multi **out);
void http_multi_free(struct http_multi *m);
/* Starts POST-ing req (method, url, headers, body). LB_ETOOBIG when
 * HTTP_MULTI_MAX are running. */
enum lb_err http_multi_add(struct http_multi *m, const struct wire_request *req,
                           void *tag);
/* Waits up to wait_ms for progress or a wakeup, moves every transfer on,
 * and calls done for each that finished. */
typedef void (*http_multi_done_fn)(void *arg,
                                   const struct http_multi_result *res);
enum lb_err http_multi_run(struct http_multi *m, int wait_ms,
                           http_multi_done_fn done, void *arg);
/* Transfers running now. */
int http_multi_running(const struct http_multi *m);
/* Ends a wait in http_multi_run early. Thread-safe. */
void http_multi_wakeup(struct http_multi *m);

#endif
