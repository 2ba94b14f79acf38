/* The route policy as a table. The cross product of every capability and
 * request that matters is checked against expect(), written from the rules
 * in the issue rather than from route.c: it knows each media set by what
 * it is ("too large", "HEIC") instead of measuring it. Explicit rows then
 * pin codes and the wording people see, and route_after_mms_failure() gets
 * its own cross product. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/route.h"
#include "providers/provider.h"
#include "util/err.h"

#define BUDGET 600000 /* "600 KB" */
#define MAXMEDIA 10

/* ---- the media sets ---------------------------------------------------- */

enum kind { K_NONE, K_SMALL, K_TWO, K_LARGE, K_HEIC, K_PDF, K_MANY, K__COUNT };

static const char *const kind_names[K__COUNT] = {
    "none", "small jpeg", "two pngs", "too large", "heic", "pdf", "too many"};

static const struct route_media small_jpeg[] = {{"image/jpeg", 120000}};
static const struct route_media two_png[] = {{"image/png", 250000},
                                             {"image/png", 250000}};
static const struct route_media large_jpeg[] = {{"image/jpeg", 1800000}};
static const struct route_media heic[] = {{"image/heic", 200000}};
static const struct route_media pdf[] = {{"application/pdf", 50000}};
static struct route_media many[MAXMEDIA + 1]; /* filled in main() */

static void media_of(enum kind k, const struct route_media **m, size_t *n)
{
  switch (k) {
  case K_SMALL:
    *m = small_jpeg, *n = 1;
    break;
  case K_TWO:
    *m = two_png, *n = 2;
    break;
  case K_LARGE:
    *m = large_jpeg, *n = 1;
    break;
  case K_HEIC:
    *m = heic, *n = 1;
    break;
  case K_PDF:
    *m = pdf, *n = 1;
    break;
  case K_MANY:
    *m = many, *n = MAXMEDIA + 1;
    break;
  default:
    *m = NULL, *n = 0;
    break;
  }
}

/* A host that takes more than the default: HEIC and PDF too. */
static const char *const wide_types[] = {"image/jpeg",      "image/png",
                                         "image/gif",       "image/heic",
                                         "application/pdf", NULL};

/* ---- the expectation, from the rules --------------------------- */

struct want {
  enum route_plan plan;
  enum route_cause cause;
  const char *code;
};

/* Why this media cannot go as MMS, from what it is. */
static enum route_cause blocker(int mms_out, int wide, enum kind k)
{
  if (!mms_out)
    return CAUSE_NO_MMS;
  switch (k) {
  case K_HEIC:
  case K_PDF:
    return wide ? CAUSE_NONE : CAUSE_TYPE;
  case K_MANY:
    return CAUSE_TOO_MANY;
  case K_LARGE:
    return CAUSE_TOO_LARGE;
  default:
    return CAUSE_NONE;
  }
}

static struct want expect(int text, enum kind k, int sms_out, int mms_out,
                          int wide, int links, enum route_fallback fb,
                          enum route_delivery d)
{
  enum route_cause why = blocker(mms_out, wide, k);
  if (k == K_NONE && !text)
    return (struct want){ROUTE_REFUSE, CAUSE_NONE, "refused_empty"};
  /* A link travels by SMS, so no SMS means nothing at all. */
  if (!sms_out)
    return (struct want){ROUTE_REFUSE, CAUSE_NONE, "refused_no_sms"};
  if (k == K_NONE)
    return (struct want){ROUTE_SMS, CAUSE_NONE, "sms"};
  if (d == DELIVERY_LINK)
    return links ? (struct want){ROUTE_LINK, CAUSE_NONE, "link_requested"}
                 : (struct want){ROUTE_REFUSE, CAUSE_NONE, "refused_no_links"};
  if (why == CAUSE_NONE)
    return (struct want){ROUTE_MMS, CAUSE_NONE, "mms"};
  /* Asked for MMS: never silently a link. */
  if (d == DELIVERY_MMS)
    return (struct want){ROUTE_REFUSE, why, "refused_mms_requested"};
  if (fb == FALLBACK_NONE)
    return (struct want){ROUTE_REFUSE, why, "refused_fallback_none"};
  if (!links)
    return (struct want){ROUTE_REFUSE, why, "refused_no_links"};
  switch (why) {
  case CAUSE_NO_MMS:
    return (struct want){ROUTE_LINK, why, "link_no_mms"};
  case CAUSE_TYPE:
    return (struct want){ROUTE_LINK, why, "link_type"};
  case CAUSE_TOO_MANY:
    return (struct want){ROUTE_LINK, why, "link_too_many"};
  default:
    return (struct want){ROUTE_LINK, why, "link_too_large"};
  }
}

/* ---- helpers ----------------------------------------------------------- */

static struct provider_caps caps_of(int sms_out, int mms_out, int wide)
{
  return (struct provider_caps){
      .sms_out = sms_out,
      .sms_in = 1,
      .mms_out = mms_out,
      .mms_in = 1,
      .mms_max_bytes = BUDGET,
      .max_media = MAXMEDIA,
      .mms_types = wide ? wide_types : NULL,
  };
}

