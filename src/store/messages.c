/* Messages: queueing and receiving them, reading them back, the outbox's
 * claims and results, and delivery receipts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"
#include "util/log.h"

/* Fills m from a row of DB_MSG_COLS starting at 'col', and its media ids (a
 * second statement, while the caller's is mid-step). */
enum lb_err db_row_message(struct dbc *c, struct dbst *st, int col,
                           struct message *m)
{
  static const char media_sql[] = "SELECT media_id FROM message_media WHERE "
                                  "message_id = ? ORDER BY position";
  struct dbst *ms;
  char buf[32];

  message_release(m);
  message_init(m);
  db_text(st, col + 0, m->id, sizeof m->id);
  db_text(st, col + 1, buf, sizeof buf);
  m->direction = strcmp(buf, "inbound") == 0 ? DIR_INBOUND : DIR_OUTBOUND;
  db_text(st, col + 2, m->from, sizeof m->from);
  db_text(st, col + 3, m->to, sizeof m->to);
  if (!(m->text = strdup(db_str(st, col + 4))))
    return LB_ENOMEM;
  db_text(st, col + 5, buf, sizeof buf);
  if (status_parse(buf, &m->status))
    m->status = ST_FAILED;
  db_text(st, col + 6, m->provider, sizeof m->provider);
  db_text(st, col + 7, m->provider_msg_id, sizeof m->provider_msg_id);
  db_text(st, col + 8, m->error_code, sizeof m->error_code);
  db_text(st, col + 9, m->error_text, sizeof m->error_text);
  m->error_retryable = (int)db_int(st, col + 10);
  m->attempts = (int)db_int(st, col + 11);
  m->next_attempt_at = db_int(st, col + 12);
  m->created_at = db_int(st, col + 13);
  m->updated_at = db_int(st, col + 14);
  db_text(st, col + 15, buf, sizeof buf);
  if (route_plan_parse(buf, &m->route))
    m->route = ROUTE_NONE;
  db_text(st, col + 16, m->route_reason, sizeof m->route_reason);
  m->purpose = strcmp(db_str(st, col + 17), "consent") == 0 ? PURPOSE_CONSENT
                                                            : PURPOSE_NORMAL;
  db_text(st, col + 18, m->metadata, sizeof m->metadata);
  db_text(st, col + 19, m->client_reference, sizeof m->client_reference);
  m->ref_round = db_is_null(st, col + 20) ? 1 : (int)db_int(st, col + 20);
  db_text(st, col + 21, m->resend_of, sizeof m->resend_of);

  ms = DB_Q(c, media_sql, DB_TEXT(m->id));
  while (db_next(ms))
    if (m->n_media < LB_MEDIA_MAX)
      db_text(ms, 0, m->media_ids[m->n_media++], LB_ID_SIZE);
  return db_end(ms);
}

enum lb_err db_message_load(struct dbc *c, const char *id, struct message *out)
{
  static const char sql[] =
      "SELECT " DB_MSG_COLS " FROM messages m WHERE m.id = ?";
  struct dbst *st = DB_Q(c, sql, DB_TEXT(id));
  enum lb_err rc = LB_ENOTFOUND, end;
  if (db_next(st))
    rc = db_row_message(c, st, 0, out);
  end = db_end(st);
  return end ? end : rc;
}

enum lb_err store_message_get(struct store *s, const char *id,
                              struct message *out)
{
  return db_message_load(db_reader(s), id, out);
}

enum lb_err store_tx_message_get(struct store_tx *tx, const char *id,
                                 struct message *out)
{
  return db_message_load(tx_conn(tx), id, out);
}

/* Inserts m unless (provider, provider_message_id) is taken: *inserted
 * says which. */
