/* SMS Broadcast's adapter, as tables over fixture files in
 * tests/fixtures/smsbroadcast/. The adapter is a pure translator, so every
 * test here feeds it bytes and checks what it makes of them: the send and
 * balance requests it builds (and the SMS parts it asks for), the text
 * answers it reads, the webhooks it lets in, and the replies and status
 * updates it parses, URL-encoded and JSON. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/message.h"
#include "providers/provider.h"
#include "util/err.h"
#include "util/wire.h"

#define FIXTURE_SUBDIR "smsbroadcast"
#include "adapter_test.h" /* CHECK_*, fixture(), struct fake_hook */

#define USERNAME "clinic-api-key"
#define PASSWORD "s3cret&pass=word"
#define BASE_URL "http://sb.test:9100"
#define SECRET "0f3c9a7e5b2d4c6e8a1b3d5f7e9c2a4b"
#define CLINIC "+61488868772"
#define PATIENT "+61491570156"
#define REF "01JD3Q7X8Y9Z0ABCDEFGHJKMNP"
#define REF20 "7X8Y9Z0ABCDEFGHJKMNP" /* its last 20 characters */
#define MEDIA_MAX 1024 /* [media] max_bytes, small to test the limit */
#define NOW 1795000000LL

/* The 19 bytes behind the PNG base64 in the fixtures: a PNG signature and
 * header start, with 0x00 and 0xff to catch text-only handling. */
static const unsigned char png[] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A,
                                    0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48,
                                    0x44, 0x52, 0xFF, 0xFE, 0x00};

static struct config cfg;
static struct provider sb;

/* ---- helpers ----------------------------------------------------------- */

/* Decoded name=value pairs of a URL-encoded string, as the HTTP layer
 * hands them to the adapter (it decodes with libmicrohttpd; here libcurl
 * does). */
struct form {
  struct wire_param p[LB_HOOK_PARAMS_MAX];
  size_t n;
};

static char *unescape(const char *s, size_t n)
{
  int outlen = 0;
  char *d, *copy;
  if (!n) /* libcurl reads a length of 0 as "up to the NUL" */
    return strdup("");
  d = curl_easy_unescape(NULL, s, (int)n, &outlen);
  assert_non_null(d);
  copy = malloc((size_t)outlen + 1);
  assert_non_null(copy);
  memcpy(copy, d, (size_t)outlen);
  copy[outlen] = '\0';
  curl_free(d);
  return copy;
}

static void form_parse(struct form *f, const char *s)
{
  memset(f, 0, sizeof *f);
  while (*s) {
    size_t n = strcspn(s, "&");
    const char *eq = memchr(s, '=', n);
    if (n) {
      assert_true(f->n < LB_HOOK_PARAMS_MAX);
      f->p[f->n].name = unescape(s, eq ? (size_t)(eq - s) : n);
      f->p[f->n].value =
          eq ? unescape(eq + 1, n - (size_t)(eq - s) - 1) : strdup("");
      f->n++;
    }
    s += n;
    if (*s == '&')
      s++;
  }
}

static void form_release(struct form *f)
{
  for (size_t i = 0; i < f->n; i++) {
    free((char *)f->p[i].name);
    free((char *)f->p[i].value);
  }
  f->n = 0;
}

static const char *form_get(const struct form *f, const char *name)
{
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->p[i].name, name) == 0)
      return f->p[i].value;
  return NULL;
}

static struct hook_request hook(struct fake_hook *h, const char *method,
                                const char *path, const char *ctype,
                                const char *body, size_t len)
{
  struct hook_request r = {
      .method = method,
      .path = path,
      .query_string = "",
      .public_url = "https://sms.clinic.example",
      .content_type = ctype,
      .body = body,
      .body_len = len,
      .header = fake_header,
      .query = fake_query,
      .ctx = h,
      .now_s = NOW,
  };
  return r;
}

/* A webhook made from a fixture, as the portal would send it: "*.query"
 * is a GET with that query string, "*.txt" a URL-encoded POST, "*.json" a
 * JSON POST. The HTTP layer's decoded fields go in req->params. */
struct hook_fixture {
  char *body;
  size_t len;
  struct form form;
  struct fake_hook h;
  struct hook_request req;
};

static void hook_fixture(struct hook_fixture *x, const char *name,
                         const char *path)
{
  const char *dot = strrchr(name, '.');
  memset(x, 0, sizeof *x);
  x->body = fixture(name, &x->len);
  if (strcmp(dot, ".query") == 0) {
    form_parse(&x->form, x->body);
    x->req = hook(&x->h, "GET", path, NULL, "", 0);
    x->req.query_string = x->body;
  } else if (strcmp(dot, ".txt") == 0) {
    form_parse(&x->form, x->body);
    x->req = hook(&x->h, "POST", path, "application/x-www-form-urlencoded",
                  x->body, x->len);
  } else {
    x->req = hook(&x->h, "POST", path, "application/json", x->body, x->len);
  }
  x->req.params = x->form.p;
  x->req.n_params = x->form.n;
}

static void hook_fixture_release(struct hook_fixture *x)
{
  form_release(&x->form);
  free(x->body);
}

static int group_setup(void **state)
{
  if (config_init(&cfg) ||
      config_set(&cfg, "smsbroadcast", "username", USERNAME) ||
      config_set(&cfg, "smsbroadcast", "password", PASSWORD) ||
      config_set(&cfg, "smsbroadcast", "base_url", BASE_URL) ||
      config_set(&cfg, "smsbroadcast", "webhook_secret", SECRET) ||
      config_set(&cfg, "media", "max_bytes", "1024") ||
      config_set(&cfg, "clinic", "number", CLINIC))
    return -1;
  return provider_init(&sb, "smsbroadcast", &cfg) == LB_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
  provider_release(&sb);
  config_release(&cfg);
  return 0;
}

/* ---- registry and capabilities ----------------------------------------- */

