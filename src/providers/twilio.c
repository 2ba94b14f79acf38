/* Twilio's adapter ("twilio"). A pure translator: no network, no database.
 *
 * Wire format (docs/providers/twilio.md; providers.md §3):
 *   send:    POST <base>/2010-04-01/Accounts/<AC>/Messages.json, Basic auth
 *            (API key and secret, or Account SID and auth token), form:
 *            To, From, Body, MediaUrl (once per item), StatusCallback
 *            -> 201 Message resource {"sid": "SM...", "status": ...};
 *            errors {"code", "message", "more_info", "status"}
 *   hooks:   form POSTs signed with X-Twilio-Signature (twilio.h).
 *            inbound: MessageSid, From, To, Body, NumMedia, MediaUrl<N>,
 *                     MediaContentType<N> (N from 0); answered with TwiML
 *            status:  MessageSid, MessageStatus, ErrorCode, ErrorMessage
 *   media:   inbound media are URLs on api.twilio.com, fetched later by the
 *            gateway with Basic auth, then deleted with
 *            DELETE .../Messages/<MM>/Media/<ME>.json
 *   check:   GET <base>/2010-04-01/Accounts/<AC>.json
 * Twilio has no idempotency key for Messages, so a send that timed out is
 * not resent blindly (dedupes_by_ref = 0). */
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/keys.h"
#include "core/phone.h"
#include "providers/provider.h"
#include "providers/twilio.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/netaddr.h"
#include "util/url.h"

#define TW_API "/2010-04-01/Accounts/"
#define TW_HOST "api.twilio.com"
/* Not documented for AU long codes; Twilio's table gives 10 messages a
 * second for "other international countries" (providers.md §3.10). */
#define TW_RATE_PER_S 10
#define TW_SID_MAX 64
#define TW_MEDIA_URL_MAX 2048
#define TW_SIGNED_URL_MAX (64u * 1024)

/* JPEG, PNG and GIF are fully supported; other types pass untranscoded
 * (providers.md §3.7), so lyrebird sends only these three. */
static const char *const tw_mms_types[] = {"image/jpeg", "image/png",
                                           "image/gif", NULL};

struct tw_priv {
  char account_sid[TW_SID_MAX + 1];
  char auth_token[256];
  char userpwd[256]; /* REST API and media: "key:secret" or "AC...:token" */
  char base_url[1024];
  /* The base URL's origin, for matching media URLs. */
  char base_scheme[16];
  char base_host[256];
  char base_port[8];
  char region[16];
  int delete_media;
  char *hosts_text;   /* [twilio] media_hosts, split in place */
  const char **hosts; /* NULL-terminated, pointing into hosts_text */
};

/* ---- helpers ------------------------------------------------------------ */

static int is_alnum(int c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

/* A Twilio SID: 'prefix' (or any, if NULL) then letters and digits. The
 * check keeps anything but a SID out of the URLs we build. */
static int sid_ok(const char *s, size_t len, const char *prefix)
{
  if (!s || len < 3 || len > TW_SID_MAX)
    return 0;
  if (prefix && strncmp(s, prefix, strlen(prefix)) != 0)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!is_alnum((unsigned char)s[i]))
      return 0;
  return 1;
}

static int all_digits(const char *s, size_t maxlen)
{
  size_t i;
  if (!s || !*s)
    return 0;
  for (i = 0; s[i]; i++)
    if (s[i] < '0' || s[i] > '9' || i >= maxlen)
      return 0;
  return 1;
}

/* ---- error codes -------------------------------------------------------- */

/* Twilio error codes we name for staff. 'ours' replaces "twilio_<code>"
 * where the gateway acts on the cause. Meanings: providers.md §3.7, §3.8,
 * §3.10; the 3000x delivery codes from Twilio's error dictionary
 * (twilio.com/docs/api/errors/<code>). */
static const struct tw_error {
  long code;
  const char *ours;
  const char *meaning;
} tw_errors[] = {
    {20003, NULL,
     "Twilio refused the credentials (check [twilio] account_sid and "
     "auth_token, or api_key_sid and api_key_secret)"},
    {20429, NULL, "too many requests at once to Twilio's API"},
    {21211, NULL, "'To' is not a valid phone number"},
    {21610, "opted_out",
     "the recipient has opted out (replied STOP); Twilio sends nothing to "
     "them until they reply START"},
    {21614, NULL, "'To' is a landline or cannot receive SMS"},
    {11751, "media_too_large",
     "the media exceeds the provider's size limit (5 MB for MMS)"},
    {30019, "media_too_large", "the media is larger than the carrier accepts"},
    {63034, "media_too_large", "the media exceeds the size limit (5 MB)"},
    {30003, NULL,
     "the handset is unreachable (switched off or out of coverage)"},
    {30004, NULL, "the message was blocked"},
    {30005, NULL,
     "the number is unknown to its carrier (no longer in service?)"},
    {30006, NULL, "the number is a landline or its carrier is unreachable"},
    {30007, NULL, "a carrier filtered the message"},
    {30008, NULL, "an unknown error at the carrier"},
};

static const struct tw_error *tw_error_find(long code)
{
  for (size_t i = 0; i < sizeof tw_errors / sizeof tw_errors[0]; i++)
    if (tw_errors[i].code == code)
      return &tw_errors[i];
  return NULL;
}

/* error_code for a Twilio error code: ours where the gateway acts on it. */
static void tw_error_code(long code, char *out, size_t n)
{
  const struct tw_error *e = tw_error_find(code);
  if (e && e->ours)
    snprintf(out, n, "%s", e->ours);
  else
    snprintf(out, n, "twilio_%ld", code);
}

