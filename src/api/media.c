#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "media/intake.h"
#include "util/err.h"

void h_media_create(void *cls, struct http_req *r)
{
  struct app *a = cls;
  struct media md;
  char why[300];
  int rc = media_intake(a->blobs, r->body.data, r->body.len,
                        (size_t)a->cfg->media_max_bytes, &md, why, sizeof why);
  if (rc == LB_EMEDIATYPE) {
    http_reply_error(r, 415, "unsupported_media_type", "%s", why);
    return;
  }
  if (rc == LB_ETOOBIG) {
    http_reply_error(r, 413, "body_too_large", "%s", why);
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
  http_reply_json(r, 201,
                  json_pack("{s:s, s:s, s:I, s:s}", "id", md.id, "content_type",
                            md.content_type, "bytes", (json_int_t)md.bytes,
                            "sha256", md.sha256));
}

void h_media_get(void *cls, struct http_req *r)
{
  struct app *a = cls;
  struct media md;
  struct buf b;
  int rc;
  if (!id_valid(r->params[0]) ||
      (rc = store_media_get(a->store, r->params[0], &md)) == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found", "no media with id '%s'",
                     r->params[0]);
    return;
  }
  if (rc) {
    api_store_error(r, rc);
    return;
  }
  buf_init(&b, (size_t)md.bytes + 1);
  rc = blob_get(a->blobs, md.blob_key, &b);
  if (rc) {
    buf_release(&b);
    http_reply_error(r, 503, "storage_unavailable",
                     "the media's bytes could not be read (%s)",
                     lb_strerror(rc));
    return;
  }
  {
    size_t len;
    char *data = buf_steal(&b, &len);
    http_reply_bytes(r, 200, md.content_type, data ? data : calloc(1, 1), len);
  }
  http_reply_header(r, "Cache-Control", "private, max-age=3600");
  http_reply_header(r, "Content-Disposition", "inline");
}
