/* The store: one interface for every backend, opened by URL ("sqlite:PATH"
 * now; "postgresql://..." next). The queries are written once, in portable
 * SQL (TEXT ids, BIGINT milliseconds, ON CONFLICT ... DO NOTHING,
 * RETURNING), against the small statement layer each backend supplies
 * (store/backend.h).
 *
 * The one promise about writes: when a write returns LB_OK (or its done
 * callback is called with LB_OK) it has committed, and with synchronous =
 * full it has reached the disk. How writes are scheduled is the backend's
 * business.
 *
 * Writes come two ways. Most functions below are a whole transaction of
 * their own. The store_tx_* functions are steps inside a transaction that
 * the caller composes with store_write(): the gateway stores an inbound
 * message, its media, the patient's opt-out and whatever its event
 * subscribers add, all in one transaction. A step that fails makes the
 * composed function fail, and the transaction then rolls back whole.
 *
 * Ownership: struct store is opaque; store_free() releases it. Messages
 * filled by the store own their 'text' (message_release()). A store_tx is
 * valid only inside the function it was passed to. */
#ifndef LB_STORE_H
#define LB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/audit.h"
#include "core/consent.h"
#include "core/message.h"
#include "core/team.h"
#include "core/user.h"
#include "util/err.h"
#include "util/password.h"

struct store;
struct store_tx;

struct store_options {
  int synchronous_full;     /* 1: fsync every commit (default); SQLite */
  int pool_size;            /* write connections; PostgreSQL (0: 4) */
  int statement_timeout_ms; /* every query's limit; PostgreSQL (0: 30 s) */
};

/* Opens the store at 'url': "sqlite:PATH", a plain path (SQLite too), or
 * "postgresql://..." (or "postgres://...", libpq's URL).
 * LB_EUNSUPPORTED for a "scheme://" no backend serves. */
enum lb_err store_open(const char *url, const struct store_options *opt,
                       struct store **out);
void store_free(struct store *s);
/* Applies pending migrations; *from and *to are the versions. */
enum lb_err store_migrate(struct store *s, int *from, int *to);
/* Applies pending migrations up to version 'target' only (1 to the
 * newest; LB_EINVAL otherwise): to stage an upgrade. */
enum lb_err store_migrate_to(struct store *s, int target, int *from, int *to);
enum lb_err store_schema_version(struct store *s, int *version);

/* Copies every row of the SQLite store 'from' into 'to' (a new
 * PostgreSQL database), ids and all, one transaction per table; both at
 * the newest schema version (migrate them first), 'to' with no rows yet
 * (LB_EDUPLICATE otherwise). progress(arg, table, rows) after each table,
 * its rows counted again in 'to'. Its statements are cached in both
 * stores under texts it frees: free both stores after one copy. */
typedef void (*store_copy_cb)(void *arg, const char *table, int64_t rows);
enum lb_err store_copy(struct store *from, struct store *to,
                       store_copy_cb progress, void *arg);

/* ---- composed transactions ---------------------------------------------- */

typedef enum lb_err (*store_tx_fn)(struct store_tx *tx, void *arg);

/* Runs fn in one transaction and returns once it has committed (LB_OK) or
 * rolled back (fn's error, or LB_EDB). fn may run on another thread (the
 * SQLite backend's writer): it must only use the store through tx. */
enum lb_err store_write(struct store *s, store_tx_fn fn, void *arg);
/* The same, returning at once: done(darg, rc) runs exactly once, on any
 * thread, after the commit or the rollback -- possibly before this call
 * returns. fn, arg and darg must stay valid until then. When this call
 * itself fails, done is not called. */
enum lb_err store_write_async(struct store *s, store_tx_fn fn, void *arg,
                              void (*done)(void *darg, enum lb_err rc),
                              void *darg);

/* ---- numbers and patients (conversations.c) ----------------------------- */

enum lb_err store_number_upsert(struct store *s, const char *e164,
                                const char *name, const char *host);
/* Creates the patient if missing; sets the name when name is not NULL. */
enum lb_err store_patient_upsert(struct store *s, const char *e164,
                                 const char *name);
/* Sets (or, with NULL or "", clears) a known patient's name.
 * LB_ENOTFOUND if lyrebird has never seen the number. */
enum lb_err store_tx_patient_rename(struct store_tx *tx, const char *e164,
                                    const char *name);
/* Sets (or, with NULL or "", clears) a known patient's date of birth,
 * "YYYY-MM-DD". LB_ENOTFOUND for an unknown number. */
enum lb_err store_tx_patient_set_dob(struct store_tx *tx, const char *e164,
                                     const char *dob);
struct patient_row {
  char e164[LB_E164_SIZE];
  char name[128]; /* "" when unknown */
  char dob[11];   /* "" when unknown */
  int64_t created_at;
};
/* LB_ENOTFOUND for a number lyrebird has never seen. */
enum lb_err store_patient_get(struct store *s, const char *e164,
                              struct patient_row *out);
/* The date of birth on file; LB_ENOTFOUND when there is none (or no such
 * patient). */
