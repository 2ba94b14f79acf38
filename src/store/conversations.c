/* The clinic's numbers, patients, and the conversations between them. */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- numbers and patients ------------------------------------------------ */

struct number_arg {
  const char *e164, *name, *host;
};

static enum lb_err number_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "INSERT INTO numbers(e164, name, host_provider, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (e164) DO UPDATE SET "
      "name = excluded.name, host_provider = excluded.host_provider, "
      "updated_at = excluded.updated_at";
  struct number_arg *a = arg;
  int64_t now = clock_now_ms();
  return DB_EXEC(tx_conn(tx), sql, DB_TEXT(a->e164), DB_TEXT(a->name),
                 DB_TEXT(a->host), DB_INT(now), DB_INT(now));
}

enum lb_err store_number_upsert(struct store *s, const char *e164,
                                const char *name, const char *host)
{
  struct number_arg a = {e164, name, host};
  return db_write(s, number_tx, &a);
}

struct patient_arg {
  const char *e164, *name;
};

static enum lb_err patient_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "INSERT INTO patients(e164, name, created_at, updated_at) "
      "VALUES (?, ?, ?, ?) ON CONFLICT (e164) DO UPDATE SET "
      "name = COALESCE(excluded.name, patients.name), "
      "updated_at = excluded.updated_at";
  struct patient_arg *a = arg;
  int64_t now = clock_now_ms();
  return DB_EXEC(tx_conn(tx), sql, DB_TEXT(a->e164), DB_TEXT(a->name),
                 DB_INT(now), DB_INT(now));
}

enum lb_err store_patient_upsert(struct store *s, const char *e164,
                                 const char *name)
{
  struct patient_arg a = {e164, name};
  return db_write(s, patient_tx, &a);
}

/* Sets one of a known patient's own fields with 'sql' ("UPDATE patients SET
 * <field> = ?, updated_at = ? WHERE e164 = ?"). */
static enum lb_err patient_field(struct store_tx *tx, const char *sql,
                                 const char *e164, const char *value)
{
  struct dbc *c = tx_conn(tx);
  enum lb_err rc =
      DB_EXEC(c, sql, DB_TEXT0(value), DB_INT(clock_now_ms()), DB_TEXT(e164));
  return rc ? rc : db_changes(c) ? LB_OK : LB_ENOTFOUND;
}

enum lb_err store_tx_patient_rename(struct store_tx *tx, const char *e164,
                                    const char *name)
{
  static const char sql[] =
      "UPDATE patients SET name = ?, updated_at = ? WHERE e164 = ?";
  return patient_field(tx, sql, e164, name);
}

enum lb_err store_tx_patient_set_dob(struct store_tx *tx, const char *e164,
                                     const char *dob)
{
  static const char sql[] =
      "UPDATE patients SET dob = ?, updated_at = ? WHERE e164 = ?";
  return patient_field(tx, sql, e164, dob);
}