static enum lb_err insert_message(struct dbc *c, const struct message *m,
                                  const char *conv_id, int *inserted)
{
  static const char sql[] =
      "INSERT INTO messages(id, conversation_id, direction, from_e164, "
      "to_e164, body, status, provider, provider_message_id, error_code, "
      "error_text, error_retryable, attempts, next_attempt_at, created_at, "
      "updated_at, route, route_reason, purpose, metadata, client_reference, "
      "resend_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
      "ON CONFLICT (provider, provider_message_id) DO NOTHING RETURNING id";
  struct dbst *st = DB_Q(
      c, sql, DB_TEXT(m->id), DB_TEXT(conv_id),
      DB_TEXT(direction_name(m->direction)), DB_TEXT(m->from), DB_TEXT(m->to),
      DB_TEXT(m->text ? m->text : ""), DB_TEXT(status_name(m->status)),
      DB_TEXT(m->provider), DB_TEXT0(m->provider_msg_id),
      DB_TEXT0(m->error_code), DB_TEXT0(m->error_text),
      DB_INT(m->error_retryable), DB_INT(m->attempts),
      DB_INT(m->next_attempt_at), DB_INT(m->created_at), DB_INT(m->updated_at),
      DB_TEXT(m->route == ROUTE_NONE ? NULL : route_plan_name(m->route)),
      DB_TEXT0(m->route_reason),
      DB_TEXT(m->purpose == PURPOSE_CONSENT ? "consent" : NULL),
      DB_TEXT0(m->metadata), DB_TEXT0(m->client_reference),
      DB_TEXT0(m->resend_of));
  *inserted = db_next(st);
  return db_end(st);
}

static enum lb_err link_media(struct dbc *c, const struct message *m)
{
  static const char sql[] = "INSERT INTO message_media(message_id, position, "
                            "media_id) VALUES (?, ?, ?)";
  enum lb_err rc = LB_OK;
  for (size_t i = 0; i < m->n_media && !rc; i++)
    rc = DB_EXEC(c, sql, DB_TEXT(m->id), DB_INT(i), DB_TEXT(m->media_ids[i]));
  return rc;
}

enum lb_err store_tx_enqueue(struct store_tx *tx, struct message *m,
                             const struct link *link, const char *idem_key,
                             const char *request_hash)
{
  static const char idem_get[] = "SELECT request_sha256, message_id FROM "
                                 "idempotency_keys WHERE key = ?";
  static const char idem_put[] = "INSERT INTO idempotency_keys(key, "
                                 "request_sha256, message_id, created_at) "
                                 "VALUES (?, ?, ?, ?)";
  struct dbc *c = tx_conn(tx);
  const char *hash = request_hash ? request_hash : "";
  char conv[LB_ID_SIZE];
  enum lb_err rc;
  int inserted = 0;

  if (idem_key) {
    char seen[65] = "", first[LB_ID_SIZE] = "";
    struct dbst *st;
    int found;
    /* Two requests with one key at once (two nodes): the second waits
     * for the first's commit, then finds its message. */
    if ((rc = db_lock_name(c, DB_LOCK_IDEMPOTENCY, idem_key)))
      return rc;
    st = DB_Q(c, idem_get, DB_TEXT(idem_key));
    found = db_next(st);
    if (found) {
      db_text(st, 0, seen, sizeof seen);
      db_text(st, 1, first, sizeof first);
    }
    if ((rc = db_end(st)))
      return rc;
    if (found) {
      if ((rc = db_message_load(c, first, m)))
        return rc;
      return strcmp(seen, hash) == 0 ? LB_EDUPLICATE : LB_ECONFLICT;
    }
  }
  if ((rc = db_conversation_upsert(
           c, m->clinic_number[0] ? m->clinic_number : m->from, m->to, m, 0,
           m->created_at, conv)) ||
      (rc = insert_message(c, m, conv, &inserted)))
    return rc;
  if (!inserted)
    return LB_EDB;
  if ((rc = link_media(c, m)) ||
      (rc = db_history_add(c, m->id, status_name(m->status), NULL,
                           m->created_at)) ||
      (link && (rc = db_link_insert(c, link))))
    return rc;
  if (idem_key)
    rc = DB_EXEC(c, idem_put, DB_TEXT(idem_key), DB_TEXT(hash), DB_TEXT(m->id),
                 DB_INT(m->created_at));
  return rc;
}

static enum lb_err put_fetch(struct dbc *c, const char *message_id,
                             int position, const char *url, int64_t now)
{
  static const char sql[] =
      "INSERT INTO media_fetches(id, message_id, position, url, state, "
      "attempts, next_at, created_at, updated_at) VALUES "
      "(?, ?, ?, ?, 'pending', 0, ?, ?, ?)";
  char id[LB_ID_SIZE];
  id_new(id);
  return DB_EXEC(c, sql, DB_TEXT(id), DB_TEXT(message_id), DB_INT(position),
                 DB_TEXT(url), DB_INT(now), DB_INT(now), DB_INT(now));
}

