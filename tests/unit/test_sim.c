/* The simulated carrier's adapter, as tables over fixture files in
 * tests/fixtures/sim/. The adapter is a pure translator, so every test here
 * feeds it bytes and checks what it makes of them: the send request it
 * builds, the send answers it reads, the webhooks it verifies and parses. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/message.h"
#include "providers/provider.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/wire.h"

#define FIXTURE_SUBDIR "sim"
#include "adapter_test.h" /* CHECK_*, fixture(), struct fake_hook */

#define SECRET "sim-secret-0123456789"
#define BASE_URL "http://sim.test:9000/sim"
#define STATUS_URL "https://sms.clinic.example/hooks/sim/status"
#define REF "01JD3Q7X8Y9Z0ABCDEFGHJKMNP"
#define MEDIA_MAX 1024 /* [media] max_bytes, small to test the limit */
#define NOW 1795000000LL

/* The 19 bytes behind the base64 in the fixtures: a PNG signature and
 * header start, with 0x00 and 0xff to catch text-only handling. */
static const unsigned char png[] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A,
                                    0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48,
                                    0x44, 0x52, 0xFF, 0xFE, 0x00};

static struct config cfg;
static struct provider sim;

/* ---- helpers ------------------------------------------------------------ */

static struct hook_request hook(struct fake_hook *h, const char *path,
                                const char *body, size_t len)
{
  struct hook_request r = {
      .method = "POST",
      .path = path,
      .public_url = "https://sms.clinic.example",
      .content_type = "application/json",
      .body = body,
      .body_len = len,
      .header = fake_header,
      .query = fake_query,
      .ctx = h,
      .now_s = NOW,
  };
  return r;
}

/* "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>" */
static void sign(char *out, size_t outlen, const char *secret, long long t,
                 const char *body, size_t len)
{
  char prefix[32];
  unsigned char mac[LB_SHA256_LEN];
  char hex[LB_SHA256_HEX];
  size_t plen = (size_t)snprintf(prefix, sizeof prefix, "%lld.", t);
  char *msg = malloc(plen + len + 1);
  assert_non_null(msg);
  memcpy(msg, prefix, plen);
  memcpy(msg + plen, body, len);
  assert_int_equal(
      crypto_hmac_sha256(secret, strlen(secret), msg, plen + len, mac), LB_OK);
  free(msg);
  crypto_hex(mac, sizeof mac, hex);
  snprintf(out, outlen, "t=%lld,v1=%s", t, hex);
}

static int group_setup(void **state)
{
  if (config_init(&cfg) || config_set(&cfg, "sim", "base_url", BASE_URL) ||
      config_set(&cfg, "sim", "secret", SECRET) ||
      config_set(&cfg, "sim", "enabled", "true") ||
      config_set(&cfg, "media", "max_bytes", "1024") ||
      config_set(&cfg, "clinic", "number", "+61488868772"))
    return -1;
  return provider_init(&sim, "sim", &cfg) == LB_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
  provider_release(&sim);
  config_release(&cfg);
  return 0;
}

/* ---- registry and capabilities ------------------------------------------ */

static void test_registry_and_caps(void **state)
{
  struct config c;
  struct provider p;
  assert_non_null(provider_find("sim"));
  assert_string_equal(provider_find("sim")->name, "sim");
  assert_null(provider_find("carrier-pigeon"));
  assert_null(provider_find(NULL));
  assert_non_null(strstr(provider_names(), "sim"));

  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(provider_init(&p, "nope", &c), LB_ENOTFOUND);
  provider_release(&p);

  /* mms_out = false makes the sim stand in for an SMS-only provider. */
  assert_int_equal(config_set(&c, "sim", "mms_out", "false"), LB_OK);
  assert_int_equal(config_set(&c, "sim", "mms_max_bytes", "300000"), LB_OK);
  assert_int_equal(config_set(&c, "sim", "rate", "5"), LB_OK);
  assert_int_equal(provider_init(&p, "sim", &c), LB_OK);
  assert_int_equal(p.caps.sms_out, 1);
  assert_int_equal(p.caps.sms_in, 1);
  assert_int_equal(p.caps.mms_in, 1);
  assert_int_equal(p.caps.mms_out, 0);
  assert_int_equal(p.caps.mms_max_bytes, 300000);
  assert_int_equal(p.caps.rate_per_s, 5);
  /* The outbox relies on this to resend after a timeout. */
  assert_int_equal(p.caps.dedupes_by_ref, 1);
  provider_release(&p);
  assert_null(p.priv);

  assert_int_equal(sim.caps.mms_out, 1);
  config_release(&c);
}

