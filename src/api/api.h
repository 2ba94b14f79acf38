/* The HTTP face of the gateway: the routes of /healthz, /api/v1, the
 * webhooks, the pages and the secure-link viewer, and staff sign-in.
 * Handlers are thin: each parses a request into a struct, calls one
 * gateway entry point (src/gateway/gateway.h) and maps its LB_* result to
 * an HTTP status.
 *
 * Ownership: struct api borrows the gateway (which must outlive it) and
 * owns the sign-in state (api_close frees it). */
#ifndef LB_API_H
#define LB_API_H

#include "gateway/gateway.h"

struct auth;

struct api {
  struct gateway *gw;
  /* The gateway's, for the handlers' convenience. */
  const struct config *cfg;
  struct store *store;
  struct blob_store *blobs;
  struct http_server *http;
  struct auth *auth; /* staff sign-in: sessions and throttles */
};

/* Sets up sign-in and registers every route on the gateway's server
 * (before gw_run starts it). */
enum lb_err api_open(struct api *a, struct gateway *gw);
void api_close(struct api *a);

#endif
