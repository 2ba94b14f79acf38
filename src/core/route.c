/* Route policy (see route.h). Facts about hosts live in their adapters'
 * provider_caps; this file only applies them. */
#include "core/route.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/message.h"
#include "util/err.h"

/* The default MMS types, for a host whose adapter names none: JPEG, PNG and
 * GIF are what every documented MMS route takes (MessageMedia "png, jpeg
 * and gif", providers.md §2.10; Twilio png/jpeg/gif fully supported, §3.7;
 * Infobip JPEG/GIF/PNG, compliance.md §2.2). */
/* What a person sets to turn secure links on, for reasons that need them:
 * a key to make link tokens and a URL patients can reach. */
#define LINK_SETTINGS "[links] secret and [server] public_url"

static const char *const default_mms_types[] = {"image/jpeg", "image/png",
                                                "image/gif", NULL};

/* What one MMS check found. */
struct mms_check {
  enum route_cause cause;
  size_t bad;    /* for CAUSE_TYPE: the first item the host does not take */
  int64_t total; /* bytes, saturated; -1 if an item's size is unknown */
};

static const char *const delivery_names[] = {"auto", "mms", "link"};
static const char *const cause_names[CAUSE__COUNT] = {
    "none", "no_mms", "type", "too_many", "too_large", "mms_failed"};

const char *route_delivery_name(enum route_delivery d)
{
  return (unsigned)d < sizeof delivery_names / sizeof delivery_names[0]
             ? delivery_names[d]
             : "unknown";
}

enum lb_err route_delivery_parse(const char *s, enum route_delivery *out)
{
  for (size_t i = 0; i < sizeof delivery_names / sizeof delivery_names[0]; i++)
    if (s && strcmp(s, delivery_names[i]) == 0) {
      *out = (enum route_delivery)i;
      return LB_OK;
    }
  return LB_EINVAL;
}

const char *route_cause_name(enum route_cause c)
{
  return (unsigned)c < CAUSE__COUNT ? cause_names[c] : "unknown";
}

const char *const *route_mms_types(const struct provider_caps *caps)
{
  return caps && caps->mms_types ? caps->mms_types : default_mms_types;
}

static int lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* 1 if 'ctype' up to any ';' (and the blanks before it) equals 'want',
 * ignoring ASCII case. */
static int type_equal(const char *ctype, const char *want)
{
  size_t n = strcspn(ctype, ";");
  while (n && (ctype[n - 1] == ' ' || ctype[n - 1] == '\t'))
    n--;
  if (strlen(want) != n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (lower((unsigned char)ctype[i]) != lower((unsigned char)want[i]))
      return 0;
  return 1;
}

int route_type_accepted(const struct provider_caps *caps, const char *ctype)
{
  if (!ctype)
    return 0;
  for (const char *const *t = route_mms_types(caps); *t; t++)
    if (type_equal(ctype, *t))
      return 1;
  return 0;
}

void route_format_bytes(int64_t bytes, char *dst, size_t n)
{
  static const struct {
    int64_t unit;
    const char *name;
  } units[] = {{1000, "KB"}, {1000000, "MB"}, {1000000000, "GB"}};
  size_t u = 0;
  int64_t tenths = 0;
  if (bytes < 0) {
    snprintf(dst, n, "an unknown size");
    return;
  }
  if (bytes < 1000) {
    snprintf(dst, n, "%" PRId64 " byte%s", bytes, bytes == 1 ? "" : "s");
    return;
  }
  /* Round to tenths of a unit; 999.95 KB rounds up into the next unit. */
  for (u = 0; u < sizeof units / sizeof units[0]; u++) {
    int64_t k = units[u].unit;
    tenths = bytes / k * 10 + ((bytes % k) * 10 + k / 2) / k;
    if (tenths < 10000 || u + 1 == sizeof units / sizeof units[0])
      break;
  }
  if (tenths % 10)
    snprintf(dst, n, "%" PRId64 ".%d %s", tenths / 10, (int)(tenths % 10),
             units[u].name);
  else
    snprintf(dst, n, "%" PRId64 " %s", tenths / 10, units[u].name);
}

/* "JPEG" for image/jpeg and so on; otherwise the MIME type itself, with
 * anything but [a-z0-9.+/-] dropped, into buf. */
static const char *type_label(const char *ctype, char *buf, size_t n)
{
  static const struct {
    const char *mime, *label;
  } known[] = {{"image/jpeg", "JPEG"}, {"image/png", "PNG"},
               {"image/gif", "GIF"},   {"image/webp", "WebP"},
               {"image/heic", "HEIC"}, {"image/heif", "HEIF"},
               {"image/bmp", "BMP"},   {"application/pdf", "PDF"}};
  size_t j = 0;
  if (!ctype || !*ctype)
    return "an unnamed type";
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (type_equal(ctype, known[i].mime))
      return known[i].label;
  for (size_t i = 0; ctype[i] && ctype[i] != ';' && j + 1 < n && i < 64; i++) {
    int c = lower((unsigned char)ctype[i]);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '+' || c == '/' || c == '-')
      buf[j++] = (char)c;
  }
  buf[j] = '\0';
  return j ? buf : "an unnamed type";
}