static int has(const char *hay, const char *needle)
{
  return strstr(hay, needle) != NULL;
}

static int starts(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* What every reason must do, whatever the row. */
static void check_reason(const char *ctx, const char *host,
                         const struct route_input *in,
                         const struct route_decision *got)
{
  size_t len = strlen(got->reason);
  if (!got->code[0] || len == 0)
    fail_msg("%s: empty code or reason", ctx);
  /* Not cut short: the buffer was never full. */
  if (len >= ROUTE_REASON_MAX - 1 || got->reason[len - 1] != '.')
    fail_msg("%s: reason cut or unfinished (%zu): %s", ctx, len, got->reason);
  switch (got->plan) {
  case ROUTE_SMS:
    if (!starts(got->reason, "Sent as SMS"))
      fail_msg("%s: %s", ctx, got->reason);
    break;
  case ROUTE_MMS:
    if (!starts(got->reason, "Sent as MMS"))
      fail_msg("%s: %s", ctx, got->reason);
    break;
  case ROUTE_LINK:
    if (!starts(got->reason, "Sent as a link") &&
        !starts(got->reason, "Resent as a link"))
      fail_msg("%s: %s", ctx, got->reason);
    break;
  case ROUTE_REFUSE:
    if (!starts(got->reason, "Not sent") && !starts(got->reason, "Not resent"))
      fail_msg("%s: %s", ctx, got->reason);
    break;
  case ROUTE_NONE: /* an inbound message's: the policy never decides it */
    fail_msg("%s: no plan", ctx);
    break;
  }
  /* The sender rule, said out loud whenever something goes out. */
  if (got->plan != ROUTE_REFUSE && !has(got->reason, "on the same number"))
    fail_msg("%s: no 'on the same number': %s", ctx, got->reason);
  /* The host is named whenever it is the reason or the carrier. */
  if ((got->plan != ROUTE_REFUSE || got->cause != CAUSE_NONE ||
       strcmp(got->code, "refused_no_sms") == 0) &&
      !has(got->reason, host))
    fail_msg("%s: host %s not named: %s", ctx, host, got->reason);
  /* The cause, in words. */
  switch (got->cause) {
  case CAUSE_NO_MMS:
    if (!has(got->reason, "cannot send MMS from this number"))
      fail_msg("%s: %s", ctx, got->reason);
    break;
  case CAUSE_TYPE:
    if (!(has(got->reason, "does not take HEIC") ||
          has(got->reason, "does not take PDF")) ||
        !has(got->reason, "it takes JPEG, PNG and GIF"))
      fail_msg("%s: %s", ctx, got->reason);
    break;
  case CAUSE_TOO_MANY:
    if (!has(got->reason, "11 attachments") || !has(got->reason, "at most 10"))
      fail_msg("%s: %s", ctx, got->reason);
    break;
  case CAUSE_TOO_LARGE:
    if (!has(got->reason, "1.8 MB") || !has(got->reason, "600 KB MMS limit"))
      fail_msg("%s: %s", ctx, got->reason);
    break;
  default:
    break;
  }
  /* What to change, when a setting is in the way. */
  if (strcmp(got->code, "refused_fallback_none") == 0 &&
      !has(got->reason, "mms_fallback = link"))
    fail_msg("%s: %s", ctx, got->reason);
  if (strcmp(got->code, "refused_no_links") == 0 &&
      !has(got->reason, "[links] secret and [server] public_url"))
    fail_msg("%s: %s", ctx, got->reason);
  if (strcmp(got->code, "refused_fallback_none") == 0 && !in->links_available &&
      !has(got->reason, "[links] secret and [server] public_url"))
    fail_msg("%s: %s", ctx, got->reason);
}

/* ---- the cross product ------------------------------------------------- */

static const char *const hosts[] = {
    "sim", "a-provider-name-of-31-chars-xyz"}; /* LB_PROVIDER_MAX - 1 */

static void test_cross_product(void **state)
{
  int rows = 0;
  for (size_t hi = 0; hi < sizeof hosts / sizeof hosts[0]; hi++)
    for (int text = 0; text <= 1; text++)
      for (int k = 0; k < K__COUNT; k++)
        for (int sms = 0; sms <= 1; sms++)
          for (int mms = 0; mms <= 1; mms++)
            for (int wide = 0; wide <= 1; wide++)
              for (int links = 0; links <= 1; links++)
                for (int fb = FALLBACK_LINK; fb <= FALLBACK_NONE; fb++)
                  for (int d = DELIVERY_AUTO; d <= DELIVERY_LINK; d++) {
                    struct provider_caps caps = caps_of(sms, mms, wide);
                    struct route_input in = {
                        .has_text = text,
                        .delivery = (enum route_delivery)d,
                        .fallback = (enum route_fallback)fb,
                        .links_available = links,
                        .host = hosts[hi],
                        .caps = &caps,
                    };
                    struct route_decision got;
                    struct want w =
                        expect(text, (enum kind)k, sms, mms, wide, links,
                               (enum route_fallback)fb, (enum route_delivery)d);
                    char ctx[200];
                    media_of((enum kind)k, &in.media, &in.n_media);
                    snprintf(ctx, sizeof ctx,
                             "host=%s text=%d media=%s sms_out=%d mms_out=%d "
                             "types=%s links=%d fallback=%s delivery=%s",
                             hosts[hi], text, kind_names[k], sms, mms,
                             wide ? "wide" : "default", links,
                             fb == FALLBACK_LINK ? "link" : "none",
                             route_delivery_name((enum route_delivery)d));
                    memset(&got, 0x5a, sizeof got);
                    route_decide(&in, &got);
                    if (got.plan != w.plan || got.cause != w.cause ||
                        strcmp(got.code, w.code) != 0)
                      fail_msg("%s: got %s/%s/%s, want %s/%s/%s", ctx,
                               route_plan_name(got.plan),
                               route_cause_name(got.cause), got.code,
                               route_plan_name(w.plan),
                               route_cause_name(w.cause), w.code);
                    check_reason(ctx, hosts[hi], &in, &got);
                    rows++;
                  }
  assert_int_equal(rows, 2 * 2 * K__COUNT * 2 * 2 * 2 * 2 * 2 * 3);
}

/* ---- explicit rows ----------------------------------------------------- */

struct row {
  const char *name;
  int sms_out, mms_out, links;
  enum route_fallback fb;
  enum route_delivery d;
  enum kind k;
  enum route_plan plan;
  const char *code;
  const char *reason; /* the whole reason, word for word */
};

static const struct row rows[] = {
    {"text only", 1, 1, 1, FALLBACK_LINK, DELIVERY_AUTO, K_NONE, ROUTE_SMS,
     "sms", "Sent as SMS via sim on the same number."},
    {"text only, mms asked", 1, 1, 1, FALLBACK_LINK, DELIVERY_MMS, K_NONE,
     ROUTE_SMS, "sms", "Sent as SMS via sim on the same number."},
    {"small jpeg", 1, 1, 1, FALLBACK_LINK, DELIVERY_AUTO, K_SMALL, ROUTE_MMS,
     "mms",
     "Sent as MMS via sim on the same number: 1 attachment, 120 KB, within "
     "sim's 600 KB MMS limit."},
    {"two pngs", 1, 1, 0, FALLBACK_NONE, DELIVERY_MMS, K_TWO, ROUTE_MMS, "mms",
     "Sent as MMS via sim on the same number: 2 attachments, 500 KB, within "
     "sim's 600 KB MMS limit."},
    {"no mms", 1, 0, 1, FALLBACK_LINK, DELIVERY_AUTO, K_SMALL, ROUTE_LINK,
     "link_no_mms",
     "Sent as a link: sim cannot send MMS from this number, so the attachment "
     "goes as an SMS with a secure link on the same number."},
    {"too large", 1, 1, 1, FALLBACK_LINK, DELIVERY_AUTO, K_LARGE, ROUTE_LINK,
     "link_too_large",
     "Sent as a link: the attachment is 1.8 MB, over sim's 600 KB MMS limit, "
     "so the attachment goes as an SMS with a secure link on the same "
     "number."},
    {"heic", 1, 1, 1, FALLBACK_LINK, DELIVERY_AUTO, K_HEIC, ROUTE_LINK,
     "link_type",
     "Sent as a link: sim does not take HEIC in an MMS (it takes JPEG, PNG and "
     "GIF), so the attachment goes as an SMS with a secure link on the same "
     "number."},
    {"too many", 1, 1, 1, FALLBACK_LINK, DELIVERY_AUTO, K_MANY, ROUTE_LINK,
     "link_too_many",
     "Sent as a link: the message has 11 attachments and sim puts at most 10 "
     "in one MMS, so the attachments go as an SMS with a secure link on the "
     "same number."},
    {"link asked", 1, 1, 1, FALLBACK_NONE, DELIVERY_LINK, K_SMALL, ROUTE_LINK,
     "link_requested",
     "Sent as a link, as asked: sim sends the attachment as an SMS with a "
     "secure link on the same number."},
    {"link asked, no public url", 1, 1, 0, FALLBACK_LINK, DELIVERY_LINK,
     K_SMALL, ROUTE_REFUSE, "refused_no_links",
     "Not sent: a secure link was asked for, but secure links are not set "
     "up. Set [links] secret and [server] public_url."},
    {"mms asked, too large", 1, 1, 1, FALLBACK_LINK, DELIVERY_MMS, K_LARGE,
     ROUTE_REFUSE, "refused_mms_requested",
     "Not sent: MMS was asked for, but the attachment is 1.8 MB, over sim's "
     "600 KB MMS limit. Choose delivery \"link\" to send it as an SMS with a "
     "secure link on the same number."},
    {"mms asked, no mms, no links", 1, 0, 0, FALLBACK_LINK, DELIVERY_MMS,
     K_SMALL, ROUTE_REFUSE, "refused_mms_requested",
     "Not sent: MMS was asked for, but sim cannot send MMS from this number. "
     "Send it without the attachment, or set [links] secret and [server] "
     "public_url so it can go as a secure link."},
    {"fallback none, no links", 1, 0, 0, FALLBACK_NONE, DELIVERY_AUTO, K_SMALL,
     ROUTE_REFUSE, "refused_fallback_none",
     "Not sent: sim cannot send MMS from this number, and [routing] "
     "mms_fallback is none. Set [routing] mms_fallback = link, [links] secret "
     "and [server] public_url, or send it without the attachment."},
    {"fallback none, links", 1, 1, 1, FALLBACK_NONE, DELIVERY_AUTO, K_LARGE,
     ROUTE_REFUSE, "refused_fallback_none",
     "Not sent: the attachment is 1.8 MB, over sim's 600 KB MMS limit, and "
     "[routing] mms_fallback is none. Choose delivery \"link\", set [routing] "
     "mms_fallback = link, or send it without the attachment."},
    {"fallback link, no links", 1, 0, 0, FALLBACK_LINK, DELIVERY_AUTO, K_SMALL,
     ROUTE_REFUSE, "refused_no_links",
     "Not sent: sim cannot send MMS from this number, and secure links are "
     "not set up, so it cannot go as a link either. Set [links] secret and "
     "[server] public_url, or send it without the attachment."},
    {"no sms", 0, 1, 1, FALLBACK_LINK, DELIVERY_AUTO, K_SMALL, ROUTE_REFUSE,
     "refused_no_sms",
     "Not sent: sim cannot send SMS from this number, and lyrebird never sends "
     "from another number."},
    {"no sms, text only", 0, 0, 1, FALLBACK_LINK, DELIVERY_LINK, K_NONE,
     ROUTE_REFUSE, "refused_no_sms",
     "Not sent: sim cannot send SMS from this number, and lyrebird never sends "
     "from another number."},
};

static void test_rows(void **state)
{
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const struct row *r = &rows[i];
    struct provider_caps caps = caps_of(r->sms_out, r->mms_out, 0);
    struct route_input in = {.has_text = 1,
                             .delivery = r->d,
                             .fallback = r->fb,
                             .links_available = r->links,
                             .host = "sim",
                             .caps = &caps};
    struct route_decision got;
    media_of(r->k, &in.media, &in.n_media);
    route_decide(&in, &got);
    if (got.plan != r->plan || strcmp(got.code, r->code) != 0 ||
        strcmp(got.reason, r->reason) != 0)
      fail_msg("%s: got %s/%s\n  \"%s\"\nwant %s/%s\n  \"%s\"", r->name,
               route_plan_name(got.plan), got.code, got.reason,
               route_plan_name(r->plan), r->code, r->reason);
    check_reason(r->name, "sim", &in, &got);
  }
}

