/* Media: the cleaned items, their variants (thumbnail, MMS fits, the kept
 * original), and inbound media still to be fetched from a provider. */
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"

static enum lb_err put_variant(struct dbc *c, const char *media_id,
                               const struct media_variant *v)
{
  static const char sql[] =
      "INSERT INTO media_variants(media_id, kind, blob_key, content_type, "
      "bytes, width, height, quality, created_at) VALUES "
      "(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (media_id, kind) DO UPDATE SET "
      "blob_key = excluded.blob_key, content_type = excluded.content_type, "
      "bytes = excluded.bytes, width = excluded.width, height = "
      "excluded.height, quality = excluded.quality, created_at = "
      "excluded.created_at";
  return DB_EXEC(c, sql, DB_TEXT(media_id), DB_TEXT(v->kind),
                 DB_TEXT(v->blob_key), DB_TEXT(v->content_type),
                 DB_INT(v->bytes), DB_INT(v->width), DB_INT(v->height),
                 DB_INT(v->quality), DB_INT(v->created_at));
}

enum lb_err db_media_put(struct dbc *c, const struct media *md)
{
  static const char sql[] =
      "INSERT INTO media(id, sha256, content_type, bytes, blob_key, "
      "width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO NOTHING";
  enum lb_err rc = DB_EXEC(c, sql, DB_TEXT(md->id), DB_TEXT(md->sha256),
                           DB_TEXT(md->content_type), DB_INT(md->bytes),
                           DB_TEXT(md->blob_key), DB_INT(md->width),
                           DB_INT(md->height), DB_INT(md->created_at));
  for (size_t i = 0;
       !rc && i < md->n_variants && i < LB_MEDIA_VARIANTS_AT_INTAKE; i++)
    rc = put_variant(c, md->id, &md->variants[i]);
  return rc;
}

static enum lb_err media_tx(struct store_tx *tx, void *arg)
{
  return db_media_put(tx_conn(tx), arg);
}

enum lb_err store_media_put(struct store *s, const struct media *m)
{
  return db_write(s, media_tx, (void *)m);
}

