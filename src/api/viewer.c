/* The patient's side of a secure link: /v/{token}.
 *
 * GET shows a neutral page (the clinic's name and a "View image" button),
 * never the image or any detail, so link-preview bots that fetch it see
 * nothing and use up nothing. Only the POST from that button counts as a
 * view; it answers with the image page, whose images are fetched with a
 * short grant (LINK_GRANT_MINUTES). Both pages end with until when the
 * link works and the clinic's phone (put_details). Every answer is
 * no-store, no-referrer, noindex, under a strict CSP with no third-party
 * asset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <sodium.h>

#include "api/handlers.h"
#include "core/patient.h"
#include "links/links.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"

#define PAGE_MAX (16 * 1024)

static const char csp[] =
    "default-src 'none'; img-src 'self'; style-src 'self'; form-action "
    "'self'; base-uri 'none'; frame-ancestors 'none'";

static void link_headers(struct http_req *r)
{
  http_reply_header(r, "Cache-Control", "no-store");
  http_reply_header(r, "Referrer-Policy", "no-referrer");
  http_reply_header(r, "X-Robots-Tag", "noindex, nofollow");
  http_reply_header(r, "Content-Security-Policy", csp);
  http_reply_header(r, "X-Frame-Options", "DENY");
}

/* Appends s with & < > " ' escaped. */
static void esc(struct buf *b, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '&':
      buf_puts(b, "&amp;");
      break;
    case '<':
      buf_puts(b, "&lt;");
      break;
    case '>':
      buf_puts(b, "&gt;");
      break;
    case '"':
      buf_puts(b, "&quot;");
      break;
    case '\'':
      buf_puts(b, "&#39;");
      break;
    default:
      buf_append(b, s, 1);
    }
  }
}

static void page_start(struct buf *b, const struct config *c, const char *title)
{
  buf_puts(b,
           "<!doctype html><html lang=\"en-AU\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, "
           "initial-scale=1\"><meta name=\"robots\" content=\"noindex\">"
           "<title>");
  esc(b, title);
  buf_puts(b, " · ");
  esc(b, c->clinic_name);
  buf_puts(b, "</title><link rel=\"stylesheet\" href=\"/static/link.css\">"
              "<link rel=\"icon\" href=\"/static/favicon.svg\">"
              "</head><body><main><header><p class=\"clinic\">");
  esc(b, c->clinic_name);
  buf_puts(b, "</p></header>");
}

static void page_end(struct http_req *r, struct buf *b, int status)
{
  size_t len;
  char *data;
  buf_puts(b, "</main></body></html>");
  data = buf_steal(b, &len);
  http_reply_bytes(r, status, "text/html; charset=utf-8",
                   data ? data : calloc(1, 1), data ? len : 0);
  link_headers(r);
}

/* The clinic's phone number as a tel: link. */
static void put_phone(struct buf *b, const struct config *c)
{
  buf_puts(b, "<a href=\"tel:");
  for (const char *p = c->clinic_phone; *p; p++)
    if ((*p >= '0' && *p <= '9') || *p == '+')
      buf_append(b, p, 1);
  buf_puts(b, "\">");
  esc(b, c->clinic_phone);
  buf_puts(b, "</a>");
}

/* A page that says the link cannot be used, and whom to call. */
static void reply_gone(struct http_req *r, const struct config *c, int status,
                       const char *title, const char *why)
{
  struct buf b;
  buf_init(&b, PAGE_MAX);
  page_start(&b, c, title);
  buf_puts(&b, "<h1>");
  esc(&b, title);
  buf_puts(&b, "</h1><p>");
  esc(&b, why);
  buf_puts(&b, "</p>");
  if (c->clinic_phone[0]) {
    buf_puts(&b, "<p>Please call ");
    esc(&b, c->clinic_name);
    buf_puts(&b, " on ");
    put_phone(&b, c);
    buf_puts(&b, ".</p>");
  } else {
    buf_puts(&b, "<p>Please contact the clinic.</p>");
  }
  page_end(r, &b, status);
}