/* Nothing to send is refused before anything else, even with no SMS. */
static void test_empty(void **state)
{
  struct provider_caps caps = caps_of(0, 0, 0);
  struct route_input in = {.host = "sim", .caps = &caps};
  struct route_decision got;
  route_decide(&in, &got);
  assert_int_equal(got.plan, ROUTE_REFUSE);
  assert_string_equal(got.code, "refused_empty");
  assert_string_equal(got.reason,
                      "Not sent: the message has no text and no attachment.");
}

/* When several limits are hit, the one named is the first of: no MMS,
 * type, too many, too large. */
static void test_cause_order(void **state)
{
  static const struct {
    int mms_out;
    struct route_media m[3];
    size_t n;
    int max_media;
    enum route_cause cause;
  } cases[] = {
      {0, {{"image/heic", 9000000}}, 1, 10, CAUSE_NO_MMS},
      {1, {{"image/heic", 9000000}, {"image/jpeg", 1}}, 2, 1, CAUSE_TYPE},
      {1, {{"image/jpeg", 9000000}, {"image/png", 1}}, 2, 1, CAUSE_TOO_MANY},
      {1,
       {{"image/jpeg", 400000}, {"image/gif", 400000}},
       2,
       2,
       CAUSE_TOO_LARGE},
      /* The second item is the bad one; the first is fine. */
      {1, {{"image/png", 1}, {"image/webp", 1}}, 2, 10, CAUSE_TYPE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct provider_caps caps = caps_of(1, cases[i].mms_out, 0);
    struct route_input in = {.media = cases[i].m,
                             .n_media = cases[i].n,
                             .links_available = 1,
                             .host = "sim",
                             .caps = &caps};
    struct route_decision got;
    caps.max_media = cases[i].max_media;
    route_decide(&in, &got);
    assert_int_equal(got.plan, ROUTE_LINK);
    assert_int_equal(got.cause, cases[i].cause);
  }
  /* The reason names the item that is refused. */
  {
    struct provider_caps caps = caps_of(1, 1, 0);
    struct route_input in = {.media = cases[4].m,
                             .n_media = 2,
                             .links_available = 1,
                             .host = "sim",
                             .caps = &caps};
    struct route_decision got;
    route_decide(&in, &got);
    assert_non_null(strstr(got.reason, "does not take WebP"));
    assert_non_null(strstr(got.reason, "the attachments go as"));
  }
}

/* The budget is inclusive, and a miss hidden by rounding shows bytes. */
static void test_budget_edges(void **state)
{
  struct provider_caps caps = caps_of(1, 1, 0);
  struct route_media m = {"image/jpeg", BUDGET};
  struct route_input in = {.media = &m,
                           .n_media = 1,
                           .links_available = 1,
                           .host = "sim",
                           .caps = &caps};
  struct route_decision got;
  route_decide(&in, &got);
  assert_string_equal(got.code, "mms");

  m.bytes = BUDGET + 1;
  route_decide(&in, &got);
  assert_string_equal(got.code, "link_too_large");
  assert_non_null(strstr(got.reason, "the attachment is 600001 bytes, over "
                                     "sim's MMS limit of 600000 bytes"));

  /* A size that is not known never fits. */
  m.bytes = -1;
  route_decide(&in, &got);
  assert_string_equal(got.code, "link_too_large");
  assert_non_null(strstr(got.reason, "the size of the attachment is unknown"));

  /* Sizes that would overflow a sum saturate instead. */
  {
    struct route_media big[2] = {{"image/jpeg", INT64_MAX},
                                 {"image/jpeg", INT64_MAX}};
    in.media = big;
    in.n_media = 2;
    route_decide(&in, &got);
    assert_string_equal(got.code, "link_too_large");
  }

  /* MMS on paper but no budget or no items: no MMS. */
  in.media = &m;
  in.n_media = 1;
  m.bytes = 10;
  caps.mms_max_bytes = 0;
  route_decide(&in, &got);
  assert_string_equal(got.code, "link_no_mms");
  caps.mms_max_bytes = BUDGET;
  caps.max_media = 0;
  route_decide(&in, &got);
  assert_string_equal(got.code, "link_no_mms");
}

/* Defensive reading of odd input. */
static void test_odd_input(void **state)
{
  struct provider_caps caps = caps_of(1, 0, 0);
  struct route_input in = {.has_text = 1,
                           .media = small_jpeg,
                           .n_media = 1,
                           .links_available = 1,
                           .host = NULL,
                           .caps = &caps};
  struct route_decision got;

  /* An unknown delivery is auto; an unknown fallback is none. */
  in.delivery = (enum route_delivery)99;
  route_decide(&in, &got);
  assert_string_equal(got.code, "link_no_mms");
  assert_non_null(strstr(got.reason, "the host cannot send MMS"));
  in.delivery = DELIVERY_AUTO;
  in.fallback = (enum route_fallback)99;
  route_decide(&in, &got);
  assert_string_equal(got.code, "refused_fallback_none");

  /* No capabilities at all: a host that can do nothing. */
  in.caps = NULL;
  route_decide(&in, &got);
  assert_string_equal(got.code, "refused_no_sms");

  /* Media counted but not given. */
  in.caps = &caps;
  in.media = NULL;
  route_decide(&in, &got);
  assert_int_equal(got.plan, ROUTE_REFUSE);
  assert_string_equal(got.code, "refused_invalid");
  route_after_mms_failure(&in, "x", &got);
  assert_string_equal(got.code, "refused_invalid");
}

/* The sim adapter's own capabilities, as configured by default. */
static void test_sim_caps(void **state)
{
  struct config c;
  struct provider p = {0};
  struct route_media jpeg = {"image/jpeg", 700000};
  struct route_media webp = {"image/webp", 1000};
  struct route_input in = {.has_text = 1,
                           .n_media = 1,
                           .links_available = 1,
                           .host = "sim",
                           .fallback = FALLBACK_LINK};
  struct route_decision got;

  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(provider_init(&p, "sim", &c), LB_OK);
  in.caps = &p.caps;
  assert_non_null(p.caps.mms_types);
  assert_true(route_type_accepted(&p.caps, "image/jpeg"));
  assert_true(route_type_accepted(&p.caps, "image/png"));
  assert_true(route_type_accepted(&p.caps, "image/gif"));
  assert_false(route_type_accepted(&p.caps, "image/heic"));
  assert_false(route_type_accepted(&p.caps, "image/webp"));
  assert_false(route_type_accepted(&p.caps, "application/pdf"));

  /* [sim] mms_max_bytes = 614400 by default: "614.4 KB" in decimal. */
  in.media = &jpeg;
  route_decide(&in, &got);
  assert_string_equal(got.code, "link_too_large");
  assert_non_null(strstr(got.reason, "700 KB, over sim's 614.4 KB MMS limit"));
  in.media = &webp;
  route_decide(&in, &got);
  assert_string_equal(got.code, "link_type");
  assert_non_null(strstr(got.reason, "does not take WebP"));
  provider_release(&p);
  config_release(&c);
}

/* ---- a second sender, allowed against the advice ----------------------- */

/* [routing] mms_provider with allow_other_sender: only media the host
 * cannot send as MMS goes that way, marked; text and links stay on the
 * clinic's number, and a second sender that cannot take it changes
 * nothing. */
static void test_other_sender(void **state)
{
  struct provider_caps host = caps_of(1, 0, 0), other = caps_of(1, 1, 0),
                       host_mms = caps_of(1, 1, 0);
  struct route_media jpeg = {"image/jpeg", 1000};
  struct route_media huge = {"image/jpeg", BUDGET + 1};
  struct route_input in = {.has_text = 1,
                           .media = &jpeg,
                           .n_media = 1,
                           .links_available = 1,
                           .host = "smsbroadcast",
                           .caps = &host,
                           .fallback = FALLBACK_LINK,
                           .other_host = "twilio",
                           .other_from = "+61400000001",
                           .other_caps = &other};
  struct route_decision got;

  route_decide(&in, &got);
  assert_int_equal(got.plan, ROUTE_MMS);
  assert_string_equal(got.code, "mms_other_sender");
  assert_int_equal(got.other_sender, 1);
  assert_non_null(strstr(got.reason, "via twilio from +61400000001"));
  assert_non_null(strstr(got.reason, "ANOTHER NUMBER"));
  assert_non_null(strstr(got.reason, "smsbroadcast cannot send MMS"));
  assert_non_null(strstr(got.reason, "does not reach this inbox"));

  in.delivery = DELIVERY_MMS; /* MMS asked for: the other sender may do it */
  route_decide(&in, &got);
  assert_string_equal(got.code, "mms_other_sender");

  in.delivery = DELIVERY_LINK; /* a link is always the clinic's number */
  route_decide(&in, &got);
  assert_string_equal(got.code, "link_requested");
  assert_int_equal(got.other_sender, 0);

  in.delivery = DELIVERY_AUTO; /* too large for the other sender too */
  in.media = &huge;
  route_decide(&in, &got);
  assert_string_equal(got.code, "link_no_mms");
  assert_int_equal(got.other_sender, 0);

  in.media = NULL; /* text only: always the host */
  in.n_media = 0;
  route_decide(&in, &got);
  assert_string_equal(got.code, "sms");
  assert_int_equal(got.other_sender, 0);

  in.media = &jpeg; /* a host that sends the MMS itself keeps it */
  in.n_media = 1;
  in.caps = &host_mms;
  route_decide(&in, &got);
  assert_string_equal(got.code, "mms");
  assert_int_equal(got.other_sender, 0);
}

/* ---- after an MMS failed ----------------------------------------------- */

static struct want expect_after(enum kind k, int sms_out, int links,
                                enum route_fallback fb, enum route_delivery d)
{
  if (k == K_NONE)
    return (struct want){ROUTE_REFUSE, CAUSE_NONE, "refused_not_mms"};
  if (!sms_out)
    return (struct want){ROUTE_REFUSE, CAUSE_MMS_FAILED, "refused_no_sms"};
  if (d == DELIVERY_MMS)
    return (struct want){ROUTE_REFUSE, CAUSE_MMS_FAILED,
                         "refused_mms_requested"};
  if (d == DELIVERY_AUTO && fb == FALLBACK_NONE)
    return (struct want){ROUTE_REFUSE, CAUSE_MMS_FAILED,
                         "refused_fallback_none"};
  if (!links)
    return (struct want){ROUTE_REFUSE, CAUSE_MMS_FAILED, "refused_no_links"};
  return (struct want){ROUTE_LINK, CAUSE_MMS_FAILED, "link_after_failure"};
}

static void test_after_failure_cross(void **state)
{
  static const enum kind kinds[] = {K_NONE, K_SMALL, K_TWO, K_LARGE};
  for (size_t hi = 0; hi < sizeof hosts / sizeof hosts[0]; hi++)
    for (size_t ki = 0; ki < sizeof kinds / sizeof kinds[0]; ki++)
      for (int sms = 0; sms <= 1; sms++)
        for (int links = 0; links <= 1; links++)
          for (int fb = FALLBACK_LINK; fb <= FALLBACK_NONE; fb++)
            for (int d = DELIVERY_AUTO; d <= DELIVERY_LINK; d++) {
              struct provider_caps caps = caps_of(sms, 1, 0);
              struct route_input in = {.has_text = 1,
                                       .delivery = (enum route_delivery)d,
                                       .fallback = (enum route_fallback)fb,
                                       .links_available = links,
                                       .host = hosts[hi],
                                       .caps = &caps};
              struct route_decision got;
              struct want w =
                  expect_after(kinds[ki], sms, links, (enum route_fallback)fb,
                               (enum route_delivery)d);
              char ctx[160];
              media_of(kinds[ki], &in.media, &in.n_media);
              snprintf(ctx, sizeof ctx,
                       "after failure: host=%s media=%s sms_out=%d links=%d "
                       "fallback=%d delivery=%s",
                       hosts[hi], kind_names[kinds[ki]], sms, links, fb,
                       route_delivery_name((enum route_delivery)d));
              route_after_mms_failure(&in, "carrier: handset cannot take MMS",
                                      &got);
              if (got.plan != w.plan || got.cause != w.cause ||
                  strcmp(got.code, w.code) != 0)
                fail_msg("%s: got %s/%s/%s, want %s/%s/%s", ctx,
                         route_plan_name(got.plan), route_cause_name(got.cause),
                         got.code, route_plan_name(w.plan),
                         route_cause_name(w.cause), w.code);
              check_reason(ctx, hosts[hi], &in, &got);
              if (got.plan == ROUTE_LINK &&
                  !strstr(got.reason, "(carrier: handset cannot take MMS)"))
                fail_msg("%s: error not quoted: %s", ctx, got.reason);
            }
}

static void test_after_failure_rows(void **state)
{
  struct provider_caps caps = caps_of(1, 1, 0);
  struct route_input in = {.has_text = 1,
                           .media = small_jpeg,
                           .n_media = 1,
                           .links_available = 1,
                           .host = "sim",
                           .caps = &caps};
  struct route_decision got;
  char longtext[600];

  route_after_mms_failure(&in, "carrier: mms_too_large", &got);
  assert_int_equal(got.plan, ROUTE_LINK);
  assert_string_equal(got.code, "link_after_failure");
  assert_string_equal(
      got.reason,
      "Resent as a link: sim refused the MMS for good (carrier: "
      "mms_too_large), so the attachment goes as an SMS with a secure link on "
      "the same number.");

  /* No error text: no empty brackets. */
  route_after_mms_failure(&in, NULL, &got);
  assert_string_equal(got.reason,
                      "Resent as a link: sim refused the MMS for good, so the "
                      "attachment goes as an SMS with a secure link on the "
                      "same number.");

  /* Control characters are dropped; a long text is shortened, and the
   * reason still ends properly. */
  route_after_mms_failure(&in, "bad\r\n\tline\x1b[0m", &got);
  assert_non_null(strstr(got.reason, "(badline[0m)"));
  memset(longtext, 'e', sizeof longtext - 1);
  longtext[sizeof longtext - 1] = '\0';
  route_after_mms_failure(&in, longtext, &got);
  assert_int_equal(got.plan, ROUTE_LINK);
  check_reason("long error", "sim", &in, &got);
  /* Shortened between characters, never inside one: "é" is 2 bytes, and
   * 102 'e's put the cut in the middle of the first one. */
  memset(longtext, 'e', 102);
  strcpy(longtext + 102, "\xc3\xa9\xc3\xa9 tail");
  route_after_mms_failure(&in, longtext, &got);
  assert_non_null(strstr(got.reason, "ee), so the attachment"));
  assert_null(strstr(got.reason, "\xc3"));

  /* Fallback none. */
  in.fallback = FALLBACK_NONE;
  route_after_mms_failure(&in, "carrier: rejected", &got);
  assert_string_equal(got.code, "refused_fallback_none");
  assert_string_equal(got.reason,
                      "Not resent: sim refused the MMS for good (carrier: "
                      "rejected), and [routing] mms_fallback is none. Set "
                      "[routing] mms_fallback = link, or resend it with "
                      "delivery \"link\".");
}

/* ---- names, parsing, sizes, types -------------------------------------- */

static void test_names(void **state)
{
  static const char *const plans[] = {"sms", "mms", "link", "refused"};
  static const char *const deliveries[] = {"auto", "mms", "link"};
  for (int p = ROUTE_SMS; p <= ROUTE_REFUSE; p++)
    assert_string_equal(route_plan_name((enum route_plan)p), plans[p]);
  assert_string_equal(route_plan_name((enum route_plan)4), "unknown");
  assert_string_equal(route_plan_name((enum route_plan) - 1), "unknown");
  for (int d = DELIVERY_AUTO; d <= DELIVERY_LINK; d++) {
    enum route_delivery back = (enum route_delivery)42;
    assert_string_equal(route_delivery_name((enum route_delivery)d),
                        deliveries[d]);
    assert_int_equal(route_delivery_parse(deliveries[d], &back), LB_OK);
    assert_int_equal(back, d);
  }
  assert_string_equal(route_delivery_name((enum route_delivery)3), "unknown");
  assert_string_equal(route_cause_name(CAUSE_TOO_LARGE), "too_large");
  assert_string_equal(route_cause_name(CAUSE__COUNT), "unknown");
}

static void test_delivery_parse_bad(void **state)
{
  static const char *const bad[] = {"",     "AUTO", "Mms",     "links", "sms",
                                    "mms ", " mms", "refused", "none"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    enum route_delivery out = DELIVERY_LINK;
    assert_int_equal(route_delivery_parse(bad[i], &out), LB_EINVAL);
    assert_int_equal(out, DELIVERY_LINK); /* untouched */
  }
  enum route_delivery out = DELIVERY_MMS;
  assert_int_equal(route_delivery_parse(NULL, &out), LB_EINVAL);
  assert_int_equal(out, DELIVERY_MMS);
}

static void test_format_bytes(void **state)
{
  static const struct {
    int64_t bytes;
    const char *want;
  } cases[] = {
      {-1, "an unknown size"}, {0, "0 bytes"},
      {1, "1 byte"},           {999, "999 bytes"},
      {1000, "1 KB"},          {1049, "1 KB"},
      {1050, "1.1 KB"},        {250000, "250 KB"},
      {614400, "614.4 KB"},    {999949, "999.9 KB"},
      {999950, "1 MB"}, /* rounds up into the next unit */
      {1800000, "1.8 MB"},     {5000000, "5 MB"},
      {999950000, "1 GB"},     {INT64_MAX, "9223372036.9 GB"},
  };
  char buf[40];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    route_format_bytes(cases[i].bytes, buf, sizeof buf);
    if (strcmp(buf, cases[i].want) != 0)
      fail_msg("route_format_bytes(%lld) = \"%s\", want \"%s\"",
               (long long)cases[i].bytes, buf, cases[i].want);
  }
}

