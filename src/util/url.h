/* URL helpers over libcurl's parser (curl_url), the one place the
 * configuration checks and the provider adapters take URLs apart: is this
 * an http(s) URL, one part of a URL, its origin, the same origin with
 * another path. Pure: no I/O.
 *
 * Ownership: the caller owns every buffer; a helper writes at most n bytes
 * (NUL included), keeps no pointer and leaves nothing allocated. On an
 * error the output is unspecified. URLs are parsed as libcurl does
 * (curl_url_set with no flags): only schemes libcurl supports, and an
 * http(s) URL always has a host. */
#ifndef LB_URL_H
#define LB_URL_H

#include <stddef.h>

#include "util/err.h"

enum url_part {
  URL_SCHEME, /* lower case: "https" */
  URL_HOST,
  URL_PORT, /* only when the URL gives one */
  URL_PATH, /* "/" at least */
  URL_QUERY /* without the '?' */
};

/* 1 when url parses as an http or https URL, else 0 (NULL included). */
int url_is_http(const char *url);

/* Copies one part of url into out: LB_OK; LB_ENOTFOUND when the URL has no
 * such part (no explicit port, no query); LB_EINVAL when url does not
 * parse; LB_ETOOBIG when the part does not fit in n bytes; LB_ENOMEM. */
enum lb_err url_get(const char *url, enum url_part part, char *out, size_t n);

/* The scheme, host and port of an http(s) URL, the port being the scheme's
 * default when the URL gives none ("https", "api.twilio.com", "443").
 * LB_EINVAL for anything but an http(s) URL, LB_ETOOBIG when a part does
 * not fit, LB_ENOMEM. */
enum lb_err url_origin(const char *url, char *scheme, size_t sn, char *host,
                       size_t hn, char *port, size_t pn);

/* url's scheme, host and port with 'path' as the path, and no query,
 * fragment, user or password: the same origin, nothing else. LB_EINVAL
 * when url does not parse or path is refused, LB_ETOOBIG when the result
 * does not fit in n bytes, LB_ENOMEM. */
enum lb_err url_with_path(const char *url, const char *path, char *out,
                          size_t n);

#endif