/* What a patient may want on every page of a working link: until when it
 * works (in the clinic's time zone: gw_open sets TZ), and the clinic's
 * number when [clinic] phone is set. */
static void put_details(struct buf *b, const struct config *c,
                        const struct link *l)
{
  char when[96], iso[LB_ISO8601_LEN];
  time_t t = (time_t)(l->expires_at / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  if (!strftime(when, sizeof when, "%A %-d %B %Y at %-I:%M %P", &tm))
    snprintf(when, sizeof when, "%s", "(unknown)");
  clock_iso8601(l->expires_at, iso, sizeof iso);
  buf_puts(b, "<p class=\"details expires\">This link works until <time "
              "datetime=\"");
  esc(b, iso);
  buf_puts(b, "\">");
  esc(b, when);
  buf_puts(b, "</time>");
  if (l->max_views > 0)
    buf_printf(b, ", for at most %d view%s", l->max_views,
               l->max_views == 1 ? "" : "s");
  buf_puts(b, ".</p>");
  if (c->clinic_phone[0]) {
    buf_puts(b, "<p class=\"details call\">Questions? Call ");
    esc(b, c->clinic_name);
    buf_puts(b, " on ");
    put_phone(b, c);
    buf_puts(b, ".</p>");
  }
}

/* Finds the link for the token in the path; answers itself (404, 503)
 * and returns the error when there is none. */
static enum lb_err find(struct api *a, struct http_req *r, struct link *l)
{
  enum lb_err rc = gw_link_find(a->gw, r->params[0], l);
  if (rc == LB_ENOTFOUND)
    reply_gone(r, a->cfg, 404, "Link not found",
               "This link is not valid. Check that the whole link was "
               "opened.");
  else if (rc)
    reply_gone(r, a->cfg, 503, "Please try again",
               "The image cannot be shown just now. Please try again in a "
               "minute.");
  return rc;
}

/* The page for a link that cannot be used, for refusal o. */
static void reply_refused(struct api *a, struct http_req *r,
                          enum link_outcome o)
{
  const char *title, *why;
  switch (o) {
  case LINK_REFUSED_REVOKED:
    title = "This link was withdrawn";
    why = "The clinic has withdrawn this image.";
    break;
  case LINK_REFUSED_EXPIRED:
    title = "This link has expired";
    why = "Image links only work for a limited time, to keep them private.";
    break;
  case LINK_REFUSED_LOCKED:
    title = "This link is locked";
    why = "There were too many wrong answers, so the link was locked.";
    break;
  default:
    title = "This link has been used";
    why = "This image has been viewed as many times as the clinic allowed.";
    break;
  }
  reply_gone(r, a->cfg, 410, title, why);
}

/* The neutral page: the clinic's name and a "View image" button, with what
 * the link's check asks for. 'note' (may be NULL) says what happened to the
 * last answer. */
/* The neutral page, with 'note' (may be NULL) as an error, or with
 * 'info' as plain news ("We have texted you a code"). */
static void reply_neutral_as(struct api *a, struct http_req *r,
                             const struct link *l, const char *note, int info)
{
  struct buf b;
  int dob = strcmp(l->check, "dob") == 0, code = strcmp(l->check, "code") == 0;
  int code_live = code && l->code_expires_at > clock_now_ms();
  buf_init(&b, PAGE_MAX);
  page_start(&b, a->cfg, "An image for you");
  buf_puts(&b, "<h1>You have been sent an image</h1><p>");
  esc(&b, a->cfg->clinic_name);
  buf_puts(&b, " has sent you an image. It is private: it shows only when "
               "you choose to view it.</p>");
  if (note) {
    buf_puts(&b, info ? "<p class=\"info\" role=\"status\">"
                      : "<p class=\"error\" role=\"alert\">");
    esc(&b, note);
    buf_puts(&b, "</p>");
  }
  buf_puts(&b, "<form method=\"post\" action=\"/v/");
  esc(&b, r->params[0]);
  buf_puts(&b, "\">");
  if (dob)
    buf_puts(&b, "<fieldset><legend>To open it, enter your date of "
                 "birth</legend><div class=\"dob\">"
                 "<label>Day<input name=\"day\" inputmode=\"numeric\" "
                 "autocomplete=\"bday-day\" maxlength=\"2\" required></label>"
                 "<label>Month<input name=\"month\" inputmode=\"numeric\" "
                 "autocomplete=\"bday-month\" maxlength=\"2\" "
                 "required></label><label>Year<input name=\"year\" "
                 "inputmode=\"numeric\" autocomplete=\"bday-year\" "
                 "maxlength=\"4\" required></label></div></fieldset>");
  if (code && !code_live) {
    buf_puts(&b, "<p>To open it, we will text a 6-digit code to your phone."
                 "</p><input type=\"hidden\" name=\"step\" value=\"send\">"
                 "<button type=\"submit\">Text me a code</button></form>");
    put_details(&b, a->cfg, l);
    page_end(r, &b, 200);
    return;
  }
  if (code)
    buf_puts(&b, "<div class=\"dob code\"><label>Code from the text message"
                 "<input name=\"code\" inputmode=\"numeric\" "
                 "autocomplete=\"one-time-code\" maxlength=\"6\" "
                 "required></label></div>");
  buf_puts(&b, "<button type=\"submit\">View image</button></form>");
  if (code) {
    buf_puts(&b, "<form method=\"post\" class=\"again\" action=\"/v/");
    esc(&b, r->params[0]);
    buf_puts(&b, "\"><input type=\"hidden\" name=\"step\" value=\"send\">"
                 "<button type=\"submit\" class=\"quiet\">Text me a new "
                 "code</button></form>");
  }
  put_details(&b, a->cfg, l);
  page_end(r, &b, 200);
}

static void reply_neutral(struct api *a, struct http_req *r,
                          const struct link *l, const char *note)
{
  reply_neutral_as(a, r, l, note, 0);
}

static void h_view_get(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct link l;
  enum link_outcome o;
  if (find(a, r, &l))
    return;
  /* A GET only looks: nothing is counted or recorded. */
  gw_link_seen(a->gw, &l, r->remote, http_header(r, "User-Agent"));
  if ((o = gw_link_barrier(&l, clock_now_ms())) != LINK_VIEWED)
    reply_refused(a, r, o);
  else
    reply_neutral(a, r, &l, NULL);
}

/* ---- the form's fields, through MHD's post processor ----------------------
 */

struct answer_form {
  char step[8], code[8], day[8], month[8], year[8];
};

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *filename,
                                const char *ctype, const char *enc,
                                const char *data, uint64_t off, size_t size)
{
  struct answer_form *f = cls;
  char *dst = strcmp(key, "step") == 0    ? f->step
              : strcmp(key, "code") == 0  ? f->code
              : strcmp(key, "day") == 0   ? f->day
              : strcmp(key, "month") == 0 ? f->month
              : strcmp(key, "year") == 0  ? f->year
                                          : NULL;
  if (dst && off + size < sizeof f->day) {
    memcpy(dst + off, data, size);
    dst[off + size] = '\0';
  }
  return MHD_YES;
}

