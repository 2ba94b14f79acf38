/* The gateway: the wiring of one running lyrebird, and one entry point per
 * use case. It sits below the HTTP handlers (src/api/) and the commands
 * (src/cli/), and above the machinery (store, media, links, outbox, fetch
 * queue, providers).
 *
 * Each use case is in one file:
 *   queue.c          a message from staff or the clinic's app: gw_queue()
 *   route.c          how a message goes (MMS, link, SMS): gw_route()
 *   send.c           one queued message sent and its result recorded:
 *                    gw_send(), gw_record_result()
 *   receive.c        a provider's inbound message and its receipts:
 *                    gw_receive(), gw_receipt()
 *   conversations.c  reading a conversation, editing a patient
 *   links.c          a patient opening a secure link; staff withdrawing it
 *   json.c           messages and media as the API and events show them
 *   live.c           the live event stream, a subscriber of the sink
 *   gateway.c        gw_open(), gw_run(), gw_close()
 *
 * Every change is made in one store transaction, and emitted once through
 * the event sink (core/event.h), inside the transaction and after the
 * commit; nothing re-reads a message to announce it.
 *
 * Ownership: the gateway owns every member; cfg is borrowed and must
 * outlive it. Entry points are safe from any thread once gw_open returned. */
#ifndef LB_GATEWAY_H
#define LB_GATEWAY_H

#include <jansson.h>

#include "config/config.h"
#include "core/event.h"
#include "core/keywords.h"
#include "core/message.h"
#include "core/route.h"
#include "core/scope.h"
#include "http/server.h"
#include "links/links.h"
#include "media/blob.h"
#include "providers/set.h"
#include "store/store.h"

struct outbox;
struct outbox_worker;
struct fetchq;
struct sim_carrier;
struct sse_hub;
struct maintenance;
struct live_tail;
struct webhooks;

struct gateway {
  const struct config *cfg;
  struct store *store;
  struct blob_store *blobs;
  struct provider_set providers;
  struct event_sink sink;
  struct http_server *http; /* made by gw_open; routes are the caller's */
  struct sse_hub *live;     /* /api/v1/events */
  struct outbox *outbox;
  struct fetchq *fetcher;   /* inbound media sent as links */
  struct keywords keywords; /* [optout] */
  struct sim_carrier *sim;
  struct maintenance *maintenance; /* the daily purge, redactions */
  struct live_tail *tail;          /* the event log, to the live stream */
  struct webhooks *webhooks;       /* the event log, to the endpoints */
  /* This node among those sharing the store (nodes.c). */
  char node_id[LB_NODE_ID_MAX];
  int64_t node_started_at;
  int node_registered;
};

/* ---- wiring (gateway.c) ---------------------------------------------------
 */

/* Opens the store (migrating it), the blob store and the providers, records
 * the clinic number, and makes (without starting) the HTTP server and the
 * live stream. */
enum lb_err gw_open(struct gateway *gw, const struct config *cfg);
/* Starts HTTP, the outbox, the fetch queue and (if enabled) the simulated
 * carrier; returns when SIGINT or SIGTERM arrives, after a graceful stop.
 * 'ready' (may be NULL) runs once everything listens. */
enum lb_err gw_run(struct gateway *gw,
                   void (*ready)(struct gateway *gw, void *arg), void *arg);
void gw_close(struct gateway *gw);

/* This node (nodes.c), for gw_run: a running gateway is a node, a CLI
 * command that opens one is not. Its id ([server] node_id, else the host
 * name),
 * checked against the other nodes on the store (an id in use by another
 * live process here, or filesystem media with another live node, is
 * refused with a message saying why), then recorded with a heartbeat.
 * gw_node_beat refreshes it (the outbox's keeper calls it); gw_node_close
 * removes the row at a clean stop. */
enum lb_err gw_node_open(struct gateway *gw);
void gw_node_beat(void *gw);
void gw_node_close(struct gateway *gw);

/* Blocks SIGINT/SIGTERM/SIGPIPE in the calling thread (call first in
 * main, before any thread starts) so gw_run can wait for them. */
void gw_block_signals(void);

/* Emits ev: in_tx inside the caller's transaction (its error is returned,
 * and fails the transaction), committed after. */