/* ---- build_send --------------------------------------------------------- */

/* The request as one JSON object, comparable with send_request.json. */
static json_t *request_as_json(const struct wire_request *req)
{
  json_t *headers = json_object(), *body;
  json_error_t err;
  for (size_t i = 0; i < req->n_headers; i++) {
    const char *h = req->headers[i], *sep = strstr(h, ": ");
    char name[LB_WIRE_HEADER_MAX];
    assert_non_null(sep);
    snprintf(name, sizeof name, "%.*s", (int)(sep - h), h);
    if (json_object_get(headers, name))
      fail_msg("header %s sent twice", name);
    json_object_set_new(headers, name, json_string(sep + 2));
  }
  body =
      json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &err);
  if (!body)
    fail_msg("the body is not JSON: %s: %s", err.text, req->body.data);
  return json_pack("{s:s, s:s, s:o, s:o}", "method", req->method, "url",
                   req->url, "headers", headers, "body", body);
}

static void test_build_send_mms(void **state)
{
  json_t *want = fixture_json("send_request.json"), *got, *media;
  const char *text =
      json_string_value(json_object_get(json_object_get(want, "body"), "text"));
  struct message m;
  struct send_media sm = {
      .content_type = "image/png",
      .data = png,
      .len = sizeof png,
      .url = "https://sms.clinic.example/p/media/01JD3Q7X8Y9Z0ABCDEFGHJKMNQ/"
             "clean/1795000000/c2lnbmF0dXJl"};
  struct send_input in = {
      .msg = &m, .media = &sm, .n_media = 1, .status_url = STATUS_URL};
  struct wire_request req;
  unsigned char decoded[64];
  size_t dlen = 0;
  char *dump_got, *dump_want;

  message_init(&m);
  snprintf(m.id, sizeof m.id, "%s", REF);
  snprintf(m.from, sizeof m.from, "+61488868772");
  snprintf(m.to, sizeof m.to, "+61412345678");
  m.text = strdup(text);
  m.n_media = 1;
  wire_request_init(&req);

  assert_int_equal(sim.ops->build_send(&sim, &in, &req), LB_OK);
  got = request_as_json(&req);
  dump_got = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(2));
  dump_want = json_dumps(want, JSON_SORT_KEYS | JSON_INDENT(2));
  if (!json_equal(got, want))
    fail_msg("request differs from send_request.json\ngot:\n%s\nwant:\n%s",
             dump_got, dump_want);
  free(dump_got);
  free(dump_want);

  /* Independently of the fixture: the media decodes to the input bytes. */
  media = json_object_get(json_object_get(got, "body"), "media");
  assert_int_equal(json_array_size(media), 1);
  const char *b64 =
      json_string_value(json_object_get(json_array_get(media, 0), "data"));
  assert_non_null(b64);
  assert_int_equal(sodium_base642bin(decoded, sizeof decoded, b64, strlen(b64),
                                     NULL, &dlen, NULL,
                                     sodium_base64_VARIANT_ORIGINAL),
                   0);
  assert_int_equal(dlen, sizeof png);
  assert_memory_equal(decoded, png, sizeof png);
  /* The carrier dedupes by ref: it must be our message id. */
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(got, "body"), "ref")),
      m.id);

  json_decref(got);
  json_decref(want);
  wire_request_release(&req);
  message_release(&m);
}

