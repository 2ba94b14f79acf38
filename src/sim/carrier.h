/* The simulated carrier: a fake mobile network that lyrebird talks to over
 * real HTTP exactly as it talks to a real provider. Mounted under /sim/ on
 * lyrebird's own server in demo mode and tests; never in production.
 *
 *   POST /sim/api/messages            lyrebird sends (Bearer <[sim] secret>)
 *   GET  /sim/handsets/{e164}/messages what a handset received
 *   POST /sim/handsets/{e164}/send     a handset sends to the clinic
 *   GET  /sim/media/{id}               media a handset received
 *
 * It keeps each handset's inbox in memory (bounded), posts delivery
 * receipts after [sim] dr_delay_ms (a share undelivered), and delivers what
 * handsets send to lyrebird's inbound webhook, signed with HMAC-SHA256,
 * retrying with back-off if lyrebird does not answer 2xx. */
#ifndef LB_SIM_CARRIER_H
#define LB_SIM_CARRIER_H

#include "config/config.h"
#include "http/server.h"

struct sim_carrier;

/* Registers the /sim/ routes on srv and starts the delivery thread. */
enum lb_err sim_carrier_new(const struct config *cfg, struct http_server *srv,
                            struct sim_carrier **out);
void sim_carrier_free(struct sim_carrier *s);

#endif
