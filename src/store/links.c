/* Secure links to images, and the audit of every attempt to open one. */
#include <stdio.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"

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

static void row_to_link(struct dbst *st, struct link *l)
{
  memset(l, 0, sizeof *l);
  db_text(st, 0, l->id, sizeof l->id);
  db_text(st, 1, l->token_hash, sizeof l->token_hash);
  db_text(st, 2, l->message_id, sizeof l->message_id);
  db_text(st, 3, l->patient, sizeof l->patient);
  l->expires_at = db_int(st, 4);
  l->max_views = (int)db_int(st, 5);
  l->views = (int)db_int(st, 6);
  db_text(st, 7, l->check, sizeof l->check);
  db_text(st, 8, l->check_hash, sizeof l->check_hash);
  l->failures = (int)db_int(st, 9);
  l->locked_at = db_int(st, 10);
  l->revoked_at = db_int(st, 11);
  l->created_at = db_int(st, 12);
  l->code_expires_at = db_int(st, 13);
  l->code_sent_at = db_int(st, 14);
  l->codes_sent = (int)db_int(st, 15);
}

/* Runs a one-row SELECT of LINK_COLS bound to 'key'. */
static enum lb_err get_one(struct dbc *c, const char *sql, const char *key,
                           struct link *out)
{
  struct dbst *st = DB_Q(c, sql, DB_TEXT(key));
  int found = db_next(st);
  enum lb_err rc;
  if (found)
    row_to_link(st, out);
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

static const char link_by_id[] = "SELECT " LINK_COLS " FROM links WHERE id = ?";

enum lb_err store_link_get(struct store *s, const char *id, struct link *out)
{
  return get_one(db_reader(s), link_by_id, id, out);
}

enum lb_err store_link_by_token(struct store *s, const char *token_hash,
                                struct link *out)
{
  static const char sql[] =
      "SELECT " LINK_COLS " FROM links WHERE token_sha256 = ?";
  return get_one(db_reader(s), sql, token_hash, out);
}

static const char link_of_message[] = "SELECT " LINK_COLS " FROM links WHERE "
                                      "message_id = ? ORDER BY id DESC LIMIT 1";

enum lb_err store_link_of_message(struct store *s, const char *message_id,
                                  struct link *out)
{
  return get_one(db_reader(s), link_of_message, message_id, out);
}

enum lb_err store_tx_link_of_message(struct store_tx *tx,
                                     const char *message_id, struct link *out)
{
  return get_one(tx_conn(tx), link_of_message, message_id, out);
}

enum lb_err db_link_insert(struct dbc *c, const struct link *l)
{
  static const char sql[] =
      "INSERT INTO links(id, token_sha256, message_id, patient_e164, "
      "expires_at, max_views, check_kind, check_hash, created_at) VALUES "
      "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
  return DB_EXEC(c, sql, DB_TEXT(l->id), DB_TEXT(l->token_hash),
                 DB_TEXT(l->message_id), DB_TEXT(l->patient),
                 DB_INT(l->expires_at), DB_INT(l->max_views), DB_TEXT(l->check),
                 DB_TEXT0(l->check_hash), DB_INT(l->created_at));
}

static enum lb_err add_tx(struct store_tx *tx, void *arg)
{
  return db_link_insert(tx_conn(tx), arg);
}

enum lb_err store_link_add(struct store *s, const struct link *l)
{
  return db_write(s, add_tx, (void *)l);
}

struct attempt_arg {
  const char *id, *ip, *ua;
  enum link_outcome o;
  int max_failures;
  struct link *after;
};

static enum lb_err attempt_tx(struct store_tx *tx, void *arg)
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
  struct attempt_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  char vid[LB_ID_SIZE];
  int64_t now = clock_now_ms();
  enum lb_err rc = LB_OK;

  if (a->o == LINK_VIEWED)
    rc = DB_EXEC(c, view_sql, DB_TEXT(a->id));
  else if (a->o == LINK_WRONG)
    rc = DB_EXEC(c, wrong_sql, DB_INT(a->max_failures), DB_INT(now),
                 DB_TEXT(a->id));
  if (rc)
    return rc;
  id_new(vid);
  if ((rc = DB_EXEC(c, audit_sql, DB_TEXT(vid), DB_TEXT(a->id), DB_INT(now),
                    DB_TEXT0(a->ip), DB_TEXT0(a->ua),
                    DB_TEXT(link_outcome_name(a->o)))))
    return rc;
  return a->after ? get_one(c, link_by_id, a->id, a->after) : LB_OK;
}

enum lb_err store_link_attempt(struct store *s, const char *id,
                               enum link_outcome o, int max_failures,
                               const char *ip, const char *ua,
                               struct link *after)
{
  struct attempt_arg a = {id, ip, ua, o, max_failures, after};
  return db_write(s, attempt_tx, &a);
}

enum lb_err store_tx_link_attempt(struct store_tx *tx, const char *id,
                                  enum link_outcome o, int max_failures,
                                  const char *ip, const char *ua,
                                  struct link *after)
{
  struct attempt_arg a = {id, ip, ua, o, max_failures, after};
  return attempt_tx(tx, &a);
}

struct code_arg {
  const char *id, *hash;
  int64_t expires_at, gap_ms;
  int max_codes;
};

static enum lb_err code_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "UPDATE links SET check_hash = ?, code_expires_at = ?, code_sent_at = "
      "?, codes_sent = codes_sent + 1 WHERE id = ? AND codes_sent < ? AND "
      "(code_sent_at IS NULL OR code_sent_at <= ?)";
  struct code_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  int64_t now = clock_now_ms();
  enum lb_err rc =
      DB_EXEC(c, sql, DB_TEXT(a->hash), DB_INT(a->expires_at), DB_INT(now),
              DB_TEXT(a->id), DB_INT(a->max_codes), DB_INT(now - a->gap_ms));
  return rc ? rc : db_changes(c) ? LB_OK : LB_ECONFLICT;
}

enum lb_err store_link_set_code(struct store *s, const char *id,
                                const char *hash, int64_t expires_at,
                                int64_t gap_ms, int max_codes)
{
  struct code_arg a = {id, hash, expires_at, gap_ms, max_codes};
  return db_write(s, code_tx, &a);
}

enum lb_err store_tx_link_revoke(struct store_tx *tx, const char *id,
                                 const char *by, struct link *after)
{
  static const char sql[] =
      "UPDATE links SET revoked_at = COALESCE(revoked_at, ?), revoked_by = "
      "COALESCE(revoked_by, ?) WHERE id = ?";
  struct dbc *c = tx_conn(tx);
  enum lb_err rc =
      DB_EXEC(c, sql, DB_INT(clock_now_ms()), DB_TEXT0(by), DB_TEXT(id));
  if (rc)
    return rc;
  if (!db_changes(c))
    return LB_ENOTFOUND;
  return get_one(c, link_by_id, id, after);
}

enum lb_err store_link_views(struct store *s, const char *id, store_view_cb cb,
                             void *arg)
{
  static const char sql[] =
      "SELECT at, ip, user_agent, outcome FROM "
      "link_views WHERE link_id = ? ORDER BY id LIMIT 1000";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(id));
  enum lb_err rc = LB_OK, end;
  while (!rc && db_next(st)) {
    char ip[64], ua[256], outcome[24];
    db_text(st, 1, ip, sizeof ip);
    db_text(st, 2, ua, sizeof ua);
    db_text(st, 3, outcome, sizeof outcome);
    rc = cb(arg, db_int(st, 0), ip, ua, outcome);
  }
  end = db_end(st);
  return rc ? rc : end;
}