/* A plain SMS: no media items, and the text survives exactly. */
static void test_build_send_sms(void **state)
{
  struct message m;
  struct send_input in = {
      .msg = &m, .media = NULL, .n_media = 0, .status_url = STATUS_URL};
  struct wire_request req;
  json_t *body, *media;
  json_error_t err;
  static const char text[] =
      "Kia ora \xf0\x9f\x91\x8b \"quoted\"\n\ttab \\ backslash \xe2\x82\xac";

  message_init(&m);
  id_new(m.id);
  snprintf(m.from, sizeof m.from, "+61488868772");
  snprintf(m.to, sizeof m.to, "+61412345678");
  m.text = strdup(text);
  wire_request_init(&req);
  assert_int_equal(sim.ops->build_send(&sim, &in, &req), LB_OK);
  assert_string_equal(req.method, "POST");
  assert_string_equal(req.url, BASE_URL "/api/messages");
  assert_string_equal(req.userpwd, "");
  body = json_loadb(req.body.data, req.body.len, 0, &err);
  assert_non_null(body);
  assert_string_equal(json_string_value(json_object_get(body, "text")), text);
  assert_string_equal(json_string_value(json_object_get(body, "ref")), m.id);
  assert_string_equal(json_string_value(json_object_get(body, "to")),
                      "+61412345678");
  media = json_object_get(body, "media");
  assert_true(media == NULL || json_array_size(media) == 0);
  json_decref(body);
  wire_request_release(&req);
  message_release(&m);
}

/* With no base_url the sim is this server, under /sim. */
static void test_build_send_default_base(void **state)
{
  struct config c;
  struct provider p;
  struct message m;
  struct send_input in = {.msg = &m, .status_url = STATUS_URL};
  struct wire_request req;
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_set(&c, "server", "port", "8765"), LB_OK);
  assert_int_equal(config_set(&c, "sim", "secret", SECRET), LB_OK);
  assert_int_equal(provider_init(&p, "sim", &c), LB_OK);
  message_init(&m);
  id_new(m.id);
  snprintf(m.from, sizeof m.from, "+61488868772");
  snprintf(m.to, sizeof m.to, "+61412345678");
  m.text = strdup("hi");
  wire_request_init(&req);
  assert_int_equal(p.ops->build_send(&p, &in, &req), LB_OK);
  assert_string_equal(req.url, "http://127.0.0.1:8765/sim/api/messages");
  wire_request_release(&req);
  message_release(&m);
  provider_release(&p);
  config_release(&c);
}

/* ---- parse_send --------------------------------------------------------- */

