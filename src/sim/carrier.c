#include "sim/carrier.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/message.h"
#include "http/client.h"
#include "providers/sim.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/log.h"

#define SIM_MAX_MESSAGES 2000
#define SIM_MAX_TASKS 10000
#define SIM_TASK_TRIES 6
#define SIM_MAX_OFF 64
#define MB (1024u * 1024u)

struct sim_media {
  char id[LB_ID_SIZE];
  char content_type[LB_CTYPE_MAX];
  char source_url[512]; /* the sender's URL for it, if it gave one */
  unsigned char *data;
  size_t len;
};

/* A message a handset received (or, with from_phone, sent). */
struct sim_msg {
  char id[64];
  char ref[LB_ID_SIZE + 8];
  char from[LB_E164_SIZE];
  char to[LB_E164_SIZE];
  char *text;
  struct sim_media media[LB_MEDIA_MAX];
  size_t n_media;
  int64_t at;
  int from_phone;
  int lost; /* reported undelivered: the handset never shows it */
};

/* A webhook post due at 'due'. */
struct sim_task {
  int64_t due;
  int tries;
  char url[LB_URL_MAX];
  char *body;
  struct sim_task *next;
};

/* A bounded set of handset numbers. */
struct handset_set {
  char e164[SIM_MAX_OFF][LB_E164_SIZE];
  size_t n;
};

struct sim_carrier {
  const struct config *cfg;
  char inbound_url[LB_URL_MAX];
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct sim_msg *msgs[SIM_MAX_MESSAGES]; /* ring, oldest evicted */
  size_t n_msgs, head;
  struct sim_task *tasks; /* sorted by due */
  size_t n_tasks;
  struct handset_set off;    /* switched off: nothing is delivered */
  struct handset_set no_mms; /* cannot take MMS: the carrier refuses it */
  int stop;
  pthread_t thread;
  int started;
};

static void msg_free(struct sim_msg *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->n_media; i++)
    free(m->media[i].data);
  free(m->text);
  free(m);
}

static double rand01(void)
{
  return (double)randombytes_random() / 4294967296.0;
}

static void carrier_id(char *out, size_t n, const char *prefix)
{
  char id[LB_ID_SIZE];
  id_new(id);
  snprintf(out, n, "%s%s", prefix, id);
}

/* Queues a signed webhook post; takes body. Caller holds mu. */
static void task_add(struct sim_carrier *s, const char *url, char *body,
                     int64_t due)
{
  struct sim_task *t, **pp;
  if (s->n_tasks >= SIM_MAX_TASKS || !(t = calloc(1, sizeof *t))) {
    log_warn("sim.task", "simulated carrier queue full; dropping a webhook");
    free(body);
    return;
  }
  t->due = due;
  snprintf(t->url, sizeof t->url, "%s", url);
  t->body = body;
  for (pp = &s->tasks; *pp && (*pp)->due <= due; pp = &(*pp)->next)
    ;
  t->next = *pp;
  *pp = t;
  s->n_tasks++;
  pthread_cond_signal(&s->cv);
}

static int post_signed(struct sim_carrier *s, struct http_client *hc,
                       const struct sim_task *t)
{
  struct wire_request req;
  struct wire_response res;
  char hex[LB_SHA256_HEX], sig[128], ts[24];
  int ok = 0;

  wire_request_init(&req);
  wire_response_init(&res);
  snprintf(ts, sizeof ts, "%lld", (long long)(clock_now_ms() / 1000));
  if (sim_signature(sim_settings(s->cfg)->secret, ts, strlen(ts), t->body,
                    strlen(t->body), hex))
    goto out;
  snprintf(sig, sizeof sig, "t=%s,v1=%s", ts, hex);
  req.method = "POST";
  snprintf(req.url, sizeof req.url, "%s", t->url);
  wire_request_header(&req, "Content-Type", "application/json");
  wire_request_header(&req, "X-Sim-Signature", sig);
  if (buf_puts(&req.body, t->body))
    goto out;
  http_client_perform(hc, &req, &res);
  ok = !res.error && res.status >= 200 && res.status < 300;
  if (!ok)
    log_warn("sim.deliver",
             "lyrebird answered %ld (%s) to the simulated "
             "carrier's webhook; will retry",
             res.status, res.error ? res.error_text : "http");
out:
  wire_request_release(&req);
  wire_response_release(&res);
  return ok;
}

