/* Patients' choices: the current state on the patient's row, and every
 * change in consent_events, appended and never updated. */
#include <stdio.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"

#define EVENT_COLS                                                             \
  "id, patient_e164, state, source, message_id, provider, actor, reason, at"

static void row_to_event(struct dbst *st, struct consent_event *e)
{
  memset(e, 0, sizeof *e);
  db_text(st, 0, e->id, sizeof e->id);
  db_text(st, 1, e->patient, sizeof e->patient);
  if (consent_state_parse(db_str(st, 2), &e->state))
    e->state = CONSENT_OPTED_OUT;
  if (consent_source_parse(db_str(st, 3), &e->source))
    e->source = CONSENT_PROVIDER;
  db_text(st, 4, e->message_id, sizeof e->message_id);
  db_text(st, 5, e->provider, sizeof e->provider);
  db_text(st, 6, e->actor, sizeof e->actor);
  db_text(st, 7, e->reason, sizeof e->reason);
  e->at = db_int(st, 8);
}

static enum lb_err consent_of(struct dbc *c, const char *e164,
                              struct consent *out)
{
  static const char sql[] =
      "SELECT opted_out_at, opt_out_source, opt_out_event FROM patients "
      "WHERE e164 = ?";
  static const char ev_sql[] =
      "SELECT " EVENT_COLS " FROM consent_events WHERE id = ?";
  static const char last_sql[] =
      "SELECT " EVENT_COLS " FROM consent_events WHERE patient_e164 = ? "
      "ORDER BY id DESC LIMIT 1";
  char ev_id[LB_ID_SIZE] = "", legacy[CONSENT_REASON_MAX] = "";
  struct dbst *st = DB_Q(c, sql, DB_TEXT(e164));
  enum lb_err rc;
  memset(out, 0, sizeof *out);
  if (db_next(st)) {
    out->opted_out = !db_is_null(st, 0);
    out->since = db_int(st, 0);
    db_text(st, 1, legacy, sizeof legacy);
    db_text(st, 2, ev_id, sizeof ev_id);
  }
  if ((rc = db_end(st)))
    return rc;
  st = ev_id[0] ? DB_Q(c, ev_sql, DB_TEXT(ev_id))
                : DB_Q(c, last_sql, DB_TEXT(e164));
  if (db_next(st)) {
    row_to_event(st, &out->last);
    if (!out->opted_out && out->last.state == CONSENT_OPTED_IN)
      out->since = out->last.at;
  } else if (out->opted_out) {
    /* Recorded before the history existed: the provider's words. */
    out->last.state = CONSENT_OPTED_OUT;
    out->last.source = CONSENT_PROVIDER;
    out->last.at = out->since;
    str_copy(out->last.reason, sizeof out->last.reason, legacy);
  }
  return db_end(st);
}

enum lb_err store_patient_consent(struct store *s, const char *e164,
                                  struct consent *out)
{
  return consent_of(db_reader(s), e164, out);
}

enum lb_err store_tx_patient_consent(struct store_tx *tx, const char *e164,
                                     struct consent *out)
{
  return consent_of(tx_conn(tx), e164, out);
}

enum lb_err store_tx_consent_change(struct store_tx *tx,
                                    struct consent_event *e, int *changed)
{
  static const char exists_sql[] = "SELECT e164 FROM patients WHERE e164 = ?";
  static const char ins[] = "INSERT INTO consent_events(" EVENT_COLS
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
  static const char out_sql[] =
      "UPDATE patients SET opted_out_at = ?, opt_out_source = ?, "
      "opt_out_event = ?, updated_at = ? WHERE e164 = ?";
  static const char in_sql[] =
      "UPDATE patients SET opted_out_at = NULL, opt_out_source = NULL, "
      "opt_out_event = ?, updated_at = ? WHERE e164 = ?";
  struct dbc *c = tx_conn(tx);
  struct consent now;
  char found[LB_E164_SIZE], words[CONSENT_REASON_MAX + 100];
  enum lb_err rc;

  *changed = 0;
  if ((rc = DB_ONE_TEXT(c, exists_sql, found, sizeof found,
                        DB_TEXT(e->patient))) ||
      (rc = consent_of(c, e->patient, &now)))
    return rc;
  /* Only a change is recorded: STOP twice is one opt-out. */
  if (now.opted_out == (e->state == CONSENT_OPTED_OUT))
    return LB_OK;
  if (!e->id[0])
    id_new(e->id);
  if (!e->at)
    e->at = clock_now_ms();
  consent_describe(e, words, sizeof words);
  if ((rc = DB_EXEC(c, ins, DB_TEXT(e->id), DB_TEXT(e->patient),
                    DB_TEXT(consent_state_name(e->state)),
                    DB_TEXT(consent_source_name(e->source)),
                    DB_TEXT0(e->message_id), DB_TEXT0(e->provider),
                    DB_TEXT0(e->actor), DB_TEXT0(e->reason), DB_INT(e->at))))
    return rc;
  rc = e->state == CONSENT_OPTED_OUT
           ? DB_EXEC(c, out_sql, DB_INT(e->at), DB_TEXT(words), DB_TEXT(e->id),
                     DB_INT(e->at), DB_TEXT(e->patient))
           : DB_EXEC(c, in_sql, DB_TEXT(e->id), DB_INT(e->at),
                     DB_TEXT(e->patient));
  if (!rc)
    *changed = 1;
  return rc;
}

enum lb_err store_consent_history(struct store *s, const char *e164,
                                  store_consent_cb cb, void *arg)
{
  static const char sql[] =
      "SELECT " EVENT_COLS " FROM consent_events WHERE patient_e164 = ? "
      "ORDER BY id LIMIT 1000";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(e164));
  struct consent_event e;
  enum lb_err rc = LB_OK, end;
  while (!rc && db_next(st)) {
    row_to_event(st, &e);
    rc = cb(arg, &e);
  }
  end = db_end(st);
  return rc ? rc : end;
}
