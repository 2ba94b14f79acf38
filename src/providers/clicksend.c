/* ClickSend's adapter ("clicksend"): REST v3. A pure translator: no
 * network, no database.
 *
 * Wire format (docs/providers/clicksend.md; providers.md §4):
 *   send:    POST <base>/v3/sms/send, JSON, Basic auth username:api_key
 *              {"messages":[{"source","body","to","from","custom_string"}]}
 *            POST <base>/v3/mms/send, JSON
 *              {"media_file":"<url>","messages":[{"source","subject","body",
 *               "to","from","custom_string"}]}  (one file per call)
 *            -> {"http_code","response_code","response_msg",
 *                "data":{"messages":[{"status","message_id",...}]}}
 *   hooks:   no signing: a shared secret ends each URL
 *            (/hooks/clicksend/inbound/<secret>, /status/<secret>).
 *            inbound (rule, webhook_type json/post/get): timestamp, from,
 *                     body, original_body, original_message_id, to,
 *                     custom_string, message_id (and legacy duplicates);
 *                     MMS media as a URL under a field name ClickSend does
 *                     not document (several likely names are accepted)
 *            status:  message_id, status_code, status_text, error_code,
 *                     error_text, custom_string, message_type, timestamp
 *   setup:   POST <base>/v3/automations/sms/inbound and .../receipts
 *   check:   GET <base>/v3/account
 * ClickSend has no idempotency key, so a send that timed out is never
 * resent blindly (dedupes_by_ref = 0); our id rides in custom_string and
 * comes back in receipts. */
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
#include "util/netaddr.h"
#include "util/url.h"
#include "util/utf8.h"

#define CS_MMS_MAX_BYTES 250000 /* "single attachment up to 250 kB" */
#define CS_SUBJECT_MAX 20       /* MMS subject, "max 20 chars" */
#define CS_SOURCE "lyrebird"    /* the 'source' field: our app's name */
/* Not published (providers.md §4.9): a conservative guess. */
#define CS_RATE_PER_S 5
#define CS_FIELD_MAX 256  /* ids, numbers, status words from hooks */
#define CS_URL_MAX 2048   /* an inbound media URL */
#define CS_REASON_MAX 300 /* the provider's words, as staff see them */
#define CS_KEYS_MAX 400   /* the list of unrecognised keys in 'why' */
#define CS_INBOUND_RULE "lyrebird inbound"
#define CS_RECEIPT_RULE "lyrebird receipts"

/* JPEG and GIF go as they are; PNG and the rest only through ClickSend's
 * converter, which lyrebird does not use: its own fit makes a JPEG. */
static const char *const cs_mms_types[] = {"image/jpeg", "image/gif", NULL};

struct cs_priv {
  char base_url[1024];
  char username[256];
  char userpwd[512];
  char secret[256];
  char number[LB_E164_SIZE];
  char region[16];
  char subject[CS_SUBJECT_MAX + 1];
  char *hosts_text;   /* [clicksend] media_hosts, split in place */
  const char **hosts; /* NULL-terminated, pointing into hosts_text */
};

/* ---- small helpers ------------------------------------------------------- */

static char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int valid_utf8(const char *s)
{
  return utf8_count(s, strlen(s), NULL) == LB_OK;
}

/* Copies the provider's words for staff: at most CS_REASON_MAX bytes, cut
 * at a UTF-8 boundary (str_copy), control characters made '?'. */