static void test_registry_and_caps(void **state)
{
  const struct provider_ops *ops = provider_find("smsbroadcast");
  assert_non_null(ops);
  assert_string_equal(ops->name, "smsbroadcast");
  assert_string_equal(ops->title, "SMS Broadcast");
  assert_non_null(strstr(provider_names(), "smsbroadcast"));
  assert_non_null(strstr(provider_names(), "sim"));
  assert_ptr_equal(sb.ops, ops);

  assert_int_equal(sb.caps.sms_out, 1);
  assert_int_equal(sb.caps.sms_in, 1);
  /* No MMS API: the routing policy sends images as secure links. */
  assert_int_equal(sb.caps.mms_out, 0);
  assert_int_equal(sb.caps.mms_in, 1);
  /* No idempotency key: a send that timed out is never resent blindly. */
  assert_int_equal(sb.caps.dedupes_by_ref, 0);
  assert_true(sb.caps.rate_per_s > 0 && sb.caps.rate_per_s <= 10);
  /* Media arrive inline: an empty allow-list, so every URL is refused. A
   * NULL list would allow any host. */
  assert_non_null(sb.caps.media_hosts);
  assert_null(sb.caps.media_hosts[0]);
  assert_null(sb.caps.media_userpwd);

  /* Optional operations. */
  assert_null(ops->hook_reply_type);
  assert_null(ops->hook_reply_body);
  assert_non_null(ops->build_check);
  assert_non_null(ops->parse_check);
  assert_null(ops->build_media_delete);
}

/* ---- build_send -------------------------------------------------------- */

/* Compares a built request with a fixture: method, URL, headers, and the
 * body field by field, both as sent and decoded. */
static void check_request(const char *file, const struct wire_request *req)
{
  json_t *want = fixture_json(file), *headers, *form, *v;
  const char *name, *wbody;
  char *got_body, *gsave = NULL, *wsave = NULL, *g, *w, *wcopy;
  struct form decoded;
  size_t i;

  CHECK_STR(file, req->method,
            json_string_value(json_object_get(want, "method")));
  CHECK_STR(file, req->url, json_string_value(json_object_get(want, "url")));
  CHECK_STR(file, req->userpwd, "");
  headers = json_object_get(want, "headers");
  CHECK_INT(file, req->n_headers, json_object_size(headers));
  json_object_foreach(headers, name, v)
  {
    char line[LB_WIRE_HEADER_MAX];
    snprintf(line, sizeof line, "%s: %s", name, json_string_value(v));
    for (i = 0; i < req->n_headers; i++)
      if (strcmp(req->headers[i], line) == 0)
        break;
    if (i == req->n_headers)
      fail_msg("%s: header '%s' was not sent", file, line);
  }

  /* The body as sent, one field at a time, then whole. */
  wbody = json_string_value(json_object_get(want, "body"));
  assert_non_null(req->body.data);
  got_body = strdup(req->body.data);
  wcopy = strdup(wbody);
  assert_non_null(got_body);
  assert_non_null(wcopy);
  g = strtok_r(got_body, "&", &gsave);
  w = strtok_r(wcopy, "&", &wsave);
  for (i = 0; g || w; i++) {
    if (!g || !w || strcmp(g, w) != 0)
      fail_msg("%s: body field %zu is '%s', want '%s'", file, i,
               g ? g : "(none)", w ? w : "(none)");
    g = strtok_r(NULL, "&", &gsave);
    w = strtok_r(NULL, "&", &wsave);
  }
  free(got_body);
  free(wcopy);
  CHECK_STR(file, req->body.data, wbody);

  /* Decoded, in order. */
  form_parse(&decoded, req->body.data);
  form = json_object_get(want, "form");
  CHECK_INT(file, decoded.n, json_array_size(form));
  json_array_foreach(form, i, v)
  {
    CHECK_STR(file, decoded.p[i].name, json_string_value(json_array_get(v, 0)));
    CHECK_STR(file, decoded.p[i].value,
              json_string_value(json_array_get(v, 1)));
  }
  form_release(&decoded);
  json_decref(want);
}

static void test_build_send(void **state)
{
  json_t *want = fixture_json("send_request.json");
  const char *text = NULL;
  struct message m;
  struct send_input in = {.msg = &m, .status_url = "ignored"};
  struct wire_request req;
  struct form f;
  size_t i;
  json_t *v;

  json_array_foreach(json_object_get(want, "form"), i, v)
  {
    if (strcmp(json_string_value(json_array_get(v, 0)), "message") == 0)
      text = json_string_value(json_array_get(v, 1));
  }
  assert_non_null(text);
  message_init(&m);
  snprintf(m.id, sizeof m.id, "%s", REF);
  snprintf(m.from, sizeof m.from, CLINIC);
  snprintf(m.to, sizeof m.to, PATIENT);
  m.text = strdup(text);
  wire_request_init(&req);

  assert_int_equal(sb.ops->build_send(&sb, &in, &req), LB_OK);
  check_request("send_request.json", &req);

  /* Independently of the fixture. */
  form_parse(&f, req.body.data);
  assert_string_equal(form_get(&f, "to"), PATIENT + 1);
  assert_string_equal(form_get(&f, "from"), CLINIC + 1);
  assert_string_equal(form_get(&f, "message"), m.text);
  assert_int_equal(strlen(form_get(&f, "ref")), 20);
  assert_string_equal(form_get(&f, "ref"), m.id + strlen(m.id) - 20);
  assert_string_equal(form_get(&f, "password"), PASSWORD);
  form_release(&f);

  json_decref(want);
  wire_request_release(&req);
  message_release(&m);
}

static int build_text(const char *text, struct form *f)
{
  struct message m;
  struct send_input in = {.msg = &m};
  struct wire_request req;
  int rc;
  message_init(&m);
  snprintf(m.id, sizeof m.id, "%s", REF);
  snprintf(m.from, sizeof m.from, CLINIC);
  snprintf(m.to, sizeof m.to, PATIENT);
  m.text = strdup(text);
  wire_request_init(&req);
  rc = sb.ops->build_send(&sb, &in, &req);
  if (rc == LB_OK)
    form_parse(f, req.body.data);
  wire_request_release(&req);
  message_release(&m);
  return rc;
}

