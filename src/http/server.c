#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/scope.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/log.h"

#define MAX_ROUTES 128

struct http_server {
  struct http_server_options opt;
  pthread_mutex_t mu;
  int suspended; /* requests parked by http_suspend() */
  int running;   /* handlers running now (they may park their request) */
  int stopping;  /* http_server_stop() began: new requests get 503 */
  http_key_fn key_fn;
  void *key_cls;
  char cookie[64];
  http_session_fn session_fn;
  void *session_cls;
  struct http_route routes[MAX_ROUTES];
  int n_routes;
  struct MHD_Daemon *d;
};

enum lb_err http_server_new(const struct http_server_options *opt,
                            struct http_server **out)
{
  struct http_server *s = calloc(1, sizeof *s);
  if (!s)
    return LB_ENOMEM;
  s->opt = *opt;
  pthread_mutex_init(&s->mu, NULL);
  *out = s;
  return LB_OK;
}

enum lb_err http_server_route(struct http_server *s, const char *method,
                              const char *pattern, http_handler fn, void *cls,
                              size_t body_max, enum http_auth auth,
                              unsigned scope)
{
  if (s->n_routes >= MAX_ROUTES)
    return LB_ETOOBIG;
  s->routes[s->n_routes++] =
      (struct http_route){method, pattern, fn, cls, body_max, auth, scope};
  return LB_OK;
}

void http_server_set_keys(struct http_server *s, http_key_fn fn, void *cls)
{
  s->key_fn = fn;
  s->key_cls = cls;
}

void http_server_set_sessions(struct http_server *s, const char *cookie,
                              http_session_fn fn, void *cls)
{
  snprintf(s->cookie, sizeof s->cookie, "%s", cookie);
  s->session_fn = fn;
  s->session_cls = cls;
}

/* Matches path against pattern; fills params. 1 on match. */
static int match(const char *pattern, const char *path, struct http_req *r)
{
  const char *p = pattern, *u = path;
  int n = 0;
  while (*p && *u) {
    if (*p == '{') {
      const char *pe = strchr(p, '}');
      size_t len = strcspn(u, "/");
      if (!pe || len == 0 || len >= HTTP_PARAM_MAX || n >= HTTP_MAX_PARAMS)
        return 0;
      memcpy(r->params[n], u, len);
      r->params[n][len] = '\0';
      n++;
      p = pe + 1;
      u += len;
      continue;
    }
    if (*p != *u)
      return 0;
    p++, u++;
  }
  if (*p || *u)
    return 0;
  r->n_params = n;
  return 1;
}

void http_suspend(struct http_req *r, http_handler cont, void *ctx,
                  void (*ctx_free)(void *ctx))
{
  r->cont = cont;
  r->ctx = ctx;
  r->ctx_free = ctx_free;
  pthread_mutex_lock(&r->srv->mu);
  r->srv->suspended++;
  pthread_mutex_unlock(&r->srv->mu);
  MHD_suspend_connection(r->conn);
}

void http_resume(struct http_req *r)
{
  MHD_resume_connection(r->conn);
}