static void *deliver_main(void *arg)
{
  struct sim_carrier *s = arg;
  struct http_client *hc = NULL;
  if (http_client_new(10000, &hc))
    return NULL;
  pthread_mutex_lock(&s->mu);
  while (!s->stop) {
    struct sim_task *t = s->tasks;
    int64_t now = clock_now_ms();
    if (!t || t->due > now) {
      struct timespec ts;
      long wait = t ? (long)(t->due - now) : 1000;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += wait / 1000;
      ts.tv_nsec += (wait % 1000) * 1000000L;
      if (ts.tv_nsec >= 1000000000L)
        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
      pthread_cond_timedwait(&s->cv, &s->mu, &ts);
      continue;
    }
    s->tasks = t->next;
    s->n_tasks--;
    pthread_mutex_unlock(&s->mu);
    if (post_signed(s, hc, t) || ++t->tries >= SIM_TASK_TRIES) {
      if (t->tries >= SIM_TASK_TRIES)
        log_warn("sim.deliver", "gave up delivering a webhook to %s", t->url);
      free(t->body);
      free(t);
      pthread_mutex_lock(&s->mu);
    } else {
      pthread_mutex_lock(&s->mu);
      task_add(s, t->url, t->body, clock_now_ms() + (250L << t->tries));
      free(t);
    }
  }
  pthread_mutex_unlock(&s->mu);
  http_client_free(hc);
  return NULL;
}

/* ---- POST /sim/api/messages ------------------------------------------ */

static void sim_error(struct http_req *r, int status, const char *code,
                      const char *msg)
{
  http_reply_error(r, status, code, "%s", msg);
}

static enum lb_err store_msg(struct sim_carrier *s, struct sim_msg *m)
{
  size_t slot;
  if (s->n_msgs < SIM_MAX_MESSAGES) {
    slot = (s->head + s->n_msgs) % SIM_MAX_MESSAGES;
    s->n_msgs++;
  } else {
    slot = s->head;
    msg_free(s->msgs[slot]);
    s->head = (s->head + 1) % SIM_MAX_MESSAGES;
  }
  s->msgs[slot] = m;
  return LB_OK;
}

static struct sim_msg *find_ref(struct sim_carrier *s, const char *ref)
{
  for (size_t i = 0; i < s->n_msgs; i++) {
    struct sim_msg *m = s->msgs[(s->head + i) % SIM_MAX_MESSAGES];
    if (ref[0] && strcmp(m->ref, ref) == 0)
      return m;
  }
  return NULL;
}

/* Decodes [{content_type, data (base64)}] into m->media. LB_EINVAL (or
 * LB_ENOMEM) with 'err' set on bad input. */
static enum lb_err decode_media(json_t *media, struct sim_msg *m, size_t *total,
                                char *err, size_t errlen)
{
  json_t *it;
  size_t i;
  *total = 0;
  json_array_foreach(media, i, it)
  {
    const char *ct = NULL, *data = NULL, *src = NULL;
    size_t dlen = 0;
    struct sim_media *sm;
    if (i >= LB_MEDIA_MAX ||
        json_unpack(it, "{s:s, s:s%, s?s}", "content_type", &ct, "data", &data,
                    &dlen, "source_url", &src)) {
      snprintf(err, errlen,
               "media items need content_type and base64 data "
               "(at most 10)");
      return LB_EINVAL;
    }
    sm = &m->media[m->n_media];
    sm->data = malloc(dlen / 4 * 3 + 3);
    if (!sm->data) {
      snprintf(err, errlen, "out of memory");
      return LB_ENOMEM;
    }
    m->n_media++;
    if (sodium_base642bin(sm->data, dlen / 4 * 3 + 3, data, dlen, NULL,
                          &sm->len, NULL, sodium_base64_VARIANT_ORIGINAL)) {
      snprintf(err, errlen, "media data is not base64");
      return LB_EINVAL;
    }
    str_copy(sm->content_type, sizeof sm->content_type, ct);
    str_copy(sm->source_url, sizeof sm->source_url, src ? src : "");
    id_new(sm->id);
    *total += sm->len;
  }
  return LB_OK;
}

/* Caller holds mu. */
static int set_has(const struct handset_set *set, const char *e164)
{
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->e164[i], e164) == 0)
      return 1;
  return 0;
}

