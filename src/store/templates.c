/* The clinic's message templates: a name and a body each. */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"

#define TPL_COLS "id, name, body, updated_by, created_at, updated_at"

void msg_template_release(struct msg_template *t)
{
  free(t->body);
  t->body = NULL;
}

static enum lb_err row_template(struct dbst *st, struct msg_template *t)
{
  memset(t, 0, sizeof *t);
  db_text(st, 0, t->id, sizeof t->id);
  db_text(st, 1, t->name, sizeof t->name);
  if (!(t->body = strdup(db_str(st, 2))))
    return LB_ENOMEM;
  db_text(st, 3, t->updated_by, sizeof t->updated_by);
  t->created_at = db_int(st, 4);
  t->updated_at = db_int(st, 5);
  return LB_OK;
}

enum lb_err store_tx_template_put(struct store_tx *tx,
                                  const struct msg_template *t, int create)
{
  static const char taken[] =
      "SELECT id FROM templates WHERE name = ? AND id <> ?";
  static const char ins[] =
      "INSERT INTO templates(" TPL_COLS ") VALUES (?, ?, ?, ?, ?, ?)";
  static const char upd[] = "UPDATE templates SET name = ?, body = ?, "
                            "updated_by = ?, updated_at = ? WHERE id = ?";
  struct dbc *c = tx_conn(tx);
  char other[LB_TEMPLATE_ID_SIZE];
  enum lb_err rc = DB_ONE_TEXT(c, taken, other, sizeof other, DB_TEXT(t->name),
                               DB_TEXT(t->id));
  if (rc == LB_OK)
    return LB_EDUPLICATE;
  if (rc != LB_ENOTFOUND)
    return rc;
  if (create)
    return DB_EXEC(c, ins, DB_TEXT(t->id), DB_TEXT(t->name), DB_TEXT(t->body),
                   DB_TEXT0(t->updated_by), DB_INT(t->created_at),
                   DB_INT(t->updated_at));
  if ((rc = DB_EXEC(c, upd, DB_TEXT(t->name), DB_TEXT(t->body),
                    DB_TEXT0(t->updated_by), DB_INT(t->updated_at),
                    DB_TEXT(t->id))))
    return rc;
  return db_changes(c) ? LB_OK : LB_ENOTFOUND;
}

enum lb_err store_tx_template_delete(struct store_tx *tx, const char *id)
{
  static const char sql[] = "DELETE FROM templates WHERE id = ?";
  struct dbc *c = tx_conn(tx);
  enum lb_err rc = DB_EXEC(c, sql, DB_TEXT(id));
  if (rc)
    return rc;
  return db_changes(c) ? LB_OK : LB_ENOTFOUND;
}

static enum lb_err get_on(struct dbc *c, const char *id,
                          struct msg_template *out)
{
  static const char sql[] = "SELECT " TPL_COLS " FROM templates WHERE id = ?";
  struct dbst *st = DB_Q(c, sql, DB_TEXT(id));
  enum lb_err rc = LB_ENOTFOUND, end;
  if (db_next(st))
    rc = row_template(st, out);
  end = db_end(st);
  return end ? end : rc;
}

enum lb_err store_tx_template_get(struct store_tx *tx, const char *id,
                                  struct msg_template *out)
{
  return get_on(tx_conn(tx), id, out);
}

enum lb_err store_template_get(struct store *s, const char *id,
                               struct msg_template *out)
{
  return get_on(db_reader(s), id, out);
}

enum lb_err store_tx_template_count(struct store_tx *tx, int *n)
{
  static const char sql[] = "SELECT COUNT(*) FROM templates";
  struct dbst *st = DB_Q0(tx_conn(tx), sql);
  *n = 0;
  if (db_next(st))
    *n = (int)db_int(st, 0);
  return db_end(st);
}

enum lb_err store_template_list(struct store *s, store_template_cb cb,
                                void *arg)
{
  static const char sql[] =
      "SELECT " TPL_COLS " FROM templates ORDER BY name, id";
  struct dbst *st = DB_Q0(db_reader(s), sql);
  struct msg_template t;
  enum lb_err rc = LB_OK, end;
  while (rc == LB_OK && db_next(st)) {
    if ((rc = row_template(st, &t)) == LB_OK)
      rc = cb(arg, &t);
    msg_template_release(&t);
  }
  end = db_end(st);
  return end ? end : rc;
}