enum lb_err store_patient_dob(struct store *s, const char *e164, char out[11]);
/* ---- a conversation's pictures (gallery.c) ------------------------------ */

struct conv_media_row {
  char media_id[LB_ID_SIZE];
  char message_id[LB_ID_SIZE];
  int position;       /* within the message, from 0 */
  char direction[9];  /* inbound, outbound */
  int64_t created_at; /* the message's */
};
typedef enum lb_err (*store_conv_media_cb)(void *arg,
                                           const struct conv_media_row *m);
/* Up to 'limit' (at most 200) images of the conversation between 'number'
 * and 'patient', newest message first and in order within a message,
 * after the item (before_msg, before_pos) of an earlier page (before_msg
 * NULL: from the newest). LB_ENOTFOUND when there is no conversation.
 * The rows are the callee's; cb may use the store. */
enum lb_err store_conversation_media(struct store *s, const char *number,
                                     const char *patient,
                                     const char *before_msg, int before_pos,
                                     int limit, store_conv_media_cb cb,
                                     void *arg);

/* ---- consent (consent.c) ------------------------------------------------- */

/* Where the patient stands (opted_out 0 for a number never seen). */
enum lb_err store_patient_consent(struct store *s, const char *e164,
                                  struct consent *out);
enum lb_err store_tx_patient_consent(struct store_tx *tx, const char *e164,
                                     struct consent *out);
/* Records e if it changes the patient's state (*changed 1): appended to
 * the history, and the patient's current state set. STOP from a patient
 * already opted out changes nothing. e->id and e->at are filled in when
 * empty. LB_ENOTFOUND for a number lyrebird has never seen. */
enum lb_err store_tx_consent_change(struct store_tx *tx,
                                    struct consent_event *e, int *changed);
typedef enum lb_err (*store_consent_cb)(void *arg,
                                        const struct consent_event *e);
/* Oldest first. */
enum lb_err store_consent_history(struct store *s, const char *e164,
                                  store_consent_cb cb, void *arg);

/* ---- messages (messages.c) ---------------------------------------------- */

/* Queues an outbound message (status queued): patient, conversation,
 * media links, first history row, and its secure link when 'link' is not
 * NULL (in the same transaction, so the outbox never sees the message
 * without it). With an idempotency key: if the key was used before, *msg is
 * replaced by the first message and the step returns LB_EDUPLICATE (same
 * request hash) or LB_ECONFLICT (a different one). */
struct link;
enum lb_err store_tx_enqueue(struct store_tx *tx, struct message *msg,
                             const struct link *link, const char *idem_key,
                             const char *request_hash);

/* Stores an inbound message with its media and the media still to fetch
 * (fetch_urls, placed after the media in the message), unless (provider,
 * provider_msg_id) is already stored: then LB_EDUPLICATE, with msg->id set
 * to the stored id. */
enum lb_err store_tx_receive(struct store_tx *tx, struct message *msg,
                             const struct media *media, size_t n_media,
                             const char *const *fetch_urls, size_t n_fetch);

enum lb_err store_message_get(struct store *s, const char *id,
                              struct message *out);
enum lb_err store_tx_message_get(struct store_tx *tx, const char *id,
                                 struct message *out);

/* A message's history, oldest first (events.c). */
typedef enum lb_err (*store_event_cb)(void *arg, const char *status,
                                      const char *detail, int64_t at);
enum lb_err store_message_events(struct store *s, const char *id,
                                 store_event_cb cb, void *arg);

/* Outbox. Claims up to 'max' due queued messages (status -> sending,
 * attempts + 1) under a lease: node 'node' holds each until 'lease_until'
 * (store_outbox_renew extends it); *n is how many. The caller releases
 * out[0..*n) -- in the tx form also when the transaction later fails. */
struct outbox_lease {
  const char *node;
  int64_t until;
};
enum lb_err store_tx_outbox_claim(struct store_tx *tx, int64_t now,
                                  const struct outbox_lease *lease,
                                  struct message *out, size_t max, size_t *n);
enum lb_err store_outbox_claim(struct store *s, int64_t now,
                               const struct outbox_lease *lease,
                               struct message *out, size_t max, size_t *n);
/* Extends every lease 'node' holds on a message still in sending to
 * 'until'; *n (may be NULL) is how many (nodes.c). */
enum lb_err store_outbox_renew(struct store *s, const char *node, int64_t until,
                               int64_t *n);
/* Records a send attempt's result: m->status, provider id, error fields,
 * next_attempt_at, route, and the provider and sending number (which
 * change when an MMS from a second sender falls back to a link from the
 * clinic's own number). A move the lifecycle forbids (a receipt got there
 * first) changes only the provider id, and sets *ignored. */
enum lb_err store_tx_outbox_result(struct store_tx *tx, const struct message *m,
                                   const char *detail, int *ignored);
/* Earliest next_attempt_at among queued messages, or -1 if none. */
enum lb_err store_outbox_next_due(struct store *s, int64_t *at);
/* Up to 'max' messages left in "sending" (not already marked
 * unconfirmed) that may be taken over at 'now': their lease expired (or
 * they have none), or it is held by node 'self' (at start: an earlier
 * run of this node; NULL for none). */
