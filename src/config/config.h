/* Configuration: defaults, then an INI file (inih), then the environment.
 *
 * Every key "[section] key" can be overridden by LYREBIRD_<SECTION>_<KEY>.
 * Secrets may instead be given as "<key>_file" (a path whose contents,
 * less trailing newlines, are the value), in the file or the environment.
 * The known keys live in tables (config/keys.h): the core sections' in
 * config.c, each provider's in its adapter (src/providers/<name>.c), which
 * config.c finds through the provider registry. check-config, the example
 * file and docs/configuration.md follow them.
 *
 * Ownership: struct config owns every string in it, and each provider's
 * settings with their strings; config_release() frees them (zeroing
 * secrets). Strings are never NULL after config_init(). */
#ifndef LB_CONFIG_H
#define LB_CONFIG_H

#include <stdint.h>
#include <stdio.h>

struct config {
  /* [server] */
  char *listen;     /* address to bind, e.g. 127.0.0.1 or 0.0.0.0 */
  int port;         /* TCP port */
  char *public_url; /* how providers and patients reach us */
  int threads;      /* HTTP worker threads (epoll thread pool) */
  int max_connections;
  char *node_id; /* this node's name among several; "" = the host name */
  int nodes;     /* nodes sharing the database: above 1, shared limits */
  /* [api] */
  char *api_key;
  /* [store] */
  char *db_path;
  char *synchronous; /* "full" (default) or "normal" */
  char *store_url;   /* postgresql://...: PostgreSQL instead of db_path */
  int store_pool_size;
  char *store_statement_timeout;      /* a duration */
  int64_t store_statement_timeout_ms; /* parsed by config_validate */
  /* [media] */
  char *media_dir;
  int media_max_bytes;
  int media_max_items;
  int media_max_pixels; /* width x height x frames, against bombs */
  int keep_original;    /* keep the upload as sent (it carries GPS) */
  int media_shared_dir; /* [media] dir is one filesystem all nodes see */
  int thumb_px;         /* the inbox thumbnail's longest side */
  int fit_max_dim;      /* longest side of an image fitted for MMS */
  int fit_min_quality;  /* below this JPEG quality a fit fails: a link */
  int media_url_ttl;    /* seconds a provider's signed media URL lives */
  char *media_store;    /* "fs" (default) or "s3" */
  /* Fetching inbound media that providers send as URLs. */
  int fetch_timeout_ms;
  int fetch_max_attempts;
  int fetch_private; /* allow loopback/private addresses: tests, the sim */
  /* [s3] -- when [media] store = s3 */
  char *s3_bucket;
  char *s3_region;
  char *s3_endpoint; /* empty: https://s3.<region>.amazonaws.com */
  int s3_path_style;
  char *s3_access_key;
  char *s3_secret_key;
  char *s3_prefix;
  char *s3_sse; /* "" or AES256 or aws:kms */
  /* [clinic] */
  char *clinic_name;
  char *number;       /* E.164 after validation */
  char *host;         /* the number's host provider */
  char *region;       /* default region for local numbers, e.g. AU */
  char *clinic_phone; /* for patients to call; "" when not set */
  char *timezone;
  /* [outbox] */
  int workers;
  int max_attempts;
  int backoff_base_ms;
  int backoff_max_ms;
  int send_timeout_ms;
  int lease_seconds; /* a claim's lease, renewed while the node lives */
  /* [routing] */
  char *mms_fallback; /* "link" or "none" */
  char *mms_provider; /* a second sender: refused unless allowed */
  char *mms_from;
  int allow_other_sender;
  /* [links] -- secure image links */
  char *link_secret;
  int link_expiry_days;
  int link_max_views; /* 0: no limit */
  char *link_check;   /* none, dob, code */
  int link_max_failures;
  char *link_template;
  /* [web] -- staff sign-in */
  int session_idle_minutes;
  int session_max_hours;
  int login_max_failures;
  int login_lockout_seconds;
  int login_ip_max_failures;
  /* [optout] -- keywords a patient texts, and the replies */
  char *optout_words; /* comma-separated */
  char *optin_words;
  char *help_words;
  char *optout_reply; /* {clinic}, {phone} */
  char *optin_reply;
  char *help_reply;
  /* [retention] */
  int keep_years;    /* after the patient's last message */
  int min_age_years; /* nothing purged before a patient with a known date
                        of birth turns this old */
  int purge_batch;   /* messages per purge transaction */
  int purge_daily;   /* run the purge once a day in the server */
  /* [events] -- webhooks to the clinic's app, and the event log */
  char *events_rotation_overlap;      /* a duration: old secret signs too */
  int events_allow_private_urls;      /* http:// and private addresses */
  int events_timeout_seconds;         /* one delivery attempt */
  char *events_retry_schedule;        /* durations between attempts */
  char *events_disable_after;         /* failing this long disables */
  int events_keep_days;               /* the event log (feed, replay) */
  int64_t events_rotation_overlap_ms; /* parsed by config_validate */
  int64_t events_disable_after_ms;
  int64_t events_retry_ms[16];
  size_t events_retry_n;
  /* [log] */
  char *log_level;
  int access_log;
  /* Each registered provider's own section ([smsbroadcast], [twilio],
   * ..., [sim]): one settings struct per adapter, indexed like
   * provider_at() and laid out as the adapter declares it (provider_ops
   * keys). Read them with provider_settings() (providers/provider.h) or
   * the adapter's own accessor, e.g. sim_settings() (providers/sim.h). */
  void **adapters;

  /* Not keys: where the values came from. */
  char *path; /* the file read, or "" */
};

struct config_error {
  int line;       /* line in the file, 0 for the environment or defaults */
  char where[96]; /* "[api] key" or "LYREBIRD_API_KEY" */
  char msg[400];
};

#define CONFIG_MAX_ERRORS 32
struct config_errors {
  struct config_error items[CONFIG_MAX_ERRORS];
  int n;
};

/* Fills in every default. */
int config_init(struct config *c);
void config_release(struct config *c);
/* Reads an INI file over the current values. */
enum lb_err config_load_file(struct config *c, const char *path,
                             struct config_errors *errs);
/* Applies LYREBIRD_* environment overrides. */
int config_load_env(struct config *c, struct config_errors *errs);
/* Sets one key by name from a string, as the file would ("sim", "mms_out",
 * "false"). Used by the demo and tests. */
int config_set(struct config *c, const char *section, const char *key,
               const char *value);
/* Cross-field checks and normalisation (the clinic number to E.164, the
 * host against the known providers, URLs parse). */
enum lb_err config_validate(struct config *c, struct config_errors *errs);
/* The store to open: [store] url when set, else [store] path (SQLite).
 * Borrowed from c. */
const char *config_store_url(const struct config *c);
/* What a log line or a message may show of it: the path, or the URL
 * without its password. Into out (size n). */
void config_store_label(const struct config *c, char *out, size_t n);
void config_errors_print(FILE *f, const struct config *c,
                         const struct config_errors *errs);
/* Adds one error to errs (dropped past CONFIG_MAX_ERRORS): for the
 * providers' checks (provider_ops check and validate). */
void config_errors_add(struct config_errors *errs, int line, const char *where,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The keys provider 'name' needs (as the host or as a second sender),
 * added to errs: the adapter's own check. Nothing for an unknown name. */
void config_check_provider(const struct config *c, const char *name,
                           struct config_errors *errs);
/* Writes the commented example (lyrebird.example.ini is this output). */
void config_write_example(FILE *f);

#endif
