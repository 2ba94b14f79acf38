/* How a message goes: the one place the routing inputs are put together,
 * for the first decision and for the fallback after an MMS failed. The
 * policy itself is core/route.c, pure. */
#include <stdio.h>
#include <string.h>

#include "gateway/internal.h"
#include "media/variants.h"

void gw_route(const struct gateway *gw, const struct gw_route_request *req,
              struct route_decision *out)
{
  const struct config *c = gw->cfg;
  const struct provider_set *ps = &gw->providers;
  struct route_input in;

  memset(&in, 0, sizeof in);
  in.has_text = req->has_text;
  in.media = req->media;
  in.n_media = req->n_media;
  in.delivery = req->delivery;
  in.fallback =
      strcmp(c->mms_fallback, "link") == 0 ? FALLBACK_LINK : FALLBACK_NONE;
  in.links_available = c->link_secret[0] != '\0';
  in.host = ps->host.ops->name;
  in.caps = &ps->host.caps;
  if (ps->has_other) {
    in.other_host = ps->other.ops->name;
    in.other_from = c->mms_from;
    in.other_caps = &ps->other.caps;
  }
  if (req->failed_via) {
    if (strcmp(req->failed_via, ps->host.ops->name) != 0)
      in.failed_via = req->failed_via; /* the second sender refused it */
    route_after_mms_failure(&in, req->failed_error, out);
  } else {
    route_decide(&in, out);
  }
}

enum lb_err gw_fit_for_mms(struct gateway *gw, const struct provider *p,
                           const struct media *md, size_t n_media,
                           struct media_variant *out, char *why, size_t whylen)
{
  size_t budget = provider_mms_item_budget(p, n_media);
  if (!budget) {
    snprintf(why, whylen, "%s cannot send this MMS", p->ops->name);
    return LB_EUNSUPPORTED;
  }
  return media_fit(gw->store, gw->blobs, gw->cfg, md, budget, out, why, whylen);
}