#define LB_NODE_ID_MAX 64
struct outbox_stuck {
  char id[LB_ID_SIZE];
  char provider[LB_PROVIDER_MAX];
  char lease_node[LB_NODE_ID_MAX]; /* "" when none */
};
enum lb_err store_outbox_stuck(struct store *s, int64_t now, const char *self,
                               struct outbox_stuck *out, size_t max, size_t *n);
/* Settles one, if it still may be taken over (as above): with 'resend'
 * (its provider dedupes by our reference) back to queued, else left in
 * sending, marked unconfirmed, for a receipt to settle. Either way its
 * lease ends. 'takeover': another node held it (the history says so;
 * else "after a restart"). *changed 0 when it was no longer in sending,
 * or a live node renewed its lease meanwhile. */
enum lb_err store_tx_outbox_recover_one(struct store_tx *tx, const char *id,
                                        int64_t now, const char *self,
                                        int resend, int takeover, int *changed);

/* Applies a delivery receipt. Finds the message by our id ('ref') or by
 * (provider, provider_msg_id). LB_ENOTFOUND if neither matches. A move the
 * lifecycle forbids is recorded in history only. *msg_id receives our id;
 * *moved (may be NULL) is 1 when the status changed. */
enum lb_err store_tx_status_apply(struct store_tx *tx, const char *provider,
                                  const char *provider_msg_id, const char *ref,
                                  enum msg_status status,
                                  const char *error_code,
                                  const char *error_text,
                                  char msg_id[LB_ID_SIZE], int *moved);

/* ---- conversations (conversations.c) ------------------------------------ */

/* A conversation's messages that match a search: the newest of them, and
 * how many. The snippet is a piece of its text with each matched word
 * between STORE_HIT_START and STORE_HIT_END (when 'marked'; otherwise
 * plain). */
#define STORE_HIT_START '\x01'
#define STORE_HIT_END '\x02'
struct conversation_match {
  char message_id[LB_ID_SIZE];
  char direction[12];
  int64_t created_at;
  int64_t key; /* the store's own */
  int count;
  int marked;
  char snippet[800];
};

struct conversation_row {
  char number[LB_E164_SIZE];
  char patient[LB_E164_SIZE];
  char name[128]; /* "" when unknown */
  int has_name;
  int unread;
  int64_t opted_out_at;    /* 0: not opted out */
  char opt_out_words[400]; /* how, in words */
  int has_last;
  struct message last; /* valid when has_last */
  int has_match;
  struct conversation_match match; /* valid when has_match */
  enum conv_state state;
  char assigned_to[LB_USERNAME_MAX]; /* "" when unassigned */
};
typedef enum lb_err (*store_conv_cb)(void *arg,
                                     const struct conversation_row *row);
typedef enum lb_err (*store_msg_cb)(void *arg, const struct message *m);

/* Which conversations a list shows (team.c's fields): 'state' NULL for
 * every state; 'assigned' NULL for all, "" for the unassigned, else the
 * username they are assigned to. */
struct conv_filter {
  const char *state;
  const char *assigned;
};
/* Newest activity first. 'query' (NULL or "" for all) keeps those whose
 * patient name contains it (ASCII case-insensitive) or whose number
 * contains it; the caller normalises a number-like query to digits. The
 * query's words also search the text of the messages (each word, the last
 * as a prefix; none an operator): a conversation with a matching message
 * is kept too, and its row carries the match. 'f' may be NULL (every
 * conversation). */
enum lb_err store_conversations(struct store *s, const char *number,
                                const char *query, const struct conv_filter *f,
                                int limit, store_conv_cb cb, void *arg);
/* The newest 'limit' messages before 'before_id' (NULL: the newest),
 * delivered to cb oldest first. LB_ENOTFOUND: no such conversation. */
enum lb_err store_conversation_messages(struct store *s, const char *number,
                                        const char *patient,
                                        const char *before_id, int limit,
                                        store_msg_cb cb, void *arg);
/* Creates the patient and the conversation if missing. */
enum lb_err store_conversation_open(struct store *s, const char *number,
                                    const char *patient);
/* Marks the conversation read. LB_ENOTFOUND: no such conversation. */
enum lb_err store_tx_conversation_read(struct store_tx *tx, const char *number,
                                       const char *patient);

/* ---- working as a team (team.c) ------------------------------------------ */

/* LB_ENOTFOUND: no such conversation. */
enum lb_err store_conversation_team(struct store *s, const char *number,
                                    const char *patient, struct conv_team *out);
/* The same, inside a transaction. */
enum lb_err store_tx_conversation_team(struct store_tx *tx, const char *number,
                                       const char *patient,
                                       struct conv_team *out);
/* What to change: the state, the assignee (NULL unassigns), or both. */
struct conv_team_change {
  int set_state;
  enum conv_state state;
  int set_assignee;
  const char *assignee;
};
/* Applies ch; *before and *after are the fields around it (changed_by is
 * left ""). LB_ENOTFOUND: no such conversation. */