/* What each carrier answer means for the outbox. */
static const struct send_row {
  const char *name;
  long status;      /* HTTP status; 0 for no answer */
  int error;        /* transport error */
  int maybe_sent;   /* the request may have reached the carrier */
  long retry_after; /* Retry-After in seconds, -1 for none */
  const char *body; /* fixture file, or NULL for no body */
  enum send_outcome outcome;
  const char *id;   /* provider_msg_id, for SEND_ACCEPTED */
  const char *code; /* error_code, or NULL for "" */
  const char *text; /* error_text contains this, or NULL */
  long retry_ms;    /* retry_after_ms */
} send_rows[] = {
    {"202 accepted", 202, LB_OK, 0, -1, "send_response_accepted.json",
     SEND_ACCEPTED, "SM1", NULL, NULL, -1},
    {"200 accepted", 200, LB_OK, 0, -1, "send_response_accepted.json",
     SEND_ACCEPTED, "SM1", NULL, NULL, -1},
    {"400 invalid number", 400, LB_OK, 0, -1,
     "send_response_invalid_number.json", SEND_FINAL, "", "invalid_number",
     "+61299999999 cannot receive SMS", -1},
    {"401 bad secret", 401, LB_OK, 0, -1, "send_response_unauthorized.json",
     SEND_FINAL, "", "unauthorized", "bad bearer token", -1},
    {"403 no message", 403, LB_OK, 0, -1, "send_response_error_no_message.json",
     SEND_FINAL, "", "blocked", "HTTP 403", -1},
    {"400 empty body", 400, LB_OK, 0, -1, NULL, SEND_FINAL, "", "http_error",
     "HTTP 400", -1},
    {"503 unavailable", 503, LB_OK, 0, -1, "send_response_unavailable.json",
     SEND_RETRY, "", "unavailable", "carrier busy", -1},
    {"429 with Retry-After", 429, LB_OK, 0, 7,
     "send_response_rate_limited.json", SEND_RETRY, "", "rate_limited",
     "slow down", 7000},
    {"503 with Retry-After", 503, LB_OK, 0, 120,
     "send_response_unavailable.json", SEND_RETRY, "", "unavailable", NULL,
     120000},
    {"502 html", 502, LB_OK, 0, -1, "send_response_html.html", SEND_RETRY, "",
     "http_error", "HTTP 502", -1},
    {"408 timeout answer", 408, LB_OK, 0, -1, NULL, SEND_RETRY, "",
     "http_error", NULL, -1},
    {"timeout after sending", 0, LB_ETIMEOUT, 1, -1, NULL, SEND_UNKNOWN, "",
     "timeout", NULL, -1},
    {"reset after sending", 0, LB_EIO, 1, -1, NULL, SEND_UNKNOWN, "", "network",
     NULL, -1},
    {"connection refused", 0, LB_EIO, 0, -1, NULL, SEND_RETRY, "", "network",
     NULL, -1},
    {"connect timeout", 0, LB_ETIMEOUT, 0, -1, NULL, SEND_RETRY, "", "timeout",
     NULL, -1},
    {"200 without id", 200, LB_OK, 0, -1, "send_response_no_id.json",
     SEND_UNKNOWN, "", "bad_response", NULL, -1},
    {"202 empty id", 202, LB_OK, 0, -1, "send_response_empty_id.json",
     SEND_UNKNOWN, "", "bad_response", NULL, -1},
    {"202 not json", 202, LB_OK, 0, -1, "send_response_html.html", SEND_UNKNOWN,
     "", "bad_response", NULL, -1},
    {"202 no body", 202, LB_OK, 0, -1, NULL, SEND_UNKNOWN, "", "bad_response",
     NULL, -1},
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
    if (r->error)
      snprintf(res.error_text, sizeof res.error_text, "%s", r->name);
    if (r->body) {
      size_t len;
      char *body = fixture(r->body, &len);
      assert_int_equal(buf_append(&res.body, body, len), LB_OK);
      free(body);
    }
    memset(&out, 0x5a, sizeof out); /* garbage in: all of it is set */
    CHECK_RC(r->name, sim.ops->parse_send(&sim, &res, &out), LB_OK);
    CHECK_INT(r->name, out.outcome, r->outcome);
    CHECK_STR(r->name, out.provider_msg_id, r->id ? r->id : "");
    CHECK_STR(r->name, out.error_code, r->code ? r->code : "");
    if (r->text)
      CHECK_HAS(r->name, out.error_text, r->text);
    if (r->outcome != SEND_ACCEPTED && !out.error_text[0])
      fail_msg("%s: no error_text for staff to read", r->name);
    CHECK_INT(r->name, out.retry_after_ms, r->retry_ms);
    wire_response_release(&res);
  }
}

/* ---- verify_hook -------------------------------------------------------- */

