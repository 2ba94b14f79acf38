#include "media/urls.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"
#include "util/id.h"

#define SIG_MAX 64

/* The key: the API key is always set and secret; a derived key keeps the
 * two uses apart. */
static void sign(const struct config *c, const char *id, const char *variant,
                 const char *exp, char out[SIG_MAX])
{
  unsigned char key[LB_SHA256_LEN], mac[LB_SHA256_LEN];
  struct crypto_part kp[2] = {{"lyrebird-media-url-key:", 23},
                              {c->api_key, strlen(c->api_key)}};
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

static enum lb_err segment_to_kind(const char *seg, char *out, size_t n)
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

enum lb_err media_url_make(const struct config *c, const char *id,
                           const char *kind, long long now_s, char *out,
                           size_t n)
{
  char seg[LB_VARIANT_KIND_MAX], exp[24], sig[SIG_MAX];
  int w;
  kind_to_segment(kind, seg, sizeof seg);
  snprintf(exp, sizeof exp, "%lld", now_s + c->media_url_ttl);
  sign(c, id, seg, exp, sig);
  w = snprintf(out, n, "%s/p/media/%s/%s/%s/%s", c->public_url, id, seg, exp,
               sig);
  return w < 0 || (size_t)w >= n ? LB_ETOOBIG : LB_OK;
}

enum lb_err media_url_check(const struct config *c, const char *id,
                            const char *variant, const char *expires,
                            const char *signature, long long now_s,
                            char kind[LB_VARIANT_KIND_MAX])
{
  char want[SIG_MAX], *end;
  long long e = strtoll(expires, &end, 10);
  if (!id_valid(id) || segment_to_kind(variant, kind, LB_VARIANT_KIND_MAX) ||
      *end || end == expires || strlen(signature) >= SIG_MAX)
    return LB_EINVAL;
  sign(c, id, variant, expires, want);
  if (!crypto_streq(want, signature))
    return LB_ESIGNATURE;
  if (e < now_s || e > now_s + c->media_url_ttl + 60)
    return LB_ETIMEOUT;
  return LB_OK;
}
