/* extern "C" shim over libphonenumber (C++). Used only by core/phone.c. */
#ifndef LB_PHONE_SHIM_H
#define LB_PHONE_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lbshim_type {
  LBSHIM_MOBILE,
  LBSHIM_FIXED_LINE,
  LBSHIM_FIXED_LINE_OR_MOBILE,
  LBSHIM_TOLL_FREE,
  LBSHIM_PREMIUM_RATE,
  LBSHIM_SHARED_COST,
  LBSHIM_VOIP,
  LBSHIM_PERSONAL_NUMBER,
  LBSHIM_PAGER,
  LBSHIM_UAN,
  LBSHIM_VOICEMAIL,
  LBSHIM_UNKNOWN
};

/* 0: ok, E.164 in out and the number type in *type.
 * -1: cannot be parsed; -2: parsed but not a valid number;
 * -3: out too small; -4: internal error. Never throws. */
int lbshim_parse(const char *input, const char *region, char *out,
                 size_t outlen, int *type);

#ifdef __cplusplus
}
#endif
#endif
