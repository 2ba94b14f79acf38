/* Short-lived signed URLs through which a provider fetches the media of an
 * outbound MMS:
 *
 *   <public_url>/p/media/<media id>/<variant>/<expires>/<signature>
 *
 * 'variant' names the stored form that goes in the MMS ("clean", or a fit
 * such as "fit-300000-1600"); 'expires' is Unix seconds, [media]
 * url_ttl_seconds after the URL was made; the signature is HMAC-SHA256 of
 * all three under a key derived from the API key, compared in constant
 * time. A URL works for that one item and variant only, until it expires,
 * and every fetch is logged. Patients never use these: their images go
 * through the secure-link flow (links/).
 *
 * Ownership: all strings are the caller's. */
#ifndef LB_MEDIA_URLS_H
#define LB_MEDIA_URLS_H

#include <stddef.h>

#include "api/app.h"

#define MEDIA_URL_MAX 512

/* Writes the URL for variant 'kind' ("clean" or "fit:<bytes>:<dim>") of
 * media 'id'. */
int media_url_make(const struct app *a, const char *id, const char *kind,
                   char *out, size_t n);

void media_urls_register(struct app *a);

#endif
