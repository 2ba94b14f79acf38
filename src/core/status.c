#include "core/status.h"

#include <string.h>

#include "util/err.h"

static const char *const names[ST__COUNT] = {
    "queued",      "sending", "sent",    "delivered",
    "undelivered", "failed",  "received"};

const char *status_name(enum msg_status s)
{
  return (unsigned)s < ST__COUNT ? names[s] : "unknown";
}

enum lb_err status_parse(const char *name, enum msg_status *out)
{
  for (int i = 0; i < ST__COUNT; i++)
    if (name && strcmp(name, names[i]) == 0) {
      *out = (enum msg_status)i;
      return LB_OK;
    }
  return LB_EINVAL;
}

int status_is_final(enum msg_status s)
{
  return s == ST_DELIVERED || s == ST_UNDELIVERED || s == ST_FAILED ||
         s == ST_RECEIVED;
}

int status_can_move(enum msg_status from, enum msg_status to)
{
  switch (from) {
  case ST_QUEUED:
    return to == ST_SENDING || to == ST_FAILED;
  case ST_SENDING:
    return to == ST_QUEUED || to == ST_SENT || to == ST_DELIVERED ||
           to == ST_UNDELIVERED || to == ST_FAILED;
  case ST_SENT:
    return to == ST_DELIVERED || to == ST_UNDELIVERED || to == ST_FAILED;
  default:
    return 0;
  }
}

int status_can_retry(enum msg_status s)
{
  return s == ST_FAILED || s == ST_UNDELIVERED;
}

const char *direction_name(enum msg_direction d)
{
  return d == DIR_INBOUND ? "inbound" : "outbound";
}

long retry_delay_ms(int n, long base_ms, long max_ms, unsigned r)
{
  long d = base_ms;
  long half;
  if (n < 1)
    n = 1;
  for (int i = 1; i < n && d < max_ms; i++)
    d *= 2;
  if (d > max_ms)
    d = max_ms;
  half = d / 2;
  return half + (long)(r % (unsigned long)(d - half + 1));
}