/* Adds or removes e164; 0 when the set is full. Caller holds mu. */
static int set_put(struct handset_set *set, const char *e164, int in)
{
  if (in && !set_has(set, e164)) {
    if (set->n >= SIM_MAX_OFF)
      return 0;
    str_copy(set->e164[set->n++], LB_E164_SIZE, e164);
  } else if (!in) {
    for (size_t i = 0; i < set->n; i++)
      if (strcmp(set->e164[i], e164) == 0) {
        memmove(&set->e164[i], &set->e164[i + 1],
                (set->n - i - 1) * sizeof set->e164[0]);
        set->n--;
        break;
      }
  }
  return 1;
}

static void h_api_send(void *cls, struct http_req *r)
{
  struct sim_carrier *s = cls;
  const char *auth = http_header(r, "Authorization");
  json_t *o = NULL, *media;
  const char *from = NULL, *to = NULL, *text = "", *ref = "", *cb = NULL;
  struct sim_msg *m = NULL;
  size_t total = 0;
  char id[64], err[160];

  if (!auth || strncmp(auth, "Bearer ", 7) ||
      !crypto_streq(auth + 7, sim_settings(s->cfg)->secret)) {
    sim_error(r, 401, "unauthorized", "wrong or missing carrier credentials");
    goto out;
  }
  if (sim_settings(s->cfg)->send_failure_rate > 0 &&
      rand01() < sim_settings(s->cfg)->send_failure_rate) {
    sim_error(r, 503, "unavailable",
              "carrier temporarily unavailable (HTTP 503, simulated)");
    goto out;
  }
  o = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
  if (!o ||
      json_unpack(o, "{s:s, s:s, s?s, s?s, s?s}", "from", &from, "to", &to,
                  "text", &text, "ref", &ref, "status_callback", &cb)) {
    sim_error(r, 400, "invalid_request", "from and to are required strings");
    goto out;
  }
  if (!phone_is_e164(to) || !phone_is_e164(from)) {
    sim_error(r, 400, "invalid_number", "from and to must be E.164 numbers");
    goto out;
  }
  if (strlen(ref) > LB_ID_SIZE + 6) {
    sim_error(r, 400, "invalid_request", "ref is too long");
    goto out;
  }
  media = json_object_get(o, "media");
  pthread_mutex_lock(&s->mu);
  m = find_ref(s, ref);
  if (m) { /* a resend of something we already took: same answer */
    snprintf(id, sizeof id, "%s", m->id);
    pthread_mutex_unlock(&s->mu);
    m = NULL;
    http_reply_json(r, 202,
                    json_pack("{s:s, s:s, s:b}", "id", id, "status", "accepted",
                              "duplicate", 1));
    goto out;
  }
  pthread_mutex_unlock(&s->mu);
  if (json_array_size(media) && !sim_settings(s->cfg)->mms_out) {
    sim_error(r, 400, "mms_not_supported",
              "this carrier account cannot send MMS");
    goto out;
  }
  pthread_mutex_lock(&s->mu);
  if (json_array_size(media) && set_has(&s->no_mms, to)) {
    pthread_mutex_unlock(&s->mu);
    sim_error(r, 400, "handset_no_mms",
              "the handset cannot receive MMS (simulated)");
    goto out;
  }
  pthread_mutex_unlock(&s->mu);
  m = calloc(1, sizeof *m);
  if (!m || !(m->text = strdup(text))) {
    sim_error(r, 503, "unavailable", "out of memory");
    goto out;
  }
  if (decode_media(media, m, &total, err, sizeof err)) {
    sim_error(r, 400, "invalid_media", err);
    goto out;
  }
  if (total > (size_t)sim_settings(s->cfg)->mms_max_bytes) {
    char msg[160];
    snprintf(msg, sizeof msg,
             "MMS of %zu bytes is over this carrier's %d-byte limit", total,
             sim_settings(s->cfg)->mms_max_bytes);
    sim_error(r, 400, "mms_too_large", msg);
    goto out;
  }
  carrier_id(m->id, sizeof m->id, "SM");
  snprintf(m->ref, sizeof m->ref, "%s", ref);
  snprintf(m->from, sizeof m->from, "%s", from);
  snprintf(m->to, sizeof m->to, "%s", to);
  m->at = clock_now_ms();
  snprintf(id, sizeof id, "%s", m->id);

  pthread_mutex_lock(&s->mu);
  m->lost = set_has(&s->off, to) ||
            (sim_settings(s->cfg)->dr_failure_rate > 0 &&
             rand01() < sim_settings(s->cfg)->dr_failure_rate);
  store_msg(s, m);
  if (cb && *cb) {
    int fail = m->lost;
    json_t *dr = json_pack(
        "{s:s, s:s, s:s, s:s?, s:s?}", "id", id, "ref", ref, "status",
        fail ? "undelivered" : "delivered", "error_code",
        fail ? "absent_subscriber" : NULL, "error_text",
        fail ? "the handset is switched off or out of coverage (simulated)"
             : NULL);
    char *body = dr ? json_dumps(dr, JSON_COMPACT) : NULL;
    json_decref(dr);
    if (body)
      task_add(s, cb, body, m->at + sim_settings(s->cfg)->dr_delay_ms);
  }
  pthread_mutex_unlock(&s->mu);
  m = NULL;
  http_reply_json(r, 202,
                  json_pack("{s:s, s:s}", "id", id, "status", "accepted"));
out:
  msg_free(m);
  json_decref(o);
}

