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

/* Wakes the outbox: something was queued. */
void gw_outbox_wake(struct gateway *gw);

#endif
