/* The audit log: appended in the transaction of what it records, each row
 * chained to the one before by its hash (core/audit.h). */
#include <stdio.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"

#define AUDIT_COLS                                                             \
  "seq, id, at, actor_kind, actor, action, patient_e164, subject, detail, "    \
  "ip, prev_hash, hash"

static void row_to_audit(struct dbst *st, struct audit_entry *e)
{
  memset(e, 0, sizeof *e);
  e->seq = db_int(st, 0);
  db_text(st, 1, e->id, sizeof e->id);
  e->at = db_int(st, 2);
  db_text(st, 3, e->actor_kind, sizeof e->actor_kind);
  db_text(st, 4, e->actor, sizeof e->actor);
  db_text(st, 5, e->action, sizeof e->action);
  db_text(st, 6, e->patient, sizeof e->patient);
  db_text(st, 7, e->subject, sizeof e->subject);
  db_text(st, 8, e->detail, sizeof e->detail);
  db_text(st, 9, e->ip, sizeof e->ip);
  db_text(st, 10, e->prev_hash, sizeof e->prev_hash);
  db_text(st, 11, e->hash, sizeof e->hash);
}

enum lb_err store_tx_audit(struct store_tx *tx, struct audit_entry *e)
{
  static const char last_sql[] =
      "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
  static const char ins[] = "INSERT INTO audit_log(" AUDIT_COLS
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  struct dbc *c = tx_conn(tx);
  struct dbst *st;
  enum lb_err rc;
  /* Each row chains to the one before: concurrent writers take turns. */
  if ((rc = db_lock(c, DB_LOCK_AUDIT)))
    return rc;
  st = DB_Q0(c, last_sql);
  e->seq = 1;
  snprintf(e->prev_hash, sizeof e->prev_hash, "%s", AUDIT_GENESIS);
  if (db_next(st)) {
    e->seq = db_int(st, 0) + 1;
    db_text(st, 1, e->prev_hash, sizeof e->prev_hash);
  }
  if ((rc = db_end(st)))
    return rc;
  id_new(e->id);
  if (!e->at)
    e->at = clock_now_ms();
  audit_hash(e, e->hash);
  return DB_EXEC(c, ins, DB_INT(e->seq), DB_TEXT(e->id), DB_INT(e->at),
                 DB_TEXT(e->actor_kind), DB_TEXT0(e->actor), DB_TEXT(e->action),
                 DB_TEXT0(e->patient), DB_TEXT0(e->subject),
                 DB_TEXT0(e->detail), DB_TEXT0(e->ip), DB_TEXT(e->prev_hash),
                 DB_TEXT(e->hash));
}

static enum lb_err audit_tx(struct store_tx *tx, void *arg)
{
  return store_tx_audit(tx, arg);
}

enum lb_err store_audit(struct store *s, struct audit_entry *e)
{
  return db_write(s, audit_tx, e);
}

enum lb_err store_audit_list(struct store *s, const char *patient,
                             int64_t since, int64_t after_seq, int limit,
                             store_audit_cb cb, void *arg)
{
  static const char sql[] =
      "SELECT " AUDIT_COLS " FROM audit_log WHERE (CAST(? AS TEXT) IS NULL "
      "OR patient_e164 = ?) AND at >= ? AND seq > ? ORDER BY seq LIMIT ?";
  const char *p = patient && *patient ? patient : NULL;
  struct dbst *st;
  struct audit_entry e;
  enum lb_err rc = LB_OK, end;
  if (limit <= 0 || limit > 10000)
    limit = 10000;
  st = DB_Q(db_reader(s), sql, DB_TEXT(p), DB_TEXT(p), DB_INT(since),
            DB_INT(after_seq), DB_INT(limit));
  while (!rc && db_next(st)) {
    row_to_audit(st, &e);
    rc = cb(arg, &e);
  }
  end = db_end(st);
  return rc ? rc : end;
}

enum lb_err store_audit_verify(struct store *s, int64_t *rows,
                               struct audit_entry *bad, char *why,
                               size_t whylen)
{
  static const char sql[] = "SELECT " AUDIT_COLS " FROM audit_log ORDER BY seq";
  struct dbst *st = DB_Q0(db_reader(s), sql);
  struct audit_entry e;
  char prev[AUDIT_HASH_HEX] = AUDIT_GENESIS, want[AUDIT_HASH_HEX];
  int64_t expect = 1;
  enum lb_err rc = LB_OK, end;
  *rows = 0;
  why[0] = '\0';
  while (!rc && db_next(st)) {
    row_to_audit(st, &e);
    if (e.seq != expect) {
      snprintf(why, whylen, "row %lld follows row %lld: a row is missing",
               (long long)e.seq, (long long)expect - 1);
      rc = LB_ESIGNATURE;
    } else if (strcmp(e.prev_hash, prev) != 0) {
      snprintf(why, whylen,
               "row %lld does not carry the hash of row %lld before it",
               (long long)e.seq, (long long)e.seq - 1);
      rc = LB_ESIGNATURE;
    } else {
      audit_hash(&e, want);
      if (strcmp(want, e.hash) != 0) {
        snprintf(why, whylen,
                 "row %lld (%s, %s) was changed: its content no longer "
                 "matches its hash",
                 (long long)e.seq, e.id, e.action);
        rc = LB_ESIGNATURE;
      }
    }
    if (rc) {
      *bad = e;
      break;
    }
    snprintf(prev, sizeof prev, "%s", e.hash);
    expect++;
    (*rows)++;
  }
  end = db_end(st);
  return rc ? rc : end;
}