/* ---- configuration ------------------------------------------------------ */

/* [twilio]: owned by struct config (config_init, config_release). */
struct twilio_settings {
  char *account_sid;
  char *auth_token;  /* signs webhooks; API auth unless a key is set */
  char *api_key_sid; /* optional: API key for the REST API */
  char *api_key_secret;
  char *base_url;
  char *media_hosts; /* inbound media may come from these */
  int delete_media;  /* delete inbound media at Twilio once stored */
  int mms_max_bytes;
  int answers_keywords; /* replies to STOP, START, HELP itself */
  int redact_after;     /* seconds after a final status; 0: never */
};

#define CONFIG_KEYS_OF struct twilio_settings
static const struct config_key tw_keys[] = {
    S("twilio", "account_sid", account_sid, "", "Account SID (AC...)."),
    SECRET("twilio", "auth_token", auth_token, "",
           "Auth token: checks X-Twilio-Signature, and authenticates API\n"
           "calls unless an API key is set. Or auth_token_file."),
    S("twilio", "api_key_sid", api_key_sid, "",
      "Optional API key (SK...) for the REST API and media."),
    SECRET("twilio", "api_key_secret", api_key_secret, "",
           "The API key's secret. Or api_key_secret_file."),
    S("twilio", "base_url", base_url, "https://api.twilio.com",
      "Where the REST API lives (tests point it at a local fake)."),
    S("twilio", "media_hosts", media_hosts,
      "api.twilio.com .twiliocdn.com .twilio.com",
      "Hosts inbound media may be fetched from (a leading dot allows\n"
      "subdomains), redirects included."),
    B("twilio", "delete_media", delete_media, "true",
      "Delete each inbound media item at Twilio once it is stored here, so\n"
      "patients' photos do not stay with a US provider."),
    I("twilio", "mms_max_bytes", mms_max_bytes, "5000000", 10000, 5000000,
      "Largest MMS to send, in bytes (Twilio's limit is 5 MB)."),
    B("twilio", "answers_keywords", answers_keywords, "true",
      "Twilio answers STOP, START and HELP itself (its default opt-out\n"
      "handling and Advanced Opt-Out), so lyrebird sends no second\n"
      "confirmation. Set false only if the number's opt-out replies are off."),
    I("twilio", "redact_after", redact_after, "0", 0, 31536000,
      "Seconds after a message reaches a final status to redact its body\n"
      "at Twilio (Twilio keeps message bodies until told); 0: never. The\n"
      "clinic's own copy is kept here either way."),
};

static void tw_check(const void *settings, const struct config *cfg,
                     struct config_errors *errs)
{
  const struct twilio_settings *c = settings;
  if (strncmp(c->account_sid, "AC", 2) != 0 || strlen(c->account_sid) != 34)
    config_errors_add(errs, 0, "[twilio] account_sid",
                      "set the Account SID: AC followed by 32 characters, "
                      "from the Twilio console");
  if (!c->auth_token[0])
    config_errors_add(errs, 0, "[twilio] auth_token",
                      "set the auth token (or auth_token_file): it checks the "
                      "signature of every webhook");
  if (c->api_key_sid[0] && !c->api_key_secret[0])
    config_errors_add(
        errs, 0, "[twilio] api_key_secret",
        "set the secret of API key %s, or leave api_key_sid empty",
        c->api_key_sid);
  if (!cfg->public_url[0])
    config_errors_add(errs, 0, "[server] public_url",
                      "set the exact URL Twilio reaches this server by (e.g. "
                      "https://sms.clinic.example): Twilio signs each webhook "
                      "with it");
  if (!url_is_http(c->base_url))
    config_errors_add(errs, 0, "[twilio] base_url",
                      "'%s' is not an http(s) URL", c->base_url);
}

/* ---- init --------------------------------------------------------------- */

static void tw_free(struct tw_priv *t)
{
  if (!t)
    return;
  free(t->hosts);
  free(t->hosts_text);
  sodium_memzero(t, sizeof *t);
  free(t);
}

/* media_hosts: see netaddr_hosts_split(). */
static int split_hosts(struct tw_priv *t, const char *text)
{
  return netaddr_hosts_split(text, &t->hosts_text, &t->hosts);
}

static enum lb_err tw_init(struct provider *p, const struct config *cfg)
{
  const struct twilio_settings *c = provider_settings(cfg, p->ops);
  struct tw_priv *t;
  const char *user, *secret;
  size_t len;
  int rc;

