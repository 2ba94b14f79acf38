/* Staff sign-in: the session check the server calls, the session API and
 * the admin's account API. See docs/web.md. */
#include "api/auth.h"

#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "providers/sim.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/log.h"
#include "util/password.h"
#include "util/throttle.h"

#define TOKEN_BYTES 32
#define TOKEN_MAX 64 /* base64url of 32 bytes is 43 characters */
/* Argon2id takes 64 MiB and ~0.1 s a go: two at a time at most, so a
 * burst of sign-ins cannot exhaust memory. */
#define HASHING_SLOTS 2
#define LOCK_MAX_MS (15 * 60 * 1000LL)
#define IP_WINDOW_MS (15 * 60 * 1000LL)
#define PURGE_EVERY_MS (10 * 60 * 1000LL)
#define THROTTLE_SLOTS 4096

struct auth {
  struct throttle *by_user, *by_ip;
  /* [server] nodes > 1: the counters live in the store, shared by every
   * node, under the same rules. */
  int shared;
  struct throttle_rule user_rule, ip_rule;
  struct store *store;
  sem_t hashing;
  pthread_mutex_t mu;
  char dummy[LB_PWHASH_MAX]; /* verified for unknown users: same cost */
  int have_dummy;
  int64_t last_purge;
};

enum lb_err auth_new(struct api *a, struct auth **out)
{
  const struct config *c = a->cfg;
  struct throttle_rule user_rule = {THROTTLE_LOCKOUT, c->login_max_failures,
                                    c->login_lockout_seconds * 1000LL,
                                    LOCK_MAX_MS, 0};
  struct throttle_rule ip_rule = {THROTTLE_WINDOW, c->login_ip_max_failures, 0,
                                  0, IP_WINDOW_MS};
  struct auth *au = calloc(1, sizeof *au);
  int rc;
  if (!au)
    return LB_ENOMEM;
  if (user_rule.lock_max_ms < user_rule.lock_ms)
    user_rule.lock_max_ms = user_rule.lock_ms;
  if ((rc = throttle_new(&user_rule, THROTTLE_SLOTS, &au->by_user)) ||
      (rc = throttle_new(&ip_rule, THROTTLE_SLOTS, &au->by_ip))) {
    throttle_free(au->by_user);
    free(au);
    return rc;
  }
  au->shared = c->nodes > 1;
  au->user_rule = user_rule;
  au->ip_rule = ip_rule;
  au->store = a->store;
  sem_init(&au->hashing, 0, HASHING_SLOTS);
  pthread_mutex_init(&au->mu, NULL);
  *out = au;
  return LB_OK;
}

void auth_free(struct auth *au)
{
  if (!au)
    return;
  throttle_free(au->by_user);
  throttle_free(au->by_ip);
  sem_destroy(&au->hashing);
  pthread_mutex_destroy(&au->mu);
  sodium_memzero(au->dummy, sizeof au->dummy);
  free(au);
}

/* ---- the sign-in throttles ---------------------------------------------
 * In memory on one node; in the store when several share it. A store
 * error fails closed for the check (the caller answers 5xx) and is
 * logged for a failure (the attempt was refused anyway). */

static enum lb_err throttles_wait(struct auth *au, const char *ukey,
                                  const char *ipkey, int64_t now, int64_t *wait)
{
  int64_t wu = 0, wi = 0;
  enum lb_err rc = LB_OK;
  if (!au->shared) {
    wu = throttle_wait(au->by_user, ukey, now);
    wi = throttle_wait(au->by_ip, ipkey, now);
  } else if (!(rc = store_limit_wait(au->store, ukey, now, &wu))) {
    rc = store_limit_wait(au->store, ipkey, now, &wi);
  }
  *wait = wu > wi ? wu : wi;
  return rc;
}

static void throttles_fail(struct auth *au, const char *ukey, const char *ipkey,
                           int64_t now)
{
  enum lb_err rc;
  if (!au->shared) {
    throttle_fail(au->by_user, ukey, now);
    throttle_fail(au->by_ip, ipkey, now);
    return;
  }
  if ((rc = store_limit_fail(au->store, ukey, &au->user_rule, now, NULL)) ||
      (rc = store_limit_fail(au->store, ipkey, &au->ip_rule, now, NULL)))
    log_error("auth.throttle", "cannot count a failed sign-in: %s",
              lb_strerror(rc));
}