/* n copies of 'unit' after 'prefix'; the caller frees. */
static char *repeat(const char *prefix, const char *unit, int n)
{
  size_t pl = strlen(prefix), ul = strlen(unit);
  char *s = malloc(pl + ul * (size_t)n + 1), *p;
  assert_non_null(s);
  memcpy(s, prefix, pl);
  p = s + pl;
  for (int i = 0; i < n; i++, p += ul)
    memcpy(p, unit, ul);
  *p = '\0';
  return s;
}

/* maxsplit: the parts the text needs, so SMS Broadcast neither cuts it
 * short nor refuses it. */
static void test_segments(void **state)
{
  static const struct {
    const char *name;
    const char *prefix;
    const char *unit;
    int n;
    int want; /* maxsplit, or -1 for LB_ETOOBIG */
  } rows[] = {
      {"1 char", "", "a", 1, 1},
      {"160 GSM-7", "", "a", 160, 1},
      {"161 GSM-7", "", "a", 161, 2},
      {"306 GSM-7: two parts of 153", "", "a", 306, 2},
      {"307 GSM-7", "", "a", 307, 3},
      {"765 GSM-7: five parts", "", "a", 765, 5},
      {"766 GSM-7: over the cap", "", "a", 766, -1},
      {"80 euro signs: 160 septets", "", "\xe2\x82\xac", 80, 1},
      {"81 euro signs: 162 septets", "", "\xe2\x82\xac", 81, 2},
      {"basic Greek is GSM-7", "", "\xce\xa8", 160, 1},
      {"70 c-cedilla: UCS-2", "", "\xc3\xa7", 70, 1},
      {"71 c-cedilla", "", "\xc3\xa7", 71, 2},
      {"134 UCS-2: two parts of 67", "", "\xc3\xa7", 134, 2},
      {"135 UCS-2", "", "\xc3\xa7", 135, 3},
      {"335 UCS-2: five parts", "", "\xc3\xa7", 335, 5},
      {"336 UCS-2: over the cap", "", "\xc3\xa7", 336, -1},
      {"35 emoji: 70 UTF-16 units", "", "\xf0\x9f\x91\x8d", 35, 1},
      {"36 emoji: 72 units", "", "\xf0\x9f\x91\x8d", 36, 2},
      {"one curly quote makes it UCS-2", "\xe2\x80\x99", "a", 159, 3},
      {"one backtick makes it UCS-2", "`", "a", 159, 3},
      {"CR and LF are GSM-7", "\r\n", "a", 158, 1},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char *text = repeat(rows[i].prefix, rows[i].unit, rows[i].n);
    struct form f;
    int rc = build_text(text, &f);
    if (rows[i].want < 0) {
      CHECK_RC(rows[i].name, rc, LB_ETOOBIG);
    } else {
      char want[16];
      CHECK_RC(rows[i].name, rc, LB_OK);
      snprintf(want, sizeof want, "%d", rows[i].want);
      CHECK_STR(rows[i].name, form_get(&f, "maxsplit"), want);
      form_release(&f);
    }
    free(text);
  }

  /* Every GSM-7 character: 159 'a' and it still fits one part; the
   * extension ones take two septets. */
  static const char *const basic[] = {
      "@", "$", "_", "!", "\"", "#", "%", "&", "'", "(", ")", "*", "+", ",",
      "-", ".", "/", ":", ";", "<", "=", ">", "?", "0", "9", "A", "Z", "a", "z",
      " ",
      /* £ ¥ è é ù ì ò Ç Ø ø Å å Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ Æ æ ß É ¤ ¡ Ä Ö Ñ Ü § ¿ ä
       * ö ñ ü à */
      "\xc2\xa3", "\xc2\xa5", "\xc3\xa8", "\xc3\xa9", "\xc3\xb9", "\xc3\xac",
      "\xc3\xb2", "\xc3\x87", "\xc3\x98", "\xc3\xb8", "\xc3\x85", "\xc3\xa5",
      "\xce\x94", "\xce\xa6", "\xce\x93", "\xce\x9b", "\xce\xa9", "\xce\xa0",
      "\xce\xa8", "\xce\xa3", "\xce\x98", "\xce\x9e", "\xc3\x86", "\xc3\xa6",
      "\xc3\x9f", "\xc3\x89", "\xc2\xa4", "\xc2\xa1", "\xc3\x84", "\xc3\x96",
      "\xc3\x91", "\xc3\x9c", "\xc2\xa7", "\xc2\xbf", "\xc3\xa4", "\xc3\xb6",
      "\xc3\xb1", "\xc3\xbc", "\xc3\xa0"};
  static const char *const ext[] = {"^", "{", "}", "\\", "[",
                                    "~", "]", "|", "\f", "\xe2\x82\xac"};
  static const char *const not_gsm[] = {"`",
                                        "\xc3\xa7" /* ç */,
                                        "\xc3\xa1" /* á */,
                                        "\xe2\x80\x9c" /* “ */,
                                        "\xe2\x80\x93" /* – */,
                                        "\xf0\x9f\x98\x80" /* 😀 */,
                                        "\t"};
  for (size_t i = 0; i < sizeof basic / sizeof basic[0]; i++) {
    char *text = repeat(basic[i], "a", 159);
    struct form f;
    CHECK_RC(basic[i], build_text(text, &f), LB_OK);
    CHECK_STR(basic[i], form_get(&f, "maxsplit"), "1");
    form_release(&f);
    free(text);
  }
  for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
    char *fits = repeat(ext[i], "a", 158), *over = repeat(ext[i], "a", 159);
    struct form f;
    CHECK_RC(ext[i], build_text(fits, &f), LB_OK);
    CHECK_STR(ext[i], form_get(&f, "maxsplit"), "1");
    form_release(&f);
    CHECK_RC(ext[i], build_text(over, &f), LB_OK);
    CHECK_STR(ext[i], form_get(&f, "maxsplit"), "2");
    form_release(&f);
    free(fits);
    free(over);
  }
  for (size_t i = 0; i < sizeof not_gsm / sizeof not_gsm[0]; i++) {
    /* 70 characters (71 UTF-16 units for the emoji) as UCS-2. */
    char *text = repeat(not_gsm[i], "a", 69);
    struct form f;
    CHECK_RC(not_gsm[i], build_text(text, &f), LB_OK);
    CHECK_STR(not_gsm[i], form_get(&f, "maxsplit"),
              strlen(not_gsm[i]) == 4 ? "2" : "1");
    form_release(&f);
    free(text);
  }

  /* An extension character never straddles two parts: 152 + 2 + 152
   * septets is 306, two parts by count, but the euro sign cannot start at
   * septet 153, so the second part ends one short and a third is needed. */
  {
    char *head = repeat("", "a", 152), *text;
    struct form f;
    text = repeat(head, "\xe2\x82\xac", 1);
    free(head);
    head = text;
    text = repeat(head, "a", 152);
    free(head);
    CHECK_RC("straddling euro", build_text(text, &f), LB_OK);
    CHECK_STR("straddling euro", form_get(&f, "maxsplit"), "3");
    form_release(&f);
    free(text);
  }
}