  if (!c)
    return LB_ECONFIG;
  if (!(t = calloc(1, sizeof *t)))
    return LB_ENOMEM;
  if (str_copy_whole(t->account_sid, sizeof t->account_sid, c->account_sid) ||
      str_copy_whole(t->auth_token, sizeof t->auth_token, c->auth_token) ||
      str_copy_whole(t->base_url, sizeof t->base_url,
                     c->base_url && *c->base_url ? c->base_url
                                                 : "https://" TW_HOST) ||
      str_copy_whole(t->region, sizeof t->region, cfg->region)) {
    rc = LB_ECONFIG;
    goto fail;
  }
  len = strlen(t->base_url);
  while (len && t->base_url[len - 1] == '/')
    t->base_url[--len] = '\0';
  if (url_origin(t->base_url, t->base_scheme, sizeof t->base_scheme,
                 t->base_host, sizeof t->base_host, t->base_port,
                 sizeof t->base_port)) {
    rc = LB_ECONFIG; /* [twilio] base_url is not an http(s) URL */
    goto fail;
  }
  /* An API key, when set, is used for the REST API and media; the auth
   * token always checks webhooks (Twilio signs them with it). */
  if (c->api_key_sid && *c->api_key_sid) {
    user = c->api_key_sid;
    secret = c->api_key_secret;
  } else {
    user = c->account_sid;
    secret = c->auth_token;
  }
  if (user && *user && secret && *secret &&
      (size_t)snprintf(t->userpwd, sizeof t->userpwd, "%s:%s", user, secret) >=
          sizeof t->userpwd) {
    rc = LB_ECONFIG;
    goto fail;
  }
  if ((rc = split_hosts(t, c->media_hosts)))
    goto fail;
  t->delete_media = c->delete_media;
  p->priv = t;
  p->caps = (struct provider_caps){
      .sms_out = 1,
      .sms_in = 1,
      .mms_out = 1,
      .mms_in = 1,
      .mms_max_bytes = c->mms_max_bytes,
      .max_media = LB_MEDIA_MAX,
      .subject_max = 0,
      .dedupes_by_ref = 0,
      .answers_keywords = c->answers_keywords,
      .redact_after_s = c->redact_after,
      .rate_per_s = TW_RATE_PER_S,
      .mms_types = tw_mms_types,
      .media_hosts = (const char *const *)t->hosts,
      .media_userpwd = t->userpwd[0] ? t->userpwd : NULL,
  };
  return LB_OK;
fail:
  tw_free(t);
  return rc;
}

static void tw_release(struct provider *p)
{
  tw_free(p->priv);
  p->priv = NULL;
}

/* The REST API needs an account and credentials. */
static int api_ready(const struct tw_priv *t)
{
  return sid_ok(t->account_sid, strlen(t->account_sid), "AC") && t->userpwd[0];
}

/* ---- build_send / parse_send -------------------------------------------- */

/* The status callback: lyrebird's URL with our message id as 'ref', so a
 * receipt is matched even when the send's answer was lost (no SID). */
static enum lb_err status_callback(struct buf *out, const char *status_url,
                                   const char *ref)
{
  char *esc;
  int rc;
  if ((rc = buf_puts(out, status_url)))
    return rc;
  if (!ref || !*ref)
    return LB_OK;
  if (!(esc = curl_easy_escape(NULL, ref, 0)))
    return LB_ENOMEM;
  rc = buf_printf(out, "%sref=%s", strchr(status_url, '?') ? "&" : "?", esc);
  curl_free(esc);
  return rc;
}

static enum lb_err tw_build_send(const struct provider *p,
                                 const struct send_input *in,
                                 struct wire_request *req)
{
  const struct tw_priv *t = p->priv;
  const struct message *m = in->msg;
  struct buf cb;
  int rc;

  if (!api_ready(t))
    return LB_ECONFIG;
  if (!m->from[0] || !m->to[0])
    return LB_EINVAL;
  if (in->n_media > LB_MEDIA_MAX)
    return LB_ETOOBIG;
  for (size_t i = 0; i < in->n_media; i++)
    if (!in->media[i].url || !in->media[i].url[0])
      return LB_EINVAL; /* Twilio fetches media itself: it needs a URL */
  req->method = "POST";
  if ((size_t)snprintf(req->url, sizeof req->url,
                       "%s" TW_API "%s/Messages.json", t->base_url,
                       t->account_sid) >= sizeof req->url)
    return LB_ETOOBIG;
  if ((rc = wire_request_header(req, "Content-Type",
                                "application/x-www-form-urlencoded")) ||
      (rc = wire_request_header(req, "Accept", "application/json")) ||
      (rc = str_copy_whole(req->userpwd, sizeof req->userpwd, t->userpwd)))
    return rc;
  if ((rc = wire_form_add(&req->body, "To", m->to)) ||
      (rc = wire_form_add(&req->body, "From", m->from)) ||
      (rc = wire_form_add(&req->body, "Body", m->text ? m->text : "")))
    return rc;
  for (size_t i = 0; i < in->n_media; i++)
    if ((rc = wire_form_add(&req->body, "MediaUrl", in->media[i].url)))
      return rc;
  if (in->status_url && in->status_url[0]) {
    buf_init(&cb, LB_URL_MAX);
    rc = status_callback(&cb, in->status_url, m->id);
    if (!rc)
      rc = wire_form_add(&req->body, "StatusCallback", cb.data);
    buf_release(&cb);
    if (rc)
      return rc;
  }
  return LB_OK;
}

/* Twilio's error body: {"code": 21614, "message": "...", "more_info": "...",
 * "status": 400}. *code is 0 when there is none. */
static void read_error(const struct wire_response *res, long *code, char *msg,
                       size_t n)
{
  json_t *o =
      json_loadb(res->body.data ? res->body.data : "", res->body.len, 0, NULL);
  json_t *c = json_object_get(o, "code"), *mv = json_object_get(o, "message");
  *code = 0;
  msg[0] = '\0';
  if (json_is_integer(c) && json_integer_value(c) > 0)
    *code = (long)json_integer_value(c);
  else if (json_is_string(c) && all_digits(json_string_value(c), 9))
    *code = strtol(json_string_value(c), NULL, 10);
  if (json_is_string(mv))
    str_copy(msg, n, json_string_value(mv));
  json_decref(o);
}

static void describe(struct send_result *out, const char *lead, long status,
                     long code, const char *msg)
{
  const struct tw_error *e = tw_error_find(code);
  char head[200];
  if (code && e)
    snprintf(head, sizeof head, "Twilio error %ld: %s", code, e->meaning);
  else if (code)
    snprintf(head, sizeof head, "%s (Twilio error %ld)", lead, code);
  else
    snprintf(head, sizeof head, "%s (HTTP %ld)", lead, status);
  if (msg[0])
    snprintf(out->error_text, sizeof out->error_text, "%s. Twilio: %s", head,
             msg);
  else
    snprintf(out->error_text, sizeof out->error_text, "%s", head);
}