enum lb_err gw_emit_in_tx(struct gateway *gw, struct store_tx *tx,
                          struct event *ev);
void gw_emit_committed(struct gateway *gw, const struct event *ev);

/* ---- routing (route.c) ------------------------------------------------------
 */

/* What gw_route decides from. */
struct gw_route_request {
  int has_text;
  const struct route_media *media;
  size_t n_media;
  enum route_delivery delivery;
  /* For the fallback after an MMS failed for good: its error (may be NULL)
   * and the provider that refused it. NULL: a first decision. */
  const char *failed_error;
  const char *failed_via;
};
/* The plan for a message from this gateway's number, with its host's (and
 * any allowed second sender's) capabilities, [routing] mms_fallback and
 * whether links can be made. Both the first decision and the fallback
 * after a failed MMS come through here. */
void gw_route(const struct gateway *gw, const struct gw_route_request *req,
              struct route_decision *out);
/* The form of md to send through p as one of n_media items of an MMS
 * (fitted and cached, media/variants.h); LB_ETOOBIG with 'why' when none
 * fits, LB_EUNSUPPORTED when p cannot send such an MMS. */
enum lb_err gw_fit_for_mms(struct gateway *gw, const struct provider *p,
                           const struct media *md, size_t n_media,
                           struct media_variant *out, char *why, size_t whylen);

/* ---- queueing a message (queue.c) ------------------------------------------
 */

struct send_request {
  const char *to;   /* as given: E.164 or a local form */
  const char *text; /* may be NULL or "" when there is media */
  size_t text_len;  /* its bytes (JSON strings may hold a NUL) */
  const char *const *media_ids;
  size_t n_media;
  enum route_delivery delivery;
  const struct link_options *link; /* NULL: the clinic's defaults */
  const char *idempotency_key;     /* NULL: none */
  const char *request_hash;        /* SHA-256 hex of the request */
  /* The clinic app's own: compact JSON of a checked object of strings
   * (LB_METADATA_MAX), and its reference; NULL: none. */
  const char *metadata;
  const char *client_reference;
  /* Edit and resend: the message this one replaces, and the audit row
   * written in the same transaction. NULL: none. */
  const char *resend_of;
  struct audit_entry *audit;
};

/* Why gw_queue refused, for the caller to show. */
struct gw_refusal {
  /* A stable code: invalid_request, invalid_number, not_mobile,
   * media_not_found, mms_too_large, mms_unsupported, dob_required,
   * link_unavailable, idempotency_conflict, opted_out (LB_EDENIED, with
   * why->consent); "" for a store error. */
  char code[32];
  char message[400];
  struct consent consent; /* opted_out: where the patient stands */
};

/* Queues a message to a patient: the number normalised, the media looked
 * up and fitted, the route decided, the secure link made, all stored in
 * one transaction with the idempotency key. *out is initialised here and
 * always released by the caller. On LB_OK, or LB_EDUPLICATE (the key was
 * used for the same request), *out is the message as stored (for a
 * duplicate, the first one). On a refusal (LB_EINVAL, LB_EPHONE,
 * LB_ENOTMOBILE, LB_ENOTFOUND, LB_EDENIED, LB_ECONFLICT, or a link that
 * could not be made) why->code is set; otherwise why->code is "" and the
 * error is the store's. */
enum lb_err gw_queue(struct gateway *gw, const struct send_request *req,
                     struct message *out, struct gw_refusal *why);
/* Queues a text the gateway writes itself (a link's one-time code) to 'to',
 * from the clinic's number like every message, with 'reason' as its
 * route's reason; *id gets its id. */
enum lb_err gw_queue_text(struct gateway *gw, const char *to, const char *text,
                          const char *reason, char id[LB_ID_SIZE]);

/* ---- sending (send.c) ------------------------------------------------------
 */

/* The outbox's handler: sends claimed message m (status sending) through
 * its provider on worker w, then records the result. */
void gw_send(void *gw, struct outbox_worker *w, struct message *m);
/* Records a send attempt's result on m (status, error, retry time, the
 * fallback to a link) and the provider's opt-out report, in one
 * transaction, then emits the change. */