static void throttles_clear(struct auth *au, const char *ukey)
{
  if (!au->shared)
    throttle_clear(au->by_user, ukey);
  else if (store_limit_clear(au->store, ukey))
    log_error("auth.throttle", "cannot clear a sign-in throttle");
}

/* ---- the session check ------------------------------------------------ */

static int secure_cookie(const struct config *c)
{
  return strncmp(c->public_url, "https://", 8) == 0;
}

int auth_session(void *cls, const char *token, int active,
                 struct http_principal *p)
{
  struct api *a = cls;
  const struct config *c = a->cfg;
  struct session s;
  char hash[LB_SHA256_HEX];
  int64_t now = clock_now_ms();
  int64_t idle = (int64_t)c->session_idle_minutes * 60 * 1000;
  int64_t max = (int64_t)c->session_max_hours * 3600 * 1000;

  if (!token[0] || strlen(token) > TOKEN_MAX)
    return 0;
  crypto_sha256_hex(token, strlen(token), hash);
  if (store_session_get(a->store, hash, &s) != LB_OK)
    return 0;
  if (s.user.disabled || now - s.last_seen_at > idle ||
      now - s.created_at > max) {
    store_session_delete(a->store, hash);
    return 0;
  }
  /* Written at most once a minute (and at least 10 times per idle limit),
   * so a session in use never ends early by more than that. */
  if (active && now - s.last_seen_at >
                    (idle / 10 < AUTH_TOUCH_MS ? idle / 10 : AUTH_TOUCH_MS))
    store_session_touch(a->store, hash, now);
  pthread_mutex_lock(&a->auth->mu);
  if (now - a->auth->last_purge > PURGE_EVERY_MS) {
    int n = 0;
    a->auth->last_purge = now;
    pthread_mutex_unlock(&a->auth->mu);
    if (store_sessions_expire(a->store, now - idle, now - max, &n) == LB_OK &&
        n)
      log_info("auth.purge", "removed %d ended session(s)", n);
  } else {
    pthread_mutex_unlock(&a->auth->mu);
  }
  memset(p, 0, sizeof *p);
  p->kind = PRINCIPAL_SESSION;
  p->admin = s.user.role == ROLE_ADMIN;
  snprintf(p->user_id, sizeof p->user_id, "%s", s.user.id);
  snprintf(p->username, sizeof p->username, "%s", s.user.username);
  snprintf(p->csrf, sizeof p->csrf, "%s", s.csrf);
  snprintf(p->token_hash, sizeof p->token_hash, "%s", hash);
  return 1;
}

/* ---- helpers ---------------------------------------------------------- */

static json_t *user_json(const struct user *u)
{
  char t[LB_ISO8601_LEN];
  clock_iso8601(u->created_at, t, sizeof t);
  return json_pack("{s:s, s:o, s:s, s:b, s:s}", "username", u->username, "name",
                   u->name[0] ? json_string(u->name) : json_null(), "role",
                   role_name(u->role), "disabled", u->disabled, "created_at",
                   t);
}

static json_t *session_json(struct api *a, const struct user *u,
                            const char *csrf)
{
  const struct config *c = a->cfg;
  return json_pack("{s:o, s:o, s:{s:s, s:s, s:s}, s:b}", "user",
                   u ? user_json(u) : json_null(), "csrf_token",
                   csrf ? json_string(csrf) : json_null(), "clinic", "name",
                   c->clinic_name, "number", c->number, "timezone", c->timezone,
                   "sim_phone", sim_settings(c)->enabled);
}

/* Hashes with the hashing slots held. */
static int hash_password(struct auth *au, const char *pw,
                         char out[LB_PWHASH_MAX])
{
  int rc;
  sem_wait(&au->hashing);
  rc = password_hash(pw, out);
  sem_post(&au->hashing);
  return rc;
}

static void lower(char *s)
{
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s - 'A' + 'a');
}

static int is_json(struct http_req *r)
{
  const char *ct = http_header(r, "Content-Type");
  return ct && strncmp(ct, "application/json", 16) == 0;
}

/* ---- POST/GET/DELETE /api/v1/session ---------------------------------- */

static void reply_locked(struct http_req *r, int64_t wait_ms)
{
  long secs = (long)((wait_ms + 999) / 1000), mins = (secs + 59) / 60;
  char ra[24];
  snprintf(ra, sizeof ra, "%ld", secs);
  if (secs < 90)
    http_reply_error(r, 429, "too_many_attempts",
                     "Too many failed sign-ins. Try again in %ld seconds.",
                     secs);
  else
    http_reply_error(r, 429, "too_many_attempts",
                     "Too many failed sign-ins. Try again in %ld minutes.",
                     mins);
  http_reply_header(r, "Retry-After", ra);
}