static enum lb_err tw_parse_send(const struct provider *p,
                                 const struct wire_response *res,
                                 struct send_result *out)
{
  char msg[300];
  long code;

  /* Twilio has no idempotency key: after a request that may have
   * arrived, only a receipt can say whether it went. */
  if (send_result_begin(res, "Twilio", out))
    return LB_OK;
  if (res->status >= 200 && res->status < 300) {
    json_t *o = json_loadb(res->body.data ? res->body.data : "", res->body.len,
                           0, NULL);
    json_t *sid = json_object_get(o, "sid");
    if (json_is_string(sid) && json_string_length(sid) > 0 &&
        json_string_length(sid) < sizeof out->provider_msg_id) {
      out->outcome = SEND_ACCEPTED;
      memcpy(out->provider_msg_id, json_string_value(sid),
             json_string_length(sid) + 1);
    } else {
      /* It answered yes but we cannot read the SID: it probably went. */
      out->outcome = SEND_UNKNOWN;
      snprintf(out->error_code, sizeof out->error_code, "bad_response");
      snprintf(out->error_text, sizeof out->error_text,
               "Twilio answered HTTP %ld but its answer had no message SID",
               res->status);
    }
    json_decref(o);
    return LB_OK;
  }
  read_error(res, &code, msg, sizeof msg);
  if (res->status == 429 || code == 20429) {
    out->outcome = SEND_RETRY;
    snprintf(out->error_code, sizeof out->error_code, "rate_limited");
    describe(out, "Twilio is limiting requests", res->status, code, msg);
    return LB_OK;
  }
  if (res->status >= 500 || res->status == 408) {
    out->outcome = SEND_RETRY;
    if (code)
      tw_error_code(code, out->error_code, sizeof out->error_code);
    else
      snprintf(out->error_code, sizeof out->error_code, "http_%ld",
               res->status);
    describe(out, "Twilio could not take the message now", res->status, code,
             msg);
    return LB_OK;
  }
  out->outcome = SEND_FINAL;
  out->recipient = code == 21610                    ? RECIPIENT_OPTED_OUT
                   : code == 21211 || code == 21614 ? RECIPIENT_REFUSED
                                                    : RECIPIENT_OK;
  if (!code && res->status == 401)
    code = 20003;
  if (code)
    tw_error_code(code, out->error_code, sizeof out->error_code);
  else
    snprintf(out->error_code, sizeof out->error_code, "http_%ld", res->status);
  describe(out, "Twilio refused the message", res->status, code, msg);
  return LB_OK;
}

/* ---- verify_hook -------------------------------------------------------- */

static int param_cmp(const void *a, const void *b)
{
  const struct wire_param *x = *(const struct wire_param *const *)a;
  const struct wire_param *y = *(const struct wire_param *const *)b;
  int c = strcmp(x->name ? x->name : "", y->name ? y->name : "");
  return c ? c : strcmp(x->value ? x->value : "", y->value ? y->value : "");
}

enum lb_err twilio_signature(const char *token, const char *url,
                             const struct wire_param *params, size_t n,
                             char out[TWILIO_SIGNATURE_SIZE])
{
  const struct wire_param **sorted = NULL;
  struct crypto_part *parts;
  unsigned char mac[LB_SHA1_LEN];
  size_t np = 0;
  int rc;

  if (!token || !url || (n && !params))
    return LB_EINVAL;
  parts = malloc((1 + 2 * n) * sizeof *parts);
  sorted = n ? malloc(n * sizeof *sorted) : NULL;
  if (!parts || (n && !sorted)) {
    free(parts);
    free(sorted);
    return LB_ENOMEM;
  }
  /* strcmp orders by unsigned bytes: UTF-8 byte order is code point
   * order. Sorting (name, value) pairs and skipping repeated pairs gives
   * each name's distinct values in order. */
  for (size_t i = 0; i < n; i++)
    sorted[i] = &params[i];
  if (n)
    qsort(sorted, n, sizeof *sorted, param_cmp);
  parts[np++] = (struct crypto_part){url, strlen(url)};
  for (size_t i = 0; i < n; i++) {
    const char *name = sorted[i]->name ? sorted[i]->name : "";
    const char *value = sorted[i]->value ? sorted[i]->value : "";
    if (i && param_cmp(&sorted[i], &sorted[i - 1]) == 0)
      continue;
    parts[np++] = (struct crypto_part){name, strlen(name)};
    parts[np++] = (struct crypto_part){value, strlen(value)};
  }
  rc = crypto_hmac_sha1_parts(token, strlen(token), parts, np, mac);
  if (!rc)
    sodium_bin2base64(out, TWILIO_SIGNATURE_SIZE, mac, sizeof mac,
                      sodium_base64_VARIANT_ORIGINAL);
  free(parts);
  free(sorted);
  return rc;
}

static int sig_matches(const char *token, const char *url,
                       const struct wire_param *params, size_t n,
                       const char *header)
{
  char want[TWILIO_SIGNATURE_SIZE];
  if (twilio_signature(token, url, params, n, want))
    return 0;
  return crypto_streq(want, header);
}

/* Twilio may sign the URL with or without the port (SDKs accept either):
 * checks 'url' as it is, without its port if it has one, and with the
 * scheme's default port if it has none. libcurl finds the port; the URL is
 * otherwise kept byte for byte, as the signature covers it. */