const char *http_header(struct http_req *r, const char *name)
{
  return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query_string(struct http_req *r)
{
  return r->query_long ? NULL : r->query;
}

const char *http_query(struct http_req *r, const char *name)
{
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_cookie(struct http_req *r, const char *name)
{
  return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

static void set_response(struct http_req *r, int status,
                         struct MHD_Response *resp, size_t len)
{
  if (r->response) /* a handler answered twice: keep the first */
  {
    MHD_destroy_response(resp);
    return;
  }
  r->status = status;
  r->response = resp;
  r->resp_bytes = len;
}

void http_reply_response(struct http_req *r, int status,
                         struct MHD_Response *resp)
{
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  set_response(r, status, resp, 0);
}

void http_reply_bytes(struct http_req *r, int status, const char *ctype,
                      void *data, size_t len)
{
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(data);
    return;
  }
  MHD_add_response_header(resp, "Content-Type", ctype);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  set_response(r, status, resp, len);
}

void http_reply_static(struct http_req *r, int status, const char *ctype,
                       const void *data, size_t len)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(
      len, (void *)data, MHD_RESPMEM_PERSISTENT);
  if (!resp)
    return;
  MHD_add_response_header(resp, "Content-Type", ctype);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  set_response(r, status, resp, len);
}

void http_reply_header(struct http_req *r, const char *name, const char *value)
{
  if (r->response)
    MHD_add_response_header(r->response, name, value);
}

void http_reply_json(struct http_req *r, int status, json_t *body)
{
  char *text =
      body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(body);
  if (!text) {
    static const char oom[] =
        "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
    http_reply_static(r, 500, "application/json", oom, sizeof oom - 1);
    return;
  }
  http_reply_bytes(r, status, "application/json", text, strlen(text));
  http_reply_header(r, "Cache-Control", "no-store");
}

void http_reply_error(struct http_req *r, int status, const char *code,
                      const char *fmt, ...)
{
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(r->error_code, sizeof r->error_code, "%s", code);
  http_reply_json(
      r, status,
      json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

static int safe_method(const char *m)
{
  return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

/* A key without the route's scope: 403 naming it. */
static int scope_refused(struct http_req *r)
{
  const char *need = scope_name(r->route->scope);
  char have[SCOPE_LIST_MAX];
  if (r->who.kind == PRINCIPAL_SESSION) {
    http_reply_error(r, 403, "forbidden", "only an admin may do this");
    return 0;
  }
  scope_format(r->who.scopes, have, sizeof have);
  http_reply_error(r, 403, "insufficient_scope",
                   "this request needs the '%s' scope, and this key has "
                   "only: %s",
                   need ? need : "?", have[0] ? have : "none");
  return 0;
}

/* Establishes r->who for a route that needs it. Returns 1, or answers the
 * request (401/403) and returns 0. */
static int authenticate(struct http_server *s, struct http_req *r)
{
  const char *h = http_header(r, "Authorization");
  const char *token = s->cookie[0] ? http_cookie(r, s->cookie) : NULL;
  char why[160] = "";

  memset(&r->who, 0, sizeof r->who);
  if (h) { /* a key, and only a key: no falling back to the cookie */
    if (strncmp(h, "Bearer ", 7) == 0 && s->key_fn &&
        s->key_fn(s->key_cls, h + 7, &r->who, why, sizeof why)) {
      r->who.kind = PRINCIPAL_KEY;
      return scope_allows(r->who.scopes, r->route->scope) ? 1
                                                          : scope_refused(r);
    }
    memset(&r->who, 0, sizeof r->who);
    http_reply_error(r, 401, "unauthorized", "%s",
                     why[0] ? why
                            : "send 'Authorization: Bearer <key>' with an API "
                              "key");
    http_reply_header(r, "WWW-Authenticate", "Bearer");
    return 0;
  }
  if (token && s->session_fn &&
      s->session_fn(s->session_cls, token,
                    r->route->auth != AUTH_API_PASSIVE &&
                        !http_header(r, "X-Lyrebird-Background"),
                    &r->who)) {
    const char *csrf = http_header(r, "X-CSRF-Token");
    if (!safe_method(r->method) &&
        (!csrf || !r->who.csrf[0] || !crypto_streq(csrf, r->who.csrf))) {
      http_reply_error(r, 403, "csrf_failed",
                       "this request needs your session's X-CSRF-Token "
                       "header; reload the page and try again");
      return 0;
    }
    r->who.scopes = r->who.admin ? SCOPE_ALL : SCOPE_STAFF;
    return scope_allows(r->who.scopes, r->route->scope) ? 1 : scope_refused(r);
  }
  memset(&r->who, 0, sizeof r->who);
  http_reply_error(r, 401, "unauthorized",
                   token ? "your sign-in has ended; sign in again"
                         : "sign in, or send 'Authorization: Bearer <key>' "
                           "with an API key");
  http_reply_header(r, "WWW-Authenticate", "Bearer");
  return 0;
}

static void client_addr(struct MHD_Connection *c, char *out, size_t n)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  out[0] = '\0';
  if (!ci || !ci->client_addr)
    return;
  if (ci->client_addr->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr,
              out, (socklen_t)n);
  else if (ci->client_addr->sa_family == AF_INET6)
    inet_ntop(AF_INET6,
              &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out,
              (socklen_t)n);
}

/* Picks the route; answers 404/405 itself. */
static void route(struct http_server *s, struct http_req *r)
{
  int path_matched = 0;
  for (int i = 0; i < s->n_routes; i++) {
    struct http_route *rt = &s->routes[i];
    if (!match(rt->pattern, r->path, r))
      continue;
    path_matched = 1;
    if (strcmp(rt->method, r->method) == 0 ||
        (strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
      r->route = rt;
      return;
    }
  }
  if (path_matched)
    http_reply_error(r, 405, "method_not_allowed", "%s is not allowed on %s",
                     r->method, r->path);
  else
    http_reply_error(r, 404, "not_found", "no such endpoint: %s", r->path);
}

static enum MHD_Result queue(struct http_req *r)
{
  enum MHD_Result ret;
  if (!r->response)
    http_reply_error(r, 500, "internal", "the handler gave no answer");
  if (!r->response)
    return MHD_NO;
  ret = MHD_queue_response(r->conn, (unsigned)r->status, r->response);
  MHD_destroy_response(r->response);
  r->response = NULL;
  r->queued = 1;
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
  struct http_server *s = cls;
  struct http_req *r = *con_cls;

  if (!r || !r->conn) {
    const char *cl;
    int stopping;
    if (!r && !(r = calloc(1, sizeof *r)))
      return MHD_NO;
    *con_cls = r;
    r->conn = conn;
    r->srv = s;
    r->method = method;
    r->path = url;
    r->t0 = clock_mono_ms();
    client_addr(conn, r->remote, sizeof r->remote);
    pthread_mutex_lock(&s->mu);
    stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    if (stopping) {
      http_reply_error(r, 503, "unavailable", "the server is stopping");
      http_reply_header(r, "Connection", "close");
      return queue(r);
    }
    route(s, r);
    if (r->response)
      return queue(r);
    buf_init(&r->body, r->route->body_max);
    if (r->route->auth != AUTH_NONE && !authenticate(s, r))
      return queue(r);
    cl = http_header(r, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > r->route->body_max) {
      http_reply_error(r, 413, "body_too_large",
                       "the body is larger than the %zu bytes this endpoint "
                       "accepts",
                       r->route->body_max);
      return queue(r);
    }
    return MHD_YES;
  }
  if (r->queued) {
    /* Answered early (404, 401, 413, 503 while stopping): MHD may still
     * call with the rest of the body; drop it, never dispatch. */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (!r->too_large &&
        buf_append(&r->body, upload_data, *upload_data_size) != LB_OK)
      r->too_large = 1;
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (r->response) /* answered early; MHD calls again after the body */
    return queue(r);
  if (r->cont) { /* resumed after http_suspend() */
    http_handler cont = r->cont;
    r->cont = NULL;
    pthread_mutex_lock(&s->mu);
    s->suspended--;
    pthread_mutex_unlock(&s->mu);
    cont(r->route->cls, r);
    return queue(r);
  }
  if (r->too_large) {
    http_reply_error(r, 413, "body_too_large",
                     "the body is larger than the %zu bytes this endpoint "
                     "accepts",
                     r->route->body_max);
  } else {
    /* A handler may park its request (http_suspend): one that starts once
     * the server is stopping would park it on a daemon being stopped, so
     * it is turned away instead (senders retry a 503). */
    int stopping;
    pthread_mutex_lock(&s->mu);
    stopping = s->stopping;
    if (!stopping)
      s->running++;
    pthread_mutex_unlock(&s->mu);
    if (stopping) {
      http_reply_error(r, 503, "unavailable", "the server is stopping");
      http_reply_header(r, "Connection", "close");
      return queue(r);
    }
    r->route->fn(r->route->cls, r);
    pthread_mutex_lock(&s->mu);
    s->running--;
    pthread_mutex_unlock(&s->mu);
  }
  if (r->cont && !r->response)
    return MHD_YES; /* parked; answered when resumed */
  return queue(r);
}

/* Runs first for every request, with the URI as sent: the only place the
 * query string is seen undecoded (webhook signatures cover it). The
 * request it returns is filled in by on_request. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
  struct http_req *r = calloc(1, sizeof *r);
  const char *q = uri ? strchr(uri, '?') : NULL;
  (void)cls;
  (void)conn;
  if (!r)
    return NULL;
  if (q && strlen(q + 1) >= sizeof r->query)
    r->query_long = 1;
  else if (q)
    memcpy(r->query, q + 1, strlen(q + 1) + 1);
  return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  struct http_server *s = cls;
  struct http_req *r = *con_cls;
  if (!r)
    return;
  if (s->opt.access_log) {
    json_t *f =
        json_pack("{s:s, s:s, s:i, s:I, s:I, s:s}", "method", r->method,
                  "route", r->route ? r->route->pattern : "(none)", "status",
                  r->status, "ms", (json_int_t)(clock_mono_ms() - r->t0),
                  "bytes", (json_int_t)r->resp_bytes, "remote", r->remote);
    if (f && r->error_code[0])
      json_object_set_new(f, "error", json_string(r->error_code));
    if (f && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
      json_object_set_new(f, "aborted", json_true());
    log_event(LOG_INFO, "http.access", f, "%s %s %d", r->method,
              r->route ? r->route->pattern : "-", r->status);
  }
  if (r->response)
    MHD_destroy_response(r->response);
  if (r->ctx_free)
    r->ctx_free(r->ctx);
  buf_release(&r->body);
  free(r);
  *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  msg[strcspn(msg, "\n")] = '\0';
  log_warn("http.mhd", "%s", msg);
}

enum lb_err http_server_start(struct http_server *s)
{
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)s->opt.port);
  if (inet_pton(AF_INET, s->opt.listen, &sa.sin_addr) != 1) {
    log_error("http.start", "cannot listen on '%s': use an IPv4 address",
              s->opt.listen);
    return LB_ECONFIG;
  }
  s->d = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
          MHD_ALLOW_SUSPEND_RESUME,
      (uint16_t)s->opt.port, NULL, NULL, on_request, s,
      MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
      (unsigned)s->opt.threads, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)s->opt.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 512u, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_END);
  if (!s->d) {
    log_error("http.start", "cannot listen on %s:%d (in use, or not allowed)",
              s->opt.listen, s->opt.port);
    return LB_EIO;
  }
  return LB_OK;
}

int http_server_port(const struct http_server *s)
{
  const union MHD_DaemonInfo *di =
      s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
  return di ? di->port : 0;
}

void http_server_stop(struct http_server *s)
{
  if (s && s->d) {
    /* Refuse new requests, then let running handlers and parked requests
     * finish: MHD must not be stopped with suspended connections. Their
     * work (an image to clean, a commit) is quick; ten seconds is a
     * generous bound. (MHD_quiesce_daemon is not used: in
     * libmicrohttpd 0.9.75 it races the epoll thread pool over the listen
     * socket and can abort the process.) */
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < 1000; i++) {
      int n;
      struct timespec ts = {0, 10 * 1000000L};
      pthread_mutex_lock(&s->mu);
      n = s->suspended + s->running;
      pthread_mutex_unlock(&s->mu);
      if (!n)
        break;
      nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    s->d = NULL;
  }
}

void http_server_free(struct http_server *s)
{
  if (!s)
    return;
  http_server_stop(s);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
