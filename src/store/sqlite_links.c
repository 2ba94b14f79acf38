/* The SQLite backend of store.h: secure links to images and their audit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "util/clock.h"
#include "util/err.h"

static const char *const outcome_names[] = {
    "viewed", "wrong_answer", "expired", "revoked", "locked", "used_up"};

const char *link_outcome_name(enum link_outcome o)
{
  return (unsigned)o < sizeof outcome_names / sizeof outcome_names[0]
             ? outcome_names[o]
             : "unknown";
}

#define LINK_COLS                                                              \
  "id, token_sha256, message_id, patient_e164, expires_at, max_views, "        \
  "views, check_kind, check_hash, failures, COALESCE(locked_at, 0), "          \
  "COALESCE(revoked_at, 0), created_at, COALESCE(code_expires_at, 0), "        \
  "COALESCE(code_sent_at, 0), codes_sent"

static void row_to_link(sqlite3_stmt *st, struct link *l)
{
  memset(l, 0, sizeof *l);
  sq_ct(st, 0, l->id, sizeof l->id);
  sq_ct(st, 1, l->token_hash, sizeof l->token_hash);
  sq_ct(st, 2, l->message_id, sizeof l->message_id);
  sq_ct(st, 3, l->patient, sizeof l->patient);
  l->expires_at = sqlite3_column_int64(st, 4);
  l->max_views = sqlite3_column_int(st, 5);
  l->views = sqlite3_column_int(st, 6);
  sq_ct(st, 7, l->check, sizeof l->check);
  sq_ct(st, 8, l->check_hash, sizeof l->check_hash);
  l->failures = sqlite3_column_int(st, 9);
  l->locked_at = sqlite3_column_int64(st, 10);
  l->revoked_at = sqlite3_column_int64(st, 11);
  l->created_at = sqlite3_column_int64(st, 12);
  l->code_expires_at = sqlite3_column_int64(st, 13);
  l->code_sent_at = sqlite3_column_int64(st, 14);
  l->codes_sent = sqlite3_column_int(st, 15);
}

/* Runs a one-row SELECT of LINK_COLS bound to 'key'. */
static int get_one(struct conn *c, const char *sql, const char *key,
                   struct link *out)
{
  sqlite3_stmt *st;
  int rc;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, key);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    row_to_link(st, out);
    rc = LB_OK;
  } else {
    rc = rc == SQLITE_DONE ? LB_ENOTFOUND : LB_EDB;
  }
  sqlite3_reset(st);
  return rc;
}

int store_link_get(struct store *s, const char *id, struct link *out)
{
  static const char sql[] = "SELECT " LINK_COLS " FROM links WHERE id = ?";
  return get_one(sq_rconn(s), sql, id, out);
}

int store_link_by_token(struct store *s, const char *token_hash,
                        struct link *out)
{
  static const char sql[] =
      "SELECT " LINK_COLS " FROM links WHERE token_sha256 = ?";
  return get_one(sq_rconn(s), sql, token_hash, out);
}

int store_link_of_message(struct store *s, const char *message_id,
                          struct link *out)
{
  static const char sql[] = "SELECT " LINK_COLS " FROM links WHERE "
                            "message_id = ? ORDER BY id DESC LIMIT 1";
  return get_one(sq_rconn(s), sql, message_id, out);
}

int sq_link_insert(struct conn *c, const struct link *l)
{
  static const char sql[] =
      "INSERT INTO links(id, token_sha256, message_id, patient_e164, "
      "expires_at, max_views, check_kind, check_hash, created_at) VALUES "
      "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
  sqlite3_stmt *st = sq_stmt(c, sql);
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, l->id);
  sq_bt(st, 2, l->token_hash);
  sq_bt(st, 3, l->message_id);
  sq_bt(st, 4, l->patient);
  sq_bi(st, 5, l->expires_at);
  sq_bi(st, 6, l->max_views);
  sq_bt(st, 7, l->check);
  sq_bt0(st, 8, l->check_hash);
  sq_bi(st, 9, l->created_at);
  return sq_step_done(c, st);
}

static int add_job(struct conn *c, void *arg)
{
  return sq_link_insert(c, arg);
}

int store_link_add(struct store *s, const struct link *l)
{
  return sq_write_tx(s, add_job, (void *)l);
}

struct attempt_arg {
  const char *id, *ip, *ua;
  enum link_outcome o;
  int max_failures;
  struct link *after;
};

