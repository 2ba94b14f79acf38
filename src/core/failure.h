/* Why a message did not reach the patient, in words a receptionist reads:
 * every error code a provider adapter or the gateway records on a message
 * (its error_code) belongs to one failure class, and each class has a
 * plain sentence and a suggested action. One table (failure.c); the
 * technical code stays beside it for whoever needs it. Pure: no I/O.
 *
 * Ownership: everything returned is static storage. */
#ifndef LB_FAILURE_H
#define LB_FAILURE_H

#include <stddef.h>

struct failure_info {
  const char *reason;  /* the class: "phone_unreachable", "unknown", ... */
  const char *message; /* what happened, in a sentence */
  const char *action;  /* what staff can do about it */
};

/* The class of 'code' (NULL or "" and anything the table does not know:
 * the generic "unknown" class, never NULL). Exact codes first, then the
 * prefixes the adapters give codes they pass through ("twilio_30003",
 * "messagemedia_414", "http_503"). Case matters: the adapters write codes
 * in lower case. */
const struct failure_info *failure_describe(const char *code);

/* 1 when 'code' has an entry of its own (an exact code or a known
 * prefixed one), 0 when it falls to the generic class. */
int failure_known(const char *code);

/* The classes, for documentation and tests: failure_class_at(0) ...
 * NULL past the end. */
const struct failure_info *failure_class_at(size_t i);

#endif