void h_session_create(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"username", "password", NULL};
  struct api *a = cls;
  struct auth *au = a->auth;
  json_t *body = NULL;
  const char *pw;
  char name[LB_USERNAME_MAX], ukey[LB_USERNAME_MAX + 8], ipkey[80];
  char token[TOKEN_MAX], csrf[TOKEN_MAX], hash[LB_SHA256_HEX];
  struct user u;
  int64_t now = clock_now_ms(), wait;
  int found, ok, rc;

  if (!is_json(r)) {
    /* Also what keeps a cross-site form from signing someone in: a form
     * cannot send JSON. */
    http_reply_error(r, 415, "unsupported_media_type",
                     "send {\"username\", \"password\"} as application/json");
    goto out;
  }
  if (!(body = api_json_object(r, fields)))
    goto out;
  if (!json_is_string(json_object_get(body, "username")) ||
      !json_is_string(json_object_get(body, "password"))) {
    http_reply_error(r, 400, "invalid_request",
                     "'username' and 'password' are required strings");
    goto out;
  }
  snprintf(name, sizeof name, "%s",
           json_string_value(json_object_get(body, "username")));
  lower(name);
  pw = json_string_value(json_object_get(body, "password"));
  snprintf(ukey, sizeof ukey, "u:%s", name);
  snprintf(ipkey, sizeof ipkey, "ip:%s", r->remote);

  if ((rc = throttles_wait(au, ukey, ipkey, now, &wait))) {
    api_store_error(r, rc);
    goto out;
  }
  if (wait) {
    log_event(LOG_WARN, "auth.locked",
              json_pack("{s:s, s:s}", "username", name, "remote", r->remote),
              "sign-in refused while locked");
    reply_locked(r, wait);
    goto out;
  }

  rc = store_user_get(a->store, name, &u);
  if (rc && rc != LB_ENOTFOUND) {
    api_store_error(r, rc);
    goto out;
  }
  found = rc == LB_OK && !u.disabled;
  sem_wait(&au->hashing);
  if (found) {
    ok = password_verify(u.password_hash, pw) == LB_OK;
  } else {
    /* The same Argon2id work as for a real account, so timing does not
     * tell which usernames exist. */
    pthread_mutex_lock(&au->mu);
    if (!au->have_dummy)
      au->have_dummy = password_hash("lyrebird-no-such-user", au->dummy) == 0;
    pthread_mutex_unlock(&au->mu);
    password_verify(au->dummy, pw);
    ok = 0;
  }
  sem_post(&au->hashing);
  if (!ok) {
    throttles_fail(au, ukey, ipkey, now);
    log_event(LOG_WARN, "auth.failed",
              json_pack("{s:s, s:s}", "username", name, "remote", r->remote),
              "failed sign-in");
    {
      struct gw_actor anon = {"anonymous", name, r->remote};
      gw_audit(a->gw, &anon, "signin.failed", NULL, name, NULL);
    }
    http_reply_error(r, 401, "invalid_login", "Wrong username or password.");
    goto out;
  }
  throttles_clear(au, ukey);

  crypto_token(token, sizeof token, TOKEN_BYTES);
  crypto_token(csrf, sizeof csrf, TOKEN_BYTES);
  crypto_sha256_hex(token, strlen(token), hash);
  if ((rc = store_session_create(a->store, hash, u.id, csrf, now))) {
    api_store_error(r, rc);
    goto out;
  }
  if (password_needs_rehash(u.password_hash)) {
    char fresh[LB_PWHASH_MAX];
    struct user_change ch = {fresh, NULL, -1, -1, 1};
    if (hash_password(au, pw, fresh) == LB_OK)
      store_user_update(a->store, u.username, &ch);
  }
  log_event(
      LOG_INFO, "auth.signed_in",
      json_pack("{s:s, s:s}", "username", u.username, "remote", r->remote),
      "signed in");
  {
    struct gw_actor me = {"user", u.username, r->remote};
    gw_audit(a->gw, &me, "signin", NULL, u.username, NULL);
  }
  http_reply_json(r, 200, session_json(a, &u, csrf));
  {
    char cookie[256];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s",
             AUTH_COOKIE, token, secure_cookie(a->cfg) ? "; Secure" : "");
    http_reply_header(r, "Set-Cookie", cookie);
  }
  sodium_memzero(token, sizeof token);
