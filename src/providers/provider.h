/* Providers: one file per provider behind one table of operations, the
 * way curl keeps one handler per protocol.
 *
 * An adapter is a pure translator. It builds a wire_request from a message,
 * reads a wire_response into a send_result, verifies a webhook and parses
 * it. It does no network I/O and touches no database, so each one is
 * tested as a table of fixture files (tests/fixtures/<provider>/).
 *
 * Each adapter also declares its own configuration section (its keys,
 * defaults, secrets, help and checks), which config.c reads through the
 * registry (registry.c); adding a provider is its file, its fixtures and
 * one line in the registry.
 *
 * Ownership: struct provider owns 'priv' (released by ops->release).
 * inbound_msg owns 'text' and each media 'data'; inbound_msg_release()
 * frees them. send_input borrows everything. */
#ifndef LB_PROVIDER_H
#define LB_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/caps.h"
#include "core/message.h"
#include "util/wire.h"

struct config_key;

struct send_media {
  const char *content_type;
  const unsigned char *data; /* bytes, for providers that take them inline */
  size_t len;
  const char *url; /* a fetchable URL, for providers that take URLs */
};

struct send_input {
  const struct message *msg;
  const struct send_media *media;
  size_t n_media;
  const char *status_url; /* where the provider should post receipts */
};

/* Whether a final refusal is about the recipient. RECIPIENT_REFUSED: no
 * other route reaches them (a landline, not a number), so a failed MMS is
 * not resent as a link. RECIPIENT_OPTED_OUT: the same, and the provider
 * says the patient opted out (replied STOP); the gateway records it on the
 * patient. */
enum send_recipient { RECIPIENT_OK, RECIPIENT_REFUSED, RECIPIENT_OPTED_OUT };

struct send_result {
  enum send_outcome outcome;
  char provider_msg_id[LB_PROVIDER_ID_MAX];
  char error_code[LB_ERRCODE_MAX];
  char error_text[LB_ERRTEXT_MAX];
  long retry_after_ms; /* a provider's back-off request, -1 if none */
  enum send_recipient recipient;
};

struct inbound_media {
  char content_type[LB_CTYPE_MAX]; /* as claimed; intake sniffs again */
  unsigned char *data;
  size_t len;
  /* Or, for providers that send links: where to fetch it (data NULL). The
   * gateway fetches it later, through the SSRF-guarded fetcher, allowing
   * only caps.media_hosts. */
  char *url;
};

struct inbound_msg {
  char provider_msg_id[LB_PROVIDER_ID_MAX];
  char from[LB_E164_SIZE];
  char to[LB_E164_SIZE];
  char *text;
  size_t n_media;
  struct inbound_media media[LB_MEDIA_MAX];
  /* The provider says the patient opted out (e.g. replied STOP): the
   * gateway records it on the patient, and stores the text as usual. */
  int opt_out;
};

struct status_update {
  char provider_msg_id[LB_PROVIDER_ID_MAX];
  char ref[LB_ID_SIZE]; /* our message id, when the provider echoes it */
  enum msg_status status;
  char error_code[LB_ERRCODE_MAX];
  char error_text[LB_ERRTEXT_MAX];
};

struct provider;

struct provider_ops {
  const char *name;  /* "sim", used in URLs and config */
  const char *title; /* "Simulated carrier" */

  /* The adapter's own configuration, the section [<name>]: its keys
   * (config/keys.h), over a settings struct of settings_size bytes that
   * config_init() allocates and fills with the defaults, the file and the
   * environment, and config_release() frees. provider_settings() reads it.
   * The keys' section is 'name'. */
  const struct config_key *keys;
  size_t n_keys;
  size_t settings_size;
  /* Optional: what the provider needs when it is used (as [clinic] host or
   * as [routing] mms_provider), added to errs; config_check_provider(). */
  void (*check)(const void *settings, const struct config *cfg,
                struct config_errors *errs);
  /* Optional: checks of the section that hold whether or not the provider
   * is used; config_validate() runs every adapter's, after the host's
   * check. */
  void (*validate)(const void *settings, const struct config *cfg,
                   struct config_errors *errs);

