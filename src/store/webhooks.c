/* Webhook endpoints, their delivery state and every attempt (see
 * store.h). */
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"
#include "util/id.h"

#define EP_COLS                                                                \
  "id, url, description, events, enabled, disabled_reason, secret, "           \
  "old_secret, old_secret_until, cursor_seq, attempts, next_at, "              \
  "failing_since, created_at, updated_at, rewinds"

static void row_endpoint(struct dbst *st, struct webhook_endpoint *e)
{
  memset(e, 0, sizeof *e);
  db_text(st, 0, e->id, sizeof e->id);
  db_text(st, 1, e->url, sizeof e->url);
  db_text(st, 2, e->description, sizeof e->description);
  db_text(st, 3, e->events, sizeof e->events);
  e->enabled = (int)db_int(st, 4);
  db_text(st, 5, e->disabled_reason, sizeof e->disabled_reason);
  db_text(st, 6, e->secret, sizeof e->secret);
  db_text(st, 7, e->old_secret, sizeof e->old_secret);
  e->old_secret_until = db_int(st, 8);
  e->cursor = db_int(st, 9);
  e->attempts = (int)db_int(st, 10);
  e->next_at = db_int(st, 11);
  e->failing_since = db_int(st, 12);
  e->created_at = db_int(st, 13);
  e->updated_at = db_int(st, 14);
  e->rewinds = (int)db_int(st, 15);
}

static enum lb_err add_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "INSERT INTO webhook_endpoints(" EP_COLS ") VALUES "
      "(?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, 0, 0, NULL, ?, ?, 0)";
  static const char last[] = "SELECT n FROM event_counter";
  const struct webhook_endpoint *e = arg;
  struct dbc *c = tx_conn(tx);
  /* A new endpoint hears what happens from now on (a replay reaches
   * back). */
  struct dbst *st = DB_Q0(c, last);
  long long cursor = db_next(st) ? db_int(st, 0) : 0;
  enum lb_err rc = db_end(st);
  if (rc)
    return rc;
  return DB_EXEC(c, sql, DB_TEXT(e->id), DB_TEXT(e->url),
                 DB_TEXT0(e->description), DB_TEXT(e->events),
                 DB_INT(e->enabled), DB_TEXT0(e->disabled_reason),
                 DB_TEXT(e->secret), DB_INT(cursor), DB_INT(e->created_at),
                 DB_INT(e->updated_at));
}

enum lb_err store_webhook_add(struct store *s, const struct webhook_endpoint *e)
{
  return db_write(s, add_tx, (void *)e);
}

enum lb_err store_webhook_get(struct store *s, const char *id,
                              struct webhook_endpoint *out)
{
  static const char sql[] = "SELECT " EP_COLS " FROM webhook_endpoints WHERE "
                            "id = ? AND removed_at IS NULL";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(id));
  int found = db_next(st);
  enum lb_err rc;
  if (found)
    row_endpoint(st, out);
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

enum lb_err store_webhook_list(struct store *s, store_webhook_cb cb, void *arg)
{
  static const char sql[] = "SELECT " EP_COLS " FROM webhook_endpoints WHERE "
                            "removed_at IS NULL ORDER BY id LIMIT 1000";
  struct dbst *st = DB_Q0(db_reader(s), sql);
  enum lb_err rc = LB_OK, end;
  while (!rc && db_next(st)) {
    struct webhook_endpoint e;
    row_endpoint(st, &e);
    rc = cb(arg, &e);
  }
  end = db_end(st);
  return rc ? rc : end;
}

static enum lb_err changed_one(struct dbc *c, enum lb_err rc)
{
  if (rc)
    return rc;
  return db_changes(c) ? LB_OK : LB_ENOTFOUND;
}