/* ---- handsets --------------------------------------------------------- */

static json_t *handset_msg_json(const struct sim_msg *m)
{
  json_t *media = json_array();
  char at[LB_ISO8601_LEN];
  for (size_t k = 0; k < m->n_media; k++) {
    char url[80];
    snprintf(url, sizeof url, "/sim/media/%s", m->media[k].id);
    json_t *it =
        json_pack("{s:s, s:s, s:I}", "content_type", m->media[k].content_type,
                  "url", url, "bytes", (json_int_t)m->media[k].len);
    if (it && m->media[k].source_url[0])
      json_object_set_new(it, "source_url",
                          json_string(m->media[k].source_url));
    json_array_append_new(media, it);
  }
  clock_iso8601(m->at, at, sizeof at);
  /* received_at: the name before sent messages were listed too */
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "id", m->id,
                   "direction", m->from_phone ? "sent" : "received", "from",
                   m->from, "to", m->to, "text", m->text, "media", media, "at",
                   at, "received_at", at);
}

static void h_handset_messages(void *cls, struct http_req *r)
{
  struct sim_carrier *s = cls;
  const char *who = r->params[0];
  json_t *arr = json_array();
  int off, mms;
  if (!phone_is_e164(who)) {
    json_decref(arr);
    sim_error(r, 400, "invalid_number",
              "handset numbers are E.164, e.g. "
              "+61491570156");
    return;
  }
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->n_msgs; i++) {
    struct sim_msg *m = s->msgs[(s->head + i) % SIM_MAX_MESSAGES];
    int mine = m->from_phone ? strcmp(m->from, who) == 0
                             : strcmp(m->to, who) == 0 && !m->lost;
    if (mine)
      json_array_append_new(arr, handset_msg_json(m));
  }
  off = set_has(&s->off, who);
  mms = !set_has(&s->no_mms, who);
  pthread_mutex_unlock(&s->mu);
  http_reply_json(r, 200,
                  json_pack("{s:s, s:b, s:b, s:o}", "handset", who, "mms", mms,
                            "switched_off", off, "messages", arr));
}

/* GET /sim/handsets: every handset the carrier has seen. */
static void h_handsets(void *cls, struct http_req *r)
{
  struct sim_carrier *s = cls;
  json_t *seen = json_object(), *arr = json_array(), *v;
  const char *k;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->n_msgs; i++) {
    struct sim_msg *m = s->msgs[(s->head + i) % SIM_MAX_MESSAGES];
    json_object_set_new(seen, m->from_phone ? m->from : m->to, json_true());
  }
  for (size_t i = 0; i < s->off.n; i++)
    json_object_set_new(seen, s->off.e164[i], json_true());
  for (size_t i = 0; i < s->no_mms.n; i++)
    json_object_set_new(seen, s->no_mms.e164[i], json_true());
  pthread_mutex_unlock(&s->mu);
  json_object_foreach(seen, k, v) json_array_append_new(arr, json_string(k));
  json_decref(seen);
  http_reply_json(r, 200, json_pack("{s:o}", "handsets", arr));
}

