#include "core/scope.h"

#include <stdio.h>
#include <string.h>

static const char *const names[] = {
    "messages:send",       "messages:read",   "media:write",
    "media:read",          "conversations:read", "conversations:write",
    "patients:write",      "webhooks:manage", "admin",
};

#define N_SCOPES (sizeof names / sizeof names[0])

const char *scope_name(unsigned bit)
{
  for (size_t i = 0; i < N_SCOPES; i++)
    if (bit == 1u << i)
      return names[i];
  return NULL;
}

int scope_allows(unsigned have, unsigned need)
{
  return !need || (have & need) == need || (have & SCOPE_ADMIN);
}

enum lb_err scope_parse(const char *list, unsigned *out, char *bad, size_t n)
{
  unsigned mask = 0;
  const char *p = list ? list : "";
  if (bad && n)
    bad[0] = '\0';
  while (*p) {
    const char *end;
    size_t len, i;
    while (*p == ' ' || *p == ',')
      p++;
    if (!*p)
      break;
    end = p;
    while (*end && *end != ',')
      end++;
    len = (size_t)(end - p);
    while (len && p[len - 1] == ' ')
      len--;
    for (i = 0; i < N_SCOPES; i++)
      if (strlen(names[i]) == len && memcmp(names[i], p, len) == 0)
        break;
    if (i == N_SCOPES) {
      if (bad && n)
        snprintf(bad, n, "%.*s", (int)(len < 64 ? len : 64), p);
      return LB_EINVAL;
    }
    mask |= 1u << i;
    p = end;
  }
  if (!mask)
    return LB_EINVAL;
  *out = mask;
  return LB_OK;
}

void scope_format(unsigned mask, char *out, size_t n)
{
  size_t used = 0;
  if (!n)
    return;
  out[0] = '\0';
  for (size_t i = 0; i < N_SCOPES; i++) {
    int k;
    if (!(mask & (1u << i)))
      continue;
    k = snprintf(out + used, n - used, "%s%s", used ? "," : "", names[i]);
    if (k < 0 || (size_t)k >= n - used)
      return;
    used += (size_t)k;
  }
}
