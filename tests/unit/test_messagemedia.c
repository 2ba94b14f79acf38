/* Sinch MessageMedia's adapter, as tables over fixture files in
 * tests/fixtures/messagemedia/. The adapter is a pure translator, so every
 * test feeds it bytes and checks what it makes of them: the send request
 * (field by field), the answers, the HMAC signing (every published vector),
 * the webhook secret, replies (SMS, MMS with inline base64, opt-outs),
 * delivery reports, `provider setup` and `provider check`. */
#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/message.h"
#include "providers/messagemedia.h"
#include "providers/provider.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/wire.h"

#define FIXTURE_SUBDIR "messagemedia"
#include "adapter_test.h" /* CHECK_*, fixture(), struct fake_hook */

#define KEY "mm-api-key-0123"
#define SECRET "mm-api-secret-0123456789"
#define HOOK_SECRET "mm-webhook-secret-0123456789abcdef"
#define CLINIC "+61488868772"
#define PATIENT "+61412345678"
#define REF "01JD3Q7X8Y9Z0ABCDEFGHJKMNP"
#define PUBLIC_URL "https://sms.clinic.example"
#define HOOKS PUBLIC_URL "/hooks/messagemedia"
#define MEDIA1                                                                 \
  "https://sms.clinic.example/p/media/01JD3Q7X8Y9Z0ABCDEFGHJKMNQ/"             \
  "fit:500000:1600/1795000000/c2lnbmF0dXJl"
#define VECTOR_TIME 1576145779 /* Thu, 12 Dec 2019 10:16:19 GMT */

static struct config cfg;
static struct provider mm;

/* ---- helpers ------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *key)
{
  return json_string_value(json_object_get(o, key));
}

static int init_provider(struct provider *p, struct config *c,
                         const char *const *settings)
{
  int rc;
  if ((rc = config_init(c)))
    return rc;
  for (size_t i = 0; settings && settings[i]; i += 3)
    if ((rc = config_set(c, settings[i], settings[i + 1], settings[i + 2])))
      return rc;
  return provider_init(p, "messagemedia", c);
}

static const char *const base_settings[] = {"messagemedia",
                                            "api_key",
                                            KEY,
                                            "messagemedia",
                                            "api_secret",
                                            SECRET,
                                            "messagemedia",
                                            "webhook_secret",
                                            HOOK_SECRET,
                                            "clinic",
                                            "number",
                                            CLINIC,
                                            "clinic",
                                            "name",
                                            "WalkEasy Nexus Clinic",
                                            NULL};

static int group_setup(void **state)
{
  return init_provider(&mm, &cfg, base_settings) == LB_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
  provider_release(&mm);
  config_release(&cfg);
  return 0;
}

/* A JSON webhook with the shared secret (or another, or none). */
static struct hook_request hook(struct fake_hook *h, const char *path,
                                const char *body, size_t len,
                                const char *secret)
{
  struct hook_request r = {
      .method = "POST",
      .path = path,
      .query_string = "",
      .public_url = PUBLIC_URL,
      .content_type = "application/json",
      .body = body,
      .body_len = len,
      .header = fake_header,
      .query = fake_query,
      .ctx = h,
      .now_s = VECTOR_TIME,
  };
  if (secret)
    add_header(h, "X-Lyrebird-Secret", secret);
  return r;
}

static void new_message(struct message *m, const char *text)
{
  message_init(m);
  snprintf(m->id, sizeof m->id, "%s", REF);
  snprintf(m->from, sizeof m->from, CLINIC);
  snprintf(m->to, sizeof m->to, PATIENT);
  m->text = text ? strdup(text) : NULL;
}

/* The request's headers as a JSON object (each name once). */
static json_t *headers_json(const struct wire_request *req)
{
  json_t *hdrs = json_object();
  for (size_t i = 0; i < req->n_headers; i++) {
    const char *sep = strstr(req->headers[i], ": ");
    char name[LB_WIRE_HEADER_MAX];
    assert_non_null(sep);
    snprintf(name, sizeof name, "%.*s", (int)(sep - req->headers[i]),
             req->headers[i]);
    if (json_object_get(hdrs, name))
      fail_msg("header %s sent twice", name);
    json_object_set_new(hdrs, name, json_string(sep + 2));
  }
  return hdrs;
}

static const char *header_value(const struct wire_request *req,
                                const char *name)
{
  size_t n = strlen(name);
  for (size_t i = 0; i < req->n_headers; i++)
    if (strncmp(req->headers[i], name, n) == 0 &&
        strncmp(req->headers[i] + n, ": ", 2) == 0)
      return req->headers[i] + n + 2;
  return NULL;
}

/* Compares two JSON objects key by key, naming the first difference. */
static void check_object(const char *row, json_t *got, json_t *want)
{
  const char *k;
  json_t *v;
  if (!json_is_object(got))
    fail_msg("%s: not a JSON object", row);
  json_object_foreach(want, k, v)
  {
    json_t *g = json_object_get(got, k);
    if (!g)
      fail_msg("%s: '%s' missing", row, k);
    if (!json_equal(g, v)) {
      char *gs = json_dumps(g, JSON_ENCODE_ANY),
           *ws = json_dumps(v, JSON_ENCODE_ANY);
      fail_msg("%s: '%s' = %s, want %s", row, k, gs, ws);
    }
  }
  json_object_foreach(got, k, v) if (!json_object_get(want, k))
      fail_msg("%s: unexpected '%s'", row, k);
}

