#include "core/consent.h"

#include <stdio.h>
#include <string.h>

static const char *const state_names[] = {"opted_in", "opted_out"};
static const char *const source_names[] = {"keyword", "provider", "staff",
                                           "api"};

const char *consent_state_name(enum consent_state s)
{
  return (unsigned)s < 2 ? state_names[s] : "unknown";
}

const char *consent_source_name(enum consent_source s)
{
  return (unsigned)s < 4 ? source_names[s] : "unknown";
}

enum lb_err consent_state_parse(const char *s, enum consent_state *out)
{
  for (int i = 0; s && i < 2; i++)
    if (strcmp(s, state_names[i]) == 0) {
      *out = (enum consent_state)i;
      return LB_OK;
    }
  return LB_EINVAL;
}

enum lb_err consent_source_parse(const char *s, enum consent_source *out)
{
  for (int i = 0; s && i < 4; i++)
    if (strcmp(s, source_names[i]) == 0) {
      *out = (enum consent_source)i;
      return LB_OK;
    }
  return LB_EINVAL;
}

void consent_describe(const struct consent_event *e, char *out, size_t n)
{
  int in = e->state == CONSENT_OPTED_IN;
  switch (e->source) {
  case CONSENT_KEYWORD:
    snprintf(out, n, "the patient replied %s%s%s%s",
             e->reason[0] ? e->reason
             : in         ? "START"
                          : "STOP",
             e->message_id[0] ? " (message " : "", e->message_id,
             e->message_id[0] ? ")" : "");
    break;
  case CONSENT_PROVIDER:
    snprintf(out, n, "%s reported an %s%s%s",
             e->provider[0] ? e->provider : "the provider",
             in ? "opt-in" : "opt-out", e->reason[0] ? ": " : "", e->reason);
    break;
  case CONSENT_STAFF:
  case CONSENT_API:
    snprintf(out, n, "%s by %s%s%s", in ? "opted in" : "opted out",
             e->actor[0] ? e->actor : "staff", e->reason[0] ? ": " : "",
             e->reason);
    break;
  }
}
