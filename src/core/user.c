#include "core/user.h"

#include <stdio.h>
#include <string.h>

#include "core/message.h"
#include "util/err.h"

const char *role_name(enum user_role r)
{
  return r == ROLE_ADMIN ? "admin" : "staff";
}

enum lb_err role_parse(const char *s, enum user_role *out)
{
  if (s && strcmp(s, "staff") == 0)
    *out = ROLE_STAFF;
  else if (s && strcmp(s, "admin") == 0)
    *out = ROLE_ADMIN;
  else
    return LB_EINVAL;
  return LB_OK;
}

static int name_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '@';
}

enum lb_err username_check(const char *s, char *why, size_t whylen)
{
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n >= LB_USERNAME_MAX) {
    snprintf(why, whylen, "a username is 1 to %d characters",
             LB_USERNAME_MAX - 1);
    return LB_EINVAL;
  }
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) {
    snprintf(why, whylen,
             "a username starts with a lower-case letter or a "
             "digit");
    return LB_EINVAL;
  }
  for (size_t i = 0; i < n; i++)
    if (!name_char(s[i])) {
      snprintf(why, whylen,
               "a username may only hold a-z, 0-9 and . _ - @ (lower case)");
      return LB_EINVAL;
    }
  return LB_OK;
}

enum lb_err password_check(const char *s, char *why, size_t whylen)
{
  size_t n = s ? strlen(s) : 0;
  char tmp[8];
  if (n < LB_PASSWORD_MIN || n > LB_PASSWORD_MAX) {
    snprintf(why, whylen, "a password is %d to %d characters long",
             LB_PASSWORD_MIN, LB_PASSWORD_MAX);
    return LB_EINVAL;
  }
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
      snprintf(why, whylen, "a password may not hold control characters");
      return LB_EINVAL;
    }
  if (text_check(s, n, tmp, sizeof tmp) != LB_OK) {
    snprintf(why, whylen, "a password must be valid UTF-8");
    return LB_EINVAL;
  }
  return LB_OK;
}