static void copy_reason(char *dst, size_t n, const char *src)
{
  char tmp[CS_REASON_MAX + 1];
  size_t k = 0;
  for (; src && src[k] && k < CS_REASON_MAX; k++) {
    unsigned char c = (unsigned char)src[k];
    tmp[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
  }
  tmp[k] = '\0';
  str_copy(dst, n, tmp);
}

/* Every occurrence of the webhook secret in s replaced by "<secret>", so
 * nothing the operator sees (or a log keeps) carries it. */
static void hide_secret(char *s, size_t n, const char *secret)
{
  size_t slen = strlen(secret);
  char *at;
  if (!slen)
    return;
  while ((at = strstr(s, secret))) {
    char rest[1024];
    str_copy(rest, sizeof rest, at + slen);
    *at = '\0';
    snprintf(at, n - (size_t)(at - s), "<secret>%s", rest);
  }
}

/* ---- configuration ------------------------------------------------------- */

/* [clicksend]: owned by struct config (config_init, config_release). */
struct clicksend_settings {
  char *username;
  char *api_key;
  char *base_url;
  char *webhook_secret;
  char *media_hosts;
  int answers_keywords; /* replies to STOP, START, HELP itself */
};

#define CONFIG_KEYS_OF struct clicksend_settings
static const struct config_key cs_keys[] = {
    S("clicksend", "username", username, "", "ClickSend username."),
    SECRET("clicksend", "api_key", api_key, "",
           "API key (Basic auth with the username). Or api_key_file."),
    S("clicksend", "base_url", base_url, "https://rest.clicksend.com",
      "Where the REST API lives (tests point it at a local fake)."),
    SECRET("clicksend", "webhook_secret", webhook_secret, "",
           "Secret at the end of the webhook URLs ClickSend calls (24+\n"
           "letters and digits); ClickSend does not sign webhooks."),
    S("clicksend", "media_hosts", media_hosts, ".clicksend.com",
      "Hosts inbound MMS media may be fetched from (a leading dot allows\n"
      "subdomains)."),
    B("clicksend", "answers_keywords", answers_keywords, "false",
      "ClickSend answers STOP, START and HELP itself, so lyrebird sends\n"
      "no confirmation of its own (not documented: see its page)."),
};

static void cs_check(const void *settings, const struct config *cfg,
                     struct config_errors *errs)
{
  const struct clicksend_settings *c = settings;
  if (!c->username[0] || !c->api_key[0])
    config_errors_add(errs, 0, "[clicksend] username",
                      "set username and api_key (or api_key_file) from the "
                      "ClickSend dashboard");
  if (strlen(c->webhook_secret) < 24 ||
      strspn(
          c->webhook_secret,
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
          strlen(c->webhook_secret))
    config_errors_add(errs, 0, "[clicksend] webhook_secret",
                      "set a secret of at least 24 letters and digits (e.g. "
                      "'openssl rand -hex 16'): it ends the webhook URLs, "
                      "since ClickSend does not sign its webhooks");
  if (!url_is_http(c->base_url))
    config_errors_add(errs, 0, "[clicksend] base_url",
                      "'%s' is not an http(s) URL", c->base_url);
}

/* ---- init ---------------------------------------------------------------- */

static void cs_free(struct cs_priv *c)
{
  if (!c)
    return;
  free(c->hosts);
  free(c->hosts_text);
  sodium_memzero(c, sizeof *c);
  free(c);
}

/* media_hosts: see netaddr_hosts_split(). */
static int split_hosts(struct cs_priv *c, const char *text)
{
  return netaddr_hosts_split(text, &c->hosts_text, &c->hosts);
}

/* The MMS subject: the clinic's name when it fits in CS_SUBJECT_MAX bytes
 * (so in as many characters, however ClickSend counts), else cut at the
 * last word that fits, else at a UTF-8 boundary; "Image" when there is no
 * usable name. Control characters become spaces. */
static void make_subject(const char *name, char out[CS_SUBJECT_MAX + 1])
{
  char tmp[CS_SUBJECT_MAX + 1];
  size_t n = 0, i = 0, len = strlen(name ? name : ""), k;
  int cut = 0;
  while (name && i < len) {
    k = utf8_next((const unsigned char *)name + i, len - i, NULL);
    if (!k)
      break; /* not UTF-8: keep what came before */
    if (n + k > CS_SUBJECT_MAX) {
      cut = 1;
      break;
    }
    for (size_t j = 0; j < k; j++) {
      unsigned char c = (unsigned char)name[i + j];
      tmp[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    i += k;
  }
  tmp[n] = '\0';
  if (cut && name[i] != ' ') {
    /* Mid-word: back to the last space, if a word remains before it. */
    char *sp = strrchr(tmp, ' ');
    if (sp && sp > tmp)
      *sp = '\0';
  }
  n = strlen(tmp);
  while (n && tmp[n - 1] == ' ')
    tmp[--n] = '\0';
  i = strspn(tmp, " ");
  snprintf(out, CS_SUBJECT_MAX + 1, "%s", tmp[i] ? tmp + i : "Image");
}

static enum lb_err cs_init(struct provider *p, const struct config *cfg)
{
  const struct clicksend_settings *s = provider_settings(cfg, p->ops);
  struct cs_priv *c;
  size_t len;
  int rc;

  if (!s)
    return LB_ECONFIG;
  if (!(c = calloc(1, sizeof *c)))
    return LB_ENOMEM;
  if (str_copy_whole(c->base_url, sizeof c->base_url,
                     s->base_url && *s->base_url
                         ? s->base_url
                         : "https://rest.clicksend.com") ||
      str_copy_whole(c->username, sizeof c->username, s->username) ||
      str_copy_whole(c->secret, sizeof c->secret, s->webhook_secret) ||
      str_copy_whole(c->number, sizeof c->number, cfg->number) ||
      str_copy_whole(c->region, sizeof c->region,
                     cfg->region && *cfg->region ? cfg->region : "AU")) {
    rc = LB_ECONFIG;
    goto fail;
  }
  len = strlen(c->base_url);
  while (len && c->base_url[len - 1] == '/')
    c->base_url[--len] = '\0';
  /* Tolerate a base URL given with the version ("https://.../v3"). */
  if (len >= 3 && strcmp(c->base_url + len - 3, "/v3") == 0)
    c->base_url[len - 3] = '\0';
  if (!url_is_http(c->base_url)) {
    rc = LB_ECONFIG;
    goto fail;
  }
  if (s->username && *s->username && s->api_key && *s->api_key &&
      (size_t)snprintf(c->userpwd, sizeof c->userpwd, "%s:%s", s->username,
                       s->api_key) >= sizeof c->userpwd) {
    rc = LB_ECONFIG;
    goto fail;
  }
  if ((rc = split_hosts(c, s->media_hosts)))
    goto fail;
  make_subject(cfg->clinic_name, c->subject);
  p->priv = c;
  p->caps = (struct provider_caps){
      .sms_out = 1,
      .sms_in = 1,
      .mms_out = 1,
      .mms_in = 1,
      .mms_max_bytes = CS_MMS_MAX_BYTES,
      .max_media = 1, /* one top-level media_file per call */
      .subject_max = CS_SUBJECT_MAX,
      .dedupes_by_ref = 0,
      .answers_keywords = s->answers_keywords,
      .rate_per_s = CS_RATE_PER_S,
      .mms_types = cs_mms_types,
      .media_hosts = (const char *const *)c->hosts,
      /* ClickSend does not say its media links need credentials. */
      .media_userpwd = NULL,
  };
  return LB_OK;
fail:
  cs_free(c);
  return rc;
}

static void cs_release(struct provider *p)
{
  cs_free(p->priv);
  p->priv = NULL;
}

/* ---- requests ------------------------------------------------------------ */

static enum lb_err api_request(const struct cs_priv *c, const char *method,
                               const char *path, json_t *body,
                               struct wire_request *req)
{
  char *text;
  int rc;
  if (!c->userpwd[0])
    return LB_ECONFIG;
  req->method = method;
  if ((size_t)snprintf(req->url, sizeof req->url, "%s%s", c->base_url, path) >=
      sizeof req->url)
    return LB_ETOOBIG;
  if ((rc = wire_request_header(req, "Accept", "application/json")) ||
      (rc = str_copy_whole(req->userpwd, sizeof req->userpwd, c->userpwd)))
    return rc;
  if (!body)
    return LB_OK;
  if ((rc = wire_request_header(req, "Content-Type", "application/json")))
    return rc;
  if (!(text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER)))
    return LB_ENOMEM;
  rc = buf_puts(&req->body, text);
  free(text);
  return rc;
}

static int is_type(const char *ctype, const char *want)
{
  size_t n = strlen(want);
  return ctype && strncasecmp(ctype, want, n) == 0 &&
         (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

static enum lb_err cs_build_send(const struct provider *p,
                                 const struct send_input *in,
                                 struct wire_request *req)
{
  const struct cs_priv *c = p->priv;
  const struct message *m = in->msg;
  const char *text = m->text ? m->text : "";
  json_t *msg, *body = NULL;
  int rc;

  if (!c->userpwd[0])
    return LB_ECONFIG;
  if (!phone_is_e164(m->to) || !phone_is_e164(m->from))
    return LB_EINVAL;
  /* The route policy never sends more than max_media: more is a bug
   * upstream, and dropping one silently would lose what staff sent. */
  if (in->n_media > 1)
    return LB_EINVAL;
  if (!valid_utf8(text))
    return LB_EINVAL;
  if (in->n_media == 1) {
    const struct send_media *sm = &in->media[0];
    /* ClickSend fetches media_file itself: it needs a URL. */
    if (!sm->url || !sm->url[0])
      return LB_EINVAL;
    if (sm->content_type && sm->content_type[0] &&
        !is_type(sm->content_type, "image/jpeg") &&
        !is_type(sm->content_type, "image/gif"))
      return LB_EMEDIATYPE;
    if (sm->len > CS_MMS_MAX_BYTES)
      return LB_ETOOBIG;
  } else if (!text[0]) {
    return LB_EINVAL; /* 'body' is required */
  }
  msg = json_pack("{s:s}", "source", CS_SOURCE);
  if (!msg)
    return LB_ENOMEM;
  if (in->n_media == 1)
    json_object_set_new(msg, "subject", json_string(c->subject));
  if (json_object_set_new(msg, "body", json_string(text)) ||
      json_object_set_new(msg, "to", json_string(m->to)) ||
      json_object_set_new(msg, "from", json_string(m->from)) ||
      json_object_set_new(msg, "custom_string", json_string(m->id))) {
    json_decref(msg);
    return LB_EINVAL;
  }
  if (in->n_media == 1)
    body = json_pack("{s:s, s:[o]}", "media_file", in->media[0].url, "messages",
                     msg);
  else
    body = json_pack("{s:[o]}", "messages", msg);
  if (!body)
    return LB_EINVAL; /* json_pack stole msg either way */
  rc = api_request(
      c, "POST", in->n_media == 1 ? "/v3/mms/send" : "/v3/sms/send", body, req);
  json_decref(body);
  return rc;
}

/* ---- parse_send ---------------------------------------------------------- */

/* ClickSend's envelope: {"http_code", "response_code", "response_msg",
 * "data"}. */
struct cs_envelope {
  json_t *root;     /* NULL when the body is not a JSON object */
  const char *code; /* response_code, "" if none */
  const char *msg;  /* response_msg, "" if none */
  json_t *data;
  json_t *message; /* data.messages[0], or NULL */
};

static void read_envelope(const struct wire_response *res,
                          struct cs_envelope *e)
{
  json_t *v, *arr;
  memset(e, 0, sizeof *e);
  e->code = "";
  e->msg = "";
  e->root =
      json_loadb(res->body.data ? res->body.data : "", res->body.len, 0, NULL);
  if (e->root && !json_is_object(e->root)) {
    json_decref(e->root);
    e->root = NULL;
  }
  if (!e->root)
    return;
  if (json_is_string(v = json_object_get(e->root, "response_code")))
    e->code = json_string_value(v);
  if (json_is_string(v = json_object_get(e->root, "response_msg")))
    e->msg = json_string_value(v);
  e->data = json_object_get(e->root, "data");
  if (!json_is_object(e->data))
    e->data = NULL;
  arr = json_object_get(e->data, "messages");
  if (json_is_array(arr) && json_is_object(json_array_get(arr, 0)))
    e->message = json_array_get(arr, 0);
}

/* Per-message statuses that refuse the message. Only SUCCESS is in the
 * sources reviewed (providers.md §4.2); these names are ClickSend's usual
 * ones, unconfirmed: an unknown status is a final refusal all the same,
 * quoted as ClickSend wrote it. */
static const struct cs_refusal {
  const char *status;
  const char *ours;
  int recipient; /* about the recipient: no other route reaches them */
  const char *meaning;
} cs_refusals[] = {
    {"INVALID_RECIPIENT", "invalid_number", 1,
     "the recipient is not a valid mobile number"},
    {"COUNTRY_NOT_ENABLED", "country_not_enabled", 1,
     "sending to the recipient's country is not enabled on the ClickSend "
     "account"},
    {"INSUFFICIENT_CREDIT", "no_credit", 0,
     "the ClickSend account has too little credit (top it up in the "
     "dashboard)"},
    {"INVALID_SENDER_ID", "invalid_sender", 0,
     "the clinic's number is not a sender this ClickSend account may use "
     "(it must be the account's dedicated number)"},
    {"ALREADY_EXISTS", "duplicate", 0,
     "ClickSend says the message already exists"},
    {"BLOCKED", "blocked", 1, "ClickSend blocked the message to the recipient"},
};

static void message_refused(const char *status, const char *msg,
                            struct send_result *out)
{
  const struct cs_refusal *r = NULL;
  char st[64], words[CS_REASON_MAX + 1];
  for (size_t i = 0; i < sizeof cs_refusals / sizeof cs_refusals[0]; i++)
    if (strcasecmp(status, cs_refusals[i].status) == 0)
      r = &cs_refusals[i];
  out->outcome = SEND_FINAL;
  copy_reason(st, sizeof st, status);
  copy_reason(words, sizeof words, msg);
  if (r) {
    out->recipient = r->recipient ? RECIPIENT_REFUSED : RECIPIENT_OK;
    snprintf(out->error_code, sizeof out->error_code, "%s", r->ours);
    snprintf(out->error_text, sizeof out->error_text,
             "ClickSend refused the message (%s): %s%s%s", st, r->meaning,
             words[0] ? ". ClickSend: " : "", words);
    return;
  }
  snprintf(out->error_code, sizeof out->error_code, "clicksend_");
  for (size_t i = 0;
       st[i] && strlen(out->error_code) + 1 < sizeof out->error_code; i++) {
    size_t n = strlen(out->error_code);
    out->error_code[n] = lower(st[i]);
    out->error_code[n + 1] = '\0';
  }
  /* Guessed from the word: a refusal that names the recipient. */
  out->recipient = strstr(st, "RECIPIENT") ? RECIPIENT_REFUSED : RECIPIENT_OK;
  snprintf(out->error_text, sizeof out->error_text,
           "ClickSend refused the message: %s%s%s", st[0] ? st : "no status",
           words[0] ? ". ClickSend: " : "", words);
}

static int code_is(const struct cs_envelope *e, const char *code)
{
  return strcasecmp(e->code, code) == 0;
}

static void describe(struct send_result *out, const char *lead,
                     const struct wire_response *res,
                     const struct cs_envelope *e)
{
  char code[64], words[CS_REASON_MAX + 1];
  copy_reason(code, sizeof code, e->code);
  copy_reason(words, sizeof words, e->msg);
  snprintf(out->error_text, sizeof out->error_text, "%s (HTTP %ld%s%s)%s%s",
           lead, res->status, code[0] ? ", " : "", code,
           words[0] ? ". ClickSend: " : "", words);
}

static enum lb_err cs_parse_send(const struct provider *p,
                                 const struct wire_response *res,
                                 struct send_result *out)
{
  struct cs_envelope e;
  json_t *st, *id;
  (void)p;

  /* No idempotency key: after a request that may have arrived, only a
   * receipt can say whether it went. */
  if (send_result_begin(res, "ClickSend", out))
    return LB_OK;
  read_envelope(res, &e);
  st = json_object_get(e.message, "status");
  id = json_object_get(e.message, "message_id");
  if (json_is_string(st) && strcasecmp(json_string_value(st), "SUCCESS") == 0) {
    if (json_is_string(id) && json_string_length(id) > 0 &&
        json_string_length(id) < sizeof out->provider_msg_id) {
      out->outcome = SEND_ACCEPTED;
      memcpy(out->provider_msg_id, json_string_value(id),
             json_string_length(id) + 1);
    } else {
      /* It went, but no receipt can be matched by ClickSend's id (ours,
       * in custom_string, still can). */
      out->outcome = SEND_UNKNOWN;
      snprintf(out->error_code, sizeof out->error_code, "bad_response");
      snprintf(out->error_text, sizeof out->error_text,
               "ClickSend accepted the message but gave no message_id");
    }
    goto done;
  }
  if (json_is_string(st) && json_string_length(st) > 0 &&
      (res->status < 300 || !e.code[0] || code_is(&e, "SUCCESS"))) {
    message_refused(json_string_value(st), e.msg, out);
    goto done;
  }
  if (res->status == 429 || code_is(&e, "TOO_MANY_REQUESTS")) {
    out->outcome = SEND_RETRY;
    snprintf(out->error_code, sizeof out->error_code, "rate_limited");
    describe(out, "ClickSend is limiting requests", res, &e);
    goto done;
  }
  if (res->status >= 500 || res->status == 408 ||
      code_is(&e, "INTERNAL_SERVER_ERROR")) {
    out->outcome = SEND_RETRY;
    snprintf(out->error_code, sizeof out->error_code, "http_%ld", res->status);
    describe(out, "ClickSend could not take the message now", res, &e);
    goto done;
  }
  if (res->status == 401 || code_is(&e, "UNAUTHORIZED")) {
    out->outcome = SEND_FINAL;
    snprintf(out->error_code, sizeof out->error_code, "auth_failed");
    describe(out,
             "ClickSend refused the credentials (check [clicksend] username "
             "and api_key)",
             res, &e);
    goto done;
  }
  if (res->status >= 200 && res->status < 300) {
    /* A yes we cannot read: it may have gone. */
    out->outcome = SEND_UNKNOWN;
    snprintf(out->error_code, sizeof out->error_code, "bad_response");
    describe(out, "ClickSend's answer had no message status", res, &e);
    goto done;
  }
  out->outcome = SEND_FINAL;
  if (code_is(&e, "FORBIDDEN") || res->status == 403)
    snprintf(out->error_code, sizeof out->error_code, "forbidden");
  else if (code_is(&e, "BAD_REQUEST"))
    snprintf(out->error_code, sizeof out->error_code, "bad_request");
  else
    snprintf(out->error_code, sizeof out->error_code, "http_%ld", res->status);
  describe(out, "ClickSend refused the message", res, &e);
done:
  json_decref(e.root);
  return LB_OK;
}

/* ---- verify_hook: the secret at the end of the URL ----------------------- */

static enum lb_err cs_verify_hook(const struct provider *p,
                                  const struct hook_request *req)
{
  const struct cs_priv *c = p->priv;
  const char *path = req->path ? req->path : "", *seg = strrchr(path, '/');
  seg = seg ? seg + 1 : path;
  if (!c->secret[0])
    return LB_EAUTH; /* no secret configured: nothing is trusted */
  /* ".../inbound" or ".../status": no secret given. */
  if (!seg[0] || strcmp(seg, "inbound") == 0 || strcmp(seg, "status") == 0)
    return LB_EAUTH;
  return crypto_secret_eq(seg, strlen(seg), c->secret) ? LB_OK : LB_ESIGNATURE;
}

/* ---- webhooks: fields ---------------------------------------------------- */

/* A hook's fields: a JSON object (webhook_type json) or the decoded form
 * or query parameters (post, get). */
struct cs_fields {
  json_t *o;
  const struct hook_request *req;
};

static enum lb_err load_fields(const struct hook_request *req,
                               struct cs_fields *f, char *why, size_t whylen)
{
  json_error_t jerr;
  memset(f, 0, sizeof *f);
  f->req = req;
  if (!hook_body_is_json(req)) {
    if (!req->n_params) {
      snprintf(why, whylen,
               "no fields: expected JSON (webhook_type json), a form POST or "
               "a GET query");
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

/* The value of the first of 'names' that is present and not empty (a JSON
 * number formatted into num), or NULL; 'name' says which. A JSON value of
 * another type is LB_EINVAL. */
static enum lb_err raw_field(const struct cs_fields *f,
                             const char *const *names, const char **val,
                             const char **name, char *num, size_t numlen,
                             char *why, size_t whylen)
{
  *val = NULL;
  for (size_t i = 0; names[i]; i++) {
    const char *v = NULL;
    *name = names[i];
    if (f->o) {
      json_t *j = json_object_get(f->o, names[i]);
      if (!j || json_is_null(j))
        continue;
      if (json_is_string(j))
        v = json_string_value(j);
      else if (json_is_integer(j)) {
        snprintf(num, numlen, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        v = num;
      } else {
        snprintf(why, whylen, "'%s' must be a string", names[i]);
        return LB_EINVAL;
      }
    } else {
      v = hook_param(f->req, names[i]);
    }
    if (v && v[0]) {
      *val = v;
      return LB_OK;
    }
  }
  return LB_OK;
}

/* The first of 'names' with a value, trimmed of blanks, into dst ("" when
 * none has one). */
static enum lb_err text_field(const struct cs_fields *f,
                              const char *const *names, char *dst, size_t n,
                              char *why, size_t whylen)
{
  const char *v, *name = names[0];
  char num[32];
  size_t len;
  int rc = raw_field(f, names, &v, &name, num, sizeof num, why, whylen);
  dst[0] = '\0';
  if (rc || !v)
    return rc;
  while (*v == ' ' || *v == '\t')
    v++;
  len = strlen(v);
  while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' ||
                 v[len - 1] == '\r' || v[len - 1] == '\n'))
    len--;
  if (len >= n) {
    snprintf(why, whylen, "'%s' is longer than %zu bytes", name, n - 1);
    return LB_EINVAL;
  }
  memcpy(dst, v, len);
  dst[len] = '\0';
  return LB_OK;
}

/* A number as ClickSend writes it ("+61...", "61...", "04...") to E.164. */
static enum lb_err to_e164(const struct cs_priv *c, const char *in,
                           char out[LB_E164_SIZE])
{
  char why[200], plus[LB_E164_SIZE + 1];
  size_t n = strlen(in);
  if (phone_parse(in, c->region, out, why, sizeof why) == LB_OK)
    return LB_OK;
  if (n && n < LB_E164_SIZE - 1 && in[0] != '0' &&
      strspn(in, "0123456789") == n) {
    snprintf(plus, sizeof plus, "+%s", in);
    if (phone_parse(plus, c->region, out, why, sizeof why) == LB_OK)
      return LB_OK;
  }
  return LB_EPHONE;
}

/* Appends the top-level field names not in 'known' (names only, never
 * values) to why: on a refused webhook they show what ClickSend sent
 * instead of what lyrebird expected. */
static void add_unknown_keys(const struct cs_fields *f,
                             const char *const *known, char *why, size_t whylen)
{
  char list[CS_KEYS_MAX] = "";
  size_t len = 0, count = 0;
  const char *key;
  json_t *v;

#define CS_NOTE_KEY(k)                                                         \
  do {                                                                         \
    int found_ = 0;                                                            \
    for (size_t i_ = 0; known[i_]; i_++)                                       \
      if (strcmp(known[i_], (k)) == 0)                                         \
        found_ = 1;                                                            \
    if (!found_ && len + 40 < sizeof list) {                                   \
      int w_ = snprintf(list + len, sizeof list - len, "%s'%.32s'",            \
                        count ? ", " : "", (k));                               \
      if (w_ > 0)                                                              \
        len += (size_t)w_;                                                     \
      count++;                                                                 \
    }                                                                          \
  } while (0)

  if (f->o) {
    json_object_foreach(f->o, key, v) CS_NOTE_KEY(key);
  } else {
    for (size_t i = 0; i < f->req->n_params; i++) {
      const char *k = f->req->params[i].name ? f->req->params[i].name : "";
      int seen = 0;
      for (size_t j = 0; j < i; j++)
        if (f->req->params[j].name && strcmp(f->req->params[j].name, k) == 0)
          seen = 1;
      if (!seen)
        CS_NOTE_KEY(k);
    }
  }
#undef CS_NOTE_KEY
  /* Names are whatever the sender chose: keep them printable. */
  for (char *q = list; *q; q++)
    if ((unsigned char)*q < 0x20 || *q == 0x7f)
      *q = '?';
  if (count) {
    size_t n = strlen(why);
    if (n + 1 < whylen)
      snprintf(why + n, whylen - n, " (unrecognised fields: %s)", list);
  }
}

/* ---- parse_inbound ------------------------------------------------------- */

/* The documented InboundSms fields and the legacy duplicates a receiver
 * sees (providers.md §4.5). */
static const char *const names_from[] = {"from", NULL};
static const char *const names_to[] = {"to", NULL};
static const char *const names_body[] = {"body", "message", "sms", NULL};
static const char *const names_msg_id[] = {"message_id", "messageid", NULL};
/* The inbound media URL: the field name is not documented. These are
 * guesses (unconfirmed), from the MMS send API's names and common ones. */
static const char *const names_media[] = {"media_file",     "_media_file_url",
                                          "media_file_url", "media_url",
                                          "media_urls",     "mms_url",
                                          "attachment",     "attachments",
                                          "media",          NULL};
/* Inside an attachment object. */
static const char *const names_media_url[] = {
    "url", "_url", "link", "media_file", "_media_file_url", "media_url", NULL};
static const char *const names_media_type[] = {"content_type", "type",
                                               "mime_type", "mimetype", NULL};
static const char *const inbound_known[] = {"timestamp",
                                            "from",
                                            "body",
                                            "original_body",
                                            "original_message_id",
                                            "to",
                                            "custom_string",
                                            "message_id",
                                            "keyword",
                                            "originalsenderid",
                                            "message",
                                            "sms",
                                            "originalmessageid",
                                            "customstring",
                                            "originalmessage",
                                            "user_id",
                                            "subaccount_id",
                                            "messageid",
                                            "media_file",
                                            "_media_file_url",
                                            "media_file_url",
                                            "media_url",
                                            "media_urls",
                                            "mms_url",
                                            "attachment",
                                            "attachments",
                                            "media",
                                            "subject",
                                            "message_type",
                                            NULL};

/* Adds one media URL (skipping a repeat of one already taken, as the same
 * link may come under two names). */
static enum lb_err add_media(struct inbound_msg *out, const char *field,
                             const char *url, const char *ctype, char *why,
                             size_t whylen)
{
  struct inbound_media *im;
  if (strlen(url) >= CS_URL_MAX || !url_is_http(url)) {
    snprintf(why, whylen, "'%s' is not an http(s) URL under %d bytes", field,
             CS_URL_MAX);
    return LB_EINVAL;
  }
  for (size_t i = 0; i < out->n_media; i++)
    if (strcmp(out->media[i].url ? out->media[i].url : "", url) == 0)
      return LB_OK;
  if (out->n_media >= LB_MEDIA_MAX) {
    snprintf(why, whylen, "at most %d media items", LB_MEDIA_MAX);
    return LB_ETOOBIG;
  }
  im = &out->media[out->n_media];
  if (!(im->url = strdup(url)))
    return LB_ENOMEM;
  if (ctype && str_copy_whole(im->content_type, sizeof im->content_type, ctype))
    im->content_type[0] = '\0'; /* only a claim: intake sniffs anyway */
  out->n_media++;
  return LB_OK;
}

/* One JSON media value: a URL string, an object with a URL in it, or an
 * array of either. */
static enum lb_err take_media_json(json_t *v, const char *field, int depth,
                                   struct inbound_msg *out, char *why,
                                   size_t whylen)
{
  size_t i;
  json_t *it;
  int rc;
  if (json_is_null(v))
    return LB_OK;
  if (json_is_string(v))
    return json_string_length(v)
               ? add_media(out, field, json_string_value(v), NULL, why, whylen)
               : LB_OK;
  if (json_is_array(v) && depth == 0) {
    json_array_foreach(v, i, it)
    {
      if ((rc = take_media_json(it, field, 1, out, why, whylen)))
        return rc;
    }
    return LB_OK;
  }
  if (json_is_object(v)) {
    const char *url = NULL, *ctype = NULL;
    json_t *u;
    for (i = 0; names_media_url[i] && !url; i++)
      if (json_is_string(u = json_object_get(v, names_media_url[i])) &&
          json_string_length(u))
        url = json_string_value(u);
    for (i = 0; names_media_type[i] && !ctype; i++)
      if (json_is_string(u = json_object_get(v, names_media_type[i])))
        ctype = json_string_value(u);
    if (!url) {
      snprintf(why, whylen, "'%s' has no url (or _url, link)", field);
      return LB_EINVAL;
    }
    return add_media(out, field, url, ctype, why, whylen);
  }
  snprintf(why, whylen, "'%s' must be a URL, an object with a url, or a list",
           field);
  return LB_EINVAL;
}

static enum lb_err take_media(const struct cs_fields *f,
                              struct inbound_msg *out, char *why, size_t whylen)
{
  int rc;
  for (size_t i = 0; names_media[i]; i++) {
    if (f->o) {
      json_t *v = json_object_get(f->o, names_media[i]);
      if (v && (rc = take_media_json(v, names_media[i], 0, out, why, whylen)))
        return rc;
      continue;
    }
    /* A form or query: each field of that name (or "name[]"), repeats
     * kept. */
    for (size_t k = 0; k < f->req->n_params; k++) {
      const char *n = f->req->params[k].name, *v = f->req->params[k].value;
      size_t nl = strlen(names_media[i]);
      if (!n || strncmp(n, names_media[i], nl) != 0 ||
          (n[nl] && strcmp(n + nl, "[]") != 0) || !v || !v[0])
        continue;
      if ((rc = add_media(out, names_media[i], v, NULL, why, whylen)))
        return rc;
    }
  }
  return LB_OK;
}

static enum lb_err cs_parse_inbound(const struct provider *p,
                                    const struct hook_request *req,
                                    struct inbound_msg *out, char *why,
                                    size_t whylen)
{
  const struct cs_priv *c = p->priv;
  struct cs_fields f;
  char from[CS_FIELD_MAX], to[CS_FIELD_MAX], num[32];
  const char *text = NULL, *name;
  int rc;

  if ((rc = load_fields(req, &f, why, whylen)))
    return rc;
  if ((rc = text_field(&f, names_from, from, sizeof from, why, whylen)) ||
      (rc = text_field(&f, names_to, to, sizeof to, why, whylen)) ||
      (rc = text_field(&f, names_msg_id, out->provider_msg_id,
                       sizeof out->provider_msg_id, why, whylen)) ||
      (rc = raw_field(&f, names_body, &text, &name, num, sizeof num, why,
                      whylen)))
    goto fail;
  rc = LB_EINVAL;
  if (!out->provider_msg_id[0]) {
    snprintf(why, whylen, "'message_id' is required");
    goto fail;
  }
  if (!from[0]) {
    snprintf(why, whylen, "'from' (the sender's number) is required");
    goto fail;
  }
  if (to_e164(c, from, out->from)) {
    snprintf(why, whylen, "'from' is not a phone number: '%.40s'", from);
    goto fail;
  }
  if (!to[0])
    str_copy(out->to, sizeof out->to, c->number);
  else if (to_e164(c, to, out->to)) {
    snprintf(why, whylen, "'to' is not a phone number: '%.40s'", to);
    goto fail;
  }
  if (text && !valid_utf8(text)) {
    snprintf(why, whylen, "'%s' is not valid UTF-8", name);
    goto fail;
  }
  if (!(out->text = strdup(text ? text : ""))) {
    rc = LB_ENOMEM;
    goto fail;
  }
  /* Fetched later by the gateway, allowing only caps.media_hosts. */
  if ((rc = take_media(&f, out, why, whylen)))
    goto fail;
  json_decref(f.o);
  return LB_OK;
fail:
  add_unknown_keys(&f, inbound_known, why, whylen);
  json_decref(f.o);
  return rc;
}

/* ---- parse_status -------------------------------------------------------- */

static const char *const names_status_text[] = {"status_text", "statustext",
                                                "status", NULL};
static const char *const names_status_code[] = {"status_code", "statuscode",
                                                NULL};
static const char *const names_error_code[] = {"error_code", "errorcode", NULL};
static const char *const names_error_text[] = {"error_text", "errortext", NULL};
static const char *const names_custom[] = {"custom_string", "customstring",
                                           NULL};
static const char *const status_known[] = {
    "timestamp_send", "timestamp",     "message_id",   "messageid",
    "status_code",    "statuscode",    "status_text",  "statustext",
    "status",         "error_code",    "errorcode",    "error_text",
    "errortext",      "custom_string", "customstring", "subaccount_id",
    "message_type",   "digits",        "user_id",      NULL};

/* status_text as ours (providers.md §4.6 names the field, not its values:
 * these words are unconfirmed). Anything else means on its way. */
static enum msg_status status_from_text(const char *w)
{
  static const struct {
    const char *word;
    enum msg_status st;
  } map[] = {
      {"delivered", ST_DELIVERED}, {"undelivered", ST_UNDELIVERED},
      {"expired", ST_UNDELIVERED}, {"failed", ST_FAILED},
      {"rejected", ST_FAILED},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcasecmp(w, map[i].word) == 0)
      return map[i].st;
  return ST_SENT;
}

static enum lb_err cs_parse_status(const struct provider *p,
                                   const struct hook_request *req,
                                   struct status_update *out, char *why,
                                   size_t whylen)
{
  struct cs_fields f;
  char text[64], code[32], ecode[32], etext[LB_ERRTEXT_MAX];
  int rc;
  (void)p;

  memset(out, 0, sizeof *out);
  if ((rc = load_fields(req, &f, why, whylen)))
    return rc;
  if ((rc = text_field(&f, names_msg_id, out->provider_msg_id,
                       sizeof out->provider_msg_id, why, whylen)) ||
      (rc = text_field(&f, names_custom, out->ref, sizeof out->ref, why,
                       whylen)) ||
      (rc =
           text_field(&f, names_status_text, text, sizeof text, why, whylen)) ||
      (rc =
           text_field(&f, names_status_code, code, sizeof code, why, whylen)) ||
      (rc = text_field(&f, names_error_code, ecode, sizeof ecode, why,
                       whylen)) ||
      (rc = text_field(&f, names_error_text, etext, sizeof etext, why, whylen)))
    goto fail;
  rc = LB_EINVAL;
  if (!out->provider_msg_id[0] && !out->ref[0]) {
    snprintf(why, whylen,
             "no message reference: 'message_id' (ClickSend's) or "
             "'custom_string' (lyrebird's) is required");
    goto fail;
  }
  if (!text[0] && !code[0]) {
    snprintf(why, whylen, "'status_text' (or 'status_code') is required");
    goto fail;
  }
  out->status = status_from_text(text);
  if (out->status != ST_DELIVERED && out->status != ST_SENT) {
    char t[64], w[CS_REASON_MAX + 1];
    const char *c = ecode[0] && strcmp(ecode, "0") ? ecode : code;
    snprintf(out->error_code, sizeof out->error_code, "clicksend_%.50s",
             c[0] ? c : text);
    for (char *q = out->error_code; *q; q++)
      *q = *q == ' ' ? '_' : lower(*q);
    copy_reason(t, sizeof t, text);
    copy_reason(w, sizeof w, etext);
    snprintf(out->error_text, sizeof out->error_text,
             "ClickSend reported the message %s%s%s%s%s%s", t,
             code[0] ? " (status " : "", code, code[0] ? ")" : "",
             w[0] ? ": " : "", w);
  }
  json_decref(f.o);
  return LB_OK;
fail:
  add_unknown_keys(&f, status_known, why, whylen);
  json_decref(f.o);
  return rc;
}

/* ---- provider setup: the inbound and receipt rules ----------------------- */

static enum lb_err cs_build_setup(const struct provider *p, int n,
                                  const char *base, struct wire_request *req)
{
  const struct cs_priv *c = p->priv;
  char url[LB_URL_MAX];
  json_t *body;
  int rc;

  if (n < 0 || n > 1)
    return LB_ENOTFOUND;
  if (!c->secret[0] || !base || !url_is_http(base))
    return LB_ECONFIG;
  if ((size_t)snprintf(url, sizeof url, "%s/%s/%s", base,
                       n == 0 ? "inbound" : "status", c->secret) >= sizeof url)
    return LB_ETOOBIG;
  if (n == 0) {
    if (!phone_is_e164(c->number))
      return LB_ECONFIG;
    body = json_pack(
        "{s:s, s:s, s:i, s:s, s:s, s:s, s:i, s:s}", "dedicated_number",
        c->number, "rule_name", CS_INBOUND_RULE, "message_search_type", 0,
        "message_search_term", "", "action", "URL", "action_address", url,
        "enabled", 1, "webhook_type", "json");
  } else {
    body =
        json_pack("{s:s, s:i, s:s, s:s, s:i, s:s}", "rule_name",
                  CS_RECEIPT_RULE, "match_type", 0, "action", "URL",
                  "action_address", url, "enabled", 1, "webhook_type", "json");
  }
  sodium_memzero(url, sizeof url);
  if (!body)
    return LB_ENOMEM;
  rc = api_request(c, "POST",
                   n == 0 ? "/v3/automations/sms/inbound"
                          : "/v3/automations/sms/receipts",
                   body, req);
  json_decref(body);
  return rc;
}

/* An answer that is not a success, in words, as LB_EAUTH or
 * LB_EPROVIDER. */
static enum lb_err api_failure(const struct wire_response *res,
                               const struct cs_envelope *e, const char *what,
                               char *out, size_t n)
{
  char code[64], words[CS_REASON_MAX + 1];
  copy_reason(code, sizeof code, e->code);
  copy_reason(words, sizeof words, e->msg);
  if (res->error || res->status < 100) {
    snprintf(out, n, "could not reach ClickSend: %s",
             res->error_text[0] ? res->error_text : lb_strerror(res->error));
    return LB_EPROVIDER;
  }
  if (res->status == 401 || strcasecmp(code, "UNAUTHORIZED") == 0) {
    snprintf(out, n,
             "ClickSend refused the credentials (HTTP %ld%s%s)%s%s. Check "
             "[clicksend] username and api_key",
             res->status, code[0] ? ", " : "", code, words[0] ? ": " : "",
             words);
    return LB_EAUTH;
  }
  snprintf(out, n, "%s: ClickSend answered HTTP %ld%s%s%s%s", what, res->status,
           code[0] ? ", " : "", code, words[0] ? ": " : "", words);
  return LB_EPROVIDER;
}

static int success(const struct wire_response *res, const struct cs_envelope *e)
{
  return !res->error && res->status >= 200 && res->status < 300 && e->root &&
         (!e->code[0] || strcasecmp(e->code, "SUCCESS") == 0);
}

static enum lb_err cs_parse_setup(const struct provider *p, int n,
                                  const struct wire_response *res, char *out,
                                  size_t len)
{
  const struct cs_priv *c = p->priv;
  struct cs_envelope e;
  int rc = LB_OK;
  read_envelope(res, &e);
  if (success(res, &e)) {
    if (n == 0)
      snprintf(out, len,
               "created the inbound rule '" CS_INBOUND_RULE
               "' for %s: replies go to <public_url>/hooks/clicksend/inbound/"
               "<secret> (json)",
               c->number);
    else
      snprintf(out, len,
               "created the receipt rule '" CS_RECEIPT_RULE
               "': delivery receipts go to "
               "<public_url>/hooks/clicksend/status/<secret> (json)");
  } else {
    rc = api_failure(res, &e,
                     n == 0 ? "the inbound rule was not created"
                            : "the receipt rule was not created",
                     out, len);
  }
  hide_secret(out, len, c->secret);
  json_decref(e.root);
  return rc;
}

/* ---- provider check: the account ---------------------------------------- */

static enum lb_err cs_build_check(const struct provider *p,
                                  struct wire_request *req)
{
  return api_request(p->priv, "GET", "/v3/account", NULL, req);
}

static enum lb_err cs_parse_check(const struct provider *p,
                                  const struct wire_response *res, char *out,
                                  size_t n)
{
  const struct cs_priv *c = p->priv;
  struct cs_envelope e;
  char user[128], bal[64] = "", cur[16] = "";
  json_t *v;
  int rc = LB_OK;

  read_envelope(res, &e);
  if (!success(res, &e) || !e.data) {
    if (success(res, &e))
      snprintf(out, n, "ClickSend answered HTTP %ld without the account",
               res->status);
    rc = success(res, &e)
             ? LB_EPROVIDER
             : api_failure(res, &e, "the account check failed", out, n);
    goto done;
  }
  v = json_object_get(e.data, "username");
  copy_reason(user, sizeof user,
              json_is_string(v) ? json_string_value(v) : c->username);
  v = json_object_get(e.data, "balance");
  if (json_is_string(v))
    copy_reason(bal, sizeof bal, json_string_value(v));
  else if (json_is_number(v))
    snprintf(bal, sizeof bal, "%.2f", json_number_value(v));
  v = json_object_get(json_object_get(e.data, "_currency"),
                      "currency_name_short");
  if (!json_is_string(v))
    v = json_object_get(e.data, "currency");
  if (json_is_string(v))
    copy_reason(cur, sizeof cur, json_string_value(v));
  if (bal[0])
    snprintf(out, n, "account %s: %s%s%s", user, bal, cur[0] ? " " : "", cur);
  else
    snprintf(out, n, "account %s", user);
done:
  hide_secret(out, n, c->secret);
  json_decref(e.root);
  return rc;
}

const struct provider_ops provider_clicksend = {
    .name = "clicksend",
    .title = "ClickSend",
    .keys = cs_keys,
    .n_keys = sizeof cs_keys / sizeof cs_keys[0],
    .settings_size = sizeof(struct clicksend_settings),
    .check = cs_check,
    .init = cs_init,
    .release = cs_release,
    .build_send = cs_build_send,
    .parse_send = cs_parse_send,
    .verify_hook = cs_verify_hook,
    .parse_inbound = cs_parse_inbound,
    .parse_status = cs_parse_status,
    .hook_reply_type = NULL,
    .hook_reply_body = NULL,
    .build_check = cs_build_check,
    .parse_check = cs_parse_check,
    .build_setup = cs_build_setup,
    .parse_setup = cs_parse_setup,
    .build_media_delete = NULL,
};