enum lb_err store_tx_conversation_team_set(struct store_tx *tx,
                                           const char *number,
                                           const char *patient,
                                           const struct conv_team_change *ch,
                                           struct conv_team *before,
                                           struct conv_team *after);
/* Adds n (patient, author, author_kind and text set) to the patient's
 * conversation; fills n->id and n->created_at. LB_ENOTFOUND: no such
 * conversation. */
enum lb_err store_tx_note_add(struct store_tx *tx, const char *number,
                              struct note *n);
typedef enum lb_err (*store_note_cb)(void *arg, const struct note *n);
/* Up to 'limit' notes with after_id < id < before_id (either NULL for no
 * bound), oldest first; each is borrowed by cb for the call. */
enum lb_err store_notes(struct store *s, const char *number,
                        const char *patient, const char *after_id,
                        const char *before_id, int limit, store_note_cb cb,
                        void *arg);

/* ---- media (media.c) ---------------------------------------------------- */

enum lb_err store_media_put(struct store *s, const struct media *m);
enum lb_err store_media_get(struct store *s, const char *id, struct media *out);
enum lb_err store_tx_media_get(struct store_tx *tx, const char *id,
                               struct media *out);
/* The patient of the first message that carries media 'id' ("" when none:
 * uploaded, not sent yet). */
enum lb_err store_media_patient(struct store *s, const char *id,
                                char out[LB_E164_SIZE]);

/* A variant of a stored media item (message.h); put replaces one of the
 * same kind. LB_ENOTFOUND when there is none. */
enum lb_err store_media_variant_put(struct store *s, const char *media_id,
                                    const struct media_variant *v);
enum lb_err store_media_variant_get(struct store *s, const char *media_id,
                                    const char *kind,
                                    struct media_variant *out);

/* Inbound media still to be fetched (the provider sent URLs). */
#define LB_FETCH_URL_MAX 2048
struct media_fetch {
  char id[LB_ID_SIZE];
  char message_id[LB_ID_SIZE];
  int position; /* where the item goes in the message's media */
  char url[LB_FETCH_URL_MAX];
  char provider[32]; /* the message's provider */
  int attempts;
};

/* The earliest next_at among pending fetches, or -1 if none (nodes.c). */
enum lb_err store_fetches_next_due(struct store *s, int64_t *at);
/* Up to 'max' pending fetches due at 'now', oldest first. */
enum lb_err store_fetches_due(struct store *s, int64_t now,
                              struct media_fetch *out, size_t max, size_t *n);
/* The item arrived: stores md (and its variants) at f's position of the
 * message. */
enum lb_err store_tx_fetch_done(struct store_tx *tx,
                                const struct media_fetch *f,
                                const struct media *md);
/* Failed: tried again at next_at, or (next_at < 0) given up for good,
 * which marks the item unavailable on its message. */
enum lb_err store_tx_fetch_failed(struct store_tx *tx,
                                  const struct media_fetch *f, int64_t next_at,
                                  const char *error);
/* How the message's fetched media stands: pending items, and the error of
 * each item given up (cb, in position order). */
enum lb_err
store_message_fetches(struct store *s, const char *message_id, int *pending,
                      enum lb_err (*cb)(void *arg, const char *error),
                      void *arg);
enum lb_err store_tx_message_fetches(
    struct store_tx *tx, const char *message_id, int *pending,
    enum lb_err (*cb)(void *arg, const char *error), void *arg);

/* ---- the audit log (audit.c) ----------------------------------------------
 */

/* Appends e (seq, id, at when 0, and the hashes are filled in), in the
 * caller's transaction or in one of its own. */
enum lb_err store_tx_audit(struct store_tx *tx, struct audit_entry *e);
enum lb_err store_audit(struct store *s, struct audit_entry *e);
typedef enum lb_err (*store_audit_cb)(void *arg, const struct audit_entry *e);
/* Rows at or after 'since' (ms) and after 'after_seq', of 'patient' (NULL:
 * all), oldest first, at most 'limit' (<= 10000). */
enum lb_err store_audit_list(struct store *s, const char *patient,
                             int64_t since, int64_t after_seq, int limit,
                             store_audit_cb cb, void *arg);
/* Checks the whole chain: LB_OK with *rows, or LB_ESIGNATURE with the
 * first broken row in *bad and why in words. */
enum lb_err store_audit_verify(struct store *s, int64_t *rows,
                               struct audit_entry *bad, char *why,
                               size_t whylen);

/* ---- the retention purge (purge.c) ----------------------------------------
 */

struct purge_counts {
  int64_t patients, messages, media, variants, links, link_views, blobs;
  int64_t oldest, newest; /* the messages' created_at range; 0 if none */
};

#define PURGE_BATCH_MAX 10000
#define PURGE_BLOBS_PER_MESSAGE (LB_MEDIA_MAX * 8)
#define LB_BLOB_KEY_SIZE 96

/* One batch's work: what it deleted (added to counts) and the blobs no
 * row refers to any more, for the caller to delete after the commit. */
