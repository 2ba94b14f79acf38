/* A message's history: one row per status it took, with what happened
 * (message_events). */
#include "store/backend.h"
#include "util/id.h"

enum lb_err db_history_add(struct dbc *c, const char *msg_id,
                           const char *status, const char *detail, int64_t at)
{
  static const char sql[] = "INSERT INTO message_events(id, message_id, "
                            "status, detail, at) VALUES (?, ?, ?, ?, ?)";
  char id[LB_ID_SIZE];
  id_new(id);
  return DB_EXEC(c, sql, DB_TEXT(id), DB_TEXT(msg_id), DB_TEXT(status),
                 DB_TEXT0(detail), DB_INT(at));
}

enum lb_err store_message_events(struct store *s, const char *id,
                                 store_event_cb cb, void *arg)
{
  static const char sql[] = "SELECT status, detail, at FROM message_events "
                            "WHERE message_id = ? ORDER BY id";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(id));
  enum lb_err rc = LB_OK, end;
  while (!rc && db_next(st))
    rc = cb(arg, db_str(st, 0), db_is_null(st, 1) ? NULL : db_str(st, 1),
            db_int(st, 2));
  end = db_end(st);
  return rc ? rc : end;
}
