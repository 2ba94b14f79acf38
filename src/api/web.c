/* The web pages: /login, /inbox, /sim/phone and /static/<file>, from the
 * copies embedded at build time, or from LYREBIRD_WEB_DIR when a developer
 * sets it (edit, reload, no rebuild). See docs/web.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/web_assets.h"
#include "api/web_types.h"
#include "providers/sim.h"
#include "util/buf.h"
#include "util/err.h"

#define DEV_FILE_MAX (4u * 1024 * 1024)

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'";

static void page_headers(struct http_req *r)
{
  http_reply_header(r, "Content-Security-Policy", csp);
  http_reply_header(r, "X-Frame-Options", "DENY");
  http_reply_header(r, "Referrer-Policy", "same-origin");
  http_reply_header(r, "Cache-Control", "no-cache");
}

static const struct web_asset *find(const char *name)
{
  for (const struct web_asset *w = web_assets; w->name; w++)
    if (strcmp(w->name, name) == 0)
      return w;
  return NULL;
}

/* A plain file name: no path, no hidden files. */
static int name_ok(const char *s)
{
  if (!*s || *s == '.')
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_'))
      return 0;
  return 1;
}

/* Developer mode: the file from LYREBIRD_WEB_DIR, typed like its embedded
 * twin (or by web_types.h for a new file). LB_OK when served, LB_ENOTFOUND
 * when there is no such file (the embedded one is then served). */
static enum lb_err serve_dev(struct http_req *r, const char *dir,
                             const char *name, const struct web_asset *w)
{
  const char *ctype = w ? w->ctype : web_type_of(name);
  char path[1024];
  struct buf b;
  FILE *f;
  size_t n, len;
  char chunk[8192];
  void *data;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (!ctype || !(f = fopen(path, "rb")))
    return LB_ENOTFOUND;
  buf_init(&b, DEV_FILE_MAX);
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (buf_append(&b, chunk, n) != LB_OK)
      break;
  fclose(f);
  data = buf_steal(&b, &len);
  http_reply_bytes(r, 200, ctype, data ? data : calloc(1, 1), len);
  page_headers(r);
  http_reply_header(r, "Cache-Control", "no-store");
  return LB_OK;
}

static void serve(struct http_req *r, const char *name)
{
  const char *dev = getenv("LYREBIRD_WEB_DIR");
  const struct web_asset *w = find(name);
  const char *inm;
  if (dev && *dev && serve_dev(r, dev, name, w) == LB_OK)
    return;
  if (!w) {
    http_reply_error(r, 404, "not_found", "no such file: %s", name);
    return;
  }
  inm = http_header(r, "If-None-Match");
  if (inm && strcmp(inm, w->etag) == 0)
    http_reply_static(r, 304, w->ctype, "", 0);
  else
    http_reply_static(r, 200, w->ctype, w->data, w->len);
  page_headers(r);
  http_reply_header(r, "ETag", w->etag);
}

static void h_static(void *cls, struct http_req *r)
{
  if (!name_ok(r->params[0])) {
    http_reply_error(r, 404, "not_found", "no such file");
    return;
  }
  serve(r, r->params[0]);
}

void h_openapi(void *cls, struct http_req *r)
{
  /* docs/openapi.json, embedded; never from LYREBIRD_WEB_DIR. */
  const struct web_asset *w = find("openapi.json");
  if (!w) {
    http_reply_error(r, 404, "not_found", "no OpenAPI document was built in");
    return;
  }
  http_reply_static(r, 200, w->ctype, w->data, w->len);
  http_reply_header(r, "ETag", w->etag);
  http_reply_header(r, "Cache-Control", "no-cache");
}

static void h_root(void *cls, struct http_req *r)
{
  http_reply_static(r, 302, "text/plain; charset=utf-8", "", 0);
  http_reply_header(r, "Location", "/inbox");
}

static void h_login(void *cls, struct http_req *r)
{
  serve(r, "login.html");
}
static void h_inbox(void *cls, struct http_req *r)
{
  serve(r, "inbox.html");
}
static void h_admin(void *cls, struct http_req *r)
{
  serve(r, "admin.html");
}

static void h_phone(void *cls, struct http_req *r)
{
  serve(r, "phone.html");
}

void web_register(struct api *a)
{
  struct http_server *s = a->http;
  http_server_route(s, "GET", "/", h_root, a, 0, AUTH_NONE, 0);
  http_server_route(s, "GET", "/login", h_login, a, 0, AUTH_NONE, 0);
  http_server_route(s, "GET", "/inbox", h_inbox, a, 0, AUTH_NONE, 0);
  http_server_route(s, "GET", "/admin", h_admin, a, 0, AUTH_NONE, 0);
  http_server_route(s, "GET", "/static/{file}", h_static, a, 0, AUTH_NONE, 0);
  if (sim_settings(a->cfg)->enabled)
    http_server_route(s, "GET", "/sim/phone", h_phone, a, 0, AUTH_NONE, 0);
}