struct purge_batch {
  struct purge_counts counts;
  char (*blobs)[LB_BLOB_KEY_SIZE]; /* the caller's, cap_blobs long */
  size_t n_blobs, cap_blobs;       /* PURGE_BLOBS_PER_MESSAGE a message */
  int more; /* the patient has more messages: run another batch */
};

typedef enum lb_err (*store_text_cb)(void *arg, const char *text);
/* The patients whose last message is before 'last_before' (ms) and who
 * have no date of birth on file or were born on or before 'born_by'
 * ("YYYY-MM-DD"): their whole record has been kept long enough. */
enum lb_err store_purge_patients(struct store *s, int64_t last_before,
                                 const char *born_by, store_text_cb cb,
                                 void *arg);
/* Adds what purging 'patient' would delete to *c (a dry run). */
enum lb_err store_purge_count(struct store *s, const char *patient,
                              struct purge_counts *c);
/* Deletes up to 'max' of the patient's messages with their history,
 * media links, links and link views, media fetches and idempotency keys,
 * and media (with variants) no other message uses; after the last batch,
 * the patient's notes (and their note.created events), their empty
 * conversations and their name and date of birth. */
enum lb_err store_tx_purge_batch(struct store_tx *tx, const char *patient,
                                 int max, struct purge_batch *b);

/* ---- provider-side redaction (messages.c) ----------------------------------
 */

struct redaction {
  char id[LB_ID_SIZE];
  char provider_msg_id[LB_PROVIDER_ID_MAX];
};
/* Up to 'max' messages sent through 'provider' that reached a final status
 * before 'final_before' (ms) and are not yet redacted there. */
enum lb_err store_redactions_due(struct store *s, const char *provider,
                                 int64_t final_before, struct redaction *out,
                                 size_t max, size_t *n);
/* The message's body was redacted at its provider (a history row says
 * so); lyrebird's own copy is untouched. */
enum lb_err store_redacted(struct store *s, const char *id, int64_t at);

/* ---- staff accounts and sessions (users.c) ------------------------------ */

/* Adds u (u->id is filled in). LB_EDUPLICATE if the username is taken. */
enum lb_err store_user_add(struct store *s, struct user *u);
enum lb_err store_user_get(struct store *s, const char *username,
                           struct user *out);
typedef enum lb_err (*store_user_cb)(void *arg, const struct user *u);
enum lb_err store_users(struct store *s, store_user_cb cb, void *arg);

/* What store_user_update changes; a NULL pointer or -1 keeps the field. */
struct user_change {
  const char *password_hash;
  const char *name; /* "" clears */
  int role;         /* enum user_role, or -1 */
  int disabled;     /* 0, 1, or -1 */
  int rehash;       /* the same password, re-hashed: sessions stay */
};
/* A new password or disabling an account also ends its sessions.
 * LB_ENOTFOUND if there is no such user. */
enum lb_err store_user_update(struct store *s, const char *username,
                              const struct user_change *ch);

struct session {
  char user_id[LB_ID_SIZE];
  char csrf[64];
  int64_t created_at;
  int64_t last_seen_at;
  struct user user;
};
/* token_hash is the hex SHA-256 of the cookie's token: the token itself is
 * never stored. */
enum lb_err store_session_create(struct store *s, const char *token_hash,
                                 const char *user_id, const char *csrf,
                                 int64_t now);
/* LB_ENOTFOUND when there is no such session. Expiry is the caller's. */
enum lb_err store_session_get(struct store *s, const char *token_hash,
                              struct session *out);
enum lb_err store_session_touch(struct store *s, const char *token_hash,
                                int64_t now);
enum lb_err store_session_delete(struct store *s, const char *token_hash);
/* Deletes sessions idle since before idle_before or created before
 * created_before; *n is how many. */
enum lb_err store_sessions_expire(struct store *s, int64_t idle_before,
                                  int64_t created_before, int *n);

/* ---- secure links to images (links.c) ----------------------------------- */

struct link {
  char id[LB_ID_SIZE];
  char token_hash[65]; /* SHA-256 hex of the token; the token is never stored */
  char message_id[LB_ID_SIZE];
  char patient[LB_E164_SIZE];
  int64_t expires_at;
  int max_views; /* 0: no limit */
  int views;
  char check[8]; /* none, dob, code */
  char check_hash[LB_PWHASH_MAX];
  int failures;
  int64_t locked_at, revoked_at, created_at; /* 0 when not */
  /* check = code: the current code's hash is check_hash */
  int64_t code_expires_at, code_sent_at; /* 0 when none */
  int codes_sent;
};

/* Adds l (l->id must be set by the caller: the token derives from it). */
enum lb_err store_link_add(struct store *s, const struct link *l);
enum lb_err store_link_get(struct store *s, const char *id, struct link *out);
enum lb_err store_link_by_token(struct store *s, const char *token_hash,
                                struct link *out);
/* The newest link made for a message. */
enum lb_err store_link_of_message(struct store *s, const char *message_id,
                                  struct link *out);
enum lb_err store_tx_link_of_message(struct store_tx *tx,
                                     const char *message_id, struct link *out);