static void test_build_send_refused(void **state)
{
  struct message m;
  struct send_media sm = {.content_type = "image/jpeg",
                          .data = png,
                          .len = sizeof png,
                          .url = "https://sms.clinic.example/p/media/x"};
  struct send_input in = {.msg = &m};
  struct wire_request req;

  message_init(&m);
  snprintf(m.id, sizeof m.id, "%s", REF);
  snprintf(m.from, sizeof m.from, CLINIC);
  snprintf(m.to, sizeof m.to, PATIENT);
  m.text = strdup("See the attached");

  /* Media never reach this adapter (the route policy sends links); if
   * they do, the send fails rather than drop them. */
  in.media = &sm;
  in.n_media = 1;
  wire_request_init(&req);
  assert_int_equal(sb.ops->build_send(&sb, &in, &req), LB_EUNSUPPORTED);
  wire_request_release(&req);
  in.media = NULL;
  in.n_media = 0;
  m.n_media = 1;
  wire_request_init(&req);
  assert_int_equal(sb.ops->build_send(&sb, &in, &req), LB_EUNSUPPORTED);
  wire_request_release(&req);
  m.n_media = 0;

  /* Numbers must be E.164. */
  snprintf(m.to, sizeof m.to, "0491570156");
  wire_request_init(&req);
  assert_int_equal(sb.ops->build_send(&sb, &in, &req), LB_EINVAL);
  wire_request_release(&req);
  snprintf(m.to, sizeof m.to, PATIENT);
  m.from[0] = '\0';
  wire_request_init(&req);
  assert_int_equal(sb.ops->build_send(&sb, &in, &req), LB_EINVAL);
  wire_request_release(&req);
  snprintf(m.from, sizeof m.from, CLINIC);

  /* No text, and text that is not UTF-8. */
  free(m.text);
  m.text = strdup("");
  wire_request_init(&req);
  assert_int_equal(sb.ops->build_send(&sb, &in, &req), LB_EINVAL);
  wire_request_release(&req);
  free(m.text);
  m.text = strdup("caf\xe9");
  wire_request_init(&req);
  assert_int_equal(sb.ops->build_send(&sb, &in, &req), LB_EINVAL);
  wire_request_release(&req);
  message_release(&m);
}

/* A base URL with a trailing slash, and an id shorter than 20 (as ours
 * never are): sent whole. */
static void test_build_send_base_and_short_id(void **state)
{
  struct config c;
  struct provider p;
  struct message m;
  struct send_input in = {.msg = &m};
  struct wire_request req;
  struct form f;
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_set(&c, "smsbroadcast", "base_url",
                              "https://api.smsbroadcast.com.au/"),
                   LB_OK);
  assert_int_equal(provider_init(&p, "smsbroadcast", &c), LB_OK);
  message_init(&m);
  snprintf(m.id, sizeof m.id, "SHORT1");
  snprintf(m.from, sizeof m.from, CLINIC);
  snprintf(m.to, sizeof m.to, PATIENT);
  m.text = strdup("hi");
  wire_request_init(&req);
  assert_int_equal(p.ops->build_send(&p, &in, &req), LB_OK);
  assert_string_equal(req.url, "https://api.smsbroadcast.com.au/api-adv.php");
  form_parse(&f, req.body.data);
  assert_string_equal(form_get(&f, "ref"), "SHORT1");
  assert_string_equal(form_get(&f, "username"), "");
  form_release(&f);
  wire_request_release(&req);
  message_release(&m);
  provider_release(&p);
  assert_null(p.priv);
  config_release(&c);
}

/* ---- parse_send -------------------------------------------------------- */