static void test_types(void **state)
{
  static const char *const none[] = {NULL};
  struct provider_caps dflt = caps_of(1, 1, 0);
  struct provider_caps wide = caps_of(1, 1, 1);
  struct provider_caps empty = caps_of(1, 1, 0);
  const char *const *t = route_mms_types(NULL);
  empty.mms_types = none;

  /* The default is JPEG, PNG and GIF, and NULL caps get it too. */
  assert_string_equal(t[0], "image/jpeg");
  assert_string_equal(t[1], "image/png");
  assert_string_equal(t[2], "image/gif");
  assert_null(t[3]);
  assert_ptr_equal(route_mms_types(&dflt), t);
  assert_ptr_equal(route_mms_types(&wide), wide_types);

  assert_true(route_type_accepted(&dflt, "image/jpeg"));
  assert_true(route_type_accepted(&dflt, "IMAGE/PNG"));
  assert_true(route_type_accepted(&dflt, "image/gif; charset=binary"));
  assert_true(route_type_accepted(&dflt, "image/gif ;x=1"));
  assert_false(route_type_accepted(&dflt, "image/heic"));
  assert_false(route_type_accepted(&dflt, "image/jpe"));
  assert_false(route_type_accepted(&dflt, "image/jpegx"));
  assert_false(route_type_accepted(&dflt, ""));
  assert_false(route_type_accepted(&dflt, NULL));
  assert_true(route_type_accepted(&wide, "application/pdf"));
  assert_false(route_type_accepted(&empty, "image/jpeg"));

  /* A host that takes nothing says so; an odd type is shown cleaned. */
  {
    struct route_media m = {"Application/X-Evil\n<b>", 10};
    struct route_input in = {.media = &m,
                             .n_media = 1,
                             .links_available = 1,
                             .host = "sim",
                             .caps = &empty};
    struct route_decision got;
    route_decide(&in, &got);
    assert_string_equal(got.code, "link_type");
    assert_non_null(strstr(got.reason, "sim does not take application/x-evilb "
                                       "in an MMS (it takes no media types)"));
    m.content_type = NULL;
    route_decide(&in, &got);
    assert_non_null(strstr(got.reason, "does not take an unnamed type"));
  }
  /* A long list is shortened: five named, the rest counted. */
  {
    static const char *const lots[] = {
        "image/jpeg", "image/png", "image/gif",  "image/webp", "image/heic",
        "image/heif", "image/bmp", "video/3gpp", "audio/amr",  NULL};
    struct provider_caps k = caps_of(1, 1, 0);
    struct route_media m = {"application/pdf", 10};
    struct route_input in = {.media = &m,
                             .n_media = 1,
                             .links_available = 1,
                             .host = "sim",
                             .caps = &k};
    struct route_decision got;
    k.mms_types = lots;
    route_decide(&in, &got);
    assert_string_equal(got.reason,
                        "Sent as a link: sim does not take PDF in an MMS (it "
                        "takes JPEG, PNG, GIF, WebP, HEIC and 4 more), so the "
                        "attachment goes as an SMS with a secure link on the "
                        "same number.");
    /* Six is not long: all named. */
    k.mms_types = lots + 3;
    route_decide(&in, &got);
    assert_non_null(
        strstr(got.reason,
               "(it takes WebP, HEIC, HEIF, BMP, video/3gpp and audio/amr)"));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cross_product),
      cmocka_unit_test(test_rows),
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_cause_order),
      cmocka_unit_test(test_budget_edges),
      cmocka_unit_test(test_odd_input),
      cmocka_unit_test(test_sim_caps),
      cmocka_unit_test(test_other_sender),
      cmocka_unit_test(test_after_failure_cross),
      cmocka_unit_test(test_after_failure_rows),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_delivery_parse_bad),
      cmocka_unit_test(test_format_bytes),
      cmocka_unit_test(test_types),
  };
  for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
    many[i] = (struct route_media){"image/jpeg", 10000};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
