/* Sinch MessageMedia's adapter ("messagemedia"). A pure translator: no
 * network, no database.
 *
 * Wire format (docs/providers/messagemedia.md; providers.md §2):
 *   send:    POST <base>/v1/messages, JSON, one message per request (the
 *            API refuses the whole batch for one bad message):
 *            {"messages":[{content, destination_number, format SMS|MMS,
 *            source_number, source_number_type INTERNATIONAL, media[] and
 *            subject (MMS), delivery_report true, metadata {lyrebird_id}}]}
 *            -> 202 {"messages":[{"message_id": ...}]};
 *               errors {"message": "...", "details": ["..."]}
 *            Basic auth (API key and secret), or HMAC (messagemedia.h).
 *   hooks:   the account's webhooks, registered by `lyrebird provider
 *            setup` with lyrebird's templates (below) and the shared secret
 *            in the header X-Lyrebird-Secret:
 *            inbound: RECEIVED_SMS, RECEIVED_MMS (attachments inline,
 *                     base64) -> /inbound; OPT_OUT_SMS ->
 *                     /inbound?event=opt_out (its own URL: the API allows
 *                     one webhook per URL and method)
 *            status:  the six *_DR events -> /status
 *   check:   GET <base>/v1/webhooks/messages
 * No callback_url is sent: the API pushes a message's receipts and replies
 * to its callback_url instead of the account's webhooks, in a fixed shape
 * without custom headers, which lyrebird could not authenticate.
 * MessageMedia has no idempotency key, so a send that timed out is not
 * resent blindly (dedupes_by_ref = 0). */
#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config/keys.h"
#include "core/phone.h"
#include "providers/messagemedia.h"
#include "providers/provider.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/url.h"
#include "util/utf8.h"

#define MM_SECRET_HEADER "X-Lyrebird-Secret"
#define MM_MESSAGES "/v1/messages"
#define MM_WEBHOOKS "/v1/webhooks/messages"
#define MM_CONTENT_MAX 5000 /* characters, the API's limit */
#define MM_SUBJECT_MAX 64   /* the API's limit for an MMS subject */
/* The API takes a list of media URLs without a documented maximum; the
 * MMS budget (500 kB by default) is shared by the items, so lyrebird sends
 * at most three (about 166 kB each) and the rest as a secure link. */
#define MM_MAX_MEDIA 3
/* Not documented (providers.md §2.10): a conservative guess. */
#define MM_RATE_PER_S 10
#define MM_FIELD_MAX 256        /* ids, times, status words from hooks */
#define MM_REASON_MAX 400       /* the provider's words, as staff see them */
#define MM_WEBHOOK_URL_MAX 1000 /* the Webhooks API's limit */

/* The formats the API documents for MMS media: png, jpeg and gif. */
static const char *const mm_mms_types[] = {"image/jpeg", "image/png",
                                           "image/gif", NULL};
/* Inbound media arrive inline (base64), never as links: allow no host. */
static const char *const mm_media_hosts[] = {NULL};

struct mm_priv {
  char base_url[1024];
  char api_key[256];
  char api_secret[256];
  char userpwd[520];
  int hmac;
  char secret[1024]; /* [messagemedia] webhook_secret */
  char subject[MM_SUBJECT_MAX + 1];
  char number[LB_E164_SIZE];
  char region[16];
  long media_max_bytes;
  int64_t (*now_s)(void);
};

/* ---- templates ------------------------------------------------------------
 * Velocity, JSON encoding. Every reference is quiet ($!), so a value the
 * event does not have renders as "", and every text goes through
 * $esc.json. The attachments list is joined with #set rather than
 * $foreach.hasNext, which needs Velocity 1.7. */

const char messagemedia_template_inbound[] =
    "{\"event\":\"reply\",\"format\":\"$!format\",\"reply_id\":\"$!moId\","
    "\"message_id\":\"$!messageId\",\"from\":\"$!sourceAddress\","
    "\"to\":\"$!destinationAddress\","
    "\"content\":\"$!esc.json($!moContent)\","
    "\"received\":\"$!receivedTimestamp\","
    "\"lyrebird_id\":\"$!esc.json($!metadata.get('lyrebird_id'))\","
    "\"attachments\":[#set($sep = \"\")#foreach($entry in $attachments)"
    "${sep}{\"content_type\":\"$!esc.json($!entry.contentType)\","
    "\"content\":\"$!esc.json($!entry.base64)\","
    "\"original_name\":\"$!esc.json($!entry.originalName)\"}"
    "#set($sep = \",\")#end]}";

/* OPT_OUT_SMS has $notificationId, not $moId (the API's spec). */
const char messagemedia_template_opt_out[] =
    "{\"event\":\"opt_out\",\"notification_id\":\"$!notificationId\","
    "\"message_id\":\"$!messageId\",\"from\":\"$!sourceAddress\","
    "\"to\":\"$!destinationAddress\","
    "\"content\":\"$!esc.json($!moContent)\","
    "\"received\":\"$!receivedTimestamp\"}";

const char messagemedia_template_status[] =
    "{\"event\":\"dr\",\"message_id\":\"$!messageId\","
    "\"report_id\":\"$!drId\",\"status\":\"$!status\","
    "\"status_code\":\"$!statusCode\","
    "\"lyrebird_id\":\"$!esc.json($!metadata.get('lyrebird_id'))\","
    "\"submitted\":\"$!submittedTimestamp\","
    "\"received\":\"$!receivedTimestamp\"}";

/* The webhooks `lyrebird provider setup` registers, in order. */
static const struct mm_webhook {
  const char *what;   /* for the operator */
  const char *suffix; /* after <public_url>/hooks/messagemedia */
  const char *const *events;
  const char *template;
} mm_webhooks[] = {
    {"replies (RECEIVED_SMS, RECEIVED_MMS)", "/inbound",
     (const char *const[]){"RECEIVED_SMS", "RECEIVED_MMS", NULL},
     messagemedia_template_inbound},
    {"opt-outs (OPT_OUT_SMS)", "/inbound?event=opt_out",
     (const char *const[]){"OPT_OUT_SMS", NULL}, messagemedia_template_opt_out},
    {"delivery reports (*_DR)", "/status",
     (const char *const[]){"ENROUTE_DR", "SUBMITTED_DR", "DELIVERED_DR",
                           "EXPIRED_DR", "REJECTED_DR", "FAILED_DR", NULL},
     messagemedia_template_status},
};
#define MM_N_WEBHOOKS (sizeof mm_webhooks / sizeof mm_webhooks[0])

