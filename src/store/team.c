/* A conversation's state and assignee, and its internal notes. */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"

static const char conv_sql[] = "SELECT id, state, assigned_to FROM "
                               "conversations WHERE number_e164 = ? AND "
                               "patient_e164 = ?";

/* The conversation's id and team fields: LB_ENOTFOUND when there is none. */
static enum lb_err conv_load(struct dbc *c, const char *number,
                             const char *patient, char id[LB_ID_SIZE],
                             struct conv_team *out)
{
  struct dbst *st = DB_Q(c, conv_sql, DB_TEXT(number), DB_TEXT(patient));
  int found = db_next(st);
  char state[8] = "";
  enum lb_err rc;
  memset(out, 0, sizeof *out);
  if (found) {
    db_text(st, 0, id, LB_ID_SIZE);
    db_text(st, 1, state, sizeof state);
    db_text(st, 2, out->assigned_to, sizeof out->assigned_to);
  }
  rc = db_end(st);
  if (!rc && found && conv_state_parse(state, &out->state))
    rc = LB_EDB;
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

enum lb_err store_conversation_team(struct store *s, const char *number,
                                    const char *patient, struct conv_team *out)
{
  char id[LB_ID_SIZE];
  return conv_load(db_reader(s), number, patient, id, out);
}

enum lb_err store_tx_conversation_team(struct store_tx *tx, const char *number,
                                       const char *patient,
                                       struct conv_team *out)
{
  char id[LB_ID_SIZE];
  return conv_load(tx_conn(tx), number, patient, id, out);
}

enum lb_err store_tx_conversation_team_set(struct store_tx *tx,
                                           const char *number,
                                           const char *patient,
                                           const struct conv_team_change *ch,
                                           struct conv_team *before,
                                           struct conv_team *after)
{
  static const char sql[] = "UPDATE conversations SET state = ?, "
                            "assigned_to = ? WHERE id = ?";
  struct dbc *c = tx_conn(tx);
  char id[LB_ID_SIZE];
  enum lb_err rc = conv_load(c, number, patient, id, before);
  if (rc)
    return rc;
  *after = *before;
  if (ch->set_state)
    after->state = ch->state;
  if (ch->set_assignee)
    str_copy(after->assigned_to, sizeof after->assigned_to,
             ch->assignee ? ch->assignee : "");
  return DB_EXEC(c, sql, DB_TEXT(conv_state_name(after->state)),
                 DB_TEXT0(after->assigned_to), DB_TEXT(id));
}

enum lb_err store_tx_note_add(struct store_tx *tx, const char *number,
                              struct note *n)
{
  static const char sql[] =
      "INSERT INTO conversation_notes(id, conversation_id, patient_e164, "
      "author_kind, author, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
  struct dbc *c = tx_conn(tx);
  struct conv_team t;
  char conv[LB_ID_SIZE];
  enum lb_err rc = conv_load(c, number, n->patient, conv, &t);
  if (rc)
    return rc;
  n->created_at = clock_now_ms();
  id_new_at(n->id, n->created_at);
  return DB_EXEC(c, sql, DB_TEXT(n->id), DB_TEXT(conv), DB_TEXT(n->patient),
                 DB_TEXT(n->author_kind), DB_TEXT(n->author), DB_TEXT(n->text),
                 DB_INT(n->created_at));
}

enum lb_err store_notes(struct store *s, const char *number,
                        const char *patient, const char *after_id,
                        const char *before_id, int limit, store_note_cb cb,
                        void *arg)
{
  static const char sql[] =
      "SELECT n.id, n.patient_e164, n.author_kind, n.author, n.text, "
      "n.created_at FROM conversation_notes n JOIN conversations c ON c.id = "
      "n.conversation_id WHERE c.number_e164 = ? AND c.patient_e164 = ? AND "
      "(CAST(? AS TEXT) IS NULL OR n.id > ?) AND (CAST(? AS TEXT) IS NULL OR "
      "n.id < ?) ORDER BY n.id LIMIT ?";
  struct dbc *c = db_reader(s);
  struct note *notes;
  struct dbst *st;
  int n = 0;
  enum lb_err rc;

  if (limit <= 0 || limit > DB_LIST_MAX)
    limit = DB_LIST_MAX;
  if (!(notes = calloc((size_t)limit, sizeof *notes)))
    return LB_ENOMEM;
  st = DB_Q(c, sql, DB_TEXT(number), DB_TEXT(patient), DB_TEXT(after_id),
            DB_TEXT(after_id), DB_TEXT(before_id), DB_TEXT(before_id),
            DB_INT(limit));
  while (db_next(st))
    if (n < limit) {
      struct note *x = &notes[n++];
      db_text(st, 0, x->id, sizeof x->id);
      db_text(st, 1, x->patient, sizeof x->patient);
      db_text(st, 2, x->author_kind, sizeof x->author_kind);
      db_text(st, 3, x->author, sizeof x->author);
      db_text(st, 4, x->text, sizeof x->text);
      x->created_at = db_int(st, 5);
    }
  rc = db_end(st);
  /* The callbacks run once the list is read: they may use the store. */
  for (int i = 0; i < n && !rc; i++)
    rc = cb(arg, &notes[i]);
  free(notes);
  return rc;
}
