/* GET /p/media/...: the signed URLs through which a provider fetches an
 * outbound MMS's media (media/urls.h). Every fetch is logged. */
#include <string.h>

#include "api/handlers.h"
#include "media/urls.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

static void h_signed_media(void *cls, struct http_req *r)
{
  struct api *a = cls;
  const char *id = r->params[0];
  const char *ua = http_header(r, "User-Agent");
  char kind[LB_VARIANT_KIND_MAX];
  struct media md;
  struct media_variant v;
  enum lb_err rc = media_url_check(a->cfg, id, r->params[1], r->params[2],
                                   r->params[3], clock_now_ms() / 1000, kind);
  if (rc == LB_EINVAL) {
    http_reply_error(r, 404, "not_found", "no such media URL");
    return;
  }
  if (rc == LB_ESIGNATURE) {
    log_warn("media.url", "refused a media URL for %s from %s: bad signature",
             id, r->remote);
    http_reply_error(r, 403, "forbidden", "this media URL is not valid");
    return;
  }
  if (rc) {
    log_info("media.url", "refused an expired media URL for %s", id);
    http_reply_error(r, 403, "expired",
                     "this media URL has expired; media URLs last %d seconds",
                     a->cfg->media_url_ttl);
    return;
  }
  if ((rc = store_media_get(a->store, id, &md)) == LB_OK) {
    if (strcmp(kind, "clean") == 0) {
      snprintf(v.blob_key, sizeof v.blob_key, "%s", md.blob_key);
      snprintf(v.content_type, sizeof v.content_type, "%s", md.content_type);
      v.bytes = md.bytes;
    } else {
      rc = store_media_variant_get(a->store, id, kind, &v);
    }
  }
  if (rc == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found", "no such media");
    return;
  }
  if (rc) {
    api_store_error(r, rc);
    return;
  }
  /* Every fetch is on the record: who took which image, when. */
  log_info("media.url", "media %s (%s) fetched by %s (%.80s)", id, kind,
           r->remote, ua ? ua : "no user agent");
  api_reply_blob(a, r, v.blob_key, v.content_type, v.bytes, "no-store");
}

void media_urls_register(struct api *a)
{
  http_server_route(a->http, "GET",
                    "/p/media/{id}/{variant}/{expires}/{signature}",
                    h_signed_media, a, 0, AUTH_NONE, 0);
}
