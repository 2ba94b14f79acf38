#include "core/phone.h"

#include <stdio.h>
#include <string.h>

#include "core/phone_shim.h"
#include "util/err.h"

#define LB_PHONE_INPUT_MAX 64

static const char *type_name(int t)
{
  switch (t) {
  case LBSHIM_FIXED_LINE:
    return "a landline";
  case LBSHIM_TOLL_FREE:
    return "a toll-free number";
  case LBSHIM_PREMIUM_RATE:
    return "a premium-rate number";
  case LBSHIM_SHARED_COST:
    return "a shared-cost number";
  case LBSHIM_VOIP:
    return "a VoIP number";
  case LBSHIM_PERSONAL_NUMBER:
    return "a personal (follow-me) number";
  case LBSHIM_PAGER:
    return "a pager number";
  case LBSHIM_UAN:
    return "a universal access number";
  case LBSHIM_VOICEMAIL:
    return "a voicemail number";
  default:
    return "not a number that can receive SMS";
  }
}

static enum lb_err parse(const char *input, const char *region,
                         char out[LB_E164_SIZE], int *type, char *why,
                         size_t whylen)
{
  int rc;
  if (!input || !*input) {
    snprintf(why, whylen, "a phone number is required");
    return LB_EPHONE;
  }
  if (strlen(input) > LB_PHONE_INPUT_MAX) {
    snprintf(why, whylen, "the phone number is too long");
    return LB_EPHONE;
  }
  rc = lbshim_parse(input, region, out, LB_E164_SIZE, type);
  if (rc == LB_OK)
    return LB_OK;
  if (rc == LB_EPARSE)
    snprintf(why, whylen,
             "'%s' is not a phone number (use +61412345678 or a local "
             "number such as 0412 345 678)",
             input);
  else if (rc == LB_EPHONE)
    snprintf(why, whylen,
             "'%s' is not a valid phone number in region %s (check the "
             "digits, or use the international form +<country><number>)",
             input, region && *region ? region : "(none)");
  else
    snprintf(why, whylen, "'%s' could not be checked", input);
  return LB_EPHONE;
}

int phone_parse(const char *input, const char *region, char out[LB_E164_SIZE],
                char *why, size_t whylen)
{
  int type;
  return parse(input, region, out, &type, why, whylen);
}

enum lb_err phone_normalize(const char *input, const char *region,
                            char out[LB_E164_SIZE], char *why, size_t whylen)
{
  int type;
  int rc = parse(input, region, out, &type, why, whylen);
  if (rc)
    return rc;
  if (type == LBSHIM_MOBILE || type == LBSHIM_FIXED_LINE_OR_MOBILE)
    return LB_OK;
  snprintf(why, whylen, "%s is %s and cannot receive SMS; use a mobile number",
           out, type_name(type));
  return LB_ENOTMOBILE;
}

int phone_is_e164(const char *s)
{
  size_t n = 0;
  if (!s || s[0] != '+')
    return 0;
  for (s++; *s; s++, n++)
    if (*s < '0' || *s > '9')
      return 0;
  return n >= 8 && n <= 15;
}
