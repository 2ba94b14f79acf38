#include "util/err.h"

static const char *const texts[] = {
#define LB_ERR_TEXT(name, text) text,
    LB_ERRORS(LB_ERR_TEXT)
#undef LB_ERR_TEXT
};

static const char *const names[] = {
#define LB_ERR_NAME(name, text) #name,
    LB_ERRORS(LB_ERR_NAME)
#undef LB_ERR_NAME
};

const char *lb_strerror(int err)
{
  if (err < 0 || err >= LB_ERR_COUNT)
    return "unknown error";
  return texts[err];
}

const char *lb_errname(int err)
{
  if (err < 0 || err >= LB_ERR_COUNT)
    return "LB_E?";
  return names[err];
}
