#include "api/app.h"

#include <curl/curl.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/auth.h"
#include "core/route.h"
#include "http/sse.h"
#include "media/image.h"
#include "media/intake.h"
#include "media/variants.h"
#include "outbox/fetchq.h"
#include "outbox/outbox.h"
#include "providers/sim.h"
#include "sim/carrier.h"
#include "util/err.h"
#include "util/log.h"

void app_block_signals(void)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int app_open(struct app *a, const struct config *cfg)
{
  struct store_options so = {cfg->db_path,
                             strcmp(cfg->synchronous, "full") == 0};
  int from = 0, to = 0, rc;

  memset(a, 0, sizeof *a);
  a->cfg = cfg;
  /* The gateway lives in the clinic's time zone: dates it writes for
   * patients (a link's expiry) are theirs. Set once, before any thread. */
  setenv("TZ", cfg->timezone, 1);
  tzset();
  if ((rc = media_intake_init()) || (rc = image_init(NULL)))
    goto fail;
  if ((rc = store_open(&so, &a->store)))
    goto fail;
  if ((rc = store_migrate(a->store, &from, &to)))
    goto fail;
  if (from != to)
    log_info("store.migrate", "database schema migrated from version %d to %d",
             from, to);
  if ((rc = blob_open(cfg, &a->blobs)))
    goto fail;
  if ((rc = provider_init(&a->host, cfg->host, cfg))) {
    log_error("app.open", "cannot set up provider %s: %s", cfg->host,
              lb_strerror(rc));
    goto fail;
  }
  if (cfg->mms_provider[0] && cfg->allow_other_sender) {
    if ((rc = provider_init(&a->other, cfg->mms_provider, cfg))) {
      log_error("app.open", "cannot set up the second sender %s: %s",
                cfg->mms_provider, lb_strerror(rc));
      goto fail;
    }
    a->has_other = 1;
    log_warn("app.open",
             "[routing] allow_other_sender is on: MMS the host cannot send go "
             "through %s from %s, a second number patients will see",
             cfg->mms_provider, cfg->mms_from);
  }
  if ((rc = store_number_upsert(a->store, cfg->number, cfg->clinic_name,
                                cfg->host)))
    goto fail;
  return LB_OK;
fail:
  app_close(a);
  return rc;
}

void app_route_input(const struct app *a, struct route_input *in, int has_text,
                     const struct route_media *media, size_t n_media,
                     int delivery)
{
  memset(in, 0, sizeof *in);
  in->has_text = has_text;
  in->media = media;
  in->n_media = n_media;
  in->delivery = (enum route_delivery)delivery;
  in->fallback =
      strcmp(a->cfg->mms_fallback, "link") == 0 ? FALLBACK_LINK : FALLBACK_NONE;
  in->links_available = a->cfg->link_secret[0] != '\0';
  in->host = a->host.ops->name;
  in->caps = &a->host.caps;
  if (a->has_other) {
    in->other_host = a->other.ops->name;
    in->other_from = a->cfg->mms_from;
    in->other_caps = &a->other.caps;
  }
}

const struct provider *app_provider(const struct app *a, const char *name)
{
  if (strcmp(name, a->host.ops->name) == 0)
    return &a->host;
  if (a->has_other && strcmp(name, a->other.ops->name) == 0)
    return &a->other;
  return NULL;
}

size_t app_mms_item_budget(const struct provider *p, size_t n_media)
{
  const struct provider_caps *c = &p->caps;
  if (!c->mms_out || c->mms_max_bytes <= 0 || n_media == 0 ||
      n_media > (size_t)c->max_media)
    return 0;
  return (size_t)c->mms_max_bytes / n_media;
}

const struct provider *app_mms_provider(const struct app *a, size_t n_media)
{
  if (app_mms_item_budget(&a->host, n_media))
    return &a->host;
  if (a->has_other && app_mms_item_budget(&a->other, n_media))
    return &a->other;
  return NULL;
}

int app_fit_for_mms(struct app *a, const struct provider *p,
                    const struct media *md, size_t n_media,
                    struct media_variant *out, char *why, size_t whylen)
{
  size_t budget = app_mms_item_budget(p, n_media);
  if (!budget) {
    snprintf(why, whylen, "%s cannot send this MMS", p->ops->name);
    return LB_EUNSUPPORTED;
  }
  return media_fit(a->store, a->blobs, a->cfg, md, budget, out, why, whylen);
}

void app_close(struct app *a)
{
  sse_hub_close(a->events);
  if (a->http)
    http_server_free(a->http);
  a->http = NULL;
  sse_hub_free(a->events);
  a->events = NULL;
  auth_free(a->auth);
  a->auth = NULL;
  provider_release(&a->host);
  if (a->has_other)
    provider_release(&a->other);
  a->has_other = 0;
  blob_store_free(a->blobs);
  a->blobs = NULL;
  store_free(a->store);
  a->store = NULL;
  media_intake_cleanup();
}

/* May a send caught mid-way to 'provider' be resent? Only when the
 * provider says it recognises a resend by our reference. A message queued
 * for a provider that no longer hosts the number is never resent here. */
static int host_dedupes(void *arg, const char *provider)
{
  const struct provider *host = arg;
  return strcmp(provider, host->ops->name) == 0 && host->caps.dedupes_by_ref;
}

int app_run(struct app *a, void (*ready)(struct app *a, void *arg), void *arg)
{
  const struct config *c = a->cfg;
  struct http_server_options ho = {c->listen,  c->port,
                                   c->threads, c->max_connections,
                                   c->api_key, c->access_log};
  int requeued = 0, unconfirmed = 0, rc, sig = 0;
  sigset_t set;

  if ((rc = store_outbox_recover(a->store, host_dedupes, &a->host, &requeued,
                                 &unconfirmed)))
    return rc;
  if (requeued || unconfirmed)
    log_warn("outbox.recover",
             "%d message(s) were being sent when lyrebird stopped: %d "
             "requeued, %d left unconfirmed for a receipt to settle",
             requeued + unconfirmed, requeued, unconfirmed);
  if ((rc = http_server_new(&ho, &a->http)))
    return rc;
  if ((rc = sse_hub_new(&a->events)) || (rc = auth_new(a, &a->auth)))
    return rc;
  http_server_set_sessions(a->http, AUTH_COOKIE, auth_session, a);
  api_register(a);
  if (sim_settings(c)->enabled && (rc = sim_carrier_new(c, a->http, &a->sim)))
    return rc;
  if ((rc = http_server_start(a->http)))
    goto out;
  if ((rc = outbox_start(a, &a->outbox)) || (rc = fetchq_start(a, &a->fetcher)))
    goto out;
  if (ready)
    ready(a, arg);
  log_info("app.ready", "listening on %s:%d", c->listen,
           http_server_port(a->http));

  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigwait(&set, &sig);
  log_info("app.stop", "signal %d: stopping (finishing sends in progress)",
           sig);
out:
  /* Stop taking requests first (event streams end before the server can
   * stop), then finish sends, then the carrier. */
  sse_hub_close(a->events);
  http_server_stop(a->http);
  outbox_stop(a->outbox);
  a->outbox = NULL;
  fetchq_stop(a->fetcher);
  a->fetcher = NULL;
  sim_carrier_free(a->sim);
  a->sim = NULL;
  return rc;
}