static void check_request(const char *name, const struct wire_request *req,
                          int check_userpwd)
{
  json_t *want = fixture_json(name), *body, *hdrs;
  json_error_t err;
  CHECK_STR(name, req->method, jstr(want, "method"));
  CHECK_STR(name, req->url, jstr(want, "url"));
  if (check_userpwd)
    CHECK_STR(name, req->userpwd, jstr(want, "userpwd"));
  if (json_object_get(want, "headers")) {
    hdrs = headers_json(req);
    check_object(name, hdrs, json_object_get(want, "headers"));
    json_decref(hdrs);
  }
  body = json_loads(req->body.data, JSON_REJECT_DUPLICATES, &err);
  if (!body)
    fail_msg("%s: the body is not JSON: %s", name, err.text);
  /* Field by field, then the nested message. */
  check_object(name, body, json_object_get(want, "body"));
  if (json_object_get(body, "messages")) {
    assert_int_equal(json_array_size(json_object_get(body, "messages")), 1);
    check_object(
        name, json_array_get(json_object_get(body, "messages"), 0),
        json_array_get(
            json_object_get(json_object_get(want, "body"), "messages"), 0));
  }
  json_decref(body);
  json_decref(want);
}

/* ---- registry and capabilities ------------------------------------------ */

static void test_registry_and_caps(void **state)
{
  assert_non_null(provider_find("messagemedia"));
  assert_non_null(strstr(provider_names(), "messagemedia"));
  assert_non_null(strstr(provider_names(), "twilio"));
  assert_non_null(strstr(provider_names(), "sim"));

  assert_int_equal(mm.caps.sms_out, 1);
  assert_int_equal(mm.caps.sms_in, 1);
  assert_int_equal(mm.caps.mms_out, 1);
  assert_int_equal(mm.caps.mms_in, 1);
  assert_int_equal(mm.caps.mms_max_bytes, 500000);
  assert_int_equal(mm.caps.max_media, 3);
  assert_int_equal(mm.caps.subject_max, 64);
  assert_int_equal(mm.caps.dedupes_by_ref, 0);
  assert_true(mm.caps.rate_per_s > 0);
  assert_string_equal(mm.caps.mms_types[0], "image/jpeg");
  assert_string_equal(mm.caps.mms_types[1], "image/png");
  assert_string_equal(mm.caps.mms_types[2], "image/gif");
  assert_null(mm.caps.mms_types[3]);
  /* Media arrive inline: no host is allowed (never "any host"). */
  assert_non_null(mm.caps.media_hosts);
  assert_null(mm.caps.media_hosts[0]);
  assert_null(mm.caps.media_userpwd);
  /* Four items of [media] max_bytes (10 MiB) in base64, and 64 KiB. */
  assert_int_equal(mm.caps.inbound_body_max,
                   (size_t)4 * 10485760 / 3 * 4 + 64 * 1024);
  assert_null(mm.ops->hook_reply_body);
  assert_non_null(mm.ops->build_setup);
  assert_non_null(mm.ops->parse_setup);
  assert_non_null(mm.ops->build_check);
  assert_null(mm.ops->build_media_delete);

  {
    struct config c;
    struct provider p;
    static const char *const s[] = {
        "messagemedia", "mms_max_bytes", "300000", "media",
        "max_bytes",    "2000000",       NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    assert_int_equal(p.caps.mms_max_bytes, 300000);
    assert_int_equal(p.caps.inbound_body_max,
                     (size_t)4 * 2000000 / 3 * 4 + 64 * 1024);
    provider_release(&p);
    assert_null(p.priv);
    config_release(&c);
  }
  {
    struct config c;
    struct provider p;
    static const char *const s[] = {"messagemedia", "auth", "digest", NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_ECONFIG);
    config_release(&c);
    static const char *const s2[] = {"messagemedia", "base_url",
                                     "ftp://x.example", NULL};
    assert_int_equal(init_provider(&p, &c, s2), LB_ECONFIG);
    config_release(&c);
  }
}

/* ---- build_send --------------------------------------------------------- */

static void test_build_send_mms(void **state)
{
  json_t *want = fixture_json("send_request_mms.json");
  json_t *wm = json_array_get(
      json_object_get(json_object_get(want, "body"), "messages"), 0);
  struct send_media sm[1] = {{.content_type = "image/jpeg", .url = MEDIA1}};
  struct message m;
  struct send_input in = {&m, sm, 1, HOOKS "/status"};
  struct wire_request req;

  new_message(&m, jstr(wm, "content"));
  m.n_media = 1;
  wire_request_init(&req);
  assert_int_equal(mm.ops->build_send(&mm, &in, &req), LB_OK);
  check_request("send_request_mms.json", &req, 1);
  /* No callback_url: receipts and replies go to the account's webhooks,
   * which carry the secret (docs/providers/messagemedia.md). */
  assert_null(strstr(req.body.data, "callback_url"));
  wire_request_release(&req);
  message_release(&m);
  json_decref(want);
}

static void test_build_send_sms(void **state)
{
  json_t *want = fixture_json("send_request_sms.json");
  json_t *wm = json_array_get(
      json_object_get(json_object_get(want, "body"), "messages"), 0);
  struct message m;
  struct send_input in = {&m, NULL, 0, HOOKS "/status"};
  struct wire_request req;

  new_message(&m, jstr(wm, "content"));
  wire_request_init(&req);
  assert_int_equal(mm.ops->build_send(&mm, &in, &req), LB_OK);
  check_request("send_request_sms.json", &req, 1);
  /* An SMS has no media and no subject. */
  assert_null(strstr(req.body.data, "\"media\""));
  assert_null(strstr(req.body.data, "\"subject\""));
  wire_request_release(&req);
  message_release(&m);
  json_decref(want);
}

static int build_rc(struct provider *p, struct message *m,
                    const struct send_media *sm, size_t n,
                    struct wire_request *req)
{
  struct send_input in = {m, sm, n, NULL};
  wire_request_release(req);
  wire_request_init(req);
  return p->ops->build_send(p, &in, req);
}

static void test_build_send_errors(void **state)
{
  struct send_media sm[4];
  struct message m;
  struct wire_request req;
  char *big;
  json_t *body;

  for (int i = 0; i < 4; i++)
    sm[i] = (struct send_media){.content_type = "image/png", .url = MEDIA1};
  wire_request_init(&req);
  new_message(&m, "hi");

  CHECK_RC("3 media", build_rc(&mm, &m, sm, 3, &req), LB_OK);
  CHECK_RC("4 media", build_rc(&mm, &m, sm, 4, &req), LB_ETOOBIG);
  sm[0].url = NULL;
  CHECK_RC("media without url", build_rc(&mm, &m, sm, 1, &req), LB_EINVAL);
  sm[0].url = "ftp://x.example/a.png";
  CHECK_RC("media not http", build_rc(&mm, &m, sm, 1, &req), LB_EINVAL);
  sm[0].url = MEDIA1;
  sm[0].content_type = "image/webp";
  CHECK_RC("webp", build_rc(&mm, &m, sm, 1, &req), LB_EMEDIATYPE);
  sm[0].content_type = "image/JPEG; q=1";
  CHECK_RC("type with params", build_rc(&mm, &m, sm, 1, &req), LB_OK);

  snprintf(m.to, sizeof m.to, "0412345678");
  CHECK_RC("local to", build_rc(&mm, &m, NULL, 0, &req), LB_EINVAL);
  snprintf(m.to, sizeof m.to, PATIENT);
  m.from[0] = '\0';
  CHECK_RC("no from", build_rc(&mm, &m, NULL, 0, &req), LB_EINVAL);
  snprintf(m.from, sizeof m.from, CLINIC);

  /* content is required: an empty SMS is refused, an MMS without text
   * carries the clinic's name. */
  free(m.text);
  m.text = NULL;
  CHECK_RC("empty sms", build_rc(&mm, &m, NULL, 0, &req), LB_EINVAL);
  sm[0].content_type = "image/png";
  CHECK_RC("empty mms", build_rc(&mm, &m, sm, 1, &req), LB_OK);
  body = json_loads(req.body.data, 0, NULL);
  assert_string_equal(
      jstr(json_array_get(json_object_get(body, "messages"), 0), "content"),
      "WalkEasy Nexus Clinic");
  json_decref(body);

  /* 5000 characters (here 3-byte ones) go; 5001 do not. */
  big = malloc(5001 * 3 + 1);
  assert_non_null(big);
  for (int i = 0; i < 5001; i++)
    memcpy(big + 3 * i, "\xe2\x98\x95", 3);
  big[5000 * 3] = '\0';
  m.text = big;
  CHECK_RC("5000 chars", build_rc(&mm, &m, NULL, 0, &req), LB_OK);
  big[5000 * 3] = '\xe2';
  big[5001 * 3] = '\0';
  CHECK_RC("5001 chars", build_rc(&mm, &m, NULL, 0, &req), LB_ETOOBIG);
  big[1] = 'x'; /* a broken sequence */
  CHECK_RC("bad utf-8", build_rc(&mm, &m, NULL, 0, &req), LB_EINVAL);
  message_release(&m);

  /* No credentials: not configured. */
  {
    struct config c;
    struct provider p;
    static const char *const s[] = {"clinic", "number", CLINIC, NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    new_message(&m, "hi");
    CHECK_RC("no key", build_rc(&p, &m, NULL, 0, &req), LB_ECONFIG);
    message_release(&m);
    provider_release(&p);
    config_release(&c);
  }
  /* A long clinic name with multi-byte characters: the subject is cut at a
   * character boundary, within 64 bytes; another base URL is used. */
  {
    struct config c;
    struct provider p;
    static const char *const s[] = {
        "messagemedia",
        "api_key",
        KEY,
        "messagemedia",
        "api_secret",
        SECRET,
        "messagemedia",
        "base_url",
        "http://127.0.0.1:18081/",
        "clinic",
        "name",
        "Clínica Fisioterapia São João — Ortopedia e Reabilitação Avançada",
        NULL};
    const char *subject;
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    new_message(&m, "hi");
    CHECK_RC("long name", build_rc(&p, &m, sm, 1, &req), LB_OK);
    assert_string_equal(req.url, "http://127.0.0.1:18081/v1/messages");
    body = json_loads(req.body.data, 0, NULL);
    assert_non_null(body);
    subject =
        jstr(json_array_get(json_object_get(body, "messages"), 0), "subject");
    assert_non_null(subject);
    assert_true(strlen(subject) <= 64 && strlen(subject) >= 60);
    assert_int_equal(strncmp(subject, "Clínica Fisioterapia São João — ", 20),
                     0);
    json_decref(body);
    message_release(&m);
    provider_release(&p);
    config_release(&c);
  }
  wire_request_release(&req);
}

/* ---- HMAC --------------------------------------------------------------- */

static void test_hmac_vectors(void **state)
{
  json_t *v = fixture_json("hmac_vectors.json"), *it;
  char date[MM_DATE_SIZE], md5[MM_MD5_HEX], auth[512], b64[128];
  const char *key = jstr(v, "api_key"), *secret = jstr(v, "api_secret");
  char userpwd[256];
  size_t i;

  assert_int_equal(messagemedia_http_date(
                       json_integer_value(json_object_get(v, "unix_s")), date),
                   LB_OK);
  assert_string_equal(date, jstr(v, "date"));
  json_array_foreach(json_object_get(v, "cases"), i, it)
  {
    const char *body = jstr(it, "body");
    char row[64];
    snprintf(row, sizeof row, "vector %zu (%s %s)", i, jstr(it, "method"),
             jstr(it, "path"));
    CHECK_RC(row,
             messagemedia_hmac(key, secret, jstr(v, "date"), jstr(it, "method"),
                               jstr(it, "path"), body, strlen(body), md5, auth,
                               sizeof auth),
             LB_OK);
    CHECK_STR(row, md5, jstr(it, "md5"));
    CHECK_STR(row, auth, jstr(it, "authorization"));
  }
  /* Basic for the same credentials. */
  snprintf(userpwd, sizeof userpwd, "%s:%s", key, secret);
  sodium_bin2base64(b64, sizeof b64, (const unsigned char *)userpwd,
                    strlen(userpwd), sodium_base64_VARIANT_ORIGINAL);
  assert_string_equal(jstr(v, "basic") + 6, b64);
  /* Dates in English, zero-padded. */
  assert_int_equal(messagemedia_http_date(0, date), LB_OK);
  assert_string_equal(date, "Thu, 01 Jan 1970 00:00:00 GMT");
  assert_int_equal(messagemedia_http_date(1795000000, date), LB_OK);
  assert_string_equal(date, "Wed, 18 Nov 2026 11:06:40 GMT");
  /* A key with a quote cannot be put in the header. */
  assert_int_equal(messagemedia_hmac("a\"b", secret, date, "GET", "/v1", NULL,
                                     0, md5, auth, sizeof auth),
                   LB_EINVAL);
  json_decref(v);
}

static int64_t vector_clock(void)
{
  return VECTOR_TIME;
}

static void test_build_send_hmac(void **state)
{
  struct config c;
  struct provider p;
  static const char *const s[] = {"messagemedia",
                                  "api_key",
                                  "API_KEY_12345678",
                                  "messagemedia",
                                  "api_secret",
                                  "API_SECRET_12345678",
                                  "messagemedia",
                                  "auth",
                                  "hmac",
                                  "messagemedia",
                                  "base_url",
                                  "http://127.0.0.1:18081/mm",
                                  NULL};
  struct message m;
  struct wire_request req;
  unsigned char md[EVP_MAX_MD_SIZE], mac[LB_SHA1_LEN];
  unsigned int mdlen = 0;
  char hex[33], want[512], sig[64];
  struct buf signing;

  assert_int_equal(init_provider(&p, &c, s), LB_OK);
  messagemedia_set_clock(&p, vector_clock);
  new_message(&m, "Content");
  wire_request_init(&req);
  assert_int_equal(build_rc(&p, &m, NULL, 0, &req), LB_OK);
  /* No Basic credentials; Date, x-Content-MD5 and Authorization instead,
   * recomputed here from their definition. */
  assert_string_equal(req.userpwd, "");
  assert_string_equal(header_value(&req, "Date"),
                      "Thu, 12 Dec 2019 10:16:19 GMT");
  assert_int_equal(
      EVP_Digest(req.body.data, req.body.len, md, &mdlen, EVP_md5(), NULL), 1);
  crypto_hex(md, mdlen, hex);
  assert_string_equal(header_value(&req, "x-Content-MD5"), hex);
  buf_init(&signing, 4096);
  assert_int_equal(buf_printf(&signing,
                              "Date: Thu, 12 Dec 2019 10:16:19 GMT\n"
                              "x-Content-MD5: %s\nPOST /mm/v1/messages "
                              "HTTP/1.1",
                              hex),
                   LB_OK);
  assert_int_equal(crypto_hmac_sha1("API_SECRET_12345678", 19, signing.data,
                                    signing.len, mac),
                   LB_OK);
  buf_release(&signing);
  sodium_bin2base64(sig, sizeof sig, mac, sizeof mac,
                    sodium_base64_VARIANT_ORIGINAL);
  snprintf(want, sizeof want,
           "hmac username=\"API_KEY_12345678\", algorithm=\"hmac-sha1\", "
           "headers=\"Date x-Content-MD5 request-line\", signature=\"%s\"",
           sig);
  assert_string_equal(header_value(&req, "Authorization"), want);
  wire_request_release(&req);

  /* A GET (the check) has no body: no x-Content-MD5. */
  wire_request_init(&req);
  assert_int_equal(p.ops->build_check(&p, &req), LB_OK);
  assert_string_equal(req.url,
                      "http://127.0.0.1:18081/mm/v1/webhooks/messages");
  assert_null(header_value(&req, "x-Content-MD5"));
  assert_non_null(strstr(header_value(&req, "Authorization"),
                         "headers=\"Date request-line\""));
  wire_request_release(&req);
  message_release(&m);
  provider_release(&p);
  config_release(&c);
}

/* ---- parse_send --------------------------------------------------------- */

static const struct send_row {
  const char *name;
  long status;
  int error;
  int maybe_sent;
  long retry_after;
  const char *body;
  enum send_outcome outcome;
  const char *id;
  const char *code;
  const char *text;
  int refused;
  long retry_ms;
} send_rows[] = {
    {"202 accepted", 202, LB_OK, 0, -1, "send_response_202.json", SEND_ACCEPTED,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", "", NULL, 0, -1},
    {"202 mms", 202, LB_OK, 0, -1, "send_response_202_mms.json", SEND_ACCEPTED,
     "877c19ef-fa2e-4cec-827a-e1df9b5509f7", "", NULL, 0, -1},
    {"202 without an id", 202, LB_OK, 0, -1, "send_response_202_no_id.json",
     SEND_UNKNOWN, "", "bad_response", "message_id", 0, -1},
    {"202 not json", 202, LB_OK, 0, -1, "send_response_502.html", SEND_UNKNOWN,
     "", "bad_response", "HTTP 202", 0, -1},
    {"400 destination", 400, LB_OK, 0, -1, "send_response_400_destination.json",
     SEND_FINAL, "", "invalid_number",
     "/messages/0/destination_number: International address must be", 1, -1},
    {"400 media", 400, LB_OK, 0, -1, "send_response_400_media.json", SEND_FINAL,
     "", "invalid_request", "/messages/0/media/0: Not a valid url", 0, -1},
    {"401 credentials", 401, LB_OK, 0, -1, "send_response_401.json", SEND_FINAL,
     "", "auth_failed", "Invalid authentication credentials. Check", 0, -1},
    {"401 without a body", 401, LB_OK, 0, -1, NULL, SEND_FINAL, "",
     "auth_failed", "refused the credentials", 0, -1},
    {"422 +65 TLS", 422, LB_OK, 0, -1, NULL, SEND_FINAL, "", "rejected",
     "HTTP 422", 0, -1},
    {"429 with Retry-After", 429, LB_OK, 0, 7, "send_response_429.json",
     SEND_RETRY, "", "rate_limited", "Too many requests", 0, 7000},
    {"502 html", 502, LB_OK, 0, -1, "send_response_502.html", SEND_RETRY, "",
     "http_502", "HTTP 502", 0, -1},
    {"503", 503, LB_OK, 0, 2, NULL, SEND_RETRY, "", "http_503", "HTTP 503", 0,
     2000},
    {"timeout after sending", 0, LB_ETIMEOUT, 1, -1, NULL, SEND_UNKNOWN, "",
     "timeout", NULL, 0, -1},
    {"refused connection", 0, LB_EIO, 0, -1, NULL, SEND_RETRY, "", "network",
     NULL, 0, -1},
};

static void test_parse_send_table(void **state)
{
  for (size_t i = 0; i < sizeof send_rows / sizeof send_rows[0]; i++) {
    const struct send_row *r = &send_rows[i];
    struct wire_response res;
    struct send_result out;
    wire_response_init(&res);
    res.status = r->status;
    res.error = r->error;
    res.maybe_sent = r->maybe_sent;
    res.retry_after_s = r->retry_after;
    if (r->body) {
      size_t n;
      char *b = fixture(r->body, &n);
      assert_int_equal(buf_append(&res.body, b, n), LB_OK);
      free(b);
    }
    CHECK_RC(r->name, mm.ops->parse_send(&mm, &res, &out), LB_OK);
    CHECK_INT(r->name, out.outcome, r->outcome);
    CHECK_STR(r->name, out.provider_msg_id, r->id);
    CHECK_STR(r->name, out.error_code, r->code);
    if (r->text)
      CHECK_HAS(r->name, out.error_text, r->text);
    CHECK_INT(r->name, out.recipient != RECIPIENT_OK, r->refused);
    CHECK_INT(r->name, out.retry_after_ms, r->retry_ms);
    wire_response_release(&res);
  }
}

/* ---- verify_hook -------------------------------------------------------- */

static void test_verify_hook(void **state)
{
  struct fake_hook h;
  struct hook_request r;
  const char *body = "{}";

  memset(&h, 0, sizeof h);
  r = hook(&h, "/hooks/messagemedia/inbound", body, 2, HOOK_SECRET);
  CHECK_RC("good", mm.ops->verify_hook(&mm, &r), LB_OK);
  memset(&h, 0, sizeof h);
  r = hook(&h, "/hooks/messagemedia/status", body, 2, HOOK_SECRET "x");
  CHECK_RC("longer", mm.ops->verify_hook(&mm, &r), LB_ESIGNATURE);
  memset(&h, 0, sizeof h);
  r = hook(&h, "/hooks/messagemedia/status", body, 2, "mm-webhook-secret");
  CHECK_RC("prefix", mm.ops->verify_hook(&mm, &r), LB_ESIGNATURE);
  memset(&h, 0, sizeof h);
  r = hook(&h, "/hooks/messagemedia/status", body, 2, NULL);
  CHECK_RC("missing", mm.ops->verify_hook(&mm, &r), LB_EAUTH);
  memset(&h, 0, sizeof h);
  r = hook(&h, "/hooks/messagemedia/status", body, 2, "");
  CHECK_RC("empty", mm.ops->verify_hook(&mm, &r), LB_EAUTH);
  /* Header names ignore case. */
  memset(&h, 0, sizeof h);
  r = hook(&h, "/hooks/messagemedia/status", body, 2, NULL);
  add_header(&h, "x-lyrebird-secret", HOOK_SECRET);
  CHECK_RC("lower-case name", mm.ops->verify_hook(&mm, &r), LB_OK);
  /* The secret in the path is not accepted (it ends up in logs). */
  memset(&h, 0, sizeof h);
  r = hook(&h, "/hooks/messagemedia/status/" HOOK_SECRET, body, 2, NULL);
  CHECK_RC("path", mm.ops->verify_hook(&mm, &r), LB_EAUTH);
  /* No secret configured: nothing is trusted, not even an empty one. */
  {
    struct config c;
    struct provider p;
    static const char *const s[] = {"messagemedia", "api_key", KEY, NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    memset(&h, 0, sizeof h);
    r = hook(&h, "/hooks/messagemedia/status", body, 2, "anything");
    CHECK_RC("unconfigured", p.ops->verify_hook(&p, &r), LB_EAUTH);
    provider_release(&p);
    config_release(&c);
  }
}

/* ---- parse_inbound ------------------------------------------------------ */

static int parse_inbound_file(const char *name, const char *qevent,
                              struct inbound_msg *m, char *why, size_t n)
{
  struct fake_hook h;
  struct hook_request r;
  size_t len;
  char *body = fixture(name, &len);
  int rc;
  memset(&h, 0, sizeof h);
  if (qevent)
    add_query(&h, "event", qevent);
  r = hook(&h, "/hooks/messagemedia/inbound", body, len, HOOK_SECRET);
  inbound_msg_init(m);
  why[0] = '\0';
  rc = mm.ops->parse_inbound(&mm, &r, m, why, n);
  free(body);
  return rc;
}

static void test_parse_inbound(void **state)
{
  struct inbound_msg m, again;
  char why[300];
  size_t plen;
  char *png = fixture("photo_4x3.png", &plen);

  CHECK_RC("sms", parse_inbound_file("inbound_sms.json", NULL, &m, why, 300),
           LB_OK);
  assert_string_equal(m.provider_msg_id,
                      "mo:a175e797-2b54-468b-9850-41a3eab32f74");
  assert_string_equal(m.from, "+61491570156");
  assert_string_equal(m.to, CLINIC);
  assert_string_equal(m.text, "Yes, Tuesday 10:30 is fine — thanks! 👍");
  assert_int_equal(m.n_media, 0);
  assert_int_equal(m.opt_out, 0);
  inbound_msg_release(&m);

  CHECK_RC("mms", parse_inbound_file("inbound_mms.json", NULL, &m, why, 300),
           LB_OK);
  assert_string_equal(m.text, "");
  assert_int_equal(m.n_media, 1);
  assert_string_equal(m.media[0].content_type, "image/png");
  assert_null(m.media[0].url);
  assert_int_equal(m.media[0].len, plen);
  assert_memory_equal(m.media[0].data, png, plen);
  inbound_msg_release(&m);

  /* SMIL skipped, the text part becomes the text, base64 with line
   * breaks decoded. */
  CHECK_RC("parts",
           parse_inbound_file("inbound_mms_parts.json", NULL, &m, why, 300),
           LB_OK);
  assert_string_equal(m.text, "Here is the rash 🙁");
  assert_int_equal(m.n_media, 1);
  assert_memory_equal(m.media[0].data, png, plen);
  inbound_msg_release(&m);

  /* The API's documented default shape (its own sample template). */
  CHECK_RC("default",
           parse_inbound_file("inbound_mms_default.json", NULL, &m, why, 300),
           LB_OK);
  assert_string_equal(m.from, "+61491570156");
  assert_string_equal(m.to, CLINIC);
  assert_int_equal(m.n_media, 1);
  inbound_msg_release(&m);

  /* An opt-out: the patient's text, and the flag for the gateway. */
  CHECK_RC("opt-out",
           parse_inbound_file("inbound_opt_out.json", NULL, &m, why, 300),
           LB_OK);
  assert_int_equal(m.opt_out, 1);
  assert_string_equal(m.text, "STOP");
  assert_string_equal(m.provider_msg_id,
                      "optout:3e6e6b1a-6c1d-4b1a-9c1e-6f1a6b1a6c1d");
  inbound_msg_release(&m);
  /* The opt-out webhook's URL says so too. */
  CHECK_RC("opt-out by url",
           parse_inbound_file("inbound_sms.json", "opt_out", &m, why, 300),
           LB_OK);
  assert_int_equal(m.opt_out, 1);
  inbound_msg_release(&m);

  /* Unrendered ids and a blank 'to': the clinic's number, an id by digest
   * that a redelivery repeats. */
  CHECK_RC("unrendered",
           parse_inbound_file("inbound_unrendered.json", NULL, &m, why, 300),
           LB_OK);
  assert_string_equal(m.to, CLINIC);
  assert_int_equal(strncmp(m.provider_msg_id, "mo:sha256:", 10), 0);
  assert_int_equal(strlen(m.provider_msg_id), 10 + 64);
  CHECK_RC(
      "again",
      parse_inbound_file("inbound_unrendered.json", NULL, &again, why, 300),
      LB_OK);
  assert_string_equal(m.provider_msg_id, again.provider_msg_id);
  inbound_msg_release(&again);
  inbound_msg_release(&m);

  CHECK_RC("local from",
           parse_inbound_file("inbound_local_from.json", NULL, &m, why, 300),
           LB_OK);
  assert_string_equal(m.from, "+61491570156");
  inbound_msg_release(&m);
  free(png);
}

static const struct bad_row {
  const char *file;
  int rc;
  const char *why;
} bad_rows[] = {
    {"inbound_bad_not_json.json", LB_EINVAL, "not JSON"},
    {"inbound_bad_not_object.json", LB_EINVAL, "JSON object"},
    {"inbound_bad_duplicate_key.json", LB_EINVAL, "not JSON"},
    {"inbound_bad_no_from.json", LB_EINVAL, "'from'"},
    {"inbound_bad_from.json", LB_EINVAL, "not a phone number"},
    {"inbound_bad_empty.json", LB_EINVAL, "neither 'content'"},
    {"inbound_bad_base64.json", LB_EINVAL, "not valid base64"},
    {"inbound_bad_attachments_not_array.json", LB_EINVAL, "must be an array"},
    {"inbound_bad_attachment_no_content.json", LB_EINVAL, "base64 'content'"},
    {"inbound_bad_too_many.json", LB_ETOOBIG, "at most 10"},
    {"inbound_bad_dr.json", LB_EINVAL, "delivery report"},
    {"inbound_bad_event.json", LB_EINVAL, "'event'"},
};

static void test_parse_inbound_bad(void **state)
{
  for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
    struct inbound_msg m;
    char why[300];
    CHECK_RC(bad_rows[i].file,
             parse_inbound_file(bad_rows[i].file, NULL, &m, why, sizeof why),
             bad_rows[i].rc);
    CHECK_HAS(bad_rows[i].file, why, bad_rows[i].why);
    inbound_msg_release(&m);
  }
}

/* Attachments are bounded by [media] max_bytes, before and after
 * decoding. */
static void test_parse_inbound_limit(void **state)
{
  struct config c;
  struct provider p;
  static const char *const s[] = {
      "messagemedia", "webhook_secret", HOOK_SECRET, "media", "max_bytes",
      "1024",         "clinic",         "number",    CLINIC,  NULL};
  unsigned char data[1025];
  char b64[sodium_base64_ENCODED_LEN(1025, sodium_base64_VARIANT_ORIGINAL)];
  struct inbound_msg m;
  struct fake_hook h;
  struct hook_request r;
  char why[300];
  json_t *o;
  char *body;

  assert_int_equal(init_provider(&p, &c, s), LB_OK);
  memset(data, 0xab, sizeof data);
  for (size_t n = 1024; n <= 1025; n++) {
    sodium_bin2base64(b64, sizeof b64, data, n, sodium_base64_VARIANT_ORIGINAL);
    o = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "from", "+61491570156",
                  "content", "", "attachments", "content_type", "image/jpeg",
                  "content", b64);
    body = json_dumps(o, JSON_COMPACT);
    memset(&h, 0, sizeof h);
    r = hook(&h, "/hooks/messagemedia/inbound", body, strlen(body),
             HOOK_SECRET);
    inbound_msg_init(&m);
    CHECK_RC(n == 1024 ? "at the limit" : "one over",
             p.ops->parse_inbound(&p, &r, &m, why, sizeof why),
             n == 1024 ? LB_OK : LB_ETOOBIG);
    if (n == 1024)
      assert_int_equal(m.media[0].len, 1024);
    inbound_msg_release(&m);
    free(body);
    json_decref(o);
  }
  provider_release(&p);
  config_release(&c);
}

/* ---- parse_status ------------------------------------------------------- */

static const struct status_row {
  const char *file;
  int rc;
  enum msg_status status;
  const char *id;
  const char *ref;
  const char *code;
  const char *text; /* error_text contains, or why for a failure */
} status_rows[] = {
    {"status_delivered.json", LB_OK, ST_DELIVERED,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", REF, "", ""},
    {"status_delivered_handset.json", LB_OK, ST_DELIVERED,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", REF, "", ""},
    {"status_enroute.json", LB_OK, ST_SENT,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", REF, "", ""},
    {"status_submitted.json", LB_OK, ST_SENT,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", REF, "", ""},
    {"status_expired.json", LB_OK, ST_UNDELIVERED,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", REF, "messagemedia_401",
     "expired before it was delivered"},
    {"status_rejected_blocked.json", LB_OK, ST_FAILED,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", REF, "messagemedia_302",
     "destination number is blocked"},
    {"status_failed_unreachable.json", LB_OK, ST_FAILED,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", REF, "messagemedia_414",
     "unreachable"},
    {"status_undeliverable.json", LB_OK, ST_UNDELIVERED,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", REF, "undeliverable",
     "undeliverable"},
    {"status_code_only.json", LB_OK, ST_UNDELIVERED,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", REF, "messagemedia_413",
     "cannot receive SMS"},
    {"status_no_metadata.json", LB_OK, ST_DELIVERED,
     "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a", "", "", ""},
    {"status_only_ref.json", LB_OK, ST_DELIVERED, "", REF, "", ""},
    {"status_default_body.json", LB_OK, ST_DELIVERED,
     "877c19ef-fa2e-4cec-827a-e1df9b5509f7", REF, "", ""},
    {"status_bad_no_reference.json", LB_EINVAL, ST_QUEUED, "", "", "",
     "no message reference"},
    {"status_bad_unknown.json", LB_EINVAL, ST_QUEUED, "", "", "",
     "'teleported'"},
    {"status_bad_missing_status.json", LB_EINVAL, ST_QUEUED, "", "", "",
     "'status' is required"},
    {"status_bad_code_word.json", LB_EINVAL, ST_QUEUED, "", "", "",
     "must be a number"},
    {"status_bad_reply.json", LB_EINVAL, ST_QUEUED, "", "", "",
     "a reply sent to the status URL"},
    {"inbound_bad_not_json.json", LB_EINVAL, ST_QUEUED, "", "", "", "not JSON"},
};

static void test_parse_status(void **state)
{
  for (size_t i = 0; i < sizeof status_rows / sizeof status_rows[0]; i++) {
    const struct status_row *s = &status_rows[i];
    struct fake_hook h;
    struct hook_request r;
    struct status_update out;
    char why[300] = "";
    size_t len;
    char *body = fixture(s->file, &len);
    memset(&h, 0, sizeof h);
    r = hook(&h, "/hooks/messagemedia/status", body, len, HOOK_SECRET);
    CHECK_RC(s->file, mm.ops->parse_status(&mm, &r, &out, why, sizeof why),
             s->rc);
    if (s->rc) {
      CHECK_HAS(s->file, why, s->text);
    } else {
      CHECK_INT(s->file, out.status, s->status);
      CHECK_STR(s->file, out.provider_msg_id, s->id);
      CHECK_STR(s->file, out.ref, s->ref);
      CHECK_STR(s->file, out.error_code, s->code);
      CHECK_HAS(s->file, out.error_text, s->text);
    }
    free(body);
  }
}

/* ---- provider setup ----------------------------------------------------- */

static void test_setup(void **state)
{
  struct wire_request req;
  struct wire_response res;
  char out[512], name[64];
  static const struct {
    long status;
    int error;
    const char *body;
    int rc;
    const char *text;
  } answers[] = {
      {201, LB_OK, "setup_response_201.json", LB_OK,
       "created the webhook for replies (RECEIVED_SMS, RECEIVED_MMS), id "
       "76fa7010-8c1f-4a24-917a-4d62a54e744d"},
      {409, LB_OK, "setup_response_409.json", LB_OK,
       "already there (same URL and method): delete it in the Hub"},
      {400, LB_OK, "setup_response_400.json", LB_EPROVIDER,
       "HTTP 400: Bad Request: /url: Not a valid http url"},
      {401, LB_OK, "send_response_401.json", LB_EAUTH,
       "refused the credentials (HTTP 401): Invalid authentication"},
      {0, LB_EIO, NULL, LB_EPROVIDER, "could not reach MessageMedia"},
  };

  for (int n = 0; n < 3; n++) {
    wire_request_init(&req);
    assert_int_equal(mm.ops->build_setup(&mm, n, HOOKS, &req), LB_OK);
    snprintf(name, sizeof name, "setup_request_%d.json", n);
    check_request(name, &req, 0);
    assert_string_equal(req.userpwd, KEY ":" SECRET);
    wire_request_release(&req);
  }
  /* The templates the header exports are the ones registered. */
  {
    json_t *w0 = fixture_json("setup_request_0.json"),
           *w1 = fixture_json("setup_request_1.json"),
           *w2 = fixture_json("setup_request_2.json");
    assert_string_equal(jstr(json_object_get(w0, "body"), "template"),
                        messagemedia_template_inbound);
    assert_string_equal(jstr(json_object_get(w1, "body"), "template"),
                        messagemedia_template_opt_out);
    assert_string_equal(jstr(json_object_get(w2, "body"), "template"),
                        messagemedia_template_status);
    json_decref(w0);
    json_decref(w1);
    json_decref(w2);
  }
  wire_request_init(&req);
  CHECK_RC("no more", mm.ops->build_setup(&mm, 3, HOOKS, &req), LB_ENOTFOUND);
  wire_request_release(&req);

  for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
    wire_response_init(&res);
    res.status = answers[i].status;
    res.error = answers[i].error;
    if (answers[i].body) {
      size_t len;
      char *b = fixture(answers[i].body, &len);
      assert_int_equal(buf_append(&res.body, b, len), LB_OK);
      free(b);
    }
    CHECK_RC(answers[i].text,
             mm.ops->parse_setup(&mm, 0, &res, out, sizeof out), answers[i].rc);
    CHECK_HAS(answers[i].text, out, answers[i].text);
    wire_response_release(&res);
  }

  /* Without a webhook secret every webhook would be refused: not
   * registered. */
  {
    struct config c;
    struct provider p;
    static const char *const s[] = {
        "messagemedia", "api_key", KEY, "messagemedia",
        "api_secret",   SECRET,    NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    wire_request_init(&req);
    CHECK_RC("no secret", p.ops->build_setup(&p, 0, HOOKS, &req), LB_ECONFIG);
    wire_request_release(&req);
    provider_release(&p);
    config_release(&c);
  }
}

/* ---- provider check ----------------------------------------------------- */

static void test_check(void **state)
{
  struct wire_request req;
  struct wire_response res;
  char out[512];
  static const struct {
    long status;
    int error;
    const char *body;
    int rc;
    const char *text;
  } rows[] = {
      {200, LB_OK, "check_ok.json", LB_OK,
       "credentials accepted (1 webhook on the account)"},
      {200, LB_OK, "check_empty.json", LB_OK,
       "credentials accepted (0 webhooks on the account)"},
      {200, LB_OK, NULL, LB_OK, "credentials accepted"},
      {401, LB_OK, "send_response_401.json", LB_EAUTH,
       "Invalid authentication credentials. Check [messagemedia] api_key"},
      {500, LB_OK, NULL, LB_EPROVIDER, "answered HTTP 500"},
      {0, LB_ETIMEOUT, NULL, LB_EPROVIDER, "could not reach MessageMedia"},
  };

  wire_request_init(&req);
  assert_int_equal(mm.ops->build_check(&mm, &req), LB_OK);
  assert_string_equal(req.method, "GET");
  assert_string_equal(req.url,
                      "https://api.messagemedia.com/v1/webhooks/messages");
  assert_string_equal(req.userpwd, KEY ":" SECRET);
  assert_int_equal(req.body.len, 0);
  wire_request_release(&req);

  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wire_response_init(&res);
    res.status = rows[i].status;
    res.error = rows[i].error;
    if (rows[i].body) {
      size_t len;
      char *b = fixture(rows[i].body, &len);
      assert_int_equal(buf_append(&res.body, b, len), LB_OK);
      free(b);
    }
    CHECK_RC(rows[i].text, mm.ops->parse_check(&mm, &res, out, sizeof out),
             rows[i].rc);
    CHECK_HAS(rows[i].text, out, rows[i].text);
    /* Never the secret. */
    assert_null(strstr(out, SECRET));
    wire_response_release(&res);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_and_caps),
      cmocka_unit_test(test_build_send_mms),
      cmocka_unit_test(test_build_send_sms),
      cmocka_unit_test(test_build_send_errors),
      cmocka_unit_test(test_hmac_vectors),
      cmocka_unit_test(test_build_send_hmac),
      cmocka_unit_test(test_parse_send_table),
      cmocka_unit_test(test_verify_hook),
      cmocka_unit_test(test_parse_inbound),
      cmocka_unit_test(test_parse_inbound_bad),
      cmocka_unit_test(test_parse_inbound_limit),
      cmocka_unit_test(test_parse_status),
      cmocka_unit_test(test_setup),
      cmocka_unit_test(test_check),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
