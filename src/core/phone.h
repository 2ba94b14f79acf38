/* Phone numbers: parsing to E.164 and the "can it take an SMS" rule.
 * Pure: no I/O. libphonenumber does the work through phone_shim. */
#ifndef LB_PHONE_H
#define LB_PHONE_H

#include <stddef.h>

#define LB_E164_SIZE 20 /* "+" and at most 15 digits, NUL, slack */

/* Parses 'input' (local or international form) with 'region' (e.g. "AU")
 * as the default, writes E.164 to out, and checks the number can receive
 * SMS (mobile). Returns LB_OK, LB_EPHONE (cannot parse or invalid) or
 * LB_ENOTMOBILE (a landline, toll-free, ...). On error 'why' holds a
 * sentence for the user, naming the input. */
enum lb_err phone_normalize(const char *input, const char *region,
                            char out[LB_E164_SIZE], char *why, size_t whylen);

/* Like phone_normalize without the mobile check (clinic numbers, inbound
 * senders, which the carrier already vouched for). */
int phone_parse(const char *input, const char *region, char out[LB_E164_SIZE],
                char *why, size_t whylen);

/* 1 if s looks like E.164 ("+" then 8-15 digits); no metadata lookup. */
int phone_is_e164(const char *s);

#endif
