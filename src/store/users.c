/* Staff accounts and their sign-in sessions. */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"

#define USER_COLS                                                              \
  "u.id, u.username, u.display_name, u.role, u.password_hash, "                \
  "CASE WHEN u.disabled_at IS NULL THEN 0 ELSE 1 END, u.created_at, "          \
  "u.updated_at"

static void row_to_user(struct dbst *st, int col, struct user *u)
{
  char role[16];
  memset(u, 0, sizeof *u);
  db_text(st, col, u->id, sizeof u->id);
  db_text(st, col + 1, u->username, sizeof u->username);
  db_text(st, col + 2, u->name, sizeof u->name);
  db_text(st, col + 3, role, sizeof role);
  if (role_parse(role, &u->role))
    u->role = ROLE_STAFF;
  db_text(st, col + 4, u->password_hash, sizeof u->password_hash);
  u->disabled = (int)db_int(st, col + 5);
  u->created_at = db_int(st, col + 6);
  u->updated_at = db_int(st, col + 7);
}

/* ---- users --------------------------------------------------------------- */

static enum lb_err user_add_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "INSERT INTO users(id, username, display_name, role, password_hash, "
      "disabled_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (username) DO NOTHING";
  struct user *u = arg;
  struct dbc *c = tx_conn(tx);
  enum lb_err rc =
      DB_EXEC(c, sql, DB_TEXT(u->id), DB_TEXT(u->username), DB_TEXT0(u->name),
              DB_TEXT(role_name(u->role)), DB_TEXT(u->password_hash),
              u->disabled ? DB_INT(u->created_at) : DB_NULL,
              DB_INT(u->created_at), DB_INT(u->created_at));
  return rc ? rc : db_changes(c) ? LB_OK : LB_EDUPLICATE;
}

enum lb_err store_user_add(struct store *s, struct user *u)
{
  id_new(u->id);
  u->created_at = u->updated_at = clock_now_ms();
  return db_write(s, user_add_tx, u);
}

enum lb_err store_user_get(struct store *s, const char *username,
                           struct user *out)
{
  static const char sql[] =
      "SELECT " USER_COLS " FROM users u WHERE u.username = ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(username));
  int found = db_next(st);
  enum lb_err rc;
  if (found)
    row_to_user(st, 0, out);
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

enum lb_err store_users(struct store *s, store_user_cb cb, void *arg)
{
  static const char sql[] =
      "SELECT " USER_COLS " FROM users u ORDER BY u.username";
  struct dbst *st = DB_Q0(db_reader(s), sql);
  struct user *all = NULL;
  size_t n = 0, cap = 0;
  enum lb_err rc = LB_OK, end;
  /* Collected first: the callback may use the store on this thread. */
  while (!rc && db_next(st)) {
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
    row_to_user(st, 0, &all[n++]);
  }
  end = db_end(st);
  if (!rc)
    rc = end;
  for (size_t i = 0; i < n && !rc; i++)
    rc = cb(arg, &all[i]);
  free(all);
  return rc;
}

struct update_arg {
  const char *username;
  const struct user_change *ch;
};

static enum lb_err user_update_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "UPDATE users SET "
      "password_hash = COALESCE(?, password_hash), "
      "display_name = CASE WHEN ? = 1 THEN ? ELSE display_name END, "
      "role = COALESCE(?, role), "
      "disabled_at = CASE ? WHEN 1 THEN COALESCE(disabled_at, ?) "
      "  WHEN 0 THEN NULL ELSE disabled_at END, "
      "updated_at = ? WHERE username = ? RETURNING id";
  static const char end_sql[] = "DELETE FROM sessions WHERE user_id = ?";
  struct update_arg *a = arg;
  const struct user_change *ch = a->ch;
  struct dbc *c = tx_conn(tx);
  char id[LB_ID_SIZE];
  int64_t now = clock_now_ms();
  enum lb_err rc = DB_ONE_TEXT(
      c, sql, id, sizeof id, DB_TEXT(ch->password_hash),
      DB_INT(ch->name != NULL), DB_TEXT0(ch->name),
      DB_TEXT(ch->role < 0 ? NULL : role_name((enum user_role)ch->role)),
      DB_INT(ch->disabled), DB_INT(now), DB_INT(now), DB_TEXT(a->username));
  if (rc)
    return rc;
  if ((ch->password_hash && !ch->rehash) || ch->disabled == 1)
    rc = DB_EXEC(c, end_sql, DB_TEXT(id));
  return rc;
}

