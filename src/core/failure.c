#include "core/failure.h"

#include <string.h>

enum fclass {
  FC_UNREACHABLE,
  FC_EXPIRED,
  FC_INVALID_NUMBER,
  FC_NOT_MOBILE,
  FC_BLOCKED,
  FC_OPTED_OUT,
  FC_REJECTED,
  FC_NETWORK,
  FC_UNCONFIRMED,
  FC_ACCOUNT,
  FC_MEDIA,
  FC_LINK,
  FC_CANCELED,
  FC_UNKNOWN,
  FC__COUNT
};

static const struct failure_info classes[FC__COUNT] = {
    [FC_UNREACHABLE] = {"phone_unreachable",
                        "The patient's phone was off or out of range, so "
                        "the carrier could not deliver the message.",
                        "Try again later, or call them."},
    [FC_EXPIRED] = {"expired",
                    "The carrier kept trying, but the patient's phone did "
                    "not come back on before the message expired.",
                    "Try again, or call them."},
    [FC_INVALID_NUMBER] = {"invalid_number",
                           "The carrier says this is not a working mobile "
                           "number.",
                           "Check the number with the patient, and correct "
                           "it in their record."},
    [FC_NOT_MOBILE] = {"not_mobile",
                       "The number cannot receive text messages (it may be "
                       "a landline).",
                       "Call the patient, or ask them for a mobile number."},
    [FC_BLOCKED] = {"blocked",
                    "The carrier blocked the message to this number.",
                    "Call the patient; resending the same text is likely "
                    "to be blocked again."},
    [FC_OPTED_OUT] = {"opted_out",
                      "The patient has opted out of text messages (they "
                      "replied STOP).",
                      "Nothing can be sent until they text START; call "
                      "them instead."},
    [FC_REJECTED] = {"rejected", "The carrier refused the message.",
                     "Try again; if it fails again, call the patient and "
                     "tell the administrator."},
    [FC_NETWORK] = {"carrier_unavailable",
                    "lyrebird could not reach the carrier (it was busy or "
                    "the connection failed), so the message was not sent.",
                    "Try again in a few minutes."},
    [FC_UNCONFIRMED] = {"unconfirmed",
                        "The carrier may or may not have the message: its "
                        "answer was lost.",
                        "Wait for the carrier's report before sending it "
                        "again, so the patient does not get it twice."},
    [FC_ACCOUNT] = {"account_problem",
                    "The clinic's messaging account refused the message "
                    "(its set-up, credentials or credit).",
                    "Tell the administrator; try again once it is fixed."},
    [FC_MEDIA] = {"media_problem",
                  "The picture or file could not be sent to this phone.",
                  "Send it again without the attachment, or as a secure "
                  "link."},
    [FC_LINK] = {"link_problem",
                 "The secure link for the picture could not be made.",
                 "Check the patient's date of birth in their record, then "
                 "try again."},
    [FC_CANCELED] = {"canceled",
                     "The message was cancelled at the carrier before it "
                     "was sent.",
                     "Send it again if it is still needed."},
    [FC_UNKNOWN] = {"unknown",
                    "The message could not be delivered, and the carrier "
                    "gave no reason lyrebird knows.",
                    "Try again; if it fails again, call the patient."},
};

/* Every code the adapters (src/providers) and the gateway (src/gateway:
 * send.c, consent.c, the outbox's recovery) write, and the sim carrier's
 * own codes and receipts. */
