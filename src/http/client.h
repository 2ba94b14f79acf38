/* The HTTP client: performs a wire_request with libcurl. One client per
 * thread (it wraps one easy handle, so connections are reused). Redirects
 * are not followed; only http and https are allowed. */
#ifndef LB_HTTP_CLIENT_H
#define LB_HTTP_CLIENT_H

#include "util/wire.h"

struct http_client;

enum lb_err http_client_new(long timeout_ms, struct http_client **out);
void http_client_free(struct http_client *c);
/* Always fills res; transport failures are in res->error, not the return,
 * which is LB_ENOMEM or LB_OK. */
enum lb_err http_client_perform(struct http_client *c,
                                const struct wire_request *req,
                                struct wire_response *res);

#endif
