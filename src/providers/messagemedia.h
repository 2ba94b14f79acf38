/* Sinch MessageMedia's request signing ([messagemedia] auth = hmac) and the
 * webhook templates lyrebird registers, exported for the unit tests and
 * for `lyrebird provider setup`'s documentation.
 *
 * The HMAC variant is the one the published test vectors verify
 * (providers.md §2.1; docs/providers/messagemedia.md):
 *
 *   x-Content-MD5 = hex(MD5(body))                       (only with a body)
 *   s = "Date: <date>\n" ["x-Content-MD5: <md5>\n"] "<METHOD> <path> HTTP/1.1"
 *   signature = base64(HMAC-SHA1(key = API secret, s))
 *   Authorization: hmac username="<API key>", algorithm="hmac-sha1",
 *                  headers="Date [x-Content-MD5 ]request-line",
 *                  signature="<signature>"
 *
 * Which variant the live API takes is not confirmed. Pure: no I/O. */
#ifndef LB_PROVIDERS_MESSAGEMEDIA_H
#define LB_PROVIDERS_MESSAGEMEDIA_H

#include <stddef.h>
#include <stdint.h>

struct provider;

/* "Thu, 12 Dec 2019 10:16:19 GMT" (RFC 7231 IMF-fixdate) and a NUL. */
#define MM_DATE_SIZE 80 /* room for any int the format could print */
/* 32 hex digits and a NUL. */
#define MM_MD5_HEX 33

/* The HTTP date of a Unix time, in English whatever the locale. */
enum lb_err messagemedia_http_date(int64_t unix_s, char out[MM_DATE_SIZE]);

/* The Authorization header's value for one request, and (when len > 0)
 * the x-Content-MD5 value in md5_hex ("" when there is no body). 'path'
 * is the request line's target: "/v1/messages". */
enum lb_err messagemedia_hmac(const char *api_key, const char *api_secret,
                              const char *date, const char *method,
                              const char *path, const void *body, size_t len,
                              char md5_hex[MM_MD5_HEX], char *auth,
                              size_t authlen);

/* Replaces the adapter's clock (Unix seconds), which dates HMAC-signed
 * requests; NULL restores the system clock. For tests. */
void messagemedia_set_clock(struct provider *p, int64_t (*now_s)(void));

/* The Velocity templates `lyrebird provider setup` registers (JSON
 * encoding), as docs/providers/messagemedia.md shows them. */
extern const char messagemedia_template_inbound[]; /* RECEIVED_SMS/MMS */
extern const char messagemedia_template_opt_out[]; /* OPT_OUT_SMS */
extern const char messagemedia_template_status[];  /* the *_DR events */

#endif
