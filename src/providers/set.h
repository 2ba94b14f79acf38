/* The providers one gateway sends through: the clinic number's host, and
 * (only with [routing] allow_other_sender = true) the second sender that
 * sends the MMS the host cannot, from its own number. Pure: no I/O.
 *
 * Ownership: the set owns both providers; provider_set_release() frees
 * them. Pointers it returns live as long as the set. */
#ifndef LB_PROVIDER_SET_H
#define LB_PROVIDER_SET_H

#include "providers/provider.h"

struct provider_set {
  struct provider host;
  struct provider other; /* valid when has_other */
  int has_other;
};

/* Sets up [clinic] host, and [routing] mms_provider when the second sender
 * is allowed. LB_ENOTFOUND for an unknown name; else the adapter's error.
 * 'why' says which provider failed. */
enum lb_err provider_set_init(struct provider_set *set,
                              const struct config *cfg, char *why,
                              size_t whylen);
void provider_set_release(struct provider_set *set);

/* The provider named 'name' in the set, or NULL: the host, or the allowed
 * second sender; never any other. */
const struct provider *provider_set_get(const struct provider_set *set,
                                        const char *name);
/* The share of p's MMS budget for each of n_media items; 0 when p cannot
 * send an MMS with that many. */
size_t provider_mms_item_budget(const struct provider *p, size_t n_media);
/* The provider an MMS of n_media items would go through: the host if it
 * can send it, else the allowed second sender if it can; NULL if none. */
const struct provider *provider_set_mms(const struct provider_set *set,
                                        size_t n_media);

#endif