enum lb_err gw_record_result(struct gateway *gw, const struct provider *p,
                             struct message *m, const struct send_result *sr);

/* ---- receiving (receive.c) -------------------------------------------------
 */

/* The provider a webhook for 'name' is from: the host, or for receipts
 * (status != 0) also the allowed second sender. LB_ENOTFOUND with 'why'
 * for any other. */
enum lb_err gw_hook_provider(const struct gateway *gw, const char *name,
                             int status, const struct provider **out, char *why,
                             size_t whylen);

/* An inbound message on its way into the store. */
struct gw_inbound;

/* What became of it. */
struct gw_received {
  enum lb_err rc;      /* LB_OK, LB_EDUPLICATE (already stored), or the
                          store's error */
  char id[LB_ID_SIZE]; /* ours, when stored or a duplicate */
};

/* Takes in an inbound message that provider p parsed: the numbers
 * normalised, inline media taken in (cleaned and stored), media sent as
 * links queued for fetching, the provider's opt-out report recorded, all
 * stored in one transaction. Takes over in's text and media URLs.
 *
 * Returns at once, without waiting for the commit, so a webhook holds no
 * thread meanwhile. On LB_OK, *out is set first, and done(arg) is called
 * exactly once after the commit or its failure -- on any thread, possibly
 * before gw_receive returns; the caller then calls gw_receive_finish() on
 * its own thread. Synchronous failures (done is never called, *out is
 * NULL): LB_EPHONE (a bad sender), LB_ENOTFOUND (not the clinic's
 * number), LB_EIO (media could not be stored), LB_ENOMEM or the store's,
 * with 'why'. */
enum lb_err gw_receive(struct gateway *gw, const struct provider *p,
                       struct inbound_msg *in, void (*done)(void *arg),
                       void *arg, struct gw_inbound **out, char *why,
                       size_t whylen);
/* After done: fills *res, emits the stored message, wakes the fetch queue
 * for its media links, and frees x. */
void gw_receive_finish(struct gw_inbound *x, struct gw_received *res);
/* Applies a delivery receipt from provider p. LB_ENOTFOUND when it is for
 * no message of ours (acknowledge it anyway). *id is ours. */
enum lb_err gw_receipt(struct gateway *gw, const struct provider *p,
                       const struct status_update *su, char id[LB_ID_SIZE]);

/* ---- conversations and patients (conversations.c) --------------------------
 */

enum lb_err gw_conversation_read(struct gateway *gw, const char *patient);
struct gw_actor;
/* Sets a known patient's name and/or date of birth (NULL keeps a field,
 * "" clears it). With 'who' (may be NULL: lyrebird itself, e.g. the demo's
 * sample patients) an audit row "patient.updated" naming the changed
 * fields is written in the same transaction. LB_ENOTFOUND for a number
 * lyrebird has never seen. */
enum lb_err gw_patient_update(struct gateway *gw, const char *patient,
                              const char *name, const char *dob,
                              const struct gw_actor *who);
/* A patient number from a person (E.164 or a local form): LB_OK, or
 * LB_EPHONE / LB_ENOTMOBILE with 'why'. */
enum lb_err gw_patient_number(const struct gateway *gw, const char *in,
                              char out[LB_E164_SIZE], char *why, size_t whylen);

/* ---- secure links (links.c)
 * -------------------------------------------------- */

/* What the patient answered on the link page. */
struct gw_link_answer {
  const char *step; /* "send": text me a code; else an answer (or none) */
  const char *code; /* check = code */
  const char *day, *month, *year; /* check = dob */
};

enum gw_link_result {
  GW_LINK_SHOW,      /* the image may be shown (the view was counted) */
  GW_LINK_ASK,       /* show the form; 'note' may say why */
  GW_LINK_CODE_SENT, /* a code was texted; show the form with the news */
  GW_LINK_REFUSED,   /* expired, withdrawn, locked or used up */
};

struct gw_link_outcome {
  enum gw_link_result result;
  enum link_outcome refusal; /* GW_LINK_REFUSED: which */
  char note[200];            /* GW_LINK_ASK, GW_LINK_CODE_SENT */
  struct link link;          /* the link as it now stands */
};

