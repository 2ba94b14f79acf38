#include "providers/set.h"

#include <stdio.h>
#include <string.h>

#include "util/err.h"

enum lb_err provider_set_init(struct provider_set *set,
                              const struct config *cfg, char *why,
                              size_t whylen)
{
  enum lb_err rc;
  memset(set, 0, sizeof *set);
  if ((rc = provider_init(&set->host, cfg->host, cfg))) {
    snprintf(why, whylen, "cannot set up provider %s: %s", cfg->host,
             lb_strerror(rc));
    return rc;
  }
  if (cfg->mms_provider[0] && cfg->allow_other_sender) {
    if ((rc = provider_init(&set->other, cfg->mms_provider, cfg))) {
      snprintf(why, whylen, "cannot set up the second sender %s: %s",
               cfg->mms_provider, lb_strerror(rc));
      provider_release(&set->host);
      return rc;
    }
    set->has_other = 1;
  }
  return LB_OK;
}

void provider_set_release(struct provider_set *set)
{
  if (set->host.ops)
    provider_release(&set->host);
  if (set->has_other)
    provider_release(&set->other);
  memset(set, 0, sizeof *set);
}

const struct provider *provider_set_get(const struct provider_set *set,
                                        const char *name)
{
  if (set->host.ops && strcmp(name, set->host.ops->name) == 0)
    return &set->host;
  if (set->has_other && strcmp(name, set->other.ops->name) == 0)
    return &set->other;
  return NULL;
}

size_t provider_mms_item_budget(const struct provider *p, size_t n_media)
{
  const struct provider_caps *c = &p->caps;
  if (!c->mms_out || c->mms_max_bytes <= 0 || n_media == 0 ||
      n_media > (size_t)c->max_media)
    return 0;
  return (size_t)c->mms_max_bytes / n_media;
}

const struct provider *provider_set_mms(const struct provider_set *set,
                                        size_t n_media)
{
  if (provider_mms_item_budget(&set->host, n_media))
    return &set->host;
  if (set->has_other && provider_mms_item_budget(&set->other, n_media))
    return &set->other;
  return NULL;
}