enum lb_err store_tx_receive(struct store_tx *tx, struct message *m,
                             const struct media *media, size_t n_media,
                             const char *const *fetch_urls, size_t n_fetch)
{
  static const char dup_sql[] = "SELECT id FROM messages WHERE provider = ? "
                                "AND provider_message_id = ?";
  struct dbc *c = tx_conn(tx);
  char conv[LB_ID_SIZE];
  enum lb_err rc;
  int inserted = 0;

  /* A duplicate fails the step, so the transaction (and its conversation
   * update) is rolled back. */
  if ((rc = db_conversation_upsert(c, m->to, m->from, m, 1, m->created_at,
                                   conv)) ||
      (rc = insert_message(c, m, conv, &inserted)))
    return rc;
  if (!inserted) {
    rc = DB_ONE_TEXT(c, dup_sql, m->id, sizeof m->id, DB_TEXT(m->provider),
                     DB_TEXT(m->provider_msg_id));
    return rc && rc != LB_ENOTFOUND ? rc : LB_EDUPLICATE;
  }
  for (size_t i = 0; i < n_media; i++)
    if ((rc = db_media_put(c, &media[i])))
      return rc;
  if ((rc = link_media(c, m)) ||
      (rc = db_history_add(c, m->id, "received", NULL, m->created_at)))
    return rc;
  for (size_t k = 0; k < n_fetch; k++)
    if ((rc = put_fetch(c, m->id, (int)(m->n_media + k), fetch_urls[k],
                        m->created_at)))
      return rc;
  return LB_OK;
}

/* ---- outbox -------------------------------------------------------------- */

#define CLAIM_MAX 16

struct claim_arg {
  int64_t now;
  const struct outbox_lease *lease;
  struct message *out;
  size_t max, n;
};

/* The claim, around the backend's claim_suffix (nodes.c composes it: on
 * PostgreSQL the inner SELECT skips rows another node has locked). */
const char db_claim_head[] =
    "UPDATE messages SET status = 'sending', attempts = attempts + 1, "
    "updated_at = ?1, lease_node = ?3, lease_until = ?4 WHERE id IN "
    "(SELECT id FROM messages WHERE status = 'queued' AND next_attempt_at "
    "<= ?1 ORDER BY next_attempt_at, id LIMIT ?2";
const char db_claim_tail[] = ") RETURNING id";

static enum lb_err claim_tx(struct store_tx *tx, void *arg)
{
  struct claim_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  char ids[CLAIM_MAX][LB_ID_SIZE];
  size_t n = 0;
  struct dbst *st = DB_Q(c, c->s->sql[DB_SQL_CLAIM], DB_INT(a->now),
                         DB_INT(a->max < CLAIM_MAX ? a->max : CLAIM_MAX),
                         DB_TEXT(a->lease ? a->lease->node : NULL),
                         DB_INT(a->lease ? a->lease->until : 0));
  enum lb_err rc;
  while (db_next(st))
    if (n < CLAIM_MAX)
      db_text(st, 0, ids[n++], LB_ID_SIZE);
  if ((rc = db_end(st)))
    return rc;
  for (size_t i = 0; i < n; i++) {
    char detail[64];
    if ((rc = db_message_load(c, ids[i], &a->out[a->n])))
      return rc;
    snprintf(detail, sizeof detail, "attempt %d", a->out[a->n].attempts);
    if ((rc = db_history_add(c, ids[i], "sending", detail, a->now)))
      return rc;
    a->n++;
  }
  return LB_OK;
}

enum lb_err store_tx_outbox_claim(struct store_tx *tx, int64_t now,
                                  const struct outbox_lease *lease,
                                  struct message *out, size_t max, size_t *n)
{
  struct claim_arg a = {now, lease, out, max, 0};
  enum lb_err rc = claim_tx(tx, &a);
  *n = a.n;
  return rc;
}

enum lb_err store_outbox_claim(struct store *s, int64_t now,
                               const struct outbox_lease *lease,
                               struct message *out, size_t max, size_t *n)
{
  struct claim_arg a = {now, lease, out, max, 0};
  enum lb_err rc = db_write(s, claim_tx, &a);
  if (rc) {
    for (size_t i = 0; i < a.n; i++)
      message_release(&out[i]);
    a.n = 0;
  }
  *n = a.n;
  return rc;
}