/* POST /sim/handsets/{e164}/state {"switched_off": bool, "mms": bool} */
static void h_handset_state(void *cls, struct http_req *r)
{
  struct sim_carrier *s = cls;
  const char *who = r->params[0];
  json_t *o = NULL, *off, *mms;
  int ok = 1, is_off, takes_mms;
  if (!phone_is_e164(who)) {
    sim_error(r, 400, "invalid_number",
              "handset numbers are E.164, e.g. +61491570156");
    return;
  }
  o = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
  off = json_object_get(o, "switched_off");
  mms = json_object_get(o, "mms");
  if ((!off && !mms) || (off && !json_is_boolean(off)) ||
      (mms && !json_is_boolean(mms))) {
    json_decref(o);
    sim_error(r, 400, "invalid_request",
              "send {\"switched_off\": true|false} and/or {\"mms\": "
              "true|false}");
    return;
  }
  pthread_mutex_lock(&s->mu);
  if (off)
    ok = set_put(&s->off, who, json_is_true(off));
  if (ok && mms)
    ok = set_put(&s->no_mms, who, !json_is_true(mms));
  is_off = set_has(&s->off, who);
  takes_mms = !set_has(&s->no_mms, who);
  pthread_mutex_unlock(&s->mu);
  json_decref(o);
  if (!ok) {
    sim_error(r, 409, "too_many",
              "at most 64 handsets can be set like that at once");
    return;
  }
  http_reply_json(r, 200,
                  json_pack("{s:s, s:b, s:b}", "handset", who, "switched_off",
                            is_off, "mms", takes_mms));
}

static void h_media(void *cls, struct http_req *r)
{
  struct sim_carrier *s = cls;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < s->n_msgs; i++) {
    struct sim_msg *m = s->msgs[(s->head + i) % SIM_MAX_MESSAGES];
    for (size_t k = 0; k < m->n_media; k++)
      if (strcmp(m->media[k].id, r->params[0]) == 0) {
        void *copy = malloc(m->media[k].len ? m->media[k].len : 1);
        char ct[LB_CTYPE_MAX];
        size_t len = m->media[k].len;
        if (copy)
          memcpy(copy, m->media[k].data, len);
        snprintf(ct, sizeof ct, "%s", m->media[k].content_type);
        pthread_mutex_unlock(&s->mu);
        if (!copy) {
          sim_error(r, 503, "unavailable", "out of memory");
          return;
        }
        http_reply_bytes(r, 200, ct, copy, len);
        return;
      }
  }
  pthread_mutex_unlock(&s->mu);
  sim_error(r, 404, "not_found", "no such media on the simulated carrier");
}

/* With [sim] answers_keywords, the carrier answers STOP, START and HELP
 * itself, as Twilio does: its own reply, straight to the handset (lyrebird
 * still gets the message). NULL for any other text. */
static struct sim_msg *carrier_reply(struct sim_carrier *s, const char *to,
                                     const char *text)
{
  static const struct {
    const char *word, *reply;
  } words[] = {
      {"stop", "You have been unsubscribed (carrier). Reply START to "
               "resubscribe."},
      {"stopall", "You have been unsubscribed (carrier). Reply START to "
                  "resubscribe."},
      {"unsubscribe", "You have been unsubscribed (carrier). Reply START to "
                      "resubscribe."},
      {"start", "You have been resubscribed (carrier). Reply STOP to "
                "unsubscribe."},
      {"help", "Help (carrier): reply STOP to unsubscribe."}};
  char w[16];
  size_t n = 0;
  struct sim_msg *m;
  if (!sim_settings(s->cfg)->answers_keywords || !text)
    return NULL;
  while (*text == ' ')
    text++;
  for (; text[n] && text[n] != ' ' && n + 1 < sizeof w; n++)
    w[n] = (char)(text[n] >= 'A' && text[n] <= 'Z' ? text[n] + 32 : text[n]);
  w[n] = '\0';
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strcmp(w, words[i].word) == 0 && !text[n + strspn(text + n, " ")] &&
        (m = calloc(1, sizeof *m))) {
      if (!(m->text = strdup(words[i].reply))) {
        free(m);
        return NULL;
      }
      carrier_id(m->id, sizeof m->id, "SC");
      str_copy(m->from, sizeof m->from, s->cfg->number);
      str_copy(m->to, sizeof m->to, to);
      m->at = clock_now_ms();
      return m;
    }
  return NULL;
}

