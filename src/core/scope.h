/* What an API key may do: its scopes. Every /api/v1 route names the one
 * scope it needs (docs/api.md lists them); "admin" covers every other.
 * The [api] key of lyrebird.ini has every scope, and so has a signed-in
 * admin; other staff have all but admin and webhooks:manage. Pure. */
#ifndef LB_SCOPE_H
#define LB_SCOPE_H

#include <stddef.h>

#include "util/err.h"

enum scope {
  SCOPE_MESSAGES_SEND = 1u << 0,
  SCOPE_MESSAGES_READ = 1u << 1,
  SCOPE_MEDIA_WRITE = 1u << 2,
  SCOPE_MEDIA_READ = 1u << 3,
  SCOPE_CONVERSATIONS_READ = 1u << 4,
  SCOPE_CONVERSATIONS_WRITE = 1u << 5,
  SCOPE_PATIENTS_WRITE = 1u << 6,
  SCOPE_WEBHOOKS_MANAGE = 1u << 7,
  SCOPE_ADMIN = 1u << 8,
};

#define SCOPE_ALL 0x1ffu
#define SCOPE_STAFF (SCOPE_ALL & ~(SCOPE_ADMIN | SCOPE_WEBHOOKS_MANAGE))
#define SCOPE_LIST_MAX 256 /* every name, joined by ',' */

/* "messages:send" ... for one bit; NULL for anything else. */
const char *scope_name(unsigned bit);
/* 1 when 'have' grants the scope 'need' (0: no scope needed). */
int scope_allows(unsigned have, unsigned need);
/* Parses "messages:send,media:write" (spaces around names are ignored).
 * LB_EINVAL names the first unknown scope in 'bad' (size n); an empty
 * list is LB_EINVAL too. */
enum lb_err scope_parse(const char *list, unsigned *out, char *bad, size_t n);
/* The names of 'mask', joined by ',' ("" for none). */
void scope_format(unsigned mask, char *out, size_t n);

#endif
