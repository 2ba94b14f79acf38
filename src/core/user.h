/* Staff accounts as the domain sees them: names, roles and the rules a
 * username and a password must follow. Pure: no I/O.
 *
 * struct user is plain inline data; nothing to release. */
#ifndef LB_USER_H
#define LB_USER_H

#include <stddef.h>
#include <stdint.h>

#include "util/id.h"
#include "util/password.h"

#define LB_USERNAME_MAX 65 /* 64 characters and the NUL */
#define LB_DISPLAY_MAX 128
#define LB_PASSWORD_MIN 10
#define LB_PASSWORD_MAX 256

enum user_role { ROLE_STAFF, ROLE_ADMIN };

struct user {
  char id[LB_ID_SIZE];
  char username[LB_USERNAME_MAX];
  char name[LB_DISPLAY_MAX]; /* "" when none */
  enum user_role role;
  char password_hash[LB_PWHASH_MAX];
  int disabled;
  int64_t created_at;
  int64_t updated_at;
};

const char *role_name(enum user_role r);
/* LB_OK, or LB_EINVAL for anything but "staff" and "admin". */
enum lb_err role_parse(const char *s, enum user_role *out);

/* A username: 1 to 64 of a-z 0-9 . _ - @, starting with a letter or digit.
 * Lower case only, so "Reception" and "reception" cannot both exist.
 * LB_OK or LB_EINVAL with 'why' set. */
enum lb_err username_check(const char *s, char *why, size_t whylen);
/* A password: LB_PASSWORD_MIN to LB_PASSWORD_MAX bytes of valid UTF-8
 * without control characters. LB_OK or LB_EINVAL with 'why' set. */
enum lb_err password_check(const char *s, char *why, size_t whylen);

#endif
