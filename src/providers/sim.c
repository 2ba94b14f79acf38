/* The simulated carrier's adapter ("sim").
 *
 * Wire format (docs/providers/sim.md):
 *   send:    POST <base>/api/messages, Authorization: Bearer <secret>,
 *            JSON {from, to, text, ref, status_callback,
 *                  media: [{content_type, data (base64)}]}
 *            -> 202 {"id": "..."}; errors {"error": {code, message}}
 *   hooks:   X-Sim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 *            "<t>.<body>" keyed by the secret>; 5 minutes' tolerance.
 *            inbound {id, from, to, text, media: [{content_type, data}
 *                     or {url} (fetched by the gateway)]}
 *            status  {id, ref, status, error_code, error_text}
 * The carrier dedupes sends by 'ref', so a resend after a timeout is safe.
 * A message staff retry after the carrier had it goes as "<id>.<round>"
 * (message.ref_round), a new message to the carrier; its receipts come
 * back with that ref, read as the id. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/keys.h"
#include "providers/provider.h"
#include "providers/sim.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/url.h"

#define SIM_TOLERANCE_S 300

/* The types the sim takes in an MMS. The sim stands in for an Australian
 * carrier reached through an aggregator, so it takes what every documented
 * AU route takes and nothing more: JPEG, PNG and GIF.
 *   - MessageMedia: "png, jpeg and gif" only (providers.md §2.10).
 *   - Twilio: png, jpeg, gif fully supported; other types pass untranscoded
 *     (providers.md §3.7).
 *   - Cellcast jpg/jpeg/png, Infobip JPEG/GIF/PNG; PDF "may vary by
 *     handset" (compliance.md §2.2, §2.1).
 *   - No source says an AU MMSC takes HEIC from a gateway; the advice is to
 *     convert to JPEG (compliance.md §2.4). WebP is named nowhere.
 * Intake accepts WebP, HEIC and PDF uploads too (src/media/intake.c), so
 * with this list those go as a secure link, which is what a real carrier
 * would force, and the demo shows it. This happens to equal the default in
 * route_mms_types(); it is spelled out because the sim's role decides it. */
static const char *const sim_mms_types[] = {"image/jpeg", "image/png",
                                            "image/gif", NULL};

struct sim_priv {
  char base_url[2000];
  char secret[256];
  long media_max_bytes;
};

/* ---- configuration ------------------------------------------------------- */

#define CONFIG_KEYS_OF struct sim_settings
static const struct config_key sim_keys[] = {
    B("sim", "enabled", enabled, "false",
      "Mount the simulated carrier under /sim/ (demo and tests only):\n"
      "anyone who reaches /sim/ can read the messages it carries and play\n"
      "a patient. Off in production. To try lyrebird without a provider,\n"
      "set enabled = true, a secret (or secret_file) and [clinic] host =\n"
      "sim; or run 'lyrebird demo', which does all of that."),
    S("sim", "base_url", base_url, "",
      "Where lyrebird sends to the simulated carrier. Empty: this server."),
    SECRET("sim", "secret", secret, "",
           "Shared secret: lyrebird's Bearer token and the HMAC key the\n"
           "carrier signs its webhooks with."),
    B("sim", "mms_out", mms_out, "true",
      "Can the simulated carrier send MMS? false stands in for SMS Broadcast."),
    I("sim", "mms_max_bytes", mms_max_bytes, "614400", 1024, 104857600,
      "Largest MMS the simulated carrier sends."),
    I("sim", "dr_delay_ms", dr_delay_ms, "300", 0, 600000,
      "Delay before the simulated carrier posts a delivery receipt."),
    D("sim", "dr_failure_rate", dr_failure_rate, "0",
      "Share (0-1) of sent messages reported undelivered."),
    D("sim", "send_failure_rate", send_failure_rate, "0",
      "Share (0-1) of send calls the carrier answers 503 (retryable)."),
    I("sim", "rate", rate, "50", 1, 100000,
      "Sends per second lyrebird allows itself towards the carrier."),
    B("sim", "answers_keywords", answers_keywords, "false",
      "The simulated carrier answers STOP, START and HELP itself (as\n"
      "Twilio does), so lyrebird sends no confirmation of its own."),
};