static const struct {
  const char *code;
  enum fclass cls;
} codes[] = {
    /* receipts: the handset */
    {"absent_subscriber", FC_UNREACHABLE},
    {"undelivered", FC_UNREACHABLE},
    {"undeliverable", FC_UNREACHABLE},
    {"undeliv", FC_UNREACHABLE},
    {"twilio_30003", FC_UNREACHABLE},
    {"messagemedia_414", FC_UNREACHABLE},
    {"messagemedia_400", FC_UNREACHABLE},
    {"expired", FC_EXPIRED},
    {"messagemedia_320", FC_EXPIRED},
    {"messagemedia_401", FC_EXPIRED},
    /* the number */
    {"invalid_number", FC_INVALID_NUMBER},
    {"unknown_subscriber", FC_INVALID_NUMBER},
    {"twilio_21211", FC_INVALID_NUMBER},
    {"twilio_30005", FC_INVALID_NUMBER},
    {"messagemedia_411", FC_INVALID_NUMBER},
    {"clicksend_invalid_recipient", FC_INVALID_NUMBER},
    {"not_mobile", FC_NOT_MOBILE},
    {"twilio_21614", FC_NOT_MOBILE},
    {"twilio_30006", FC_NOT_MOBILE},
    {"messagemedia_413", FC_NOT_MOBILE},
    {"messagemedia_332", FC_NOT_MOBILE},
    {"country_not_enabled", FC_NOT_MOBILE},
    {"handset_no_mms", FC_MEDIA},
    /* blocked, filtered */
    {"blocked", FC_BLOCKED},
    {"twilio_30004", FC_BLOCKED},
    {"twilio_30007", FC_BLOCKED},
    {"messagemedia_302", FC_BLOCKED},
    {"messagemedia_412", FC_BLOCKED},
    {"opted_out", FC_OPTED_OUT},
    {"twilio_21610", FC_OPTED_OUT},
    /* refused */
    {"rejected", FC_REJECTED},
    {"failed", FC_REJECTED},
    {"invalid_request", FC_REJECTED},
    {"bad_request", FC_REJECTED},
    {"forbidden", FC_REJECTED},
    {"duplicate", FC_REJECTED},
    {"provider_error", FC_REJECTED},
    {"messagemedia_402", FC_REJECTED},
    {"twilio_30008", FC_UNKNOWN},
    /* not sent: the carrier could not be reached */
    {"network", FC_NETWORK},
    {"timeout", FC_NETWORK},
    {"rate_limited", FC_NETWORK},
    {"unavailable", FC_NETWORK},
    {"provider_busy", FC_NETWORK},
    {"http_error", FC_NETWORK},
    {"internal", FC_NETWORK},
    {"twilio_20429", FC_NETWORK},
    {"messagemedia_330", FC_NETWORK},
    /* may have gone */
    {"unconfirmed", FC_UNCONFIRMED},
    {"bad_response", FC_UNCONFIRMED},
    /* the clinic's account or set-up */
    {"auth_failed", FC_ACCOUNT},
    {"unauthorized", FC_ACCOUNT},
    {"twilio_20003", FC_ACCOUNT},
    {"no_credit", FC_ACCOUNT},
    {"invalid_sender", FC_ACCOUNT},
    {"provider_changed", FC_ACCOUNT},
    {"cannot_build", FC_ACCOUNT},
    {"messagemedia_301", FC_ACCOUNT},
    {"messagemedia_303", FC_ACCOUNT},
    {"messagemedia_333", FC_ACCOUNT},
    {"messagemedia_410", FC_ACCOUNT},
    /* media and links */
    {"media_too_large", FC_MEDIA},
    {"media_unavailable", FC_MEDIA},
    {"mms_too_large", FC_MEDIA},
    {"mms_not_supported", FC_MEDIA},
    {"mms_unsupported", FC_MEDIA},
    {"invalid_media", FC_MEDIA},
    {"link_unavailable", FC_LINK},
    {"dob_required", FC_LINK},
    /* cancelled */
    {"canceled", FC_CANCELED},
    {"cancelled", FC_CANCELED},
    {"messagemedia_405", FC_CANCELED},
};

/* Codes an adapter passes through with its own prefix: a class for the
 * rest of each family. */
static const struct {
  const char *prefix;
  enum fclass cls;
} prefixes[] = {
    {"http_5", FC_NETWORK},         {"http_408", FC_NETWORK},
    {"http_429", FC_NETWORK},       {"http_4", FC_REJECTED},
    {"twilio_", FC_REJECTED},       {"clicksend_", FC_REJECTED},
    {"messagemedia_", FC_REJECTED},
};

static int lookup(const char *code, enum fclass *out)
{
  if (!code || !*code)
    return 0;
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    if (strcmp(code, codes[i].code) == 0) {
      *out = codes[i].cls;
      return 1;
    }
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    size_t n = strlen(prefixes[i].prefix);
    if (strncmp(code, prefixes[i].prefix, n) == 0) {
      *out = prefixes[i].cls;
      return 1;
    }
  }
  return 0;
}

const struct failure_info *failure_describe(const char *code)
{
  enum fclass c = FC_UNKNOWN;
  lookup(code, &c);
  return &classes[c];
}

int failure_known(const char *code)
{
  enum fclass c;
  return lookup(code, &c);
}

const struct failure_info *failure_class_at(size_t i)
{
  return i < FC__COUNT ? &classes[i] : NULL;
}