/* ---- small helpers --------------------------------------------------------
 */

static char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* At most 'max' bytes of 'src', cut before a UTF-8 sequence that would
 * not fit; "" when src is not valid UTF-8. */
static void utf8_cut(char *dst, size_t max, const char *src)
{
  size_t n = strlen(src), i = 0;
  const unsigned char *s = (const unsigned char *)src;
  if (utf8_count(src, n, NULL)) {
    dst[0] = '\0';
    return;
  }
  while (i < n) {
    size_t k = utf8_next(s + i, n - i, NULL);
    if (i + k > max)
      break;
    i += k;
  }
  memcpy(dst, src, i);
  dst[i] = '\0';
}

/* A provider's words for staff: control characters made spaces, cut. */
static void copy_reason(char *dst, size_t n, const char *src)
{
  char tmp[MM_REASON_MAX + 1];
  size_t i, k = strlen(src ? src : "");
  if (k > MM_REASON_MAX)
    k = MM_REASON_MAX;
  for (i = 0; i < k; i++) {
    unsigned char c = (unsigned char)src[i];
    tmp[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
  }
  tmp[k] = '\0';
  utf8_cut(dst, n - 1, tmp);
  if (!dst[0] && k) /* cut inside a sequence: keep what is valid */
    snprintf(dst, n, "%s", "(unreadable)");
}

static int http_url(const char *u)
{
  return u &&
         (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) &&
         strlen(u) < LB_URL_MAX && !strpbrk(u, " \t\r\n\"");
}

static int64_t system_now_s(void)
{
  return clock_now_ms() / 1000;
}

/* ---- HMAC ------------------------------------------------------------------
 */

enum lb_err messagemedia_http_date(int64_t unix_s, char out[MM_DATE_SIZE])
{
  static const char days[][4] = {"Sun", "Mon", "Tue", "Wed",
                                 "Thu", "Fri", "Sat"};
  static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = (time_t)unix_s;
  struct tm tm;
  if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year < 0)
    return LB_EINVAL;
  snprintf(out, MM_DATE_SIZE, "%s, %02d %s %04d %02d:%02d:%02d GMT",
           days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
           tm.tm_hour, tm.tm_min, tm.tm_sec);
  return LB_OK;
}

