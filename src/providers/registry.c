#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/provider.h"
#include "util/err.h"

extern const struct provider_ops provider_sim;
extern const struct provider_ops provider_smsbroadcast;
extern const struct provider_ops provider_twilio;
extern const struct provider_ops provider_clicksend;
extern const struct provider_ops provider_messagemedia;

static const struct provider_ops *const all[] = {
    &provider_sim, &provider_smsbroadcast, &provider_twilio,
    &provider_clicksend, &provider_messagemedia};

const struct provider_ops *provider_find(const char *name)
{
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (name && strcmp(all[i]->name, name) == 0)
      return all[i];
  return NULL;
}

const char *provider_names(void)
{
  return "sim, smsbroadcast, twilio, clicksend, messagemedia";
}

int provider_init(struct provider *p, const char *name,
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