static void h_view_post(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct answer_form f;
  struct gw_link_answer ans;
  struct gw_link_outcome got;
  struct MHD_PostProcessor *pp;
  struct message m;
  struct link l;
  struct buf b;
  char grant[65];
  long long exp;
  enum lb_err rc;
  int sending;

  if (find(a, r, &l))
    return;
  memset(&f, 0, sizeof f);
  pp = MHD_create_post_processor(r->conn, 1024, on_field, &f);
  if (pp) {
    MHD_post_process(pp, r->body.data ? r->body.data : "", r->body.len);
    MHD_destroy_post_processor(pp);
  }
  ans = (struct gw_link_answer){f.step, f.code, f.day, f.month, f.year};
  sending = strcmp(l.check, "code") == 0 && strcmp(f.step, "send") == 0;
  rc = gw_link_open(a->gw, &l, &ans, r->remote, http_header(r, "User-Agent"),
                    &got);
  sodium_memzero(&f, sizeof f);
  if (rc) {
    reply_gone(r, a->cfg, 503, "Please try again",
               sending
                   ? "The code cannot be sent just now. Please try again in "
                     "a minute."
                   : "The image cannot be shown just now. Please try again "
                     "in a minute.");
    return;
  }
  switch (got.result) {
  case GW_LINK_REFUSED:
    reply_refused(a, r, got.refusal);
    return;
  case GW_LINK_ASK:
    reply_neutral(a, r, &got.link, got.note[0] ? got.note : NULL);
    return;
  case GW_LINK_CODE_SENT:
    reply_neutral_as(a, r, &got.link, got.note, 1);
    return;
  case GW_LINK_SHOW:
    break;
  }
  message_init(&m);
  if (store_message_get(a->store, l.message_id, &m) != LB_OK) {
    message_release(&m);
    reply_gone(r, a->cfg, 410, "This image is no longer here",
               "The clinic no longer holds this image.");
    return;
  }
  exp = (long long)(clock_now_ms() / 1000) + LINK_GRANT_MINUTES * 60;
  links_grant(a->cfg->link_secret, l.id, exp, grant);
  buf_init(&b, PAGE_MAX);
  page_start(&b, a->cfg, "Your image");
  buf_puts(&b, "<h1 class=\"visually-hidden\">Your image</h1>");
  for (size_t i = 0; i < m.n_media; i++) {
    char src[HTTP_PARAM_MAX + 160];
    snprintf(src, sizeof src, "/v/%s/m/%zu?e=%lld&g=%s", r->params[0], i, exp,
             grant);
    buf_puts(&b, "<figure><img src=\"");
    esc(&b, src);
    buf_printf(&b, "\" alt=\"Image %zu from ", i + 1);
    esc(&b, a->cfg->clinic_name);
    buf_puts(&b, "\"><a class=\"save\" download href=\"");
    esc(&b, src);
    buf_puts(&b, "&amp;dl=1\">Save image</a></figure>");
  }
  buf_puts(&b, "<p class=\"note\">This page is private. Close it when you "
               "are done.</p>");
  put_details(&b, a->cfg, &l);
  message_release(&m);
  page_end(r, &b, 200);
}

