/* Standard Webhooks v1 signing (standardwebhooks.com, spec 1.0.0): the
 * secret is "whsec_" + base64 of random bytes, and a delivery carries
 *
 *   webhook-id: <event id>
 *   webhook-timestamp: <Unix seconds of the attempt>
 *   webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">
 *
 * with one "v1,..." entry per secret in use, separated by spaces, so a
 * receiver keeps working through a rotation. Pure: HMAC and base64 come
 * from OpenSSL and libsodium; the caller owns every buffer. */
#ifndef LB_STDWEBHOOK_H
#define LB_STDWEBHOOK_H

#include <stddef.h>

#include "util/err.h"

#define STDWH_SECRET_BYTES 32 /* what lyrebird makes: 256 bits */
#define STDWH_SECRET_MAX 96   /* "whsec_" + base64 of up to 64 bytes + NUL */
#define STDWH_SIG_MAX 52      /* "v1," + 44 base64 + NUL, rounded */

/* A new secret: "whsec_" + base64 of STDWH_SECRET_BYTES random bytes. */
void stdwh_secret_new(char out[STDWH_SECRET_MAX]);
/* 1 if s is "whsec_" + base64 (padding optional) of 24 to 64 bytes. */
int stdwh_secret_valid(const char *s);
/* out = "v1,<signature>" of id.timestamp.body under secret. LB_EINVAL for
 * a malformed secret, or an id containing '.'. */
enum lb_err stdwh_sign(const char *secret, const char *id, long long ts,
                       const void *body, size_t len, char out[STDWH_SIG_MAX]);

#endif
