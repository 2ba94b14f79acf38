#include "api/media_urls.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/log.h"

#define SIG_MAX 64

/* The key: the API key is always set and secret; a derived key keeps the
 * two uses apart. */
static void sign(const struct app *a, const char *id, const char *variant,
                 const char *exp, char out[SIG_MAX])
{
  unsigned char key[LB_SHA256_LEN], mac[LB_SHA256_LEN];
  struct crypto_part kp[2] = {{"lyrebird-media-url-key:", 23},
                              {a->cfg->api_key, strlen(a->cfg->api_key)}};
  struct crypto_part parts[6] = {
      {"lyrebird-media:", 15},    {id, strlen(id)}, {"/", 1},
      {variant, strlen(variant)}, {"/", 1},         {exp, strlen(exp)}};
  crypto_hmac_sha256_parts("lyrebird", 8, kp, 2, key);
  crypto_hmac_sha256_parts(key, sizeof key, parts, 6, mac);
  sodium_bin2base64(out, SIG_MAX, mac, sizeof mac,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(key, sizeof key);
}

/* "fit:300000:1600" <-> "fit-300000-1600": URL path segments stay plain. */
static void kind_to_segment(const char *kind, char *out, size_t n)
{
  size_t i;
  for (i = 0; kind[i] && i + 1 < n; i++)
    out[i] = kind[i] == ':' ? '-' : kind[i];
  out[i] = '\0';
}

static int segment_to_kind(const char *seg, char *out, size_t n)
{
  size_t i;
  for (i = 0; seg[i]; i++) {
    char ch = seg[i];
    if (i + 1 >= n ||
        !((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
      return LB_EINVAL;
    out[i] = ch == '-' ? ':' : ch;
  }
  out[i] = '\0';
  return strcmp(out, "clean") == 0 || strncmp(out, "fit:", 4) == 0 ? LB_OK
                                                                   : LB_EINVAL;
}

int media_url_make(const struct app *a, const char *id, const char *kind,
                   char *out, size_t n)
{
  char seg[LB_VARIANT_KIND_MAX], exp[24], sig[SIG_MAX];
  int w;
  kind_to_segment(kind, seg, sizeof seg);
  snprintf(exp, sizeof exp, "%lld",
           (long long)(clock_now_ms() / 1000 + a->cfg->media_url_ttl));
  sign(a, id, seg, exp, sig);
  w = snprintf(out, n, "%s/p/media/%s/%s/%s/%s", a->cfg->public_url, id, seg,
               exp, sig);
  return w < 0 || (size_t)w >= n ? LB_ETOOBIG : LB_OK;
}

static void h_signed_media(void *cls, struct http_req *r)
{
  struct app *a = cls;
  const char *id = r->params[0], *seg = r->params[1], *exp = r->params[2];
  char want[SIG_MAX], kind[LB_VARIANT_KIND_MAX];
  const char *ua = http_header(r, "User-Agent");
  struct media md;
  struct media_variant v;
  long long e, now = clock_now_ms() / 1000;
  char *end;
  int rc;

  e = strtoll(exp, &end, 10);
  if (!id_valid(id) || segment_to_kind(seg, kind, sizeof kind) || *end ||
      end == exp || strlen(r->params[3]) >= SIG_MAX) {
    http_reply_error(r, 404, "not_found", "no such media URL");
    return;
  }
  sign(a, id, seg, exp, want);
  if (!crypto_streq(want, r->params[3])) {
    log_warn("media.url", "refused a media URL for %s from %s: bad signature",
             id, r->remote);
    http_reply_error(r, 403, "forbidden", "this media URL is not valid");
    return;
  }
  if (e < now || e > now + a->cfg->media_url_ttl + 60) {
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

void media_urls_register(struct app *a)
{
  http_server_route(a->http, "GET",
                    "/p/media/{id}/{variant}/{expires}/{signature}",
                    h_signed_media, a, 0, AUTH_NONE);
}
