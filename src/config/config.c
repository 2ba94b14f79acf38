#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config/keys.h"
#include "core/keywords.h"
#include "core/phone.h"
#include "providers/provider.h"
#include "util/buf.h"
#include "util/duration.h"
#include "util/err.h"
#include "util/url.h"

#define CONFIG_KEYS_OF struct config

static const struct config_key keys[] = {
    S("server", "listen", listen, "127.0.0.1",
      "Address to listen on. 0.0.0.0 for every interface (put TLS in front)."),
    I("server", "port", port, "8080", 1, 65535, "TCP port to listen on."),
    S("server", "public_url", public_url, "",
      "How providers and patients reach this server, e.g.\n"
      "https://sms.clinic.example. Empty: http://<listen>:<port>."),
    I("server", "threads", threads, "64", 1, 256,
      "HTTP worker threads (an epoll thread pool)."),
    I("server", "max_connections", max_connections, "1024", 16, 65536,
      "Open connections allowed at once."),
    S("server", "node_id", node_id, "",
      "This node's name, unique among the nodes that share the database\n"
      "(letters, digits, '.', '-', '_'). Empty: the machine's host name."),
    I("server", "nodes", nodes, "1", 1, 64,
      "Gateway nodes sharing the database. Above 1, sign-in throttles and\n"
      "providers' send rates are kept in the database, so N nodes do not\n"
      "allow N times the attempts or the rate, and [media] store = fs is\n"
      "refused unless shared_dir = true."),
    SECRET("api", "key", api_key, "",
           "Bearer token for /api/v1 (at least 24 characters). Or key_file."),
    S("store", "path", db_path, "/var/lib/lyrebird/lyrebird.db",
      "SQLite database file. It runs in WAL mode. Its directory must exist\n"
      "and be writable by the account that runs lyrebird."),
    SECRET("store", "url", store_url, "",
           "A PostgreSQL database instead of the SQLite file, as\n"
           "postgresql://USER@HOST/DB (several nodes share one). A URL with\n"
           "a password: url_file. Empty: the SQLite file at path."),
    I("store", "pool_size", store_pool_size, "8", 1, 256,
      "PostgreSQL: write connections per node (each reading thread has\n"
      "one more)."),
    S("store", "statement_timeout", store_statement_timeout, "30s",
      "PostgreSQL: the longest any one query may run."),
    S("store", "synchronous", synchronous, "full",
      "full: every acknowledged write survives power loss (default).\n"
      "normal: survives a crash of lyrebird, not of the machine; faster."),
    S("media", "dir", media_dir, "/var/lib/lyrebird/media",
      "Directory for media blobs (created 0700)."),
    I("media", "max_bytes", media_max_bytes, "10485760", 1024, 104857600,
      "Largest media item accepted, in bytes."),
    I("media", "max_items", media_max_items, "10", 1, LB_MEDIA_MAX,
      "Media items per message."),
    I("media", "max_pixels", media_max_pixels, "50000000", 10000, 400000000,
      "Largest image accepted, in pixels (width x height x frames). A\n"
      "larger one is refused from its header, before it is decoded."),
    B("media", "keep_original", keep_original, "false",
      "Keep each upload exactly as sent, beside the cleaned copy. Off by\n"
      "default: originals carry GPS and device details."),
    I("media", "thumb_px", thumb_px, "320", 64, 1024,
      "Longest side of the inbox thumbnail, in pixels."),
    I("media", "fit_max_dim", fit_max_dim, "1600", 320, 8192,
      "Longest side of an image fitted into an MMS, in pixels."),
    I("media", "fit_min_quality", fit_min_quality, "40", 10, 95,
      "Lowest JPEG quality an MMS may use; below it the image goes as a\n"
      "secure link instead."),
    I("media", "url_ttl_seconds", media_url_ttl, "600", 60, 3600,
      "How long a provider's signed media URL works (outbound MMS)."),
    S("media", "store", media_store, "fs",
      "Where media bytes live: fs (the directory above) or s3 ([s3])."),
    B("media", "shared_dir", media_shared_dir, "false",
      "[media] dir is one filesystem that every node mounts (NFS and the\n"
      "like). Without it, a second live node refuses to start with fs."),
    I("media", "fetch_timeout_ms", fetch_timeout_ms, "20000", 1000, 120000,
      "Time allowed to fetch one inbound media item from a provider."),
    I("media", "fetch_max_attempts", fetch_max_attempts, "6", 1, 50,
      "Tries to fetch an inbound media item before it is marked\n"
      "unavailable (the message itself is always kept)."),
    B("media", "fetch_private", fetch_private, "false",
      "Allow fetching media from loopback and private addresses. Only for\n"
      "tests and the simulated carrier: a provider never needs it."),
    S("s3", "bucket", s3_bucket, "",
      "Bucket for media when [media] store = s3."),
    S("s3", "region", s3_region, "us-east-1", "The bucket's region."),
    S("s3", "endpoint", s3_endpoint, "",
      "S3-compatible endpoint, e.g. http://127.0.0.1:9000. Empty:\n"
      "https://s3.<region>.amazonaws.com."),
    B("s3", "path_style", s3_path_style, "false",
      "Address objects as <endpoint>/<bucket>/<key> (most S3-compatible\n"
      "servers) instead of <bucket>.<endpoint>/<key>."),
    S("s3", "access_key", s3_access_key, "", "Access key id."),
    SECRET("s3", "secret_key", s3_secret_key, "",
           "Secret access key. Or secret_key_file."),
    S("s3", "prefix", s3_prefix, "media/",
      "Prefix for object keys inside the bucket."),
    S("s3", "sse", s3_sse, "",
      "Server-side encryption: empty, AES256 or aws:kms."),
    S("clinic", "name", clinic_name, "",
      "The clinic's name, as patients know it."),
    S("clinic", "number", number, "",
      "The clinic's one number, patients send to and receive from it."),
    S("clinic", "host", host, "",
      "The number's host provider: the only one that sends from it and\n"
      "receives for it. One of: {providers}."),
    S("clinic", "region", region, "AU",
      "Region for numbers written without a country code (ISO 3166)."),
    S("clinic", "phone", clinic_phone, "",
      "A number patients can call (e.g. the landline), shown on the image\n"
      "link pages, and on HELP replies as {phone}."),
    S("clinic", "timezone", timezone, "Australia/Sydney",
      "Time zone for times shown to staff."),
    I("outbox", "workers", workers, "2", 1, 64, "Send worker threads."),
    I("outbox", "max_attempts", max_attempts, "8", 1, 100,
      "Send attempts before a retryable failure becomes final."),
    I("outbox", "backoff_base_ms", backoff_base_ms, "2000", 1, 3600000,
      "First retry delay; doubles each attempt, with jitter."),
    I("outbox", "backoff_max_ms", backoff_max_ms, "600000", 1, 86400000,
      "Longest retry delay."),
    I("outbox", "send_timeout_ms", send_timeout_ms, "15000", 100, 300000,
      "Time allowed for one call to a provider."),
    I("outbox", "lease_seconds", lease_seconds, "30", 3, 3600,
      "How long a node holds a message it is sending without renewing\n"
      "(renewed every third of it). When a node dies, another takes its\n"
      "messages over 2/3 to 4/3 of a lease later (docs/scaling.md)."),
    S("routing", "mms_fallback", mms_fallback, "link",
      "link: an image the host cannot send as MMS goes as an SMS with a "
      "secure link, on the same number. none: it is refused."),
    S("routing", "mms_provider", mms_provider, "",
      "A second provider for outbound MMS from another number. Refused "
      "unless allow_other_sender = true: patients would see two numbers."),
    S("routing", "mms_from", mms_from, "",
      "The other number that mms_provider would send from."),
    B("routing", "allow_other_sender", allow_other_sender, "false",
      "Accept that images come from a different number than texts."),
    SECRET("links", "secret", link_secret, "",
           "Key that link tokens are derived from (at least 32 characters). "
           "Empty: no links, so images the host cannot send are refused."),
    I("links", "expiry_days", link_expiry_days, "7", 1, 90,
      "Days an image link works."),
    I("links", "max_views", link_max_views, "0", 0, 1000,
      "Views allowed per link; 0 for no limit."),
    S("links", "check", link_check, "none",
      "Second check before an image shows: none, dob (the patient's date of "
      "birth) or code (6 digits sent in a separate SMS)."),
    I("links", "max_failures", link_max_failures, "5", 1, 20,
      "Wrong answers to the check that lock a link."),
    S("links", "template", link_template,
      "{clinic} has sent you an image. View it here (expires {expires}): "
      "{link}",
      "The SMS that carries a link: neutral, no health details, {link} "
      "last. Also {clinic} and {expires}."),
    I("web", "session_idle_minutes", session_idle_minutes, "30", 1, 1440,
      "A staff sign-in ends after this many minutes without a request."),
    I("web", "session_max_hours", session_max_hours, "12", 1, 720,
      "A staff sign-in ends this many hours after it began, busy or not."),
    I("web", "login_max_failures", login_max_failures, "5", 1, 100,
      "Failed sign-ins in a row that lock an account for a while."),
    I("web", "login_lockout_seconds", login_lockout_seconds, "60", 1, 86400,
      "The first lock; each further failure doubles it, up to 15 minutes."),
    I("web", "login_ip_max_failures", login_ip_max_failures, "20", 1, 10000,
      "Failed sign-ins from one address within 15 minutes before it is "
      "blocked for the rest of them."),
    S("optout", "optout_words", optout_words,
      "STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT, OPT OUT",
      "A patient's whole message, any case or width, trailing punctuation\n"
      "dropped, that opts them out: nothing more is sent to them until they\n"
      "opt in again (docs/compliance.md). Comma-separated."),
    S("optout", "optin_words", optin_words, "START, UNSTOP, YES",
      "... that opts them back in."),
    S("optout", "help_words", help_words, "HELP, INFO",
      "... that asks for help: the help reply is sent."),
    S("optout", "optout_reply", optout_reply,
      "{clinic}: you will get no more messages from this number. Reply "
      "START to receive them again.",
      "The one confirmation of an opt-out ({clinic}, {phone}). Not sent\n"
      "when the provider answers keywords itself ([<provider>]\n"
      "answers_keywords)."),
    S("optout", "optin_reply", optin_reply,
      "{clinic}: you will receive messages from this number again. Reply "
      "STOP to stop them.",
      "The one confirmation of an opt-in."),
    S("optout", "help_reply", help_reply,
      "{clinic}: this number sends messages from the clinic. Call {phone} "
      "for help. Reply STOP to stop messages, START to receive them again.",
      "The reply to a help keyword. Set [clinic] phone for {phone}."),
    I("retention", "keep_years", keep_years, "7", 1, 100,
      "Years a patient's messages and media are kept after their last\n"
      "message; then the purge deletes them (7: the adult minimum in NSW,\n"
      "VIC and the ACT)."),
    I("retention", "min_age_years", min_age_years, "25", 0, 120,
      "Nothing of a patient with a date of birth on file is purged before\n"
      "they turn this old (25: the minimum for children's records)."),
    I("retention", "purge_batch", purge_batch, "200", 1, 10000,
      "Messages deleted per purge transaction, so the purge never holds the\n"
      "database for long."),
    B("retention", "purge_daily", purge_daily, "true",
      "Run the purge once a day in the gateway (also: lyrebird purge)."),
    S("events", "rotation_overlap", events_rotation_overlap, "24h",
      "After 'lyrebird webhook rotate-secret', the old secret signs every\n"
      "delivery too for this long (24h, 90m, 3600s), so the receiver can\n"
      "switch without missing one."),
    B("events", "allow_private_urls", events_allow_private_urls, "false",
      "Allow webhook URLs that are http:// or reach loopback, private or\n"
      "link-local addresses (lyrebird demo sets it). Never in production."),
    I("events", "timeout_seconds", events_timeout_seconds, "10", 1, 30,
      "Seconds a webhook receiver has to answer one delivery."),
    S("events", "retry_schedule", events_retry_schedule,
      "5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h",
      "The waits between attempts after a failed delivery (with jitter):\n"
      "the Standard Webhooks schedule, about three days. Then the event is\n"
      "dead-lettered (still replayable) and the next one goes."),
    S("events", "disable_after", events_disable_after, "5d",
      "An endpoint whose every delivery has failed for this long is\n"
      "disabled, with the reason shown."),
    I("events", "keep_days", events_keep_days, "30", 1, 3650,
      "Days the event log is kept: how far back a replay, the changes feed\n"
      "cursor and the live stream can reach."),
    S("log", "level", log_level, "info", "debug, info, warn or error."),
    B("log", "access", access_log, "true",
      "One JSON line per HTTP request on stderr (lyrebird demo writes\n"
      "them to access.log in its data directory instead)."),
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* Every key: the core's table, then each registered adapter's, in
 * provider_at() order (the order of the sections in the example). Key i of
 * them all, or NULL past the last; *t says whose it is: 0 the core's,
 * 1 + a adapter a's. */
static const struct config_key *key_at(size_t i, size_t *t)
{
  const struct provider_ops *ops;
  *t = 0;
  if (i < NKEYS)
    return &keys[i];
  i -= NKEYS;
  for (size_t a = 0; (ops = provider_at(a)) != NULL; a++) {
    if (i < ops->n_keys) {
      *t = a + 1;
      return &ops->keys[i];
    }
    i -= ops->n_keys;
  }
  return NULL;
}

/* Where the values of table t (key_at) live in c: c itself for the core's,
 * the adapter's settings for an adapter's (NULL before config_init). */
static char *key_base(struct config *c, size_t t)
{
  if (t == 0)
    return (char *)c;
  return c->adapters ? c->adapters[t - 1] : NULL;
}

static void add_verror(struct config_errors *errs, int line, const char *where,
                       const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void add_verror(struct config_errors *errs, int line, const char *where,
                       const char *fmt, va_list ap)
{
  struct config_error *e;
  if (!errs || errs->n >= CONFIG_MAX_ERRORS)
    return;
  e = &errs->items[errs->n++];
  e->line = line;
  snprintf(e->where, sizeof e->where, "%s", where);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

static void add_error(struct config_errors *errs, int line, const char *where,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_error(struct config_errors *errs, int line, const char *where,
                      const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  add_verror(errs, line, where, fmt, ap);
  va_end(ap);
}

void config_errors_add(struct config_errors *errs, int line, const char *where,
                       const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  add_verror(errs, line, where, fmt, ap);
  va_end(ap);
}

/* The key "[section] name", or NULL; *t as key_at(). */
static const struct config_key *find_key(const char *section, const char *name,
                                         size_t *t)
{
  const struct config_key *k;
  for (size_t i = 0; (k = key_at(i, t)) != NULL; i++)
    if (strcmp(k->section, section) == 0 && strcmp(k->name, name) == 0)
      return k;
  return NULL;
}

/* Edit distance, for "did you mean". Short strings only. */
static int distance(const char *a, const char *b)
{
  int la = (int)strlen(a), lb = (int)strlen(b);
  int prev[64], cur[64];
  if (la > 62 || lb > 62)
    return 99;
  for (int j = 0; j <= lb; j++)
    prev[j] = j;
  for (int i = 1; i <= la; i++) {
    cur[0] = i;
    for (int j = 1; j <= lb; j++) {
      int c = prev[j - 1] + (a[i - 1] != b[j - 1]);
      if (prev[j] + 1 < c)
        c = prev[j] + 1;
      if (cur[j - 1] + 1 < c)
        c = cur[j - 1] + 1;
      cur[j] = c;
    }
    memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
  }
  return prev[lb];
}

static const char *suggest_key(const char *section, const char *name)
{
  const struct config_key *k;
  const char *best = NULL;
  size_t t;
  int bestd = 3;
  for (size_t i = 0; (k = key_at(i, &t)) != NULL; i++) {
    int d;
    if (strcmp(k->section, section) != 0)
      continue;
    d = distance(k->name, name);
    if (d < bestd)
      bestd = d, best = k->name;
  }
  return best;
}

static const char *suggest_section(const char *section)
{
  const struct config_key *k;
  const char *best = NULL;
  size_t t;
  int bestd = 3;
  for (size_t i = 0; (k = key_at(i, &t)) != NULL; i++) {
    int d = distance(k->section, section);
    if (d < bestd)
      bestd = d, best = k->section;
  }
  return best;
}

static int section_known(const char *section)
{
  const struct config_key *k;
  size_t t;
  for (size_t i = 0; (k = key_at(i, &t)) != NULL; i++)
    if (strcmp(k->section, section) == 0)
      return 1;
  return 0;
}

/* Sets one key, whose values live at 'base' (key_base), from text. On
 * error returns LB_ECONFIG with msg set. */
static enum lb_err set_value(char *base, const struct config_key *k,
                             const char *value, char *msg, size_t msglen)
{
  char *p, *end;
  if (!base)
    return LB_EINVAL; /* no config_init() */
  p = base + k->off;
  switch (k->type) {
  case KEY_STR: {
    char *dup = strdup(value);
    if (!dup)
      return LB_ENOMEM;
    free(*(char **)p);
    *(char **)p = dup;
    return LB_OK;
  }
  case KEY_INT: {
    long v;
    errno = 0;
    v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < k->min || v > k->max) {
      snprintf(msg, msglen, "'%s' is not a whole number from %ld to %ld", value,
               k->min, k->max);
      return LB_ECONFIG;
    }
    *(int *)p = (int)v;
    return LB_OK;
  }
  case KEY_BOOL:
    if (!strcmp(value, "true") || !strcmp(value, "yes") ||
        !strcmp(value, "on") || !strcmp(value, "1")) {
      *(int *)p = 1;
      return LB_OK;
    }
    if (!strcmp(value, "false") || !strcmp(value, "no") ||
        !strcmp(value, "off") || !strcmp(value, "0")) {
      *(int *)p = 0;
      return LB_OK;
    }
    snprintf(msg, msglen, "'%s' is not true or false", value);
    return LB_ECONFIG;
  case KEY_DOUBLE: {
    double v;
    errno = 0;
    v = strtod(value, &end);
    if (errno || end == value || *end || v < (double)k->min ||
        v > (double)k->max) {
      snprintf(msg, msglen, "'%s' is not a number from %ld to %ld", value,
               k->min, k->max);
      return LB_ECONFIG;
    }
    *(double *)p = v;
    return LB_OK;
  }
  }
  return LB_EINVAL;
}

/* Reads a secret file: its contents less trailing CR/LF. */
static enum lb_err read_secret_file(const char *path, char **out, char *msg,
                                    size_t msglen)
{
  FILE *f = fopen(path, "rb");
  char buf[4096];
  size_t n;
  if (!f) {
    snprintf(msg, msglen, "cannot read secret file '%s': %s", path,
             strerror(errno));
    return LB_ECONFIG;
  }
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  if (n == sizeof buf - 1) {
    snprintf(msg, msglen, "secret file '%s' is larger than 4 kB", path);
    return LB_ECONFIG;
  }
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    n--;
  buf[n] = '\0';
  *out = strdup(buf);
  memset(buf, 0, sizeof buf);
  return *out ? LB_OK : LB_ENOMEM;
}

/* Applies "name = value" in section; handles <secret>_file. */
static enum lb_err apply(struct config *c, const char *section,
                         const char *name, const char *value, char *msg,
                         size_t msglen)
{
  size_t t;
  const struct config_key *k = find_key(section, name, &t);
  size_t nlen = strlen(name);
  if (!k && nlen > 5 && strcmp(name + nlen - 5, "_file") == 0) {
    char base[64];
    snprintf(base, sizeof base, "%.*s", (int)(nlen - 5), name);
    k = find_key(section, base, &t);
    if (k && k->secret) {
      char *secret = NULL;
      int rc = read_secret_file(value, &secret, msg, msglen);
      if (rc)
        return rc;
      rc = set_value(key_base(c, t), k, secret, msg, msglen);
      memset(secret, 0, strlen(secret));
      free(secret);
      return rc;
    }
    if (k) {
      snprintf(msg, msglen,
               "'%s' is not a secret, so '%s' is not accepted; "
               "set '%s' itself",
               k->name, name, k->name);
      return LB_ECONFIG;
    }
  }
  if (!k) {
    const char *s = section_known(section) ? suggest_key(section, name) : NULL;
    if (!section_known(section)) {
      const char *ss = suggest_section(section);
      if (ss)
        snprintf(msg, msglen, "unknown section [%s]; did you mean [%s]?",
                 section, ss);
      else
        snprintf(msg, msglen,
                 "unknown section [%s]; see lyrebird.example.ini for the "
                 "sections",
                 section);
    } else if (s)
      snprintf(msg, msglen, "unknown key '%s' in [%s]; did you mean '%s'?",
               name, section, s);
    else
      snprintf(msg, msglen,
               "unknown key '%s' in [%s]; see lyrebird.example.ini for the "
               "keys of [%s]",
               name, section, section);
    return LB_ECONFIG;
  }
  return set_value(key_base(c, t), k, value, msg, msglen);
}

int config_init(struct config *c)
{
  const struct config_key *k;
  const struct provider_ops *ops;
  char msg[256];
  size_t t;
  int rc = LB_ENOMEM;

  memset(c, 0, sizeof *c);
  /* (+ 1: never a calloc of nothing, which may answer NULL) */
  if (!(c->path = strdup("")) ||
      !(c->adapters = calloc(provider_count() + 1, sizeof *c->adapters)))
    goto out;
  for (size_t a = 0; (ops = provider_at(a)) != NULL; a++)
    if (!(c->adapters[a] = calloc(1, ops->settings_size + 1)))
      goto out;
  for (size_t i = 0; (k = key_at(i, &t)) != NULL; i++)
    if ((rc = set_value(key_base(c, t), k, k->def, msg, sizeof msg)))
      goto out;
  rc = LB_OK;
out:
  if (rc)
    config_release(c);
  return rc;
}

void config_release(struct config *c)
{
  const struct config_key *k;
  size_t t;
  for (size_t i = 0; (k = key_at(i, &t)) != NULL; i++) {
    char *base = key_base(c, t);
    if (k->type == KEY_STR && base) {
      char **p = (char **)(base + k->off);
      if (*p && k->secret)
        memset(*p, 0, strlen(*p));
      free(*p);
      *p = NULL;
    }
  }
  if (c->adapters) {
    for (size_t a = 0; a < provider_count(); a++)
      free(c->adapters[a]);
    free(c->adapters);
    c->adapters = NULL;
  }
  free(c->path);
  c->path = NULL;
}

int config_set(struct config *c, const char *section, const char *key,
               const char *value)
{
  char msg[256];
  return apply(c, section, key, value, msg, sizeof msg);
}

/* Debian's inih is built without line numbers in the handler, so the
 * reader counts lines and the handler reads the count. */
struct ini_ctx {
  struct config *c;
  struct config_errors *errs;
  FILE *f;
  int line;      /* the line just read */
  int next_line; /* the line the next read starts */
};

static char *cfg_line_reader(char *str, int num, void *stream)
{
  struct ini_ctx *ctx = stream;
  char *r = fgets(str, num, ctx->f);
  if (r) {
    ctx->line = ctx->next_line;
    if (strchr(r, '\n'))
      ctx->next_line++;
  }
  return r;
}

static int on_ini(void *user, const char *section, const char *name,
                  const char *value)
{
  struct ini_ctx *ctx = user;
  int lineno = ctx->line;
  char msg[400], where[96];
  if (!name) /* a section header alone */
    return 1;
  snprintf(where, sizeof where, "[%s] %s", section, name);
  if (!section[0]) {
    add_error(ctx->errs, lineno, where,
              "'%s' is outside any section; put it under its [section]", name);
    return 1;
  }
  if (apply(ctx->c, section, name, value, msg, sizeof msg))
    add_error(ctx->errs, lineno, where, "%s", msg);
  return 1;
}

enum lb_err config_load_file(struct config *c, const char *path,
                             struct config_errors *errs)
{
  struct ini_ctx ctx = {c, errs, NULL, 0, 1};
  FILE *f;
  int rc, before = errs->n;

  free(c->path);
  c->path = strdup(path);
  if (!c->path)
    return LB_ENOMEM;
  f = fopen(path, "r");
  if (!f) {
    add_error(errs, 0, path, "cannot open the configuration file: %s%s",
              strerror(errno),
              errno == ENOENT ? " (copy lyrebird.example.ini to start)" : "");
    return LB_ECONFIG;
  }
  ctx.f = f;
  rc = ini_parse_stream(cfg_line_reader, &ctx, on_ini, &ctx);
  fclose(f);
  if (rc > 0)
    add_error(errs, rc, "syntax",
              "cannot parse this line; lines are 'key = value', "
              "'[section]' or comments starting with ';' or '#'");
  return errs->n > before ? LB_ECONFIG : LB_OK;
}

int config_load_env(struct config *c, struct config_errors *errs)
{
  const struct config_key *k;
  size_t t;
  int before = errs->n;
  for (size_t i = 0; (k = key_at(i, &t)) != NULL; i++) {
    char var[96], msg[400];
    const char *v;
    size_t j = 0;
    j = (size_t)snprintf(var, sizeof var, "LYREBIRD_%s_%s", k->section,
                         k->name);
    for (j = 0; var[j]; j++)
      var[j] = (char)toupper((unsigned char)var[j]);
    if ((v = getenv(var)) != NULL) {
      if (apply(c, k->section, k->name, v, msg, sizeof msg))
        add_error(errs, 0, var, "%s", msg);
    }
    if (k->secret) {
      char fvar[110], fname[70];
      snprintf(fvar, sizeof fvar, "%s_FILE", var);
      snprintf(fname, sizeof fname, "%s_file", k->name);
      if ((v = getenv(fvar)) != NULL &&
          apply(c, k->section, fname, v, msg, sizeof msg))
        add_error(errs, 0, fvar, "%s", msg);
    }
  }
  return errs->n > before ? LB_ECONFIG : LB_OK;
}

void config_check_provider(const struct config *c, const char *name,
                           struct config_errors *errs)
{
  const struct provider_ops *ops = provider_find(name);
  const void *settings = provider_settings(c, ops);
  if (ops && ops->check && settings)
    ops->check(settings, c, errs);
}

enum lb_err config_validate(struct config *c, struct config_errors *errs)
{
  const struct provider_ops *po;
  char e164[LB_E164_SIZE], why[256];
  int before = errs->n;

  if (strlen(c->api_key) < 24)
    add_error(errs, 0, "[api] key",
              "set an API key of at least 24 characters (e.g. the output of "
              "'openssl rand -base64 32'), or key_file = <path>");
  if (duration_parse(c->events_rotation_overlap,
                     &c->events_rotation_overlap_ms))
    add_error(errs, 0, "[events] rotation_overlap",
              "must be a duration such as 24h, 90m or 3600s, not '%s'",
              c->events_rotation_overlap);
  if (duration_parse(c->events_disable_after, &c->events_disable_after_ms) ||
      c->events_disable_after_ms < 1000)
    add_error(errs, 0, "[events] disable_after",
              "must be a duration of at least a second, such as 5d, not '%s'",
              c->events_disable_after);
  if (duration_parse_list(c->events_retry_schedule, c->events_retry_ms,
                          sizeof c->events_retry_ms /
                              sizeof c->events_retry_ms[0],
                          &c->events_retry_n))
    add_error(errs, 0, "[events] retry_schedule",
              "must list up to 16 durations separated by commas (such as "
              "'5s, 5m, 30m'), not '%s'",
              c->events_retry_schedule);
  if (strcmp(c->synchronous, "full") && strcmp(c->synchronous, "normal"))
    add_error(errs, 0, "[store] synchronous",
              "must be full or normal, not '%s'", c->synchronous);
  if (!c->db_path[0] && !c->store_url[0])
    add_error(errs, 0, "[store] path", "set the SQLite database path");
  if (c->store_url[0] && strncmp(c->store_url, "postgresql://", 13) &&
      strncmp(c->store_url, "postgres://", 11))
    add_error(errs, 0, "[store] url",
              "must be a postgresql:// URL (the SQLite file is [store] "
              "path)");
  if (duration_parse(c->store_statement_timeout,
                     &c->store_statement_timeout_ms) ||
      c->store_statement_timeout_ms < 100 ||
      c->store_statement_timeout_ms > 3600000)
    add_error(errs, 0, "[store] statement_timeout",
              "must be a duration from 1s to 1h (such as '30s'), not '%s'",
              c->store_statement_timeout);
  if (!c->media_dir[0])
    add_error(errs, 0, "[media] dir", "set the media directory");
  if (strcmp(c->media_store, "fs") && strcmp(c->media_store, "s3"))
    add_error(errs, 0, "[media] store", "must be fs or s3, not '%s'",
              c->media_store);
  if (strlen(c->node_id) >= 64 ||
      strspn(c->node_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789.-_") != strlen(c->node_id))
    add_error(errs, 0, "[server] node_id",
              "must be at most 63 letters, digits, '.', '-' or '_', not '%s'",
              c->node_id);
  if (c->nodes > 1 && strcmp(c->media_store, "fs") == 0 && !c->media_shared_dir)
    add_error(errs, 0, "[media] store",
              "with [server] nodes = %d, media in [media] dir would be on one "
              "machine's disk only: use store = s3 (docs/scaling.md), or set "
              "shared_dir = true if that directory is one filesystem every "
              "node mounts",
              c->nodes);
  if (strcmp(c->media_store, "s3") == 0) {
    if (!c->s3_bucket[0])
      add_error(errs, 0, "[s3] bucket", "set the bucket for media");
    if (!c->s3_access_key[0] || !c->s3_secret_key[0])
      add_error(errs, 0, "[s3] access_key",
                "set access_key and secret_key (or secret_key_file)");
    if (c->s3_endpoint[0] && !url_is_http(c->s3_endpoint))
      add_error(errs, 0, "[s3] endpoint", "'%s' is not an http(s) URL",
                c->s3_endpoint);
  }
  if (c->s3_sse[0] && strcmp(c->s3_sse, "AES256") &&
      strcmp(c->s3_sse, "aws:kms"))
    add_error(errs, 0, "[s3] sse", "must be empty, AES256 or aws:kms, not '%s'",
              c->s3_sse);
  if (!c->clinic_name[0])
    add_error(errs, 0, "[clinic] name",
              "set the clinic's name, as patients know it");
  if (!c->number[0])
    add_error(errs, 0, "[clinic] number",
              "set the clinic's number, e.g. +61488868772");
  else if (phone_parse(c->number, c->region, e164, why, sizeof why))
    add_error(errs, 0, "[clinic] number", "%s", why);
  else {
    free(c->number);
    c->number = strdup(e164);
    if (!c->number)
      return LB_ENOMEM;
  }
  if (!c->host[0])
    add_error(errs, 0, "[clinic] host",
              "set the number's host provider (one of: %s)", provider_names());
  else if (!provider_find(c->host))
    add_error(errs, 0, "[clinic] host",
              "unknown provider '%s'; known providers: %s", c->host,
              provider_names());
  config_check_provider(c, c->host, errs);
  /* Each provider's section, used or not. */
  for (size_t i = 0; (po = provider_at(i)) != NULL; i++)
    if (po->validate && provider_settings(c, po))
      po->validate(provider_settings(c, po), c, errs);
  if (c->public_url[0] && !url_is_http(c->public_url))
    add_error(errs, 0, "[server] public_url",
              "'%s' is not an http(s) URL such as https://sms.clinic.example",
              c->public_url);
  if (strcmp(c->mms_fallback, "link") && strcmp(c->mms_fallback, "none"))
    add_error(errs, 0, "[routing] mms_fallback",
              "must be link or none, not "
              "'%s'",
              c->mms_fallback);
  if (c->mms_provider[0] && !c->allow_other_sender)
    add_error(errs, 0, "[routing] mms_provider",
              "sending images through %s from %s would give patients two "
              "numbers: texts from %s, images from another one, and a reply "
              "to the image would not reach the clinic's inbox. Keep one "
              "number: leave mms_provider empty and let images go as secure "
              "links (mms_fallback = link), or move %s to a host that sends "
              "MMS. To accept two numbers anyway, set allow_other_sender = "
              "true",
              c->mms_provider, c->mms_from[0] ? c->mms_from : "another number",
              c->number, c->number);
  else if (c->mms_provider[0]) {
    char other[LB_E164_SIZE];
    if (!provider_find(c->mms_provider))
      add_error(errs, 0, "[routing] mms_provider",
                "unknown provider '%s'; known providers: %s", c->mms_provider,
                provider_names());
    else if (strcmp(c->mms_provider, c->host) == 0)
      add_error(errs, 0, "[routing] mms_provider",
                "%s is already the host; a second sender must be another "
                "provider",
                c->mms_provider);
    else
      config_check_provider(c, c->mms_provider, errs);
    if (!c->mms_from[0])
      add_error(errs, 0, "[routing] mms_from",
                "set the second sender's own number (the one patients will "
                "see images come from)");
    else if (phone_parse(c->mms_from, c->region, other, why, sizeof why))
      add_error(errs, 0, "[routing] mms_from", "%s", why);
    else if (strcmp(other, c->number) == 0)
      add_error(errs, 0, "[routing] mms_from",
                "%s is the clinic's own number, which only its host (%s) "
                "sends from",
                other, c->host);
    else {
      free(c->mms_from);
      c->mms_from = strdup(other);
      if (!c->mms_from)
        return LB_ENOMEM;
    }
  }
  if (c->link_secret[0] && strlen(c->link_secret) < 32)
    add_error(errs, 0, "[links] secret",
              "use at least 32 characters (e.g. 'openssl rand -base64 32')");
  if (strcmp(c->link_check, "none") && strcmp(c->link_check, "dob") &&
      strcmp(c->link_check, "code"))
    add_error(errs, 0, "[links] check", "must be none, dob or code, not '%s'",
              c->link_check);

  {
    const char *l = strstr(c->link_template, "{link}");
    if (!l || l[6] != '\0')
      add_error(errs, 0, "[links] template",
                "must end with {link}: the link goes last, where a patient "
                "expects it");
  }
  {
    struct keywords kw;
    char kwhy[200];
    if (keywords_init(&kw, c->optout_words, c->optin_words, c->help_words, kwhy,
                      sizeof kwhy))
      add_error(errs, 0, "[optout] optout_words", "%s", kwhy);
    else if (!kw.n[0])
      add_error(errs, 0, "[optout] optout_words",
                "at least one opt-out word is needed (STOP): patients must "
                "be able to opt out by reply");
  }
  if (c->backoff_base_ms > c->backoff_max_ms)
    add_error(errs, 0, "[outbox] backoff_base_ms",
              "must not exceed backoff_max_ms (%d)", c->backoff_max_ms);
  if (strcmp(c->log_level, "debug") && strcmp(c->log_level, "info") &&
      strcmp(c->log_level, "warn") && strcmp(c->log_level, "error"))
    add_error(errs, 0, "[log] level", "must be debug, info, warn or error");
  if (errs->n > before)
    return LB_ECONFIG;
  /* Derived values. */
  if (!c->public_url[0]) {
    char url[300];
    snprintf(url, sizeof url, "http://%s:%d",
             strcmp(c->listen, "0.0.0.0") ? c->listen : "127.0.0.1", c->port);
    free(c->public_url);
    c->public_url = strdup(url);
  } else {
    size_t n = strlen(c->public_url);
    while (n && c->public_url[n - 1] == '/')
      c->public_url[--n] = '\0';
  }
  return c->public_url ? LB_OK : LB_ENOMEM;
}

void config_errors_print(FILE *f, const struct config *c,
                         const struct config_errors *errs)
{
  for (int i = 0; i < errs->n; i++) {
    const struct config_error *e = &errs->items[i];
    if (e->line > 0)
      fprintf(f, "%s:%d: %s: %s\n", c->path, e->line, e->where, e->msg);
    else
      fprintf(f, "%s%s%s: %s\n", c->path && c->path[0] ? c->path : "",
              c->path && c->path[0] ? ": " : "", e->where, e->msg);
  }
}

/* Values the example shows instead of the defaults: a production starting
 * point on the clinic's current provider, with the simulated carrier off. */
static const struct {
  const char *section, *name, *value;
} example_values[] = {
    {"server", "public_url", "https://sms.clinic.example"},
    {"api", "key_file", "/etc/lyrebird/api-key"},
    {"clinic", "name", "WalkEasy Nexus Clinic"},
    {"clinic", "number", "+61488868772"},
    {"clinic", "host", "smsbroadcast"},
    {"clinic", "phone", "(02) 5550 1234"},
    {"links", "secret_file", "/etc/lyrebird/link-secret"},
    {"smsbroadcast", "password_file", "/etc/lyrebird/smsbroadcast-password"},
    {"smsbroadcast", "webhook_secret_file",
     "/etc/lyrebird/smsbroadcast-webhook-secret"},
    {"sim", "secret_file", "/etc/lyrebird/sim-secret"},
};

static const char *example_for(const struct config_key *k, const char **name)
{
  static char buf[80];
  for (size_t i = 0; i < sizeof example_values / sizeof example_values[0];
       i++) {
    const char *n = example_values[i].name;
    size_t kl = strlen(k->name);
    if (strcmp(example_values[i].section, k->section))
      continue;
    if (!strcmp(n, k->name) ||
        (k->secret && !strncmp(n, k->name, kl) && !strcmp(n + kl, "_file"))) {
      snprintf(buf, sizeof buf, "%s", n);
      *name = buf;
      return example_values[i].value;
    }
  }
  *name = k->name;
  return NULL;
}

#define PROVIDERS_MARK "{providers}"
#define HELP_WRAP 72 /* columns of a comment line, after the "; " */

/* Appends help to out with PROVIDERS_MARK replaced by provider_names(),
 * the line that held it wrapped again at HELP_WRAP columns. */
static enum lb_err help_expand(const char *help, struct buf *out)
{
  const char *mark = strstr(help, PROVIDERS_MARK), *ls, *le, *rest, *w;
  struct buf line;
  size_t col = 0, n;
  enum lb_err rc;

  buf_init(&line, 4096);
  if (!mark) {
    rc = buf_puts(out, help);
    goto out;
  }
  for (ls = mark; ls > help && ls[-1] != '\n'; ls--)
    ;
  rest = mark + strlen(PROVIDERS_MARK);
  le = rest + strcspn(rest, "\n");
  if ((rc = buf_append(out, help, (size_t)(ls - help))) ||
      (rc = buf_append(&line, ls, (size_t)(mark - ls))) ||
      (rc = buf_puts(&line, provider_names())) ||
      (rc = buf_append(&line, rest, (size_t)(le - rest))))
    goto out;
  for (w = line.data; w && *w; w += n, w += strspn(w, " ")) {
    n = strcspn(w, " ");
    if (col && col + 1 + n > HELP_WRAP) {
      rc = buf_puts(out, "\n");
      col = 0;
    } else if (col) {
      rc = buf_puts(out, " ");
      col++;
    }
    if (rc || (rc = buf_append(out, w, n)))
      goto out;
    col += n;
  }
  rc = buf_puts(out, le);
out:
  buf_release(&line);
  return rc;
}

void config_write_example(FILE *f)
{
  const struct config_key *k;
  const char *section = "";
  struct buf help;
  size_t t;

  buf_init(&help, 8192);
  fprintf(
      f,
      "; lyrebird configuration. Every key can also be set in the\n"
      "; environment as LYREBIRD_<SECTION>_<KEY>, e.g. [api] key is\n"
      "; LYREBIRD_API_KEY. Secrets can be given as <key>_file = <path>.\n"
      "; Check a file with: lyrebird check-config --config FILE\n"
      ";\n"
      "; A starting point for production: the clinic's number hosted by\n"
      "; SMS Broadcast, the secrets in files under /etc/lyrebird (uncomment\n"
      "; their lines), the simulated carrier off. To try lyrebird without\n"
      "; a provider, run 'lyrebird demo', or see [sim] below.\n");
  for (size_t i = 0; (k = key_at(i, &t)) != NULL; i++) {
    const char *h = k->help;
    buf_reset(&help);
    if (strstr(h, PROVIDERS_MARK) && help_expand(h, &help) == LB_OK &&
        help.data)
      h = help.data;
    if (strcmp(section, k->section)) {
      section = k->section;
      fprintf(f, "\n[%s]\n", section);
    }
    fputs("; ", f);
    for (; *h; h++) {
      fputc(*h, f);
      if (*h == '\n')
        fputs("; ", f);
    }
    fputc('\n', f);
    {
      const char *name, *ex = example_for(k, &name);
      if (ex)
        fprintf(f, "%s%s = %s\n", k->secret ? ";" : "", name, ex);
      else
        fprintf(f, "%s%s = %s\n", k->def[0] ? "" : ";", k->name,
                k->def[0] ? k->def : "");
    }
  }
  buf_release(&help);
}

const char *config_store_url(const struct config *c)
{
  return c->store_url && c->store_url[0] ? c->store_url : c->db_path;
}

void config_store_label(const struct config *c, char *out, size_t n)
{
  const char *u = config_store_url(c), *at, *colon, *slashes;
  size_t len;
  if (u == c->db_path || !(slashes = strstr(u, "://"))) {
    snprintf(out, n, "%s", u);
    return;
  }
  /* scheme://user:password@host/db?k=v -> scheme://user@host/db (the
   * query may hold a password too) */
  len = strcspn(u, "?");
  at = memchr(slashes + 3, '@', len - (size_t)(slashes + 3 - u));
  colon = at ? memchr(slashes + 3, ':', (size_t)(at - slashes - 3)) : NULL;
  if (colon)
    snprintf(out, n, "%.*s%.*s", (int)(colon - u), u, (int)(u + len - at), at);
  else
    snprintf(out, n, "%.*s", (int)len, u);
}
