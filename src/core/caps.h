/* What a provider can do, as the core's route policy (core/route.h) and
 * the gateway read it. An adapter fills one in its init
 * (providers/provider.h); the core only reads it, so this header pulls in
 * nothing from providers/ or config/.
 *
 * Ownership: plain inline data; the pointers it holds are borrowed (static
 * storage, or the adapter's private state, which outlives the caps). */
#ifndef LB_CAPS_H
#define LB_CAPS_H

#include <stddef.h>

struct provider_caps {
  int sms_out, sms_in;
  int mms_out, mms_in;
  long mms_max_bytes; /* whole-message budget for MMS out */
  int max_media;      /* media items per MMS */
  int subject_max;    /* 0: no subject */
  int dedupes_by_ref; /* resending with the same client reference is safe */
  int rate_per_s;     /* sends per second we allow ourselves */
  /* The provider answers the opt-out, opt-in and help keywords itself
   * (Twilio's opt-out handling): lyrebird still records the choice, but
   * sends no confirmation of its own, so the patient does not get two.
   * [<provider>] answers_keywords. */
  int answers_keywords;
  /* Seconds after a final status to redact the message body at the
   * provider (ops->build_redact); 0: never. */
  long redact_after_s;
  /* Media types the host takes in an MMS: a NULL-terminated list of
   * lower-case MIME types ("image/jpeg"), borrowed (static storage). NULL
   * means the default, JPEG, PNG and GIF; the default is defined once, in
   * route_mms_types() (src/core/route.c). */
  const char *const *mms_types;
  /* Hosts inbound media URLs may point at (http/fetch.h allow-list: exact
   * names, or suffixes starting with a dot). NULL: any host, which only
   * the simulated carrier uses. */
  const char *const *media_hosts;
  /* Basic credentials ("user:secret") for fetching inbound media URLs,
   * sent only to the URL's own origin; NULL for none. Borrowed from priv. */
  const char *media_userpwd;
  /* The body cap for inbound webhooks, for providers that send media
   * inline (base64); 0: the default (about one [media] max_bytes item). */
  size_t inbound_body_max;
};

#endif