/* One attempt to see a link's image, recorded in its audit:
 * LINK_VIEWED counts a view; LINK_WRONG counts a failure and locks the link
 * at max_failures; the others only record. *after is the link afterwards. */
enum link_outcome {
  LINK_VIEWED,
  LINK_WRONG,
  LINK_REFUSED_EXPIRED,
  LINK_REFUSED_REVOKED,
  LINK_REFUSED_LOCKED,
  LINK_REFUSED_USED_UP
};
const char *link_outcome_name(enum link_outcome o);
enum lb_err store_link_attempt(struct store *s, const char *id,
                               enum link_outcome o, int max_failures,
                               const char *ip, const char *ua,
                               struct link *after);
enum lb_err store_tx_link_attempt(struct store_tx *tx, const char *id,
                                  enum link_outcome o, int max_failures,
                                  const char *ip, const char *ua,
                                  struct link *after);
/* Records a new one-time code for a link (its hash replaces the last one),
 * unless one was sent less than 'gap_ms' ago or 'max_codes' have been
 * sent: then LB_ECONFLICT and nothing changes. */
enum lb_err store_link_set_code(struct store *s, const char *id,
                                const char *hash, int64_t expires_at,
                                int64_t gap_ms, int max_codes);
/* LB_ENOTFOUND if there is no such link. Revoking twice is fine. *after
 * is the link afterwards. */
enum lb_err store_tx_link_revoke(struct store_tx *tx, const char *id,
                                 const char *by, struct link *after);
typedef enum lb_err (*store_view_cb)(void *arg, int64_t at, const char *ip,
                                     const char *ua, const char *outcome);
enum lb_err store_link_views(struct store *s, const char *id, store_view_cb cb,
                             void *arg);

/* ---- the event log (eventlog.c) -------------------------------------------
 *
 * Every change the clinic's app may hear about, written in the
 * transaction that makes the change: the changes feed, the live stream's
 * resume point and the webhooks' outbox. seq gives commit order (a
 * counter row taken in the transaction); id ("evt_" + a sortable id) is
 * what receivers dedupe on. */

#define LB_EVENT_ID_SIZE 32
#define LB_EVENT_TYPE_MAX 32

struct event_row {
  long long seq;
  char id[LB_EVENT_ID_SIZE];
  char type[LB_EVENT_TYPE_MAX];
  char patient[LB_E164_SIZE];  /* "" when none */
  char message_id[LB_ID_SIZE]; /* "" when none */
  char subject[64];            /* a status, a link id: for lists */
  char *payload;               /* the event's data, compact JSON (owned) */
  int64_t at;
};

void event_row_release(struct event_row *e);

/* Appends e: gives it the next seq (and an id when e->id is empty, and
 * the time when e->at is 0), and marks its message changed at that seq
 * (the feed). e->payload is only read. */
enum lb_err store_tx_event_append(struct store_tx *tx, struct event_row *e);
typedef enum lb_err (*store_event_row_cb)(void *arg, const struct event_row *e);
/* Up to 'limit' events after seq 'after', in seq order; e is valid during
 * the call only. */
enum lb_err store_events_after(struct store *s, long long after, int limit,
                               store_event_row_cb cb, void *arg);
/* The last seq given (0 before any). */
enum lb_err store_event_last_seq(struct store *s, long long *out);
/* The seq just before the first event at or after 'at' (ms): replaying
 * from it gives every event since. */
enum lb_err store_event_seq_before(struct store *s, int64_t at, long long *out);
/* Deletes up to 'limit' events older than 'before' (ms); *n says how many. */
enum lb_err store_events_prune(struct store *s, int64_t before, int limit,
                               int *n);
typedef enum lb_err (*store_change_cb)(void *arg, const struct message *m,
                                       long long change_seq);
/* Messages whose latest change is after 'after', oldest change first, up
 * to 'limit': the changes feed. */
enum lb_err store_messages_changed(struct store *s, long long after, int limit,
                                   store_change_cb cb, void *arg);

/* ---- webhook endpoints (webhooks.c) ---------------------------------------
 *
 * An endpoint's delivery state is its cursor: the seq of the last event it
 * is done with (delivered, dead-lettered or not wanted), plus the attempts
 * made on the next one. */

#define LB_WEBHOOK_ID_SIZE 32 /* "we_" + 26 */
#define LB_WEBHOOK_URL_MAX 2048
#define LB_WEBHOOK_EVENTS_MAX 512
#define LB_WEBHOOK_SECRET_MAX 96

struct webhook_endpoint {
  char id[LB_WEBHOOK_ID_SIZE];
  char url[LB_WEBHOOK_URL_MAX];
  char description[256];
  char events[LB_WEBHOOK_EVENTS_MAX]; /* "*", or types joined by ',' */
  int enabled;
  char disabled_reason[256];
  char secret[LB_WEBHOOK_SECRET_MAX];     /* "whsec_..." */
  char old_secret[LB_WEBHOOK_SECRET_MAX]; /* "" when none */
  int64_t old_secret_until;               /* ms; 0 when none */
  long long cursor;
  int attempts;          /* on the event after the cursor */
  int64_t next_at;       /* ms: not before */
  int64_t failing_since; /* ms: every delivery since has failed; 0 */
  int rewinds;           /* replays so far: the worker's fence */
  int64_t created_at, updated_at;
};

