/* Short-lived signed URLs through which a provider fetches the media of an
 * outbound MMS:
 *
 *   <public_url>/p/media/<media id>/<variant>/<expires>/<signature>
 *
 * 'variant' names the stored form that goes in the MMS ("clean", or a fit
 * such as "fit-300000-1600"); 'expires' is Unix seconds, [media]
 * url_ttl_seconds after the URL was made; the signature is HMAC-SHA256 of
 * all three under a key derived from the API key, compared in constant
 * time. A URL works for that one item and variant only, until it expires.
 * Patients never use these: their images go through the secure-link flow
 * (links/).
 *
 * Ownership: all strings are the caller's. */
#ifndef LB_MEDIA_URLS_H
#define LB_MEDIA_URLS_H

#include <stddef.h>

#include "config/config.h"
#include "core/message.h"
#include "util/err.h"

#define MEDIA_URL_MAX 512

/* Writes the URL for variant 'kind' ("clean" or "fit:<bytes>:<dim>") of
 * media 'id', valid from 'now_s' (Unix seconds). */
enum lb_err media_url_make(const struct config *c, const char *id,
                           const char *kind, long long now_s, char *out,
                           size_t n);

/* Checks a URL's path segments at 'now_s'; on LB_OK, kind gets the variant
 * ("clean", "fit:300000:1600"). LB_EINVAL: not such a URL at all;
 * LB_ESIGNATURE: a bad signature; LB_ETIMEOUT: expired. */
enum lb_err media_url_check(const struct config *c, const char *id,
                            const char *variant, const char *expires,
                            const char *signature, long long now_s,
                            char kind[LB_VARIANT_KIND_MAX]);

#endif