static void h_handset_send(void *cls, struct http_req *r)
{
  struct sim_carrier *s = cls;
  const char *who = r->params[0];
  json_error_t jerr;
  json_t *o = NULL, *text, *media, *idv, *out = NULL;
  char id[LB_PROVIDER_ID_MAX], *body, err[160];
  struct sim_msg *kept;
  size_t total;

  if (!phone_is_e164(who)) {
    sim_error(r, 400, "invalid_number",
              "handset numbers are E.164, e.g. +61491570156");
    goto done;
  }
  o = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &jerr);
  if (!o || !json_is_object(o)) {
    sim_error(r, 400, "invalid_json", "the body must be a JSON object");
    goto done;
  }
  text = json_object_get(o, "text");
  media = json_object_get(o, "media");
  idv = json_object_get(o, "id");
  if ((text && !json_is_string(text)) || (media && !json_is_array(media)) ||
      (idv && (!json_is_string(idv) || json_string_length(idv) == 0 ||
               json_string_length(idv) >= 64))) {
    sim_error(r, 400, "invalid_request",
              "text must be a string, media an array, id a short string");
    goto done;
  }
  if (!json_string_length(text) && !json_array_size(media)) {
    sim_error(r, 400, "invalid_request", "send text, media, or both");
    goto done;
  }
  if (idv)
    snprintf(id, sizeof id, "%s", json_string_value(idv));
  else
    carrier_id(id, sizeof id, "MO");
  out = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", id, "from", who, "to",
                  s->cfg->number, "text", text ? json_string_value(text) : "",
                  "media", media ? json_incref(media) : json_array());
  body = out ? json_dumps(out, JSON_COMPACT) : NULL;
  if (!body) {
    sim_error(r, 503, "unavailable", "out of memory");
    goto done;
  }
  /* The handset keeps what it sent, to show the conversation. */
  kept = calloc(1, sizeof *kept);
  if (kept && (kept->text = strdup(text ? json_string_value(text) : "")) &&
      !decode_media(media, kept, &total, err, sizeof err)) {
    str_copy(kept->id, sizeof kept->id, id);
    str_copy(kept->from, sizeof kept->from, who);
    snprintf(kept->to, sizeof kept->to, "%s", s->cfg->number);
    kept->from_phone = 1;
    kept->at = clock_now_ms();
  } else {
    msg_free(kept);
    kept = NULL;
  }
  pthread_mutex_lock(&s->mu);
  task_add(s, s->inbound_url, body, clock_now_ms());
  for (size_t i = 0; kept && i < s->n_msgs; i++) {
    struct sim_msg *m = s->msgs[(s->head + i) % SIM_MAX_MESSAGES];
    if (m->from_phone && strcmp(m->id, id) == 0) { /* a redelivery */
      msg_free(kept);
      kept = NULL;
    }
  }
  if (kept) {
    struct sim_msg *own = carrier_reply(s, who, kept->text);
    store_msg(s, kept);
    if (own)
      store_msg(s, own);
  }
  pthread_mutex_unlock(&s->mu);
  http_reply_json(r, 202,
                  json_pack("{s:s, s:s}", "id", id, "status", "accepted"));
done:
  json_decref(out);
  json_decref(o);
}

enum lb_err sim_carrier_new(const struct config *cfg, struct http_server *srv,
                            struct sim_carrier **out)
{
  struct sim_carrier *s = calloc(1, sizeof *s);
  size_t cap = (size_t)cfg->media_max_bytes / 3 * 4 + MB;
  if (!s)
    return LB_ENOMEM;
  s->cfg = cfg;
  snprintf(s->inbound_url, sizeof s->inbound_url,
           "http://127.0.0.1:%d/hooks/sim/inbound", cfg->port);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  http_server_route(srv, "POST", "/sim/api/messages", h_api_send, s, cap,
                    AUTH_NONE, 0);
  http_server_route(srv, "GET", "/sim/handsets", h_handsets, s, 0, AUTH_NONE, 0);
  http_server_route(srv, "POST", "/sim/handsets/{e164}/state", h_handset_state,
                    s, 4096, AUTH_NONE, 0);
  http_server_route(srv, "GET", "/sim/handsets/{e164}/messages",
                    h_handset_messages, s, 0, AUTH_NONE, 0);
  http_server_route(srv, "POST", "/sim/handsets/{e164}/send", h_handset_send, s,
                    cap, AUTH_NONE, 0);
  http_server_route(srv, "GET", "/sim/media/{id}", h_media, s, 0, AUTH_NONE, 0);
  if (pthread_create(&s->thread, NULL, deliver_main, s)) {
    sim_carrier_free(s);
    return LB_ENOMEM;
  }
  s->started = 1;
  *out = s;
  return LB_OK;
}

void sim_carrier_free(struct sim_carrier *s)
{
  struct sim_task *t, *next;
  if (!s)
    return;
  if (s->started) {
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
  }
  for (t = s->tasks; t; t = next) {
    next = t->next;
    free(t->body);
    free(t);
  }
  for (size_t i = 0; i < s->n_msgs; i++)
    msg_free(s->msgs[(s->head + i) % SIM_MAX_MESSAGES]);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}
