/* ClickSend's adapter, as tables over fixture files in
 * tests/fixtures/clicksend/. The adapter is a pure translator, so every
 * test feeds it bytes and checks what it makes of them: the send requests
 * (SMS and MMS, field by field), the response envelope, the secret at the
 * end of the webhook URLs, inbound SMS and MMS (each media field name
 * lyrebird accepts), receipts, the rules `provider setup` creates and the
 * account check.
 *
 * Webhook fixtures: {"content_type", "body": {...}} for webhook_type json,
 * or {"content_type", "params": [[name, value], ...]} for a form post (the
 * HTTP layer decodes forms before the adapter sees them). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/message.h"
#include "providers/provider.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/wire.h"

#define FIXTURE_SUBDIR "clicksend"
#include "adapter_test.h" /* CHECK_*, fixture(), struct fake_hook */

#define USER "clinic-api-user"
#define KEY "0123ABCD-4567-89EF-ABCD-0123456789AB"
#define SECRET "Zq8mN3pR7tV2xK9wB4cF6hJ1"
#define CLINIC "+61488868772"
#define REF "01JD3Q7X8Y9Z0ABCDEFGHJKMNP"
#define MID "BF7AD270-0DE2-418B-B606-71D527D9C1AE"
#define MURL "https://mms.clicksend.com/inbound/7f3e2a1b9c8d/image.jpg"
#define HOOKS "https://sms.clinic.example/hooks/clicksend"

static struct config cfg;
static struct provider cs;

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
  return provider_init(p, "clicksend", c);
}

static int group_setup(void **state)
{
  static const char *const s[] = {
      "clicksend", "username",       USER,
      "clicksend", "api_key",        KEY,
      "clicksend", "webhook_secret", SECRET,
      "clinic",    "number",         CLINIC,
      "clinic",    "name",           "WalkEasy Nexus Clinic",
      NULL};
  return init_provider(&cs, &cfg, s) == LB_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
  provider_release(&cs);
  config_release(&cfg);
  return 0;
}

/* A webhook: the fixture's JSON body (serialised) or its form params. */
struct cs_hook {
  struct fake_hook http;
  struct wire_param params[LB_HOOK_PARAMS_MAX];
  size_t n_params;
  char *body;
};

static struct hook_request hook_fixture(json_t *j, struct cs_hook *h,
                                        const char *path)
{
  json_t *params = json_object_get(j, "params"), *it;
  size_t i;
  memset(h, 0, sizeof *h);
  json_array_foreach(params, i, it)
  {
    if (h->n_params >= LB_HOOK_PARAMS_MAX)
      fail_msg("too many params in a fixture");
    h->params[h->n_params].name = json_string_value(json_array_get(it, 0));
    h->params[h->n_params].value = json_string_value(json_array_get(it, 1));
    h->n_params++;
  }
  if (json_object_get(j, "body"))
    h->body = json_dumps(json_object_get(j, "body"), JSON_COMPACT);
  else
    h->body = strdup("x=1");
  assert_non_null(h->body);
  return (struct hook_request){
      .method = "POST",
      .path = path,
      .query_string = "",
      .public_url = "https://sms.clinic.example",
      .content_type = jstr(j, "content_type"),
      .body = h->body,
      .body_len = strlen(h->body),
      .header = fake_header,
      .query = fake_query,
      .ctx = &h->http,
      .now_s = 1795000200LL,
      .params = h->params,
      .n_params = h->n_params,
  };
}

static void new_message(struct message *m, const char *text)
{
  message_init(m);
  snprintf(m->id, sizeof m->id, "%s", REF);
  snprintf(m->from, sizeof m->from, CLINIC);
  snprintf(m->to, sizeof m->to, "+61412345678");
  m->text = text ? strdup(text) : NULL;
}

/* The request's headers as a JSON object; a header twice fails. */
static json_t *headers_of(const struct wire_request *req)
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

/* The keys of a JSON object, in order, as one string "a,b,c". */
static void keys_of(json_t *o, char *out, size_t n)
{
  const char *k;
  json_t *v;
  out[0] = '\0';
  json_object_foreach(o, k, v)
  {
    size_t len = strlen(out);
    snprintf(out + len, n - len, "%s%s", len ? "," : "", k);
  }
}

/* Checks a built request against a send/setup fixture: method, URL, Basic
 * credentials, headers, and the JSON body key by key, in order. */
