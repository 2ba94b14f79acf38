#include "util/stdwebhook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

#define PREFIX "whsec_"
#define PREFIX_LEN 6

void stdwh_secret_new(char out[STDWH_SECRET_MAX])
{
  unsigned char raw[STDWH_SECRET_BYTES];
  randombytes_buf(raw, sizeof raw);
  memcpy(out, PREFIX, PREFIX_LEN);
  sodium_bin2base64(out + PREFIX_LEN, STDWH_SECRET_MAX - PREFIX_LEN, raw,
                    sizeof raw, sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero(raw, sizeof raw);
}

/* The secret's bytes (24 to 64 of them); padding is optional. */
static enum lb_err secret_key(const char *secret, unsigned char key[64],
                              size_t *len)
{
  char padded[STDWH_SECRET_MAX + 4];
  unsigned char *raw = NULL;
  size_t n, rawlen = 0;
  enum lb_err rc;
  if (!secret || strncmp(secret, PREFIX, PREFIX_LEN) != 0)
    return LB_EINVAL;
  n = strlen(secret + PREFIX_LEN);
  if (n == 0 || n > STDWH_SECRET_MAX - PREFIX_LEN - 1)
    return LB_EINVAL;
  memcpy(padded, secret + PREFIX_LEN, n);
  while (n % 4)
    padded[n++] = '=';
  padded[n] = '\0';
  if ((rc = crypto_base64_decode(padded, n, NULL, 64, &raw, &rawlen)))
    return LB_EINVAL;
  if (rawlen < 24 || rawlen > 64) {
    sodium_memzero(raw, rawlen);
    free(raw);
    return LB_EINVAL;
  }
  memcpy(key, raw, rawlen);
  *len = rawlen;
  sodium_memzero(raw, rawlen);
  free(raw);
  return LB_OK;
}

int stdwh_secret_valid(const char *s)
{
  unsigned char key[64];
  size_t len;
  int ok = secret_key(s, key, &len) == LB_OK;
  sodium_memzero(key, sizeof key);
  return ok;
}

enum lb_err stdwh_sign(const char *secret, const char *id, long long ts,
                       const void *body, size_t len, char out[STDWH_SIG_MAX])
{
  unsigned char key[64], mac[LB_SHA256_LEN];
  size_t keylen = 0;
  char tsbuf[32];
  struct crypto_part parts[5];
  enum lb_err rc;
  if (!id || strchr(id, '.'))
    return LB_EINVAL;
  if ((rc = secret_key(secret, key, &keylen)))
    return rc;
  snprintf(tsbuf, sizeof tsbuf, "%lld", ts);
  parts[0] = (struct crypto_part){id, strlen(id)};
  parts[1] = (struct crypto_part){".", 1};
  parts[2] = (struct crypto_part){tsbuf, strlen(tsbuf)};
  parts[3] = (struct crypto_part){".", 1};
  parts[4] = (struct crypto_part){body, len};
  if (crypto_hmac_sha256_parts(key, keylen, parts, 5, mac)) {
    sodium_memzero(key, sizeof key);
    return LB_EINVAL;
  }
  sodium_memzero(key, sizeof key);
  memcpy(out, "v1,", 3);
  sodium_bin2base64(out + 3, STDWH_SIG_MAX - 3, mac, sizeof mac,
                    sodium_base64_VARIANT_ORIGINAL);
  return LB_OK;
}