static enum lb_err current_status(struct dbc *c, const char *id,
                                  enum msg_status *out)
{
  static const char sql[] = "SELECT status FROM messages WHERE id = ?";
  char buf[32];
  enum lb_err rc;
  /* The caller decides on this status and writes the next: a receipt and
   * the outbox's result for one message at once (concurrent writers on
   * PostgreSQL) take turns, so neither decides on a status gone stale. */
  if ((rc = db_lock_name(c, DB_LOCK_MESSAGE, id)) ||
      (rc = DB_ONE_TEXT(c, sql, buf, sizeof buf, DB_TEXT(id))))
    return rc;
  return status_parse(buf, out) ? LB_EDB : LB_OK;
}

static enum lb_err set_provider_id(struct dbc *c, const char *id,
                                   const char *pmid)
{
  static const char sql[] = "UPDATE messages SET provider_message_id = ? "
                            "WHERE id = ? AND provider_message_id IS NULL";
  if (!pmid || !*pmid)
    return LB_OK;
  return DB_EXEC(c, sql, DB_TEXT(pmid), DB_TEXT(id));
}

enum lb_err store_tx_outbox_result(struct store_tx *tx, const struct message *m,
                                   const char *detail, int *ignored)
{
  static const char sql[] =
      "UPDATE messages SET status = ?1, provider_message_id = "
      "COALESCE(?2, provider_message_id), error_code = ?3, error_text = ?4, "
      "error_retryable = ?5, next_attempt_at = ?6, updated_at = ?7, "
      "route = COALESCE(?8, route), route_reason = COALESCE(?9, "
      "route_reason), provider = ?10, from_e164 = ?11, lease_node = CASE "
      "WHEN ?1 = 'sending' THEN lease_node END, lease_until = CASE WHEN ?1 = "
      "'sending' THEN lease_until END WHERE id = ?12";
  struct dbc *c = tx_conn(tx);
  enum msg_status cur;
  int64_t now = clock_now_ms();
  enum lb_err rc = current_status(c, m->id, &cur);
  *ignored = 0;
  if (rc)
    return rc;
  if (cur != m->status && !status_can_move(cur, m->status)) {
    /* A receipt got here first; keep its status, keep the provider id. */
    *ignored = 1;
    return set_provider_id(c, m->id, m->provider_msg_id);
  }
  if ((rc = DB_EXEC(
           c, sql, DB_TEXT(status_name(m->status)),
           DB_TEXT0(m->provider_msg_id), DB_TEXT0(m->error_code),
           DB_TEXT0(m->error_text), DB_INT(m->error_retryable),
           DB_INT(m->next_attempt_at), DB_INT(now),
           DB_TEXT(m->route == ROUTE_NONE ? NULL : route_plan_name(m->route)),
           DB_TEXT0(m->route_reason), DB_TEXT(m->provider), DB_TEXT(m->from),
           DB_TEXT(m->id))))
    return rc;
  return db_history_add(c, m->id, status_name(m->status), detail, now);
}

enum lb_err store_outbox_next_due(struct store *s, int64_t *at)
{
  static const char sql[] = "SELECT MIN(next_attempt_at) FROM messages "
                            "WHERE status = 'queued'";
  struct dbst *st = DB_Q0(db_reader(s), sql);
  *at = -1;
  if (db_next(st) && !db_is_null(st, 0))
    *at = db_int(st, 0);
  return db_end(st);
}

/* A message in sending that may be taken over at ?1: its lease expired
 * (or it has none), or node ?2 holds it (an earlier run of this node). */
#define TAKEOVER_OK                                                            \
  "status = 'sending' AND (COALESCE(lease_until, 0) < ?1 OR lease_node = ?2)"

enum lb_err store_outbox_stuck(struct store *s, int64_t now, const char *self,
                               struct outbox_stuck *out, size_t max, size_t *n)
{
  static const char sql[] =
      "SELECT id, provider, lease_node FROM messages WHERE " TAKEOVER_OK
      " AND (error_code IS NULL OR error_code <> 'unconfirmed') ORDER BY id "
      "LIMIT ?3";
  struct dbst *st =
      DB_Q(db_reader(s), sql, DB_INT(now), DB_TEXT(self), DB_INT(max));
  *n = 0;
  while (db_next(st))
    if (*n < max) {
      db_text(st, 0, out[*n].id, sizeof out[*n].id);
      db_text(st, 1, out[*n].provider, sizeof out[*n].provider);
      db_text(st, 2, out[*n].lease_node, sizeof out[*n].lease_node);
      (*n)++;
    }
  return db_end(st);
}

