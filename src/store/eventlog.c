/* The event log (events): one row per change the clinic's app may hear
 * about, in commit order; see store.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"
#include "util/id.h"

void event_row_release(struct event_row *e)
{
  free(e->payload);
  e->payload = NULL;
}

static enum lb_err read_counter(struct dbc *c, long long *out)
{
  static const char sql[] = "SELECT n FROM event_counter";
  struct dbst *st = DB_Q0(c, sql);
  int found = db_next(st);
  enum lb_err rc;
  *out = found ? db_int(st, 0) : 0;
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_EDB;
}

enum lb_err store_tx_event_append(struct store_tx *tx, struct event_row *e)
{
  static const char bump[] = "UPDATE event_counter SET n = n + 1";
  static const char ins[] =
      "INSERT INTO events(seq, id, type, patient_e164, message_id, subject, "
      "payload, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
  static const char changed[] =
      "UPDATE messages SET change_seq = ? WHERE id = ?";
  struct dbc *c = tx_conn(tx);
  enum lb_err rc;

  if ((rc = db_exec_args(c, bump, NULL, 0)) || (rc = read_counter(c, &e->seq)))
    return rc;
  if (!e->id[0]) {
    char id[LB_ID_SIZE];
    id_new(id);
    snprintf(e->id, sizeof e->id, "evt_%s", id);
  }
  if (!e->at)
    e->at = clock_now_ms();
  if ((rc = DB_EXEC(c, ins, DB_INT(e->seq), DB_TEXT(e->id), DB_TEXT(e->type),
                    DB_TEXT0(e->patient), DB_TEXT0(e->message_id),
                    DB_TEXT0(e->subject), DB_TEXT(e->payload),
                    DB_INT(e->at))))
    return rc;
  if (e->message_id[0])
    rc = DB_EXEC(c, changed, DB_INT(e->seq), DB_TEXT(e->message_id));
  return rc;
}

enum lb_err store_events_after(struct store *s, long long after, int limit,
                               store_event_row_cb cb, void *arg)
{
  static const char sql[] =
      "SELECT seq, id, type, patient_e164, message_id, subject, payload, at "
      "FROM events WHERE seq > ? ORDER BY seq LIMIT ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_INT(after), DB_INT(limit));
  enum lb_err rc = LB_OK, end;
  while (!rc && db_next(st)) {
    struct event_row e;
    memset(&e, 0, sizeof e);
    e.seq = db_int(st, 0);
    db_text(st, 1, e.id, sizeof e.id);
    db_text(st, 2, e.type, sizeof e.type);
    db_text(st, 3, e.patient, sizeof e.patient);
    db_text(st, 4, e.message_id, sizeof e.message_id);
    db_text(st, 5, e.subject, sizeof e.subject);
    /* Borrowed from the row: valid until the next step. */
    e.payload = (char *)db_str(st, 6);
    e.at = db_int(st, 7);
    rc = cb(arg, &e);
  }
  end = db_end(st);
  return rc ? rc : end;
}

enum lb_err store_event_last_seq(struct store *s, long long *out)
{
  return read_counter(db_reader(s), out);
}

enum lb_err store_event_seq_before(struct store *s, int64_t at, long long *out)
{
  static const char sql[] =
      "SELECT seq FROM events WHERE at >= ? ORDER BY seq LIMIT 1";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_INT(at));
  int found = db_next(st);
  long long seq = found ? db_int(st, 0) : 0;
  enum lb_err rc = db_end(st);
  if (rc)
    return rc;
  if (!found) /* nothing since: from the end */
    return store_event_last_seq(s, out);
  *out = seq - 1;
  return LB_OK;
}

struct prune_arg {
  int64_t before;
  int limit, n;
};

static enum lb_err prune_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE at < ? "
      "ORDER BY seq LIMIT ?)";
  struct prune_arg *a = arg;
  enum lb_err rc =
      DB_EXEC(tx_conn(tx), sql, DB_INT(a->before), DB_INT(a->limit));
  a->n = rc ? 0 : (int)db_changes(tx_conn(tx));
  return rc;
}

enum lb_err store_events_prune(struct store *s, int64_t before, int limit,
                               int *n)
{
  struct prune_arg a = {before, limit, 0};
  enum lb_err rc = db_write(s, prune_tx, &a);
  *n = a.n;
  return rc;
}

enum lb_err store_messages_changed(struct store *s, long long after, int limit,
                                   store_change_cb cb, void *arg)
{
  static const char sql[] = "SELECT " DB_MSG_COLS ", m.change_seq FROM "
                            "messages m WHERE m.change_seq > ? ORDER BY "
                            "m.change_seq LIMIT ?";
  struct dbc *c = db_reader(s);
  struct dbst *st = DB_Q(c, sql, DB_INT(after), DB_INT(limit));
  struct message m;
  enum lb_err rc = LB_OK, end;
  message_init(&m);
  while (!rc && db_next(st)) {
    long long seq = db_int(st, DB_MSG_NCOLS);
    if (!(rc = db_row_message(c, st, 0, &m)))
      rc = cb(arg, &m, seq);
  }
  message_release(&m);
  end = db_end(st);
  return rc ? rc : end;
}
