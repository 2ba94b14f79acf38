/* SMS Broadcast's adapter ("smsbroadcast"): the Advanced HTTP API of
 * smsbroadcast.com.au. A pure translator: no network, no database.
 *
 * Wire format (docs/providers/smsbroadcast.md; providers.md §1):
 *   send:    POST <base>/api-adv.php, application/x-www-form-urlencoded:
 *            username, password, to, from (international digits, no '+'),
 *            message, ref (the last 20 characters of our message id),
 *            maxsplit (the parts the text needs, at most 5)
 *            -> text lines "OK:<number>:<smsref>", "BAD:<number>:<reason>"
 *               or "ERROR:<reason>"
 *   hooks:   no signing; a shared secret ([smsbroadcast] webhook_secret) in
 *            the header X-Lyrebird-Secret or as the path's last segment.
 *            The payloads are templates the clinic pastes into the portal
 *            (Velocity, the variables of Sinch MessageMedia's webhooks):
 *            inbound: from, to, message, ref, msgref (the documented
 *                     URL-encoded template, GET) or lyrebird's JSON one,
 *                     which adds id, received and attachments (inline
 *                     base64, as MessageMedia's RECEIVED_MMS gives them)
 *            status:  smsref, ref, status, status_code (field names not
 *                     documented: alternatives are accepted)
 *   check:   POST <base>/api-adv.php action=balance -> "OK:<credits>"
 * SMS Broadcast sends no MMS (mms_out = 0: images go as secure links) and
 * has no idempotency key, so a send that timed out is never resent blindly
 * (dedupes_by_ref = 0); a status webhook settles it. */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/keys.h"
#include "core/phone.h"
#include "providers/provider.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/url.h"
#include "util/utf8.h"

#define SB_SCRIPT "/api-adv.php"
#define SB_SECRET_HEADER "X-Lyrebird-Secret"
#define SB_REF_MAX 20  /* the API's 'ref' limit */
#define SB_MAX_PARTS 5 /* the API's 'maxsplit' limit */
/* Rate limits are not documented (providers.md §1.8): a conservative
 * guess. */
#define SB_RATE_PER_S 10
#define SB_FIELD_MAX 256  /* ids, refs, times, status words from hooks */
#define SB_URL_MAX 2048   /* a media link in an inbound hook */
#define SB_REASON_MAX 300 /* the provider's reason, as staff see it */

/* GSM-7 segment sizes (3GPP TS 23.038 / 23.040): one part, or each part of
 * a concatenated message (its header takes the rest). */
#define GSM7_SINGLE 160
#define GSM7_PART 153
#define UCS2_SINGLE 70
#define UCS2_PART 67

/* Inbound media arrive inline (base64), never as links: allow no host, so
 * the fetcher refuses any URL a template might carry. */
static const char *const sb_media_hosts[] = {NULL};

struct sb_priv {
  char base_url[1024];
  char username[256];
  char password[256];
  char secret[256];
  char number[LB_E164_SIZE]; /* the clinic's, for a blank 'to' */
  char region[16];
  long media_max_bytes;
};

/* ---- small text helpers -------------------------------------------------- */

/* A piece of a larger string, not NUL-terminated. */
struct span {
  const char *p;
  size_t n;
};

static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

static struct span span_trim(struct span s)
{
  while (s.n && is_space(s.p[0])) {
    s.p++;
    s.n--;
  }
  while (s.n && is_space(s.p[s.n - 1]))
    s.n--;
  return s;
}

/* The part of *s before the first 'sep' (all of it if none); *s keeps what
 * follows the separator. */
static struct span span_cut(struct span *s, char sep)
{
  const char *at = memchr(s->p, sep, s->n);
  struct span head = *s;
  if (!at) {
    s->p += s->n;
    s->n = 0;
    return head;
  }
  head.n = (size_t)(at - s->p);
  s->n -= head.n + 1;
  s->p = at + 1;
  return head;
}

static int span_ieq(struct span s, const char *word)
{
  return strlen(word) == s.n && strncasecmp(s.p, word, s.n) == 0;
}

static char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* 1 if 'needle' (lower case) occurs in s, ignoring ASCII case. */
static int span_has(struct span s, const char *needle)
{
  size_t n = strlen(needle);
  for (size_t i = 0; n && i + n <= s.n; i++) {
    size_t k = 0;
    while (k < n && lower(s.p[i + k]) == needle[k])
      k++;
    if (k == n)
      return 1;
  }
  return 0;
}

static int span_has_any(struct span s, const char *const *needles)
{
  for (size_t i = 0; needles[i]; i++)
    if (span_has(s, needles[i]))
      return 1;
  return 0;
}

/* Copies a provider's words for staff to read: at most SB_REASON_MAX bytes,
 * cut at a UTF-8 boundary, control characters made '?'. */
