/* The HTTP server: libmicrohttpd with an epoll thread pool, a small router
 * with {param} segments, a hard body cap per route, JSON errors and a JSON
 * access log line per request.
 *
 * A handler is called once the whole body is in (up to the route's cap),
 * and must answer through exactly one http_reply_* call. The request and
 * everything in it belong to the server and live until the response is
 * sent. */
#ifndef LB_HTTP_SERVER_H
#define LB_HTTP_SERVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define HTTP_MAX_PARAMS 4
#define HTTP_PARAM_MAX 256

/* Who may call a route. AUTH_API: an API key, or a signed-in staff
 * member, whose scopes (core/scope.h) include the route's. A request made
 * with a session cookie that changes something (any method but GET and
 * HEAD) must also carry the session's X-CSRF-Token. */
enum http_auth { AUTH_NONE, AUTH_API, AUTH_API_PASSIVE };
/* AUTH_API_PASSIVE is AUTH_API for a request a page makes by itself (the
 * event stream, images): it does not count as the person being active, so
 * an unattended inbox still signs out after [web] session_idle_minutes. A
 * page marks its own automatic requests the same way with the header
 * "X-Lyrebird-Background: 1". */

enum http_principal_kind { PRINCIPAL_NONE, PRINCIPAL_KEY, PRINCIPAL_SESSION };

/* Who made a request, once authenticated. */
struct http_principal {
  enum http_principal_kind kind;
  int admin;
  unsigned scopes; /* what it may do (core/scope.h) */
  char key_id[32]; /* PRINCIPAL_KEY: the key's id ("" for the [api] key) */
  char key_name[128];
  char user_id[32];
  char username[72];
  char csrf[64];
  char token_hash[65]; /* SHA-256 hex of the session token */
};

/* Looks up a session cookie's token. Returns 1 and fills p (kind, admin,
 * user, csrf, token_hash) for a live session, 0 otherwise. 'active' is 0
 * for a passive route. Runs on an HTTP thread before the body is read. */
typedef int (*http_session_fn)(void *cls, const char *token, int active,
                               struct http_principal *p);
/* Checks a bearer token. Returns 1 and fills p (kind PRINCIPAL_KEY,
 * scopes, key id and name) for a key that may be used, else 0 with why
 * (for the 401). Runs on an HTTP thread before the body is read. */
typedef int (*http_key_fn)(void *cls, const char *token,
                           struct http_principal *p, char *why, size_t n);

struct http_server;
struct http_req;

typedef void (*http_handler)(void *cls, struct http_req *r);

struct http_req {
  struct MHD_Connection *conn;
  struct http_server *srv;
  const char *method;
  const char *path;
  const struct http_route *route;
  char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
  int n_params;
  struct buf body;
  int too_large;
  int queued; /* a response is queued: later calls only drain the body */
  int64_t t0;
  int status;
  struct MHD_Response *response;
  size_t resp_bytes;
  char remote[64];
  char error_code[48];
  struct http_principal who;
  /* Set by http_suspend(); see there. */
  http_handler cont;
  void *ctx;
  void (*ctx_free)(void *ctx);
  /* The query string as sent (after '?', undecoded); see
   * http_query_string(). */
  char query[2048];
  int query_long;
};

struct http_route {
  const char *method;
  const char *pattern; /* "/api/v1/messages/{id}" */
  http_handler fn;
  void *cls;
  size_t body_max;
  enum http_auth auth;
  unsigned scope; /* the one scope it needs; 0: any principal */
};

struct http_server_options {
  const char *listen;
  int port; /* 0: any free port */
  int threads;
  int max_connections;
  int access_log;
};

enum lb_err http_server_new(const struct http_server_options *opt,
                            struct http_server **out);
/* Routes are matched in the order added. */
enum lb_err http_server_route(struct http_server *s, const char *method,
                              const char *pattern, http_handler fn, void *cls,
                              size_t body_max, enum http_auth auth,
                              unsigned scope);
/* Accepts API keys ("Authorization: Bearer ..."), checked by fn. */
void http_server_set_keys(struct http_server *s, http_key_fn fn, void *cls);
/* Accepts sessions: the cookie named 'cookie' is checked by fn. */
void http_server_set_sessions(struct http_server *s, const char *cookie,
                              http_session_fn fn, void *cls);
enum lb_err http_server_start(struct http_server *s);
int http_server_port(const struct http_server *s);
void http_server_stop(struct http_server *s);
void http_server_free(struct http_server *s);

/* Parks a request that waits for work on another thread, without holding
 * an HTTP thread: the handler returns without answering, and that other
 * thread later calls http_resume(r). Then 'cont' runs on an HTTP thread and
 * must answer. 'ctx' (freed with ctx_free when the request ends) carries
 * the state across. Call it before handing the work over. */
void http_suspend(struct http_req *r, http_handler cont, void *ctx,
                  void (*ctx_free)(void *ctx));
/* Thread-safe; once per http_suspend(). */
void http_resume(struct http_req *r);

/* Request accessors. NULL when absent. */
const char *http_header(struct http_req *r, const char *name);
const char *http_query(struct http_req *r, const char *name);
/* The query string as the client sent it, undecoded, "" when there was
 * none; NULL when it was too long to keep (over 2047 bytes). */
const char *http_query_string(struct http_req *r);
const char *http_cookie(struct http_req *r, const char *name);

/* Replies. http_reply_json takes the reference to 'body'. */
void http_reply_json(struct http_req *r, int status, json_t *body);
void http_reply_error(struct http_req *r, int status, const char *code,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Takes ownership of data (freed with free()). */
void http_reply_bytes(struct http_req *r, int status, const char *ctype,
                      void *data, size_t len);
void http_reply_static(struct http_req *r, int status, const char *ctype,
                       const void *data, size_t len);
void http_reply_header(struct http_req *r, const char *name, const char *value);
/* Answers with a response built by the caller (a stream); takes it. */
struct MHD_Response;
void http_reply_response(struct http_req *r, int status,
                         struct MHD_Response *resp);

#endif
