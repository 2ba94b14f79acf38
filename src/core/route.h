/* Route policy: how one outbound message goes out through its number's host.
 *
 *   route_decide()            message + host capabilities -> one plan
 *   route_after_mms_failure() an MMS failed for good -> the plan for a resend
 *
 * A plan is MMS via the host, SMS plus a secure link via the host, plain
 * SMS, or refused. Every plan uses the message's own number and its host:
 * a message never goes out from another number (the sender rule), so no
 * plan names another host, and a host that cannot send SMS refuses
 * everything (a link travels by SMS too).
 *
 * Each decision carries a stable 'code' for programs and a 'reason' for
 * people, stored on the message and shown in the inbox. Reasons name the
 * host and the cause, give sizes in decimal units (1 KB = 1000 bytes, as
 * carriers quote them) and never carry message text or media.
 *
 * Pure: no I/O, no allocation. Ownership: route_input borrows everything
 * (media, host, caps); route_decision is plain inline data. */
#ifndef LB_ROUTE_H
#define LB_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "core/caps.h"
#include "core/message.h"

/* The per-message override, "delivery" in the API and the inbox. */
enum route_delivery { DELIVERY_AUTO, DELIVERY_MMS, DELIVERY_LINK };

/* [routing] mms_fallback = link | none: what auto does with media that
 * cannot go as MMS, and what happens after an MMS fails for good. */
enum route_fallback { FALLBACK_LINK, FALLBACK_NONE };

/* Why media did not go (or could not go) as MMS. */
enum route_cause {
  CAUSE_NONE,       /* it did, or there is no media, or no MMS was tried */
  CAUSE_NO_MMS,     /* the host cannot send MMS */
  CAUSE_TYPE,       /* a media type the host does not take */
  CAUSE_TOO_MANY,   /* more items than the host puts in one MMS */
  CAUSE_TOO_LARGE,  /* over the host's MMS byte budget (or size unknown) */
  CAUSE_MMS_FAILED, /* the host refused the MMS with a final error */
  CAUSE__COUNT
};

struct route_media {
  const char *content_type; /* sniffed MIME type, "image/jpeg" */
  int64_t bytes;            /* < 0: unknown, which never fits a budget */
};

struct route_input {
  int has_text;
  const struct route_media *media; /* n_media items */
  size_t n_media;
  enum route_delivery delivery; /* unknown values are read as auto */
  enum route_fallback fallback; /* unknown values are read as none */
  /* Secure links can be made; the caller decides ([links] secret set and a
   * public URL patients can reach). */
  int links_available;
  const char *host;                 /* provider name, for the reason text */
  const struct provider_caps *caps; /* NULL: a host that can do nothing */
  /* A second provider that sends MMS from another number ([routing]
   * mms_provider with allow_other_sender = true). It is used only for
   * media the host cannot send as MMS, and never for links or text.
   * other_caps NULL: none (the default, and the recommendation). */
  const char *other_host;
  const char *other_from; /* its number, E.164 */
  const struct provider_caps *other_caps;
  /* route_after_mms_failure: the provider that refused the MMS, when it
   * was not the host (the second sender); NULL: the host. */
  const char *failed_via;
};

#define ROUTE_CODE_MAX 32
#define ROUTE_REASON_MAX 300

struct route_decision {
  enum route_plan plan;
  enum route_cause cause;
  /* Stable, for programs:
   *   sms, mms,
   *   link_no_mms, link_type, link_too_many, link_too_large (auto),
   *   link_requested (delivery link), link_after_failure,
   *   refused_empty, refused_no_sms, refused_invalid (media NULL),
   *   refused_mms_requested (delivery mms; 'cause' says why not),
   *   refused_no_links (links not set up), refused_fallback_none,
   *   refused_not_mms (route_after_mms_failure on a message without media).
   * 'cause' says which MMS limit was hit, whatever the code. */
  char code[ROUTE_CODE_MAX];
  /* For people, e.g. "Sent as a link: sim cannot send MMS from this number,
   * so the attachment goes as an SMS with a secure link on the same
   * number." */
  char reason[ROUTE_REASON_MAX];
  /* 1 when the plan is MMS through the other sender, from its number
   * (code mms_other_sender): the message is marked, and the inbox warns
   * that replies to that number do not come back here. */
  int other_sender;
};

/* The plan for a new message. 'in' and 'out' must not be NULL.
 *
 *   no text and no media                   -> refused_empty
 *   host cannot send SMS                   -> refused_no_sms (everything)
 *   text only (any delivery)               -> sms
 *   delivery link                          -> link_requested | refused_no_links
 *   MMS fits (mms_out, count, types, size) -> mms (delivery auto or mms)
 *   delivery mms, MMS does not fit         -> refused_mms_requested
 *   delivery auto or mms, the host's MMS does not fit, an other sender is
 *       set and its MMS fits               -> mms_other_sender (marked)
 *   delivery auto, MMS does not fit        -> link_<cause> when the fallback
 *       is link and links are available, else refused_fallback_none or
 *       refused_no_links, with what to change.
 * When several MMS limits are hit, the cause is the first of: no MMS, type,
 * too many, too large. A host with mms_out but mms_max_bytes <= 0 or
 * max_media < 1 counts as one without MMS. The budget is inclusive. */
void route_decide(const struct route_input *in, struct route_decision *out);

/* After an MMS failed with a final error: the plan for the resend, which
 * is ROUTE_LINK (link_after_failure) or ROUTE_REFUSE when the fallback is
 * none, links are unavailable, the host cannot send SMS, the person asked
 * for MMS (delivery mms: never silently a link), or there was no media.
 * 'error_text' (the provider's, may be NULL) is quoted in the reason after
 * dropping control characters; it is already on the message, so it adds
 * nothing new. */
void route_after_mms_failure(const struct route_input *in,
                             const char *error_text,
                             struct route_decision *out);

/* "auto", "mms", "link"; "unknown" out of range. */
const char *route_delivery_name(enum route_delivery d);
/* "auto" | "mms" | "link" -> LB_OK and *out set; else LB_EINVAL, *out
 * untouched. */
enum lb_err route_delivery_parse(const char *s, enum route_delivery *out);
/* "none", "no_mms", "type", "too_many", "too_large", "mms_failed". */
const char *route_cause_name(enum route_cause c);

/* The MMS types 'caps' accepts: caps->mms_types, or the default (JPEG, PNG,
 * GIF) when that is NULL. The one place the default is defined. */
const char *const *route_mms_types(const struct provider_caps *caps);
/* 1 if the host takes 'ctype' in an MMS (ASCII case-insensitive, any
 * ";parameters" ignored). */
int route_type_accepted(const struct provider_caps *caps, const char *ctype);

/* Writes a size in decimal units: "950 bytes", "250 KB", "614.4 KB",
 * "1.8 MB" (one decimal, rounded, ".0" dropped). */
void route_format_bytes(int64_t bytes, char *dst, size_t n);

#endif
