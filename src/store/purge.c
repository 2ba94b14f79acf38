/* The retention purge: a patient's messages and everything hanging from
 * them, once the record has been kept long enough. Deleted in small
 * transactions (a batch of messages each), so the writer is never held
 * long; blobs no row refers to any more are handed back for the caller to
 * delete after the commit. The patient's row stays, with their consent
 * history (an opt-out must outlive the messages), but not their name or
 * date of birth. */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"

enum lb_err store_purge_patients(struct store *s, int64_t last_before,
                                 const char *born_by, store_text_cb cb,
                                 void *arg)
{
  static const char sql[] =
      "SELECT p.e164 FROM patients p WHERE (p.dob IS NULL OR p.dob <= ?) "
      "AND EXISTS (SELECT 1 FROM conversations c WHERE c.patient_e164 = "
      "p.e164) AND (SELECT MAX(COALESCE(c.last_message_at, c.created_at)) "
      "FROM conversations c WHERE c.patient_e164 = p.e164) < ? "
      "ORDER BY p.e164 LIMIT 10000";
  struct dbst *st =
      DB_Q(db_reader(s), sql, DB_TEXT(born_by), DB_INT(last_before));
  char(*list)[LB_E164_SIZE] = NULL;
  size_t n = 0, cap = 0;
  enum lb_err rc = LB_OK, end;
  /* Collected first: the callback writes. */
  while (!rc && db_next(st)) {
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      void *grown = realloc(list, ncap * sizeof *list);
      if (!grown) {
        rc = LB_ENOMEM;
        break;
      }
      list = grown;
      cap = ncap;
    }
    db_text(st, 0, list[n++], LB_E164_SIZE);
  }
  end = db_end(st);
  if (!rc)
    rc = end;
  for (size_t i = 0; i < n && !rc; i++)
    rc = cb(arg, list[i]);
  free(list);
  return rc;
}

enum lb_err store_purge_count(struct store *s, const char *patient,
                              struct purge_counts *c)
{
  static const char sql[] =
      "SELECT COUNT(*), COALESCE(MIN(m.created_at), 0), "
      "COALESCE(MAX(m.created_at), 0), "
      "(SELECT COUNT(*) FROM message_media mm JOIN messages x ON x.id = "
      "mm.message_id JOIN conversations y ON y.id = x.conversation_id WHERE "
      "y.patient_e164 = ?1), "
      "(SELECT COUNT(*) FROM links l WHERE l.patient_e164 = ?1) "
      "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
      "WHERE c.patient_e164 = ?1";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(patient));
  if (db_next(st)) {
    int64_t oldest = db_int(st, 1), newest = db_int(st, 2);
    c->messages += db_int(st, 0);
    c->media += db_int(st, 3);
    c->links += db_int(st, 4);
    if (oldest && (!c->oldest || oldest < c->oldest))
      c->oldest = oldest;
    if (newest > c->newest)
      c->newest = newest;
  }
  return db_end(st);
}

/* Deletes one media row (and its variants) once no message refers to it,
 * and notes the blobs nothing refers to any more. */
static enum lb_err drop_media(struct dbc *c, const char *media_id,
                              struct purge_batch *b)
{
  static const char used_sql[] =
      "SELECT 1 FROM message_media WHERE media_id = ? LIMIT 1";
  static const char keys_sql[] =
      "SELECT blob_key FROM media WHERE id = ?1 UNION "
      "SELECT blob_key FROM media_variants WHERE media_id = ?1";
  static const char del_var[] = "DELETE FROM media_variants WHERE media_id = ?";
  static const char del_media[] = "DELETE FROM media WHERE id = ?";
  static const char key_used[] =
      "SELECT 1 FROM media WHERE blob_key = ?1 UNION ALL SELECT 1 FROM "
      "media_variants WHERE blob_key = ?1 LIMIT 1";
  char keys[8][LB_BLOB_KEY_SIZE], one[4];
  size_t nk = 0;
  struct dbst *st;
  int64_t variants;
  enum lb_err rc = DB_ONE_TEXT(c, used_sql, one, sizeof one, DB_TEXT(media_id));
  if (rc != LB_ENOTFOUND)
    return rc; /* still used (LB_OK), or an error */
  st = DB_Q(c, keys_sql, DB_TEXT(media_id));
  while (db_next(st))
    if (nk < 8)
      db_text(st, 0, keys[nk++], LB_BLOB_KEY_SIZE);
  if ((rc = db_end(st)) || (rc = DB_EXEC(c, del_var, DB_TEXT(media_id))))
    return rc;
  variants = db_changes(c);
  if ((rc = DB_EXEC(c, del_media, DB_TEXT(media_id))))
    return rc;
  b->counts.media += db_changes(c);
  b->counts.variants += variants;
  for (size_t i = 0; i < nk; i++) {
    rc = DB_ONE_TEXT(c, key_used, one, sizeof one, DB_TEXT(keys[i]));
    if (rc == LB_ENOTFOUND && b->n_blobs < b->cap_blobs)
      memcpy(b->blobs[b->n_blobs++], keys[i], LB_BLOB_KEY_SIZE);
    else if (rc)
      return rc;
  }
  return LB_OK;
}