/* [sim] holds whether or not the sim is the host: [sim] enabled mounts the
 * carrier (src/sim) on this server, and the carrier needs its secret. */
static void sim_validate(const void *settings, const struct config *cfg,
                         struct config_errors *errs)
{
  const struct sim_settings *c = settings;
  if (strcmp(cfg->host, "sim") == 0 && !c->enabled)
    config_errors_add(errs, 0, "[sim] enabled",
                      "the host is the simulated carrier, so set [sim] "
                      "enabled = true (or choose a real provider as [clinic] "
                      "host)");
  if (c->enabled && strlen(c->secret) < 16)
    config_errors_add(errs, 0, "[sim] secret",
                      "set a secret of at least 16 characters for the "
                      "simulated carrier");
  if (c->base_url[0] && !url_is_http(c->base_url))
    config_errors_add(errs, 0, "[sim] base_url", "'%s' is not an http(s) URL",
                      c->base_url);
}

/* ---- the adapter --------------------------------------------------------- */

static enum lb_err sim_init(struct provider *p, const struct config *cfg)
{
  const struct sim_settings *c = provider_settings(cfg, p->ops);
  struct sim_priv *s;
  if (!c)
    return LB_ECONFIG;
  if (!(s = calloc(1, sizeof *s)))
    return LB_ENOMEM;
  if (c->base_url[0])
    snprintf(s->base_url, sizeof s->base_url, "%s", c->base_url);
  else
    snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d/sim",
             cfg->port);
  snprintf(s->secret, sizeof s->secret, "%s", c->secret);
  s->media_max_bytes = cfg->media_max_bytes;
  p->priv = s;
  p->caps = (struct provider_caps){
      .sms_out = 1,
      .sms_in = 1,
      .mms_out = c->mms_out,
      .mms_in = 1,
      .mms_max_bytes = c->mms_max_bytes,
      .max_media = LB_MEDIA_MAX,
      .subject_max = 0,
      .dedupes_by_ref = 1,
      .answers_keywords = c->answers_keywords,
      .rate_per_s = c->rate,
      .mms_types = sim_mms_types,
  };
  return LB_OK;
}

static void sim_release(struct provider *p)
{
  if (p->priv)
    sodium_memzero(p->priv, sizeof(struct sim_priv));
  free(p->priv);
}

static enum lb_err sim_build_send(const struct provider *p,
                                  const struct send_input *in,
                                  struct wire_request *req)
{
  const struct sim_priv *s = p->priv;
  const struct message *m = in->msg;
  json_t *o = NULL, *media = NULL;
  char *body = NULL, auth[300], ref[LB_ID_SIZE + 12];
  int rc = LB_ENOMEM;

  if (m->ref_round > 1)
    snprintf(ref, sizeof ref, "%.26s.%d", m->id, m->ref_round % 100000);
  else
    snprintf(ref, sizeof ref, "%s", m->id);
  media = json_array();
  if (!media)
    goto out;
  for (size_t i = 0; i < in->n_media; i++) {
    size_t b64len = sodium_base64_encoded_len(in->media[i].len,
                                              sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    if (!b64)
      goto out;
    sodium_bin2base64(b64, b64len, in->media[i].data, in->media[i].len,
                      sodium_base64_VARIANT_ORIGINAL);
    /* source_url: where a real carrier would fetch the item (lyrebird's
     * short-lived signed URL); the sim takes the bytes inline too. */
    if (json_array_append_new(media,
                              json_pack("{s:s, s:s, s:s*}", "content_type",
                                        in->media[i].content_type, "data", b64,
                                        "source_url", in->media[i].url))) {
      free(b64);
      goto out;
    }
    free(b64);
  }
  o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:O}", "from", m->from, "to", m->to,
                "text", m->text ? m->text : "", "ref", ref, "status_callback",
                in->status_url, "media", media);
  if (!o)
    goto out;
  body = json_dumps(o, JSON_COMPACT);
  if (!body)
    goto out;
  req->method = "POST";
  if ((size_t)snprintf(req->url, sizeof req->url, "%.2000s/api/messages",
                       s->base_url) >= sizeof req->url) {
    rc = LB_ETOOBIG;
    goto out;
  }
  snprintf(auth, sizeof auth, "Bearer %s", s->secret);
  if ((rc = wire_request_header(req, "Content-Type", "application/json")) ||
      (rc = wire_request_header(req, "Authorization", auth)) ||
      (rc = buf_puts(&req->body, body)))
    goto out;
  rc = LB_OK;