out:
  json_decref(body);
}

void h_session_get(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct user u;
  int rc;
  if (r->who.kind != PRINCIPAL_SESSION) { /* the API key: no person */
    http_reply_json(r, 200, session_json(a, NULL, NULL));
    return;
  }
  if ((rc = store_user_get(a->store, r->who.username, &u))) {
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200, session_json(a, &u, r->who.csrf));
}

void h_session_delete(void *cls, struct http_req *r)
{
  struct api *a = cls;
  char cookie[160];
  if (r->who.kind == PRINCIPAL_SESSION) {
    store_session_delete(a->store, r->who.token_hash);
    log_event(LOG_INFO, "auth.signed_out",
              json_pack("{s:s}", "username", r->who.username), "signed out");
  }
  http_reply_static(r, 204, "text/plain", "", 0);
  snprintf(cookie, sizeof cookie,
           "%s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0%s", AUTH_COOKIE,
           secure_cookie(a->cfg) ? "; Secure" : "");
  http_reply_header(r, "Set-Cookie", cookie);
}

/* ---- /api/v1/users (admin) -------------------------------------------- */

static enum lb_err on_user(void *arg, const struct user *u)
{
  return json_array_append_new(arg, user_json(u)) ? LB_ENOMEM : LB_OK;
}

void h_users_list(void *cls, struct http_req *r)
{
  struct api *a = cls;
  json_t *arr = json_array();
  int rc = store_users(a->store, on_user, arr);
  if (rc) {
    json_decref(arr);
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200, json_pack("{s:o}", "users", arr));
}

/* Checks the optional fields shared by create and update; answers itself
 * and returns LB_EINVAL on a bad one. */
static enum lb_err user_fields(struct http_req *r, json_t *body, int *role,
                               const char **name, const char **password)
{
  json_t *v;
  char why[200];
  enum user_role ro;
  if ((v = json_object_get(body, "role"))) {
    if (!json_is_string(v) || role_parse(json_string_value(v), &ro)) {
      http_reply_error(r, 422, "invalid_role",
                       "'role' is \"staff\" or \"admin\"");
      return LB_EINVAL;
    }
    *role = (int)ro;
  }
  if ((v = json_object_get(body, "name"))) {
    if (!json_is_string(v) && !json_is_null(v)) {
      http_reply_error(r, 400, "invalid_request", "'name' must be a string");
      return LB_EINVAL;
    }
    *name = json_is_null(v) ? "" : json_string_value(v);
    if (strlen(*name) >= LB_DISPLAY_MAX ||
        text_check(*name, strlen(*name), why, sizeof why)) {
      http_reply_error(r, 422, "invalid_name",
                       "a name is valid UTF-8 under %d bytes", LB_DISPLAY_MAX);
      return LB_EINVAL;
    }
  }
  if ((v = json_object_get(body, "password"))) {
    if (!json_is_string(v) ||
        password_check(json_string_value(v), why, sizeof why)) {
      http_reply_error(r, 422, "weak_password", "%s",
                       json_is_string(v) ? why : "'password' must be a string");
      return LB_EINVAL;
    }
    *password = json_string_value(v);
  }
  return LB_OK;
}

void h_users_create(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"username", "password", "role", "name",
                                       NULL};
  struct api *a = cls;
  json_t *body = api_json_object(r, fields), *v;
  const char *name = NULL, *password = NULL;
  int role = ROLE_STAFF, rc;
  char why[200];
  struct user u;

  if (!body)
    return;
  memset(&u, 0, sizeof u);
  v = json_object_get(body, "username");
  if (!json_is_string(v) ||
      username_check(json_string_value(v), why, sizeof why)) {
    http_reply_error(r, 422, "invalid_username", "%s",
                     json_is_string(v) ? why : "'username' is required");
    goto out;
  }
  if (user_fields(r, body, &role, &name, &password))
    goto out;
  if (!password) {
    http_reply_error(r, 422, "weak_password", "'password' is required");
    goto out;
  }
  snprintf(u.username, sizeof u.username, "%s", json_string_value(v));
  snprintf(u.name, sizeof u.name, "%s", name ? name : "");
  u.role = (enum user_role)role;
  if (hash_password(a->auth, password, u.password_hash)) {
    http_reply_error(r, 503, "overloaded", "out of memory; try again");
    goto out;
  }
  rc = store_user_add(a->store, &u);
  if (rc == LB_EDUPLICATE)
    http_reply_error(r, 409, "username_taken", "'%s' is already taken",
                     u.username);
  else if (rc)
    api_store_error(r, rc);
  else {
    struct gw_actor who;
    json_t *d = json_pack("{s:s}", "role", role_name(u.role));
    api_actor(r, &who);
    gw_audit(a->gw, &who, "user.created", NULL, u.username, d);
    json_decref(d);
    http_reply_json(r, 201, user_json(&u));
  }