/* What each answer means for the outbox. */
static const struct send_row {
  const char *name;
  long status;      /* HTTP status; 0 for no answer */
  int error;        /* transport error */
  int maybe_sent;   /* the request may have reached the provider */
  long retry_after; /* Retry-After in seconds, -1 for none */
  const char *body; /* fixture file, or NULL for no body */
  enum send_outcome outcome;
  const char *id;   /* provider_msg_id, for SEND_ACCEPTED */
  const char *code; /* error_code, or NULL for "" */
  const char *text; /* error_text contains this, or NULL */
  long retry_ms;    /* retry_after_ms */
} send_rows[] = {
    {"OK", 200, LB_OK, 0, -1, "send_ok.txt", SEND_ACCEPTED, "2942790", NULL,
     NULL, -1},
    {"OK without a newline", 200, LB_OK, 0, -1, "send_ok_no_newline.txt",
     SEND_ACCEPTED, "2942790", NULL, NULL, -1},
    {"OK CRLF", 200, LB_OK, 0, -1, "send_ok_crlf.txt", SEND_ACCEPTED, "2942790",
     NULL, NULL, -1},
    {"ok, spaced", 200, LB_OK, 0, -1, "send_ok_spaced.txt", SEND_ACCEPTED,
     "2942790", NULL, NULL, -1},
    {"OK between blank lines", 200, LB_OK, 0, -1, "send_ok_blank_lines.txt",
     SEND_ACCEPTED, "2942790", NULL, NULL, -1},
    {"partial success: the OK wins", 200, LB_OK, 0, -1, "send_partial.txt",
     SEND_ACCEPTED, "2942790", NULL, NULL, -1},
    {"OK on a 502: it went", 502, LB_OK, 0, -1, "send_ok.txt", SEND_ACCEPTED,
     "2942790", NULL, NULL, -1},
    {"OK without a reference", 200, LB_OK, 0, -1, "send_ok_no_ref.txt",
     SEND_UNKNOWN, "", "bad_response", "no usable reference", -1},
    {"OK with two fields", 200, LB_OK, 0, -1, "send_ok_two_fields.txt",
     SEND_UNKNOWN, "", "bad_response", NULL, -1},
    {"OK without a reference on a 503", 503, LB_OK, 0, -1, "send_ok_no_ref.txt",
     SEND_UNKNOWN, "", "bad_response", NULL, -1},
    {"BAD invalid number", 200, LB_OK, 0, -1, "send_bad_invalid_number.txt",
     SEND_FINAL, "", "invalid_number", "0400000000: Invalid Number", -1},
    {"BAD, spaced CRLF", 200, LB_OK, 0, -1, "send_bad_invalid_number_crlf.txt",
     SEND_FINAL, "", "invalid_number", "0400000000: Invalid Number", -1},
    {"BAD other", 200, LB_OK, 0, -1, "send_bad_other.txt", SEND_FINAL, "",
     "rejected", "Message content blocked", -1},
    {"bad, reason with a colon", 200, LB_OK, 0, -1, "send_bad_reason_colon.txt",
     SEND_FINAL, "", "rejected", "Rejected: recipient opted out", -1},
    {"ERROR credentials", 200, LB_OK, 0, -1, "send_error_auth.txt", SEND_FINAL,
     "", "auth_failed", "Username or password is incorrect", -1},
    {"ERROR credentials, 'try again'", 200, LB_OK, 0, -1,
     "send_error_auth_try_again.txt", SEND_FINAL, "", "auth_failed",
     "Invalid password", -1},
    {"ERROR credentials on a 401", 401, LB_OK, 0, -1, "send_error_auth.txt",
     SEND_FINAL, "", "auth_failed", NULL, -1},
    {"ERROR credit", 200, LB_OK, 0, -1, "send_error_credit.txt", SEND_FINAL, "",
     "no_credit", "Not enough credits", -1},
    {"ERROR temporary", 200, LB_OK, 0, -1, "send_error_temporary.txt",
     SEND_RETRY, "", "provider_busy", "temporarily unavailable", -1},
    {"error, lower case", 200, LB_OK, 0, -1, "send_error_other.txt", SEND_FINAL,
     "", "provider_error", "Message is empty", -1},
    {"ERROR without a reason", 200, LB_OK, 0, -1, "send_error_no_reason.txt",
     SEND_FINAL, "", "provider_error", "without a reason", -1},
    {"unknown status word", 200, LB_OK, 0, -1, "send_unknown_word.txt",
     SEND_UNKNOWN, "", "bad_response", "QUEUED", -1},
    {"200 HTML", 200, LB_OK, 0, -1, "send_html.html", SEND_UNKNOWN, "",
     "bad_response", "HTTP 200", -1},
    {"200 no body", 200, LB_OK, 0, -1, NULL, SEND_UNKNOWN, "", "bad_response",
     NULL, -1},
    {"503 HTML", 503, LB_OK, 0, -1, "send_html.html", SEND_RETRY, "",
     "http_error", "HTTP 503", -1},
    {"500 no body", 500, LB_OK, 0, -1, NULL, SEND_RETRY, "", "http_error",
     "HTTP 500", -1},
    {"503 with Retry-After", 503, LB_OK, 0, 30, NULL, SEND_RETRY, "",
     "http_error", NULL, 30000},
    {"429", 429, LB_OK, 0, 5, NULL, SEND_RETRY, "", "http_error", "HTTP 429",
     5000},
    {"403 HTML", 403, LB_OK, 0, -1, "send_html.html", SEND_FINAL, "",
     "http_error", "HTTP 403", -1},
    {"timeout after sending", 0, LB_ETIMEOUT, 1, -1, NULL, SEND_UNKNOWN, "",
     "timeout", "timeout after sending", -1},
    {"reset after sending", 0, LB_EIO, 1, -1, NULL, SEND_UNKNOWN, "", "network",
     NULL, -1},
    {"connection refused", 0, LB_EIO, 0, -1, NULL, SEND_RETRY, "", "network",
     NULL, -1},
    {"connect timeout", 0, LB_ETIMEOUT, 0, -1, NULL, SEND_RETRY, "", "timeout",
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
    CHECK_RC(r->name, sb.ops->parse_send(&sb, &res, &out), LB_OK);
    CHECK_INT(r->name, out.outcome, r->outcome);
    CHECK_STR(r->name, out.provider_msg_id, r->id ? r->id : "");
    CHECK_STR(r->name, out.error_code, r->code ? r->code : "");
    if (r->text)
      CHECK_HAS(r->name, out.error_text, r->text);
    if (r->outcome != SEND_ACCEPTED && !out.error_text[0])
      fail_msg("%s: no error_text for staff to read", r->name);
    if (strchr(out.error_text, '\n') || strchr(out.error_text, '\r'))
      fail_msg("%s: error_text has a line break", r->name);
    CHECK_INT(r->name, out.retry_after_ms, r->retry_ms);
    wire_response_release(&res);
  }
}

