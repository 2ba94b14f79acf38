/* The SQLite backend of store.h: staff accounts and sign-in sessions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/message.h"
#include "store/sqlite_int.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

#define USER_COLS                                                              \
  "u.id, u.username, u.display_name, u.role, u.password_hash, "                \
  "u.disabled_at IS NOT NULL, u.created_at, u.updated_at"

static void row_to_user(sqlite3_stmt *st, int col, struct user *u)
{
  char role[16];
  memset(u, 0, sizeof *u);
  sq_ct(st, col, u->id, sizeof u->id);
  sq_ct(st, col + 1, u->username, sizeof u->username);
  sq_ct(st, col + 2, u->name, sizeof u->name);
  sq_ct(st, col + 3, role, sizeof role);
  if (role_parse(role, &u->role))
    u->role = ROLE_STAFF;
  sq_ct(st, col + 4, u->password_hash, sizeof u->password_hash);
  u->disabled = sqlite3_column_int(st, col + 5);
  u->created_at = sqlite3_column_int64(st, col + 6);
  u->updated_at = sqlite3_column_int64(st, col + 7);
}

/* ---- users ------------------------------------------------------------ */

static int user_add_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "INSERT INTO users(id, username, display_name, role, password_hash, "
      "disabled_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (username) DO NOTHING";
  struct user *u = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  int rc;
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, u->id);
  sq_bt(st, 2, u->username);
  sq_bt0(st, 3, u->name);
  sq_bt(st, 4, role_name(u->role));
  sq_bt(st, 5, u->password_hash);
  if (u->disabled)
    sq_bi(st, 6, u->created_at);
  else
    sqlite3_bind_null(st, 6);
  sq_bi(st, 7, u->created_at);
  sq_bi(st, 8, u->created_at);
  rc = sq_step_done(c, st);
  if (!rc && sqlite3_changes(c->db) == 0)
    rc = LB_EDUPLICATE;
  return rc;
}

int store_user_add(struct store *s, struct user *u)
{
  id_new(u->id);
  u->created_at = u->updated_at = clock_now_ms();
  return sq_write_tx(s, user_add_job, u);
}

int store_user_get(struct store *s, const char *username, struct user *out)
{
  static const char sql[] =
      "SELECT " USER_COLS " FROM users u WHERE u.username = ?";
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, username);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    row_to_user(st, 0, out);
    rc = LB_OK;
  } else {
    rc = rc == SQLITE_DONE ? LB_ENOTFOUND : LB_EDB;
  }
  sqlite3_reset(st);
  return rc;
}

int store_users(struct store *s, store_user_cb cb, void *arg)
{
  static const char sql[] =
      "SELECT " USER_COLS " FROM users u ORDER BY u.username";
  struct conn *c = sq_rconn(s);
  struct user *all = NULL, u;
  size_t n = 0, cap = 0;
  sqlite3_stmt *st;
  int rc = LB_OK, step;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  /* Collected first: the callback may use the store on this thread. */
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      struct user *grown = realloc(all, ncap * sizeof *all);
      if (!grown) {
        rc = LB_ENOMEM;
        break;
      }
      all = grown;
      cap = ncap;
    }
    row_to_user(st, 0, &u);
    all[n++] = u;
  }
  if (!rc && step != SQLITE_DONE)
    rc = LB_EDB;
  sqlite3_reset(st);
  for (size_t i = 0; i < n && !rc; i++)
    rc = cb(arg, &all[i]);
  free(all);
  return rc;
}

struct update_arg {
  const char *username;
  const struct user_change *ch;
};