static void h_view_media(void *cls, struct http_req *r)
{
  struct api *a = cls;
  const char *e = http_query(r, "e"), *g = http_query(r, "g");
  struct message m;
  struct media md;
  struct link l;
  struct buf b;
  char want[65], *end;
  long long exp = e ? strtoll(e, &end, 10) : 0;
  unsigned long idx = strtoul(r->params[1], &end, 10);
  size_t len;
  char *data;

  if (find(a, r, &l))
    return;
  if (gw_link_barrier(&l, clock_now_ms()) != LINK_VIEWED) {
    reply_refused(a, r, gw_link_barrier(&l, clock_now_ms()));
    return;
  }
  links_grant(a->cfg->link_secret, l.id, exp, want);
  if (!g || !crypto_streq(g, want) || exp < clock_now_ms() / 1000) {
    reply_gone(r, a->cfg, 403, "Open the link again",
               "This image needs the link to be opened again.");
    return;
  }
  message_init(&m);
  if (store_message_get(a->store, l.message_id, &m) != LB_OK ||
      idx >= m.n_media ||
      store_media_get(a->store, m.media_ids[idx], &md) != LB_OK) {
    message_release(&m);
    reply_gone(r, a->cfg, 404, "Image not found", "There is no such image.");
    return;
  }
  message_release(&m);
  buf_init(&b, (size_t)md.bytes + 1);
  if (blob_get(a->blobs, md.blob_key, &b) != LB_OK) {
    buf_release(&b);
    reply_gone(r, a->cfg, 503, "Please try again",
               "The image cannot be shown just now.");
    return;
  }
  data = buf_steal(&b, &len);
  http_reply_bytes(r, 200, md.content_type, data ? data : calloc(1, 1), len);
  link_headers(r);
  if (http_query(r, "dl")) {
    /* Saved with the extension its type has, so the phone can open it. */
    static const struct {
      const char *ctype, *ext;
    } exts[] = {{"image/jpeg", "jpg"},     {"image/png", "png"},
                {"image/gif", "gif"},      {"image/webp", "webp"},
                {"image/heic", "heic"},    {"image/heif", "heif"},
                {"application/pdf", "pdf"}};
    const char *ext = "bin";
    char cd[64];
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
      if (strcmp(md.content_type, exts[i].ctype) == 0)
        ext = exts[i].ext;
    snprintf(cd, sizeof cd, "attachment; filename=\"image-%lu.%s\"", idx + 1,
             ext);
    http_reply_header(r, "Content-Disposition", cd);
  } else {
    http_reply_header(r, "Content-Disposition", "inline");
  }
}

