/* UTF-8, strictly: overlong forms, surrogates and values past U+10FFFF are
 * invalid. Pure functions, no allocation; inputs are borrowed. */
#ifndef LB_UTF8_H
#define LB_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* The length of the sequence at s (n bytes left, n > 0), or 0 when it is
 * not valid UTF-8. Sets *cp to the code point when cp is not NULL. */
size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* The number of characters in s[0..n) into *chars (may be NULL): LB_OK,
 * or LB_EINVAL when it is not valid UTF-8. */
enum lb_err utf8_count(const char *s, size_t n, size_t *chars);

#endif
