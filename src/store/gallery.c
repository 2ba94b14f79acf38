/* The pictures of one conversation, for the inbox's patient panel: every
 * image carried by a message in either direction, newest first, paged by
 * (message, position). */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"

enum lb_err store_conversation_media(struct store *s, const char *number,
                                     const char *patient,
                                     const char *before_msg, int before_pos,
                                     int limit, store_conv_media_cb cb,
                                     void *arg)
{
  /* messages_conversation walks the thread newest first; message_media's
   * key finds each message's items. Only images (they have a width). */
  static const char sql[] =
      "SELECT mm.media_id, m.id, mm.position, m.direction, m.created_at "
      "FROM messages m JOIN message_media mm ON mm.message_id = m.id "
      "JOIN media md ON md.id = mm.media_id WHERE m.conversation_id = ? AND "
      "md.content_type LIKE 'image/%' AND md.width > 0 AND "
      "(CAST(? AS TEXT) IS NULL OR m.id < ? OR (m.id = ? AND mm.position > "
      "?)) ORDER BY m.id DESC, mm.position ASC LIMIT ?";
  struct dbc *c = db_reader(s);
  struct conv_media_row *rows;
  char conv[LB_ID_SIZE];
  struct dbst *st;
  int n = 0;
  enum lb_err rc;

  if ((rc = db_conversation_id(c, number, patient, conv)))
    return rc;
  if (limit <= 0 || limit > DB_LIST_MAX)
    limit = DB_LIST_MAX;
  if (!(rows = calloc((size_t)limit, sizeof *rows)))
    return LB_ENOMEM;
  st = DB_Q(c, sql, DB_TEXT(conv), DB_TEXT(before_msg), DB_TEXT(before_msg),
            DB_TEXT(before_msg), DB_INT(before_pos), DB_INT(limit));
  while (n < limit && db_next(st)) {
    struct conv_media_row *r = &rows[n++];
    db_text(st, 0, r->media_id, sizeof r->media_id);
    db_text(st, 1, r->message_id, sizeof r->message_id);
    r->position = (int)db_int(st, 2);
    db_text(st, 3, r->direction, sizeof r->direction);
    r->created_at = db_int(st, 4);
  }
  if (db_end(st))
    rc = LB_EDB;
  /* Newest first, as read; the callbacks may use the store. */
  for (int i = 0; i < n && !rc; i++)
    rc = cb(arg, &rows[i]);
  free(rows);
  return rc;
}