/* The link for a token from a URL. LB_ENOTFOUND when there is none (or
 * links are off). */
enum lb_err gw_link_find(struct gateway *gw, const char *token,
                         struct link *out);
/* A GET of link l's page: nothing is counted, but a preview bot's fetch
 * goes on the audit log, marked. */
void gw_link_seen(struct gateway *gw, const struct link *l, const char *ip,
                  const char *ua);
/* What stops link l being used now (a LINK_REFUSED_* outcome), or
 * LINK_VIEWED when nothing does. */
enum link_outcome gw_link_barrier(const struct link *l, int64_t now);
/* Records a refused attempt (the page shows why). */
enum lb_err gw_link_refused(struct gateway *gw, const struct link *l,
                            enum link_outcome o, const char *ip,
                            const char *ua);
/* A patient's POST on link l: a code to send, an answer to check (counted
 * when wrong, locking the link at [links] max_failures), or, when the
 * answer is right or none is needed, the view counted. */
enum lb_err gw_link_open(struct gateway *gw, const struct link *l,
                         const struct gw_link_answer *ans, const char *ip,
                         const char *ua, struct gw_link_outcome *out);
/* Staff withdraw a link; *after is it afterwards. */
enum lb_err gw_link_revoke(struct gateway *gw, const char *id, const char *by,
                           struct link *after);

/* ---- who did it, and the audit log (audit.c) --------------------------------
 */

/* Who made a request: kind "user" (a signed-in staff member: name is the
 * username), "key" (an API key: its name or id), "cli" (a command at the
 * server: the OS user), "system", or "patient" (a link). ip may be NULL. */
struct gw_actor {
  const char *kind;
  const char *name;
  const char *ip;
};

/* Appends one audit row: who did 'action' ("media.viewed", "export", ...)
 * to 'patient''s record (may be NULL) on 'subject' (an id, may be NULL),
 * with 'detail' (borrowed, may be NULL). A failure is logged and
 * returned. */
enum lb_err gw_audit(struct gateway *gw, const struct gw_actor *who,
                     const char *action, const char *patient,
                     const char *subject, json_t *detail);
/* The same row, filled for a caller that appends it in its own
 * transaction (store_tx_audit). */
void gw_audit_prepare(struct audit_entry *a, const struct gw_actor *who,
                      const char *action, const char *patient,
                      const char *subject, json_t *detail);
/* Sets detail[key] = value in a's JSON detail. */
void gw_audit_detail(struct audit_entry *a, const char *key, const char *value);

/* ---- retry, and edit and resend (retry.c) ----------------------------------
 */

/* Staff send failed or undelivered outbound message 'id' again, as a new
 * attempt of the same message: the ended attempt stays in its history, the
 * new one's statuses follow it (message.status events). Refused, with
 * why->code: "not_found" (LB_ENOTFOUND), "not_retryable" (LB_ECONFLICT:
 * inbound, in flight, with the provider or delivered: why->message says
 * which), "opted_out" (LB_EDENIED, with why->consent). Audited as 'who'
 * ("message.retried") in the same transaction. *out is the message
 * afterwards (initialised here, released by the caller). */
enum lb_err gw_message_retry(struct gateway *gw, const char *id,
                             const struct gw_actor *who, struct message *out,
                             struct gw_refusal *why);
/* Staff send the text of failed or undelivered message 'id' again, edited
 * (text of text_len bytes), with the same media, as a new message linked
 * to it (resend_of). Refused as gw_message_retry, and as gw_queue for the
 * new text. Audited ("message.resent"). *out is the new message. */
enum lb_err gw_message_resend(struct gateway *gw, const char *id,
                              const char *text, size_t text_len,
                              const struct gw_actor *who, struct message *out,
                              struct gw_refusal *why);

/* ---- templates (templates.c) ---------------------------------------------
 */

/* Creates (id NULL) or changes template 'id' to 'name' and 'body', both
 * checked (core/template.h), audited as 'who' ("template.created",
 * "template.updated") in the same transaction. LB_EINVAL / LB_ETOOBIG
 * with why (a bad name or body, or TEMPLATES_MAX reached), LB_EDUPLICATE
 * (the name is another template's), LB_ENOTFOUND. *out is the template
 * as stored (released by the caller). */