/* "JPEG, PNG and GIF", or "no media types" for an empty list. A long list
 * names the first TYPES_SHOWN and counts the rest, to keep reasons short. */
#define TYPES_SHOWN 6
static void types_list(const struct provider_caps *caps, char *dst, size_t n)
{
  const char *const *t = route_mms_types(caps);
  size_t count = 0, shown, len = 0;
  char label[72];
  while (t[count])
    count++;
  if (!count) {
    snprintf(dst, n, "no media types");
    return;
  }
  shown = count > TYPES_SHOWN ? TYPES_SHOWN - 1 : count;
  dst[0] = '\0';
  for (size_t i = 0; i < shown && len < n; i++) {
    const char *sep = i == 0 ? "" : i + 1 == count ? " and " : ", ";
    int w = snprintf(dst + len, n - len, "%s%s", sep,
                     type_label(t[i], label, sizeof label));
    if (w < 0)
      break;
    len += (size_t)w;
  }
  if (shown < count && len < n)
    snprintf(dst + len, n - len, " and %zu more", count - shown);
}

static const char *host_name(const struct route_input *in)
{
  return in->host && *in->host ? in->host : "the host";
}

/* Can this media go as one MMS through this host? Limits in this order:
 * MMS at all, types, count, bytes. A host with mms_out but no budget or
 * no media items counts as one without MMS. */
static void mms_check(const struct route_input *in, struct mms_check *c)
{
  const struct provider_caps *k = in->caps;
  memset(c, 0, sizeof *c);
  c->cause = CAUSE_NONE;
  if (!k || !k->mms_out || k->mms_max_bytes <= 0 || k->max_media < 1) {
    c->cause = CAUSE_NO_MMS;
    return;
  }
  for (size_t i = 0; i < in->n_media; i++) {
    int64_t b = in->media[i].bytes;
    if (!route_type_accepted(k, in->media[i].content_type) &&
        c->cause == CAUSE_NONE) {
      c->cause = CAUSE_TYPE;
      c->bad = i;
    }
    if (c->total < 0 || b < 0)
      c->total = -1;
    else
      c->total = b > INT64_MAX - c->total ? INT64_MAX : c->total + b;
  }
  if (c->cause != CAUSE_NONE)
    return;
  if (in->n_media > (size_t)k->max_media)
    c->cause = CAUSE_TOO_MANY;
  else if (c->total < 0 || c->total > (int64_t)k->mms_max_bytes)
    c->cause = CAUSE_TOO_LARGE;
}

/* Why the media cannot go as MMS, as a clause: "sim cannot send MMS from
 * this number". */
static void cause_text(const struct route_input *in, const struct mms_check *c,
                       const char *error_text, char *dst, size_t n)
{
  const char *h = host_name(in);
  const struct provider_caps *k = in->caps;
  const int many = in->n_media != 1;
  char a[40], b[40], label[72], list[160];

  switch (c->cause) {
  case CAUSE_NO_MMS:
    snprintf(dst, n, "%s cannot send MMS from this number", h);
    break;
  case CAUSE_TYPE:
    types_list(k, list, sizeof list);
    snprintf(dst, n, "%s does not take %s in an MMS (it takes %s)", h,
             type_label(in->media[c->bad].content_type, label, sizeof label),
             list);
    break;
  case CAUSE_TOO_MANY:
    snprintf(dst, n,
             "the message has %zu attachments and %s puts at most %d in one "
             "MMS",
             in->n_media, h, k->max_media);
    break;
  case CAUSE_TOO_LARGE:
    route_format_bytes(c->total, a, sizeof a);
    route_format_bytes(k->mms_max_bytes, b, sizeof b);
    if (c->total < 0)
      snprintf(dst, n,
               "the size of %s is unknown, so it cannot be checked against "
               "%s's %s MMS limit",
               many ? "the attachments" : "the attachment", h, b);
    else if (strcmp(a, b) == 0) /* rounding hid the difference */
      snprintf(dst, n, "%s %" PRId64 " bytes, over %s's MMS limit of %ld bytes",
               many ? "the attachments add up to" : "the attachment is",
               c->total, h, k->mms_max_bytes);
    else
      snprintf(dst, n, "%s %s, over %s's %s MMS limit",
               many ? "the attachments add up to" : "the attachment is", a, h,
               b);
    break;
  case CAUSE_MMS_FAILED: {
    /* The provider's words, without control characters, shortened at a
     * UTF-8 boundary. */
    char clean[LB_ERRTEXT_MAX], quoted[104];
    size_t j = 0;
    for (const char *p = error_text; p && *p && j + 1 < sizeof clean; p++)
      if ((unsigned char)*p >= 0x20 && *p != 0x7f)
        clean[j++] = *p;
    clean[j] = '\0';
    str_copy(quoted, sizeof quoted, clean);
    if (in->failed_via && *in->failed_via)
      h = in->failed_via;
    if (j)
      snprintf(dst, n, "%s refused the MMS for good (%s)", h, quoted);
    else
      snprintf(dst, n, "%s refused the MMS for good", h);
    break;
  }
  default:
    snprintf(dst, n, "the MMS cannot be sent");
    break;
  }
}