static enum lb_err drop_message(struct dbc *c, const char *id,
                                struct purge_batch *b)
{
  static const char media_sql[] =
      "SELECT media_id FROM message_media WHERE message_id = ?";
  static const char views[] = "DELETE FROM link_views WHERE link_id IN "
                              "(SELECT id FROM links WHERE message_id = ?)";
  static const char links[] = "DELETE FROM links WHERE message_id = ?";
  static const char events[] =
      "DELETE FROM message_events WHERE message_id = ?";
  static const char fetches[] =
      "DELETE FROM media_fetches WHERE message_id = ?";
  static const char idem[] =
      "DELETE FROM idempotency_keys WHERE message_id = ?";
  static const char mm[] = "DELETE FROM message_media WHERE message_id = ?";
  static const char attempts[] =
      "DELETE FROM message_attempts WHERE message_id = ?";
  static const char conv[] = "UPDATE conversations SET last_message_id = NULL "
                             "WHERE last_message_id = ?";
  static const char msg[] = "DELETE FROM messages WHERE id = ?";
  /* The event log holds the message's text too (the webhooks' payloads). */
  static const char logged[] = "DELETE FROM events WHERE message_id = ?";
  char media[LB_MEDIA_MAX][LB_ID_SIZE];
  size_t n = 0;
  struct dbst *st = DB_Q(c, media_sql, DB_TEXT(id));
  enum lb_err rc;
  while (db_next(st))
    if (n < LB_MEDIA_MAX)
      db_text(st, 0, media[n++], LB_ID_SIZE);
  if ((rc = db_end(st)) || (rc = DB_EXEC(c, views, DB_TEXT(id))))
    return rc;
  b->counts.link_views += db_changes(c);
  if ((rc = DB_EXEC(c, links, DB_TEXT(id))))
    return rc;
  b->counts.links += db_changes(c);
  if ((rc = DB_EXEC(c, events, DB_TEXT(id))) ||
      (rc = DB_EXEC(c, fetches, DB_TEXT(id))) ||
      (rc = DB_EXEC(c, idem, DB_TEXT(id))) ||
      (rc = DB_EXEC(c, mm, DB_TEXT(id))) ||
      (rc = DB_EXEC(c, attempts, DB_TEXT(id))) ||
      (rc = DB_EXEC(c, conv, DB_TEXT(id))) ||
      (rc = DB_EXEC(c, logged, DB_TEXT(id))) ||
      (rc = DB_EXEC(c, msg, DB_TEXT(id))))
    return rc;
  b->counts.messages += db_changes(c);
  for (size_t i = 0; i < n && !rc; i++)
    rc = drop_media(c, media[i], b);
  return rc;
}

enum lb_err store_tx_purge_batch(struct store_tx *tx, const char *patient,
                                 int max, struct purge_batch *b)
{
  static const char ids_sql[] =
      "SELECT m.id, m.created_at FROM messages m JOIN conversations c ON "
      "c.id = m.conversation_id WHERE c.patient_e164 = ? ORDER BY m.id "
      "LIMIT ?";
  static const char convs[] = "DELETE FROM conversations WHERE patient_e164 = "
                              "? AND NOT EXISTS (SELECT 1 FROM messages m "
                              "WHERE m.conversation_id = conversations.id)";
  /* Notes, and the events that carry their text. */
  static const char notes[] =
      "DELETE FROM conversation_notes WHERE patient_e164 = ?";
  static const char note_events[] = "DELETE FROM events WHERE patient_e164 = "
                                    "? AND type = 'note.created'";
  static const char forget[] =
      "UPDATE patients SET name = NULL, dob = NULL, updated_at = ? WHERE "
      "e164 = ?";
  struct dbc *c = tx_conn(tx);
  char(*ids)[LB_ID_SIZE];
  size_t n = 0;
  struct dbst *st;
  enum lb_err rc;

  if (max <= 0 || max > PURGE_BATCH_MAX)
    max = PURGE_BATCH_MAX;
  if (!(ids = calloc((size_t)max, sizeof *ids)))
    return LB_ENOMEM;
  st = DB_Q(c, ids_sql, DB_TEXT(patient), DB_INT(max));
  while (db_next(st))
    if ((int)n < max) {
      int64_t at = db_int(st, 1);
      db_text(st, 0, ids[n++], LB_ID_SIZE);
      if (!b->counts.oldest || at < b->counts.oldest)
        b->counts.oldest = at;
      if (at > b->counts.newest)
        b->counts.newest = at;
    }
  rc = db_end(st);
  for (size_t i = 0; i < n && !rc; i++)
    rc = drop_message(c, ids[i], b);
  free(ids);
  b->more = !rc && (int)n == max;
  if (rc || b->more)
    return rc;
  /* The last batch: the notes, the empty conversations, and who the
   * patient was. */
  if ((rc = DB_EXEC(c, notes, DB_TEXT(patient))) ||
      (rc = DB_EXEC(c, note_events, DB_TEXT(patient))) ||
      (rc = DB_EXEC(c, convs, DB_TEXT(patient))))
    return rc;
  rc = DB_EXEC(c, forget, DB_INT(clock_now_ms()), DB_TEXT(patient));
  if (!rc)
    b->counts.patients++;
  return rc;
}