enum lb_err store_webhook_add(struct store *s,
                              const struct webhook_endpoint *e);
/* LB_ENOTFOUND for an unknown or removed endpoint. */
enum lb_err store_webhook_get(struct store *s, const char *id,
                              struct webhook_endpoint *out);
typedef enum lb_err (*store_webhook_cb)(void *arg,
                                        const struct webhook_endpoint *e);
/* Every endpoint not removed, oldest first. */
enum lb_err store_webhook_list(struct store *s, store_webhook_cb cb, void *arg);
/* Saves what people change: url, description, events, enabled and
 * disabled_reason (enabling clears the failure state, so it starts
 * afresh). */
enum lb_err store_webhook_update(struct store *s,
                                 const struct webhook_endpoint *e);
/* The new secret; the old one signs too until old_until (ms). */
enum lb_err store_webhook_rotate(struct store *s, const char *id,
                                 const char *secret, int64_t old_until);
enum lb_err store_webhook_remove(struct store *s, const char *id, int64_t at);
/* Moves the cursor back to 'seq' (never forward): the events after it are
 * sent again, with their ids. */
enum lb_err store_webhook_rewind(struct store *s, const char *id,
                                 long long seq);

struct webhook_attempt {
  char id[LB_ID_SIZE];
  char endpoint_id[LB_WEBHOOK_ID_SIZE];
  char event_id[LB_EVENT_ID_SIZE];
  char event_type[LB_EVENT_TYPE_MAX];
  int attempt;
  int64_t at;
  int status; /* HTTP status; 0 when there was no answer */
  char error[256];
  int duration_ms;
  char outcome[16]; /* delivered, retrying, dead, disabled */
};

/* What the worker writes: attempts, and endpoints' state after them. A
 * state is applied only while the endpoint's rewinds count is still the
 * one the worker read (a replay since wins), and never to a removed
 * endpoint; b->stale says some was not. A disable comes with its reason
 * ("" stays as it is). */
struct webhook_progress {
  char endpoint_id[LB_WEBHOOK_ID_SIZE];
  int rewinds;
  long long cursor;
  int attempts;
  int64_t next_at, failing_since;
  char disable_reason[256];
};
struct webhook_batch {
  struct webhook_attempt *attempts; /* a->id is filled in */
  size_t n_attempts;
  struct webhook_progress *progress;
  size_t n_progress;
  int stale; /* out */
};
enum lb_err store_tx_webhook_batch(struct store_tx *tx,
                                   struct webhook_batch *b);
typedef enum lb_err (*store_attempt_cb)(void *arg,
                                        const struct webhook_attempt *a);
/* The endpoint's newest 'limit' attempts, newest first. */
enum lb_err store_webhook_attempts(struct store *s, const char *endpoint_id,
                                   int limit, store_attempt_cb cb, void *arg);

/* Deletes up to 'limit' attempts older than 'before' (ms). */
enum lb_err store_webhook_attempts_prune(struct store *s, int64_t before,
                                         int limit, int *n);

/* ---- API keys (keys.c) ------------------------------------------------------
 */

#define LB_KEY_ID_SIZE 32 /* "key_" + 26 */
#define LB_KEY_PREFIX_MAX 16

struct api_key {
  char id[LB_KEY_ID_SIZE];
  char name[128];
  char prefix[LB_KEY_PREFIX_MAX]; /* the visible part, for lookups */
  char sha256[65];                /* hex, of the whole key */
  char scopes[256];               /* names joined by ',' */
  char created_by[72];
  int64_t created_at, last_used_at, revoked_at; /* 0 when not */
  int64_t expires_at;                           /* 0: never */
};

enum lb_err store_key_add(struct store *s, const struct api_key *k);
/* LB_ENOTFOUND when no key (revoked or not) has that prefix. */
enum lb_err store_key_by_prefix(struct store *s, const char *prefix,
                                struct api_key *out);
enum lb_err store_key_get(struct store *s, const char *id, struct api_key *out);
typedef enum lb_err (*store_key_cb)(void *arg, const struct api_key *k);
/* Every key, revoked ones too, oldest first. */
enum lb_err store_key_list(struct store *s, store_key_cb cb, void *arg);
/* LB_ENOTFOUND for an unknown key; revoking twice keeps the first time. */
enum lb_err store_key_revoke(struct store *s, const char *id, int64_t at);
enum lb_err store_key_touch(struct store *s, const char *id, int64_t at);

/* ---- retry (retry.c) ------------------------------------------------------
 */

/* Sends outbound message m again as a new attempt of itself: m as the
 * caller read it in this transaction (its status failed or undelivered).
 * The attempt that ended is kept (message_attempts), and the message is
 * queued now with its error and attempt count cleared; when the provider
 * had the ended attempt (m->provider_msg_id), its id is cleared and the
 * reference round bumped, so the provider takes the new attempt as a new
 * message. 'detail' goes in the history. LB_ECONFLICT when the message no
 * longer stands in m->status. */