out:
  json_decref(body);
}

void h_users_update(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"password", "role", "name", "disabled",
                                       NULL};
  struct api *a = cls;
  json_t *body = api_json_object(r, fields), *v;
  const char *name = NULL, *password = NULL, *who = r->params[0];
  char hash[LB_PWHASH_MAX];
  struct user_change ch = {NULL, NULL, -1, -1, 0};
  struct user u;
  int role = -1, rc;

  if (!body)
    return;
  if (user_fields(r, body, &role, &name, &password))
    goto out;
  if ((v = json_object_get(body, "disabled"))) {
    if (!json_is_boolean(v)) {
      http_reply_error(r, 400, "invalid_request",
                       "'disabled' must be true or false");
      goto out;
    }
    ch.disabled = json_is_true(v);
  }
  if (r->who.kind == PRINCIPAL_SESSION && strcmp(r->who.username, who) == 0 &&
      (ch.disabled == 1 || role == ROLE_STAFF)) {
    http_reply_error(r, 409, "own_account",
                     "you cannot disable or demote your own account; ask "
                     "another admin");
    goto out;
  }
  if (password) {
    if (hash_password(a->auth, password, hash)) {
      http_reply_error(r, 503, "overloaded", "out of memory; try again");
      goto out;
    }
    ch.password_hash = hash;
  }
  ch.name = name;
  ch.role = role;
  rc = store_user_update(a->store, who, &ch);
  if (rc == LB_ENOTFOUND)
    http_reply_error(r, 404, "not_found", "no user '%s'", who);
  else if (rc || (rc = store_user_get(a->store, who, &u)))
    api_store_error(r, rc);
  else {
    struct gw_actor by;
    json_t *d = json_pack(
        "{s:b, s:b, s:b, s:b}", "password", ch.password_hash != NULL, "role",
        ch.role >= 0, "name", ch.name != NULL, "disabled", ch.disabled >= 0);
    api_actor(r, &by);
    gw_audit(a->gw, &by, "user.changed", NULL, u.username, d);
    json_decref(d);
    http_reply_json(r, 200, user_json(&u));
  }
out:
  json_decref(body);
}

/* ---- GET /api/v1/settings (admin) -------------------------------------- */

/* What the gateway runs with, for an admin to read. Settings live in the
 * configuration file (an operator's change, with a restart); no secret is
 * ever shown here. */
void h_settings_get(void *cls, struct http_req *r)
{
  struct api *a = cls;
  const struct config *c = a->cfg;
  const struct provider_caps *k = &a->gw->providers.host.caps;
  http_reply_json(
      r, 200,
      json_pack(
          "{s:{s:s, s:s, s:s, s:s, s:s}, s:{s:b, s:b, s:b, s:b, s:i}, "
          "s:{s:s}, s:{s:i, s:i}, s:{s:i, s:i, s:i, s:i, s:i}, "
          "s:{s:i, s:i}, s:{s:b}, s:s}",
          "clinic", "name", c->clinic_name, "number", c->number, "host",
          c->host, "region", c->region, "timezone", c->timezone, "host_can",
          "sms_out", k->sms_out, "sms_in", k->sms_in, "mms_out", k->mms_out,
          "mms_in", k->mms_in, "mms_max_bytes", k->mms_max_bytes, "server",
          "public_url", c->public_url, "media", "max_bytes", c->media_max_bytes,
          "max_items", c->media_max_items, "web", "session_idle_minutes",
          c->session_idle_minutes, "session_max_hours", c->session_max_hours,
          "login_max_failures", c->login_max_failures, "login_lockout_seconds",
          c->login_lockout_seconds, "login_ip_max_failures",
          c->login_ip_max_failures, "outbox", "workers", c->workers,
          "max_attempts", c->max_attempts, "sim", "enabled",
          sim_settings(c)->enabled, "config_file", c->path));
}
