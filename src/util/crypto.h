/* Thin wrappers over OpenSSL and libsodium: HMAC-SHA256, HMAC-SHA1 (for
 * providers whose signatures need it), SHA-256, hex, constant-time
 * comparison, random tokens. Nothing here is hand-rolled. */
#ifndef LB_CRYPTO_H
#define LB_CRYPTO_H

#include <stddef.h>

#define LB_SHA256_LEN 32
#define LB_SHA256_HEX 65

int crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
                       size_t msglen, unsigned char out[LB_SHA256_LEN]);

/* One part of a message that is signed as the concatenation of its parts
 * (so large bodies need not be copied to be signed). */
struct crypto_part {
  const void *data;
  size_t len;
};
int crypto_hmac_sha256_parts(const void *key, size_t keylen,
                             const struct crypto_part *parts, size_t n,
                             unsigned char out[LB_SHA256_LEN]);
/* HMAC-SHA1: only for verifying providers' signatures that are defined with
 * it (Twilio's X-Twilio-Signature); never for anything of our own. */
#define LB_SHA1_LEN 20
int crypto_hmac_sha1(const void *key, size_t keylen, const void *msg,
                     size_t msglen, unsigned char out[LB_SHA1_LEN]);
int crypto_hmac_sha1_parts(const void *key, size_t keylen,
                           const struct crypto_part *parts, size_t n,
                           unsigned char out[LB_SHA1_LEN]);
int crypto_sha256(const void *msg, size_t len,
                  unsigned char out[LB_SHA256_LEN]);
void crypto_hex(const unsigned char *in, size_t n, char *out /* 2n+1 */);
void crypto_sha256_hex(const void *msg, size_t len, char out[LB_SHA256_HEX]);
/* 1 if the two strings are equal; time depends only on the lengths. */
int crypto_streq(const char *a, const char *b);
/* 1 if the 'alen' bytes at 'a' equal the string 'secret'. Both are hashed
 * first, so the time depends on neither value nor on which is longer: for
 * a shared secret a webhook carries (header or URL segment). */
int crypto_secret_eq(const void *a, size_t alen, const char *secret);
/* Decodes standard base64 (characters in 'ignore', e.g. "\r\n", are
 * skipped) of at most max_out decoded bytes into a new allocation: *out
 * (at least one byte, freed by the caller) and *outlen. LB_ETOOBIG past
 * max_out (refused before decoding when the input is surely too long),
 * LB_EINVAL when it is not base64, LB_ENOMEM. Nothing is allocated on
 * failure. */
enum lb_err crypto_base64_decode(const char *in, size_t inlen,
                                 const char *ignore, size_t max_out,
                                 unsigned char **out, size_t *outlen);
/* A URL-safe random token with 'bytes' bytes of entropy (libsodium). */
void crypto_token(char *out, size_t outlen, size_t bytes);

#endif
