/* Shared between the gateway's files; nothing outside src/gateway/
 * includes this. */
#ifndef LB_GATEWAY_INTERNAL_H
#define LB_GATEWAY_INTERNAL_H

#include "gateway/gateway.h"

/* The event log (eventlog.c): the sink's first subscriber. */
enum lb_err gw_eventlog_subscribe(struct gateway *gw);
/* An event's data as the app sees it (webhooks, the live stream), read
 * inside tx. The caller owns the result; NULL when out of memory. */
json_t *gw_event_data(struct gateway *gw, struct store_tx *tx,
                      const struct event *ev);

/* The live stream's tail of the event log (live.c). */
enum lb_err gw_live_start(struct gateway *gw);
void gw_live_wake(struct gateway *gw);
void gw_live_stop(struct gateway *gw);

/* The webhook worker (delivery.c): started by gw_run. _wake: new events;
 * _edited: an endpoint changed. Both are no-ops when it is not running. */
enum lb_err gw_webhooks_start(struct gateway *gw);
void gw_webhooks_wake(struct gateway *gw);
void gw_webhooks_edited(struct gateway *gw);
void gw_webhooks_stop(struct gateway *gw);
/* 1 if an endpoint's events list ("*" or "a,b") takes 'type'. */
int gw_webhook_wants(const char *events, const char *type);

/* A text from the clinic's number to 'to', queued (not stored): its id,
 * the host, route SMS with 'reason'. The caller releases m. */
enum lb_err gw_text_message(struct gateway *gw, const char *to,
                            const char *text, const char *reason,
                            enum msg_purpose purpose, struct message *m);

/* Consent (consent.c). Records e in tx if it changes the patient's state,
 * and emits *ev there; the caller emits it (gw_emit_committed) after the
 * commit when *changed. */
enum lb_err gw_tx_consent_change(struct gateway *gw, struct store_tx *tx,
                                 struct consent_event *e, int *changed,
                                 struct event *ev);
/* The reply template tpl ([optout] ..._reply) with {clinic} and {phone}. */
void gw_render_reply(const struct gateway *gw, const char *tpl, char *out,
                     size_t n);
/* An SMS result for a message not sent because its patient opted out;
 * 1 (sr filled in) when m may not go. */
int gw_opted_out_result(struct gateway *gw, const struct message *m,
                        struct send_result *sr);

/* The maintenance thread (purge.c): redactions every minute, the purge a
 * minute after the start and then daily. */
enum lb_err gw_maintenance_start(struct gateway *gw, struct maintenance **out);
void gw_maintenance_stop(struct maintenance *mt);

/* Deletes a batch of events and delivery attempts older than [events]
 * keep_days (the maintenance thread, every tick). */
void gw_events_prune(struct gateway *gw);

/* Wakes the outbox: something was queued. */
void gw_outbox_wake(struct gateway *gw);

#endif
