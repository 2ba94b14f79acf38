#include "util/password.h"

#include <sodium.h>
#include <string.h>

#include "util/err.h"

_Static_assert(crypto_pwhash_STRBYTES <= LB_PWHASH_MAX,
               "LB_PWHASH_MAX must hold a crypto_pwhash_str hash");

enum lb_err password_hash(const char *password, char out[LB_PWHASH_MAX])
{
  if (sodium_init() < 0)
    return LB_ENOMEM;
  if (crypto_pwhash_str(out, password, strlen(password),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return LB_ENOMEM; /* the only documented cause: memory */
  return LB_OK;
}

enum lb_err password_verify(const char *hash, const char *password)
{
  if (sodium_init() < 0)
    return LB_EAUTH;
  return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0
             ? LB_OK
             : LB_EAUTH;
}

int password_needs_rehash(const char *hash)
{
  return crypto_pwhash_str_needs_rehash(
             hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
             crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}