enum lb_err store_patient_get(struct store *s, const char *e164,
                              struct patient_row *out)
{
  static const char sql[] =
      "SELECT e164, name, dob, created_at FROM patients WHERE e164 = ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(e164));
  int found = db_next(st);
  enum lb_err rc;
  memset(out, 0, sizeof *out);
  if (found) {
    db_text(st, 0, out->e164, sizeof out->e164);
    db_text(st, 1, out->name, sizeof out->name);
    db_text(st, 2, out->dob, sizeof out->dob);
    out->created_at = db_int(st, 3);
  }
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

enum lb_err store_patient_dob(struct store *s, const char *e164, char out[11])
{
  static const char sql[] =
      "SELECT dob FROM patients WHERE e164 = ? AND dob IS NOT NULL";
  return DB_ONE_TEXT(db_reader(s), sql, out, 11, DB_TEXT(e164));
}

/* ---- conversations ------------------------------------------------------- */

enum lb_err db_conversation_upsert(struct dbc *c, const char *number,
                                   const char *patient, const struct message *m,
                                   int unread_inc, int64_t now,
                                   char conv_id[LB_ID_SIZE])
{
  static const char pat_sql[] =
      "INSERT INTO patients(e164, created_at, updated_at) VALUES (?, ?, ?) "
      "ON CONFLICT (e164) DO NOTHING";
  static const char conv_sql[] =
      "INSERT INTO conversations(id, number_e164, patient_e164, "
      "last_message_id, last_message_at, unread_count, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (number_e164, patient_e164) "
      "DO UPDATE SET last_message_id = COALESCE(excluded.last_message_id, "
      "conversations.last_message_id), last_message_at = "
      "COALESCE(excluded.last_message_at, conversations.last_message_at), "
      "unread_count = conversations.unread_count + excluded.unread_count, "
      /* The patient wrote: a conversation that was done is open again. */
      "state = CASE WHEN excluded.unread_count > 0 THEN 'open' ELSE "
      "conversations.state END RETURNING id";
  char id[LB_ID_SIZE];
  enum lb_err rc;

  if ((rc = DB_EXEC(c, pat_sql, DB_TEXT(patient), DB_INT(now), DB_INT(now))))
    return rc;
  id_new(id);
  rc = DB_ONE_TEXT(c, conv_sql, conv_id, LB_ID_SIZE, DB_TEXT(id),
                   DB_TEXT(number), DB_TEXT(patient), DB_TEXT(m ? m->id : NULL),
                   m ? DB_INT(m->created_at) : DB_NULL, DB_INT(unread_inc),
                   DB_INT(now));
  return rc == LB_ENOTFOUND ? LB_EDB : rc;
}

/* A LIKE pattern "%q%" with % _ and \ escaped by \. */
static void like_pattern(const char *q, char *out, size_t n)
{
  size_t j = 0;
  out[j++] = '%';
  for (; *q && j + 3 < n; q++) {
    if (*q == '%' || *q == '_' || *q == '\\')
      out[j++] = '\\';
    out[j++] = *q;
  }
  out[j++] = '%';
  out[j] = '\0';
}

enum lb_err store_conversations(struct store *s, const char *number,
                                const char *query, const struct conv_filter *f,
                                int limit, store_conv_cb cb, void *arg)
{
  static const char sql[] =
      "SELECT c.number_e164, c.patient_e164, p.name, c.unread_count, "
      "c.last_message_id, p.opted_out_at, p.opt_out_source, c.state, "
      "c.assigned_to FROM conversations c JOIN patients p ON p.e164 = "
      "c.patient_e164 WHERE c.number_e164 = ? AND (CAST(? AS TEXT) IS NULL OR "
      "lower(p.name) LIKE lower(?) ESCAPE '\\' OR c.patient_e164 LIKE ? "
      "ESCAPE '\\') AND (CAST(? AS TEXT) IS NULL OR c.state = ?) AND "
      "(CAST(? AS TEXT) IS NULL OR COALESCE(c.assigned_to, '') = ?) ORDER BY "
      "COALESCE(c.last_message_at, c.created_at) DESC, "
      "c.id DESC LIMIT ?";
  char pat[300], fts[512] = "";
  struct dbc *c = db_reader(s);
  struct conversation_row *rows;
  char(*last_ids)[LB_ID_SIZE];
  struct dbst *st;
  int n = 0, has_q = query && *query;
  enum lb_err rc;

  if (limit <= 0 || limit > DB_LIST_MAX)
    limit = DB_LIST_MAX;
  rows = calloc((size_t)limit, sizeof *rows);
  last_ids = calloc((size_t)limit, sizeof *last_ids);
  if (!rows || !last_ids) {
    free(rows);
    free(last_ids);
    return LB_ENOMEM;
  }
  if (has_q) {
    like_pattern(query, pat, sizeof pat);
    if (db_search_terms(c, query, fts, sizeof fts))
      fts[0] = '\0'; /* too long to search the text: names only */
  }
  if (fts[0])
    st = DB_Q(c, db_search_list_sql(c), DB_TEXT(number), DB_TEXT(pat),
              DB_TEXT(fts), DB_INT(limit), DB_TEXT(f ? f->state : NULL),
              DB_TEXT(f ? f->assigned : NULL));
  else
    st = DB_Q(c, sql, DB_TEXT(number), DB_TEXT(has_q ? "1" : NULL),
              DB_TEXT(has_q ? pat : NULL), DB_TEXT(has_q ? pat : NULL),
              DB_TEXT(f ? f->state : NULL), DB_TEXT(f ? f->state : NULL),
              DB_TEXT(f ? f->assigned : NULL), DB_TEXT(f ? f->assigned : NULL),
              DB_INT(limit));
  while (db_next(st))
    if (n < limit) {
      struct conversation_row *r = &rows[n];
      db_text(st, 0, r->number, sizeof r->number);
      db_text(st, 1, r->patient, sizeof r->patient);
      r->has_name = !db_is_null(st, 2);
      db_text(st, 2, r->name, sizeof r->name);
      r->unread = (int)db_int(st, 3);
      db_text(st, 4, last_ids[n], LB_ID_SIZE);
      r->opted_out_at = db_is_null(st, 5) ? 0 : db_int(st, 5);
      db_text(st, 6, r->opt_out_words, sizeof r->opt_out_words);
      {
        /* The team's columns: after the match's in a search. */
        int tc = fts[0] ? DB_SEARCH_TEAM_COL : 7;
        char state[8];
        db_text(st, tc, state, sizeof state);
        if (conv_state_parse(state, &r->state))
          r->state = CONV_OPEN;
        db_text(st, tc + 1, r->assigned_to, sizeof r->assigned_to);
      }
      message_init(&r->last);
      if (fts[0]) {
        db_search_row(st, 7, &r->match);
        r->has_match = r->match.message_id[0] != '\0';
      }
      n++;
    }
  rc = db_end(st);
  /* The callbacks run once the list is read: they may use the store. */
  for (int i = 0; i < n && !rc; i++) {
    if (last_ids[i][0]) {
      rc = db_message_load(c, last_ids[i], &rows[i].last);
      rows[i].has_last = rc == LB_OK;
      if (rc == LB_ENOTFOUND)
        rc = LB_OK;
    }
    if (!rc && rows[i].has_match)
      rc = db_search_snippet(c, fts, &rows[i].match);
    if (!rc)
      rc = cb(arg, &rows[i]);
  }
  for (int i = 0; i < n; i++)
    message_release(&rows[i].last);
  free(rows);
  free(last_ids);
  return rc;
}

enum lb_err db_conversation_id(struct dbc *c, const char *number,
                               const char *patient, char out[LB_ID_SIZE])
{
  static const char sql[] = "SELECT id FROM conversations WHERE "
                            "number_e164 = ? AND patient_e164 = ?";
  return DB_ONE_TEXT(c, sql, out, LB_ID_SIZE, DB_TEXT(number),
                     DB_TEXT(patient));
}

enum lb_err store_conversation_messages(struct store *s, const char *number,
                                        const char *patient,
                                        const char *before_id, int limit,
                                        store_msg_cb cb, void *arg)
{
  static const char sql[] =
      "SELECT " DB_MSG_COLS " FROM messages m WHERE m.conversation_id = ? AND "
      "(CAST(? AS TEXT) IS NULL OR m.id < ?) ORDER BY m.id DESC LIMIT ?";
  struct dbc *c = db_reader(s);
  struct message *msgs;
  char conv[LB_ID_SIZE];
  struct dbst *st;
  int n = 0;
  enum lb_err rc;

  if ((rc = db_conversation_id(c, number, patient, conv)))
    return rc;
  if (limit <= 0 || limit > DB_LIST_MAX)
    limit = DB_LIST_MAX;
  if (!(msgs = calloc((size_t)limit, sizeof *msgs)))
    return LB_ENOMEM;
  st = DB_Q(c, sql, DB_TEXT(conv), DB_TEXT(before_id), DB_TEXT(before_id),
            DB_INT(limit));
  while (!rc && n < limit && db_next(st)) {
    message_init(&msgs[n]);
    rc = db_row_message(c, st, 0, &msgs[n++]);
  }
  if (db_end(st) && !rc)
    rc = LB_EDB;
  /* Oldest first; the callbacks may use the store. */
  for (int i = n - 1; i >= 0 && !rc; i--)
    rc = cb(arg, &msgs[i]);
  for (int i = 0; i < n; i++)
    message_release(&msgs[i]);
  free(msgs);
  return rc;
}

struct conv_open_arg {
  const char *number, *patient;
};

static enum lb_err conv_open_tx(struct store_tx *tx, void *arg)
{
  struct conv_open_arg *a = arg;
  char id[LB_ID_SIZE];
  return db_conversation_upsert(tx_conn(tx), a->number, a->patient, NULL, 0,
                                clock_now_ms(), id);
}

enum lb_err store_conversation_open(struct store *s, const char *number,
                                    const char *patient)
{
  struct conv_open_arg a = {number, patient};
  return db_write(s, conv_open_tx, &a);
}

enum lb_err store_tx_conversation_read(struct store_tx *tx, const char *number,
                                       const char *patient)
{
  static const char sql[] = "UPDATE conversations SET unread_count = 0 WHERE "
                            "number_e164 = ? AND patient_e164 = ?";
  struct dbc *c = tx_conn(tx);
  enum lb_err rc = DB_EXEC(c, sql, DB_TEXT(number), DB_TEXT(patient));
  return rc ? rc : db_changes(c) ? LB_OK : LB_ENOTFOUND;
}
