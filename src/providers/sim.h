/* The simulated carrier's webhook signature, shared by the adapter (which
 * verifies it) and the carrier in src/sim (which makes it):
 *
 *   X-Sim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
 *
 * keyed by [sim] secret. Pure: no I/O. */
#ifndef LB_PROVIDERS_SIM_H
#define LB_PROVIDERS_SIM_H

#include <stddef.h>

#include "util/crypto.h"

/* Writes the hex signature of body made at time t (the "v1" value). */
int sim_signature(const char *secret, const char *t, size_t tlen,
                  const void *body, size_t len, char out[LB_SHA256_HEX]);

#endif
