/* Shared between the gateway's files; nothing outside src/gateway/
 * includes this. */
#ifndef LB_GATEWAY_INTERNAL_H
#define LB_GATEWAY_INTERNAL_H

#include "gateway/gateway.h"

/* Subscribes the live event stream (live.c) to the sink. */
enum lb_err gw_live_subscribe(struct gateway *gw);

/* Emits a message event for m, inside tx (in_tx subscribers) -- the
 * caller emits gw_emit_message_committed after the commit. */
enum lb_err gw_emit_message_in_tx(struct gateway *gw, struct store_tx *tx,
                                  const struct message *m);
void gw_emit_message_committed(struct gateway *gw, const struct message *m);

/* A text from the clinic's number to 'to', queued (not stored): its id,
 * the host, route SMS with 'reason'. The caller releases m. */
enum lb_err gw_text_message(struct gateway *gw, const char *to,
                            const char *text, const char *reason,
                            enum msg_purpose purpose, struct message *m);

/* Consent (consent.c). Records e in tx if it changes the patient's state,
 * and emits it there; the caller emits gw_emit_consent_committed after the
 * commit when *changed. */
enum lb_err gw_tx_consent_change(struct gateway *gw, struct store_tx *tx,
                                 struct consent_event *e, int *changed);
void gw_emit_consent_committed(struct gateway *gw,
                               const struct consent_event *e);
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

/* Wakes the outbox: something was queued. */
void gw_outbox_wake(struct gateway *gw);

#endif