static void copy_reason(char *dst, size_t n, struct span s)
{
  char tmp[SB_REASON_MAX + 1];
  size_t k = s.n < SB_REASON_MAX ? s.n : SB_REASON_MAX;
  for (size_t i = 0; i < k; i++) {
    unsigned char c = (unsigned char)s.p[i];
    tmp[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
  }
  tmp[k] = '\0';
  str_copy(dst, n, tmp);
}

/* ---- UTF-8 and SMS segments ---------------------------------------------- */

/* The GSM 03.38 default alphabet's characters outside ASCII. */
static const uint32_t gsm7_more[] = {
    0x00a1, 0x00a3, 0x00a4, 0x00a5, 0x00a7, 0x00bf, 0x00c4, 0x00c5,
    0x00c6, 0x00c7, 0x00c9, 0x00d1, 0x00d6, 0x00d8, 0x00dc, 0x00df,
    0x00e0, 0x00e4, 0x00e5, 0x00e6, 0x00e8, 0x00e9, 0x00ec, 0x00f1,
    0x00f2, 0x00f6, 0x00f8, 0x00f9, 0x00fc, 0x0393, 0x0394, 0x0398,
    0x039b, 0x039e, 0x03a0, 0x03a3, 0x03a6, 0x03a8, 0x03a9};

/* Septets the character takes in GSM-7: 1 in the default alphabet, 2 in
 * its extension table (escape + code), 0 when GSM-7 cannot carry it. */
static int gsm7_septets(uint32_t c)
{
  if (c == '\n' || c == '\r')
    return 1;
  if (c == '\f' || c == 0x20ac) /* form feed and the euro sign */
    return 2;
  if (c >= 0x20 && c < 0x7f) {
    if (strchr("^{}\\[~]|", (int)c))
      return 2;
    return c == '`' ? 0 : 1;
  }
  for (size_t i = 0; i < sizeof gsm7_more / sizeof gsm7_more[0]; i++)
    if (gsm7_more[i] == c)
      return 1;
  return 0;
}

/* The SMS parts 'text' needs: GSM-7 (160, or 153 a part) when every
 * character is in the GSM-7 alphabet, else UCS-2 (70, or 67 a part, in
 * UTF-16 units). A character is never split across parts, so an extension
 * character or a surrogate pair that would straddle a boundary starts the
 * next part, as handsets and gateways split. LB_EINVAL for invalid
 * UTF-8. */
static enum lb_err sms_parts(const char *text, int *out)
{
  const unsigned char *s = (const unsigned char *)text;
  size_t n = strlen(text), i, total = 0, used = 0;
  int gsm = 1, parts = 1, single, part;
  uint32_t c;

  for (i = 0; i < n;) {
    size_t k = utf8_next(s + i, n - i, &c);
    if (!k)
      return LB_EINVAL;
    if (!gsm7_septets(c))
      gsm = 0;
    i += k;
  }
  single = gsm ? GSM7_SINGLE : UCS2_SINGLE;
  part = gsm ? GSM7_PART : UCS2_PART;
  for (i = 0; i < n;) {
    size_t k = utf8_next(s + i, n - i, &c), units;
    units = gsm ? (size_t)gsm7_septets(c) : (c > 0xffff ? 2 : 1);
    if (used + units > (size_t)part) {
      parts++;
      used = 0;
    }
    used += units;
    total += units;
    i += k;
  }
  *out = total <= (size_t)single ? 1 : parts;
  return LB_OK;
}

/* ---- configuration ------------------------------------------------------- */

/* [smsbroadcast]: owned by struct config (config_init, config_release). */
struct smsbroadcast_settings {
  char *username;
  char *password;
  char *base_url;
  char *webhook_secret; /* the portal sends it as a header or path */
  int answers_keywords; /* replies to STOP, START, HELP itself */
};

#define CONFIG_KEYS_OF struct smsbroadcast_settings
static const struct config_key sb_keys[] = {
    S("smsbroadcast", "username", username, "",
      "API username (Advanced HTTP API credentials from the portal)."),
    SECRET("smsbroadcast", "password", password, "",
           "API password. Or password_file."),
    S("smsbroadcast", "base_url", base_url, "https://api.smsbroadcast.com.au",
      "Where the API lives (tests point it at a local fake)."),
    SECRET("smsbroadcast", "webhook_secret", webhook_secret, "",
           "Shared secret the portal's webhooks must carry (24+ characters):\n"
           "as the header X-Lyrebird-Secret, or as the URL's last segment."),
    B("smsbroadcast", "answers_keywords", answers_keywords, "false",
      "SMS Broadcast answers STOP, START and HELP itself, so lyrebird\n"
      "sends no confirmation of its own (it does not, as far as is known)."),
};

static void sb_check(const void *settings, const struct config *cfg,
                     struct config_errors *errs)
{
  const struct smsbroadcast_settings *c = settings;
  if (!c->username[0] || !c->password[0])
    config_errors_add(errs, 0, "[smsbroadcast] username",
                      "set username and password (or password_file): the API "
                      "credentials made in the SMS Broadcast portal");
  if (strlen(c->webhook_secret) < 24)
    config_errors_add(
        errs, 0, "[smsbroadcast] webhook_secret",
        "set a secret of at least 24 characters (e.g. 'openssl rand "
        "-hex 16'): SMS Broadcast does not sign its webhooks, so the "
        "portal must send this secret with each one "
        "(docs/providers/smsbroadcast.md)");
  if (!url_is_http(c->base_url))
    config_errors_add(errs, 0, "[smsbroadcast] base_url",
                      "'%s' is not an http(s) URL", c->base_url);
}

/* ---- init ---------------------------------------------------------------- */

static enum lb_err sb_init(struct provider *p, const struct config *cfg)
{
  const struct smsbroadcast_settings *c = provider_settings(cfg, p->ops);
  struct sb_priv *s;
  size_t n;
  if (!c)
    return LB_ECONFIG;
  if (!(s = calloc(1, sizeof *s)))
    return LB_ENOMEM;
  str_copy(s->base_url, sizeof s->base_url, c->base_url);
  n = strlen(s->base_url);
  while (n && s->base_url[n - 1] == '/')
    s->base_url[--n] = '\0';
  str_copy(s->username, sizeof s->username, c->username);
  str_copy(s->password, sizeof s->password, c->password);
  str_copy(s->secret, sizeof s->secret, c->webhook_secret);
  str_copy(s->number, sizeof s->number, cfg->number);
  str_copy(s->region, sizeof s->region, cfg->region[0] ? cfg->region : "AU");
  s->media_max_bytes = cfg->media_max_bytes;
  p->priv = s;
  p->caps = (struct provider_caps){
      .sms_out = 1,
      .sms_in = 1,
      .mms_out = 0, /* no MMS API: the routing policy sends links */
      .mms_in = 1,  /* MMS replies, inline in the JSON template */
      .mms_max_bytes = 0,
      .max_media = 0,
      .subject_max = 0,
      .dedupes_by_ref = 0,
      .answers_keywords = c->answers_keywords,
      .rate_per_s = SB_RATE_PER_S,
      .mms_types = NULL,
      .media_hosts = sb_media_hosts,
      .media_userpwd = NULL,
  };
  return LB_OK;
}

static void sb_release(struct provider *p)
{
  if (p->priv)
    sodium_memzero(p->priv, sizeof(struct sb_priv));
  free(p->priv);
}

/* ---- send ---------------------------------------------------------------- */

/* "+61491570156" -> "61491570156", the API's international form. */
static enum lb_err intl_digits(const char *e164, char *out, size_t n)
{
  if (!phone_is_e164(e164) || strlen(e164) >= n + 1)
    return LB_EINVAL;
  memcpy(out, e164 + 1, strlen(e164));
  return LB_OK;
}

static enum lb_err script_url(const struct sb_priv *s, struct wire_request *req)
{
  if ((size_t)snprintf(req->url, sizeof req->url, "%s" SB_SCRIPT,
                       s->base_url) >= sizeof req->url)
    return LB_ETOOBIG;
  return wire_request_header(req, "Content-Type",
                             "application/x-www-form-urlencoded");
}

static enum lb_err sb_build_send(const struct provider *p,
                                 const struct send_input *in,
                                 struct wire_request *req)
{
  const struct sb_priv *s = p->priv;
  const struct message *m = in->msg;
  const char *text = m->text ? m->text : "";
  char to[LB_E164_SIZE], from[LB_E164_SIZE], split[8];
  size_t idlen = strlen(m->id);
  int parts, rc;

  /* The route policy sends images as links; media here is a bug upstream,
   * and dropping them silently would lose what staff meant to send. */
  if (in->n_media || m->n_media)
    return LB_EUNSUPPORTED;
  if (!text[0])
    return LB_EINVAL;
  if (sms_parts(text, &parts))
    return LB_EINVAL;
  if (parts > SB_MAX_PARTS)
    return LB_ETOOBIG;
  if (intl_digits(m->to, to, sizeof to) ||
      intl_digits(m->from, from, sizeof from))
    return LB_EINVAL;
  snprintf(split, sizeof split, "%d", parts);
  req->method = "POST";
  if ((rc = script_url(s, req)) ||
      (rc = wire_form_add(&req->body, "username", s->username)) ||
      (rc = wire_form_add(&req->body, "password", s->password)) ||
      (rc = wire_form_add(&req->body, "to", to)) ||
      (rc = wire_form_add(&req->body, "from", from)) ||
      (rc = wire_form_add(&req->body, "message", text)) ||
      /* Our ULID's last 20 characters: its low timestamp bits and all 80
       * random bits, unique enough to tell our messages apart. */
      (rc = wire_form_add(&req->body, "ref",
                          m->id +
                              (idlen > SB_REF_MAX ? idlen - SB_REF_MAX : 0))) ||
      (rc = wire_form_add(&req->body, "maxsplit", split)))
    return rc;
  return LB_OK;
}

/* What a text answer of the API says: the first line of each kind. */
struct sb_answer {
  int ok, bad, error, other;
  struct span ok_ref;     /* OK:<number>:<smsref> */
  struct span bad_number; /* BAD:<number>:<reason> */
  struct span bad_reason;
  struct span error_reason; /* ERROR:<reason> */
  struct span ok_value;     /* OK:<value>, the balance answer */
  struct span first;        /* the first non-blank line */
};

/* Reads the body's lines: "WORD:field:rest", fields trimmed, the status
 * word in any case, CRLF or LF, blank lines skipped. A reason keeps any
 * ':' it contains. */
static void read_answer(const struct wire_response *res, struct sb_answer *a)
{
  struct span body = {res->body.data ? res->body.data : "", res->body.len};
  memset(a, 0, sizeof *a);
  while (body.n) {
    struct span line = span_trim(span_cut(&body, '\n')), rest, word;
    if (!line.n)
      continue;
    if (!a->first.p)
      a->first = line;
    if (!memchr(line.p, ':', line.n)) {
      a->other++;
      continue;
    }
    rest = line;
    word = span_trim(span_cut(&rest, ':'));
    if (span_ieq(word, "OK")) {
      struct span value = span_trim(rest);
      struct span tail = rest;
      span_cut(&tail, ':');
      if (!a->ok++) {
        a->ok_value = value;
        a->ok_ref = span_trim(tail);
      }
    } else if (span_ieq(word, "BAD")) {
      struct span tail = rest;
      struct span number = span_trim(span_cut(&tail, ':'));
      if (!a->bad++) {
        a->bad_number = number;
        a->bad_reason = span_trim(tail);
      }
    } else if (span_ieq(word, "ERROR")) {
      if (!a->error++)
        a->error_reason = span_trim(rest);
    } else {
      a->other++;
    }
  }
}

static const char *const words_credentials[] = {
    "username", "password", "credential", "login",       "log in",
    "authent",  "api key",  "unauthori",  "not authori", NULL};
static const char *const words_credit[] = {"credit", "balance", "funds", NULL};
static const char *const words_temporary[] = {
    "try again", "try later",  "temporar",  "unavailable",
    "busy",      "timeout",    "timed out", "maintenance",
    "too many",  "rate limit", "overload",  NULL};

/* An ERROR line: the whole request failed, so nothing went and a retry is
 * safe. It is final unless the reason reads as temporary; credentials and
 * credit are checked first, so "wrong password, try again" stays final. */
static void error_outcome(struct span reason, struct send_result *out)
{
  const char *code = "provider_error";
  out->outcome = SEND_FINAL;
  if (span_has_any(reason, words_credentials))
    code = "auth_failed";
  else if (span_has_any(reason, words_credit))
    code = "no_credit";
  else if (span_has_any(reason, words_temporary)) {
    code = "provider_busy";
    out->outcome = SEND_RETRY;
  }
  snprintf(out->error_code, sizeof out->error_code, "%s", code);
  if (reason.n) {
    char r[SB_REASON_MAX + 1];
    copy_reason(r, sizeof r, reason);
    snprintf(out->error_text, sizeof out->error_text, "SMS Broadcast: %s", r);
  } else {
    snprintf(out->error_text, sizeof out->error_text,
             "SMS Broadcast answered ERROR without a reason");
  }
}

/* A BAD line: this recipient was refused. */
static void bad_outcome(const struct sb_answer *a, struct send_result *out)
{
  static const char *const number_words[] = {"number", "destination",
                                             "recipient", "mobile", NULL};
  char num[64], r[SB_REASON_MAX + 1];
  int invalid = span_has(a->bad_reason, "invalid") &&
                span_has_any(a->bad_reason, number_words);
  out->outcome = SEND_FINAL;
  snprintf(out->error_code, sizeof out->error_code, "%s",
           invalid ? "invalid_number" : "rejected");
  copy_reason(num, sizeof num, a->bad_number);
  copy_reason(r, sizeof r, a->bad_reason);
  snprintf(out->error_text, sizeof out->error_text,
           "SMS Broadcast refused %s: %s", num[0] ? num : "the recipient",
           r[0] ? r : "no reason given");
}

/* A 2xx answer we cannot act on: the first line goes in the text, for
 * whoever reads the message's history. */
static void unreadable(const struct wire_response *res,
                       const struct sb_answer *a, const char *what,
                       struct send_result *out)
{
  char first[81] = "";
  if (a->first.n)
    copy_reason(first, sizeof first,
                (struct span){a->first.p, a->first.n < 80 ? a->first.n : 80});
  snprintf(out->error_code, sizeof out->error_code, "bad_response");
  snprintf(out->error_text, sizeof out->error_text,
           "SMS Broadcast answered HTTP %ld but %s%s%s%s", res->status, what,
           first[0] ? " ('" : "", first, first[0] ? "')" : "");
}

static enum lb_err sb_parse_send(const struct provider *p,
                                 const struct wire_response *res,
                                 struct send_result *out)
{
  struct sb_answer a;
  /* Sent and then lost: it may have gone; never resent blindly. */
  if (send_result_begin(res, "SMS Broadcast", out))
    return LB_OK;
  read_answer(res, &a);
  /* An OK line means it went, whatever the HTTP status: a resend would
   * reach the patient twice. A partial success (OK and BAD lines) cannot
   * happen with our one recipient; should it, the OK line wins. */
  if (a.ok && a.ok_ref.n && a.ok_ref.n < sizeof out->provider_msg_id) {
    out->outcome = SEND_ACCEPTED;
    memcpy(out->provider_msg_id, a.ok_ref.p, a.ok_ref.n);
    out->provider_msg_id[a.ok_ref.n] = '\0';
  } else if (a.ok) {
    /* It went, but no receipt can be matched to it by its reference. */
    out->outcome = SEND_UNKNOWN;
    unreadable(res, &a, "its OK line had no usable reference", out);
  } else if (res->status >= 500 || res->status == 429 || res->status == 408) {
    out->outcome = SEND_RETRY;
    snprintf(out->error_code, sizeof out->error_code, "http_error");
    snprintf(out->error_text, sizeof out->error_text,
             "SMS Broadcast answered HTTP %ld", res->status);
  } else if (a.bad) {
    bad_outcome(&a, out);
  } else if (a.error) {
    error_outcome(a.error_reason, out);
  } else if (res->status >= 200 && res->status < 300) {
    /* A yes we cannot read: it may have gone. */
    out->outcome = SEND_UNKNOWN;
    unreadable(res, &a, "its answer could not be read", out);
  } else {
    out->outcome = SEND_FINAL;
    snprintf(out->error_code, sizeof out->error_code, "http_error");
    snprintf(out->error_text, sizeof out->error_text,
             "SMS Broadcast answered HTTP %ld", res->status);
  }
  return LB_OK;
}

/* ---- webhooks: the shared secret ----------------------------------------- */

/* The secret is sent as a header, or as the path's last segment when the
 * portal cannot set headers: /hooks/smsbroadcast/inbound/<secret>. */
static enum lb_err sb_verify_hook(const struct provider *p,
                                  const struct hook_request *req)
{
  const struct sb_priv *s = p->priv;
  const char *h = req->header ? req->header(req->ctx, SB_SECRET_HEADER) : NULL;
  const char *path = req->path ? req->path : "", *seg = strrchr(path, '/');
  size_t seglen;
  int offered = 0;

  seg = seg ? seg + 1 : path;
  seglen = strlen(seg);
  /* ".../inbound" or ".../status" carry no secret in the path. */
  if (strcmp(seg, "inbound") == 0 || strcmp(seg, "status") == 0)
    seglen = 0;
  if (!s->secret[0])
    return LB_EAUTH; /* no secret configured: nothing is trusted */
  if (h && *h) {
    offered = 1;
    if (crypto_secret_eq(h, strlen(h), s->secret))
      return LB_OK;
  }
  if (seglen) {
    offered = 1;
    if (crypto_secret_eq(seg, seglen, s->secret))
      return LB_OK;
  }
  return offered ? LB_ESIGNATURE : LB_EAUTH;
}

/* ---- webhooks: fields ---------------------------------------------------- */

/* A hook's fields: a JSON object (lyrebird's templates), or the decoded
 * form or query parameters (URL-encoded templates). */
struct sb_fields {
  json_t *o;
  const struct hook_request *req;
};

static enum lb_err load_fields(const struct hook_request *req,
                               struct sb_fields *f, char *why, size_t whylen)
{
  json_error_t jerr;
  memset(f, 0, sizeof *f);
  f->req = req;
  if (!hook_body_is_json(req)) {
    if (!req->n_params) {
      snprintf(why, whylen,
               "no fields: expected a URL-encoded query or form, or JSON");
      return LB_EPARSE;
    }
    return LB_OK;
  }
  f->o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (!f->o) {
    snprintf(why, whylen, "body is not valid JSON: %s (line %d)", jerr.text,
             jerr.line);
    return LB_EPARSE;
  }
  if (!json_is_object(f->o)) {
    snprintf(why, whylen, "body must be a JSON object");
    json_decref(f->o);
    f->o = NULL;
    return LB_EPARSE;
  }
  return LB_OK;
}

/* A template variable the portal did not fill ("$moId", "$!{status}",
 * "$metadata.apiSmsRef") reaches us as written: one word starting with
 * '$' and a letter, '!' or '{'. It means the value is absent. */
static int unrendered(const char *v)
{
  if (v[0] != '$' ||
      !((v[1] >= 'a' && v[1] <= 'z') || (v[1] >= 'A' && v[1] <= 'Z') ||
        v[1] == '!' || v[1] == '{'))
    return 0;
  for (; *v; v++)
    if (is_space(*v))
      return 0;
  return 1;
}

/* The raw value of the first of 'names' that is not empty; else "" if one
 * is present but empty, else NULL. A JSON number is formatted into num;
 * another JSON type is LB_EINVAL (with why). With 'literal', a value is
 * taken as it is (a patient's text may start with '$'); otherwise an
 * unfilled template variable counts as absent. */
static enum lb_err raw_field(const struct sb_fields *f,
                             const char *const *names, int literal,
                             const char **val, const char **name, char *num,
                             size_t numlen, char *why, size_t whylen)
{
  const char *empty = NULL;
  *val = NULL;
  for (size_t i = 0; names[i]; i++) {
    *name = names[i];
    if (f->o) {
      json_t *v = json_object_get(f->o, names[i]);
      if (!v || json_is_null(v))
        continue;
      if (json_is_string(v))
        *val = json_string_value(v);
      else if (json_is_integer(v)) {
        snprintf(num, numlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *val = num;
      } else {
        snprintf(why, whylen, "'%s' must be a string", names[i]);
        return LB_EINVAL;
      }
    } else {
      *val = hook_param(f->req, names[i]);
    }
    if (*val && !(*val)[0])
      empty = *val;
    else if (*val && (literal || !unrendered(*val)))
      return LB_OK;
    *val = NULL;
  }
  *val = empty;
  return LB_OK;
}

/* The first of 'names' with a value, trimmed, into dst; with 'unwrap' one
 * pair of surrounding parentheses goes too (SMS Broadcast's own template
 * writes refs as "(1214)"). dst is "" when none has a value. */
static enum lb_err text_field(const struct sb_fields *f,
                              const char *const *names, int unwrap, char *dst,
                              size_t n, char *why, size_t whylen)
{
  const char *v, *name = names[0];
  char num[32];
  struct span s;
  int rc = raw_field(f, names, 0, &v, &name, num, sizeof num, why, whylen);
  dst[0] = '\0';
  if (rc || !v)
    return rc;
  s = span_trim((struct span){v, strlen(v)});
  if (unwrap && s.n >= 2 && s.p[0] == '(' && s.p[s.n - 1] == ')')
    s = span_trim((struct span){s.p + 1, s.n - 2});
  if (s.n >= n) {
    snprintf(why, whylen, "'%s' is longer than %zu bytes", name, n - 1);
    return LB_EINVAL;
  }
  memcpy(dst, s.p, s.n);
  dst[s.n] = '\0';
  return LB_OK;
}

static int valid_utf8(const char *s, size_t n)
{
  uint32_t c;
  for (size_t i = 0, k; i < n; i += k)
    if (!(k = utf8_next((const unsigned char *)s + i, n - i, &c)))
      return 0;
  return 1;
}

/* A number as SMS Broadcast writes it ("+61...", "61...", "04...") to
 * E.164. */
static enum lb_err to_e164(const struct sb_priv *s, const char *in,
                           char out[LB_E164_SIZE])
{
  char why[200], plus[LB_E164_SIZE + 1];
  size_t n = strlen(in);
  if (phone_parse(in, s->region, out, why, sizeof why) == LB_OK)
    return LB_OK;
  /* International digits from another country, without the '+'. */
  if (n && n < LB_E164_SIZE - 1 && in[0] != '0' &&
      strspn(in, "0123456789") == n) {
    snprintf(plus, sizeof plus, "+%s", in);
    if (phone_parse(plus, s->region, out, why, sizeof why) == LB_OK)
      return LB_OK;
  }
  return LB_EPHONE;
}

static const char *const names_from[] = {"from", "source_number",
                                         "sourceAddress", "source", NULL};
static const char *const names_to[] = {
    "to", "destination_number", "destinationAddress", "destination", NULL};
static const char *const names_text[] = {"message",   "content",      "text",
                                         "moContent", "replyContent", NULL};
/* The reply's own id. Not 'msgref' nor 'message_id': those name the
 * message it replies to, the same for every reply to it. */
static const char *const names_reply_id[] = {"id",      "reply_id", "moId",
                                             "replyId", "mo_id",    NULL};
static const char *const names_ref[] = {"ref", "client_ref", "apiClientRef",
                                        NULL};
static const char *const names_msgref[] = {"msgref", "smsref", "sms_ref",
                                           "apiSmsRef", NULL};
static const char *const names_time[] = {"received",          "date_received",
                                         "receivedTimestamp", "received_at",
                                         "timestamp",         NULL};
static const char *const names_attachments[] = {"attachments", "media", NULL};
static const char *const names_att_type[] = {
    "content_type", "contentType", "type", "mime_type", "mimeType", NULL};
static const char *const names_att_data[] = {"content", "base64", "data", NULL};

/* The message's id at the provider: the reply id when the template gives
 * one, else a digest of what a redelivery repeats (sender, number, text,
 * the refs of the message replied to, the provider's time, the media), so
 * a retried webhook is stored once. Prefixed, so that neither can equal
 * the smsref of an outbound message. */
static enum lb_err inbound_id(const struct inbound_msg *m, const char *reply_id,
                              const char *ref, const char *msgref,
                              const char *when, char *out, size_t n)
{
  struct buf b;
  char hex[LB_SHA256_HEX];
  const char *parts[][2] = {{"from", m->from},  {"to", m->to},
                            {"text", m->text},  {"ref", ref},
                            {"msgref", msgref}, {"received", when}};
  int rc = LB_OK;
  if (reply_id[0]) {
    /* One too long for the column is stored as its digest. */
    if ((size_t)snprintf(out, n, "mo:%s", reply_id) >= n) {
      crypto_sha256_hex(reply_id, strlen(reply_id), hex);
      snprintf(out, n, "mo:sha256:%s", hex);
    }
    return LB_OK;
  }
  buf_init(&b, LB_WIRE_BODY_MAX);
  for (size_t i = 0; i < sizeof parts / sizeof parts[0] && !rc; i++)
    rc = buf_printf(&b, "%s=%zu:%s\n", parts[i][0], strlen(parts[i][1]),
                    parts[i][1]);
  for (size_t i = 0; i < m->n_media && !rc; i++) {
    const struct inbound_media *im = &m->media[i];
    if (im->data)
      crypto_sha256_hex(im->data, im->len, hex);
    else
      crypto_sha256_hex(im->url, strlen(im->url), hex);
    rc = buf_printf(&b, "media=%zu:%s\n", im->data ? im->len : 0, hex);
  }
  if (!rc) {
    crypto_sha256_hex(b.data, b.len, hex);
    snprintf(out, n, "sha256:%s", hex);
  }
  buf_release(&b);
  return rc;
}

/* Decodes one attachment into out->media (or takes its text). */
static enum lb_err take_attachment(const struct sb_priv *s, json_t *it,
                                   size_t i, struct inbound_msg *out, char *why,
                                   size_t whylen)
{
  struct sb_fields af = {.o = it};
  struct inbound_media *im;
  const char *data = NULL, *url = NULL, *name;
  char ctype[LB_CTYPE_MAX], num[32], errbuf[200];
  unsigned char *bin;
  size_t binlen = 0;
  int rc;

  if (!json_is_object(it)) {
    snprintf(why, whylen, "attachments[%zu] must be an object", i);
    return LB_EINVAL;
  }
  if ((rc = text_field(&af, names_att_type, 0, ctype, sizeof ctype, errbuf,
                       sizeof errbuf)) ||
      (rc = raw_field(&af, names_att_data, 0, &data, &name, num, sizeof num,
                      errbuf, sizeof errbuf))) {
    snprintf(why, whylen, "attachments[%zu]: %s", i, errbuf);
    return rc;
  }
  for (char *c = ctype; *c; c++)
    *c = lower(*c);
  if (strcmp(ctype, "application/smil") == 0)
    return LB_OK; /* the slide layout of an MMS, not content */
  if (!data || !data[0]) {
    json_t *u = json_object_get(it, "url");
    url = json_is_string(u) ? json_string_value(u) : NULL;
    if (!url || !url[0]) {
      snprintf(why, whylen,
               "attachments[%zu] needs base64 'content' (or 'base64', "
               "'data')",
               i);
      return LB_EINVAL;
    }
  }
  if (url) {
    /* Not expected (SMS Broadcast sends media inline). Kept, so the
     * message records why it is missing: caps.media_hosts allows no
     * host, and the fetcher refuses it. */
    if (strlen(url) >= SB_URL_MAX) {
      snprintf(why, whylen, "attachments[%zu].url is longer than %d bytes", i,
               SB_URL_MAX - 1);
      return LB_EINVAL;
    }
    if (out->n_media >= LB_MEDIA_MAX)
      goto too_many;
    im = &out->media[out->n_media];
    if (!(im->url = strdup(url)))
      return LB_ENOMEM;
    str_copy(im->content_type, sizeof im->content_type, ctype);
    out->n_media++;
    return LB_OK;
  }
  rc = crypto_base64_decode(data, strlen(data), " \r\n",
                            (size_t)s->media_max_bytes, &bin, &binlen);
  if (rc == LB_ETOOBIG)
    snprintf(why, whylen, "attachments[%zu] is larger than %ld bytes", i,
             s->media_max_bytes);
  else if (rc == LB_EINVAL)
    snprintf(why, whylen, "attachments[%zu] is not valid base64", i);
  if (rc)
    return rc;
  if (strcmp(ctype, "text/plain") == 0) {
    /* An MMS's text part: the message text when there is no other. */
    if (!out->text[0] && valid_utf8((char *)bin, binlen) &&
        !memchr(bin, 0, binlen)) {
      char *t = malloc(binlen + 1);
      if (!t) {
        free(bin);
        return LB_ENOMEM;
      }
      memcpy(t, bin, binlen);
      t[binlen] = '\0';
      free(out->text);
      out->text = t;
    }
    free(bin);
    return LB_OK;
  }
  if (out->n_media >= LB_MEDIA_MAX) {
    free(bin);
    goto too_many;
  }
  im = &out->media[out->n_media++];
  im->data = bin;
  im->len = binlen;
  str_copy(im->content_type, sizeof im->content_type, ctype);
  return LB_OK;
too_many:
  snprintf(why, whylen, "at most %d attachments", LB_MEDIA_MAX);
  return LB_ETOOBIG;
}

static enum lb_err sb_parse_inbound(const struct provider *p,
                                    const struct hook_request *req,
                                    struct inbound_msg *out, char *why,
                                    size_t whylen)
{
  const struct sb_priv *s = p->priv;
  struct sb_fields f;
  char from[SB_FIELD_MAX], to[SB_FIELD_MAX], reply_id[SB_FIELD_MAX];
  char ref[SB_FIELD_MAX], msgref[SB_FIELD_MAX], when[SB_FIELD_MAX], num[32];
  const char *text = NULL, *name;
  json_t *atts = NULL, *it;
  size_t i;
  int rc;

  if ((rc = load_fields(req, &f, why, whylen)))
    return rc;
  if ((rc = text_field(&f, names_from, 0, from, sizeof from, why, whylen)) ||
      (rc = text_field(&f, names_to, 0, to, sizeof to, why, whylen)) ||
      (rc = text_field(&f, names_reply_id, 1, reply_id, sizeof reply_id, why,
                       whylen)) ||
      (rc = text_field(&f, names_ref, 1, ref, sizeof ref, why, whylen)) ||
      (rc = text_field(&f, names_msgref, 1, msgref, sizeof msgref, why,
                       whylen)) ||
      (rc = text_field(&f, names_time, 0, when, sizeof when, why, whylen)) ||
      (rc = raw_field(&f, names_text, 1, &text, &name, num, sizeof num, why,
                      whylen)))
    goto out;
  rc = LB_EINVAL;
  if (!from[0]) {
    snprintf(why, whylen, "'from' (the sender's number) is required");
    goto out;
  }
  if (to_e164(s, from, out->from)) {
    snprintf(why, whylen, "'from' is not a phone number: '%.40s'", from);
    goto out;
  }
  /* Blank when the account has no dedicated number: the clinic's. */
  if (!to[0])
    str_copy(out->to, sizeof out->to, s->number);
  else if (to_e164(s, to, out->to)) {
    snprintf(why, whylen, "'to' is not a phone number: '%.40s'", to);
    goto out;
  }
  if (text && !valid_utf8(text, strlen(text))) {
    snprintf(why, whylen, "'message' is not valid UTF-8");
    goto out;
  }
  if (!(out->text = strdup(text ? text : ""))) {
    rc = LB_ENOMEM;
    goto out;
  }
  if (f.o) {
    for (i = 0; names_attachments[i] && !atts; i++)
      atts = json_object_get(f.o, names_attachments[i]);
    if (atts && !json_is_array(atts) && !json_is_null(atts)) {
      snprintf(why, whylen, "'attachments' must be an array");
      goto out;
    }
    json_array_foreach(atts, i, it)
    {
      if ((rc = take_attachment(s, it, i, out, why, whylen)))
        goto out;
    }
  }
  rc = LB_EINVAL;
  if (!text && !out->n_media && !out->text[0]) {
    snprintf(why, whylen, "'message' is required");
    goto out;
  }
  rc = inbound_id(out, reply_id, ref, msgref, when, out->provider_msg_id,
                  sizeof out->provider_msg_id);
out:
  json_decref(f.o);
  return rc;
}

/* ---- status updates ------------------------------------------------------ */

static const char *const names_smsref[] = {
    "smsref",    "msgref", "sms_ref", "apiSmsRef", "message_id",
    "messageId", "mtId",   "id",      NULL};
static const char *const names_status[] = {"status", "state", "message_status",
                                           "delivery_status", NULL};
static const char *const names_code[] = {"status_code", "statusCode", "code",
                                         NULL};
static const char *const names_error_code[] = {"error_code", "errorCode", NULL};
static const char *const names_error_text[] = {"error_text", "error", "reason",
                                               "description", NULL};

/* The provider's word for a status, in any case. Sinch MessageMedia's
 * (enroute, submitted, delivered, expired, rejected, failed), ours, and
 * the usual carrier words. 0 when unknown. */
static int status_from_word(const char *w, enum msg_status *st)
{
  static const struct {
    const char *word;
    enum msg_status st;
  } map[] = {
      {"delivered", ST_DELIVERED},
      {"delivrd", ST_DELIVERED},
      {"sent", ST_SENT},
      {"enroute", ST_SENT},
      {"en route", ST_SENT},
      {"submitted", ST_SENT},
      {"accepted", ST_SENT},
      {"pending", ST_SENT},
      {"queued", ST_SENT},
      {"buffered", ST_SENT},
      {"undelivered", ST_UNDELIVERED},
      {"undeliverable", ST_UNDELIVERED},
      {"undeliv", ST_UNDELIVERED},
      {"expired", ST_UNDELIVERED},
      {"failed", ST_FAILED},
      {"rejected", ST_FAILED},
      {"blocked", ST_FAILED},
      {"error", ST_FAILED},
      {"cancelled", ST_FAILED},
      {"canceled", ST_FAILED},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcasecmp(w, map[i].word) == 0) {
      *st = map[i].st;
      return 1;
    }
  return 0;
}

/* Sinch MessageMedia's status codes (delivered 220/221; still on its way
 * 1xx-213; expired 320/401; unreachable 400/413/414; the rest of 3xx/4xx
 * refused). 0 when not a known code. */
static int status_from_code(const char *code, enum msg_status *st)
{
  char *end;
  long c;
  if (!code[0])
    return 0;
  c = strtol(code, &end, 10);
  if (*end || c < 100 || c > 499)
    return 0;
  if (c == 220 || c == 221)
    *st = ST_DELIVERED;
  else if (c < 300)
    *st = ST_SENT;
  else if (c == 320 || c == 401 || c == 400 || c == 413 || c == 414)
    *st = ST_UNDELIVERED;
  else
    *st = ST_FAILED;
  return 1;
}

static enum lb_err sb_parse_status(const struct provider *p,
                                   const struct hook_request *req,
                                   struct status_update *out, char *why,
                                   size_t whylen)
{
  struct sb_fields f;
  char word[64], code[32], ecode[LB_ERRCODE_MAX], etext[LB_ERRTEXT_MAX];
  int rc, known;

  memset(out, 0, sizeof *out);
  if ((rc = load_fields(req, &f, why, whylen)))
    return rc;
  if ((rc = text_field(&f, names_smsref, 1, out->provider_msg_id,
                       sizeof out->provider_msg_id, why, whylen)) ||
      (rc = text_field(&f, names_ref, 1, out->ref, sizeof out->ref, why,
                       whylen)) ||
      (rc = text_field(&f, names_status, 0, word, sizeof word, why, whylen)) ||
      (rc = text_field(&f, names_code, 0, code, sizeof code, why, whylen)) ||
      (rc = text_field(&f, names_error_code, 0, ecode, sizeof ecode, why,
                       whylen)) ||
      (rc = text_field(&f, names_error_text, 0, etext, sizeof etext, why,
                       whylen)))
    goto out;
  rc = LB_EINVAL;
  if (!out->provider_msg_id[0] && !out->ref[0]) {
    snprintf(why, whylen,
             "no message reference: 'smsref' (SMS Broadcast's) or 'ref' "
             "(lyrebird's) is required");
    goto out;
  }
  if (!word[0] && !code[0]) {
    snprintf(why, whylen, "'status' is required");
    goto out;
  }
  known = status_from_word(word, &out->status);
  if (!known && !status_from_code(code, &out->status)) {
    snprintf(why, whylen,
             "'status' '%.40s' is not one lyrebird knows (delivered, "
             "undelivered, failed, sent, expired, rejected, enroute, ...)",
             word[0] ? word : code);
    goto out;
  }
  if (out->status != ST_DELIVERED && out->status != ST_SENT) {
    const char *c = ecode[0] ? ecode : code[0] ? code : word;
    str_copy(out->error_code, sizeof out->error_code, c);
    for (char *q = out->error_code; *q; q++)
      *q = *q == ' ' ? '_' : lower(*q);
    if (etext[0])
      copy_reason(out->error_text, sizeof out->error_text,
                  (struct span){etext, strlen(etext)});
    else
      snprintf(out->error_text, sizeof out->error_text,
               "SMS Broadcast reported the message %s%s%s%s", word,
               code[0] ? " (code " : "", code, code[0] ? ")" : "");
  }
  rc = LB_OK;
out:
  json_decref(f.o);
  return rc;
}

/* ---- provider check: the balance ----------------------------------------- */

static enum lb_err sb_build_check(const struct provider *p,
                                  struct wire_request *req)
{
  const struct sb_priv *s = p->priv;
  int rc;
  req->method = "POST";
  if ((rc = script_url(s, req)) ||
      (rc = wire_form_add(&req->body, "action", "balance")) ||
      (rc = wire_form_add(&req->body, "username", s->username)) ||
      (rc = wire_form_add(&req->body, "password", s->password)))
    return rc;
  return LB_OK;
}

static enum lb_err sb_parse_check(const struct provider *p,
                                  const struct wire_response *res, char *out,
                                  size_t n)
{
  struct sb_answer a;
  char v[SB_REASON_MAX + 1];
  if (res->error) {
    snprintf(out, n, "SMS Broadcast could not be reached: %s",
             res->error_text[0] ? res->error_text : lb_strerror(res->error));
    return res->error;
  }
  read_answer(res, &a);
  if (a.ok && a.ok_value.n && res->status >= 200 && res->status < 300) {
    copy_reason(v, sizeof v, a.ok_value);
    snprintf(out, n, "balance: %s credits", v);
    return LB_OK;
  }
  if (a.error) {
    copy_reason(v, sizeof v, a.error_reason);
    snprintf(out, n, "SMS Broadcast: %s", v[0] ? v : "ERROR without a reason");
    return span_has_any(a.error_reason, words_credentials) ? LB_EAUTH
                                                           : LB_EPROVIDER;
  }
  copy_reason(v, sizeof v, a.first);
  if (res->status < 200 || res->status >= 300)
    snprintf(out, n, "SMS Broadcast answered HTTP %ld%s%.80s", res->status,
             v[0] ? ": " : "", v);
  else
    snprintf(out, n, "SMS Broadcast's answer could not be read%s%.80s",
             v[0] ? ": " : "", v);
  return LB_EPROVIDER;
}

const struct provider_ops provider_smsbroadcast = {
    .name = "smsbroadcast",
    .title = "SMS Broadcast",
    .keys = sb_keys,
    .n_keys = sizeof sb_keys / sizeof sb_keys[0],
    .settings_size = sizeof(struct smsbroadcast_settings),
    .check = sb_check,
    .init = sb_init,
    .release = sb_release,
    .build_send = sb_build_send,
    .parse_send = sb_parse_send,
    .verify_hook = sb_verify_hook,
    .parse_inbound = sb_parse_inbound,
    .parse_status = sb_parse_status,
    .hook_reply_type = NULL,
    .hook_reply_body = NULL,
    .build_check = sb_build_check,
    .parse_check = sb_parse_check,
    .build_media_delete = NULL,
};