static void test_verify_hook(void **state)
{
  size_t len;
  char *body = fixture("inbound_sms.json", &len);
  char good[128], upper[128], stale[128], edge[128], future[128],
      wrong_key[128], moved_t[128], tampered_body[4096], sig[128];
  struct hook_row {
    const char *name;
    const char *header; /* NULL: no header at all */
    const char *body;
    int want;
  } rows[16];
  int n = 0;

  sign(good, sizeof good, SECRET, NOW, body, len);
  sign(edge, sizeof edge, SECRET, NOW - 300, body, len);
  sign(stale, sizeof stale, SECRET, NOW - 301, body, len);
  sign(future, sizeof future, SECRET, NOW + 301, body, len);
  sign(wrong_key, sizeof wrong_key, "not-the-secret-0000", NOW, body, len);
  snprintf(upper, sizeof upper, "%s", good);
  for (char *c = upper + strlen("t="); *c; c++)
    if (*c >= 'a' && *c <= 'f')
      *c = (char)(*c - 'a' + 'A');
  /* A captured signature replayed with a fresh timestamp. */
  snprintf(moved_t, sizeof moved_t, "t=%lld%s", NOW + 1, strchr(good, ','));
  assert_true(len < sizeof tampered_body);
  memcpy(tampered_body, body, len + 1);
  tampered_body[strstr(tampered_body, "Tuesday") - tampered_body] = 't';

#define ROW(nm, h, b, w) rows[n++] = (struct hook_row){nm, h, b, w}
  ROW("good", good, body, LB_OK);
  ROW("uppercase hex", upper, body, LB_OK);
  ROW("300 s old", edge, body, LB_OK);
  ROW("301 s old", stale, body, LB_ESIGNATURE);
  ROW("301 s ahead", future, body, LB_ESIGNATURE);
  ROW("wrong secret", wrong_key, body, LB_ESIGNATURE);
  ROW("timestamp changed", moved_t, body, LB_ESIGNATURE);
  ROW("tampered body", good, tampered_body, LB_ESIGNATURE);
  ROW("missing header", NULL, body, LB_EAUTH);
  ROW("empty header", "", body, LB_EAUTH);
#undef ROW
  for (int i = 0; i < n; i++) {
    struct fake_hook h = {.n = 0};
    struct hook_request req;
    if (rows[i].header) {
      h.names[0] = "x-sim-signature";
      h.values[0] = rows[i].header;
      h.n = 1;
    }
    req = hook(&h, "/hooks/sim/inbound", rows[i].body, strlen(rows[i].body));
    CHECK_RC(rows[i].name, sim.ops->verify_hook(&sim, &req), rows[i].want);
  }

  /* Malformed headers: all refused, none crash. */
  const char *hexpart = strstr(good, ",v1=") + 4;
  char bad[12][200];
  int nb = 0;
  snprintf(bad[nb++], 200, "garbage");
  snprintf(bad[nb++], 200, "v1=%s,t=%lld", hexpart, NOW);
  snprintf(bad[nb++], 200, "t=,v1=%s", hexpart);
  snprintf(bad[nb++], 200, "t=abc,v1=%s", hexpart);
  snprintf(bad[nb++], 200, "t=%lld,v1=%.63s", NOW, hexpart);
  snprintf(bad[nb++], 200, "t=%lld,v1=%s0", NOW, hexpart);
  snprintf(bad[nb++], 200, "t=%lld v1=%s", NOW, hexpart);
  snprintf(bad[nb++], 200, "t=%lld,v1=%s,v0=abc", NOW, hexpart);
  snprintf(bad[nb++], 200, "t=%lld,v1=", NOW);
  snprintf(bad[nb++], 200, "t=%lld", NOW);
  snprintf(bad[nb++], 200, "t=%lld,v1=%064d", NOW, 0);
  snprintf(bad[nb++], 200, "t=9999999999999999999,v1=%s", hexpart);
  for (int i = 0; i < nb; i++) {
    struct fake_hook h = {
        .names = {"X-Sim-Signature"}, .values = {bad[i]}, .n = 1};
    struct hook_request req = hook(&h, "/hooks/sim/inbound", body, len);
    CHECK_RC(bad[i], sim.ops->verify_hook(&sim, &req), LB_ESIGNATURE);
  }

  /* An empty body signs and verifies like any other. */
  sign(sig, sizeof sig, SECRET, NOW, "", 0);
  {
    struct fake_hook h = {
        .names = {"X-Sim-Signature"}, .values = {sig}, .n = 1};
    struct hook_request req = hook(&h, "/hooks/sim/status", "", 0);
    CHECK_RC("empty body", sim.ops->verify_hook(&sim, &req), LB_OK);
  }
  free(body);
}

/* ---- parse_inbound ------------------------------------------------------ */

static int parse_inbound_file(const char *name, struct inbound_msg *out,
                              char *why, size_t whylen)
{
  size_t len;
  char *body = fixture(name, &len);
  struct fake_hook h = {.n = 0};
  struct hook_request req = hook(&h, "/hooks/sim/inbound", body, len);
  int rc;
  inbound_msg_init(out);
  why[0] = '\0';
  rc = sim.ops->parse_inbound(&sim, &req, out, why, whylen);
  free(body);
  return rc;
}