/* Fills 'out'. The reason is formatted in a roomy buffer and then cut to
 * fit at a UTF-8 boundary. */
__attribute__((format(printf, 5, 6))) static void
decide(struct route_decision *out, enum route_plan plan, enum route_cause cause,
       const char *code, const char *fmt, ...)
{
  char buf[ROUTE_REASON_MAX * 2];
  va_list ap;
  out->plan = plan;
  out->cause = cause;
  str_copy(out->code, sizeof out->code, code);
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  str_copy(out->reason, sizeof out->reason, buf);
}

static const char *link_tail(size_t n_media)
{
  return n_media == 1
             ? "the attachment goes as an SMS with a secure link on the same "
               "number"
             : "the attachments go as an SMS with a secure link on the same "
               "number";
}

/* Checks shared by both entry points: a nonzero return means 'out' holds a
 * refusal. */
static int refuse_basics(const struct route_input *in, const char *verb,
                         struct route_decision *out)
{
  if (in->n_media && !in->media) {
    decide(out, ROUTE_REFUSE, CAUSE_NONE, "refused_invalid",
           "%s: the message lists attachments that cannot be read.", verb);
    return 1;
  }
  if (!in->has_text && !in->n_media) {
    decide(out, ROUTE_REFUSE, CAUSE_NONE, "refused_empty",
           "%s: the message has no text and no attachment.", verb);
    return 1;
  }
  if (!in->caps || !in->caps->sms_out) {
    decide(out, ROUTE_REFUSE, CAUSE_NONE, "refused_no_sms",
           "%s: %s cannot send SMS from this number, and lyrebird never "
           "sends from another number.",
           verb, host_name(in));
    return 1;
  }
  return 0;
}