enum lb_err gw_template_save(struct gateway *gw, const struct gw_actor *who,
                             const char *id, const char *name, const char *body,
                             struct msg_template *out, char *why,
                             size_t whylen);
/* LB_ENOTFOUND for an unknown id; audited ("template.deleted"). */
enum lb_err gw_template_delete(struct gateway *gw, const struct gw_actor *who,
                               const char *id);
/* As the API shows it: {"id", "name", "body", "fields", "created_at",
 * "updated_at", "updated_by"}; fields are the placeholders in order. */
json_t *gw_template_json(const struct msg_template *t);

/* ---- consent (consent.c)
 * ----------------------------------------------------- */

/* Staff (or an API key) record a patient's choice, with the reason they
 * must give ("consent given in person on 3 Dec"): in the consent history,
 * audited, emitted. *changed is 0 when the patient already stood so.
 * LB_EINVAL without a reason; LB_ENOTFOUND for an unknown number. */
enum lb_err gw_consent_set(struct gateway *gw, const char *patient,
                           enum consent_state state, const struct gw_actor *who,
                           const char *reason, struct consent_event *out,
                           int *changed);

/* ---- retention (purge.c) ------------------------------------------------- */

struct gw_purge_report {
  int dry_run;
  int64_t last_before; /* patients whose last message is before this */
  char born_by[11];    /* ... and, with a date of birth, born by this */
  struct purge_counts counts;
};

/* Runs the retention purge now (or, dry_run, counts what it would
 * delete), recording a tombstone in the audit log as 'who'. */
enum lb_err gw_purge(struct gateway *gw, int dry_run,
                     const struct gw_actor *who, struct gw_purge_report *rep);
/* Redacts, at the host, the bodies [<provider>] redact_after allows;
 * *done is how many. */
struct http_client;
enum lb_err gw_redact_due(struct gateway *gw, struct http_client *hc,
                          int *done);

/* ---- API keys (keys.c) -------------------------------------------------- */

#define GW_KEY_SECRET_MAX 64 /* "lb_" + 8 + "_" + 32 + NUL, rounded */

/* A new key named 'name' with 'scopes', working until expires_at (ms; 0:
 * until revoked): out is its row, secret the key itself (shown once, never
 * stored). LB_EINVAL for a bad name, LB_ETIMEOUT for an expiry in the
 * past. */
enum lb_err gw_key_create(struct gateway *gw, const struct gw_actor *who,
                          const char *name, unsigned scopes, int64_t expires_at,
                          struct api_key *out, char secret[GW_KEY_SECRET_MAX]);
/* LB_ENOTFOUND for an unknown key; revoking twice is fine. */
enum lb_err gw_key_revoke(struct gateway *gw, const struct gw_actor *who,
                          const char *id, struct api_key *out);
/* 1 when 'token' is a key that may be used (the [api] key of the
 * configuration too, with every scope): out and *scopes filled. 0 with
 * why otherwise (unknown, revoked, expired). Records when a key was last
 * used. */
int gw_key_check(struct gateway *gw, const char *token, struct api_key *out,
                 unsigned *scopes, char *why, size_t n);
/* As the API shows it: {"id", "name", "scopes", "prefix", "created_at",
 * "created_by", "last_used_at", "revoked_at", "expires_at"}; never the
 * hash. */
json_t *gw_key_json(const struct api_key *k);

/* ---- the live stream (live.c) ------------------------------------------- */

/* Answers r with /api/v1/events: the events after seq 'after' (-1: from
 * now on), older ones read from the event log. */
void gw_live_reply(struct gateway *gw, struct http_req *r, long long after);

/* ---- webhook endpoints (webhooks.c, delivery.c) --------------------------
 *
 * Endpoints are managed by 'lyrebird webhook' and the API alike, through
 * these. Every change is on the audit log as who's. Failures that people
 * must read come with 'why'. */

#define GW_WEBHOOKS_MAX 50

/* Checks a receiver's URL: https:// and not a loopback, private or
 * link-local literal address (both lifted by [events]
 * allow_private_urls); names are checked again when connecting.
 * LB_EINVAL with why. */