static int url_signature_ok(const char *token, const char *url,
                            const struct wire_param *params, size_t n,
                            const char *header)
{
  char scheme[16], port[8];
  const char *auth, *sep;
  size_t auth_end, plen;
  struct buf alt;
  int ok = sig_matches(token, url, params, n, header);

  if (ok || !(sep = strstr(url, "://")))
    return ok;
  auth = sep + 3;
  auth_end = (size_t)(auth - url) + strcspn(auth, "/?#");
  buf_init(&alt, TW_SIGNED_URL_MAX + 16);
  if (url_get(url, URL_SCHEME, scheme, sizeof scheme))
    goto out;
  if (url_get(url, URL_PORT, port, sizeof port) == LB_OK) {
    /* Without the port: drop ":<port>" at the end of the authority. */
    plen = strlen(port);
    if (auth_end > plen && url[auth_end - plen - 1] == ':' &&
        memcmp(url + auth_end - plen, port, plen) == 0 &&
        !buf_append(&alt, url, auth_end - plen - 1) &&
        !buf_puts(&alt, url + auth_end))
      ok = sig_matches(token, alt.data, params, n, header);
  } else if (strcmp(scheme, "https") == 0 || strcmp(scheme, "http") == 0) {
    /* With the default port. */
    if (!buf_append(&alt, url, auth_end) &&
        !buf_puts(&alt, strcmp(scheme, "https") == 0 ? ":443" : ":80") &&
        !buf_puts(&alt, url + auth_end))
      ok = sig_matches(token, alt.data, params, n, header);
  }
out:
  buf_release(&alt);
  return ok;
}

/* A JSON body is covered through the URL's bodySHA256 (hex SHA-256). */
static int body_hash_ok(const struct hook_request *req)
{
  const char *h = hook_param(req, "bodySHA256");
  char want[LB_SHA256_HEX], got[LB_SHA256_HEX];
  if (!h && req->query)
    h = req->query(req->ctx, "bodySHA256");
  if (!h || strlen(h) != LB_SHA256_HEX - 1)
    return 0;
  for (size_t i = 0; i < LB_SHA256_HEX; i++)
    got[i] = (char)(h[i] >= 'A' && h[i] <= 'F' ? h[i] - 'A' + 'a' : h[i]);
  crypto_sha256_hex(req->body ? req->body : "", req->body_len, want);
  return crypto_streq(want, got);
}

static enum lb_err tw_verify_hook(const struct provider *p,
                                  const struct hook_request *req)
{
  const struct tw_priv *t = p->priv;
  const char *sig = req->header(req->ctx, "X-Twilio-Signature");
  int form =
      wire_ctype_is(req->content_type, "application/x-www-form-urlencoded");
  int json = !form && wire_ctype_is(req->content_type, "application/json");
  struct buf url;
  int ok = 0;

  if (!sig || !*sig || !t->auth_token[0])
    return LB_EAUTH;
  /* The signature covers the URL Twilio was given: lyrebird's configured
   * public URL, the path and the query exactly as requested. */
  if (!req->public_url || !*req->public_url || !req->path ||
      !req->query_string || strlen(sig) != TWILIO_SIGNATURE_SIZE - 1)
    return LB_ESIGNATURE;
  /* A body the signature does not cover is refused. */
  if (req->body_len && !form && !json)
    return LB_ESIGNATURE;
  buf_init(&url, TW_SIGNED_URL_MAX);
  if (!buf_puts(&url, req->public_url) && !buf_puts(&url, req->path) &&
      (!req->query_string[0] ||
       (!buf_puts(&url, "?") && !buf_puts(&url, req->query_string))))
    ok = url_signature_ok(t->auth_token, url.data, form ? req->params : NULL,
                          form ? req->n_params : 0, sig);
  buf_release(&url);
  if (ok && json)
    ok = body_hash_ok(req);
  return ok ? LB_OK : LB_ESIGNATURE;
}

/* ---- parse_inbound / parse_status --------------------------------------- */

/* The value of a field that must not be ambiguous: repeats are allowed only
 * with the same value. *out is NULL when absent. */
static enum lb_err one_param(const struct hook_request *req, const char *name,
                             const char **out, char *why, size_t whylen)
{
  *out = NULL;
  for (size_t i = 0; i < req->n_params; i++) {
    const char *v = req->params[i].value ? req->params[i].value : "";
    if (!req->params[i].name || strcmp(req->params[i].name, name) != 0)
      continue;
    if (*out && strcmp(*out, v) != 0) {
      snprintf(why, whylen, "'%s' appears twice with different values", name);
      return LB_EINVAL;
    }
    *out = v;
  }
  return LB_OK;
}

static enum lb_err copy_param(const struct hook_request *req, const char *name,
                              char *dst, size_t n, int required, char *why,
                              size_t whylen)
{
  const char *v;
  int rc = one_param(req, name, &v, why, whylen);
  dst[0] = '\0';
  if (rc)
    return rc;
  if (!v || !*v) {
    if (!required)
      return LB_OK;
    snprintf(why, whylen, "'%s' is required", name);
    return LB_EINVAL;
  }
  if (str_copy_whole(dst, n, v)) {
    snprintf(why, whylen, "'%s' must be under %zu bytes", name, n);
    return LB_EINVAL;
  }
  return LB_OK;
}

/* From and To: E.164 as Twilio sends them; other forms through
 * libphonenumber with [clinic] region. */
