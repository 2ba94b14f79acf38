/* The running gateway: everything a handler or worker needs, built once by
 * app_open() from a validated config and torn down by app_close().
 *
 * Ownership: the app owns every member; cfg is borrowed and must outlive
 * it. */
#ifndef LB_APP_H
#define LB_APP_H

#include <jansson.h>

#include "config/config.h"
#include "core/message.h"
#include "http/server.h"
#include "media/blob.h"
#include "providers/provider.h"
#include "store/store.h"

struct outbox;
struct sim_carrier;
struct sse_hub;
struct auth;

struct app {
  const struct config *cfg;
  struct store *store;
  struct blob_store *blobs;
  struct provider host; /* the clinic number's host provider */
  /* [routing] mms_provider, only with allow_other_sender = true: sends
   * the MMS the host cannot, from its own number ([routing] mms_from). */
  struct provider other;
  int has_other;
  struct outbox *outbox;
  struct fetchq *fetcher; /* inbound media sent as links */
  struct sim_carrier *sim;
  struct http_server *http;
  struct sse_hub *events; /* /api/v1/events */
  struct auth *auth;      /* staff sign-in: sessions and throttles */
};

/* Opens the store (migrating it), the blob store and the host adapter, and
 * records the clinic number. */
int app_open(struct app *a, const struct config *cfg);
/* Starts HTTP, the outbox and (if enabled) the sim carrier; returns when
 * SIGINT or SIGTERM arrives, after a graceful stop. 'ready' (may be NULL)
 * runs once everything listens. */
int app_run(struct app *a, void (*ready)(struct app *a, void *arg), void *arg);
void app_close(struct app *a);

/* Blocks SIGINT/SIGTERM/SIGPIPE in the calling thread (call first in
 * main, before any thread starts) so app_run can wait for them. */
void app_block_signals(void);

struct route_input;
struct route_media;
struct media;
struct media_variant;

/* The provider named 'name' that this gateway sends through: the host, or
 * the allowed second sender; NULL for any other. */
const struct provider *app_provider(const struct app *a, const char *name);
/* The provider an MMS of n_media items would go through: the host if it
 * can send it, else the allowed second sender if it can; NULL if none. */
const struct provider *app_mms_provider(const struct app *a, size_t n_media);
/* The share of p's MMS budget for each of n_media items; 0 when p cannot
 * send an MMS with that many. */
size_t app_mms_item_budget(const struct provider *p, size_t n_media);
/* The form of md to send through p as one of n_media items of an MMS
 * (fitted and cached, media/variants.h); LB_ETOOBIG with 'why' when none
 * fits. */
int app_fit_for_mms(struct app *a, const struct provider *p,
                    const struct media *md, size_t n_media,
                    struct media_variant *out, char *why, size_t whylen);
/* The route input for a message from this gateway: its host, the host's
 * capabilities, [routing] mms_fallback and whether links can be made. */
void app_route_input(const struct app *a, struct route_input *in, int has_text,
                     const struct route_media *media, size_t n_media,
                     int delivery);

/* JSON for a message, as the API shows it. */
json_t *api_message_json(struct app *a, const struct message *m,
                         int with_history);
void api_register(struct app *a);

/* Tells every open event stream that message 'id' was stored or changed
 * (it is read back from the store). Safe from any thread but the store's
 * writer. */
void app_notify_message(struct app *a, const char *id);
/* ... that a conversation changed otherwise (read, renamed). */
void app_notify_conversation(struct app *a, const char *patient);

#endif