enum lb_err messagemedia_hmac(const char *api_key, const char *api_secret,
                              const char *date, const char *method,
                              const char *path, const void *body, size_t len,
                              char md5_hex[MM_MD5_HEX], char *auth,
                              size_t authlen)
{
  unsigned char md5[EVP_MAX_MD_SIZE], mac[LB_SHA1_LEN];
  char sig[sodium_base64_ENCODED_LEN(LB_SHA1_LEN,
                                     sodium_base64_VARIANT_ORIGINAL)];
  unsigned int mdlen = 0;
  struct buf s;
  int rc;

  md5_hex[0] = '\0';
  if (!api_key || !api_secret || !date || !method || !path || (len && !body) ||
      strchr(api_key, '"'))
    return LB_EINVAL;
  if (len) {
    if (EVP_Digest(body, len, md5, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
      return LB_EIO;
    crypto_hex(md5, mdlen, md5_hex);
  }
  buf_init(&s, 4 * LB_URL_MAX);
  rc = buf_printf(&s, "Date: %s\n", date);
  if (!rc && len)
    rc = buf_printf(&s, "x-Content-MD5: %s\n", md5_hex);
  if (!rc)
    rc = buf_printf(&s, "%s %s HTTP/1.1", method, path);
  if (!rc)
    rc = crypto_hmac_sha1(api_secret, strlen(api_secret), s.data, s.len, mac);
  buf_release(&s);
  if (rc)
    return rc;
  sodium_bin2base64(sig, sizeof sig, mac, sizeof mac,
                    sodium_base64_VARIANT_ORIGINAL);
  if ((size_t)snprintf(auth, authlen,
                       "hmac username=\"%s\", algorithm=\"hmac-sha1\", "
                       "headers=\"Date %srequest-line\", signature=\"%s\"",
                       api_key, len ? "x-Content-MD5 " : "", sig) >= authlen)
    return LB_ETOOBIG;
  return LB_OK;
}

void messagemedia_set_clock(struct provider *p, int64_t (*now_s)(void))
{
  struct mm_priv *t = p->priv;
  if (t)
    t->now_s = now_s ? now_s : system_now_s;
}

/* ---- configuration ------------------------------------------------------- */

/* [messagemedia]: owned by struct config (config_init, config_release). */
struct messagemedia_settings {
  char *api_key;
  char *api_secret;
  char *base_url;
  char *auth; /* basic (default) or hmac */
  char *webhook_secret;
  int mms_max_bytes;
  int answers_keywords; /* replies to STOP, START, HELP itself */
};

#define CONFIG_KEYS_OF struct messagemedia_settings
static const struct config_key mm_keys[] = {
    S("messagemedia", "api_key", api_key, "", "API key (from the Hub)."),
    SECRET("messagemedia", "api_secret", api_secret, "",
           "API secret. Or api_secret_file."),
    S("messagemedia", "base_url", base_url, "https://api.messagemedia.com",
      "Where the API lives; the newer Sinch host is\n"
      "https://au.app.api.sinch.com (tests point it at a local fake)."),
    S("messagemedia", "auth", auth, "basic",
      "basic (default) or hmac: how requests are authenticated\n"
      "(docs/providers/messagemedia.md: which HMAC the live API takes\n"
      "is unconfirmed)."),
    SECRET("messagemedia", "webhook_secret", webhook_secret, "",
           "Shared secret each webhook carries as the header\n"
           "X-Lyrebird-Secret (24+ characters). Or webhook_secret_file."),
    I("messagemedia", "mms_max_bytes", mms_max_bytes, "500000", 10000, 5000000,
      "Largest MMS to send, in bytes (MessageMedia does not document one;\n"
      "500 kB reaches every Australian carrier)."),
    B("messagemedia", "answers_keywords", answers_keywords, "false",
      "MessageMedia answers STOP, START and HELP itself, so lyrebird\n"
      "sends no confirmation of its own (not documented: see its page)."),
};

static void mm_check(const void *settings, const struct config *cfg,
                     struct config_errors *errs)
{
  const struct messagemedia_settings *c = settings;
  if (!c->api_key[0] || !c->api_secret[0])
    config_errors_add(errs, 0, "[messagemedia] api_key",
                      "set api_key and api_secret (or api_secret_file): the "
                      "API credentials from the MessageMedia Hub");
  if (strcmp(c->auth, "basic") && strcmp(c->auth, "hmac"))
    config_errors_add(errs, 0, "[messagemedia] auth",
                      "must be basic or hmac, not '%s'", c->auth);
  if (strlen(c->webhook_secret) < 24)
    config_errors_add(
        errs, 0, "[messagemedia] webhook_secret",
        "set a secret of at least 24 characters (e.g. 'openssl rand "
        "-hex 16'): each webhook must carry it "
        "(docs/providers/messagemedia.md)");
  if (!url_is_http(c->base_url))
    config_errors_add(errs, 0, "[messagemedia] base_url",
                      "'%s' is not an http(s) URL", c->base_url);
}

/* ---- init ------------------------------------------------------------------
 */

static enum lb_err mm_init(struct provider *p, const struct config *cfg)
{
  const struct messagemedia_settings *s = provider_settings(cfg, p->ops);
  struct mm_priv *t;
  size_t n;
  int rc = LB_ECONFIG;

  if (!s)
    return LB_ECONFIG;
  if (!(t = calloc(1, sizeof *t)))
    return LB_ENOMEM;
  t->now_s = system_now_s;
  if (str_copy_whole(t->base_url, sizeof t->base_url,
                     s->base_url && *s->base_url
                         ? s->base_url
                         : "https://api.messagemedia.com") ||
      str_copy_whole(t->api_key, sizeof t->api_key, s->api_key) ||
      str_copy_whole(t->api_secret, sizeof t->api_secret, s->api_secret) ||
      str_copy_whole(t->secret, sizeof t->secret, s->webhook_secret) ||
      str_copy_whole(t->region, sizeof t->region,
                     cfg->region && *cfg->region ? cfg->region : "AU"))
    goto fail;
  str_copy(t->number, sizeof t->number, cfg->number);
  n = strlen(t->base_url);
  while (n && t->base_url[n - 1] == '/')
    t->base_url[--n] = '\0';
  if (!http_url(t->base_url))
    goto fail;
  if (s->auth && strcasecmp(s->auth, "hmac") == 0)
    t->hmac = 1;
  else if (s->auth && *s->auth && strcasecmp(s->auth, "basic"))
    goto fail;
  if (t->api_key[0] && t->api_secret[0])
    snprintf(t->userpwd, sizeof t->userpwd, "%s:%s", t->api_key, t->api_secret);
  /* The MMS subject: the clinic's name, at most 64 bytes cut at a UTF-8
   * boundary, so it is within 64 characters however the API counts. */
  utf8_cut(t->subject, MM_SUBJECT_MAX,
           cfg->clinic_name ? cfg->clinic_name : "");
  for (char *c = t->subject; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      *c = ' ';
  t->media_max_bytes = cfg->media_max_bytes;
  p->priv = t;
  p->caps = (struct provider_caps){
      .sms_out = 1,
      .sms_in = 1,
      .mms_out = 1,
      .mms_in = 1,
      .mms_max_bytes = s->mms_max_bytes,
      .max_media = MM_MAX_MEDIA,
      .subject_max = MM_SUBJECT_MAX,
      .dedupes_by_ref = 0,
      .answers_keywords = s->answers_keywords,
      .rate_per_s = MM_RATE_PER_S,
      .mms_types = mm_mms_types,
      .media_hosts = mm_media_hosts,
      .media_userpwd = NULL,
      /* RECEIVED_MMS carries its media inline as base64: up to
       * LB_MEDIA_MAX items of [media] max_bytes would be far more than any
       * carrier delivers, so the cap is four items' worth (4/3 for
       * base64) and 64 KiB for the JSON around them. */
      .inbound_body_max =
          (size_t)4 * (size_t)cfg->media_max_bytes / 3 * 4 + 64 * 1024,
  };
  return LB_OK;
fail:
  sodium_memzero(t, sizeof *t);
  free(t);
  return rc;
}

static void mm_release(struct provider *p)
{
  if (p->priv)
    sodium_memzero(p->priv, sizeof(struct mm_priv));
  free(p->priv);
  p->priv = NULL;
}

static int api_ready(const struct mm_priv *t)
{
  return t->api_key[0] && t->api_secret[0];
}

/* The request target of a URL we built: what follows the authority. */
static const char *url_path(const char *url)
{
  const char *s = strstr(url, "://"), *p;
  if (!s)
    return "/";
  p = strchr(s + 3, '/');
  return p ? p : "/";
}

/* Basic credentials, or the HMAC headers for the request as built. */
static enum lb_err authenticate(const struct mm_priv *t,
                                struct wire_request *req)
{
  char date[MM_DATE_SIZE], md5[MM_MD5_HEX], auth[LB_WIRE_HEADER_MAX - 16];
  int rc;
  if (!t->hmac)
    return str_copy_whole(req->userpwd, sizeof req->userpwd, t->userpwd);
  if ((rc = messagemedia_http_date(t->now_s(), date)) ||
      (rc = messagemedia_hmac(t->api_key, t->api_secret, date, req->method,
                              url_path(req->url), req->body.data, req->body.len,
                              md5, auth, sizeof auth)) ||
      (rc = wire_request_header(req, "Date", date)) ||
      (md5[0] && (rc = wire_request_header(req, "x-Content-MD5", md5))) ||
      (rc = wire_request_header(req, "Authorization", auth)))
    return rc;
  return LB_OK;
}

/* ---- build_send / parse_send ----------------------------------------------
 */

static enum lb_err set_str(json_t *o, const char *key, const char *v)
{
  json_t *s = json_string(v);
  if (!s)
    return LB_EINVAL; /* not UTF-8 */
  return json_object_set_new(o, key, s) ? LB_ENOMEM : LB_OK;
}

static int mms_type_ok(const char *ct)
{
  for (size_t i = 0; mm_mms_types[i]; i++)
    if (wire_ctype_is(ct, mm_mms_types[i]))
      return 1;
  return 0;
}

static enum lb_err mm_build_send(const struct provider *p,
                                 const struct send_input *in,
                                 struct wire_request *req)
{
  const struct mm_priv *t = p->priv;
  const struct message *m = in->msg;
  const char *text = m->text ? m->text : "";
  int mms = in->n_media > 0;
  json_t *root = NULL, *msg, *arr, *media, *meta;
  char *body = NULL;
  size_t chars;
  int rc;

  if (!api_ready(t))
    return LB_ECONFIG;
  if (!phone_is_e164(m->to) || !phone_is_e164(m->from))
    return LB_EINVAL;
  if (in->n_media > MM_MAX_MEDIA)
    return LB_ETOOBIG;
  for (size_t i = 0; i < in->n_media; i++) {
    /* MessageMedia fetches media itself: it needs a URL. */
    if (!http_url(in->media[i].url))
      return LB_EINVAL;
    if (!mms_type_ok(in->media[i].content_type))
      return LB_EMEDIATYPE;
  }
  /* content is required (1..5000 characters): an MMS without text carries
   * the clinic's name, as its subject does. */
  if (!text[0] && mms)
    text = t->subject;
  if (utf8_count(text, strlen(text), &chars) || chars == 0)
    return LB_EINVAL;
  if (chars > MM_CONTENT_MAX)
    return LB_ETOOBIG;

  rc = LB_ENOMEM;
  if (!(root = json_object()) || !(arr = json_array()) ||
      json_object_set_new(root, "messages", arr) || !(msg = json_object()) ||
      json_array_append_new(arr, msg))
    goto out;
  if ((rc = set_str(msg, "content", text)) ||
      (rc = set_str(msg, "destination_number", m->to)) ||
      (rc = set_str(msg, "format", mms ? "MMS" : "SMS")) ||
      (rc = set_str(msg, "source_number", m->from)) ||
      (rc = set_str(msg, "source_number_type", "INTERNATIONAL")))
    goto out;
  if (mms) {
    rc = LB_ENOMEM;
    if (!(media = json_array()) || json_object_set_new(msg, "media", media))
      goto out;
    for (size_t i = 0; i < in->n_media; i++)
      if (json_array_append_new(media, json_string(in->media[i].url)))
        goto out;
    if (t->subject[0] && (rc = set_str(msg, "subject", t->subject)))
      goto out;
  }
  rc = LB_ENOMEM;
  if (json_object_set_new(msg, "delivery_report", json_true()))
    goto out;
  if (m->id[0]) {
    if (!(meta = json_object()) || json_object_set_new(msg, "metadata", meta) ||
        (rc = set_str(meta, "lyrebird_id", m->id)))
      goto out;
  }
  rc = LB_ENOMEM;
  if (!(body = json_dumps(root, JSON_COMPACT)))
    goto out;
  req->method = "POST";
  if ((size_t)snprintf(req->url, sizeof req->url, "%s" MM_MESSAGES,
                       t->base_url) >= sizeof req->url) {
    rc = LB_ETOOBIG;
    goto out;
  }
  if ((rc = buf_puts(&req->body, body)) ||
      (rc = wire_request_header(req, "Content-Type", "application/json")) ||
      (rc = wire_request_header(req, "Accept", "application/json")) ||
      (rc = authenticate(t, req)))
    goto out;
  rc = LB_OK;
out:
  free(body);
  json_decref(root);
  return rc;
}

/* The API's error body: {"message": "...", "details": ["...", ...]}. The
 * words go into 'text' ("message: detail; detail"); *about_to is set when
 * a detail is about the destination number. */
static void read_error(const struct wire_response *res, char *text, size_t n,
                       int *about_to)
{
  json_t *o =
      json_loadb(res->body.data ? res->body.data : "", res->body.len, 0, NULL);
  json_t *mv = json_object_get(o, "message"),
         *d = json_object_get(o, "details");
  struct buf b;
  size_t i;
  json_t *it;

  *about_to = 0;
  buf_init(&b, 4096);
  if (json_is_string(mv))
    buf_puts(&b, json_string_value(mv));
  json_array_foreach(d, i, it)
  {
    const char *s = json_string_value(it);
    if (!s)
      continue;
    if (strstr(s, "destination_number"))
      *about_to = 1;
    buf_puts(&b, b.len ? (i ? "; " : ": ") : "");
    buf_puts(&b, s);
  }
  copy_reason(text, n, b.data ? b.data : "");
  buf_release(&b);
  json_decref(o);
}

static enum lb_err mm_parse_send(const struct provider *p,
                                 const struct wire_response *res,
                                 struct send_result *out)
{
  char why[MM_REASON_MAX + 1];
  int about_to;

  /* Sent and then lost: it may have gone; never resent blindly. */
  if (send_result_begin(res, "MessageMedia", out))
    return LB_OK;
  if (res->status >= 200 && res->status < 300) {
    json_t *o = json_loadb(res->body.data ? res->body.data : "", res->body.len,
                           0, NULL);
    json_t *m0 = json_array_get(json_object_get(o, "messages"), 0);
    const char *id = json_string_value(json_object_get(m0, "message_id"));
    if (id && id[0] && strlen(id) < sizeof out->provider_msg_id &&
        utf8_count(id, strlen(id), NULL) == LB_OK) {
      out->outcome = SEND_ACCEPTED;
      str_copy(out->provider_msg_id, sizeof out->provider_msg_id, id);
    } else {
      /* It answered yes but we cannot read the id: it probably went. */
      out->outcome = SEND_UNKNOWN;
      snprintf(out->error_code, sizeof out->error_code, "bad_response");
      snprintf(out->error_text, sizeof out->error_text,
               "MessageMedia answered HTTP %ld but its answer had no "
               "messages[0].message_id",
               res->status);
    }
    json_decref(o);
    return LB_OK;
  }
  read_error(res, why, sizeof why, &about_to);
  if (res->status == 429) {
    out->outcome = SEND_RETRY;
    snprintf(out->error_code, sizeof out->error_code, "rate_limited");
    snprintf(out->error_text, sizeof out->error_text,
             "MessageMedia is limiting requests (HTTP 429)%s%s",
             why[0] ? ": " : "", why);
    return LB_OK;
  }
  if (res->status >= 500 || res->status == 408) {
    out->outcome = SEND_RETRY;
    snprintf(out->error_code, sizeof out->error_code, "http_%ld", res->status);
    snprintf(out->error_text, sizeof out->error_text,
             "MessageMedia could not take the message now (HTTP %ld)%s%s",
             res->status, why[0] ? ": " : "", why);
    return LB_OK;
  }
  out->outcome = SEND_FINAL;
  if (res->status == 401 || res->status == 403) {
    snprintf(out->error_code, sizeof out->error_code, "auth_failed");
    snprintf(out->error_text, sizeof out->error_text,
             "MessageMedia refused the credentials (HTTP %ld): %s. Check "
             "[messagemedia] api_key, api_secret and auth",
             res->status, why[0] ? why : "no reason given");
    return LB_OK;
  }
  out->recipient = about_to ? RECIPIENT_REFUSED : RECIPIENT_OK;
  snprintf(out->error_code, sizeof out->error_code, "%s",
           about_to             ? "invalid_number"
           : res->status == 400 ? "invalid_request"
                                : "rejected");
  snprintf(out->error_text, sizeof out->error_text,
           "MessageMedia refused the message (HTTP %ld): %s", res->status,
           why[0] ? why : "no reason given");
  return LB_OK;
}

/* ---- verify_hook -----------------------------------------------------------
 */

static enum lb_err mm_verify_hook(const struct provider *p,
                                  const struct hook_request *req)
{
  const struct mm_priv *t = p->priv;
  const char *h = req->header ? req->header(req->ctx, MM_SECRET_HEADER) : NULL;
  if (!t->secret[0])
    return LB_EAUTH; /* no secret configured: nothing is trusted */
  if (!h || !*h)
    return LB_EAUTH;
  return crypto_secret_eq(h, strlen(h), t->secret) ? LB_OK : LB_ESIGNATURE;
}

/* ---- webhooks: fields ------------------------------------------------------
 */

static enum lb_err load_json(const struct hook_request *req, json_t **out,
                             char *why, size_t whylen)
{
  json_error_t err;
  json_t *o;
  *out = NULL;
  if (!req->body_len) {
    snprintf(why, whylen, "an empty body: expected lyrebird's JSON template");
    return LB_EINVAL;
  }
  o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
  if (!o) {
    snprintf(why, whylen, "the body is not JSON (%.120s, line %d)", err.text,
             err.line);
    return LB_EINVAL;
  }
  if (!json_is_object(o)) {
    json_decref(o);
    snprintf(why, whylen, "the body must be a JSON object");
    return LB_EINVAL;
  }
  *out = o;
  return LB_OK;
}

/* A text field: a string (numbers are taken as their digits), "" when
 * absent, null, or an unrendered template reference ("$moId"). */
static enum lb_err text_field(json_t *o, const char *name, char *dst, size_t n,
                              char *why, size_t whylen)
{
  json_t *v = json_object_get(o, name);
  const char *s;
  dst[0] = '\0';
  if (!v || json_is_null(v))
    return LB_OK;
  if (json_is_integer(v)) {
    snprintf(dst, n, "%lld", (long long)json_integer_value(v));
    return LB_OK;
  }
  if (!json_is_string(v)) {
    snprintf(why, whylen, "'%s' must be a string", name);
    return LB_EINVAL;
  }
  s = json_string_value(v);
  if (s[0] == '$')
    return LB_OK;
  if (str_copy_whole(dst, n, s)) {
    snprintf(why, whylen, "'%s' must be under %zu bytes", name, n);
    return LB_EINVAL;
  }
  return LB_OK;
}

/* The field 'name', or if it is absent or blank 'alt' (the API's own
 * field name, as its documented default payloads use it). */
static int text_field_or(json_t *o, const char *name, const char *alt,
                         char *dst, size_t n, char *why, size_t whylen)
{
  int rc = text_field(o, name, dst, n, why, whylen);
  if (rc || dst[0] || !alt)
    return rc;
  return text_field(o, alt, dst, n, why, whylen);
}

static enum lb_err number_field(const struct mm_priv *t, json_t *o,
                                const char *name, const char *alt,
                                char out[LB_E164_SIZE], char *why,
                                size_t whylen)
{
  char v[MM_FIELD_MAX], msg[200];
  int rc = text_field_or(o, name, alt, v, sizeof v, why, whylen);
  out[0] = '\0';
  if (rc || !v[0])
    return rc;
  if (phone_is_e164(v)) {
    str_copy(out, LB_E164_SIZE, v);
    return LB_OK;
  }
  if (phone_parse(v, t->region, out, msg, sizeof msg)) {
    snprintf(why, whylen, "'%s' is not a phone number: '%.40s'", name, v);
    return LB_EINVAL;
  }
  return LB_OK;
}

/* provider_msg_id for an inbound message: MessageMedia's id (prefixed, so
 * it cannot equal an outbound message's id), else a digest of what a
 * redelivery repeats, so a retried webhook is stored once. */
static void inbound_id(const struct inbound_msg *m, const char *prefix,
                       const char *id, const char *when, char *out, size_t n)
{
  crypto_hash_sha256_state st;
  unsigned char h[crypto_hash_sha256_BYTES];
  char hex[LB_SHA256_HEX];
  const char *parts[] = {m->from, m->to, m->text ? m->text : "", when, prefix};

  if (id[0] && (size_t)snprintf(out, n, "%s:%s", prefix, id) < n)
    return;
  crypto_hash_sha256_init(&st);
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    char len[32];
    snprintf(len, sizeof len, "%zu:", strlen(parts[i]));
    crypto_hash_sha256_update(&st, (const unsigned char *)len, strlen(len));
    crypto_hash_sha256_update(&st, (const unsigned char *)parts[i],
                              strlen(parts[i]));
  }
  for (size_t i = 0; i < m->n_media; i++) {
    unsigned char mh[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(mh, m->media[i].data, m->media[i].len);
    crypto_hash_sha256_update(&st, mh, sizeof mh);
  }
  crypto_hash_sha256_final(&st, h);
  crypto_hex(h, sizeof h, hex);
  snprintf(out, n, "%s:sha256:%s", prefix, hex);
}

/* Decodes attachments[i] into out->media (or takes an MMS's text part). */
static enum lb_err take_attachment(const struct mm_priv *t, json_t *it,
                                   size_t i, struct inbound_msg *out, char *why,
                                   size_t whylen)
{
  json_t *ctv = json_object_get(it, "content_type");
  json_t *dv = json_object_get(it, "content");
  char ctype[LB_CTYPE_MAX];
  const char *data;
  unsigned char *bin;
  size_t dlen, binlen = 0;
  int rc;

  if (!json_is_object(it)) {
    snprintf(why, whylen, "attachments[%zu] must be an object", i);
    return LB_EINVAL;
  }
  if (ctv && !json_is_string(ctv)) {
    snprintf(why, whylen, "attachments[%zu].content_type must be a string", i);
    return LB_EINVAL;
  }
  if (str_copy_whole(ctype, sizeof ctype, ctv ? json_string_value(ctv) : "")) {
    snprintf(why, whylen, "attachments[%zu].content_type is too long", i);
    return LB_EINVAL;
  }
  for (char *c = ctype; *c; c++)
    *c = lower(*c);
  if (wire_ctype_is(ctype, "application/smil"))
    return LB_OK; /* the slide layout of an MMS, not content */
  if (!json_is_string(dv) || !json_string_length(dv)) {
    snprintf(why, whylen, "attachments[%zu] needs base64 'content'", i);
    return LB_EINVAL;
  }
  data = json_string_value(dv);
  dlen = json_string_length(dv);
  rc = crypto_base64_decode(data, dlen, " \r\n", (size_t)t->media_max_bytes,
                            &bin, &binlen);
  if (rc == LB_ETOOBIG)
    snprintf(why, whylen, "attachments[%zu] is larger than %ld bytes", i,
             t->media_max_bytes);
  else if (rc == LB_EINVAL)
    snprintf(why, whylen, "attachments[%zu] is not valid base64", i);
  if (rc)
    return rc;
  if (wire_ctype_is(ctype, "text/plain")) {
    /* An MMS's text part: the message text when there is no other. */
    if (!out->text[0] && binlen &&
        utf8_count((char *)bin, binlen, NULL) == LB_OK &&
        !memchr(bin, 0, binlen)) {
      char *txt = malloc(binlen + 1);
      if (!txt) {
        free(bin);
        return LB_ENOMEM;
      }
      memcpy(txt, bin, binlen);
      txt[binlen] = '\0';
      free(out->text);
      out->text = txt;
    }
    free(bin);
    return LB_OK;
  }
  if (out->n_media >= LB_MEDIA_MAX) {
    free(bin);
    snprintf(why, whylen, "at most %d attachments", LB_MEDIA_MAX);
    return LB_ETOOBIG;
  }
  out->media[out->n_media].data = bin;
  out->media[out->n_media].len = binlen;
  str_copy(out->media[out->n_media].content_type, LB_CTYPE_MAX, ctype);
  out->n_media++;
  return LB_OK;
}

static enum lb_err mm_parse_inbound(const struct provider *p,
                                    const struct hook_request *req,
                                    struct inbound_msg *out, char *why,
                                    size_t whylen)
{
  const struct mm_priv *t = p->priv;
  char event[32], id[MM_FIELD_MAX], when[MM_FIELD_MAX];
  const char *qevent = req->query ? req->query(req->ctx, "event") : NULL;
  json_t *o, *content, *atts, *it;
  size_t i;
  int rc;

  if ((rc = load_json(req, &o, why, whylen)))
    return rc;
  if ((rc = text_field(o, "event", event, sizeof event, why, whylen)))
    goto out;
  rc = LB_EINVAL;
  if (strcmp(event, "dr") == 0) {
    snprintf(why, whylen,
             "a delivery report sent to the replies URL: point the *_DR "
             "webhook at /hooks/messagemedia/status");
    goto out;
  }
  if (event[0] && strcmp(event, "reply") && strcmp(event, "opt_out")) {
    snprintf(why, whylen, "'event' '%.40s' is not reply or opt_out", event);
    goto out;
  }
  /* The opt-out webhook has its own URL (?event=opt_out) and template. */
  out->opt_out =
      strcmp(event, "opt_out") == 0 || (qevent && !strcmp(qevent, "opt_out"));
  if ((rc = number_field(t, o, "from", "source_number", out->from, why,
                         whylen)) ||
      (rc = number_field(t, o, "to", "destination_number", out->to, why,
                         whylen)) ||
      (rc = text_field(o, out->opt_out ? "notification_id" : "reply_id", id,
                       sizeof id, why, whylen)) ||
      (rc = text_field_or(o, "received", "date_received", when, sizeof when,
                          why, whylen)))
    goto out;
  rc = LB_EINVAL;
  if (!out->from[0]) {
    snprintf(why, whylen, "'from' (the sender's number) is required");
    goto out;
  }
  if (!out->to[0]) /* not rendered: the number this gateway hosts */
    str_copy(out->to, sizeof out->to, t->number);
  content = json_object_get(o, "content");
  if (content && !json_is_null(content) && !json_is_string(content)) {
    snprintf(why, whylen, "'content' must be a string");
    goto out;
  }
  rc = LB_ENOMEM;
  if (!(out->text = strdup(json_is_string(content) &&
                                   json_string_value(content)[0] != '$'
                               ? json_string_value(content)
                               : "")))
    goto out;
  atts = json_object_get(o, "attachments");
  rc = LB_EINVAL;
  if (atts && !json_is_array(atts) && !json_is_null(atts)) {
    snprintf(why, whylen, "'attachments' must be an array");
    goto out;
  }
  json_array_foreach(atts, i, it)
  {
    if ((rc = take_attachment(t, it, i, out, why, whylen)))
      goto out;
  }
  rc = LB_EINVAL;
  if (!out->opt_out && !out->text[0] && !out->n_media) {
    snprintf(why, whylen, "neither 'content' nor 'attachments'");
    goto out;
  }
  inbound_id(out, out->opt_out ? "optout" : "mo", id, when,
             out->provider_msg_id, sizeof out->provider_msg_id);
  rc = LB_OK;
out:
  json_decref(o);
  return rc;
}

/* ---- status updates --------------------------------------------------------
 */

/* MessageMedia's status codes (the Webhooks API's table). */
static const struct mm_code {
  int code;
  const char *meaning;
} mm_codes[] = {
    {101, "being processed by the gateway"},
    {102, "being rerouted to another provider"},
    {151, "held for screening"},
    {200, "submitted to the carrier"},
    {210, "accepted by the carrier"},
    {211, "on its way to the handset"},
    {212, "submitted, delivery pending"},
    {213, "scheduled by the carrier"},
    {220, "delivered"},
    {221, "delivered to the handset"},
    {301, "usage threshold reached; discarded"},
    {302, "the destination number is blocked; discarded"},
    {303, "the source number is blocked; discarded"},
    {304, "dropped (MessageMedia asks you to contact support)"},
    {305, "discarded as a duplicate"},
    {320, "expired before it was submitted"},
    {330, "gateway failure"},
    {331, "discarded"},
    {332, "no route to the destination"},
    {333, "the source number cannot send to this destination"},
    {400, "undeliverable"},
    {401, "expired before it was delivered"},
    {402, "rejected by the carrier"},
    {403, "skipped by the carrier"},
    {405, "cancelled or deleted by the carrier"},
    {410, "invalid source number"},
    {411, "invalid destination number"},
    {412, "the destination number is blocked"},
    {413, "the destination cannot receive SMS"},
    {414, "the destination is unreachable"},
};

static const char *code_meaning(long c)
{
  for (size_t i = 0; i < sizeof mm_codes / sizeof mm_codes[0]; i++)
    if (mm_codes[i].code == c)
      return mm_codes[i].meaning;
  return NULL;
}

/* The documented statuses (message and delivery report), as ours. */
static int status_from_word(const char *w, enum msg_status *st)
{
  static const struct {
    const char *word;
    enum msg_status st;
  } map[] = {
      {"delivered", ST_DELIVERED}, {"enroute", ST_SENT},
      {"submitted", ST_SENT},      {"queued", ST_SENT},
      {"processed", ST_SENT},      {"scheduled", ST_SENT},
      {"expired", ST_UNDELIVERED}, {"undeliverable", ST_UNDELIVERED},
      {"rejected", ST_FAILED},     {"failed", ST_FAILED},
      {"cancelled", ST_FAILED},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcasecmp(w, map[i].word) == 0) {
      *st = map[i].st;
      return 1;
    }
  return 0;
}

/* A status code alone: delivered 220/221; on its way below 300; expired
 * or unreachable 320, 400, 401, 413, 414; otherwise refused. */
static int status_from_code(long c, enum msg_status *st)
{
  if (c < 100 || c > 499)
    return 0;
  if (c == 220 || c == 221)
    *st = ST_DELIVERED;
  else if (c < 300)
    *st = ST_SENT;
  else if (c == 320 || c == 400 || c == 401 || c == 413 || c == 414)
    *st = ST_UNDELIVERED;
  else
    *st = ST_FAILED;
  return 1;
}

static enum lb_err mm_parse_status(const struct provider *p,
                                   const struct hook_request *req,
                                   struct status_update *out, char *why,
                                   size_t whylen)
{
  char event[32], word[64], code[32];
  json_t *o;
  long c = -1;
  int rc, known = 0;

  memset(out, 0, sizeof *out);
  if ((rc = load_json(req, &o, why, whylen)))
    return rc;
  /* lyrebird's template, or the API's documented default report
   * (error_code, metadata.lyrebird_id). */
  if ((rc = text_field(o, "event", event, sizeof event, why, whylen)) ||
      (rc = text_field(o, "message_id", out->provider_msg_id,
                       sizeof out->provider_msg_id, why, whylen)) ||
      (rc = text_field(o, "lyrebird_id", out->ref, sizeof out->ref, why,
                       whylen)) ||
      (rc = text_field(o, "status", word, sizeof word, why, whylen)) ||
      (rc = text_field(o, "status_code", code, sizeof code, why, whylen)))
    goto out;
  if (!out->ref[0] &&
      (rc = text_field(json_object_get(o, "metadata"), "lyrebird_id", out->ref,
                       sizeof out->ref, why, whylen)))
    goto out;
  if (!code[0] &&
      (rc = text_field(o, "error_code", code, sizeof code, why, whylen)))
    goto out;
  rc = LB_EINVAL;
  if (strcmp(event, "reply") == 0 || strcmp(event, "opt_out") == 0) {
    snprintf(why, whylen,
             "a reply sent to the status URL: point RECEIVED_SMS, "
             "RECEIVED_MMS and OPT_OUT_SMS at /hooks/messagemedia/inbound");
    goto out;
  }
  if (!out->provider_msg_id[0] && !out->ref[0]) {
    snprintf(why, whylen,
             "no message reference: 'message_id' (MessageMedia's) or "
             "'lyrebird_id' (lyrebird's) is required");
    goto out;
  }
  if (code[0]) {
    char *end;
    c = strtol(code, &end, 10);
    if (*end || end == code) {
      snprintf(why, whylen, "'status_code' must be a number, not '%.40s'",
               code);
      goto out;
    }
  }
  if (!word[0] && c < 0) {
    snprintf(why, whylen, "'status' is required");
    goto out;
  }
  known = word[0] ? status_from_word(word, &out->status)
                  : status_from_code(c, &out->status);
  if (!known) {
    snprintf(why, whylen,
             "'status' '%.40s' is not one lyrebird knows (enroute, "
             "submitted, delivered, expired, rejected, failed, ...)",
             word[0] ? word : code);
    goto out;
  }
  if (out->status != ST_DELIVERED && out->status != ST_SENT) {
    const char *meaning = c >= 0 ? code_meaning(c) : NULL;
    if (c >= 0)
      snprintf(out->error_code, sizeof out->error_code, "messagemedia_%ld", c);
    else
      snprintf(out->error_code, sizeof out->error_code, "%s", word);
    for (char *q = out->error_code; *q; q++)
      *q = lower(*q);
    if (meaning)
      snprintf(out->error_text, sizeof out->error_text,
               "MessageMedia: %s (status %s, code %ld)", meaning,
               word[0] ? word : "-", c);
    else
      snprintf(out->error_text, sizeof out->error_text,
               "MessageMedia reported the message %s%s%s%s", word,
               code[0] ? " (code " : "", code, code[0] ? ")" : "");
  }
  rc = LB_OK;
out:
  json_decref(o);
  return rc;
}

/* ---- provider check --------------------------------------------------------
 */

static enum lb_err mm_build_check(const struct provider *p,
                                  struct wire_request *req)
{
  const struct mm_priv *t = p->priv;
  int rc;
  if (!api_ready(t))
    return LB_ECONFIG;
  req->method = "GET";
  if ((size_t)snprintf(req->url, sizeof req->url, "%s" MM_WEBHOOKS,
                       t->base_url) >= sizeof req->url)
    return LB_ETOOBIG;
  if ((rc = wire_request_header(req, "Accept", "application/json")))
    return rc;
  return authenticate(t, req);
}

/* An answer that is not a success, in words; LB_EAUTH for credentials. */
static enum lb_err describe_failure(const struct mm_priv *t,
                                    const struct wire_response *res, char *out,
                                    size_t n)
{
  char why[MM_REASON_MAX + 1];
  int about_to;
  if (res->error || res->status < 100) {
    snprintf(out, n, "could not reach MessageMedia at %s: %s", t->base_url,
             res->error_text[0] ? res->error_text : lb_strerror(res->error));
    return LB_EPROVIDER;
  }
  read_error(res, why, sizeof why, &about_to);
  if (res->status == 401 || res->status == 403) {
    snprintf(out, n,
             "MessageMedia refused the credentials (HTTP %ld): %s. Check "
             "[messagemedia] api_key, api_secret and auth (%s)",
             res->status, why[0] ? why : "no reason given",
             t->hmac ? "hmac" : "basic");
    return LB_EAUTH;
  }
  snprintf(out, n, "MessageMedia answered HTTP %ld%s%s", res->status,
           why[0] ? ": " : "", why);
  return LB_EPROVIDER;
}

static enum lb_err mm_parse_check(const struct provider *p,
                                  const struct wire_response *res, char *out,
                                  size_t n)
{
  const struct mm_priv *t = p->priv;
  json_t *o, *list;
  if (res->error || res->status < 200 || res->status >= 300)
    return describe_failure(t, res, out, n);
  o = json_loadb(res->body.data ? res->body.data : "", res->body.len, 0, NULL);
  list = json_object_get(o, "pageData");
  if (json_is_array(list))
    snprintf(out, n, "credentials accepted (%zu webhook%s on the account)",
             json_array_size(list), json_array_size(list) == 1 ? "" : "s");
  else
    snprintf(out, n, "credentials accepted");
  json_decref(o);
  return LB_OK;
}

/* ---- provider setup --------------------------------------------------------
 */

static enum lb_err mm_build_setup(const struct provider *p, int n,
                                  const char *base, struct wire_request *req)
{
  const struct mm_priv *t = p->priv;
  const struct mm_webhook *w;
  json_t *root = NULL, *events, *hdrs;
  char url[MM_WEBHOOK_URL_MAX + 1], *body = NULL;
  int rc;

  if (n < 0 || (size_t)n >= MM_N_WEBHOOKS)
    return LB_ENOTFOUND;
  if (!api_ready(t) || !t->secret[0] || !base)
    return LB_ECONFIG;
  w = &mm_webhooks[n];
  if ((size_t)snprintf(url, sizeof url, "%s%s", base, w->suffix) >=
          sizeof url ||
      !http_url(url))
    return LB_EINVAL;
  rc = LB_ENOMEM;
  if (!(root = json_object()) || !(events = json_array()) ||
      !(hdrs = json_object()))
    goto out;
  if ((rc = set_str(root, "url", url)) ||
      (rc = set_str(root, "method", "POST")) ||
      (rc = set_str(root, "encoding", "JSON")))
    goto out;
  rc = LB_ENOMEM;
  if (json_object_set_new(root, "headers", hdrs))
    goto out;
  if ((rc = set_str(hdrs, MM_SECRET_HEADER, t->secret)))
    goto out;
  rc = LB_ENOMEM;
  if (json_object_set_new(root, "events", events))
    goto out;
  for (size_t i = 0; w->events[i]; i++)
    if (json_array_append_new(events, json_string(w->events[i])))
      goto out;
  if ((rc = set_str(root, "template", w->template)))
    goto out;
  rc = LB_ENOMEM;
  /* Replies carry their media inline: give them time to arrive. The API
   * retries a failed call at most 5 times, 5 to 60 seconds apart. */
  if (json_object_set_new(root, "read_timeout", json_integer(30000)) ||
      json_object_set_new(root, "retries", json_integer(5)) ||
      json_object_set_new(root, "retry_delay", json_integer(60)) ||
      !(body = json_dumps(root, JSON_COMPACT)))
    goto out;
  req->method = "POST";
  if ((size_t)snprintf(req->url, sizeof req->url, "%s" MM_WEBHOOKS,
                       t->base_url) >= sizeof req->url) {
    rc = LB_ETOOBIG;
    goto out;
  }
  if ((rc = buf_puts(&req->body, body)) ||
      (rc = wire_request_header(req, "Content-Type", "application/json")) ||
      (rc = wire_request_header(req, "Accept", "application/json")) ||
      (rc = authenticate(t, req)))
    goto out;
  rc = LB_OK;
out:
  free(body);
  json_decref(root);
  return rc;
}

static enum lb_err mm_parse_setup(const struct provider *p, int n,
                                  const struct wire_response *res, char *out,
                                  size_t len)
{
  const struct mm_priv *t = p->priv;
  const char *what =
      n >= 0 && (size_t)n < MM_N_WEBHOOKS ? mm_webhooks[n].what : "webhook";
  char why[512];
  int rc;

  if (!res->error && res->status == 201) {
    json_t *o = json_loadb(res->body.data ? res->body.data : "", res->body.len,
                           0, NULL);
    const char *id = json_string_value(json_object_get(o, "id"));
    char idc[80] = "";
    if (id)
      copy_reason(idc, sizeof idc, id);
    snprintf(out, len, "created the webhook for %s%s%s", what,
             idc[0] ? ", id " : "", idc);
    json_decref(o);
    return LB_OK;
  }
  if (!res->error && res->status == 409) {
    snprintf(out, len,
             "the webhook for %s is already there (same URL and method): "
             "delete it in the Hub to replace it",
             what);
    return LB_OK;
  }
  rc = describe_failure(t, res, why, sizeof why);
  snprintf(out, len, "the webhook for %s was not created: %s", what, why);
  return rc;
}

const struct provider_ops provider_messagemedia = {
    .name = "messagemedia",
    .title = "Sinch MessageMedia",
    .keys = mm_keys,
    .n_keys = sizeof mm_keys / sizeof mm_keys[0],
    .settings_size = sizeof(struct messagemedia_settings),
    .check = mm_check,
    .init = mm_init,
    .release = mm_release,
    .build_send = mm_build_send,
    .parse_send = mm_parse_send,
    .verify_hook = mm_verify_hook,
    .parse_inbound = mm_parse_inbound,
    .parse_status = mm_parse_status,
    .hook_reply_type = NULL,
    .hook_reply_body = NULL,
    .build_check = mm_build_check,
    .parse_check = mm_parse_check,
    .build_setup = mm_build_setup,
    .parse_setup = mm_parse_setup,
    .build_media_delete = NULL,
};