static enum lb_err number_param(const struct tw_priv *t,
                                const struct hook_request *req,
                                const char *name, char out[LB_E164_SIZE],
                                char *why, size_t whylen)
{
  char msg[200];
  const char *v;
  int rc = one_param(req, name, &v, why, whylen);
  if (rc)
    return rc;
  if (!v || !*v) {
    snprintf(why, whylen, "'%s' is required", name);
    return LB_EINVAL;
  }
  if (phone_is_e164(v)) {
    snprintf(out, LB_E164_SIZE, "%s", v);
    return LB_OK;
  }
  if (phone_parse(v, t->region, out, msg, sizeof msg)) {
    snprintf(why, whylen, "'%s' is not a phone number: %s", name, msg);
    return LB_EINVAL;
  }
  return LB_OK;
}

/* N in "<prefix><N>" (digits only) into *k: LB_OK, or LB_ENOTFOUND when
 * name is not of that form. */
static enum lb_err indexed(const char *name, const char *prefix, long *k)
{
  size_t n = strlen(prefix);
  if (!name || strncmp(name, prefix, n) != 0 || !all_digits(name + n, 4))
    return LB_ENOTFOUND;
  *k = strtol(name + n, NULL, 10);
  return LB_OK;
}

static int http_url(const char *url)
{
  char s[16], h[256], port[8];
  return url_origin(url, s, sizeof s, h, sizeof h, port, sizeof port) == LB_OK;
}

static enum lb_err tw_parse_inbound(const struct provider *p,
                                    const struct hook_request *req,
                                    struct inbound_msg *out, char *why,
                                    size_t whylen)
{
  const struct tw_priv *t = p->priv;
  const char *body, *num;
  long n_media = 0;
  int rc;

  if ((rc = copy_param(req, "MessageSid", out->provider_msg_id,
                       sizeof out->provider_msg_id, 1, why, whylen)) ||
      (rc = number_param(t, req, "From", out->from, why, whylen)) ||
      (rc = number_param(t, req, "To", out->to, why, whylen)) ||
      (rc = one_param(req, "Body", &body, why, whylen)) ||
      (rc = one_param(req, "NumMedia", &num, why, whylen)))
    return rc;
  if (num && *num) {
    if (!all_digits(num, 6)) {
      snprintf(why, whylen, "'NumMedia' must be a number, not '%.40s'", num);
      return LB_EINVAL;
    }
    n_media = strtol(num, NULL, 10);
    if (n_media > LB_MEDIA_MAX) {
      snprintf(why, whylen, "'NumMedia' is %ld; at most %d media items",
               n_media, LB_MEDIA_MAX);
      return LB_ETOOBIG;
    }
  }
  /* Every MediaUrl<N> and MediaContentType<N> must be one NumMedia counts. */
  for (size_t i = 0; i < req->n_params; i++) {
    const char *name = req->params[i].name;
    long k;
    if ((indexed(name, "MediaUrl", &k) == LB_OK ||
         indexed(name, "MediaContentType", &k) == LB_OK) &&
        k >= n_media) {
      snprintf(why, whylen,
               "'%s' is present but 'NumMedia' is %ld (media are numbered "
               "from 0)",
               req->params[i].name, n_media);
      return LB_EINVAL;
    }
  }
  if (!(out->text = strdup(body ? body : "")))
    return LB_ENOMEM;
  for (long k = 0; k < n_media; k++) {
    struct inbound_media *im = &out->media[out->n_media];
    char uname[48], tname[48];
    const char *url, *ct;
    snprintf(uname, sizeof uname, "MediaUrl%ld", k);
    snprintf(tname, sizeof tname, "MediaContentType%ld", k);
    if ((rc = one_param(req, uname, &url, why, whylen)) ||
        (rc = one_param(req, tname, &ct, why, whylen)))
      return rc;
    if (!url || !*url) {
      snprintf(why, whylen, "'NumMedia' is %ld but '%s' is missing", n_media,
               uname);
      return LB_EINVAL;
    }
    if (strlen(url) >= TW_MEDIA_URL_MAX || !http_url(url)) {
      snprintf(why, whylen, "'%s' is not an http(s) URL under %d bytes", uname,
               TW_MEDIA_URL_MAX);
      return LB_EINVAL;
    }
    if (ct && str_copy_whole(im->content_type, sizeof im->content_type, ct)) {
      snprintf(why, whylen, "'%s' must be under %d bytes", tname, LB_CTYPE_MAX);
      return LB_EINVAL;
    }
    /* Fetched later by the gateway (caps.media_hosts, media_userpwd). */
    if (!(im->url = strdup(url)))
      return LB_ENOMEM;
    out->n_media++;
  }
  return LB_OK;
}

/* Twilio's message statuses (providers.md §3.2) as ours. Twilio's queued,
 * accepted, scheduled and sending all mean it has the message: our sent. */
static const struct {
  const char *name;
  enum msg_status status;
} tw_statuses[] = {
    {"accepted", ST_SENT},
    {"scheduled", ST_SENT},
    {"queued", ST_SENT},
    {"sending", ST_SENT},
    {"sent", ST_SENT},
    /* Not documented further; claims nothing final. */
    {"partially_delivered", ST_SENT},
    {"delivered", ST_DELIVERED},
    {"read", ST_DELIVERED},
    {"undelivered", ST_UNDELIVERED},
    {"failed", ST_FAILED},
    {"canceled", ST_FAILED},
};