static void test_parse_inbound_sms(void **state)
{
  struct inbound_msg m;
  char why[256];
  assert_int_equal(parse_inbound_file("inbound_sms.json", &m, why, sizeof why),
                   LB_OK);
  assert_string_equal(m.provider_msg_id, "SMin1");
  assert_string_equal(m.from, "+61412345678");
  assert_string_equal(m.to, "+61488868772");
  assert_string_equal(m.text, "Yes, see you Tuesday \xf0\x9f\x91\x8d");
  assert_int_equal(m.n_media, 0);
  inbound_msg_release(&m);
  assert_null(m.text);
}

static void test_parse_inbound_mms(void **state)
{
  struct inbound_msg m;
  char why[256];
  unsigned char all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (unsigned char)i;
  assert_int_equal(parse_inbound_file("inbound_mms.json", &m, why, sizeof why),
                   LB_OK);
  assert_string_equal(m.provider_msg_id, "MMin1");
  assert_string_equal(m.text, "Photo of the rash");
  assert_int_equal(m.n_media, 2);
  assert_string_equal(m.media[0].content_type, "image/png");
  assert_int_equal(m.media[0].len, sizeof png);
  assert_memory_equal(m.media[0].data, png, sizeof png);
  /* Base64 wrapped at 76 columns with CRLF, as MIME encoders do. */
  assert_string_equal(m.media[1].content_type, "image/jpeg");
  assert_int_equal(m.media[1].len, sizeof all);
  assert_memory_equal(m.media[1].data, all, sizeof all);
  inbound_msg_release(&m);
  assert_int_equal(m.n_media, 0);

  /* A photo with no text: text is "" (never NULL). */
  assert_int_equal(
      parse_inbound_file("inbound_mms_photo_only.json", &m, why, sizeof why),
      LB_OK);
  assert_non_null(m.text);
  assert_string_equal(m.text, "");
  assert_int_equal(m.n_media, 1);
  assert_memory_equal(m.media[0].data, png, sizeof png);
  inbound_msg_release(&m);
}

/* Media sent as links: kept as URLs for the gateway to fetch later. */
static void test_parse_inbound_links(void **state)
{
  struct inbound_msg m;
  char why[256];
  assert_int_equal(
      parse_inbound_file("inbound_mms_links.json", &m, why, sizeof why), LB_OK);
  assert_int_equal(m.n_media, 2);
  assert_null(m.media[0].data);
  assert_string_equal(m.media[0].url, "https://media.carrier.example/m/1.jpg");
  assert_string_equal(m.media[0].content_type, "image/jpeg");
  assert_string_equal(m.media[1].url, "https://media.carrier.example/m/2");
  assert_string_equal(m.media[1].content_type, "");
  inbound_msg_release(&m);
  assert_int_equal(m.n_media, 0);
}

/* A media item of exactly [media] max_bytes is accepted whole. */
static void test_parse_inbound_media_at_limit(void **state)
{
  struct inbound_msg m;
  char why[256];
  int rc = parse_inbound_file("inbound_mms_at_limit.json", &m, why, sizeof why);
  if (rc != LB_OK) {
    inbound_msg_release(&m);
    fail_msg("a %d-byte item with max_bytes = %d was refused: %s: %s",
             MEDIA_MAX, MEDIA_MAX, lb_errname(rc), why);
  }
  assert_int_equal(m.n_media, 1);
  assert_int_equal(m.media[0].len, MEDIA_MAX);
  for (int i = 0; i < MEDIA_MAX; i++)
    assert_int_equal(m.media[0].data[i], (i * 7 + 3) % 256);
  inbound_msg_release(&m);
}