void route_decide(const struct route_input *in, struct route_decision *out)
{
  const char *h = host_name(in);
  struct mms_check c;
  char why[ROUTE_REASON_MAX], a[40], b[40];
  static const char *const link_codes[CAUSE__COUNT] = {
      [CAUSE_NO_MMS] = "link_no_mms",
      [CAUSE_TYPE] = "link_type",
      [CAUSE_TOO_MANY] = "link_too_many",
      [CAUSE_TOO_LARGE] = "link_too_large"};

  memset(out, 0, sizeof *out);
  if (refuse_basics(in, "Not sent", out))
    return;
  if (!in->n_media) {
    decide(out, ROUTE_SMS, CAUSE_NONE, "sms",
           "Sent as SMS via %s on the same number.", h);
    return;
  }
  if (in->delivery == DELIVERY_LINK) {
    if (in->links_available)
      decide(out, ROUTE_LINK, CAUSE_NONE, "link_requested",
             "Sent as a link, as asked: %s sends %s as an SMS with a secure "
             "link on the same number.",
             h, in->n_media == 1 ? "the attachment" : "the attachments");
    else
      decide(out, ROUTE_REFUSE, CAUSE_NONE, "refused_no_links",
             "Not sent: a secure link was asked for, but secure links are "
             "not set up. Set " LINK_SETTINGS ".");
    return;
  }

  mms_check(in, &c);
  if (c.cause == CAUSE_NONE) {
    route_format_bytes(c.total, a, sizeof a);
    route_format_bytes(in->caps->mms_max_bytes, b, sizeof b);
    decide(out, ROUTE_MMS, CAUSE_NONE, "mms",
           "Sent as MMS via %s on the same number: %zu attachment%s, %s, "
           "within %s's %s MMS limit.",
           h, in->n_media, in->n_media == 1 ? "" : "s", a, h, b);
    return;
  }
  cause_text(in, &c, NULL, why, sizeof why);

  if (in->other_caps) {
    /* Allowed by the clinic, against the advice: MMS from another number,
     * marked as such. */
    struct route_input other = *in;
    struct mms_check oc;
    other.caps = in->other_caps;
    other.host = in->other_host;
    mms_check(&other, &oc);
    if (oc.cause == CAUSE_NONE) {
      const char *oh = in->other_host && *in->other_host ? in->other_host
                                                         : "the other sender";
      decide(out, ROUTE_MMS, c.cause, "mms_other_sender",
             "Sent as MMS via %s from %s, ANOTHER NUMBER: %s, and [routing] "
             "allow_other_sender is on. The patient sees a second number, "
             "and a reply to it does not reach this inbox.",
             oh, in->other_from && *in->other_from ? in->other_from : "it",
             why);
      out->other_sender = 1;
      return;
    }
  }

  if (in->delivery == DELIVERY_MMS)
    decide(out, ROUTE_REFUSE, c.cause, "refused_mms_requested",
           "Not sent: MMS was asked for, but %s. %s", why,
           in->links_available
               ? "Choose delivery \"link\" to send it as an SMS with a "
                 "secure link on the same number."
               : "Send it without the attachment, or set " LINK_SETTINGS
                 " so it can go as a secure link.");
  else if (in->fallback != FALLBACK_LINK)
    decide(out, ROUTE_REFUSE, c.cause, "refused_fallback_none",
           "Not sent: %s, and [routing] mms_fallback is none. %s", why,
           in->links_available
               ? "Choose delivery \"link\", set [routing] mms_fallback = "
                 "link, or send it without the attachment."
               : "Set [routing] mms_fallback = link, " LINK_SETTINGS
                 ", or send it without the attachment.");
  else if (!in->links_available)
    decide(out, ROUTE_REFUSE, c.cause, "refused_no_links",
           "Not sent: %s, and secure links are not set up, so it cannot go "
           "as a link either. Set " LINK_SETTINGS
           ", or send it without the attachment.",
           why);
  else
    decide(out, ROUTE_LINK, c.cause, link_codes[c.cause],
           "Sent as a link: %s, so %s.", why, link_tail(in->n_media));
}

void route_after_mms_failure(const struct route_input *in,
                             const char *error_text, struct route_decision *out)
{
  struct mms_check c = {.cause = CAUSE_MMS_FAILED};
  char why[ROUTE_REASON_MAX];

  memset(out, 0, sizeof *out);
  if (in->n_media && !in->media) {
    refuse_basics(in, "Not resent", out);
    return;
  }
  if (!in->n_media) {
    decide(out, ROUTE_REFUSE, CAUSE_NONE, "refused_not_mms",
           "Not resent: the message has no attachment, so there is no MMS to "
           "resend as a link.");
    return;
  }
  cause_text(in, &c, error_text, why, sizeof why);
  if (refuse_basics(in, "Not resent", out))
    out->cause = CAUSE_MMS_FAILED;
  else if (in->delivery == DELIVERY_MMS)
    decide(out, ROUTE_REFUSE, CAUSE_MMS_FAILED, "refused_mms_requested",
           "Not resent: MMS was asked for and %s. %s", why,
           in->links_available
               ? "Choose delivery \"link\" to send it as an SMS with a "
                 "secure link on the same number."
               : "Set " LINK_SETTINGS " so it can go as a secure link.");
  else if (in->delivery != DELIVERY_LINK && in->fallback != FALLBACK_LINK)
    decide(out, ROUTE_REFUSE, CAUSE_MMS_FAILED, "refused_fallback_none",
           "Not resent: %s, and [routing] mms_fallback is none. %s", why,
           in->links_available
               ? "Set [routing] mms_fallback = link, or resend it with "
                 "delivery \"link\"."
               : "Set [routing] mms_fallback = link, " LINK_SETTINGS ".");
  else if (!in->links_available)
    decide(out, ROUTE_REFUSE, CAUSE_MMS_FAILED, "refused_no_links",
           "Not resent: %s, and secure links are not set up, so it cannot "
           "go as a link. Set " LINK_SETTINGS ".",
           why);
  else
    decide(out, ROUTE_LINK, CAUSE_MMS_FAILED, "link_after_failure",
           "Resent as a link: %s, so %s.", why, link_tail(in->n_media));
}