out:
  sodium_memzero(auth, sizeof auth);
  free(body);
  json_decref(o);
  json_decref(media);
  return rc;
}

static void error_from_body(const struct wire_response *res,
                            struct send_result *out)
{
  json_t *o =
      json_loadb(res->body.data ? res->body.data : "", res->body.len, 0, NULL);
  const char *code = NULL, *msg = NULL;
  if (o)
    json_unpack(o, "{s:{s?s, s?s}}", "error", "code", &code, "message", &msg);
  snprintf(out->error_code, sizeof out->error_code, "%s",
           code ? code : "http_error");
  if (msg)
    snprintf(out->error_text, sizeof out->error_text, "carrier: %s", msg);
  else
    snprintf(out->error_text, sizeof out->error_text,
             "carrier answered HTTP %ld", res->status);
  json_decref(o);
}

static enum lb_err sim_parse_send(const struct provider *p,
                                  const struct wire_response *res,
                                  struct send_result *out)
{
  if (send_result_begin(res, "the simulated carrier", out))
    return LB_OK;
  if (res->status >= 200 && res->status < 300) {
    json_t *o = json_loadb(res->body.data ? res->body.data : "", res->body.len,
                           0, NULL);
    const char *id = NULL;
    if (o && json_unpack(o, "{s:s}", "id", &id) == 0 && id[0]) {
      out->outcome = SEND_ACCEPTED;
      snprintf(out->provider_msg_id, sizeof out->provider_msg_id, "%s", id);
    } else {
      /* It answered yes but we cannot read the id: it probably went. */
      out->outcome = SEND_UNKNOWN;
      snprintf(out->error_code, sizeof out->error_code, "bad_response");
      snprintf(out->error_text, sizeof out->error_text,
               "carrier accepted the message but its answer had no id");
    }
    json_decref(o);
    return LB_OK;
  }
  error_from_body(res, out);
  if (res->status == 429 || res->status >= 500 || res->status == 408)
    out->outcome = SEND_RETRY;
  else
    out->outcome = SEND_FINAL;
  return LB_OK;
}

int sim_signature(const char *secret, const char *t, size_t tlen,
                  const void *body, size_t len, char out[LB_SHA256_HEX])
{
  struct crypto_part parts[] = {{t, tlen}, {".", 1}, {body, len}};
  unsigned char mac[LB_SHA256_LEN];
  int rc = crypto_hmac_sha256_parts(secret, strlen(secret), parts, 3, mac);
  if (!rc)
    crypto_hex(mac, sizeof mac, out);
  return rc;
}

