#include "media/intake.h"

#include <magic.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/crypto.h"
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

int media_intake(struct blob_store *b, const void *data, size_t len,
                 size_t max_bytes, struct media *out, char *why, size_t whylen)
{
  int rc;
  memset(out, 0, sizeof *out);
  if (len == 0) {
    snprintf(why, whylen, "the media item is empty");
    return LB_EINVAL;
  }
  if (len > max_bytes) {
    snprintf(why, whylen, "the media item is %zu bytes; the limit is %zu", len,
             max_bytes);
    return LB_ETOOBIG;
  }
  if ((rc = media_sniff(data, len, out->content_type,
                        sizeof out->content_type))) {
    snprintf(why, whylen, "the media type could not be determined");
    return rc;
  }
  if (!media_type_allowed(out->content_type)) {
    snprintf(why, whylen,
             "files of type %s are not accepted; send a JPEG, PNG, GIF, "
             "WebP, HEIC or PDF",
             out->content_type);
    return LB_EMEDIATYPE;
  }
  if ((rc = blob_put(b, data, len, out->blob_key))) {
    snprintf(why, whylen, "the media could not be stored");
    return rc;
  }
  snprintf(out->sha256, sizeof out->sha256, "%.64s", out->blob_key);
  id_new(out->id);
  out->bytes = (int64_t)len;
  out->created_at = clock_now_ms();
  return LB_OK;
}