enum lb_err store_user_update(struct store *s, const char *username,
                              const struct user_change *ch)
{
  struct update_arg a = {username, ch};
  return db_write(s, user_update_tx, &a);
}

/* ---- sessions ------------------------------------------------------------ */

struct session_arg {
  const char *hash, *user_id, *csrf;
  int64_t now;
};

static enum lb_err session_create_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "INSERT INTO sessions(token_sha256, user_id, csrf_token, created_at, "
      "last_seen_at) VALUES (?, ?, ?, ?, ?)";
  struct session_arg *a = arg;
  return DB_EXEC(tx_conn(tx), sql, DB_TEXT(a->hash), DB_TEXT(a->user_id),
                 DB_TEXT(a->csrf), DB_INT(a->now), DB_INT(a->now));
}

enum lb_err store_session_create(struct store *s, const char *token_hash,
                                 const char *user_id, const char *csrf,
                                 int64_t now)
{
  struct session_arg a = {token_hash, user_id, csrf, now};
  return db_write(s, session_create_tx, &a);
}

enum lb_err store_session_get(struct store *s, const char *token_hash,
                              struct session *out)
{
  static const char sql[] =
      "SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, " USER_COLS
      " FROM sessions s JOIN users u ON u.id = s.user_id "
      "WHERE s.token_sha256 = ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(token_hash));
  int found = db_next(st);
  enum lb_err rc;
  if (found) {
    db_text(st, 0, out->user_id, sizeof out->user_id);
    db_text(st, 1, out->csrf, sizeof out->csrf);
    out->created_at = db_int(st, 2);
    out->last_seen_at = db_int(st, 3);
    row_to_user(st, 4, &out->user);
  }
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

static enum lb_err session_touch_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "UPDATE sessions SET last_seen_at = ? WHERE token_sha256 = ?";
  struct session_arg *a = arg;
  return DB_EXEC(tx_conn(tx), sql, DB_INT(a->now), DB_TEXT(a->hash));
}

enum lb_err store_session_touch(struct store *s, const char *token_hash,
                                int64_t now)
{
  struct session_arg a = {token_hash, NULL, NULL, now};
  return db_write(s, session_touch_tx, &a);
}

static enum lb_err session_delete_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] = "DELETE FROM sessions WHERE token_sha256 = ?";
  struct session_arg *a = arg;
  return DB_EXEC(tx_conn(tx), sql, DB_TEXT(a->hash));
}

enum lb_err store_session_delete(struct store *s, const char *token_hash)
{
  struct session_arg a = {token_hash, NULL, NULL, 0};
  return db_write(s, session_delete_tx, &a);
}

struct expire_arg {
  int64_t idle_before, created_before;
  int n;
};

static enum lb_err expire_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?";
  struct expire_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  enum lb_err rc =
      DB_EXEC(c, sql, DB_INT(a->idle_before), DB_INT(a->created_before));
  a->n = rc ? 0 : (int)db_changes(c);
  return rc;
}

enum lb_err store_sessions_expire(struct store *s, int64_t idle_before,
                                  int64_t created_before, int *n)
{
  struct expire_arg a = {idle_before, created_before, 0};
  enum lb_err rc = db_write(s, expire_tx, &a);
  if (n)
    *n = a.n;
  return rc;
}