/* Parses "t=<digits>,v1=<64 hex>" and checks it in constant time. */
static enum lb_err sim_verify_hook(const struct provider *p,
                                   const struct hook_request *req)
{
  const struct sim_priv *s = p->priv;
  const char *h = req->header(req->ctx, "X-Sim-Signature");
  const char *v1;
  char want[LB_SHA256_HEX], got[LB_SHA256_HEX];
  long long t = 0;
  size_t tlen = 0;

  if (!h || !*h)
    return LB_EAUTH;
  if (strncmp(h, "t=", 2) != 0)
    return LB_ESIGNATURE;
  for (h += 2; h[tlen] >= '0' && h[tlen] <= '9' && tlen < 12; tlen++)
    t = t * 10 + (h[tlen] - '0');
  if (!tlen || strncmp(h + tlen, ",v1=", 4) != 0)
    return LB_ESIGNATURE;
  v1 = h + tlen + 4;
  if (strlen(v1) != 64)
    return LB_ESIGNATURE;
  if (t < req->now_s - SIM_TOLERANCE_S || t > req->now_s + SIM_TOLERANCE_S)
    return LB_ESIGNATURE;
  snprintf(got, sizeof got, "%s", v1);
  for (char *c = got; *c; c++)
    if (*c >= 'A' && *c <= 'F')
      *c = (char)(*c - 'A' + 'a');

  if (sim_signature(s->secret, h, tlen, req->body, req->body_len, want))
    return LB_ESIGNATURE;
  return crypto_streq(want, got) ? LB_OK : LB_ESIGNATURE;
}

static enum lb_err copy_field(json_t *o, const char *key, char *dst, size_t n,
                              int required, char *why, size_t whylen)
{
  json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) {
    dst[0] = '\0';
    if (required) {
      snprintf(why, whylen, "'%s' is required", key);
      return LB_EINVAL;
    }
    return LB_OK;
  }
  if (!json_is_string(v) || json_string_length(v) >= n) {
    snprintf(why, whylen, "'%s' must be a string of under %zu bytes", key, n);
    return LB_EINVAL;
  }
  memcpy(dst, json_string_value(v), json_string_length(v) + 1);
  return LB_OK;
}

static json_t *load_object(const struct hook_request *req, char *why,
                           size_t whylen)
{
  json_error_t jerr;
  json_t *o =
      json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (!o) {
    snprintf(why, whylen, "body is not valid JSON: %s (line %d)", jerr.text,
             jerr.line);
    return NULL;
  }
  if (!json_is_object(o)) {
    snprintf(why, whylen, "body must be a JSON object");
    json_decref(o);
    return NULL;
  }
  return o;
}

static enum lb_err sim_parse_inbound(const struct provider *p,
                                     const struct hook_request *req,
                                     struct inbound_msg *out, char *why,
                                     size_t whylen)
{
  const struct sim_priv *s = p->priv;
  json_t *o = load_object(req, why, whylen), *media, *text, *it;
  size_t i;
  int rc = LB_EINVAL;

  if (!o)
    return LB_EPARSE;
  if ((rc = copy_field(o, "id", out->provider_msg_id,
                       sizeof out->provider_msg_id, 1, why, whylen)) ||
      (rc = copy_field(o, "from", out->from, sizeof out->from, 1, why,
                       whylen)) ||
      (rc = copy_field(o, "to", out->to, sizeof out->to, 1, why, whylen)))
    goto out;
  rc = LB_EINVAL;
  text = json_object_get(o, "text");
  if (text && !json_is_string(text) && !json_is_null(text)) {
    snprintf(why, whylen, "'text' must be a string");
    goto out;
  }
  out->text = strdup(json_is_string(text) ? json_string_value(text) : "");
  if (!out->text) {
    rc = LB_ENOMEM;
    goto out;
  }
  media = json_object_get(o, "media");
  if (media && !json_is_array(media) && !json_is_null(media)) {
    snprintf(why, whylen, "'media' must be an array");
    goto out;
  }
  if (json_array_size(media) > LB_MEDIA_MAX) {
    snprintf(why, whylen, "at most %d media items", LB_MEDIA_MAX);
    rc = LB_ETOOBIG;
    goto out;
  }
  json_array_foreach(media, i, it)
  {
    struct inbound_media *im = &out->media[out->n_media];
    const char *ct = NULL, *data = NULL, *url = NULL;
    size_t dlen = 0;
    if (json_unpack(it, "{s?s, s?s%, s?s}", "content_type", &ct, "data", &data,
                    &dlen, "url", &url) ||
        (!url && (!ct || !data)) || (url && data)) {
      snprintf(why, whylen,
               "media[%zu] needs 'content_type' and base64 'data', or a 'url'",
               i);
      goto out;
    }
    if (url) {
      /* Fetched later by the gateway, like a real provider's media link. */
      if (strlen(url) >= 2048) {
        snprintf(why, whylen, "media[%zu].url is longer than 2047 bytes", i);
        goto out;
      }
      if (!(im->url = strdup(url))) {
        rc = LB_ENOMEM;
        goto out;
      }
      str_copy(im->content_type, sizeof im->content_type, ct ? ct : "");
      out->n_media++;
      continue;
    }
    rc = crypto_base64_decode(data, dlen, "\r\n", (size_t)s->media_max_bytes,
                              &im->data, &im->len);
    if (rc == LB_ETOOBIG)
      snprintf(why, whylen, "media[%zu] is larger than %ld bytes", i,
               s->media_max_bytes);
    else if (rc == LB_EINVAL)
      snprintf(why, whylen, "media[%zu].data is not valid base64", i);
    if (rc)
      goto out;
    out->n_media++;
    str_copy(im->content_type, sizeof im->content_type, ct);
  }
  rc = LB_OK;
out:
  json_decref(o);
  return rc;
}