enum lb_err store_tx_outbox_recover_one(struct store_tx *tx, const char *id,
                                        int64_t now, const char *self,
                                        int resend, int takeover, int *changed)
{
  static const char requeue_sql[] =
      "UPDATE messages SET status = 'queued', next_attempt_at = ?1, "
      "updated_at = ?1, lease_node = NULL, lease_until = NULL WHERE id = ?3 "
      "AND " TAKEOVER_OK;
  static const char unconf_sql[] =
      "UPDATE messages SET error_code = 'unconfirmed', error_text = ?4, "
      "error_retryable = 0, updated_at = ?1, lease_node = NULL, lease_until "
      "= NULL WHERE id = ?3 AND " TAKEOVER_OK;
  static const char unconf_text[] =
      "lyrebird stopped while sending this message, so the provider may "
      "have it. It is not resent automatically (this provider cannot "
      "recognise a resend); its delivery receipt will settle it.";
  struct dbc *c = tx_conn(tx);
  enum lb_err rc =
      resend ? DB_EXEC(c, requeue_sql, DB_INT(now), DB_TEXT(self), DB_TEXT(id))
             : DB_EXEC(c, unconf_sql, DB_INT(now), DB_TEXT(self), DB_TEXT(id),
                       DB_TEXT(unconf_text));
  *changed = 0;
  if (rc || !db_changes(c))
    return rc;
  *changed = 1;
  return db_history_add(
      c, id, resend ? "queued" : "sending",
      resend     ? takeover ? "requeued after its node stopped renewing its "
                              "lease: the provider recognises a resend by our "
                              "reference"
                            : "requeued after a restart: the provider recognises "
                              "a resend by our reference"
      : takeover ? "unconfirmed after its node stopped renewing its lease; "
                   "waiting for a receipt"
                 : "unconfirmed after a restart; waiting for a receipt",
      now);
}

/* ---- delivery receipts ------------------------------------------------------
 */

/* A shortened id: 16 to 25 of the characters ids are made of. */
static int ref_is_tail(const char *ref)
{
  size_t n = ref ? strlen(ref) : 0;
  if (n < 16 || n >= LB_ID_SIZE - 1)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((ref[i] >= '0' && ref[i] <= '9') || (ref[i] >= 'A' && ref[i] <= 'Z')))
      return 0;
  return 1;
}

/* Our message for a receipt: by our id, by the provider's, or by the tail
 * of our id that a provider kept. "" when none. */
static enum lb_err receipt_message(struct dbc *c, const char *provider,
                                   const char *pmid, const char *ref,
                                   char id[LB_ID_SIZE])
{
  static const char by_ref[] = "SELECT id FROM messages WHERE id = ? AND "
                               "provider = ? AND direction = 'outbound'";
  static const char by_pmid[] = "SELECT id FROM messages WHERE provider = ? "
                                "AND provider_message_id = ?";
  static const char by_tail[] =
      "SELECT id FROM messages WHERE id LIKE '%' || ? AND provider = ? AND "
      "direction = 'outbound' LIMIT 2";
  enum lb_err rc = LB_ENOTFOUND;
  id[0] = '\0';
  if (ref && *ref)
    rc =
        DB_ONE_TEXT(c, by_ref, id, LB_ID_SIZE, DB_TEXT(ref), DB_TEXT(provider));
  if (rc == LB_ENOTFOUND && pmid && *pmid)
    rc = DB_ONE_TEXT(c, by_pmid, id, LB_ID_SIZE, DB_TEXT(provider),
                     DB_TEXT(pmid));
  if (rc == LB_ENOTFOUND && ref_is_tail(ref)) {
    /* A provider that keeps only the end of our id (SMS Broadcast's ref
     * holds 20 characters): the one outbound message whose id ends so.
     * Only needed for a send whose answer was lost (no provider id). */
    struct dbst *st = DB_Q(c, by_tail, DB_TEXT(ref), DB_TEXT(provider));
    int n = 0;
    while (db_next(st))
      if (++n == 1)
        db_text(st, 0, id, LB_ID_SIZE);
    if ((rc = db_end(st)))
      return rc;
    rc = n == 1 ? LB_OK : LB_ENOTFOUND;
  }
  if (rc)
    id[0] = '\0';
  return rc;
}