static enum lb_err tw_parse_status(const struct provider *p,
                                   const struct hook_request *req,
                                   struct status_update *out, char *why,
                                   size_t whylen)
{
  const char *status, *code, *msg, *ref;
  const struct tw_error *e;
  size_t i;
  int rc;

  memset(out, 0, sizeof *out);
  if ((rc = copy_param(req, "MessageSid", out->provider_msg_id,
                       sizeof out->provider_msg_id, 1, why, whylen)) ||
      (rc = one_param(req, "MessageStatus", &status, why, whylen)) ||
      (rc = one_param(req, "ErrorCode", &code, why, whylen)) ||
      (rc = one_param(req, "ErrorMessage", &msg, why, whylen)))
    return rc;
  if (!status || !*status) {
    snprintf(why, whylen, "'MessageStatus' is required");
    return LB_EINVAL;
  }
  for (i = 0; i < sizeof tw_statuses / sizeof tw_statuses[0]; i++)
    if (strcmp(status, tw_statuses[i].name) == 0)
      break;
  if (i == sizeof tw_statuses / sizeof tw_statuses[0]) {
    if (strcmp(status, "received") == 0 || strcmp(status, "receiving") == 0)
      snprintf(why, whylen,
               "'MessageStatus' '%s' is the status of an inbound message, "
               "not of one lyrebird sent",
               status);
    else
      snprintf(why, whylen,
               "'MessageStatus' '%.40s' is not a Twilio status lyrebird knows "
               "(queued, sending, sent, delivered, undelivered, failed, read, "
               "accepted, scheduled, canceled, ...)",
               status);
    return LB_EINVAL;
  }
  out->status = tw_statuses[i].status;
  /* Our id, from the StatusCallback URL build_send made. */
  ref = req->query ? req->query(req->ctx, "ref") : NULL;
  if (ref && str_copy_whole(out->ref, sizeof out->ref, ref)) {
    snprintf(why, whylen, "'ref' must be under %zu bytes", sizeof out->ref);
    return LB_EINVAL;
  }
  if (code && *code && strcmp(code, "0") != 0) {
    long c;
    if (!all_digits(code, 9)) {
      snprintf(why, whylen, "'ErrorCode' must be a number, not '%.40s'", code);
      return LB_EINVAL;
    }
    c = strtol(code, NULL, 10);
    tw_error_code(c, out->error_code, sizeof out->error_code);
    e = tw_error_find(c);
    if (msg && *msg && e)
      snprintf(out->error_text, sizeof out->error_text, "%s. Twilio: %s",
               e->meaning, msg);
    else if (msg && *msg)
      str_copy(out->error_text, sizeof out->error_text, msg);
    else if (e)
      snprintf(out->error_text, sizeof out->error_text, "%s", e->meaning);
    else
      snprintf(out->error_text, sizeof out->error_text, "Twilio error %ld", c);
  } else if (msg && *msg) {
    str_copy(out->error_text, sizeof out->error_text, msg);
  } else if (strcmp(status, "canceled") == 0) {
    snprintf(out->error_code, sizeof out->error_code, "canceled");
    snprintf(out->error_text, sizeof out->error_text,
             "the message was canceled at Twilio before it was sent");
  }
  return LB_OK;
}

/* ---- provider check ----------------------------------------------------- */

static enum lb_err tw_build_check(const struct provider *p,
                                  struct wire_request *req)
{
  const struct tw_priv *t = p->priv;
  int rc;
  if (!api_ready(t))
    return LB_ECONFIG;
  req->method = "GET";
  if ((size_t)snprintf(req->url, sizeof req->url, "%s" TW_API "%s.json",
                       t->base_url, t->account_sid) >= sizeof req->url)
    return LB_ETOOBIG;
  if ((rc = wire_request_header(req, "Accept", "application/json")))
    return rc;
  return str_copy_whole(req->userpwd, sizeof req->userpwd, t->userpwd);
}

static enum lb_err tw_parse_check(const struct provider *p,
                                  const struct wire_response *res, char *out,
                                  size_t n)
{
  const struct tw_priv *t = p->priv;
  char msg[300];
  long code;

  if (res->error || res->status < 100) {
    snprintf(out, n, "could not reach Twilio at %s: %s", t->base_url,
             res->error_text[0] ? res->error_text : lb_strerror(res->error));
    return LB_EPROVIDER;
  }
  if (res->status >= 200 && res->status < 300) {
    json_t *o = json_loadb(res->body.data ? res->body.data : "", res->body.len,
                           0, NULL);
    const char *name = NULL, *status = NULL;
    int rc = LB_EPROVIDER;
    if (o && json_unpack(o, "{s:s, s:s}", "friendly_name", &name, "status",
                         &status) == 0) {
      if (strcmp(status, "active") == 0) {
        snprintf(out, n, "account %s: %s", name, status);
        rc = LB_OK;
      } else {
        snprintf(out, n,
                 "account %s: %s (Twilio sends nothing from an account "
                 "that is not active)",
                 name, status);
      }
    } else {
      snprintf(out, n,
               "Twilio answered HTTP %ld without the account's friendly_name "
               "and status",
               res->status);
    }
    json_decref(o);
    return rc;
  }
  read_error(res, &code, msg, sizeof msg);
  if (res->status == 401 || code == 20003) {
    snprintf(out, n,
             "Twilio refused the credentials (HTTP %ld%s): %s. Check "
             "[twilio] account_sid and auth_token, or api_key_sid and "
             "api_key_secret",
             res->status, code == 20003 ? ", error 20003" : "",
             msg[0] ? msg : "no reason given");
    return LB_EAUTH;
  }
  if (code)
    snprintf(out, n, "Twilio answered HTTP %ld, error %ld: %s", res->status,
             code, msg[0] ? msg : "no reason given");
  else
    snprintf(out, n, "Twilio answered HTTP %ld%s%s", res->status,
             msg[0] ? ": " : "", msg);
  return LB_EPROVIDER;
}

/* ---- media deletion ----------------------------------------------------- */

/* "/2010-04-01/Accounts/<AC>/Messages/<MM|SM>/Media/<ME>[.ext]" with our
 * account: writes the Media instance's JSON path. */
