/* The wiring: what one running lyrebird is made of, in the order it
 * starts and stops. */
#include "gateway/gateway.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/internal.h"
#include "http/sse.h"
#include "media/image.h"
#include "media/intake.h"
#include "outbox/fetchq.h"
#include "outbox/outbox.h"
#include "providers/sim.h"
#include "sim/carrier.h"
#include "util/log.h"

void gw_block_signals(void)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

enum lb_err gw_open(struct gateway *gw, const struct config *cfg)
{
  struct store_options so = {strcmp(cfg->synchronous, "full") == 0,
                             cfg->store_pool_size,
                             (int)cfg->store_statement_timeout_ms};
  struct http_server_options ho = {cfg->listen, cfg->port, cfg->threads,
                                   cfg->max_connections, cfg->access_log};
  char why[300];
  int from = 0, to = 0;
  enum lb_err rc;

  memset(gw, 0, sizeof *gw);
  gw->cfg = cfg;
  event_sink_init(&gw->sink);
  /* The gateway lives in the clinic's time zone: dates it writes for
   * patients (a link's expiry) are theirs. Set once, before any thread. */
  setenv("TZ", cfg->timezone, 1);
  tzset();
  if (keywords_init(&gw->keywords, cfg->optout_words, cfg->optin_words,
                    cfg->help_words, why, sizeof why)) {
    log_error("app.open", "[optout]: %s", why);
    rc = LB_ECONFIG;
    goto fail;
  }
  if ((rc = media_intake_init()) || (rc = image_init(NULL)))
    goto fail;
  if ((rc = store_open(config_store_url(cfg), &so, &gw->store)))
    goto fail;
  if (cfg->store_url[0]) {
    char label[600];
    config_store_label(cfg, label, sizeof label);
    log_info("store.open", "PostgreSQL at %s (%d write connections)", label,
             cfg->store_pool_size);
  }
  if ((rc = store_migrate(gw->store, &from, &to)))
    goto fail;
  if (from != to)
    log_info("store.migrate", "database schema migrated from version %d to %d",
             from, to);
  if ((rc = blob_open(cfg, &gw->blobs)))
    goto fail;
  if ((rc = provider_set_init(&gw->providers, cfg, why, sizeof why))) {
    log_error("app.open", "%s", why);
    goto fail;
  }
  if (gw->providers.has_other)
    log_warn("app.open",
             "[routing] allow_other_sender is on: MMS the host cannot send go "
             "through %s from %s, a second number patients will see",
             cfg->mms_provider, cfg->mms_from);
  if ((rc = store_number_upsert(gw->store, cfg->number, cfg->clinic_name,
                                cfg->host)))
    goto fail;
  {
    long long last = 0;
    if ((rc = store_event_last_seq(gw->store, &last)) ||
        (rc = http_server_new(&ho, &gw->http)) ||
        (rc = sse_hub_new(last, &gw->live)) || (rc = gw_eventlog_subscribe(gw)))
      goto fail;
  }
  return LB_OK;
fail:
  gw_close(gw);
  return rc;
}

void gw_close(struct gateway *gw)
{
  sse_hub_close(gw->live);
  if (gw->http)
    http_server_free(gw->http);
  gw->http = NULL;
  sse_hub_free(gw->live);
  gw->live = NULL;
  provider_set_release(&gw->providers);
  blob_store_free(gw->blobs);
  gw->blobs = NULL;
  store_free(gw->store);
  gw->store = NULL;
  media_intake_cleanup();
}

enum lb_err gw_run(struct gateway *gw,
                   void (*ready)(struct gateway *gw, void *arg), void *arg)
{
  const struct config *c = gw->cfg;
  struct outbox_options oo = {gw->store,
                              &gw->providers,
                              c->workers,
                              c->send_timeout_ms,
                              gw_send,
                              gw,
                              &gw->sink,
                              gw->node_id,
                              c->lease_seconds * 1000L,
                              gw_node_beat,
                              gw,
                              c->nodes > 1};
  struct fetchq_options fo = {0};
  enum lb_err rc;
  int sig = 0;
  sigset_t set;

  fo.store = gw->store;
  fo.blobs = gw->blobs;
  fo.host = &gw->providers.host;
  fo.sink = &gw->sink;
  intake_limits_from_config(c, &fo.limits);
  fo.allow_private = c->fetch_private;
  fo.timeout_ms = c->fetch_timeout_ms;
  fo.max_attempts = c->fetch_max_attempts;
  fo.api_timeout_ms = c->send_timeout_ms;

  /* A running gateway is a node (the CLI's commands that open one are
   * not). */
  if ((rc = gw_node_open(gw)))
    return rc;
  if (sim_settings(c)->enabled && (rc = sim_carrier_new(c, gw->http, &gw->sim)))
    goto out;
  if ((rc = gw_live_start(gw)) || (rc = http_server_start(gw->http)))
    goto out;
  if ((rc = outbox_start(&oo, &gw->outbox)) ||
      (rc = fetchq_start(&fo, &gw->fetcher)) ||
      (rc = gw_maintenance_start(gw, &gw->maintenance)) ||
      (rc = gw_webhooks_start(gw)))
    goto out;
  if (ready)
    ready(gw, arg);
  log_info("app.ready", "listening on %s:%d", c->listen,
           http_server_port(gw->http));

  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigwait(&set, &sig);
  log_info("app.stop", "signal %d: stopping (finishing sends in progress)",
           sig);
out:
  /* Stop taking requests first (event streams end before the server can
   * stop), then finish sends, then the carrier. */
  sse_hub_close(gw->live);
  http_server_stop(gw->http);
  gw_live_stop(gw);
  gw_webhooks_stop(gw);
  outbox_stop(gw->outbox);
  gw->outbox = NULL;
  fetchq_stop(gw->fetcher);
  gw->fetcher = NULL;
  gw_maintenance_stop(gw->maintenance);
  gw->maintenance = NULL;
  sim_carrier_free(gw->sim);
  gw->sim = NULL;
  gw_node_close(gw);
  return rc;
}

enum lb_err gw_emit_in_tx(struct gateway *gw, struct store_tx *tx,
                          struct event *ev)
{
  return event_sink_in_tx(&gw->sink, tx, ev);
}

void gw_emit_committed(struct gateway *gw, const struct event *ev)
{
  event_sink_committed(&gw->sink, ev);
}

void gw_outbox_wake(struct gateway *gw)
{
  store_notify(gw->store, STORE_CH_OUTBOX); /* every node's outbox */
}