enum lb_err gw_webhook_url_check(const struct config *c, const char *url,
                                 char *why, size_t n);
/* "*" (also for NULL or ""), or the known types of 'list' (comma
 * separated) without repeats; LB_EINVAL naming an unknown one. */
enum lb_err gw_webhook_events_norm(const char *list, char *out, size_t n,
                                   char *why, size_t wn);
/* A new endpoint (enabled, a new secret, hearing events from now on):
 * LB_EINVAL (why), LB_ETOOBIG (GW_WEBHOOKS_MAX reached, why). out has
 * the secret: show it once. */
enum lb_err gw_webhook_add(struct gateway *gw, const struct gw_actor *who,
                           const char *url, const char *events,
                           const char *description,
                           struct webhook_endpoint *out, char *why, size_t wn);
/* Changes what is not NULL (enabled: -1 leaves it). LB_ENOTFOUND,
 * LB_EINVAL (why). Enabling starts its failures afresh. */
enum lb_err gw_webhook_update(struct gateway *gw, const struct gw_actor *who,
                              const char *id, const char *url,
                              const char *events, const char *description,
                              int enabled, struct webhook_endpoint *out,
                              char *why, size_t wn);
/* A new secret (in out); the old one signs too for [events]
 * rotation_overlap. */
enum lb_err gw_webhook_rotate(struct gateway *gw, const struct gw_actor *who,
                              const char *id, struct webhook_endpoint *out);
enum lb_err gw_webhook_remove(struct gateway *gw, const struct gw_actor *who,
                              const char *id);
/* Sends every event since 'since' (ms) again, with its id, in order;
 * *from_seq is where it starts. */
enum lb_err gw_webhook_replay(struct gateway *gw, const struct gw_actor *who,
                              const char *id, int64_t since,
                              long long *from_seq);
/* Sends a ping event to the endpoint now and waits for the answer: out
 * is the attempt (also recorded). */
enum lb_err gw_webhook_test(struct gateway *gw, const char *id,
                            struct webhook_attempt *out);
/* One attempt's request for event e to ep at 'now' (ms): the envelope,
 * signed. The caller releases req. */
struct wire_request;
enum lb_err gw_webhook_request(struct gateway *gw,
                               const struct webhook_endpoint *ep,
                               const struct event_row *e, int64_t now,
                               struct wire_request *req);
/* As the API shows them (never the secret). */
json_t *gw_webhook_json(const struct webhook_endpoint *e);
json_t *gw_webhook_attempt_json(const struct webhook_attempt *a);

/* ---- views (json.c) -------------------------------------------------------
 */

/* A message as the API and events show it (the caller owns the result;
 * NULL when out of memory). */
json_t *gw_message_json(struct gateway *gw, const struct message *m,
                        int with_history);
json_t *gw_media_json(struct gateway *gw, const char *id);
/* The same object (without history) inside a write transaction, which
 * sees what the transaction wrote. */
json_t *gw_message_json_tx(struct gateway *gw, struct store_tx *tx,
                           const struct message *m);
/* A secure link as staff see it: {"id", "message", "patient", "state",
 * "created_at", "expires_at", "views", "max_views", "check", "failures"}. */
json_t *gw_link_json(const struct link *l);
/* A consent change: {"id", "state", "source", "at", "by", "reason",
 * "message", "provider", "description"}. */
json_t *gw_consent_event_json(const struct consent_event *e);
/* Where a patient stands: null when not opted out, else {"opted_out":
 * true, "since", "source", "description", "event"}. */
json_t *gw_consent_json(const struct consent *c);

/* ---- the record (export.c) ------------------------------------------------
 */

struct gw_export_summary {
  size_t messages, media;
};
/* The patient's thread as a ZIP into zip (its cap bounds it): thread.json,
 * thread.html, media/. Audited as 'who'. LB_ENOTFOUND when the patient has
 * no messages; LB_ETOOBIG when it does not fit. */
enum lb_err gw_export(struct gateway *gw, const char *patient,
                      const struct gw_actor *who, struct buf *zip,
                      struct gw_export_summary *sum);

#endif