static void check_request(const char *row, const struct wire_request *req,
                          json_t *want)
{
  json_t *hdrs = headers_of(req), *body, *wb = json_object_get(want, "json");
  json_error_t err;
  char gk[256], wk[256];
  CHECK_STR(row, req->method, jstr(want, "method"));
  CHECK_STR(row, req->url, jstr(want, "url"));
  CHECK_STR(row, req->userpwd, jstr(want, "userpwd"));
  if (!json_equal(hdrs, json_object_get(want, "headers")))
    fail_msg("%s: headers differ", row);
  json_decref(hdrs);
  body =
      json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &err);
  if (!body)
    fail_msg("%s: body is not JSON: %s", row, err.text);
  keys_of(body, gk, sizeof gk);
  keys_of(wb, wk, sizeof wk);
  CHECK_STR(row, gk, wk);
  {
    const char *k;
    json_t *v;
    json_object_foreach(wb, k, v)
    {
      json_t *g = json_object_get(body, k);
      char r[128];
      snprintf(r, sizeof r, "%s: field '%s'", row, k);
      if (json_is_array(v)) {
        json_t *gm = json_array_get(g, 0), *wm = json_array_get(v, 0);
        const char *mk;
        json_t *mv;
        CHECK_INT(r, json_array_size(g), json_array_size(v));
        keys_of(gm, gk, sizeof gk);
        keys_of(wm, wk, sizeof wk);
        CHECK_STR(r, gk, wk);
        json_object_foreach(wm, mk, mv)
        {
          char r2[160];
          snprintf(r2, sizeof r2, "%s.%s", r, mk);
          if (!json_equal(json_object_get(gm, mk), mv))
            fail_msg("%s differs", r2);
        }
      } else if (!json_equal(g, v)) {
        fail_msg("%s differs", r);
      }
    }
  }
  if (!json_equal(body, wb))
    fail_msg("%s: body differs", row);
  json_decref(body);
}

/* ---- registry and capabilities ------------------------------------------ */

