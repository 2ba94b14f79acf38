/* Twilio's webhook signature (X-Twilio-Signature), as the adapter checks it
 * and as tests (and a fake Twilio) make it:
 *
 *   s = the full URL Twilio requested (scheme, host, port if any, path,
 *       query), then for a form POST, for each parameter name in byte
 *       order, each distinct value of that name in byte order: name value
 *   signature = base64(HMAC-SHA1(key = auth token, s))
 *
 * Pure: no I/O. See docs/providers/twilio.md. */
#ifndef LB_PROVIDERS_TWILIO_H
#define LB_PROVIDERS_TWILIO_H

#include <stddef.h>

#include "util/wire.h"

/* Base64 of 20 bytes: 28 characters and a NUL. */
#define TWILIO_SIGNATURE_SIZE 29

/* Writes the signature of 'url' and the decoded form params (in any order,
 * repeats allowed: they are sorted and deduplicated here). n may be 0 (a
 * GET, or a JSON body, whose URL carries bodySHA256). */
enum lb_err twilio_signature(const char *token, const char *url,
                             const struct wire_param *params, size_t n,
                             char out[TWILIO_SIGNATURE_SIZE]);

#endif