/* ---- provider check: the balance --------------------------------------- */

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
      {"OK", 200, LB_OK, "balance_ok.txt", LB_OK, "balance: 1234 credits"},
      {"ok, spaced CRLF", 200, LB_OK, "balance_ok_spaced_crlf.txt", LB_OK,
       "balance: 1234.50 credits"},
      {"ERROR credentials", 200, LB_OK, "balance_error_auth.txt", LB_EAUTH,
       "Invalid username or password"},
      {"ERROR other", 200, LB_OK, "balance_error_other.txt", LB_EPROVIDER,
       "Account suspended"},
      {"HTML", 200, LB_OK, "send_html.html", LB_EPROVIDER, "could not be read"},
      {"503", 503, LB_OK, NULL, LB_EPROVIDER, "HTTP 503"},
      {"timeout", 0, LB_ETIMEOUT, NULL, LB_ETIMEOUT, "could not be reached"},
  };
  struct wire_request req;

  wire_request_init(&req);
  assert_int_equal(sb.ops->build_check(&sb, &req), LB_OK);
  check_request("check_request.json", &req);
  wire_request_release(&req);

  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct wire_response res;
    char out[300];
    wire_response_init(&res);
    res.status = rows[i].status;
    res.error = rows[i].error;
    if (rows[i].body) {
      size_t len;
      char *body = fixture(rows[i].body, &len);
      assert_int_equal(buf_append(&res.body, body, len), LB_OK);
      free(body);
    }
    memset(out, 'x', sizeof out);
    out[sizeof out - 1] = '\0';
    CHECK_RC(rows[i].name, sb.ops->parse_check(&sb, &res, out, sizeof out),
             rows[i].want);
    if (rows[i].want == LB_OK)
      CHECK_STR(rows[i].name, out, rows[i].text);
    else
      CHECK_HAS(rows[i].name, out, rows[i].text);
    wire_response_release(&res);
  }
}

/* ---- verify_hook ------------------------------------------------------- */

static void test_verify_hook(void **state)
{
  static const struct {
    const char *name;
    const char *header; /* X-Lyrebird-Secret, NULL for none */
    const char *path;
    int want;
  } rows[] = {
      {"good header", SECRET, "/hooks/smsbroadcast/inbound", LB_OK},
      {"good header, status", SECRET, "/hooks/smsbroadcast/status", LB_OK},
      {"good path secret", NULL, "/hooks/smsbroadcast/inbound/" SECRET, LB_OK},
      {"good path secret, status", NULL, "/hooks/smsbroadcast/status/" SECRET,
       LB_OK},
      {"wrong header, good path", "nope", "/hooks/smsbroadcast/inbound/" SECRET,
       LB_OK},
      {"good header, wrong path", SECRET, "/hooks/smsbroadcast/inbound/nope",
       LB_OK},
      {"wrong header", "0f3c9a7e5b2d4c6e8a1b3d5f7e9c2a4c",
       "/hooks/smsbroadcast/inbound", LB_ESIGNATURE},
      {"header in other case", "0F3C9A7E5B2D4C6E8A1B3D5F7E9C2A4B",
       "/hooks/smsbroadcast/inbound", LB_ESIGNATURE},
      {"header a prefix", "0f3c9a7e5b2d4c6e", "/hooks/smsbroadcast/inbound",
       LB_ESIGNATURE},
      {"header longer", SECRET "0", "/hooks/smsbroadcast/inbound",
       LB_ESIGNATURE},
      {"wrong path secret", NULL, "/hooks/smsbroadcast/inbound/nope",
       LB_ESIGNATURE},
      {"both wrong", "nope", "/hooks/smsbroadcast/inbound/nope2",
       LB_ESIGNATURE},
      {"missing", NULL, "/hooks/smsbroadcast/inbound", LB_EAUTH},
      {"empty header", "", "/hooks/smsbroadcast/status", LB_EAUTH},
      {"trailing slash", NULL, "/hooks/smsbroadcast/inbound/", LB_EAUTH},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct fake_hook h = {.n = 0};
    struct hook_request req;
    if (rows[i].header) {
      h.names[0] = "x-lyrebird-secret";
      h.values[0] = rows[i].header;
      h.n = 1;
    }
    req = hook(&h, "GET", rows[i].path, NULL, "", 0);
    CHECK_RC(rows[i].name, sb.ops->verify_hook(&sb, &req), rows[i].want);
  }

  /* No secret configured: nothing is trusted, not even an empty one. */
  {
    struct config c;
    struct provider p;
    struct fake_hook h = {
        .names = {"X-Lyrebird-Secret"}, .values = {SECRET}, .n = 1};
    struct fake_hook none = {.n = 0};
    struct hook_request req;
    assert_int_equal(config_init(&c), LB_OK);
    assert_int_equal(provider_init(&p, "smsbroadcast", &c), LB_OK);
    req = hook(&h, "GET", "/hooks/smsbroadcast/inbound/" SECRET, NULL, "", 0);
    assert_int_equal(p.ops->verify_hook(&p, &req), LB_EAUTH);
    req = hook(&none, "GET", "/hooks/smsbroadcast/inbound/", NULL, "", 0);
    assert_int_equal(p.ops->verify_hook(&p, &req), LB_EAUTH);
    h.values[0] = "";
    req = hook(&h, "GET", "/hooks/smsbroadcast/inbound", NULL, "", 0);
    assert_int_equal(p.ops->verify_hook(&p, &req), LB_EAUTH);
    provider_release(&p);
    config_release(&c);
  }
}

/* ---- parse_inbound ----------------------------------------------------- */

