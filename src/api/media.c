#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "media/intake.h"
#include "media/variants.h"
#include "util/err.h"

/* Staff browsers may keep media for an hour; shared caches never. */
#define STAFF_CACHE "private, max-age=3600"

void h_media_create(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct intake_limits lim;
  struct media md;
  char why[300];
  enum lb_err rc;
  intake_limits_from_config(a->cfg, &lim);
  rc = media_intake(a->blobs, &lim, r->body.data, r->body.len, &md, why,
                    sizeof why);
  if (rc == LB_EMEDIATYPE) {
    http_reply_error(r, 415, "unsupported_media_type", "%s", why);
    return;
  }
  if (rc == LB_ETOOBIG) {
    http_reply_error(r, 413,
                     r->body.len > lim.max_bytes ? "body_too_large"
                                                 : "image_too_large",
                     "%s", why);
    return;
  }
  if (rc == LB_EINVAL) {
    http_reply_error(r, 400, "invalid_request",
                     "%s; send the file's bytes as the body", why);
    return;
  }
  if (rc) {
    http_reply_error(r, 503, "storage_unavailable", "%s", why);
    return;
  }
  if ((rc = store_media_put(a->store, &md))) {
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 201, gw_media_json(a->gw, md.id));
}

void api_reply_blob(struct api *a, struct http_req *r, const char *key,
                    const char *ctype, int64_t bytes, const char *cache)
{
  struct buf b;
  size_t len;
  char *data;
  enum lb_err rc;
  buf_init(&b, (size_t)bytes + 1);
  if ((rc = blob_get(a->blobs, key, &b))) {
    buf_release(&b);
    http_reply_error(r, 503, "storage_unavailable",
                     "the media's bytes could not be read (%s)",
                     lb_strerror(rc));
    return;
  }
  data = buf_steal(&b, &len);
  http_reply_bytes(r, 200, ctype, data ? data : calloc(1, 1), len);
  http_reply_header(r, "Cache-Control", cache);
  http_reply_header(r, "Content-Disposition", "inline");
  http_reply_header(r, "X-Content-Type-Options", "nosniff");
}

/* Finds the media named by the first path parameter; replies and returns
 * non-zero when there is none. */
static int find_media(struct api *a, struct http_req *r, struct media *md)
{
  enum lb_err rc;
  if (!id_valid(r->params[0]) ||
      (rc = store_media_get(a->store, r->params[0], md)) == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found", "no media with id '%s'",
                     r->params[0]);
    return 1;
  }
  if (rc) {
    api_store_error(r, rc);
    return 1;
  }
  return 0;
}

/* A staff view of a patient's full image (not its thumbnail) is on the
 * audit log. */
static void audit_view(struct api *a, struct http_req *r, const char *action,
                       const char *media_id)
{
  char patient[LB_E164_SIZE] = "";
  struct gw_actor who;
  api_actor(r, &who);
  store_media_patient(a->store, media_id, patient);
  gw_audit(a->gw, &who, action, patient, media_id, NULL);
}

void h_media_get(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct media md;
  if (find_media(a, r, &md))
    return;
  audit_view(a, r, "media.viewed", md.id);
  api_reply_blob(a, r, md.blob_key, md.content_type, md.bytes, STAFF_CACHE);
}

void h_media_thumb(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct media md;
  struct media_variant v;
  enum lb_err rc;
  if (find_media(a, r, &md))
    return;
  rc = media_thumb(a->store, a->blobs, a->cfg, &md, &v);
  if (rc == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found",
                     "media '%s' is a document (%s) and has no thumbnail",
                     md.id, md.content_type);
    return;
  }
  if (rc) {
    http_reply_error(r, 503, "storage_unavailable",
                     "the thumbnail could not be made (%s)", lb_strerror(rc));
    return;
  }
  api_reply_blob(a, r, v.blob_key, v.content_type, v.bytes, STAFF_CACHE);
}

void h_media_original(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct media md;
  struct media_variant v;
  enum lb_err rc;
  if (find_media(a, r, &md))
    return;
  rc = store_media_variant_get(a->store, md.id, "original", &v);
  if (rc == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found",
                     "the original of media '%s' was not kept (only with "
                     "[media] keep_original = true; a PDF is stored as sent)",
                     md.id);
    return;
  }
  if (rc) {
    api_store_error(r, rc);
    return;
  }
  audit_view(a, r, "media.original_viewed", md.id);
  api_reply_blob(a, r, v.blob_key, v.content_type, v.bytes, STAFF_CACHE);
}