  /* Reads this provider's settings (provider_settings(cfg, p->ops)) and
   * the core ones from cfg; fills p->caps and p->priv. */
  enum lb_err (*init)(struct provider *p, const struct config *cfg);
  void (*release)(struct provider *p);
  enum lb_err (*build_send)(const struct provider *p,
                            const struct send_input *in,
                            struct wire_request *req);
  enum lb_err (*parse_send)(const struct provider *p,
                            const struct wire_response *res,
                            struct send_result *out);
  /* LB_OK, LB_EAUTH (no credentials) or LB_ESIGNATURE (wrong ones). */
  enum lb_err (*verify_hook)(const struct provider *p,
                             const struct hook_request *req);
  enum lb_err (*parse_inbound)(const struct provider *p,
                               const struct hook_request *req,
                               struct inbound_msg *out, char *why,
                               size_t whylen);
  enum lb_err (*parse_status)(const struct provider *p,
                              const struct hook_request *req,
                              struct status_update *out, char *why,
                              size_t whylen);

  /* Optional (NULL when not needed). */

  /* The body a handled webhook is answered with (Twilio expects TwiML);
   * NULL: lyrebird's JSON. */
  const char *hook_reply_type; /* "text/xml" */
  const char *hook_reply_body; /* "<Response/>" */
  /* `lyrebird provider check`: a request that proves the credentials (an
   * account balance, say), and its answer in words for the operator:
   * LB_OK with e.g. "balance: 1234 credits", or LB_EPROVIDER / LB_EAUTH
   * with the provider's own reason. */
  enum lb_err (*build_check)(const struct provider *p,
                             struct wire_request *req);
  enum lb_err (*parse_check)(const struct provider *p,
                             const struct wire_response *res, char *out,
                             size_t n);
  /* `lyrebird provider setup`: registers lyrebird's webhooks with the
   * provider, one request at a time. build_setup fills request n (0, 1,
   * ...) for webhooks under 'base' (<public_url>/hooks/<name>), or returns
   * LB_ENOTFOUND when there are no more; parse_setup says in 'out' what
   * request n did ("created the inbound rule", "already there: ..."),
   * returning LB_OK, or LB_EPROVIDER / LB_EAUTH with the provider's reason. */
  enum lb_err (*build_setup)(const struct provider *p, int n, const char *base,
                             struct wire_request *req);
  enum lb_err (*parse_setup)(const struct provider *p, int n,
                             const struct wire_response *res, char *out,
                             size_t len);
  /* After an inbound media item fetched from 'media_url' is stored: the
   * request that deletes it at the provider. LB_ENOTFOUND: nothing to
   * delete (not this provider's URL, or deletion is turned off). */
  /* The request that redacts the body of a sent message at the provider,
   * for a provider that keeps bodies (Twilio; caps.redact_after_s).
   * LB_EINVAL for a provider id that is not one of its own. */
  enum lb_err (*build_redact)(const struct provider *p,
                              const char *provider_msg_id,
                              struct wire_request *req);
  enum lb_err (*build_media_delete)(const struct provider *p,
                                    const char *media_url,
                                    struct wire_request *req);
};

struct provider {
  const struct provider_ops *ops;
  struct provider_caps caps;
  void *priv;
};

/* The adapter named 'name', or NULL. */
const struct provider_ops *provider_find(const char *name);
/* "sim, smsbroadcast, ..." for error messages (static storage). */
const char *provider_names(void);
/* The registered adapters: provider_at(0) ... provider_at(provider_count()
 * - 1), in the order of their sections in the configuration (the example
 * file); NULL past the end. */
size_t provider_count(void);
const struct provider_ops *provider_at(size_t i);
/* The settings of adapter 'ops' in cfg (a struct of ops->settings_size
 * bytes, owned by cfg), or NULL when ops is not registered or cfg was not
 * made by config_init(). */
const void *provider_settings(const struct config *cfg,
                              const struct provider_ops *ops);

enum lb_err provider_init(struct provider *p, const char *name,
                          const struct config *cfg);
void provider_release(struct provider *p);

/* The start every parse_send shares: clears out, takes the provider's
 * Retry-After, and for a transport failure (no answer, or none that can
 * be read) fills out and returns 1: SEND_UNKNOWN when the request may
 * have arrived (a resend could duplicate it), else SEND_RETRY. 0 when
 * there is an answer to read. */
int send_result_begin(const struct wire_response *res, const char *provider,
                      struct send_result *out);

void inbound_msg_init(struct inbound_msg *m);
void inbound_msg_release(struct inbound_msg *m);

#endif