static enum lb_err sim_parse_status(const struct provider *p,
                                    const struct hook_request *req,
                                    struct status_update *out, char *why,
                                    size_t whylen)
{
  json_t *o = load_object(req, why, whylen);
  char status[32], ref[LB_ID_SIZE + 12], *dot;
  int rc;

  if (!o)
    return LB_EPARSE;
  if ((rc = copy_field(o, "id", out->provider_msg_id,
                       sizeof out->provider_msg_id, 1, why, whylen)) ||
      (rc = copy_field(o, "ref", ref, sizeof ref, 0, why, whylen)))
    goto out;
  /* "<id>.<round>": a retried message's; the id is ours. */
  if ((dot = strchr(ref, '.')))
    *dot = '\0';
  if (strlen(ref) >= sizeof out->ref) {
    snprintf(why, whylen, "'ref' must be one of lyrebird's message ids");
    rc = LB_EINVAL;
    goto out;
  }
  memcpy(out->ref, ref, strlen(ref) + 1);
  if ((rc = copy_field(o, "status", status, sizeof status, 1, why, whylen)) ||
      (rc = copy_field(o, "error_code", out->error_code, sizeof out->error_code,
                       0, why, whylen)) ||
      (rc = copy_field(o, "error_text", out->error_text, sizeof out->error_text,
                       0, why, whylen)))
    goto out;
  if (strcmp(status, "delivered") == 0)
    out->status = ST_DELIVERED;
  else if (strcmp(status, "undelivered") == 0)
    out->status = ST_UNDELIVERED;
  else if (strcmp(status, "failed") == 0)
    out->status = ST_FAILED;
  else if (strcmp(status, "sent") == 0)
    out->status = ST_SENT;
  else {
    snprintf(why, whylen,
             "'status' must be sent, delivered, undelivered or failed");
    rc = LB_EINVAL;
  }
out:
  json_decref(o);
  return rc;
}

const struct provider_ops provider_sim = {
    .name = "sim",
    .title = "Simulated carrier",
    .keys = sim_keys,
    .n_keys = sizeof sim_keys / sizeof sim_keys[0],
    .settings_size = sizeof(struct sim_settings),
    .validate = sim_validate,
    .init = sim_init,
    .release = sim_release,
    .build_send = sim_build_send,
    .parse_send = sim_parse_send,
    .verify_hook = sim_verify_hook,
    .parse_inbound = sim_parse_inbound,
    .parse_status = sim_parse_status,
};

const struct sim_settings *sim_settings(const struct config *cfg)
{
  return provider_settings(cfg, &provider_sim);
}
