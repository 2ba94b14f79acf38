/* The store: one interface for every backend (SQLite now, PostgreSQL
 * later). All SQL stays portable: TEXT ids, BIGINT milliseconds,
 * ON CONFLICT ... DO NOTHING, RETURNING.
 *
 * Every write is a transaction that has committed (and, with synchronous =
 * full, reached the disk) when the call returns LB_OK. The SQLite backend
 * batches concurrent writes into one commit (group commit); callers see no
 * difference.
 *
 * Ownership: struct store is opaque; store_free() releases it. Messages
 * filled by the store own their 'text' (message_release()). */
#ifndef LB_STORE_H
#define LB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/message.h"
#include "core/user.h"
#include "util/password.h"

struct store;

struct store_options {
  const char *path;
  int synchronous_full; /* 1: fsync every commit (default) */
};

int store_open(const struct store_options *opt, struct store **out);
void store_free(struct store *s);
/* Applies pending migrations; *from and *to are the versions. */
int store_migrate(struct store *s, int *from, int *to);
int store_schema_version(struct store *s, int *version);

int store_number_upsert(struct store *s, const char *e164, const char *name,
                        const char *host);
/* Creates the patient if missing; sets the name when name is not NULL. */
int store_patient_upsert(struct store *s, const char *e164, const char *name);
/* Sets (or, with NULL or "", clears) a known patient's name.
 * LB_ENOTFOUND if lyrebird has never seen the number. */
int store_patient_rename(struct store *s, const char *e164, const char *name);
/* Sets (or, with NULL or "", clears) a known patient's date of birth,
 * "YYYY-MM-DD". LB_ENOTFOUND for an unknown number. */
int store_patient_set_dob(struct store *s, const char *e164, const char *dob);
/* The date of birth on file; LB_ENOTFOUND when there is none (or no such
 * patient). */
int store_patient_dob(struct store *s, const char *e164, char out[11]);
/* Records that the patient opted out (e.g. replied STOP, as a provider
 * reported), with where that came from ("twilio: error 21610"). */
int store_patient_opt_out(struct store *s, const char *e164,
                          const char *source);

/* Queues an outbound message (status queued): patient, conversation,
 * media links, first history row, and its secure link when 'link' is not
 * NULL (in the same transaction, so the outbox never sees the message
 * without it). With an idempotency key: if the key was used before, *msg is
 * replaced by the first message and the call returns LB_EDUPLICATE (same
 * request hash) or LB_ECONFLICT (a different one). */
struct link;
int store_message_enqueue(struct store *s, struct message *msg,
                          const struct link *link, const char *idem_key,
                          const char *request_hash);

/* Stores an inbound message with its media, unless (provider,
 * provider_msg_id) is already stored: then the result is LB_EDUPLICATE, and
 * msg->id is the stored id. Returns at once; done(arg, rc) runs on the
 * store's writer thread after the commit (so a webhook can be answered
 * without an HTTP thread waiting). msg and media must stay valid until
 * then. If this call itself fails, done is not called. */
int store_message_receive_async(struct store *s, struct message *msg,
                                const struct media *media, size_t n_media,
                                const char *const *fetch_urls, size_t n_fetch,
                                void (*done)(void *arg, int rc), void *arg);

int store_message_get(struct store *s, const char *id, struct message *out);

typedef int (*store_event_cb)(void *arg, const char *status, const char *detail,
                              int64_t at);
int store_message_events(struct store *s, const char *id, store_event_cb cb,
                         void *arg);

/* Outbox. Claims up to 'max' due queued messages (status -> sending,
 * attempts + 1); *n is how many. */
int store_outbox_claim(struct store *s, int64_t now, struct message *out,
                       size_t max, size_t *n);
/* Records a send attempt's result: m->status, provider id, error fields,
 * next_attempt_at, route, and the provider and sending number (which
 * change when an MMS from a second sender falls back to a link from the
 * clinic's own number). A move the lifecycle forbids is ignored (a receipt
 * got there first) and returns LB_ETRANSITION. */
int store_outbox_result(struct store *s, const struct message *m,
                        const char *detail);
/* Earliest next_attempt_at among queued messages, or -1 if none. */
int store_outbox_next_due(struct store *s, int64_t *at);
/* After a restart: messages left in "sending". Those whose provider
 * dedupes by our reference (dedupes(arg, provider) returns 1) go back to
 * queued; the others stay in sending, marked unconfirmed, for a receipt to
 * settle. */
int store_outbox_recover(struct store *s,
                         int (*dedupes)(void *arg, const char *provider),
                         void *arg, int *requeued, int *unconfirmed);

/* Applies a delivery receipt. Finds the message by our id ('ref') or by
 * (provider, provider_msg_id). LB_ENOTFOUND if neither matches. A move the
 * lifecycle forbids is recorded in history only. *msg_id receives our id. */
int store_status_apply(struct store *s, const char *provider,
                       const char *provider_msg_id, const char *ref,
                       enum msg_status status, const char *error_code,
                       const char *error_text, char msg_id[LB_ID_SIZE]);

