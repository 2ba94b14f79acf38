#include "media/intake.h"

#include <magic.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "media/image.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/id.h"
#include "util/err.h"
#include "util/log.h"

/* A libmagic cookie is not safe to share between threads; one cookie
 * behind a lock is enough for the sizes we sniff (the first 64 kB). */
static magic_t cookie;
static pthread_mutex_t cookie_lock = PTHREAD_MUTEX_INITIALIZER;

#define SNIFF_BYTES 65536

int media_intake_init(void)
{
  pthread_mutex_lock(&cookie_lock);
  if (!cookie) {
    cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (cookie && magic_load(cookie, NULL) != 0) {
      log_error("media.magic", "cannot load the magic database: %s",
                magic_error(cookie));
      magic_close(cookie);
      cookie = NULL;
    }
  }
  pthread_mutex_unlock(&cookie_lock);
  return cookie ? LB_OK : LB_EIO;
}

void media_intake_cleanup(void)
{
  pthread_mutex_lock(&cookie_lock);
  if (cookie)
    magic_close(cookie);
  cookie = NULL;
  pthread_mutex_unlock(&cookie_lock);
}

int media_sniff(const void *data, size_t len, char *ctype, size_t n)
{
  const char *t;
  int rc = LB_EIO;
  pthread_mutex_lock(&cookie_lock);
  if (cookie) {
    t = magic_buffer(cookie, data, len < SNIFF_BYTES ? len : SNIFF_BYTES);
    if (t) {
      snprintf(ctype, n, "%s", t);
      rc = LB_OK;
    }
  }
  pthread_mutex_unlock(&cookie_lock);
  return rc;
}

static const char *const allowed[] = {
    "image/jpeg", "image/png",  "image/gif",      "image/webp",
    "image/heic", "image/heif", "application/pdf"};

int media_type_allowed(const char *ctype)
{
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
    if (strcmp(ctype, allowed[i]) == 0)
      return 1;
  return 0;
}

void intake_limits_from_config(const struct config *c,
                               struct intake_limits *out)
{
  out->max_bytes = (size_t)c->media_max_bytes;
  out->max_pixels = c->media_max_pixels;
  out->keep_original = c->keep_original;
  out->thumb_px = c->thumb_px;
}

static enum lb_err put_variant(struct blob_store *b, struct media *md,
                               const char *kind, const void *data, size_t len,
                               const char *ctype, int width, int height,
                               int quality)
{
  struct media_variant *v = &md->variants[md->n_variants];
  int rc;
  if (md->n_variants >= LB_MEDIA_VARIANTS_AT_INTAKE)
    return LB_EINVAL;
  memset(v, 0, sizeof *v);
  if ((rc = blob_put(b, data, len, v->blob_key)))
    return rc;
  snprintf(v->kind, sizeof v->kind, "%s", kind);
  snprintf(v->content_type, sizeof v->content_type, "%s", ctype);
  v->bytes = (int64_t)len;
  v->width = width;
  v->height = height;
  v->quality = quality;
  v->created_at = md->created_at;
  md->n_variants++;
  return LB_OK;
}

enum lb_err media_intake(struct blob_store *b, const struct intake_limits *lim,
                         const void *data, size_t len, struct media *out,
                         char *why, size_t whylen)
{
  struct image_out clean = {0}, thumb = {0};
  char sniffed[LB_CTYPE_MAX];
  const void *keep = data;
  size_t keep_len = len;
  int rc;

  memset(out, 0, sizeof *out);
  if (len == 0) {
    snprintf(why, whylen, "the media item is empty");
    return LB_EINVAL;
  }
  if (len > lim->max_bytes) {
    snprintf(why, whylen, "the media item is %zu bytes; the limit is %zu", len,
             lim->max_bytes);
    return LB_ETOOBIG;
  }
  if ((rc = media_sniff(data, len, sniffed, sizeof sniffed))) {
    snprintf(why, whylen, "the media type could not be determined");
    return rc;
  }
  if (!media_type_allowed(sniffed)) {
    snprintf(why, whylen,
             "files of type %s are not accepted; send a JPEG, PNG, GIF, "
             "WebP, HEIC or PDF",
             sniffed);
    return LB_EMEDIATYPE;
  }
  id_new(out->id);
  out->created_at = clock_now_ms();
  snprintf(out->content_type, sizeof out->content_type, "%s", sniffed);
  if (image_type_supported(sniffed)) {
    if ((rc = image_clean(data, len, sniffed, lim->max_pixels, &clean, why,
                          whylen)))
      goto done;
    keep = clean.data;
    keep_len = clean.len;
    snprintf(out->content_type, sizeof out->content_type, "%s",
             clean.content_type);
    out->width = clean.width;
    out->height = clean.height;
  }
  if ((rc = blob_put(b, keep, keep_len, out->blob_key))) {
    snprintf(why, whylen, "the media could not be stored");
    goto done;
  }
  snprintf(out->sha256, sizeof out->sha256, "%.64s", out->blob_key);
  out->bytes = (int64_t)keep_len;
  if (clean.data &&
      image_thumbnail(clean.data, clean.len, clean.content_type,
                      lim->max_pixels, lim->thumb_px, &thumb) == LB_OK &&
      (rc = put_variant(b, out, "thumb", thumb.data, thumb.len,
                        thumb.content_type, thumb.width, thumb.height,
                        thumb.quality))) {
    snprintf(why, whylen, "the media could not be stored");
    goto done;
  }
  if (lim->keep_original && clean.data &&
      (rc = put_variant(b, out, "original", data, len, sniffed, 0, 0, 0))) {
    snprintf(why, whylen, "the media could not be stored");
    goto done;
  }
  rc = LB_OK;
done:
  image_out_release(&thumb);
  image_out_release(&clean);
  if (rc)
    memset(out, 0, sizeof *out);
  return rc;
}