static int parse_inbound_file(const char *name, struct inbound_msg *out,
                              char *why, size_t whylen)
{
  struct hook_fixture x;
  int rc;
  hook_fixture(&x, name, "/hooks/smsbroadcast/inbound");
  inbound_msg_init(out);
  why[0] = '\0';
  rc = sb.ops->parse_inbound(&sb, &x.req, out, why, whylen);
  hook_fixture_release(&x);
  return rc;
}

static void check_digest_id(const char *row, const char *id)
{
  if (strncmp(id, "sha256:", 7) != 0 || strlen(id) != 7 + 64 ||
      strspn(id + 7, "0123456789abcdef") != 64)
    fail_msg("%s: provider_msg_id '%s' is not sha256:<64 hex>", row, id);
}

/* The article's own populated example (providers.md §1.6). */
static void test_parse_inbound_documented_get(void **state)
{
  struct inbound_msg m, again, other;
  char why[256];
  assert_int_equal(
      parse_inbound_file("inbound_get_documented.query", &m, why, sizeof why),
      LB_OK);
  assert_string_equal(m.from, "+61400000000");
  assert_string_equal(m.to, CLINIC); /* blank: no dedicated number */
  assert_string_equal(m.text, "Reply 5");
  assert_int_equal(m.n_media, 0);
  /* msgref names the message replied to, shared by every reply to it (and
   * the outbound message's own id): never the reply's id. */
  check_digest_id("documented", m.provider_msg_id);
  assert_null(strstr(m.provider_msg_id, "971221653"));

  /* The portal retrying the same webhook: the same id, so it is stored
   * once. */
  assert_int_equal(parse_inbound_file("inbound_get_documented_reordered.query",
                                      &again, why, sizeof why),
                   LB_OK);
  assert_string_equal(again.provider_msg_id, m.provider_msg_id);
  /* Another reply to the same message: another id. */
  assert_int_equal(parse_inbound_file("inbound_get_documented_other_text.query",
                                      &other, why, sizeof why),
                   LB_OK);
  check_digest_id("other text", other.provider_msg_id);
  assert_string_not_equal(other.provider_msg_id, m.provider_msg_id);
  inbound_msg_release(&m);
  inbound_msg_release(&again);
  inbound_msg_release(&other);
  assert_null(m.text);
}

static void test_parse_inbound_forms(void **state)
{
  struct inbound_msg m;
  char why[256];

  /* A local sender, and 'to' as international digits. */
  assert_int_equal(
      parse_inbound_file("inbound_get_local_from.query", &m, why, sizeof why),
      LB_OK);
  assert_string_equal(m.from, "+61412345678");
  assert_string_equal(m.to, CLINIC);
  assert_string_equal(m.text, "Running late, sorry!");
  check_digest_id("local from", m.provider_msg_id);
  inbound_msg_release(&m);

  /* lyrebird's URL-encoded template, POSTed: the reply's own id. */
  assert_int_equal(
      parse_inbound_file("inbound_post_form.txt", &m, why, sizeof why), LB_OK);
  assert_string_equal(m.from, "+61412345678");
  assert_string_equal(m.to, CLINIC);
  assert_string_equal(m.text, "Yes, see you Tuesday \xf0\x9f\x91\x8d");
  assert_string_equal(m.provider_msg_id,
                      "mo:a175e797-2b54-468b-9850-41a3eab32f74");
  inbound_msg_release(&m);
}