struct conversation_row {
  char number[LB_E164_SIZE];
  char patient[LB_E164_SIZE];
  char name[128]; /* "" when unknown */
  int has_name;
  int unread;
  int has_last;
  struct message last; /* valid when has_last */
};
typedef int (*store_conv_cb)(void *arg, const struct conversation_row *row);
typedef int (*store_msg_cb)(void *arg, const struct message *m);

/* Newest activity first. 'query' (NULL or "" for all) keeps those whose
 * patient name contains it (ASCII case-insensitive) or whose number
 * contains it; the caller normalises a number-like query to digits. */
int store_conversations(struct store *s, const char *number, const char *query,
                        int limit, store_conv_cb cb, void *arg);
/* The newest 'limit' messages before 'before_id' (NULL: the newest),
 * delivered to cb oldest first. */
int store_conversation_messages(struct store *s, const char *number,
                                const char *patient, const char *before_id,
                                int limit, store_msg_cb cb, void *arg);
/* Creates the patient and the conversation if missing. */
int store_conversation_open(struct store *s, const char *number,
                            const char *patient);
int store_conversation_read(struct store *s, const char *number,
                            const char *patient);

int store_media_put(struct store *s, const struct media *m);
int store_media_get(struct store *s, const char *id, struct media *out);
/* ---- inbound media still to be fetched (the provider sent URLs) ------- */

#define LB_FETCH_URL_MAX 2048
struct media_fetch {
  char id[LB_ID_SIZE];
  char message_id[LB_ID_SIZE];
  int position; /* where the item goes in the message's media */
  char url[LB_FETCH_URL_MAX];
  char provider[32]; /* the message's provider */
  int attempts;
};

/* Up to 'max' pending fetches due at 'now', oldest first. */
int store_fetches_due(struct store *s, int64_t now, struct media_fetch *out,
                      size_t max, size_t *n);
/* The item arrived: stores md (and its variants) at f's position of the
 * message, in one transaction. */
int store_fetch_done(struct store *s, const struct media_fetch *f,
                     const struct media *md);
/* Failed: tried again at next_at, or (next_at < 0) given up for good,
 * which marks the item unavailable on its message. */
int store_fetch_failed(struct store *s, const struct media_fetch *f,
                       int64_t next_at, const char *error);
/* How the message's fetched media stands: pending items, and the error of
 * each item given up (cb, in position order). */
int store_message_fetches(struct store *s, const char *message_id, int *pending,
                          int (*cb)(void *arg, const char *error), void *arg);

/* A variant of a stored media item (message.h); put replaces one of the
 * same kind. LB_ENOTFOUND when there is none. */
int store_media_variant_put(struct store *s, const char *media_id,
                            const struct media_variant *v);
int store_media_variant_get(struct store *s, const char *media_id,
                            const char *kind, struct media_variant *out);

/* ---- staff accounts and sessions (sqlite_users.c) ---------------------- */

/* Adds u (u->id is filled in). LB_EDUPLICATE if the username is taken. */
int store_user_add(struct store *s, struct user *u);
int store_user_get(struct store *s, const char *username, struct user *out);
typedef int (*store_user_cb)(void *arg, const struct user *u);
int store_users(struct store *s, store_user_cb cb, void *arg);

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
int store_user_update(struct store *s, const char *username,
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
int store_session_create(struct store *s, const char *token_hash,
                         const char *user_id, const char *csrf, int64_t now);
/* LB_ENOTFOUND when there is no such session. Expiry is the caller's. */
int store_session_get(struct store *s, const char *token_hash,
                      struct session *out);
int store_session_touch(struct store *s, const char *token_hash, int64_t now);
int store_session_delete(struct store *s, const char *token_hash);
/* Deletes sessions idle since before idle_before or created before
 * created_before; *n is how many. */
int store_sessions_expire(struct store *s, int64_t idle_before,
                          int64_t created_before, int *n);

/* ---- secure links to images (sqlite_links.c) ----------------------------- */

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
int store_link_add(struct store *s, const struct link *l);
int store_link_get(struct store *s, const char *id, struct link *out);
int store_link_by_token(struct store *s, const char *token_hash,
                        struct link *out);
/* The newest link made for a message. */
int store_link_of_message(struct store *s, const char *message_id,
                          struct link *out);

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
int store_link_attempt(struct store *s, const char *id, enum link_outcome o,
                       int max_failures, const char *ip, const char *ua,
                       struct link *after);
/* Records a new one-time code for a link (its hash replaces the last one),
 * unless one was sent less than 'gap_ms' ago or 'max_codes' have been
 * sent: then LB_ECONFLICT and nothing changes. */
int store_link_set_code(struct store *s, const char *id, const char *hash,
                        int64_t expires_at, int64_t gap_ms, int max_codes);
/* LB_ENOTFOUND if there is no such link. Revoking twice is fine. */
int store_link_revoke(struct store *s, const char *id, const char *by);
typedef int (*store_view_cb)(void *arg, int64_t at, const char *ip,
                             const char *ua, const char *outcome);
int store_link_views(struct store *s, const char *id, store_view_cb cb,
                     void *arg);

#endif
