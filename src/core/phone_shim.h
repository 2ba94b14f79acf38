/* extern "C" shim over libphonenumber (C++). Used only by core/phone.c. */
#ifndef LB_PHONE_SHIM_H
#define LB_PHONE_SHIM_H

#include <stddef.h>

#include "util/err.h"

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

/* LB_OK: E.164 in out and the number type in *type. LB_EPARSE: cannot be
 * parsed; LB_EPHONE: parsed but not a valid number; LB_ETOOBIG: out too
 * small; LB_EIO: libphonenumber failed. Never throws. */
enum lb_err lbshim_parse(const char *input, const char *region, char *out,
                         size_t outlen, int *type);

#ifdef __cplusplus
}
#endif
#endif
