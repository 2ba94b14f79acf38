/* A patient's choice to receive messages, and the history of it. Pure
 * data: no I/O (the store keeps it, append-only; the gateway changes it).
 *
 * Ownership: plain inline data. */
#ifndef LB_CONSENT_H
#define LB_CONSENT_H

#include <stdint.h>

#include "core/message.h"
#include "util/err.h"

enum consent_state { CONSENT_OPTED_IN, CONSENT_OPTED_OUT };

/* Who made the change: the patient by keyword (with the message), the
 * provider's report, a staff member (with a reason), or an API key. */
enum consent_source {
  CONSENT_KEYWORD,
  CONSENT_PROVIDER,
  CONSENT_STAFF,
  CONSENT_API
};

#define CONSENT_ACTOR_MAX 96
#define CONSENT_REASON_MAX 300

struct consent_event {
  char id[LB_ID_SIZE];
  char patient[LB_E164_SIZE];
  enum consent_state state;
  enum consent_source source;
  char message_id[LB_ID_SIZE];    /* keyword: the patient's message */
  char provider[LB_PROVIDER_MAX]; /* keyword, provider: whose */
  char actor[CONSENT_ACTOR_MAX];  /* staff: "user:<username>"; api: the key */
  /* keyword: the word as sent ("STOP"); staff, api: why; provider: its
   * words */
  char reason[CONSENT_REASON_MAX];
  int64_t at;
};

/* Where a patient stands now. */
struct consent {
  int opted_out;
  int64_t since;             /* when the current state began; 0 if never */
  struct consent_event last; /* the change that made it (id "" if none) */
};

/* "opted_out", "opted_in"; "keyword", "provider", "staff", "api". */
const char *consent_state_name(enum consent_state s);
const char *consent_source_name(enum consent_source s);
enum lb_err consent_state_parse(const char *s, enum consent_state *out);
enum lb_err consent_source_parse(const char *s, enum consent_source *out);

/* In words, for staff and for errors: "replied STOP (message 01J...)",
 * "twilio reported an opt-out", "by sam: consent given in person". */
void consent_describe(const struct consent_event *e, char *out, size_t n);

#endif
