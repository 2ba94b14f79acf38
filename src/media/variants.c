#include "media/variants.h"

#include <stdio.h>
#include <string.h>

#include "media/image.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

/* Reads md's cleaned bytes. */
static int read_clean(struct blob_store *b, const struct media *md,
                      struct buf *out)
{
  buf_init(out, (size_t)md->bytes + 1);
  return blob_get(b, md->blob_key, out);
}

static enum lb_err store_variant(struct store *s, struct blob_store *b,
                                 const struct media *md, const char *kind,
                                 const struct image_out *img,
                                 struct media_variant *out)
{
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = blob_put(b, img->data, img->len, out->blob_key)))
    return rc;
  snprintf(out->kind, sizeof out->kind, "%s", kind);
  snprintf(out->content_type, sizeof out->content_type, "%s",
           img->content_type);
  out->bytes = (int64_t)img->len;
  out->width = img->width;
  out->height = img->height;
  out->quality = img->quality;
  out->created_at = clock_now_ms();
  /* The variant is usable even if its row is not kept: it is made again
   * next time. */
  if ((rc = store_media_variant_put(s, md->id, out)))
    log_warn("media.variant", "variant %s of %s not recorded: %s", kind, md->id,
             lb_strerror(rc));
  return LB_OK;
}

enum lb_err media_thumb(struct store *s, struct blob_store *b,
                        const struct config *c, const struct media *md,
                        struct media_variant *out)
{
  struct image_out img = {0};
  struct buf raw;
  int rc;
  if (!image_type_supported(md->content_type))
    return LB_ENOTFOUND;
  if ((rc = store_media_variant_get(s, md->id, "thumb", out)) != LB_ENOTFOUND)
    return rc;
  if ((rc = read_clean(b, md, &raw)) == LB_OK &&
      (rc = image_thumbnail(raw.data, raw.len, md->content_type,
                            c->media_max_pixels, c->thumb_px, &img)) == LB_OK)
    rc = store_variant(s, b, md, "thumb", &img, out);
  image_out_release(&img);
  buf_release(&raw);
  return rc;
}

static int sendable_as_is(const struct media *md, size_t max_bytes, int dim)
{
  static const char *const ok[] = {"image/jpeg", "image/png", "image/gif"};
  int typed = 0;
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    typed |= strcmp(md->content_type, ok[i]) == 0;
  return typed && md->bytes <= (int64_t)max_bytes && md->width <= dim &&
         md->height <= dim && md->width > 0;
}

enum lb_err media_fit(struct store *s, struct blob_store *b,
                      const struct config *c, const struct media *md,
                      size_t max_bytes, struct media_variant *out, char *why,
                      size_t whylen)
{
  struct fit_params p = {max_bytes, c->fit_max_dim, c->fit_min_quality, 320,
                         c->media_max_pixels};
  struct image_out img = {0};
  char kind[LB_VARIANT_KIND_MAX];
  struct buf raw;
  int rc;

  if (!image_type_supported(md->content_type)) {
    snprintf(why, whylen, "%s is a document, not an image", md->content_type);
    return LB_EMEDIATYPE;
  }
  if (sendable_as_is(md, max_bytes, c->fit_max_dim)) {
    memset(out, 0, sizeof *out);
    snprintf(out->kind, sizeof out->kind, "clean");
    snprintf(out->blob_key, sizeof out->blob_key, "%s", md->blob_key);
    snprintf(out->content_type, sizeof out->content_type, "%s",
             md->content_type);
    out->bytes = md->bytes;
    out->width = md->width;
    out->height = md->height;
    out->created_at = md->created_at;
    return LB_OK;
  }
  snprintf(kind, sizeof kind, "fit:%zu:%d", max_bytes, c->fit_max_dim);
  if ((rc = store_media_variant_get(s, md->id, kind, out)) != LB_ENOTFOUND) {
    if (rc)
      snprintf(why, whylen, "the media's variants could not be read");
    return rc;
  }
  if ((rc = read_clean(b, md, &raw))) {
    snprintf(why, whylen, "the media's bytes could not be read: %s",
             lb_strerror(rc));
  } else if ((rc = image_fit(raw.data, raw.len, md->content_type, &p, &img, why,
                             whylen)) == LB_OK &&
             (rc = store_variant(s, b, md, kind, &img, out))) {
    snprintf(why, whylen, "the fitted image could not be stored: %s",
             lb_strerror(rc));
  }
  image_out_release(&img);
  buf_release(&raw);
  return rc;
}