enum lb_err store_tx_status_apply(struct store_tx *tx, const char *provider,
                                  const char *pmid, const char *ref,
                                  enum msg_status status, const char *code,
                                  const char *text, char msg_id[LB_ID_SIZE],
                                  int *moved)
{
  static const char upd[] =
      "UPDATE messages SET status = ?, error_code = COALESCE(?, error_code), "
      "error_text = COALESCE(?, error_text), error_retryable = 0, "
      "updated_at = ? WHERE id = ?";
  static const char clear_unconfirmed[] =
      "UPDATE messages SET error_code = NULL, error_text = NULL WHERE id = ? "
      "AND error_code = 'unconfirmed'";
  struct dbc *c = tx_conn(tx);
  enum msg_status cur;
  char detail[LB_ERRTEXT_MAX + 96];
  int64_t now = clock_now_ms();
  int delivered = status == ST_DELIVERED, earlier = 0;
  enum lb_err rc;

  if (moved)
    *moved = 0;
  if ((rc = receipt_message(c, provider, pmid, ref, msg_id)) ||
      (rc = db_attempt_is_earlier(c, msg_id, provider, pmid, &earlier)))
    return rc;
  if (earlier) {
    /* Staff retried the message since: this is about the attempt that
     * ended, and never moves the new one. */
    snprintf(detail, sizeof detail,
             "receipt for an earlier attempt (%.60s): %s%s%.300s (ignored)",
             pmid, status_name(status), code && *code ? " " : "",
             code ? code : "");
    return db_history_add(c, msg_id, status_name(status), detail, now);
  }
  if ((rc = current_status(c, msg_id, &cur)) ||
      (rc = set_provider_id(c, msg_id, pmid)))
    return rc;
  if (cur == status)
    return LB_OK; /* a repeated receipt */
  snprintf(detail, sizeof detail, "receipt%s%s%s%s", code && *code ? " " : "",
           code ? code : "", text && *text ? ": " : "", text ? text : "");
  if (!status_can_move(cur, status)) {
    char late[LB_ERRTEXT_MAX + 160];
    snprintf(late, sizeof late, "%s (ignored: already %s)", detail,
             status_name(cur));
    return db_history_add(c, msg_id, status_name(status), late, now);
  }
  if ((rc = DB_EXEC(c, upd, DB_TEXT(status_name(status)),
                    DB_TEXT0(delivered ? NULL : code),
                    DB_TEXT0(delivered ? NULL : text), DB_INT(now),
                    DB_TEXT(msg_id))) ||
      (rc = DB_EXEC(c, clear_unconfirmed, DB_TEXT(msg_id))))
    return rc;
  if (moved)
    *moved = 1;
  return db_history_add(c, msg_id, status_name(status), detail, now);
}

/* ---- provider-side redaction --------------------------------------------- */

enum lb_err store_redactions_due(struct store *s, const char *provider,
                                 int64_t final_before, struct redaction *out,
                                 size_t max, size_t *n)
{
  static const char sql[] =
      "SELECT id, provider_message_id FROM messages WHERE provider = ? AND "
      "direction = 'outbound' AND status IN ('delivered', 'undelivered', "
      "'failed') AND provider_message_id IS NOT NULL AND redacted_at IS NULL "
      "AND updated_at < ? ORDER BY updated_at LIMIT ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(provider),
                         DB_INT(final_before), DB_INT(max));
  *n = 0;
  while (db_next(st))
    if (*n < max) {
      db_text(st, 0, out[*n].id, sizeof out[*n].id);
      db_text(st, 1, out[*n].provider_msg_id, sizeof out[*n].provider_msg_id);
      (*n)++;
    }
  return db_end(st);
}

struct redacted_arg {
  const char *id;
  int64_t at;
};

static enum lb_err redacted_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] = "UPDATE messages SET redacted_at = ? WHERE id = ?";
  struct redacted_arg *a = arg;
  enum lb_err rc = DB_EXEC(tx_conn(tx), sql, DB_INT(a->at), DB_TEXT(a->id));
  return rc ? rc
            : db_history_add(tx_conn(tx), a->id, "redacted",
                             "the body was redacted at the provider; "
                             "lyrebird keeps its own copy",
                             a->at);
}

enum lb_err store_redacted(struct store *s, const char *id, int64_t at)
{
  struct redacted_arg a = {id, at};
  return db_write(s, redacted_tx, &a);
}
