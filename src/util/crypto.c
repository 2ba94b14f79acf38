#include "util/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

int crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
                       size_t msglen, unsigned char out[LB_SHA256_LEN])
{
  struct crypto_part part = {msg, msglen};
  return crypto_hmac_sha256_parts(key, keylen, &part, 1, out);
}

/* HMAC with the named digest over the concatenated parts (EVP_MAC). */
static int hmac_parts(const char *digest, size_t mdlen, const void *key,
                      size_t keylen, const struct crypto_part *parts, size_t n,
                      unsigned char *out)
{
  size_t outlen = 0;
  int rc = LB_EINVAL;
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                          (char *)digest, 0),
                         OSSL_PARAM_construct_end()};

  if (!ctx)
    goto out;
  if (!EVP_MAC_init(ctx, key, keylen, params))
    goto out;
  for (size_t i = 0; i < n; i++)
    if (!EVP_MAC_update(ctx, parts[i].data, parts[i].len))
      goto out;
  if (!EVP_MAC_final(ctx, out, &outlen, mdlen) || outlen != mdlen)
    goto out;
  rc = LB_OK;
out:
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return rc;
}

int crypto_hmac_sha256_parts(const void *key, size_t keylen,
                             const struct crypto_part *parts, size_t n,
                             unsigned char out[LB_SHA256_LEN])
{
  return hmac_parts("SHA256", LB_SHA256_LEN, key, keylen, parts, n, out);
}

int crypto_hmac_sha1(const void *key, size_t keylen, const void *msg,
                     size_t msglen, unsigned char out[LB_SHA1_LEN])
{
  struct crypto_part part = {msg, msglen};
  return crypto_hmac_sha1_parts(key, keylen, &part, 1, out);
}

int crypto_hmac_sha1_parts(const void *key, size_t keylen,
                           const struct crypto_part *parts, size_t n,
                           unsigned char out[LB_SHA1_LEN])
{
  return hmac_parts("SHA1", LB_SHA1_LEN, key, keylen, parts, n, out);
}

int crypto_sha256(const void *msg, size_t len, unsigned char out[LB_SHA256_LEN])
{
  unsigned int n = 0;
  return EVP_Digest(msg, len, out, &n, EVP_sha256(), NULL) && n == 32
             ? LB_OK
             : LB_EINVAL;
}

void crypto_hex(const unsigned char *in, size_t n, char *out)
{
  sodium_bin2hex(out, 2 * n + 1, in, n);
}

void crypto_sha256_hex(const void *msg, size_t len, char out[LB_SHA256_HEX])
{
  unsigned char d[LB_SHA256_LEN];
  crypto_sha256(msg, len, d);
  crypto_hex(d, sizeof d, out);
}

int crypto_streq(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la != lb)
    return 0;
  return CRYPTO_memcmp(a, b, la) == 0;
}

void crypto_token(char *out, size_t outlen, size_t bytes)
{
  unsigned char raw[64];
  if (bytes > sizeof raw)
    bytes = sizeof raw;
  randombytes_buf(raw, bytes);
  sodium_bin2base64(out, outlen, raw, bytes,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof raw);
}

int crypto_secret_eq(const void *a, size_t alen, const char *secret)
{
  unsigned char ha[LB_SHA256_LEN], hb[LB_SHA256_LEN];
  if (crypto_sha256(a, alen, ha) || crypto_sha256(secret, strlen(secret), hb))
    return 0;
  return sodium_memcmp(ha, hb, sizeof ha) == 0;
}

enum lb_err crypto_base64_decode(const char *in, size_t inlen,
                                 const char *ignore, size_t max_out,
                                 unsigned char **out, size_t *outlen)
{
  /* inlen only bounds the size (padding, skipped characters). */
  size_t cap = inlen / 4 * 3 + 3;
  unsigned char *b;
  *out = NULL;
  *outlen = 0;
  if (cap > 2 * max_out + 3)
    return LB_ETOOBIG;
  if (!(b = malloc(cap)))
    return LB_ENOMEM;
  if (sodium_base642bin(b, cap, in, inlen, ignore, outlen, NULL,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    free(b);
    *outlen = 0;
    return LB_EINVAL;
  }
  if (*outlen > max_out) {
    free(b);
    *outlen = 0;
    return LB_ETOOBIG;
  }
  *out = b;
  return LB_OK;
}