static void test_parse_inbound_bad(void **state)
{
  static const struct {
    const char *file;
    int want;
    const char *why_has;
  } rows[] = {
      {"inbound_bad_missing_from.json", LB_EINVAL, "'from'"},
      {"inbound_bad_from_number.json", LB_EINVAL, "'from'"},
      {"inbound_bad_text_number.json", LB_EINVAL, "'text'"},
      {"inbound_bad_media_not_array.json", LB_EINVAL, "array"},
      {"inbound_bad_base64.json", LB_EINVAL, "base64"},
      {"inbound_bad_media_no_type.json", LB_EINVAL, "content_type"},
      {"inbound_bad_media_url_and_data.json", LB_EINVAL, "'url'"},
      {"inbound_bad_media_too_big.json", LB_ETOOBIG, "1024"},
      {"inbound_bad_media_one_over.json", LB_ETOOBIG, "1024"},
      {"inbound_bad_too_many_media.json", LB_ETOOBIG, "10"},
      {"inbound_bad_not_json.txt", LB_EPARSE, "JSON"},
      {"inbound_bad_not_object.json", LB_EPARSE, "object"},
      {"inbound_bad_duplicate_key.json", LB_EPARSE, "JSON"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct inbound_msg m;
    char why[256];
    int rc = parse_inbound_file(rows[i].file, &m, why, sizeof why);
    CHECK_RC(rows[i].file, rc, rows[i].want);
    if (!why[0])
      fail_msg("%s: refused without a reason", rows[i].file);
    CHECK_HAS(rows[i].file, why, rows[i].why_has);
    inbound_msg_release(&m); /* frees whatever was half-parsed */
  }
}

/* ---- parse_status ------------------------------------------------------- */

static void test_parse_status(void **state)
{
  static const struct {
    const char *file;
    int want;
    const char *id, *ref;
    enum msg_status status;
    const char *code, *text; /* for LB_OK; 'why' contains text otherwise */
  } rows[] = {
      {"status_delivered.json", LB_OK, "SM1", REF, ST_DELIVERED, "", ""},
      {"status_sent.json", LB_OK, "SM1", REF, ST_SENT, "", ""},
      {"status_undelivered.json", LB_OK, "SM2", REF, ST_UNDELIVERED,
       "absent_subscriber", "handset switched off"},
      {"status_failed.json", LB_OK, "SM3", "", ST_FAILED, "blocked",
       "number is on a block list"},
      {"status_bad_unknown.json", LB_EINVAL, NULL, NULL, 0, NULL, "'status'"},
      {"status_bad_status_number.json", LB_EINVAL, NULL, NULL, 0, NULL,
       "'status'"},
      {"status_bad_missing_status.json", LB_EINVAL, NULL, NULL, 0, NULL,
       "'status'"},
      {"status_bad_missing_id.json", LB_EINVAL, NULL, NULL, 0, NULL, "'id'"},
      {"status_bad_ref_too_long.json", LB_EINVAL, NULL, NULL, 0, NULL, "'ref'"},
      {"inbound_bad_not_json.txt", LB_EPARSE, NULL, NULL, 0, NULL, "JSON"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t len;
    char *body = fixture(rows[i].file, &len), why[256] = "";
    struct fake_hook h = {.n = 0};
    struct hook_request req = hook(&h, "/hooks/sim/status", body, len);
    struct status_update u;
    memset(&u, 0x5a, sizeof u);
    u.status = ST__COUNT;
    int rc = sim.ops->parse_status(&sim, &req, &u, why, sizeof why);
    CHECK_RC(rows[i].file, rc, rows[i].want);
    if (rc == LB_OK) {
      CHECK_STR(rows[i].file, u.provider_msg_id, rows[i].id);
      CHECK_STR(rows[i].file, u.ref, rows[i].ref);
      CHECK_INT(rows[i].file, u.status, rows[i].status);
      CHECK_STR(rows[i].file, u.error_code, rows[i].code);
      CHECK_STR(rows[i].file, u.error_text, rows[i].text);
    } else {
      if (!why[0])
        fail_msg("%s: refused without a reason", rows[i].file);
      CHECK_HAS(rows[i].file, why, rows[i].text);
    }
    free(body);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_and_caps),
      cmocka_unit_test(test_build_send_mms),
      cmocka_unit_test(test_build_send_sms),
      cmocka_unit_test(test_build_send_default_base),
      cmocka_unit_test(test_parse_send_table),
      cmocka_unit_test(test_verify_hook),
      cmocka_unit_test(test_parse_inbound_sms),
      cmocka_unit_test(test_parse_inbound_mms),
      cmocka_unit_test(test_parse_inbound_links),
      cmocka_unit_test(test_parse_inbound_media_at_limit),
      cmocka_unit_test(test_parse_inbound_bad),
      cmocka_unit_test(test_parse_status),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
