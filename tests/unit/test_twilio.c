/* Twilio's adapter, as tables over fixture files in tests/fixtures/twilio/.
 * The adapter is a pure translator, so every test here feeds it bytes and
 * checks what it makes of them: the send request it builds, the answers it
 * reads, the webhooks it verifies (Twilio's published signature vectors
 * among them) and parses, the account check and the media deletion.
 *
 * Webhook fixtures hold the form fields as decoded [name, value] pairs, in
 * the order Twilio posts them, because the HTTP layer decodes forms before
 * the adapter sees them. */
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/message.h"
#include "providers/provider.h"
#include "providers/twilio.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/wire.h"

#define FIXTURE_SUBDIR "twilio"
#include "adapter_test.h" /* CHECK_*, fixture(), struct fake_hook */

#define AC "AC0123456789abcdef0123456789abcdef"
#define TOKEN "twilio-auth-token-0123456789abcd"
#define PUBLIC_URL "https://sms.clinic.example"
#define STATUS_URL PUBLIC_URL "/hooks/twilio/status"
#define REF "01JD3Q7X8Y9Z0ABCDEFGHJKMNP"
#define SM "SM3f4a1c2b9d8e7f6a5b4c3d2e1f0a9b8c"
#define MM "MM7c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f"
#define ME1 "ME0a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define ME2 "ME9f8e7d6c5b4a39281706f5e4d3c2b1a0"
#define API "https://api.twilio.com/2010-04-01/Accounts/" AC
#define NOW 1795000000LL

static struct config cfg;
static struct provider tw;

/* ---- helpers ------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *key)
{
  return json_string_value(json_object_get(o, key));
}

/* [[name, value], ...] as wire_params borrowing the JSON's strings. */
static size_t load_params(json_t *arr, struct wire_param *out, size_t max)
{
  size_t i, n = 0;
  json_t *it;
  json_array_foreach(arr, i, it)
  {
    if (n >= max)
      fail_msg("more than %zu params in a fixture", max);
    out[n].name = json_string_value(json_array_get(it, 0));
    out[n].value = json_string_value(json_array_get(it, 1));
    if (!out[n].name || !out[n].value)
      fail_msg("param %zu is not a [name, value] pair of strings", i);
    n++;
  }
  return n;
}

/* A Twilio webhook request: the shared fake's headers and query fields
 * (in .http), and the decoded form fields Twilio signs. */
struct tw_hook {
  struct fake_hook http;
  struct wire_param params[LB_HOOK_PARAMS_MAX];
  size_t n_params;
};

static struct hook_request hook(struct tw_hook *h, const char *public_url,
                                const char *path, const char *query,
                                const char *ctype, const char *body)
{
  struct hook_request r = {
      .method = "POST",
      .path = path,
      .query_string = query,
      .public_url = public_url,
      .content_type = ctype,
      .body = body ? body : "",
      .body_len = body ? strlen(body) : 0,
      .header = fake_header,
      .query = fake_query,
      .ctx = &h->http,
      .now_s = NOW,
      .params = h->params,
      .n_params = h->n_params,
  };
  return r;
}

/* A webhook fixture: {"content_type", "params": [[n, v]...], "query": {}}.
 * The form body itself is not needed: adapters read decoded params. */
static struct hook_request hook_fixture(json_t *j, struct tw_hook *h,
                                        const char *path)
{
  const char *k;
  json_t *v;
  memset(h, 0, sizeof *h);
  h->n_params =
      load_params(json_object_get(j, "params"), h->params, LB_HOOK_PARAMS_MAX);
  json_object_foreach(json_object_get(j, "query"), k, v)
      add_query(&h->http, k, json_string_value(v));
  return hook(h, PUBLIC_URL, path, "", jstr(j, "content_type"), "x=1");
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
  return provider_init(p, "twilio", c);
}

static int group_setup(void **state)
{
  static const char *const s[] = {
      "twilio", "account_sid", AC,       "twilio",       "auth_token",
      TOKEN,    "clinic",      "number", "+61488868772", NULL};
  return init_provider(&tw, &cfg, s) == LB_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
  provider_release(&tw);
  config_release(&cfg);
  return 0;
}

/* ---- registry and capabilities ------------------------------------------ */