static enum lb_err update_tx(struct store_tx *tx, void *arg)
{
  /* Enabling an endpoint that was disabled starts its failures afresh. */
  static const char sql[] =
      "UPDATE webhook_endpoints SET url = ?, description = ?, events = ?, "
      "attempts = CASE WHEN enabled = 0 AND ? = 1 THEN 0 ELSE attempts END, "
      "next_at = CASE WHEN enabled = 0 AND ? = 1 THEN 0 ELSE next_at END, "
      "failing_since = CASE WHEN enabled = 0 AND ? = 1 THEN NULL ELSE "
      "failing_since END, enabled = ?, disabled_reason = ?, updated_at = ? "
      "WHERE id = ? AND removed_at IS NULL";
  const struct webhook_endpoint *e = arg;
  struct dbc *c = tx_conn(tx);
  return changed_one(
      c, DB_EXEC(c, sql, DB_TEXT(e->url), DB_TEXT0(e->description),
                 DB_TEXT(e->events), DB_INT(e->enabled), DB_INT(e->enabled),
                 DB_INT(e->enabled), DB_INT(e->enabled),
                 DB_TEXT0(e->enabled ? NULL : e->disabled_reason),
                 DB_INT(clock_now_ms()), DB_TEXT(e->id)));
}

enum lb_err store_webhook_update(struct store *s,
                                 const struct webhook_endpoint *e)
{
  return db_write(s, update_tx, (void *)e);
}

struct rotate_arg {
  const char *id, *secret;
  int64_t old_until;
};

static enum lb_err rotate_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "UPDATE webhook_endpoints SET old_secret = secret, old_secret_until = ?, "
      "secret = ?, updated_at = ? WHERE id = ? AND removed_at IS NULL";
  struct rotate_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  return changed_one(c, DB_EXEC(c, sql, DB_INT(a->old_until),
                                DB_TEXT(a->secret), DB_INT(clock_now_ms()),
                                DB_TEXT(a->id)));
}

enum lb_err store_webhook_rotate(struct store *s, const char *id,
                                 const char *secret, int64_t old_until)
{
  struct rotate_arg a = {id, secret, old_until};
  return db_write(s, rotate_tx, &a);
}

struct remove_arg {
  const char *id;
  int64_t at;
  long long seq;
};

static enum lb_err remove_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "UPDATE webhook_endpoints SET removed_at = ?, enabled = 0, secret = '', "
      "old_secret = NULL, updated_at = ? WHERE id = ? AND removed_at IS NULL";
  struct remove_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  return changed_one(
      c, DB_EXEC(c, sql, DB_INT(a->at), DB_INT(a->at), DB_TEXT(a->id)));
}

enum lb_err store_webhook_remove(struct store *s, const char *id, int64_t at)
{
  struct remove_arg a = {id, at, 0};
  return db_write(s, remove_tx, &a);
}

static enum lb_err rewind_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "UPDATE webhook_endpoints SET attempts = CASE WHEN cursor_seq > ? THEN "
      "0 ELSE attempts END, next_at = CASE WHEN cursor_seq > ? THEN 0 ELSE "
      "next_at END, cursor_seq = CASE WHEN cursor_seq > ? THEN ? ELSE "
      "cursor_seq END, rewinds = rewinds + 1, updated_at = ? WHERE id = ? "
      "AND removed_at IS NULL";
  struct remove_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  return changed_one(c, DB_EXEC(c, sql, DB_INT(a->seq), DB_INT(a->seq),
                                DB_INT(a->seq), DB_INT(a->seq),
                                DB_INT(clock_now_ms()), DB_TEXT(a->id)));
}

enum lb_err store_webhook_rewind(struct store *s, const char *id,
                                 long long seq)
{
  struct remove_arg a = {id, 0, seq};
  return db_write(s, rewind_tx, &a);
}