static int attempt_job(struct conn *c, void *arg)
{
  static const char view_sql[] =
      "UPDATE links SET views = views + 1 WHERE id = ?";
  static const char wrong_sql[] =
      "UPDATE links SET failures = failures + 1, locked_at = CASE WHEN "
      "failures + 1 >= ? THEN COALESCE(locked_at, ?) ELSE locked_at END "
      "WHERE id = ?";
  static const char audit_sql[] =
      "INSERT INTO link_views(id, link_id, at, ip, user_agent, outcome) "
      "VALUES (?, ?, ?, ?, ?, ?)";
  static const char get_sql[] = "SELECT " LINK_COLS " FROM links WHERE id = ?";
  struct attempt_arg *a = arg;
  sqlite3_stmt *st;
  char vid[LB_ID_SIZE];
  int64_t now = clock_now_ms();
  int rc;

  if (a->o == LINK_VIEWED || a->o == LINK_WRONG) {
    if (!(st = sq_stmt(c, a->o == LINK_VIEWED ? view_sql : wrong_sql)))
      return LB_EDB;
    if (a->o == LINK_VIEWED) {
      sq_bt(st, 1, a->id);
    } else {
      sq_bi(st, 1, a->max_failures);
      sq_bi(st, 2, now);
      sq_bt(st, 3, a->id);
    }
    if ((rc = sq_step_done(c, st)))
      return rc;
  }
  if (!(st = sq_stmt(c, audit_sql)))
    return LB_EDB;
  id_new(vid);
  sq_bt(st, 1, vid);
  sq_bt(st, 2, a->id);
  sq_bi(st, 3, now);
  sq_bt0(st, 4, a->ip);
  sq_bt0(st, 5, a->ua);
  sq_bt(st, 6, link_outcome_name(a->o));
  if ((rc = sq_step_done(c, st)))
    return rc;
  return a->after ? get_one(c, get_sql, a->id, a->after) : LB_OK;
}

int store_link_attempt(struct store *s, const char *id, enum link_outcome o,
                       int max_failures, const char *ip, const char *ua,
                       struct link *after)
{
  struct attempt_arg a = {id, ip, ua, o, max_failures, after};
  return sq_write_tx(s, attempt_job, &a);
}

struct code_arg {
  const char *id, *hash;
  int64_t expires_at, gap_ms;
  int max_codes;
};

static int code_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "UPDATE links SET check_hash = ?, code_expires_at = ?, code_sent_at = "
      "?, codes_sent = codes_sent + 1 WHERE id = ? AND codes_sent < ? AND "
      "(code_sent_at IS NULL OR code_sent_at <= ?)";
  struct code_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  int64_t now = clock_now_ms();
  int rc;
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, a->hash);
  sq_bi(st, 2, a->expires_at);
  sq_bi(st, 3, now);
  sq_bt(st, 4, a->id);
  sq_bi(st, 5, a->max_codes);
  sq_bi(st, 6, now - a->gap_ms);
  rc = sq_step_done(c, st);
  if (!rc && sqlite3_changes(c->db) == 0)
    rc = LB_ECONFLICT;
  return rc;
}

int store_link_set_code(struct store *s, const char *id, const char *hash,
                        int64_t expires_at, int64_t gap_ms, int max_codes)
{
  struct code_arg a = {id, hash, expires_at, gap_ms, max_codes};
  return sq_write_tx(s, code_job, &a);
}

struct revoke_arg {
  const char *id, *by;
};

static int revoke_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "UPDATE links SET revoked_at = COALESCE(revoked_at, ?), revoked_by = "
      "COALESCE(revoked_by, ?) WHERE id = ?";
  struct revoke_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  int rc;
  if (!st)
    return LB_EDB;
  sq_bi(st, 1, clock_now_ms());
  sq_bt0(st, 2, a->by);
  sq_bt(st, 3, a->id);
  rc = sq_step_done(c, st);
  if (!rc && sqlite3_changes(c->db) == 0)
    rc = LB_ENOTFOUND;
  return rc;
}

int store_link_revoke(struct store *s, const char *id, const char *by)
{
  struct revoke_arg a = {id, by};
  return sq_write_tx(s, revoke_job, &a);
}

int store_link_views(struct store *s, const char *id, store_view_cb cb,
                     void *arg)
{
  static const char sql[] =
      "SELECT at, ip, user_agent, outcome FROM "
      "link_views WHERE link_id = ? ORDER BY id LIMIT 1000";
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc = LB_OK;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, id);
  while (!rc && sqlite3_step(st) == SQLITE_ROW) {
    char ip[64], ua[256], outcome[24];
    sq_ct(st, 1, ip, sizeof ip);
    sq_ct(st, 2, ua, sizeof ua);
    sq_ct(st, 3, outcome, sizeof outcome);
    rc = cb(arg, sqlite3_column_int64(st, 0), ip, ua, outcome);
  }
  sqlite3_reset(st);
  return rc;
}