enum lb_err store_tx_message_retry(struct store_tx *tx, const struct message *m,
                                   const char *detail);
/* How many attempts of msg_id a retry ended. */
enum lb_err store_attempts_count(struct store *s, const char *msg_id, int *n);

/* ---- templates (templates.c) ----------------------------------------------
 */

#define LB_TEMPLATE_ID_SIZE 32 /* "tpl_" + 26 */

struct msg_template {
  char id[LB_TEMPLATE_ID_SIZE];
  char name[256]; /* TEMPLATE_NAME_MAX characters */
  char *body;     /* owned; msg_template_release() */
  char updated_by[72];
  int64_t created_at, updated_at;
};

void msg_template_release(struct msg_template *t);
/* LB_EDUPLICATE when the name is taken. */
enum lb_err store_tx_template_put(struct store_tx *tx,
                                  const struct msg_template *t, int create);
enum lb_err store_tx_template_delete(struct store_tx *tx, const char *id);
enum lb_err store_tx_template_get(struct store_tx *tx, const char *id,
                                  struct msg_template *out);
enum lb_err store_template_get(struct store *s, const char *id,
                               struct msg_template *out);
enum lb_err store_tx_template_count(struct store_tx *tx, int *n);
typedef enum lb_err (*store_template_cb)(void *arg,
                                         const struct msg_template *t);
/* Every template, by name. */
enum lb_err store_template_list(struct store *s, store_template_cb cb,
                                void *arg);

/* ---- several nodes (nodes.c) ---------------------------------------------
 *
 * Wake-ups. A channel ("outbox", "fetch", "events") says that something
 * was committed that its listeners should look at. store_notify() after a
 * commit runs this process's listeners and tells the other processes on
 * the database (SQLite: they notice the commit; PostgreSQL: NOTIFY), whose
 * listeners run too. Listeners run on any thread, must be quick (signal a
 * condition variable) and must not call store_listen/store_unlisten. */
#define STORE_CH_OUTBOX "outbox"
#define STORE_CH_FETCH "fetch"
#define STORE_CH_EVENTS "events"
typedef void (*store_listen_fn)(void *arg, const char *channel);
struct store_listener;
/* LB_ETOOBIG when too many listen already (a handful is the design). */
enum lb_err store_listen(struct store *s, const char *channel,
                         store_listen_fn fn, void *arg,
                         struct store_listener **out);
/* Once it returns, fn is not running and will not run. NULL is fine. */
void store_unlisten(struct store *s, struct store_listener *l);
void store_notify(struct store *s, const char *channel);

/* The gateway nodes that share the database, one row each, refreshed by
 * its heartbeat. */
struct node_row {
  char id[LB_NODE_ID_MAX];
  char host[256];
  int64_t pid;
  char media[16]; /* its blob store: "fs", "fs-shared", "s3" */
  int64_t started_at, seen_at;
};
/* Records n's heartbeat (inserting its row the first time). */
enum lb_err store_node_beat(struct store *s, const struct node_row *n);
/* LB_ENOTFOUND when the node has no row. */
enum lb_err store_node_get(struct store *s, const char *id,
                           struct node_row *out);
/* Up to 'max' nodes other than 'except' seen at or after 'since'. */
enum lb_err store_nodes_seen(struct store *s, int64_t since, const char *except,
                             struct node_row *out, size_t max, size_t *n);
/* A node stopping cleanly removes its row. */
enum lb_err store_node_forget(struct store *s, const char *id);
/* Takes or renews lease 'name' for 'node' until 'until' (ms), unless
 * another node holds it past 'now': *held says whether 'node' holds it
 * now. One statement, so two nodes cannot both take it. With until 0, a
 * lease 'node' holds is given up (*held 0). */
enum lb_err store_lease_take(struct store *s, const char *name,
                             const char *node, int64_t now, int64_t until,
                             int *held);

/* Limits shared by every node (sign-in throttles when [server] nodes > 1):
 * one row per subject, read and changed in one transaction. */
struct throttle_rule;
/* Milliseconds until 'subject' may try again; 0 if it may now. */
enum lb_err store_limit_wait(struct store *s, const char *subject, int64_t now,
                             int64_t *wait);
/* Records a failure under 'rule' (the same rule util/throttle.h applies
 * in memory); *wait (may be NULL) is the lock it leaves. */
enum lb_err store_limit_fail(struct store *s, const char *subject,
                             const struct throttle_rule *rule, int64_t now,
                             int64_t *wait);
/* Forgets the subject (after a success). */
enum lb_err store_limit_clear(struct store *s, const char *subject);
/* Takes one of 'per_s' turns of the current second (wall clock: the
 * nodes' clocks must agree) for 'subject', counted by every node in one
 * statement: *wait 0 when taken, else the milliseconds until the next
 * second, when the caller tries again. */
enum lb_err store_rate_take(struct store *s, const char *subject, int per_s,
                            int64_t now, int64_t *wait);

#endif