static void test_parse_inbound_json(void **state)
{
  struct inbound_msg m;
  char why[256];

  assert_int_equal(parse_inbound_file("inbound_sms.json", &m, why, sizeof why),
                   LB_OK);
  assert_string_equal(m.provider_msg_id,
                      "mo:a175e797-2b54-468b-9850-41a3eab32f74");
  assert_string_equal(m.from, "+61412345678");
  assert_string_equal(m.to, CLINIC);
  assert_string_equal(m.text,
                      "Yes, see you Tuesday \xf0\x9f\x91\x8d \"quoted\"");
  assert_int_equal(m.n_media, 0);
  inbound_msg_release(&m);

  /* Unfilled template variables are absent values; the text is the
   * patient's, taken as it is. */
  assert_int_equal(
      parse_inbound_file("inbound_unrendered.json", &m, why, sizeof why),
      LB_OK);
  check_digest_id("unrendered", m.provider_msg_id);
  assert_string_equal(m.to, CLINIC);
  assert_string_equal(m.text, "$20 is fine, thanks");
  inbound_msg_release(&m);
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
  assert_string_equal(m.provider_msg_id,
                      "mo:b286f8a8-3c65-479c-a961-52b4fbc43085");
  assert_string_equal(m.text, "Photo of the rash");
  assert_int_equal(m.n_media, 1);
  assert_string_equal(m.media[0].content_type, "image/png");
  assert_null(m.media[0].url);
  assert_int_equal(m.media[0].len, sizeof png);
  assert_memory_equal(m.media[0].data, png, sizeof png);
  inbound_msg_release(&m);
  assert_int_equal(m.n_media, 0);

  /* An MMS in parts: the layout (SMIL) is dropped, the text part becomes
   * the text, base64 wrapped at 76 columns decodes, types are lower-cased
   * and the numbers are international digits. */
  assert_int_equal(
      parse_inbound_file("inbound_mms_parts.json", &m, why, sizeof why), LB_OK);
  assert_string_equal(m.from, "+61412345678");
  assert_string_equal(m.to, CLINIC);
  assert_string_equal(m.text, "Two photos \xe2\x80\x94 left arm");
  assert_int_equal(m.n_media, 2);
  assert_string_equal(m.media[0].content_type, "image/jpeg");
  assert_int_equal(m.media[0].len, sizeof all);
  assert_memory_equal(m.media[0].data, all, sizeof all);
  assert_string_equal(m.media[1].content_type, "image/png");
  assert_memory_equal(m.media[1].data, png, sizeof png);
  inbound_msg_release(&m);

  /* Other plausible field names (unconfirmed for SMS Broadcast). */
  assert_int_equal(
      parse_inbound_file("inbound_mms_alt_names.json", &m, why, sizeof why),
      LB_OK);
  assert_string_equal(m.provider_msg_id,
                      "mo:d4a8bac0-5e87-49be-8b83-74d61de65207");
  assert_string_equal(m.from, "+61412345678");
  assert_string_equal(m.to, CLINIC);
  assert_string_equal(m.text, "See attached");
  assert_int_equal(m.n_media, 1);
  assert_string_equal(m.media[0].content_type, "image/png");
  assert_memory_equal(m.media[0].data, png, sizeof png);
  inbound_msg_release(&m);

  /* A link, not expected: kept as a URL, which the fetcher refuses (no
   * host is allowed), so the message records why it is missing. */
  assert_int_equal(
      parse_inbound_file("inbound_mms_link.json", &m, why, sizeof why), LB_OK);
  assert_int_equal(m.n_media, 1);
  assert_null(m.media[0].data);
  assert_string_equal(m.media[0].url, "https://media.example.net/m/1.jpg");
  inbound_msg_release(&m);

  /* Exactly [media] max_bytes is accepted whole. */
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
  assert_string_equal(m.text, "");
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
      {"inbound_bad_from_type.json", LB_EINVAL, "'from'"},
      {"inbound_bad_no_message.json", LB_EINVAL, "'message'"},
      {"inbound_bad_attachments_not_array.json", LB_EINVAL, "array"},
      {"inbound_bad_attachment_no_content.json", LB_EINVAL, "content"},
      {"inbound_bad_base64.json", LB_EINVAL, "base64"},
      {"inbound_bad_one_over.json", LB_ETOOBIG, "1024"},
      {"inbound_bad_too_big.json", LB_ETOOBIG, "1024"},
      {"inbound_bad_too_many.json", LB_ETOOBIG, "10"},
      {"inbound_bad_not_json.json", LB_EPARSE, "JSON"},
      {"inbound_bad_not_object.json", LB_EPARSE, "object"},
      {"inbound_bad_duplicate_key.json", LB_EPARSE, "JSON"},
      {"inbound_bad_utf8.query", LB_EINVAL, "UTF-8"},
      {"inbound_bad_from.query", LB_EINVAL, "'from'"},
      {"inbound_bad_no_from.query", LB_EINVAL, "'from'"},
      {"inbound_bad_empty.query", LB_EPARSE, "no fields"},
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

/* ---- parse_status ------------------------------------------------------ */

static void test_parse_status(void **state)
{
  static const struct {
    const char *file;
    int want;
    const char *id, *ref;
    enum msg_status status;
    const char *code, *text; /* for LB_OK; 'why' contains text otherwise */
  } rows[] = {
      {"status_delivered.json", LB_OK, "2942790", REF20, ST_DELIVERED, "", ""},
      {"status_enroute.json", LB_OK, "2942790", REF20, ST_SENT, "", ""},
      {"status_expired.json", LB_OK, "2942791", "7X8Y9Z0ABCDEFGHJKMNQ",
       ST_UNDELIVERED, "401",
       "SMS Broadcast reported the message expired (code 401)"},
      {"status_rejected.json", LB_OK, "2942792", "", ST_FAILED, "302",
       "SMS Broadcast reported the message rejected (code 302)"},
      {"status_failed_reason.json", LB_OK, "2942793", "", ST_FAILED, "failed",
       "Handset not reachable"},
      {"status_code_only.json", LB_OK, "877c19ef-fa2e-4cec-827a-e1df9b5509f7",
       "", ST_DELIVERED, "", ""},
      {"status_unrendered_smsref.json", LB_OK,
       "877c19ef-fa2e-4cec-827a-e1df9b5509f7", REF20, ST_SENT, "", ""},
      {"status_get.query", LB_OK, "2942790", REF20, ST_DELIVERED, "", ""},
      {"status_get_undelivered.query", LB_OK, "2942791", "", ST_UNDELIVERED,
       "undelivered", "Absent subscriber"},
      {"status_bad_unknown.json", LB_EINVAL, NULL, NULL, 0, NULL, "'status'"},
      {"status_bad_missing_status.json", LB_EINVAL, NULL, NULL, 0, NULL,
       "'status'"},
      {"status_bad_status_type.json", LB_EINVAL, NULL, NULL, 0, NULL,
       "'status'"},
      {"status_bad_no_reference.json", LB_EINVAL, NULL, NULL, 0, NULL,
       "reference"},
      {"status_bad_ref_too_long.json", LB_EINVAL, NULL, NULL, 0, NULL, "'ref'"},
      {"inbound_bad_not_json.json", LB_EPARSE, NULL, NULL, 0, NULL, "JSON"},
      {"inbound_bad_empty.query", LB_EPARSE, NULL, NULL, 0, NULL, "no fields"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct hook_fixture x;
    struct status_update u;
    char why[256] = "";
    int rc;
    hook_fixture(&x, rows[i].file, "/hooks/smsbroadcast/status");
    memset(&u, 0x5a, sizeof u);
    u.status = ST__COUNT;
    rc = sb.ops->parse_status(&sb, &x.req, &u, why, sizeof why);
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
    hook_fixture_release(&x);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_and_caps),
      cmocka_unit_test(test_build_send),
      cmocka_unit_test(test_segments),
      cmocka_unit_test(test_build_send_refused),
      cmocka_unit_test(test_build_send_base_and_short_id),
      cmocka_unit_test(test_parse_send_table),
      cmocka_unit_test(test_check),
      cmocka_unit_test(test_verify_hook),
      cmocka_unit_test(test_parse_inbound_documented_get),
      cmocka_unit_test(test_parse_inbound_forms),
      cmocka_unit_test(test_parse_inbound_json),
      cmocka_unit_test(test_parse_inbound_mms),
      cmocka_unit_test(test_parse_inbound_bad),
      cmocka_unit_test(test_parse_status),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