static enum lb_err media_load(struct dbc *c, const char *id, struct media *out)
{
  static const char sql[] = "SELECT id, sha256, content_type, bytes, blob_key, "
                            "created_at, width, height FROM media WHERE id = ?";
  struct dbst *st = DB_Q(c, sql, DB_TEXT(id));
  int found = db_next(st);
  enum lb_err rc;
  if (found) {
    db_text(st, 0, out->id, sizeof out->id);
    db_text(st, 1, out->sha256, sizeof out->sha256);
    db_text(st, 2, out->content_type, sizeof out->content_type);
    out->bytes = db_int(st, 3);
    db_text(st, 4, out->blob_key, sizeof out->blob_key);
    out->created_at = db_int(st, 5);
    out->width = (int)db_int(st, 6);
    out->height = (int)db_int(st, 7);
    out->n_variants = 0;
  }
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

enum lb_err store_media_get(struct store *s, const char *id, struct media *out)
{
  return media_load(db_reader(s), id, out);
}

enum lb_err store_tx_media_get(struct store_tx *tx, const char *id,
                               struct media *out)
{
  return media_load(tx_conn(tx), id, out);
}

struct variant_arg {
  const char *media_id;
  const struct media_variant *v;
};

static enum lb_err variant_tx(struct store_tx *tx, void *arg)
{
  const struct variant_arg *va = arg;
  return put_variant(tx_conn(tx), va->media_id, va->v);
}

enum lb_err store_media_variant_put(struct store *s, const char *media_id,
                                    const struct media_variant *v)
{
  struct variant_arg va = {media_id, v};
  return db_write(s, variant_tx, &va);
}

enum lb_err store_media_variant_get(struct store *s, const char *media_id,
                                    const char *kind, struct media_variant *out)
{
  static const char sql[] =
      "SELECT kind, blob_key, content_type, bytes, width, height, quality, "
      "created_at FROM media_variants WHERE media_id = ? AND kind = ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(media_id), DB_TEXT(kind));
  int found = db_next(st);
  enum lb_err rc;
  if (found) {
    db_text(st, 0, out->kind, sizeof out->kind);
    db_text(st, 1, out->blob_key, sizeof out->blob_key);
    db_text(st, 2, out->content_type, sizeof out->content_type);
    out->bytes = db_int(st, 3);
    out->width = (int)db_int(st, 4);
    out->height = (int)db_int(st, 5);
    out->quality = (int)db_int(st, 6);
    out->created_at = db_int(st, 7);
  }
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

/* ---- inbound media fetches ----------------------------------------------- */

enum lb_err store_fetches_due(struct store *s, int64_t now,
                              struct media_fetch *out, size_t max, size_t *n)
{
  static const char sql[] =
      "SELECT f.id, f.message_id, f.position, f.url, m.provider, f.attempts "
      "FROM media_fetches f JOIN messages m ON m.id = f.message_id "
      "WHERE f.state = 'pending' AND f.next_at <= ? ORDER BY f.next_at, f.id "
      "LIMIT ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_INT(now), DB_INT(max));
  *n = 0;
  while (db_next(st))
    if (*n < max) {
      struct media_fetch *f = &out[(*n)++];
      db_text(st, 0, f->id, sizeof f->id);
      db_text(st, 1, f->message_id, sizeof f->message_id);
      f->position = (int)db_int(st, 2);
      db_text(st, 3, f->url, sizeof f->url);
      db_text(st, 4, f->provider, sizeof f->provider);
      f->attempts = (int)db_int(st, 5);
    }
  return db_end(st);
}

/* The message changed (its media arrived or was given up): clients that
 * keep the newest version by updated_at must see it. */
static enum lb_err touch_message(struct dbc *c, const char *message_id)
{
  static const char sql[] = "UPDATE messages SET updated_at = ? WHERE id = ?";
  return DB_EXEC(c, sql, DB_INT(clock_now_ms()), DB_TEXT(message_id));
}

enum lb_err store_tx_fetch_done(struct store_tx *tx,
                                const struct media_fetch *f,
                                const struct media *md)
{
  static const char link_sql[] = "INSERT INTO message_media(message_id, "
                                 "position, media_id) VALUES (?, ?, ?)";
  static const char done_sql[] =
      "UPDATE media_fetches SET state = 'done', attempts = attempts + 1, "
      "error = NULL, updated_at = ? WHERE id = ? AND state = 'pending'";
  struct dbc *c = tx_conn(tx);
  enum lb_err rc;
  if ((rc = db_media_put(c, md)) ||
      (rc = DB_EXEC(c, link_sql, DB_TEXT(f->message_id), DB_INT(f->position),
                    DB_TEXT(md->id))) ||
      (rc = DB_EXEC(c, done_sql, DB_INT(clock_now_ms()), DB_TEXT(f->id))))
    return rc;
  return touch_message(c, f->message_id);
}

enum lb_err store_tx_fetch_failed(struct store_tx *tx,
                                  const struct media_fetch *f, int64_t next_at,
                                  const char *error)
{
  static const char sql[] =
      "UPDATE media_fetches SET state = ?, attempts = attempts + 1, "
      "next_at = ?, error = ?, updated_at = ? WHERE id = ? AND state = "
      "'pending'";
  struct dbc *c = tx_conn(tx);
  int64_t now = clock_now_ms();
  enum lb_err rc = DB_EXEC(c, sql, DB_TEXT(next_at < 0 ? "failed" : "pending"),
                           DB_INT(next_at < 0 ? now : next_at), DB_TEXT(error),
                           DB_INT(now), DB_TEXT(f->id));
  if (rc || next_at >= 0)
    return rc;
  return touch_message(c, f->message_id);
}

static enum lb_err fetches_of(struct dbc *c, const char *message_id,
                              int *pending,
                              enum lb_err (*cb)(void *arg, const char *error),
                              void *arg)
{
  static const char sql[] = "SELECT state, error FROM media_fetches WHERE "
                            "message_id = ? ORDER BY position";
  struct dbst *st = DB_Q(c, sql, DB_TEXT(message_id));
  enum lb_err crc = LB_OK, rc;
  *pending = 0;
  while (!crc && db_next(st)) {
    const char *state = db_str(st, 0);
    if (strcmp(state, "pending") == 0)
      (*pending)++;
    else if (strcmp(state, "failed") == 0 && cb)
      crc = cb(arg, db_str(st, 1));
  }
  rc = db_end(st);
  return crc ? crc : rc;
}

enum lb_err
store_message_fetches(struct store *s, const char *message_id, int *pending,
                      enum lb_err (*cb)(void *arg, const char *error),
                      void *arg)
{
  return fetches_of(db_reader(s), message_id, pending, cb, arg);
}

enum lb_err
store_tx_message_fetches(struct store_tx *tx, const char *message_id,
                         int *pending,
                         enum lb_err (*cb)(void *arg, const char *error),
                         void *arg)
{
  return fetches_of(tx_conn(tx), message_id, pending, cb, arg);
}

enum lb_err store_media_patient(struct store *s, const char *id,
                                char out[LB_E164_SIZE])
{
  static const char sql[] =
      "SELECT c.patient_e164 FROM message_media mm JOIN messages m ON m.id = "
      "mm.message_id JOIN conversations c ON c.id = m.conversation_id WHERE "
      "mm.media_id = ? ORDER BY m.id LIMIT 1";
  enum lb_err rc =
      DB_ONE_TEXT(db_reader(s), sql, out, LB_E164_SIZE, DB_TEXT(id));
  if (rc == LB_ENOTFOUND) {
    out[0] = '\0';
    rc = LB_OK;
  }
  return rc;
}
