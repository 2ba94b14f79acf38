/* The simulated carrier's settings and webhook signature, shared by the
 * adapter (src/providers/sim.c, which verifies the signature and owns the
 * [sim] section) and the carrier in src/sim (which makes it, and reads
 * [sim] for its failure rates and delays):
 *
 *   X-Sim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
 *
 * keyed by [sim] secret. Pure: no I/O. */
#ifndef LB_PROVIDERS_SIM_H
#define LB_PROVIDERS_SIM_H

#include <stddef.h>

#include "util/crypto.h"

struct config;

/* [sim]: owned by struct config (config_init, config_release). */
struct sim_settings {
  int enabled;
  char *base_url; /* empty: this server's /sim */
  char *secret;   /* Bearer for sends, HMAC key for its webhooks */
  int mms_out;
  int mms_max_bytes;
  int dr_delay_ms;
  double dr_failure_rate;   /* share of sends reported undelivered */
  double send_failure_rate; /* share of send calls answered 503 */
  int rate;                 /* sends per second lyrebird may make */
  int answers_keywords;     /* the carrier replies to STOP itself */
};

/* The [sim] settings in cfg (borrowed from cfg; never NULL once
 * config_init() has succeeded). */
const struct sim_settings *sim_settings(const struct config *cfg);

/* Writes the hex signature of body made at time t (the "v1" value). */
int sim_signature(const char *secret, const char *t, size_t tlen,
                  const void *body, size_t len, char out[LB_SHA256_HEX]);

#endif