static int user_update_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "UPDATE users SET "
      "password_hash = COALESCE(?, password_hash), "
      "display_name = CASE WHEN ? THEN ? ELSE display_name END, "
      "role = COALESCE(?, role), "
      "disabled_at = CASE ? WHEN 1 THEN COALESCE(disabled_at, ?) "
      "  WHEN 0 THEN NULL ELSE disabled_at END, "
      "updated_at = ? WHERE username = ? RETURNING id";
  static const char end_sql[] = "DELETE FROM sessions WHERE user_id = ?";
  struct update_arg *a = arg;
  const struct user_change *ch = a->ch;
  sqlite3_stmt *st = sq_stmt(c, sql);
  char id[LB_ID_SIZE] = "";
  int64_t now = clock_now_ms();
  int rc;
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, ch->password_hash);
  sq_bi(st, 2, ch->name != NULL);
  sq_bt0(st, 3, ch->name);
  sq_bt(st, 4, ch->role < 0 ? NULL : role_name((enum user_role)ch->role));
  sq_bi(st, 5, ch->disabled);
  sq_bi(st, 6, now);
  sq_bi(st, 7, now);
  sq_bt(st, 8, a->username);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    sq_ct(st, 0, id, sizeof id);
  rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? LB_OK : LB_EDB;
  sqlite3_reset(st);
  if (rc)
    return rc;
  if (!id[0])
    return LB_ENOTFOUND;
  if ((ch->password_hash && !ch->rehash) || ch->disabled == 1) {
    if (!(st = sq_stmt(c, end_sql)))
      return LB_EDB;
    sq_bt(st, 1, id);
    rc = sq_step_done(c, st);
  }
  return rc;
}

int store_user_update(struct store *s, const char *username,
                      const struct user_change *ch)
{
  struct update_arg a = {username, ch};
  return sq_write_tx(s, user_update_job, &a);
}

/* ---- sessions --------------------------------------------------------- */

struct session_arg {
  const char *hash, *user_id, *csrf;
  int64_t now;
};

static int session_create_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "INSERT INTO sessions(token_sha256, user_id, csrf_token, created_at, "
      "last_seen_at) VALUES (?, ?, ?, ?, ?)";
  struct session_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, a->hash);
  sq_bt(st, 2, a->user_id);
  sq_bt(st, 3, a->csrf);
  sq_bi(st, 4, a->now);
  sq_bi(st, 5, a->now);
  return sq_step_done(c, st);
}

int store_session_create(struct store *s, const char *token_hash,
                         const char *user_id, const char *csrf, int64_t now)
{
  struct session_arg a = {token_hash, user_id, csrf, now};
  return sq_write_tx(s, session_create_job, &a);
}

int store_session_get(struct store *s, const char *token_hash,
                      struct session *out)
{
  static const char sql[] =
      "SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, " USER_COLS
      " FROM sessions s JOIN users u ON u.id = s.user_id "
      "WHERE s.token_sha256 = ?";
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, token_hash);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    sq_ct(st, 0, out->user_id, sizeof out->user_id);
    sq_ct(st, 1, out->csrf, sizeof out->csrf);
    out->created_at = sqlite3_column_int64(st, 2);
    out->last_seen_at = sqlite3_column_int64(st, 3);
    row_to_user(st, 4, &out->user);
    rc = LB_OK;
  } else {
    rc = rc == SQLITE_DONE ? LB_ENOTFOUND : LB_EDB;
  }
  sqlite3_reset(st);
  return rc;
}

static int session_touch_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "UPDATE sessions SET last_seen_at = ? WHERE token_sha256 = ?";
  struct session_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  if (!st)
    return LB_EDB;
  sq_bi(st, 1, a->now);
  sq_bt(st, 2, a->hash);
  return sq_step_done(c, st);
}

int store_session_touch(struct store *s, const char *token_hash, int64_t now)
{
  struct session_arg a = {token_hash, NULL, NULL, now};
  return sq_write_tx(s, session_touch_job, &a);
}

static int session_delete_job(struct conn *c, void *arg)
{
  static const char sql[] = "DELETE FROM sessions WHERE token_sha256 = ?";
  struct session_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, a->hash);
  return sq_step_done(c, st);
}

int store_session_delete(struct store *s, const char *token_hash)
{
  struct session_arg a = {token_hash, NULL, NULL, 0};
  return sq_write_tx(s, session_delete_job, &a);
}

struct expire_arg {
  int64_t idle_before, created_before;
  int n;
};

static int expire_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?";
  struct expire_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  int rc;
  if (!st)
    return LB_EDB;
  sq_bi(st, 1, a->idle_before);
  sq_bi(st, 2, a->created_before);
  rc = sq_step_done(c, st);
  a->n = rc ? 0 : sqlite3_changes(c->db);
  return rc;
}

int store_sessions_expire(struct store *s, int64_t idle_before,
                          int64_t created_before, int *n)
{
  struct expire_arg a = {idle_before, created_before, 0};
  int rc = sq_write_tx(s, expire_job, &a);
  if (n)
    *n = a.n;
  return rc;
}