static void test_registry_and_caps(void **state)
{
  struct config c;
  struct provider p;
  const char *const *h;

  assert_non_null(provider_find("twilio"));
  assert_string_equal(provider_find("twilio")->name, "twilio");
  assert_non_null(strstr(provider_names(), "twilio"));
  assert_non_null(strstr(provider_names(), "sim"));

  assert_int_equal(tw.caps.sms_out, 1);
  assert_int_equal(tw.caps.sms_in, 1);
  assert_int_equal(tw.caps.mms_out, 1);
  assert_int_equal(tw.caps.mms_in, 1);
  assert_int_equal(tw.caps.mms_max_bytes, 5000000);
  assert_int_equal(tw.caps.max_media, 10);
  assert_int_equal(tw.caps.subject_max, 0);
  /* No idempotency key: a timed-out send must not be resent blindly. */
  assert_int_equal(tw.caps.dedupes_by_ref, 0);
  assert_true(tw.caps.rate_per_s > 0);
  assert_non_null(tw.caps.mms_types);
  assert_string_equal(tw.caps.mms_types[0], "image/jpeg");
  assert_string_equal(tw.caps.mms_types[1], "image/png");
  assert_string_equal(tw.caps.mms_types[2], "image/gif");
  assert_null(tw.caps.mms_types[3]);
  h = tw.caps.media_hosts;
  assert_non_null(h);
  assert_string_equal(h[0], "api.twilio.com");
  assert_string_equal(h[1], ".twiliocdn.com");
  assert_string_equal(h[2], ".twilio.com");
  assert_null(h[3]);
  assert_string_equal(tw.caps.media_userpwd, AC ":" TOKEN);
  assert_string_equal(tw.ops->hook_reply_type, "text/xml");
  assert_string_equal(tw.ops->hook_reply_body,
                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
  assert_non_null(tw.ops->build_check);
  assert_non_null(tw.ops->parse_check);
  assert_non_null(tw.ops->build_media_delete);

  /* An API key takes over the REST API and media; a smaller MMS budget;
   * hosts separated by any run of spaces. */
  {
    static const char *const s[] = {
        "twilio", "account_sid",    AC,
        "twilio", "auth_token",     TOKEN,
        "twilio", "api_key_sid",    "SK0123456789abcdef0123456789abcdef",
        "twilio", "api_key_secret", "key-secret",
        "twilio", "mms_max_bytes",  "600000",
        "twilio", "media_hosts",    "  api.twilio.com   media.example  ",
        NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    assert_string_equal(p.caps.media_userpwd,
                        "SK0123456789abcdef0123456789abcdef:key-secret");
    assert_int_equal(p.caps.mms_max_bytes, 600000);
    assert_string_equal(p.caps.media_hosts[0], "api.twilio.com");
    assert_string_equal(p.caps.media_hosts[1], "media.example");
    assert_null(p.caps.media_hosts[2]);
    provider_release(&p);
    assert_null(p.priv);
    config_release(&c);
  }
  /* No hosts configured: none allowed (never "any host"); no credentials:
   * no media credentials either. */
  {
    static const char *const s[] = {"twilio", "media_hosts", "", NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    assert_non_null(p.caps.media_hosts);
    assert_null(p.caps.media_hosts[0]);
    assert_null(p.caps.media_userpwd);
    provider_release(&p);
    config_release(&c);
  }
  /* A base URL that is not http(s). */
  {
    static const char *const s[] = {"twilio", "base_url", "ftp://x.example",
                                    NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_ECONFIG);
    provider_release(&p);
    config_release(&c);
  }
}

/* ---- build_send --------------------------------------------------------- */

static void new_message(struct message *m, const char *text)
{
  message_init(m);
  snprintf(m->id, sizeof m->id, "%s", REF);
  snprintf(m->from, sizeof m->from, "+61488868772");
  snprintf(m->to, sizeof m->to, "+61412345678");
  m->text = text ? strdup(text) : NULL;
}

/* Splits a form body into decoded pairs (libcurl decodes; '+' is never
 * produced by the encoder, which writes %20). */
static json_t *form_pairs(const char *body)
{
  json_t *arr = json_array();
  char *copy = strdup(body), *save = NULL, *field;
  assert_non_null(copy);
  for (field = strtok_r(copy, "&", &save); field;
       field = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(field, '='), *n, *v;
    if (!eq)
      fail_msg("form field without '=': %s", field);
    *eq = '\0';
    if (strchr(field, '+') || strchr(eq + 1, '+'))
      fail_msg("a literal '+' in the form body: %s", field);
    n = curl_easy_unescape(NULL, field, 0, NULL);
    v = curl_easy_unescape(NULL, eq + 1, 0, NULL);
    assert_non_null(n);
    assert_non_null(v);
    json_array_append_new(arr, json_pack("[s, s]", n, v));
    curl_free(n);
    curl_free(v);
  }
  free(copy);
  return arr;
}

static void test_build_send_mms(void **state)
{
  json_t *want = fixture_json("send_request.json"), *form, *got, *wf, *hdrs;
  const char *text = NULL, *mu[2] = {NULL, NULL};
  struct send_media sm[2] = {{.content_type = "image/jpeg"},
                             {.content_type = "image/png"}};
  struct message m;
  struct send_input in = {&m, sm, 2, STATUS_URL};
  struct wire_request req;
  struct buf expect;
  size_t i, k = 0;
  json_t *it;

  wf = json_object_get(want, "form");
  json_array_foreach(wf, i, it)
  {
    const char *n = json_string_value(json_array_get(it, 0));
    const char *v = json_string_value(json_array_get(it, 1));
    if (strcmp(n, "Body") == 0)
      text = v;
    else if (strcmp(n, "MediaUrl") == 0 && k < 2)
      mu[k++] = v;
  }
  assert_non_null(text);
  assert_int_equal(k, 2);
  sm[0].url = mu[0];
  sm[1].url = mu[1];
  new_message(&m, text);
  m.n_media = 2;
  wire_request_init(&req);
  assert_int_equal(tw.ops->build_send(&tw, &in, &req), LB_OK);

  assert_string_equal(req.method, jstr(want, "method"));
  assert_string_equal(req.url, jstr(want, "url"));
  assert_string_equal(req.userpwd, jstr(want, "userpwd"));
  hdrs = json_object();
  for (i = 0; i < req.n_headers; i++) {
    const char *sep = strstr(req.headers[i], ": ");
    char name[LB_WIRE_HEADER_MAX];
    assert_non_null(sep);
    snprintf(name, sizeof name, "%.*s", (int)(sep - req.headers[i]),
             req.headers[i]);
    if (json_object_get(hdrs, name))
      fail_msg("header %s sent twice", name);
    json_object_set_new(hdrs, name, json_string(sep + 2));
  }
  if (!json_equal(hdrs, json_object_get(want, "headers")))
    fail_msg("headers differ from send_request.json");
  json_decref(hdrs);

  /* Field by field, in order. */
  form = form_pairs(req.body.data);
  if (json_array_size(form) != json_array_size(wf))
    fail_msg("%zu form fields, want %zu: %s", json_array_size(form),
             json_array_size(wf), req.body.data);
  json_array_foreach(wf, i, it)
  {
    json_t *g = json_array_get(form, i);
    char row[64];
    snprintf(row, sizeof row, "form field %zu", i);
    CHECK_STR(row, json_string_value(json_array_get(g, 0)),
              json_string_value(json_array_get(it, 0)));
    CHECK_STR(row, json_string_value(json_array_get(g, 1)),
              json_string_value(json_array_get(it, 1)));
  }
  /* And byte for byte: the fixture's fields, encoded by libcurl. */
  buf_init(&expect, 1 << 20);
  json_array_foreach(wf, i, it) assert_int_equal(
      wire_form_add(&expect, json_string_value(json_array_get(it, 0)),
                    json_string_value(json_array_get(it, 1))),
      LB_OK);
  assert_string_equal(req.body.data, expect.data);
  /* Spot checks that do not depend on libcurl's choices. */
  assert_non_null(strstr(req.body.data, "To=%2B61412345678&"));
  assert_non_null(strstr(req.body.data, "&From=%2B61488868772&"));
  assert_non_null(strstr(req.body.data, "%20%26%20bring%2050%25%20"));
  got = json_array_get(json_array_get(form, 5), 1);
  assert_string_equal(json_string_value(got), STATUS_URL "?ref=" REF);
  buf_release(&expect);
  json_decref(form);
  json_decref(want);
  wire_request_release(&req);
  message_release(&m);
}

/* A plain SMS: no MediaUrl; no text is an empty Body; no status URL means
 * no StatusCallback. */
static void test_build_send_sms(void **state)
{
  struct message m;
  struct send_input in = {&m, NULL, 0, NULL};
  struct wire_request req;
  json_t *form;

  new_message(&m, NULL);
  wire_request_init(&req);
  assert_int_equal(tw.ops->build_send(&tw, &in, &req), LB_OK);
  assert_string_equal(req.url, API "/Messages.json");
  form = form_pairs(req.body.data);
  assert_int_equal(json_array_size(form), 3);
  assert_string_equal(
      json_string_value(json_array_get(json_array_get(form, 2), 0)), "Body");
  assert_string_equal(
      json_string_value(json_array_get(json_array_get(form, 2), 1)), "");
  assert_null(strstr(req.body.data, "MediaUrl"));
  assert_null(strstr(req.body.data, "StatusCallback"));
  json_decref(form);
  wire_request_release(&req);
  message_release(&m);

  /* A status URL that already has a query gets "&ref=". */
  new_message(&m, "hi");
  in.status_url = STATUS_URL "?x=1";
  wire_request_init(&req);
  assert_int_equal(tw.ops->build_send(&tw, &in, &req), LB_OK);
  form = form_pairs(req.body.data);
  assert_string_equal(
      json_string_value(json_array_get(json_array_get(form, 3), 1)),
      STATUS_URL "?x=1&ref=" REF);
  json_decref(form);
  wire_request_release(&req);
  message_release(&m);
}

static void test_build_send_errors(void **state)
{
  struct message m;
  struct send_media sm[11];
  struct send_input in = {&m, sm, 1, STATUS_URL};
  struct wire_request req;
  struct config c;
  struct provider p;

  for (int i = 0; i < 11; i++)
    sm[i] = (struct send_media){.content_type = "image/jpeg",
                                .url = "https://sms.clinic.example/p/m"};
  new_message(&m, "hi");

  /* Twilio fetches media itself: an item with no URL cannot go. */
  sm[0].url = NULL;
  wire_request_init(&req);
  CHECK_RC("media without url", tw.ops->build_send(&tw, &in, &req), LB_EINVAL);
  wire_request_release(&req);
  sm[0].url = "";
  wire_request_init(&req);
  CHECK_RC("media with empty url", tw.ops->build_send(&tw, &in, &req),
           LB_EINVAL);
  wire_request_release(&req);
  sm[0].url = "https://sms.clinic.example/p/m";

  in.n_media = 10;
  wire_request_init(&req);
  CHECK_RC("10 media", tw.ops->build_send(&tw, &in, &req), LB_OK);
  wire_request_release(&req);
  in.n_media = 11;
  wire_request_init(&req);
  CHECK_RC("11 media", tw.ops->build_send(&tw, &in, &req), LB_ETOOBIG);
  wire_request_release(&req);
  in.n_media = 0;

  /* No clinic number to send from. */
  m.from[0] = '\0';
  wire_request_init(&req);
  CHECK_RC("no from", tw.ops->build_send(&tw, &in, &req), LB_EINVAL);
  wire_request_release(&req);
  snprintf(m.from, sizeof m.from, "+61488868772");

  /* No credentials. */
  {
    static const char *const s[] = {"twilio", "account_sid", AC, NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    wire_request_init(&req);
    CHECK_RC("no token", p.ops->build_send(&p, &in, &req), LB_ECONFIG);
    wire_request_release(&req);
    provider_release(&p);
    config_release(&c);
  }
  /* An account SID that is not one: never put into a URL. */
  {
    static const char *const s[] = {"twilio", "account_sid", "AC12/../x",
                                    "twilio", "auth_token",  TOKEN,
                                    NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    wire_request_init(&req);
    CHECK_RC("bad sid", p.ops->build_send(&p, &in, &req), LB_ECONFIG);
    wire_request_release(&req);
    provider_release(&p);
    config_release(&c);
  }
  /* An API key authenticates the API call; another base URL is used. */
  {
    static const char *const s[] = {
        "twilio", "account_sid",    AC,
        "twilio", "auth_token",     TOKEN,
        "twilio", "api_key_sid",    "SK0123456789abcdef0123456789abcdef",
        "twilio", "api_key_secret", "key-secret",
        "twilio", "base_url",       "http://127.0.0.1:18080/",
        NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    wire_request_init(&req);
    CHECK_RC("api key", p.ops->build_send(&p, &in, &req), LB_OK);
    assert_string_equal(req.userpwd,
                        "SK0123456789abcdef0123456789abcdef:key-secret");
    assert_string_equal(req.url,
                        "http://127.0.0.1:18080/2010-04-01/Accounts/" AC
                        "/Messages.json");
    wire_request_release(&req);
    provider_release(&p);
    config_release(&c);
  }
  message_release(&m);
}

/* ---- parse_send --------------------------------------------------------- */

/* What each Twilio answer means for the outbox. */
static const struct send_row {
  const char *name;
  long status;      /* HTTP status; 0 for no answer */
  int error;        /* transport error */
  int maybe_sent;   /* the request may have reached Twilio */
  long retry_after; /* Retry-After in seconds, -1 for none */
  const char *body; /* fixture file, or NULL for no body */
  enum send_outcome outcome;
  const char *id;   /* provider_msg_id, for SEND_ACCEPTED */
  const char *code; /* error_code, or NULL for "" */
  const char *text; /* error_text contains this, or NULL */
  long retry_ms;    /* retry_after_ms */
} send_rows[] = {
    {"201 created", 201, LB_OK, 0, -1, "send_response_created.json",
     SEND_ACCEPTED, SM, NULL, NULL, -1},
    {"201 created mms", 201, LB_OK, 0, -1, "send_response_created_mms.json",
     SEND_ACCEPTED, MM, NULL, NULL, -1},
    {"200 created", 200, LB_OK, 0, -1, "send_response_created.json",
     SEND_ACCEPTED, SM, NULL, NULL, -1},
    {"21614 landline", 400, LB_OK, 0, -1, "send_response_21614.json",
     SEND_FINAL, "", "twilio_21614", "landline or cannot receive SMS", -1},
    {"21614 code as a string", 400, LB_OK, 0, -1,
     "send_response_code_string.json", SEND_FINAL, "", "twilio_21614",
     "not a valid mobile number", -1},
    {"21610 opted out", 400, LB_OK, 0, -1, "send_response_21610.json",
     SEND_FINAL, "", "opted_out", "replied STOP", -1},
    {"21211 invalid number", 400, LB_OK, 0, -1, "send_response_21211.json",
     SEND_FINAL, "", "twilio_21211", "not a valid phone number", -1},
    {"30019 media too large", 400, LB_OK, 0, -1, "send_response_30019.json",
     SEND_FINAL, "", "media_too_large", "30019", -1},
    {"11751 media too large", 400, LB_OK, 0, -1, "send_response_11751.json",
     SEND_FINAL, "", "media_too_large", "5 MB", -1},
    {"63034 media too large", 400, LB_OK, 0, -1, "send_response_63034.json",
     SEND_FINAL, "", "media_too_large", "63034", -1},
    {"20003 authentication", 401, LB_OK, 0, -1, "send_response_20003.json",
     SEND_FINAL, "", "twilio_20003", "account_sid", -1},
    {"401 without a body", 401, LB_OK, 0, -1, NULL, SEND_FINAL, "",
     "twilio_20003", "credentials", -1},
    {"21408 other code, Twilio's words", 400, LB_OK, 0, -1,
     "send_response_21408.json", SEND_FINAL, "", "twilio_21408",
     "Permission to send an SMS has not been enabled", -1},
    {"400 without a body", 400, LB_OK, 0, -1, NULL, SEND_FINAL, "", "http_400",
     "HTTP 400", -1},
    {"429 with Retry-After", 429, LB_OK, 0, 7, "send_response_20429.json",
     SEND_RETRY, "", "rate_limited", "20429", 7000},
    {"429 without Retry-After", 429, LB_OK, 0, -1, NULL, SEND_RETRY, "",
     "rate_limited", "HTTP 429", -1},
    {"20429 under another status", 400, LB_OK, 0, -1,
     "send_response_20429.json", SEND_RETRY, "", "rate_limited", "20429", -1},
    {"500", 500, LB_OK, 0, -1, "send_response_500.json", SEND_RETRY, "",
     "twilio_20500", "Internal Server Error", -1},
    {"503 with Retry-After", 503, LB_OK, 0, 30, NULL, SEND_RETRY, "",
     "http_503", "HTTP 503", 30000},
    {"502 html", 502, LB_OK, 0, -1, "send_response_html.html", SEND_RETRY, "",
     "http_502", "HTTP 502", -1},
    {"timeout after sending", 0, LB_ETIMEOUT, 1, -1, NULL, SEND_UNKNOWN, "",
     "timeout", NULL, -1},
    {"reset after sending", 0, LB_EIO, 1, -1, NULL, SEND_UNKNOWN, "", "network",
     NULL, -1},
    {"connection refused", 0, LB_EIO, 0, -1, NULL, SEND_RETRY, "", "network",
     NULL, -1},
    {"connect timeout", 0, LB_ETIMEOUT, 0, -1, NULL, SEND_RETRY, "", "timeout",
     NULL, -1},
    {"201 without sid", 201, LB_OK, 0, -1, "send_response_no_sid.json",
     SEND_UNKNOWN, "", "bad_response", "no message SID", -1},
    {"201 empty sid", 201, LB_OK, 0, -1, "send_response_empty_sid.json",
     SEND_UNKNOWN, "", "bad_response", NULL, -1},
    {"201 not json", 201, LB_OK, 0, -1, "send_response_html.html", SEND_UNKNOWN,
     "", "bad_response", NULL, -1},
    {"201 no body", 201, LB_OK, 0, -1, NULL, SEND_UNKNOWN, "", "bad_response",
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
    CHECK_RC(r->name, tw.ops->parse_send(&tw, &res, &out), LB_OK);
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

/* ---- signatures: Twilio's published vectors ----------------------------- */

static void test_signature_vectors(void **state)
{
  json_t *j = fixture_json("signature_vectors.json"), *v;
  const char *token = jstr(j, "token");
  size_t i;

  json_array_foreach(json_object_get(j, "vectors"), i, v)
  {
    const char *name = jstr(v, "name"), *want = jstr(v, "signature");
    struct wire_param params[16];
    size_t n = load_params(json_object_get(v, "params"), params, 16);
    char got[TWILIO_SIGNATURE_SIZE];

    CHECK_RC(name, twilio_signature(token, jstr(v, "url"), params, n, got),
             LB_OK);
    CHECK_STR(name, got, want);
    print_message("    vector '%s': %s\n", name, got);

    /* The published string to sign, through HMAC-SHA1 and base64 alone. */
    if (jstr(v, "string_to_sign")) {
      const char *s = jstr(v, "string_to_sign");
      unsigned char mac[LB_SHA1_LEN];
      char b64[TWILIO_SIGNATURE_SIZE];
      assert_int_equal(
          crypto_hmac_sha1(token, strlen(token), s, strlen(s), mac), LB_OK);
      sodium_bin2base64(b64, sizeof b64, mac, sizeof mac,
                        sodium_base64_VARIANT_ORIGINAL);
      CHECK_STR(name, b64, want);
    }
    if (jstr(v, "body")) {
      char hex[LB_SHA256_HEX];
      crypto_sha256_hex(jstr(v, "body"), strlen(jstr(v, "body")), hex);
      CHECK_STR(name, hex, jstr(v, "body_sha256"));
      CHECK_HAS(name, jstr(v, "url"), hex);
    }
  }
  json_decref(j);
}

/* The same vectors through verify_hook: the URL is lyrebird's public URL,
 * the path and the query as requested. */
static void test_verify_vectors(void **state)
{
  json_t *j = fixture_json("signature_vectors.json"), *v;
  struct config c;
  struct provider p;
  size_t i;
  const char *const s[] = {"twilio",     "account_sid",    AC,  "twilio",
                           "auth_token", jstr(j, "token"), NULL};

  assert_int_equal(init_provider(&p, &c, s), LB_OK);
  json_array_foreach(json_object_get(j, "verify"), i, v)
  {
    const char *name = jstr(v, "name"), *want = jstr(v, "want");
    const char *ctype = jstr(v, "content_type");
    struct tw_hook h;
    struct hook_request req;
    int rc;
    memset(&h, 0, sizeof h);
    h.n_params =
        load_params(json_object_get(v, "params"), h.params, LB_HOOK_PARAMS_MAX);
    if (jstr(v, "signature"))
      add_header(&h.http, "X-Twilio-Signature", jstr(v, "signature"));
    req =
        hook(&h, jstr(v, "public_url"),
             jstr(v, "path") ? jstr(v, "path") : "/myapp.php", jstr(v, "query"),
             ctype ? ctype : "application/x-www-form-urlencoded",
             jstr(v, "body") ? jstr(v, "body") : "x=1");
    rc = p.ops->verify_hook(&p, &req);
    CHECK_RC(name, rc,
             strcmp(want, "ok") == 0     ? LB_OK
             : strcmp(want, "auth") == 0 ? LB_EAUTH
                                         : LB_ESIGNATURE);
  }
  provider_release(&p);
  config_release(&c);
  json_decref(j);
}

/* Lyrebird's own hooks, signed as Twilio would sign them. */
static void test_verify_hook(void **state)
{
  json_t *j = fixture_json("inbound_mms.json");
  struct tw_hook h;
  struct hook_request req = hook_fixture(j, &h, "/hooks/twilio/inbound");
  char sig[TWILIO_SIGNATURE_SIZE], other[TWILIO_SIGNATURE_SIZE];
  const char *saved;
  struct config c;
  struct provider p;

  assert_int_equal(twilio_signature(TOKEN, PUBLIC_URL "/hooks/twilio/inbound",
                                    h.params, h.n_params, sig),
                   LB_OK);
  add_header(&h.http, "x-twilio-signature", sig);
  CHECK_RC("inbound", tw.ops->verify_hook(&tw, &req), LB_OK);

  /* The signature covers the URL Twilio was given, so any other public
   * URL (say, the address a proxy forwards to) does not verify. */
  req.public_url = "http://10.0.0.5:8080";
  CHECK_RC("other public_url", tw.ops->verify_hook(&tw, &req), LB_ESIGNATURE);
  req.public_url = PUBLIC_URL;

  /* A field changed in transit. */
  for (size_t i = 0; i < h.n_params; i++)
    if (strcmp(h.params[i].name, "Body") == 0) {
      saved = h.params[i].value;
      h.params[i].value = "Photo of the rash (edited)";
      CHECK_RC("tampered body", tw.ops->verify_hook(&tw, &req), LB_ESIGNATURE);
      h.params[i].value = saved;
    }
  CHECK_RC("restored", tw.ops->verify_hook(&tw, &req), LB_OK);

  /* A media URL swapped for another. */
  for (size_t i = 0; i < h.n_params; i++)
    if (strcmp(h.params[i].name, "MediaUrl0") == 0) {
      saved = h.params[i].value;
      h.params[i].value = "https://evil.example/x.jpg";
      CHECK_RC("media url swapped", tw.ops->verify_hook(&tw, &req),
               LB_ESIGNATURE);
      h.params[i].value = saved;
    }

  /* The status hook, with the ref build_send put in its URL. */
  assert_int_equal(twilio_signature(TOKEN, STATUS_URL "?ref=" REF, h.params,
                                    h.n_params, other),
                   LB_OK);
  h.http.values[0] = other;
  req.path = "/hooks/twilio/status";
  req.query_string = "ref=" REF;
  CHECK_RC("status with ref", tw.ops->verify_hook(&tw, &req), LB_OK);
  req.query_string = "ref=01JD3Q7X8Y9Z0ABCDEFGHJKMNQ";
  CHECK_RC("ref changed", tw.ops->verify_hook(&tw, &req), LB_ESIGNATURE);
  req.query_string = NULL; /* too long to keep: cannot be checked */
  CHECK_RC("query lost", tw.ops->verify_hook(&tw, &req), LB_ESIGNATURE);
  req.query_string = "ref=" REF;
  req.public_url = NULL;
  CHECK_RC("no public_url", tw.ops->verify_hook(&tw, &req), LB_ESIGNATURE);
  req.public_url = PUBLIC_URL;

  /* A GET webhook: the params are the query's and are not appended. */
  assert_int_equal(
      twilio_signature(TOKEN, STATUS_URL "?ref=" REF, NULL, 0, other), LB_OK);
  req.method = "GET";
  req.content_type = NULL;
  req.body = "";
  req.body_len = 0;
  CHECK_RC("GET", tw.ops->verify_hook(&tw, &req), LB_OK);
  h.http.values[0] = sig;
  CHECK_RC("GET, wrong signature", tw.ops->verify_hook(&tw, &req),
           LB_ESIGNATURE);

  /* Signed with another token. */
  req = hook_fixture(j, &h, "/hooks/twilio/inbound");
  assert_int_equal(twilio_signature("another-token",
                                    PUBLIC_URL "/hooks/twilio/inbound",
                                    h.params, h.n_params, other),
                   LB_OK);
  add_header(&h.http, "X-Twilio-Signature", other);
  CHECK_RC("wrong token", tw.ops->verify_hook(&tw, &req), LB_ESIGNATURE);

  /* No auth token configured: nothing can be checked. */
  {
    static const char *const s[] = {"twilio", "account_sid", AC, NULL};
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    h.http.values[0] = sig;
    CHECK_RC("no token", p.ops->verify_hook(&p, &req), LB_EAUTH);
    provider_release(&p);
    config_release(&c);
  }
  json_decref(j);
}

/* ---- parse_inbound ------------------------------------------------------ */

static int parse_inbound_json(json_t *j, struct inbound_msg *out, char *why,
                              size_t whylen)
{
  struct tw_hook h;
  struct hook_request req = hook_fixture(j, &h, "/hooks/twilio/inbound");
  inbound_msg_init(out);
  why[0] = '\0';
  return tw.ops->parse_inbound(&tw, &req, out, why, whylen);
}

static int parse_inbound_file(const char *name, struct inbound_msg *out,
                              char *why, size_t whylen)
{
  json_t *j = fixture_json(name);
  int rc = parse_inbound_json(j, out, why, whylen);
  json_decref(j);
  return rc;
}

static void test_parse_inbound_sms(void **state)
{
  struct inbound_msg m;
  char why[256];
  assert_int_equal(parse_inbound_file("inbound_sms.json", &m, why, sizeof why),
                   LB_OK);
  assert_string_equal(m.provider_msg_id, SM);
  assert_string_equal(m.from, "+61412345678");
  assert_string_equal(m.to, "+61488868772");
  assert_string_equal(m.text,
                      "Yes, see you Tuesday \xf0\x9f\x91\x8d & thanks!");
  assert_int_equal(m.n_media, 0);
  inbound_msg_release(&m);
  assert_null(m.text);
}

static void test_parse_inbound_mms(void **state)
{
  struct inbound_msg m;
  char why[256];
  assert_int_equal(parse_inbound_file("inbound_mms.json", &m, why, sizeof why),
                   LB_OK);
  assert_string_equal(m.provider_msg_id, MM);
  assert_string_equal(m.text, "Photo of the rash");
  assert_int_equal(m.n_media, 2);
  /* Links for the gateway to fetch later, with Basic auth. */
  assert_null(m.media[0].data);
  assert_string_equal(m.media[0].url, API "/Messages/" MM "/Media/" ME1);
  assert_string_equal(m.media[0].content_type, "image/jpeg");
  assert_null(m.media[1].data);
  assert_string_equal(m.media[1].url, API "/Messages/" MM "/Media/" ME2);
  assert_string_equal(m.media[1].content_type, "image/png");
  inbound_msg_release(&m);
  assert_int_equal(m.n_media, 0);

  /* A photo with no text: text is "" (never NULL). */
  assert_int_equal(
      parse_inbound_file("inbound_mms_photo_only.json", &m, why, sizeof why),
      LB_OK);
  assert_non_null(m.text);
  assert_string_equal(m.text, "");
  assert_int_equal(m.n_media, 1);
  inbound_msg_release(&m);
}

/* A sender in local form is normalised with [clinic] region (AU). */
static void test_parse_inbound_local_number(void **state)
{
  json_t *j = fixture_json("inbound_sms.json"), *it;
  struct inbound_msg m;
  char why[256];
  size_t i;
  json_array_foreach(json_object_get(j, "params"), i, it)
  {
    if (strcmp(json_string_value(json_array_get(it, 0)), "From") == 0)
      json_array_set_new(it, 1, json_string("0412 345 678"));
    if (strcmp(json_string_value(json_array_get(it, 0)), "NumMedia") == 0)
      json_array_set_new(it, 1, json_string(""));
  }
  assert_int_equal(parse_inbound_json(j, &m, why, sizeof why), LB_OK);
  assert_string_equal(m.from, "+61412345678");
  assert_int_equal(m.n_media, 0);
  inbound_msg_release(&m);
  json_decref(j);
}

static void test_parse_inbound_bad(void **state)
{
  static const struct {
    const char *file;
    int want;
    const char *why_has;
  } rows[] = {
      {"inbound_bad_missing_sid.json", LB_EINVAL, "'MessageSid' is required"},
      {"inbound_bad_missing_from.json", LB_EINVAL, "'From' is required"},
      {"inbound_bad_from_alpha.json", LB_EINVAL, "'From' is not a phone"},
      {"inbound_bad_from_twice.json", LB_EINVAL, "'From' appears twice"},
      {"inbound_bad_num_media_word.json", LB_EINVAL, "'NumMedia'"},
      {"inbound_bad_num_media_11.json", LB_ETOOBIG, "at most 10"},
      {"inbound_bad_media_missing_url.json", LB_EINVAL, "'MediaUrl1'"},
      {"inbound_bad_media_extra_url.json", LB_EINVAL,
       "'MediaContentType1' is present but 'NumMedia' is 1"},
      {"inbound_bad_media_not_http.json", LB_EINVAL, "'MediaUrl0'"},
      {"inbound_bad_media_long_type.json", LB_EINVAL, "'MediaContentType0'"},
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
      {"status_sent.json", LB_OK, SM, REF, ST_SENT, "", ""},
      {"status_delivered.json", LB_OK, SM, REF, ST_DELIVERED, "", ""},
      {"status_undelivered_30003.json", LB_OK, SM, REF, ST_UNDELIVERED,
       "twilio_30003", "unreachable"},
      {"status_failed.json", LB_OK, MM, "", ST_FAILED, "twilio_30008",
       "Twilio: Unknown error"},
      {"status_failed_30019.json", LB_OK, MM, REF, ST_FAILED, "media_too_large",
       "larger than the carrier accepts"},
      {"status_queued.json", LB_OK, SM, "", ST_SENT, "", ""},
      {"status_read.json", LB_OK, SM, REF, ST_DELIVERED, "", ""},
      {"status_canceled.json", LB_OK, SM, REF, ST_FAILED, "canceled",
       "canceled at Twilio"},
      {"status_bad_unknown.json", LB_EINVAL, NULL, NULL, 0, NULL,
       "'teleported' is not a Twilio status"},
      {"status_bad_received.json", LB_EINVAL, NULL, NULL, 0, NULL,
       "inbound message"},
      {"status_bad_missing_sid.json", LB_EINVAL, NULL, NULL, 0, NULL,
       "'MessageSid' is required"},
      {"status_bad_missing_status.json", LB_EINVAL, NULL, NULL, 0, NULL,
       "'MessageStatus' is required"},
      {"status_bad_error_code.json", LB_EINVAL, NULL, NULL, 0, NULL,
       "'ErrorCode' must be a number"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    json_t *j = fixture_json(rows[i].file);
    struct tw_hook h;
    struct hook_request req = hook_fixture(j, &h, "/hooks/twilio/status");
    struct status_update u;
    char why[256] = "";
    int rc;
    memset(&u, 0x5a, sizeof u);
    u.status = ST__COUNT;
    rc = tw.ops->parse_status(&tw, &req, &u, why, sizeof why);
    CHECK_RC(rows[i].file, rc, rows[i].want);
    if (rc == LB_OK) {
      CHECK_STR(rows[i].file, u.provider_msg_id, rows[i].id);
      CHECK_STR(rows[i].file, u.ref, rows[i].ref);
      CHECK_INT(rows[i].file, u.status, rows[i].status);
      CHECK_STR(rows[i].file, u.error_code, rows[i].code);
      if (rows[i].text[0])
        CHECK_HAS(rows[i].file, u.error_text, rows[i].text);
      else
        CHECK_STR(rows[i].file, u.error_text, "");
    } else {
      if (!why[0])
        fail_msg("%s: refused without a reason", rows[i].file);
      CHECK_HAS(rows[i].file, why, rows[i].text);
    }
    json_decref(j);
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
      {"active", 200, LB_OK, "check_active.json", LB_OK,
       "account Riverside Family Clinic: active"},
      {"suspended", 200, LB_OK, "check_suspended.json", LB_EPROVIDER,
       "account Riverside Family Clinic: suspended"},
      {"20003", 401, LB_OK, "check_20003.json", LB_EAUTH, "Authenticate"},
      {"401 no body", 401, LB_OK, NULL, LB_EAUTH, "account_sid"},
      {"20404", 404, LB_OK, "check_20404.json", LB_EPROVIDER,
       "error 20404: The requested resource"},
      {"500 html", 500, LB_OK, "send_response_html.html", LB_EPROVIDER,
       "HTTP 500"},
      {"200 html", 200, LB_OK, "send_response_html.html", LB_EPROVIDER,
       "without the account's friendly_name"},
      {"unreachable", 0, LB_ETIMEOUT, NULL, LB_EPROVIDER,
       "could not reach Twilio at https://api.twilio.com"},
  };
  struct wire_request req;
  wire_request_init(&req);
  assert_int_equal(tw.ops->build_check(&tw, &req), LB_OK);
  assert_string_equal(req.method, "GET");
  assert_string_equal(req.url, API ".json");
  assert_string_equal(req.userpwd, AC ":" TOKEN);
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
    CHECK_RC(rows[i].name, tw.ops->parse_check(&tw, &res, out, sizeof out),
             rows[i].want);
    CHECK_HAS(rows[i].name, out, rows[i].text);
    wire_response_release(&res);
  }
}

/* ---- media deletion ----------------------------------------------------- */

static void test_media_delete(void **state)
{
  static const struct {
    const char *name;
    const char *url;
    int want;
    const char *del; /* the DELETE URL, for LB_OK */
  } rows[] = {
      {"media url", API "/Messages/" MM "/Media/" ME1, LB_OK,
       API "/Messages/" MM "/Media/" ME1 ".json"},
      {"SMS message sid", API "/Messages/" SM "/Media/" ME2, LB_OK,
       API "/Messages/" SM "/Media/" ME2 ".json"},
      {"already .json", API "/Messages/" MM "/Media/" ME1 ".json", LB_OK,
       API "/Messages/" MM "/Media/" ME1 ".json"},
      {"with .jpg", API "/Messages/" MM "/Media/" ME1 ".jpg", LB_OK,
       API "/Messages/" MM "/Media/" ME1 ".json"},
      {"query and fragment dropped",
       API "/Messages/" MM "/Media/" ME1 "?Download=true#x", LB_OK,
       API "/Messages/" MM "/Media/" ME1 ".json"},
      {"explicit :443",
       "https://api.twilio.com:443/2010-04-01/Accounts/" AC "/Messages/" MM
       "/Media/" ME1,
       LB_OK,
       "https://api.twilio.com:443/2010-04-01/Accounts/" AC "/Messages/" MM
       "/Media/" ME1 ".json"},
      {"host in capitals",
       "https://API.Twilio.com/2010-04-01/Accounts/" AC "/Messages/" MM
       "/Media/" ME1,
       LB_OK, NULL},
      {"credentials in the url dropped",
       "https://user:pw@api.twilio.com/2010-04-01/Accounts/" AC "/Messages/" MM
       "/Media/" ME1,
       LB_OK, API "/Messages/" MM "/Media/" ME1 ".json"},
      {"another account",
       "https://api.twilio.com/2010-04-01/Accounts/"
       "ACffffffffffffffffffffffffffffffff/Messages/" MM "/Media/" ME1,
       LB_ENOTFOUND, NULL},
      {"the CDN",
       "https://media.twiliocdn.com/2010-04-01/Accounts/" AC "/Messages/" MM
       "/Media/" ME1,
       LB_ENOTFOUND, NULL},
      {"a look-alike host",
       "https://api.twilio.com.evil.example/2010-04-01/"
       "Accounts/" AC "/Messages/" MM "/Media/" ME1,
       LB_ENOTFOUND, NULL},
      {"plain http",
       "http://api.twilio.com/2010-04-01/Accounts/" AC "/Messages/" MM
       "/Media/" ME1,
       LB_ENOTFOUND, NULL},
      {"another port",
       "https://api.twilio.com:8443/2010-04-01/Accounts/" AC "/Messages/" MM
       "/Media/" ME1,
       LB_ENOTFOUND, NULL},
      {"the media list", API "/Messages/" MM "/Media.json", LB_ENOTFOUND, NULL},
      {"the message", API "/Messages/" MM ".json", LB_ENOTFOUND, NULL},
      {"a deeper path", API "/Messages/" MM "/Media/" ME1 "/x", LB_ENOTFOUND,
       NULL},
      {"not a media sid", API "/Messages/" MM "/Media/XX0a1b2c3d", LB_ENOTFOUND,
       NULL},
      {"not a message sid", API "/Messages/CA0a1b2c3d/Media/" ME1, LB_ENOTFOUND,
       NULL},
      {"encoded slash", API "/Messages/" MM "/Media/ME1%2F..%2Fx", LB_ENOTFOUND,
       NULL},
      {"another API version",
       "https://api.twilio.com/2008-08-01/Accounts/" AC "/Messages/" MM
       "/Media/" ME1,
       LB_ENOTFOUND, NULL},
      {"not a url", "not a url", LB_ENOTFOUND, NULL},
      {"empty", "", LB_ENOTFOUND, NULL},
  };
  struct config c;
  struct provider p;

  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct wire_request req;
    int rc;
    wire_request_init(&req);
    rc = tw.ops->build_media_delete(&tw, rows[i].url, &req);
    CHECK_RC(rows[i].name, rc, rows[i].want);
    if (rc == LB_OK) {
      CHECK_STR(rows[i].name, req.method, "DELETE");
      if (rows[i].del)
        CHECK_STR(rows[i].name, req.url, rows[i].del);
      CHECK_STR(rows[i].name, req.userpwd, AC ":" TOKEN);
      CHECK_INT(rows[i].name, req.body.len, 0);
    }
    wire_request_release(&req);
  }

  /* A configured base URL (a local fake Twilio) is Twilio's API too; the
   * real host stays allowed. */
  {
    static const char *const s[] = {
        "twilio", "account_sid", AC,
        "twilio", "auth_token",  TOKEN,
        "twilio", "base_url",    "http://127.0.0.1:18080",
        NULL};
    struct wire_request req;
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    wire_request_init(&req);
    CHECK_RC("fake base",
             p.ops->build_media_delete(&p,
                                       "http://127.0.0.1:18080/2010-04-01/"
                                       "Accounts/" AC "/Messages/" MM
                                       "/Media/" ME1,
                                       &req),
             LB_OK);
    CHECK_STR("fake base", req.url,
              "http://127.0.0.1:18080/2010-04-01/Accounts/" AC "/Messages/" MM
              "/Media/" ME1 ".json");
    wire_request_release(&req);
    wire_request_init(&req);
    CHECK_RC("fake base, other port",
             p.ops->build_media_delete(&p,
                                       "http://127.0.0.1:18081/2010-04-01/"
                                       "Accounts/" AC "/Messages/" MM
                                       "/Media/" ME1,
                                       &req),
             LB_ENOTFOUND);
    wire_request_release(&req);
    wire_request_init(&req);
    CHECK_RC(
        "fake base, real host",
        p.ops->build_media_delete(&p, API "/Messages/" MM "/Media/" ME1, &req),
        LB_OK);
    wire_request_release(&req);
    provider_release(&p);
    config_release(&c);
  }
  /* [twilio] delete_media = false: nothing is deleted. */
  {
    static const char *const s[] = {
        "twilio", "account_sid",  AC,      "twilio", "auth_token", TOKEN,
        "twilio", "delete_media", "false", NULL};
    struct wire_request req;
    assert_int_equal(init_provider(&p, &c, s), LB_OK);
    wire_request_init(&req);
    CHECK_RC(
        "delete_media off",
        p.ops->build_media_delete(&p, API "/Messages/" MM "/Media/" ME1, &req),
        LB_ENOTFOUND);
    wire_request_release(&req);
    provider_release(&p);
    config_release(&c);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_and_caps),
      cmocka_unit_test(test_build_send_mms),
      cmocka_unit_test(test_build_send_sms),
      cmocka_unit_test(test_build_send_errors),
      cmocka_unit_test(test_parse_send_table),
      cmocka_unit_test(test_signature_vectors),
      cmocka_unit_test(test_verify_vectors),
      cmocka_unit_test(test_verify_hook),
      cmocka_unit_test(test_parse_inbound_sms),
      cmocka_unit_test(test_parse_inbound_mms),
      cmocka_unit_test(test_parse_inbound_local_number),
      cmocka_unit_test(test_parse_inbound_bad),
      cmocka_unit_test(test_parse_status),
      cmocka_unit_test(test_check),
      cmocka_unit_test(test_media_delete),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