static void test_registry_and_caps(void **state)
{
  struct config c;
  struct provider p;

  assert_non_null(provider_find("clicksend"));
  assert_non_null(strstr(provider_names(), "clicksend"));
  assert_non_null(strstr(provider_names(), "twilio"));
  assert_int_equal(cs.caps.sms_out, 1);
  assert_int_equal(cs.caps.sms_in, 1);
  assert_int_equal(cs.caps.mms_out, 1);
  assert_int_equal(cs.caps.mms_in, 1);
  assert_int_equal(cs.caps.mms_max_bytes, 250000);
  assert_int_equal(cs.caps.max_media, 1);
  assert_int_equal(cs.caps.subject_max, 20);
  assert_int_equal(cs.caps.dedupes_by_ref, 0);
  assert_true(cs.caps.rate_per_s > 0);
  assert_string_equal(cs.caps.mms_types[0], "image/jpeg");
  assert_string_equal(cs.caps.mms_types[1], "image/gif");
  assert_null(cs.caps.mms_types[2]);
  assert_string_equal(cs.caps.media_hosts[0], ".clicksend.com");
  assert_null(cs.caps.media_hosts[1]);
  assert_null(cs.caps.media_userpwd);
  assert_null(cs.ops->hook_reply_body);
  assert_non_null(cs.ops->build_setup);
  assert_non_null(cs.ops->parse_setup);
  assert_non_null(cs.ops->build_check);
  assert_null(cs.ops->build_media_delete);

  {
    static const char *const s[] = {"clicksend", "media_hosts",
                                    " 127.0.0.1  .example.net ", NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    assert_string_equal(p.caps.media_hosts[0], "127.0.0.1");
    assert_string_equal(p.caps.media_hosts[1], ".example.net");
    assert_null(p.caps.media_hosts[2]);
    provider_release(&p);
    assert_null(p.priv);
    config_release(&c);
  }
  {
    static const char *const s[] = {"clicksend", "media_hosts", "", NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    assert_non_null(p.caps.media_hosts);
    assert_null(p.caps.media_hosts[0]); /* none allowed, never "any" */
    provider_release(&p);
    config_release(&c);
  }
  {
    static const char *const s[] = {"clicksend", "base_url", "ftp://x.example",
                                    NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_ECONFIG);
    provider_release(&p);
    config_release(&c);
  }
}

/* ---- build_send --------------------------------------------------------- */

static void test_build_send_sms(void **state)
{
  json_t *want = fixture_json("send_request_sms.json");
  json_t *wm = json_array_get(
      json_object_get(json_object_get(want, "json"), "messages"), 0);
  struct message m;
  struct send_input in = {&m, NULL, 0, HOOKS "/status"};
  struct wire_request req;

  new_message(&m, jstr(wm, "body"));
  wire_request_init(&req);
  assert_int_equal(cs.ops->build_send(&cs, &in, &req), LB_OK);
  check_request("sms", &req, want);
  /* The status URL is not sent: receipts come through the receipt rule. */
  assert_null(strstr(req.body.data, "hooks"));
  wire_request_release(&req);
  message_release(&m);
  json_decref(want);
}

static void test_build_send_mms(void **state)
{
  json_t *want = fixture_json("send_request_mms.json");
  json_t *wj = json_object_get(want, "json");
  json_t *wm = json_array_get(json_object_get(wj, "messages"), 0);
  struct send_media sm = {.content_type = "image/jpeg",
                          .data = (const unsigned char *)"x",
                          .len = 249000,
                          .url = jstr(wj, "media_file")};
  struct message m;
  struct send_input in = {&m, &sm, 1, HOOKS "/status"};
  struct wire_request req;

  new_message(&m, jstr(wm, "body"));
  m.n_media = 1;
  wire_request_init(&req);
  assert_int_equal(cs.ops->build_send(&cs, &in, &req), LB_OK);
  check_request("mms", &req, want);
  wire_request_release(&req);

  /* A photo with no text: body is "". GIF goes too. */
  free(m.text);
  m.text = NULL;
  sm.content_type = "image/gif";
  wire_request_init(&req);
  assert_int_equal(cs.ops->build_send(&cs, &in, &req), LB_OK);
  assert_non_null(strstr(req.body.data, "\"body\":\"\""));
  wire_request_release(&req);
  message_release(&m);
  json_decref(want);
}

static void test_build_send_errors(void **state)
{
  struct send_media sm[2] = {
      {.content_type = "image/jpeg", .len = 1000, .url = MURL},
      {.content_type = "image/jpeg", .len = 1000, .url = MURL}};
  struct message m;
  struct send_input in = {&m, sm, 2, NULL};
  struct wire_request req;
  struct config c;
  struct provider p;
  static const struct {
    const char *name;
    size_t n_media;
    const char *ctype, *url;
    size_t len;
    int want;
  } rows[] = {
      {"two media", 2, "image/jpeg", MURL, 1000, LB_EINVAL},
      {"media without url", 1, "image/jpeg", NULL, 1000, LB_EINVAL},
      {"media with empty url", 1, "image/jpeg", "", 1000, LB_EINVAL},
      {"png", 1, "image/png", MURL, 1000, LB_EMEDIATYPE},
      {"over 250000 bytes", 1, "image/jpeg", MURL, 250001, LB_ETOOBIG},
      {"exactly 250000 bytes", 1, "image/jpeg; q=1", MURL, 250000, LB_OK},
      {"sms without text", 0, NULL, NULL, 0, LB_EINVAL},
  };

  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    new_message(&m, i + 1 == sizeof rows / sizeof rows[0] ? "" : "hi");
    sm[0].content_type = rows[i].ctype;
    sm[0].url = rows[i].url;
    sm[0].len = rows[i].len;
    in.n_media = rows[i].n_media;
    wire_request_init(&req);
    CHECK_RC(rows[i].name, cs.ops->build_send(&cs, &in, &req), rows[i].want);
    wire_request_release(&req);
    message_release(&m);
  }

  /* Not E.164. */
  new_message(&m, "hi");
  in.n_media = 0;
  snprintf(m.to, sizeof m.to, "0412345678");
  wire_request_init(&req);
  CHECK_RC("local to", cs.ops->build_send(&cs, &in, &req), LB_EINVAL);
  wire_request_release(&req);
  snprintf(m.to, sizeof m.to, "+61412345678");
  m.from[0] = '\0';
  wire_request_init(&req);
  CHECK_RC("no from", cs.ops->build_send(&cs, &in, &req), LB_EINVAL);
  wire_request_release(&req);
  snprintf(m.from, sizeof m.from, CLINIC);

  /* No credentials. */
  {
    static const char *const s[] = {"clicksend", "username", USER, NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    wire_request_init(&req);
    CHECK_RC("no api key", p.ops->build_send(&p, &in, &req), LB_ECONFIG);
    wire_request_release(&req);
    provider_release(&p);
    config_release(&c);
  }
  /* Another base URL (a local fake), with or without "/v3". */
  {
    static const char *const s[] = {
        "clicksend", "username", USER,
        "clicksend", "api_key",  KEY,
        "clicksend", "base_url", "http://127.0.0.1:18080/v3/",
        NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    wire_request_init(&req);
    CHECK_RC("fake base", p.ops->build_send(&p, &in, &req), LB_OK);
    CHECK_STR("fake base", req.url, "http://127.0.0.1:18080/v3/sms/send");
    CHECK_STR("fake base", req.userpwd, USER ":" KEY);
    wire_request_release(&req);
    provider_release(&p);
    config_release(&c);
  }
  message_release(&m);
}

/* The subject: the clinic's name within 20 bytes at a word or UTF-8
 * boundary, else "Image". */
static void test_subject(void **state)
{
  static const struct {
    const char *clinic, *want;
  } rows[] = {
      {"WalkEasy Nexus Clinic", "WalkEasy Nexus"},
      {"Riverside Clinic", "Riverside Clinic"},
      {"Exactly twenty chars", "Exactly twenty chars"},
      {"Exactly twenty chars!", "Exactly twenty"},
      {"Supercalifragilisticexpialidocious", "Supercalifragilistic"},
      {"Clínica Médica São Paulo", "Clínica Médica"},
      {"ééééééééééé", "éééééééééé"}, /* 10 of 11: 20 bytes */
      {"", "Image"},
      {"   ", "Image"},
      {"\xff\xfe", "Image"},
      {"Tab\tClinic", "Tab Clinic"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const char *const s[] = {"clicksend",    "username", USER,     "clicksend",
                             "api_key",      KEY,        "clinic", "name",
                             rows[i].clinic, NULL};
    struct config c;
    struct provider p;
    struct message m;
    struct send_media sm = {.content_type = "image/jpeg", .url = MURL};
    struct send_input in = {&m, &sm, 1, NULL};
    struct wire_request req;
    json_t *body, *subj;
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    new_message(&m, "x");
    wire_request_init(&req);
    CHECK_RC(rows[i].clinic, p.ops->build_send(&p, &in, &req), LB_OK);
    body = json_loadb(req.body.data, req.body.len, 0, NULL);
    subj = json_object_get(json_array_get(json_object_get(body, "messages"), 0),
                           "subject");
    CHECK_STR(rows[i].clinic, json_string_value(subj), rows[i].want);
    if (json_string_length(subj) > 20)
      fail_msg("%s: subject over 20 bytes", rows[i].clinic);
    json_decref(body);
    wire_request_release(&req);
    message_release(&m);
    provider_release(&p);
    config_release(&c);
  }
}

/* ---- parse_send --------------------------------------------------------- */

static const struct send_row {
  const char *name;
  long status;
  int error, maybe_sent;
  long retry_after;
  const char *body;
  enum send_outcome outcome;
  const char *id, *code, *text;
  int refused;
  long retry_ms;
} send_rows[] = {
    {"success", 200, LB_OK, 0, -1, "send_response_success.json", SEND_ACCEPTED,
     MID, "", NULL, 0, -1},
    {"mms success", 200, LB_OK, 0, -1, "send_response_mms_success.json",
     SEND_ACCEPTED, "1E8B8F4A-5D45-4B7C-9E0F-3A2B1C0D9E8F", "", NULL, 0, -1},
    {"invalid recipient", 200, LB_OK, 0, -1,
     "send_response_invalid_recipient.json", SEND_FINAL, "", "invalid_number",
     "not a valid mobile number", 1, -1},
    {"invalid recipient under 400", 400, LB_OK, 0, -1,
     "send_response_invalid_recipient.json", SEND_FINAL, "", "invalid_number",
     "INVALID_RECIPIENT", 1, -1},
    {"country not enabled", 200, LB_OK, 0, -1,
     "send_response_country_not_enabled.json", SEND_FINAL, "",
     "country_not_enabled", "country", 1, -1},
    {"insufficient credit", 200, LB_OK, 0, -1,
     "send_response_insufficient_credit.json", SEND_FINAL, "", "no_credit",
     "credit", 0, -1},
    {"unknown message status", 200, LB_OK, 0, -1,
     "send_response_unknown_status.json", SEND_FINAL, "",
     "clicksend_something_new", "SOMETHING_NEW", 0, -1},
    {"success without message_id", 200, LB_OK, 0, -1,
     "send_response_no_message_id.json", SEND_UNKNOWN, "", "bad_response",
     "no message_id", 0, -1},
    {"success without messages", 200, LB_OK, 0, -1,
     "send_response_no_messages.json", SEND_UNKNOWN, "", "bad_response",
     "no message status", 0, -1},
    {"200 html", 200, LB_OK, 0, -1, "send_response_html.html", SEND_UNKNOWN, "",
     "bad_response", "HTTP 200", 0, -1},
    {"unauthorized", 401, LB_OK, 0, -1, "send_response_unauthorized.json",
     SEND_FINAL, "", "auth_failed", "username and api_key", 0, -1},
    {"401 no body", 401, LB_OK, 0, -1, NULL, SEND_FINAL, "", "auth_failed",
     "credentials", 0, -1},
    {"too many requests", 429, LB_OK, 0, 5, "send_response_too_many.json",
     SEND_RETRY, "", "rate_limited", "TOO_MANY_REQUESTS", 0, 5000},
    {"429 no body", 429, LB_OK, 0, -1, NULL, SEND_RETRY, "", "rate_limited",
     "HTTP 429", 0, -1},
    {"500", 500, LB_OK, 0, -1, "send_response_500.json", SEND_RETRY, "",
     "http_500", "Something went wrong", 0, -1},
    {"502 html", 502, LB_OK, 0, 30, "send_response_html.html", SEND_RETRY, "",
     "http_502", "HTTP 502", 0, 30000},
    {"bad request", 400, LB_OK, 0, -1, "send_response_bad_request.json",
     SEND_FINAL, "", "bad_request", "subject field", 0, -1},
    {"forbidden", 403, LB_OK, 0, -1, "send_response_forbidden.json", SEND_FINAL,
     "", "forbidden", "not allowed to send MMS", 0, -1},
    {"404 html", 404, LB_OK, 0, -1, "send_response_html.html", SEND_FINAL, "",
     "http_404", "HTTP 404", 0, -1},
    {"timeout after sending", 0, LB_ETIMEOUT, 1, -1, NULL, SEND_UNKNOWN, "",
     "timeout", NULL, 0, -1},
    {"connection refused", 0, LB_EIO, 0, -1, NULL, SEND_RETRY, "", "network",
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
      size_t len;
      char *body = fixture(r->body, &len);
      assert_int_equal(buf_append(&res.body, body, len), LB_OK);
      free(body);
    }
    memset(&out, 0x5a, sizeof out);
    CHECK_RC(r->name, cs.ops->parse_send(&cs, &res, &out), LB_OK);
    CHECK_INT(r->name, out.outcome, r->outcome);
    CHECK_STR(r->name, out.provider_msg_id, r->id);
    CHECK_STR(r->name, out.error_code, r->code);
    CHECK_INT(r->name, out.recipient != RECIPIENT_OK, r->refused);
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
  static const struct {
    const char *name, *path;
    int want;
  } rows[] = {
      {"inbound, right secret", "/hooks/clicksend/inbound/" SECRET, LB_OK},
      {"status, right secret", "/hooks/clicksend/status/" SECRET, LB_OK},
      {"wrong secret", "/hooks/clicksend/inbound/Zq8mN3pR7tV2xK9wB4cF6hJ2",
       LB_ESIGNATURE},
      {"secret with more", "/hooks/clicksend/inbound/" SECRET "x",
       LB_ESIGNATURE},
      {"secret's prefix", "/hooks/clicksend/inbound/Zq8mN3pR7tV2",
       LB_ESIGNATURE},
      {"secret in capitals",
       "/hooks/clicksend/inbound/ZQ8MN3PR7TV2XK9WB4CF6HJ1", LB_ESIGNATURE},
      {"no secret (inbound)", "/hooks/clicksend/inbound", LB_EAUTH},
      {"no secret (status)", "/hooks/clicksend/status", LB_EAUTH},
      {"empty segment", "/hooks/clicksend/inbound/", LB_EAUTH},
  };
  json_t *j = fixture_json("inbound_sms.json");
  struct cs_hook h;
  struct hook_request req = hook_fixture(j, &h, "/");
  struct config c;
  struct provider p;

  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    req.path = rows[i].path;
    CHECK_RC(rows[i].name, cs.ops->verify_hook(&cs, &req), rows[i].want);
  }
  /* A secret in a header or the query does not count: only the path. */
  req.path = "/hooks/clicksend/inbound";
  add_header(&h.http, "X-Lyrebird-Secret", SECRET);
  add_query(&h.http, "secret", SECRET);
  CHECK_RC("secret elsewhere", cs.ops->verify_hook(&cs, &req), LB_EAUTH);
  /* No secret configured: everything is refused. */
  {
    static const char *const s[] = {"clicksend", "username", USER, "clicksend",
                                    "api_key",   KEY,        NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    req.path = "/hooks/clicksend/inbound/" SECRET;
    CHECK_RC("none configured", p.ops->verify_hook(&p, &req), LB_EAUTH);
    req.path = "/hooks/clicksend/inbound/";
    CHECK_RC("none configured, empty", p.ops->verify_hook(&p, &req), LB_EAUTH);
    provider_release(&p);
    config_release(&c);
  }
  free(h.body);
  json_decref(j);
}

/* ---- parse_inbound ------------------------------------------------------ */

static int parse_inbound_file(const char *file, struct inbound_msg *m,
                              char *why, size_t whylen, json_t **jout)
{
  json_t *j = fixture_json(file);
  struct cs_hook h;
  struct hook_request req =
      hook_fixture(j, &h, "/hooks/clicksend/inbound/" SECRET);
  int rc;
  inbound_msg_init(m);
  why[0] = '\0';
  rc = cs.ops->parse_inbound(&cs, &req, m, why, whylen);
  free(h.body);
  if (jout)
    *jout = j;
  else
    json_decref(j);
  return rc;
}

static void test_parse_inbound_sms(void **state)
{
  static const char *const files[] = {"inbound_sms.json",
                                      "inbound_sms_form.json"};
  for (size_t i = 0; i < 2; i++) {
    struct inbound_msg m;
    char why[256];
    CHECK_RC(files[i], parse_inbound_file(files[i], &m, why, sizeof why, NULL),
             LB_OK);
    CHECK_STR(files[i], m.provider_msg_id,
              "A1B2C3D4-E5F6-4789-ABCD-EF0123456789");
    CHECK_STR(files[i], m.from, "+61412345678");
    CHECK_STR(files[i], m.to, CLINIC);
    CHECK_STR(files[i], m.text,
              "Yes, see you Tuesday \xf0\x9f\x91\x8d & thanks!");
    CHECK_INT(files[i], m.n_media, 0);
    inbound_msg_release(&m);
  }
}

static void test_parse_inbound_mms(void **state)
{
  static const char *const files[] = {
      "inbound_mms_media_file.json",
      "inbound_mms__media_file_url.json",
      "inbound_mms_media_file_url.json",
      "inbound_mms_media_url.json",
      "inbound_mms_media_urls.json",
      "inbound_mms_mms_url.json",
      "inbound_mms_attachment_string.json",
      "inbound_mms_attachment_object.json",
      "inbound_mms_attachments_url.json",
      "inbound_mms_attachments__url.json",
      "inbound_mms_attachments_link.json",
      "inbound_mms_attachments_strings.json",
      "inbound_mms_media_array.json",
      "inbound_mms_two_names_same_url.json",
      "inbound_mms_photo_only.json",
      "inbound_mms_form.json",
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    struct inbound_msg m;
    char why[256];
    json_t *j, *urls, *u;
    size_t k;
    CHECK_RC(files[i], parse_inbound_file(files[i], &m, why, sizeof why, &j),
             LB_OK);
    urls = json_object_get(j, "want_urls");
    CHECK_INT(files[i], m.n_media, json_array_size(urls));
    json_array_foreach(urls, k, u)
    {
      assert_null(m.media[k].data);
      CHECK_STR(files[i], m.media[k].url, json_string_value(u));
    }
    assert_non_null(m.text);
    CHECK_STR(files[i], m.from, "+61412345678");
    if (strstr(files[i], "attachment_object") ||
        strstr(files[i], "attachments_url"))
      CHECK_STR(files[i], m.media[0].content_type, "image/jpeg");
    if (strstr(files[i], "photo_only"))
      CHECK_STR(files[i], m.text, "");
    inbound_msg_release(&m);
    json_decref(j);
  }
}

static void test_parse_inbound_bad(void **state)
{
  static const struct {
    const char *file;
    int want;
    const char *why_has, *why_also;
  } rows[] = {
      {"inbound_bad_missing_from.json", LB_EINVAL, "'from'", NULL},
      {"inbound_bad_missing_message_id.json", LB_EINVAL,
       "'message_id' is required", "unrecognised fields: 'mystery_url'"},
      {"inbound_bad_from_alpha.json", LB_EINVAL, "'from' is not a phone", NULL},
      {"inbound_bad_media_not_http.json", LB_EINVAL,
       "'media_file' is not an http(s) URL", NULL},
      {"inbound_bad_media_number.json", LB_EINVAL, "'media_file' must be",
       NULL},
      {"inbound_bad_attachment_no_url.json", LB_EINVAL,
       "'attachments' has no url", NULL},
      {"inbound_bad_body_object.json", LB_EINVAL, "'body' must be a string",
       NULL},
      {"inbound_bad_too_many_media.json", LB_ETOOBIG, "at most 10", NULL},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct inbound_msg m;
    char why[512];
    int rc = parse_inbound_file(rows[i].file, &m, why, sizeof why, NULL);
    CHECK_RC(rows[i].file, rc, rows[i].want);
    CHECK_HAS(rows[i].file, why, rows[i].why_has);
    if (rows[i].why_also)
      CHECK_HAS(rows[i].file, why, rows[i].why_also);
    /* Names only: never a value. */
    if (strstr(why, "mms.clicksend.com/inbound"))
      fail_msg("%s: a value in why: %s", rows[i].file, why);
    inbound_msg_release(&m);
  }
  /* Not JSON, and no form fields. */
  {
    struct cs_hook h;
    json_t *j =
        json_pack("{s:s, s:{}}", "content_type", "application/json", "body");
    struct hook_request req =
        hook_fixture(j, &h, "/hooks/clicksend/inbound/" SECRET);
    struct inbound_msg m;
    char why[256];
    req.body = "{not json";
    req.body_len = strlen(req.body);
    inbound_msg_init(&m);
    CHECK_RC("not json", cs.ops->parse_inbound(&cs, &req, &m, why, sizeof why),
             LB_EPARSE);
    CHECK_HAS("not json", why, "not valid JSON");
    req.content_type = "text/plain";
    req.body = "hello";
    req.body_len = 5;
    CHECK_RC("no fields", cs.ops->parse_inbound(&cs, &req, &m, why, sizeof why),
             LB_EPARSE);
    inbound_msg_release(&m);
    free(h.body);
    json_decref(j);
  }
}

/* ---- parse_status ------------------------------------------------------- */

static void test_parse_status(void **state)
{
  static const struct {
    const char *file;
    int want;
    enum msg_status status;
    const char *code, *text;
  } rows[] = {
      {"status_delivered.json", LB_OK, ST_DELIVERED, "", ""},
      {"status_mms_delivered.json", LB_OK, ST_DELIVERED, "", ""},
      {"status_form.json", LB_OK, ST_DELIVERED, "", ""},
      {"status_queued.json", LB_OK, ST_SENT, "", ""},
      {"status_undelivered.json", LB_OK, ST_UNDELIVERED, "clicksend_301",
       "Undelivered (status 301): Message undeliverable"},
      {"status_expired.json", LB_OK, ST_UNDELIVERED, "clicksend_302",
       "Expired"},
      {"status_failed.json", LB_OK, ST_FAILED, "clicksend_300",
       "Message failed"},
      {"status_rejected.json", LB_OK, ST_FAILED, "clicksend_303",
       "Blocked by carrier"},
      {"status_bad_no_ref.json", LB_EINVAL, 0, NULL,
       "'message_id' (ClickSend's) or 'custom_string'"},
      {"status_bad_no_status.json", LB_EINVAL, 0, NULL, "'status_text'"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    json_t *j = fixture_json(rows[i].file);
    struct cs_hook h;
    struct hook_request req =
        hook_fixture(j, &h, "/hooks/clicksend/status/" SECRET);
    struct status_update u;
    char why[512] = "";
    int rc;
    memset(&u, 0x5a, sizeof u);
    rc = cs.ops->parse_status(&cs, &req, &u, why, sizeof why);
    CHECK_RC(rows[i].file, rc, rows[i].want);
    if (rc == LB_OK) {
      CHECK_STR(rows[i].file, u.provider_msg_id, MID);
      CHECK_STR(rows[i].file, u.ref, REF);
      CHECK_INT(rows[i].file, u.status, rows[i].status);
      CHECK_STR(rows[i].file, u.error_code, rows[i].code);
      if (rows[i].text[0])
        CHECK_HAS(rows[i].file, u.error_text, rows[i].text);
      else
        CHECK_STR(rows[i].file, u.error_text, "");
    } else {
      CHECK_HAS(rows[i].file, why, rows[i].text);
    }
    free(h.body);
    json_decref(j);
  }
  /* The unrecognised field is named when the receipt is refused. */
  {
    json_t *j = fixture_json("status_bad_no_ref.json");
    struct cs_hook h;
    struct hook_request req =
        hook_fixture(j, &h, "/hooks/clicksend/status/" SECRET);
    struct status_update u;
    char why[512] = "";
    assert_int_equal(cs.ops->parse_status(&cs, &req, &u, why, sizeof why),
                     LB_EINVAL);
    CHECK_HAS("unknown keys", why, "unrecognised fields: 'msgid'");
    free(h.body);
    json_decref(j);
  }
}

/* ---- provider setup ----------------------------------------------------- */

static void test_setup(void **state)
{
  static const char *const want_in =
      "{\"dedicated_number\":\"" CLINIC "\",\"rule_name\":\"lyrebird inbound\","
      "\"message_search_type\":0,\"message_search_term\":\"\",\"action\":"
      "\"URL\",\"action_address\":\"" HOOKS "/inbound/" SECRET "\","
      "\"enabled\":1,\"webhook_type\":\"json\"}";
  static const char *const want_rc =
      "{\"rule_name\":\"lyrebird receipts\",\"match_type\":0,\"action\":"
      "\"URL\",\"action_address\":\"" HOOKS "/status/" SECRET "\","
      "\"enabled\":1,\"webhook_type\":\"json\"}";
  static const struct {
    const char *name;
    int n;
    long status;
    const char *body;
    int want;
    const char *has;
  } rows[] = {
      {"inbound created", 0, 200, "setup_inbound_success.json", LB_OK,
       "created the inbound rule 'lyrebird inbound' for " CLINIC},
      {"receipts created", 1, 200, "setup_receipts_success.json", LB_OK,
       "created the receipt rule 'lyrebird receipts'"},
      {"unauthorized", 0, 401, "send_response_unauthorized.json", LB_EAUTH,
       "Invalid username or API key"},
      {"an error that echoes the URL", 0, 400, "setup_bad_request_echo.json",
       LB_EPROVIDER, "inbound/<secret> is not reachable"},
      {"500 html", 1, 500, "send_response_html.html", LB_EPROVIDER, "HTTP 500"},
  };
  json_t *got, *want;
  struct wire_request req;

  wire_request_init(&req);
  assert_int_equal(cs.ops->build_setup(&cs, 0, HOOKS, &req), LB_OK);
  assert_string_equal(req.method, "POST");
  assert_string_equal(req.url,
                      "https://rest.clicksend.com/v3/automations/sms/inbound");
  assert_string_equal(req.userpwd, USER ":" KEY);
  got = json_loadb(req.body.data, req.body.len, 0, NULL);
  want = json_loads(want_in, 0, NULL);
  assert_non_null(got);
  if (!json_equal(got, want))
    fail_msg("inbound rule: %s", req.body.data);
  assert_string_equal(req.body.data, want_in); /* in this order */
  json_decref(got);
  json_decref(want);
  wire_request_release(&req);

  wire_request_init(&req);
  assert_int_equal(cs.ops->build_setup(&cs, 1, HOOKS, &req), LB_OK);
  assert_string_equal(req.url,
                      "https://rest.clicksend.com/v3/automations/sms/receipts");
  assert_string_equal(req.body.data, want_rc);
  wire_request_release(&req);

  wire_request_init(&req);
  CHECK_RC("no third", cs.ops->build_setup(&cs, 2, HOOKS, &req), LB_ENOTFOUND);
  wire_request_release(&req);

  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct wire_response res;
    char out[512] = "";
    size_t len;
    char *body = fixture(rows[i].body, &len);
    wire_response_init(&res);
    res.status = rows[i].status;
    assert_int_equal(buf_append(&res.body, body, len), LB_OK);
    free(body);
    CHECK_RC(rows[i].name,
             cs.ops->parse_setup(&cs, rows[i].n, &res, out, sizeof out),
             rows[i].want);
    CHECK_HAS(rows[i].name, out, rows[i].has);
    if (strstr(out, SECRET))
      fail_msg("%s: the secret is in the output: %s", rows[i].name, out);
    wire_response_release(&res);
  }
  /* No secret configured: no rule pointing at an open URL. */
  {
    static const char *const s[] = {
        "clicksend", "username", USER,     "clicksend", "api_key",
        KEY,         "clinic",   "number", CLINIC,      NULL};
    struct config c;
    struct provider p;
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
  static const struct {
    const char *name;
    long status;
    int error;
    const char *body;
    int want;
    const char *text;
  } rows[] = {
      {"account", 200, LB_OK, "check_account.json", LB_OK,
       "account clinic-api-user: 12.3400 AUD"},
      {"unauthorized", 401, LB_OK, "send_response_unauthorized.json", LB_EAUTH,
       "refused the credentials"},
      {"500 html", 500, LB_OK, "send_response_html.html", LB_EPROVIDER,
       "HTTP 500"},
      {"200 without data", 200, LB_OK, "send_response_unauthorized.json",
       LB_EAUTH, "UNAUTHORIZED"},
      {"unreachable", 0, LB_ETIMEOUT, NULL, LB_EPROVIDER,
       "could not reach ClickSend"},
  };
  struct wire_request req;
  wire_request_init(&req);
  assert_int_equal(cs.ops->build_check(&cs, &req), LB_OK);
  assert_string_equal(req.method, "GET");
  assert_string_equal(req.url, "https://rest.clicksend.com/v3/account");
  assert_string_equal(req.userpwd, USER ":" KEY);
  assert_int_equal(req.body.len, 0);
  wire_request_release(&req);

  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct wire_response res;
    char out[512] = "";
    wire_response_init(&res);
    res.status = rows[i].status;
    res.error = rows[i].error;
    if (rows[i].body) {
      size_t len;
      char *body = fixture(rows[i].body, &len);
      assert_int_equal(buf_append(&res.body, body, len), LB_OK);
      free(body);
    }
    CHECK_RC(rows[i].name, cs.ops->parse_check(&cs, &res, out, sizeof out),
             rows[i].want);
    CHECK_HAS(rows[i].name, out, rows[i].text);
    wire_response_release(&res);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_and_caps),
      cmocka_unit_test(test_build_send_sms),
      cmocka_unit_test(test_build_send_mms),
      cmocka_unit_test(test_build_send_errors),
      cmocka_unit_test(test_subject),
      cmocka_unit_test(test_parse_send_table),
      cmocka_unit_test(test_verify_hook),
      cmocka_unit_test(test_parse_inbound_sms),
      cmocka_unit_test(test_parse_inbound_mms),
      cmocka_unit_test(test_parse_inbound_bad),
      cmocka_unit_test(test_parse_status),
      cmocka_unit_test(test_setup),
      cmocka_unit_test(test_check),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