enum lb_err store_tx_webhook_batch(struct store_tx *tx,
                                   struct webhook_batch *b)
{
  static const char ins[] =
      "INSERT INTO webhook_attempts(id, endpoint_id, event_id, event_type, "
      "attempt, at, status, error, duration_ms, outcome) VALUES "
      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  static const char upd[] =
      "UPDATE webhook_endpoints SET cursor_seq = ?, attempts = ?, next_at = "
      "?, failing_since = ?, updated_at = ? WHERE id = ? AND rewinds = ? AND "
      "removed_at IS NULL";
  static const char off[] =
      "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, "
      "updated_at = ? WHERE id = ? AND removed_at IS NULL";
  struct dbc *c = tx_conn(tx);
  int64_t now = clock_now_ms();
  enum lb_err rc = LB_OK;
  b->stale = 0;
  for (size_t i = 0; i < b->n_attempts && !rc; i++) {
    struct webhook_attempt *a = &b->attempts[i];
    id_new(a->id);
    rc = DB_EXEC(c, ins, DB_TEXT(a->id), DB_TEXT(a->endpoint_id),
                 DB_TEXT(a->event_id), DB_TEXT(a->event_type),
                 DB_INT(a->attempt), DB_INT(a->at),
                 a->status ? DB_INT(a->status) : DB_NULL, DB_TEXT0(a->error),
                 DB_INT(a->duration_ms), DB_TEXT(a->outcome));
  }
  for (size_t i = 0; i < b->n_progress && !rc; i++) {
    const struct webhook_progress *p = &b->progress[i];
    if ((rc = DB_EXEC(c, upd, DB_INT(p->cursor), DB_INT(p->attempts),
                      DB_INT(p->next_at),
                      p->failing_since ? DB_INT(p->failing_since) : DB_NULL,
                      DB_INT(now), DB_TEXT(p->endpoint_id),
                      DB_INT(p->rewinds))))
      break;
    if (!db_changes(c))
      b->stale = 1;
    if (p->disable_reason[0])
      rc = DB_EXEC(c, off, DB_TEXT(p->disable_reason), DB_INT(now),
                   DB_TEXT(p->endpoint_id));
  }
  return rc;
}

enum lb_err store_webhook_attempts(struct store *s, const char *endpoint_id,
                                   int limit, store_attempt_cb cb, void *arg)
{
  static const char sql[] =
      "SELECT id, endpoint_id, event_id, event_type, attempt, at, status, "
      "error, duration_ms, outcome FROM webhook_attempts WHERE endpoint_id = "
      "? ORDER BY id DESC LIMIT ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(endpoint_id), DB_INT(limit));
  enum lb_err rc = LB_OK, end;
  while (!rc && db_next(st)) {
    struct webhook_attempt a;
    memset(&a, 0, sizeof a);
    db_text(st, 0, a.id, sizeof a.id);
    db_text(st, 1, a.endpoint_id, sizeof a.endpoint_id);
    db_text(st, 2, a.event_id, sizeof a.event_id);
    db_text(st, 3, a.event_type, sizeof a.event_type);
    a.attempt = (int)db_int(st, 4);
    a.at = db_int(st, 5);
    a.status = (int)db_int(st, 6);
    db_text(st, 7, a.error, sizeof a.error);
    a.duration_ms = (int)db_int(st, 8);
    db_text(st, 9, a.outcome, sizeof a.outcome);
    rc = cb(arg, &a);
  }
  end = db_end(st);
  return rc ? rc : end;
}

struct prune_arg {
  int64_t before;
  int limit, n;
};

static enum lb_err prune_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "DELETE FROM webhook_attempts WHERE id IN (SELECT id FROM "
      "webhook_attempts WHERE at < ? ORDER BY id LIMIT ?)";
  struct prune_arg *a = arg;
  enum lb_err rc =
      DB_EXEC(tx_conn(tx), sql, DB_INT(a->before), DB_INT(a->limit));
  a->n = rc ? 0 : (int)db_changes(tx_conn(tx));
  return rc;
}

enum lb_err store_webhook_attempts_prune(struct store *s, int64_t before,
                                         int limit, int *n)
{
  struct prune_arg a = {before, limit, 0};
  enum lb_err rc = db_write(s, prune_tx, &a);
  *n = a.n;
  return rc;
}
