/* The provider registry: every adapter, and the order in which the
 * configuration and the error messages name them. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/provider.h"
#include "util/err.h"

/* One line per adapter: X(name, listed), for the struct provider_ops
 * provider_<name> in src/providers/<name>.c. The lines' order is the order
 * of the adapters' sections in the configuration (the example file, after
 * the core sections). 'listed' is the adapter's place in provider_names(),
 * the list error messages give ("known providers: sim, ..."). */
#define PROVIDERS(X)                                                           \
  X(smsbroadcast, 1)                                                           \
  X(twilio, 2)                                                                 \
  X(messagemedia, 4)                                                           \
  X(clicksend, 3)                                                              \
  X(sim, 0)

#define DECLARE(name, listed) extern const struct provider_ops provider_##name;
PROVIDERS(DECLARE)
#undef DECLARE

static const struct registered {
  const struct provider_ops *ops;
  int listed;
} all[] = {
#define ENTRY(name, listed) {&provider_##name, listed},
    PROVIDERS(ENTRY)
#undef ENTRY
};
#define N_PROVIDERS (sizeof all / sizeof all[0])

size_t provider_count(void)
{
  return N_PROVIDERS;
}

const struct provider_ops *provider_at(size_t i)
{
  return i < N_PROVIDERS ? all[i].ops : NULL;
}

const struct provider_ops *provider_find(const char *name)
{
  for (size_t i = 0; i < N_PROVIDERS; i++)
    if (name && strcmp(all[i].ops->name, name) == 0)
      return all[i].ops;
  return NULL;
}

const void *provider_settings(const struct config *cfg,
                              const struct provider_ops *ops)
{
  for (size_t i = 0; cfg && cfg->adapters && i < N_PROVIDERS; i++)
    if (all[i].ops == ops)
      return cfg->adapters[i];
  return NULL;
}

/* Room for every name and its ", ". */
#define NAMES_MAX 512
static char names[NAMES_MAX];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

/* The names by 'listed', then by line (so a repeated place keeps both). */
static void names_make(void)
{
  int done[N_PROVIDERS] = {0};
  size_t off = 0;
  for (size_t k = 0; k < N_PROVIDERS; k++) {
    size_t best = N_PROVIDERS;
    for (size_t i = 0; i < N_PROVIDERS; i++)
      if (!done[i] && (best == N_PROVIDERS || all[i].listed < all[best].listed))
        best = i;
    done[best] = 1;
    off += (size_t)snprintf(names + off, NAMES_MAX - off, "%s%s", k ? ", " : "",
                            all[best].ops->name);
    if (off >= NAMES_MAX)
      break;
  }
}

const char *provider_names(void)
{
  pthread_once(&names_once, names_make);
  return names;
}

enum lb_err provider_init(struct provider *p, const char *name,
                          const struct config *cfg)
{
  memset(p, 0, sizeof *p);
  p->ops = provider_find(name);
  if (!p->ops)
    return LB_ENOTFOUND;
  return p->ops->init(p, cfg);
}

void provider_release(struct provider *p)
{
  if (p->ops && p->ops->release)
    p->ops->release(p);
  p->priv = NULL;
}

int send_result_begin(const struct wire_response *res, const char *provider,
                      struct send_result *out)
{
  memset(out, 0, sizeof *out);
  out->retry_after_ms =
      res->retry_after_s >= 0 ? res->retry_after_s * 1000 : -1;
  if (!res->error && res->status >= 100)
    return 0;
  out->outcome = res->maybe_sent ? SEND_UNKNOWN : SEND_RETRY;
  snprintf(out->error_code, sizeof out->error_code, "%s",
           res->error == LB_ETIMEOUT ? "timeout" : "network");
  if (res->error_text[0])
    snprintf(out->error_text, sizeof out->error_text, "%s", res->error_text);
  else if (res->error)
    snprintf(out->error_text, sizeof out->error_text, "%s",
             lb_strerror(res->error));
  else
    snprintf(out->error_text, sizeof out->error_text, "no answer from %s",
             provider);
  return 1;
}

void inbound_msg_init(struct inbound_msg *m)
{
  memset(m, 0, sizeof *m);
}

void inbound_msg_release(struct inbound_msg *m)
{
  free(m->text);
  m->text = NULL;
  for (size_t i = 0; i < m->n_media; i++) {
    free(m->media[i].data);
    m->media[i].data = NULL;
    free(m->media[i].url);
    m->media[i].url = NULL;
  }
  m->n_media = 0;
}