static enum lb_err media_path(const struct tw_priv *t, const char *path,
                              char *out, size_t n)
{
  const char *ac, *msg, *me, *end;
  size_t aclen, msglen, melen;

  if (strncmp(path, TW_API, strlen(TW_API)) != 0)
    return LB_ENOTFOUND;
  ac = path + strlen(TW_API);
  aclen = strcspn(ac, "/");
  if (aclen != strlen(t->account_sid) ||
      strncmp(ac, t->account_sid, aclen) != 0 ||
      strncmp(ac + aclen, "/Messages/", 10) != 0)
    return LB_ENOTFOUND;
  msg = ac + aclen + 10;
  msglen = strcspn(msg, "/");
  if ((!sid_ok(msg, msglen, "MM") && !sid_ok(msg, msglen, "SM")) ||
      strncmp(msg + msglen, "/Media/", 7) != 0)
    return LB_ENOTFOUND;
  me = msg + msglen + 7;
  melen = strcspn(me, "./");
  if (!sid_ok(me, melen, "ME"))
    return LB_ENOTFOUND;
  end = me + melen;
  if (*end == '.') /* an extension: ".json", ".jpg", ... */
    for (end++; is_alnum((unsigned char)*end); end++)
      ;
  if (*end)
    return LB_ENOTFOUND;
  if ((size_t)snprintf(out, n, TW_API "%.*s/Messages/%.*s/Media/%.*s.json",
                       (int)aclen, ac, (int)msglen, msg, (int)melen, me) >= n)
    return LB_ETOOBIG;
  return LB_OK;
}

static enum lb_err tw_build_media_delete(const struct provider *p,
                                         const char *media_url,
                                         struct wire_request *req)
{
  const struct tw_priv *t = p->priv;
  char scheme[16], host[256], port[8], path[512];
  char rawpath[TW_MEDIA_URL_MAX]; /* inbound media URLs are shorter */
  int rc;

  if (!t->delete_media || !media_url)
    return LB_ENOTFOUND;
  if (url_origin(media_url, scheme, sizeof scheme, host, sizeof host, port,
                 sizeof port))
    return LB_ENOTFOUND;
  /* Only Twilio's API: the configured base URL's origin, or api.twilio.com
   * over https. */
  if (!(strcmp(scheme, t->base_scheme) == 0 &&
        strcasecmp(host, t->base_host) == 0 &&
        strcmp(port, t->base_port) == 0) &&
      !(strcmp(scheme, "https") == 0 && strcasecmp(host, TW_HOST) == 0 &&
        strcmp(port, "443") == 0))
    return LB_ENOTFOUND;
  if (!api_ready(t))
    return LB_ECONFIG;
  if ((rc = url_get(media_url, URL_PATH, rawpath, sizeof rawpath)))
    return rc == LB_ENOMEM ? LB_ENOMEM : LB_ENOTFOUND;
  if ((rc = media_path(t, rawpath, path, sizeof path)))
    return rc;
  /* The same origin, the instance's .json path, nothing else. */
  rc = url_with_path(media_url, path, req->url, sizeof req->url);
  if (rc == LB_EINVAL)
    return LB_ENOTFOUND;
  req->method = "DELETE";
  if (rc || (rc = wire_request_header(req, "Accept", "application/json")) ||
      (rc = str_copy_whole(req->userpwd, sizeof req->userpwd, t->userpwd)))
    return rc;
  return LB_OK;
}

/* Redacting a message's body at Twilio: an update of the Message resource
 * with an empty Body, which Twilio documents as the way to redact it. */
static enum lb_err tw_build_redact(const struct provider *p,
                                   const char *provider_msg_id,
                                   struct wire_request *req)
{
  const struct tw_priv *t = p->priv;
  size_t n = provider_msg_id ? strlen(provider_msg_id) : 0;
  enum lb_err rc;
  if (!api_ready(t))
    return LB_ECONFIG;
  if (n != 34 ||
      (strncmp(provider_msg_id, "SM", 2) != 0 &&
       strncmp(provider_msg_id, "MM", 2) != 0) ||
      strspn(provider_msg_id + 2, "0123456789abcdefABCDEF") != 32)
    return LB_EINVAL;
  req->method = "POST";
  if ((size_t)snprintf(req->url, sizeof req->url,
                       "%s" TW_API "%s/Messages/%s.json", t->base_url,
                       t->account_sid, provider_msg_id) >= sizeof req->url)
    return LB_ETOOBIG;
  if ((rc = wire_request_header(req, "Content-Type",
                                "application/x-www-form-urlencoded")) ||
      (rc = wire_request_header(req, "Accept", "application/json")) ||
      (rc = str_copy_whole(req->userpwd, sizeof req->userpwd, t->userpwd)) ||
      (rc = wire_form_add(&req->body, "Body", "")))
    return rc;
  return LB_OK;
}

const struct provider_ops provider_twilio = {
    .name = "twilio",
    .title = "Twilio",
    .keys = tw_keys,
    .n_keys = sizeof tw_keys / sizeof tw_keys[0],
    .settings_size = sizeof(struct twilio_settings),
    .check = tw_check,
    .init = tw_init,
    .release = tw_release,
    .build_send = tw_build_send,
    .parse_send = tw_parse_send,
    .verify_hook = tw_verify_hook,
    .parse_inbound = tw_parse_inbound,
    .parse_status = tw_parse_status,
    .hook_reply_type = "text/xml",
    .hook_reply_body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>",
    .build_check = tw_build_check,
    .parse_check = tw_parse_check,
    .build_media_delete = tw_build_media_delete,
    .build_redact = tw_build_redact,
};
