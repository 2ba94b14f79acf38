// The only C++ in lyrebird: libphonenumber has no C API.
#include "core/phone_shim.h"

#include <cstring>
#include <string>

#include <phonenumbers/phonenumberutil.h>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

static int map_type(PhoneNumberUtil::PhoneNumberType t)
{
  switch (t) {
  case PhoneNumberUtil::MOBILE:
    return LBSHIM_MOBILE;
  case PhoneNumberUtil::FIXED_LINE:
    return LBSHIM_FIXED_LINE;
  case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
    return LBSHIM_FIXED_LINE_OR_MOBILE;
  case PhoneNumberUtil::TOLL_FREE:
    return LBSHIM_TOLL_FREE;
  case PhoneNumberUtil::PREMIUM_RATE:
    return LBSHIM_PREMIUM_RATE;
  case PhoneNumberUtil::SHARED_COST:
    return LBSHIM_SHARED_COST;
  case PhoneNumberUtil::VOIP:
    return LBSHIM_VOIP;
  case PhoneNumberUtil::PERSONAL_NUMBER:
    return LBSHIM_PERSONAL_NUMBER;
  case PhoneNumberUtil::PAGER:
    return LBSHIM_PAGER;
  case PhoneNumberUtil::UAN:
    return LBSHIM_UAN;
  case PhoneNumberUtil::VOICEMAIL:
    return LBSHIM_VOICEMAIL;
  default:
    return LBSHIM_UNKNOWN;
  }
}

extern "C" enum lb_err lbshim_parse(const char *input, const char *region,
                                    char *out, size_t outlen, int *type)
{
  try {
    const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
    PhoneNumber pn;
    if (u->Parse(input, region && *region ? region : "ZZ", &pn) !=
        PhoneNumberUtil::NO_PARSING_ERROR)
      return LB_EPARSE;
    if (!u->IsValidNumber(pn))
      return LB_EPHONE;
    std::string s;
    u->Format(pn, PhoneNumberUtil::E164, &s);
    if (s.size() + 1 > outlen)
      return LB_ETOOBIG;
    std::memcpy(out, s.c_str(), s.size() + 1);
    *type = map_type(u->GetNumberType(pn));
    return LB_OK;
  } catch (...) {
    return LB_EIO;
  }
}
