/* API keys: stored as the SHA-256 of the whole key, found by their
 * visible prefix (see store.h). */
#include <string.h>

#include "store/backend.h"

#define KEY_COLS                                                               \
  "id, name, prefix, key_sha256, scopes, created_by, created_at, "             \
  "last_used_at, revoked_at, expires_at"

static void row_key(struct dbst *st, struct api_key *k)
{
  memset(k, 0, sizeof *k);
  db_text(st, 0, k->id, sizeof k->id);
  db_text(st, 1, k->name, sizeof k->name);
  db_text(st, 2, k->prefix, sizeof k->prefix);
  db_text(st, 3, k->sha256, sizeof k->sha256);
  db_text(st, 4, k->scopes, sizeof k->scopes);
  db_text(st, 5, k->created_by, sizeof k->created_by);
  k->created_at = db_int(st, 6);
  k->last_used_at = db_int(st, 7);
  k->revoked_at = db_int(st, 8);
  k->expires_at = db_int(st, 9);
}

static enum lb_err add_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "INSERT INTO api_keys(" KEY_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, NULL, "
      "NULL, ?)";
  const struct api_key *k = arg;
  return DB_EXEC(tx_conn(tx), sql, DB_TEXT(k->id), DB_TEXT(k->name),
                 DB_TEXT(k->prefix), DB_TEXT(k->sha256), DB_TEXT(k->scopes),
                 DB_TEXT0(k->created_by), DB_INT(k->created_at),
                 k->expires_at ? DB_INT(k->expires_at) : DB_NULL);
}

enum lb_err store_key_add(struct store *s, const struct api_key *k)
{
  return db_write(s, add_tx, (void *)k);
}

static enum lb_err one(struct store *s, const char *sql, const char *v,
                       struct api_key *out)
{
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(v));
  int found = db_next(st);
  enum lb_err rc;
  if (found)
    row_key(st, out);
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

enum lb_err store_key_by_prefix(struct store *s, const char *prefix,
                                struct api_key *out)
{
  static const char sql[] =
      "SELECT " KEY_COLS " FROM api_keys WHERE prefix = ?";
  return one(s, sql, prefix, out);
}

enum lb_err store_key_get(struct store *s, const char *id, struct api_key *out)
{
  static const char sql[] = "SELECT " KEY_COLS " FROM api_keys WHERE id = ?";
  return one(s, sql, id, out);
}

enum lb_err store_key_list(struct store *s, store_key_cb cb, void *arg)
{
  static const char sql[] =
      "SELECT " KEY_COLS " FROM api_keys ORDER BY id LIMIT 1000";
  struct dbst *st = DB_Q0(db_reader(s), sql);
  enum lb_err rc = LB_OK, end;
  while (!rc && db_next(st)) {
    struct api_key k;
    row_key(st, &k);
    rc = cb(arg, &k);
  }
  end = db_end(st);
  return rc ? rc : end;
}

struct stamp_arg {
  const char *id;
  int64_t at;
};

static enum lb_err revoke_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] = "UPDATE api_keys SET revoked_at = "
                            "COALESCE(revoked_at, ?) WHERE id = ?";
  struct stamp_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  enum lb_err rc = DB_EXEC(c, sql, DB_INT(a->at), DB_TEXT(a->id));
  return rc ? rc : db_changes(c) ? LB_OK : LB_ENOTFOUND;
}

enum lb_err store_key_revoke(struct store *s, const char *id, int64_t at)
{
  struct stamp_arg a = {id, at};
  return db_write(s, revoke_tx, &a);
}

static enum lb_err touch_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] = "UPDATE api_keys SET last_used_at = ? WHERE id = ?";
  struct stamp_arg *a = arg;
  return DB_EXEC(tx_conn(tx), sql, DB_INT(a->at), DB_TEXT(a->id));
}

enum lb_err store_key_touch(struct store *s, const char *id, int64_t at)
{
  struct stamp_arg a = {id, at};
  return db_write(s, touch_tx, &a);
}