/* ---- staff: /api/v1/links ---------------------------------------------- */

static enum lb_err link_param(struct api *a, struct http_req *r, struct link *l)
{
  enum lb_err rc = id_valid(r->params[0])
                       ? store_link_get(a->store, r->params[0], l)
                       : LB_ENOTFOUND;
  if (rc == LB_ENOTFOUND)
    http_reply_error(r, 404, "not_found", "no link '%s'", r->params[0]);
  else if (rc)
    api_store_error(r, rc);
  return rc;
}

static void h_link_get(void *cls, struct http_req *r)
{
  struct link l;
  if (!link_param(cls, r, &l))
    http_reply_json(r, 200, gw_link_json(&l));
}

static void h_link_revoke(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct link l;
  enum lb_err rc;
  if (link_param(a, r, &l))
    return;
  rc = gw_link_revoke(
      a->gw, l.id, r->who.kind == PRINCIPAL_SESSION ? r->who.username : "api",
      &l);
  if (rc) {
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200, gw_link_json(&l));
}

static enum lb_err on_view(void *arg, int64_t at, const char *ip,
                           const char *ua, const char *outcome)
{
  char t[LB_ISO8601_LEN];
  clock_iso8601(at, t, sizeof t);
  return json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s}", "at", t,
                                              "ip", ip, "user_agent", ua,
                                              "outcome", outcome))
             ? LB_ENOMEM
             : LB_OK;
}

static void h_link_views(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct link l;
  json_t *arr;
  enum lb_err rc;
  if (link_param(a, r, &l))
    return;
  arr = json_array();
  if ((rc = store_link_views(a->store, l.id, on_view, arr))) {
    json_decref(arr);
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200, json_pack("{s:s, s:o}", "link", l.id, "views", arr));
}

void viewer_register(struct api *a)
{
  struct http_server *s = a->http;
  http_server_route(s, "GET", "/v/{token}", h_view_get, a, 0, AUTH_NONE, 0);
  http_server_route(s, "POST", "/v/{token}", h_view_post, a, 1024, AUTH_NONE,
                    0);
  http_server_route(s, "GET", "/v/{token}/m/{n}", h_view_media, a, 0, AUTH_NONE,
                    0);
  http_server_route(s, "GET", "/api/v1/links/{id}", h_link_get, a, 0, AUTH_API,
                    SCOPE_MESSAGES_READ);
  http_server_route(s, "DELETE", "/api/v1/links/{id}", h_link_revoke, a, 0,
                    AUTH_API, SCOPE_MESSAGES_SEND);
  http_server_route(s, "GET", "/api/v1/links/{id}/views", h_link_views, a, 0,
                    AUTH_API, SCOPE_MESSAGES_READ);
}
