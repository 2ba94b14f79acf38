/* A failed outbound message sent again as a new attempt of itself: the
 * attempt that ended kept in message_attempts, the message queued again.
 * And the guard that keeps a late receipt for an earlier attempt off the
 * new one. */
#include <stdio.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"
#include "util/id.h"

enum lb_err store_tx_message_retry(struct store_tx *tx, const struct message *m,
                                   const char *detail)
{
  static const char keep[] =
      "INSERT INTO message_attempts(id, message_id, provider, "
      "provider_message_id, status, error_code, ended_at) VALUES "
      "(?, ?, ?, ?, ?, ?, ?)";
  /* Compared and set in one statement: only while it still stands as the
   * caller saw it, so two retries at once make one attempt. */
  static const char requeue[] =
      "UPDATE messages SET status = 'queued', attempts = 0, "
      "next_attempt_at = ?, error_code = NULL, error_text = NULL, "
      "error_retryable = 0, provider_message_id = NULL, "
      "ref_round = ref_round + ?, lease_until = NULL, updated_at = ? "
      "WHERE id = ? AND status = ? AND direction = 'outbound'";
  struct dbc *c = tx_conn(tx);
  int64_t now = clock_now_ms();
  char aid[LB_ID_SIZE];
  enum lb_err rc;

  if ((rc = DB_EXEC(c, requeue, DB_INT(now),
                    DB_INT(m->provider_msg_id[0] ? 1 : 0), DB_INT(now),
                    DB_TEXT(m->id), DB_TEXT(status_name(m->status)))))
    return rc;
  if (!db_changes(c))
    return LB_ECONFLICT;
  id_new(aid);
  if ((rc = DB_EXEC(c, keep, DB_TEXT(aid), DB_TEXT(m->id), DB_TEXT(m->provider),
                    DB_TEXT0(m->provider_msg_id),
                    DB_TEXT(status_name(m->status)), DB_TEXT0(m->error_code),
                    DB_INT(m->updated_at))))
    return rc;
  return db_history_add(c, m->id, "queued", detail, now);
}

enum lb_err db_attempt_is_earlier(struct dbc *c, const char *msg_id,
                                  const char *provider, const char *pmid,
                                  int *earlier)
{
  static const char sql[] =
      "SELECT m.provider_message_id FROM message_attempts a JOIN messages m "
      "ON m.id = a.message_id WHERE a.message_id = ? AND a.provider = ? AND "
      "a.provider_message_id = ?";
  struct dbst *st;
  *earlier = 0;
  if (!pmid || !*pmid)
    return LB_OK;
  st = DB_Q(c, sql, DB_TEXT(msg_id), DB_TEXT(provider), DB_TEXT(pmid));
  /* An earlier attempt's id, unless the current attempt got the same one
   * back (a provider that dedupes by our reference). */
  while (db_next(st))
    if (db_is_null(st, 0) || strcmp(db_str(st, 0), pmid) != 0)
      *earlier = 1;
  return db_end(st);
}

enum lb_err store_attempts_count(struct store *s, const char *msg_id, int *n)
{
  static const char sql[] =
      "SELECT COUNT(*) FROM message_attempts WHERE message_id = ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(msg_id));
  *n = 0;
  if (db_next(st))
    *n = (int)db_int(st, 0);
  return db_end(st);
}
