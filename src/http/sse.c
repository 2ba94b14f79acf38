#include "http/sse.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

struct sse_event {
  uint64_t id;
  char *text; /* "id: ..\nevent: ..\ndata: ..\n\n" */
  size_t len;
};

struct sse_stream {
  struct sse_hub *hub;
  struct MHD_Connection *conn;
  uint64_t next; /* the id of the next event to send */
  size_t offset; /* bytes of that event already sent */
  int hello;     /* the opening "retry:" line is still to send */
  int reset;     /* a "reset" event is to send */
  int ping;      /* a ping is to send */
  int suspended;
  int64_t ends_at; /* monotonic ms */
  struct sse_stream *prev, *nxt;
};

struct sse_hub {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct sse_event ring[SSE_RING];
  uint64_t last;   /* number of the newest event; 0 before any */
  long long epoch; /* start time: ids are "<epoch>-<number>", so an id
                      from before a restart is told apart */
  struct sse_stream *streams;
  int n_streams;
  int closing;
  pthread_t pinger;
  int pinger_started;
};

/* Collects the suspended streams to resume once mu is released: a stream
 * marked not-suspended here stays valid until it is resumed, because MHD
 * cannot end a suspended connection. Caller holds mu. */
static size_t wake_all(struct sse_hub *h, struct MHD_Connection **out,
                       size_t max, int ping)
{
  size_t n = 0;
  for (struct sse_stream *s = h->streams; s; s = s->nxt) {
    if (ping)
      s->ping = 1;
    if (s->suspended && n < max) {
      s->suspended = 0;
      out[n++] = s->conn;
    }
  }
  return n;
}

static void resume_all(struct MHD_Connection **conns, size_t n)
{
  for (size_t i = 0; i < n; i++)
    MHD_resume_connection(conns[i]);
}

static void *pinger_main(void *arg)
{
  struct sse_hub *h = arg;
  struct MHD_Connection *conns[SSE_MAX_STREAMS];
  pthread_mutex_lock(&h->mu);
  while (!h->closing) {
    struct timespec ts;
    size_t n;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += SSE_PING_SECONDS;
    if (pthread_cond_timedwait(&h->cv, &h->mu, &ts) != ETIMEDOUT || h->closing)
      continue;
    n = wake_all(h, conns, SSE_MAX_STREAMS, 1);
    pthread_mutex_unlock(&h->mu);
    resume_all(conns, n);
    pthread_mutex_lock(&h->mu);
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

enum lb_err sse_hub_new(struct sse_hub **out)
{
  struct sse_hub *h = calloc(1, sizeof *h);
  if (!h)
    return LB_ENOMEM;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  h->epoch = (long long)clock_now_ms();
  if (pthread_create(&h->pinger, NULL, pinger_main, h)) {
    sse_hub_free(h);
    return LB_ENOMEM;
  }
  h->pinger_started = 1;
  *out = h;
  return LB_OK;
}

void sse_hub_close(struct sse_hub *h)
{
  struct MHD_Connection *conns[SSE_MAX_STREAMS];
  size_t n;
  if (!h)
    return;
  pthread_mutex_lock(&h->mu);
  h->closing = 1;
  pthread_cond_broadcast(&h->cv);
  n = wake_all(h, conns, SSE_MAX_STREAMS, 0);
  pthread_mutex_unlock(&h->mu);
  resume_all(conns, n);
  if (h->pinger_started) {
    pthread_join(h->pinger, NULL);
    h->pinger_started = 0;
  }
  /* Each resumed stream now ends; give them a moment to be sent out. */
  for (int i = 0; i < 300; i++) {
    struct timespec ts = {0, 10 * 1000000L};
    int left;
    pthread_mutex_lock(&h->mu);
    left = 0;
    for (struct sse_stream *s = h->streams; s; s = s->nxt)
      left += s->suspended;
    pthread_mutex_unlock(&h->mu);
    if (!left)
      break;
    nanosleep(&ts, NULL);
  }
}

void sse_hub_free(struct sse_hub *h)
{
  if (!h)
    return;
  sse_hub_close(h);
  for (int i = 0; i < SSE_RING; i++)
    free(h->ring[i].text);
  pthread_cond_destroy(&h->cv);
  pthread_mutex_destroy(&h->mu);
  free(h);
}

void sse_publish(struct sse_hub *h, const char *event, const char *data)
{
  struct MHD_Connection *conns[SSE_MAX_STREAMS];
  struct sse_event *e;
  size_t cap = strlen(event) + strlen(data) + 64, n;
  char *text;
  int len;
  if (!h || cap > SSE_EVENT_MAX) {
    log_warn("sse.publish", "event '%s' too large to stream (%zu bytes)", event,
             cap);
    return;
  }
  if (!(text = malloc(cap)))
    return;
  pthread_mutex_lock(&h->mu);
  len = snprintf(text, cap, "id: %lld-%llu\nevent: %s\ndata: %s\n\n", h->epoch,
                 (unsigned long long)(h->last + 1), event, data);
  if (len < 0 || (size_t)len >= cap) {
    pthread_mutex_unlock(&h->mu);
    free(text);
    return;
  }
  h->last++;
  e = &h->ring[h->last % SSE_RING];
  free(e->text);
  e->id = h->last;
  e->text = text;
  e->len = (size_t)len;
  n = wake_all(h, conns, SSE_MAX_STREAMS, 0);
  pthread_mutex_unlock(&h->mu);
  resume_all(conns, n);
}

/* Copies as much of src as fits. Returns bytes copied. */
static size_t put(char *buf, size_t max, size_t *used, const char *src,
                  size_t len)
{
  size_t room = max - *used, k = len < room ? len : room;
  memcpy(buf + *used, src, k);
  *used += k;
  return k;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
  static const char hello[] = "retry: 3000\n\n";
  static const char reset[] = "event: reset\ndata: {}\n\n";
  static const char ping[] = ": ping\n\n";
  struct sse_stream *s = cls;
  struct sse_hub *h = s->hub;
  size_t used = 0;
  ssize_t ret;
  (void)pos;

  pthread_mutex_lock(&h->mu);
  if (h->closing || clock_mono_ms() >= s->ends_at) {
    ret = MHD_CONTENT_READER_END_OF_STREAM;
    goto out;
  }
  /* Small fixed lines are only written whole. */
  if (s->hello && max - used >= sizeof hello - 1) {
    put(buf, max, &used, hello, sizeof hello - 1);
    s->hello = 0;
  }
  if (s->next + SSE_RING <= h->last) { /* fell behind the ring */
    s->reset = 1;
    s->next = h->last + 1;
    s->offset = 0;
  }
  if (s->reset && max - used >= sizeof reset - 1) {
    put(buf, max, &used, reset, sizeof reset - 1);
    s->reset = 0;
  }
  while (!s->reset && s->next <= h->last && used < max) {
    struct sse_event *e = &h->ring[s->next % SSE_RING];
    s->offset += put(buf, max, &used, e->text + s->offset, e->len - s->offset);
    if (s->offset == e->len) {
      s->next++;
      s->offset = 0;
    }
  }
  if (!used && s->ping && max >= sizeof ping - 1) {
    put(buf, max, &used, ping, sizeof ping - 1);
    s->ping = 0;
  }
  if (used) {
    s->ping = 0;
    ret = (ssize_t)used;
    goto out;
  }
  /* Nothing to send: park until a publish, a ping or the close. */
  s->suspended = 1;
  MHD_suspend_connection(s->conn);
  ret = 0;
out:
  pthread_mutex_unlock(&h->mu);
  return ret;
}

static void stream_free(void *cls)
{
  struct sse_stream *s = cls;
  struct sse_hub *h = s->hub;
  pthread_mutex_lock(&h->mu);
  if (s->prev)
    s->prev->nxt = s->nxt;
  else
    h->streams = s->nxt;
  if (s->nxt)
    s->nxt->prev = s->prev;
  h->n_streams--;
  pthread_mutex_unlock(&h->mu);
  free(s);
}

void sse_reply(struct sse_hub *h, struct http_req *r)
{
  const char *lei = http_header(r, "Last-Event-ID");
  struct sse_stream *s;
  struct MHD_Response *resp;

  pthread_mutex_lock(&h->mu);
  if (h->closing || h->n_streams >= SSE_MAX_STREAMS) {
    int closing = h->closing;
    pthread_mutex_unlock(&h->mu);
    http_reply_error(r, 503, "unavailable",
                     closing ? "the server is stopping"
                             : "too many open event streams; try again later");
    http_reply_header(r, "Retry-After", "5");
    return;
  }
  if (!(s = calloc(1, sizeof *s))) {
    pthread_mutex_unlock(&h->mu);
    http_reply_error(r, 503, "overloaded", "out of memory");
    return;
  }
  s->hub = h;
  s->conn = r->conn;
  s->hello = 1;
  s->next = h->last + 1;
  s->ends_at = clock_mono_ms() + SSE_MAX_AGE_SECONDS * 1000LL;
  if (lei && *lei) {
    char *end;
    long long epoch;
    unsigned long long v = 0;
    errno = 0;
    epoch = strtoll(lei, &end, 10);
    if (*end == '-')
      v = strtoull(end + 1, &end, 10);
    if (!errno && !*end && epoch == h->epoch && v <= h->last &&
        v + SSE_RING > h->last)
      s->next = v + 1; /* still in the ring: replay what was missed */
    else
      s->reset = 1; /* gone, from before a restart, or nonsense */
  }
  s->nxt = h->streams;
  if (h->streams)
    h->streams->prev = s;
  h->streams = s;
  h->n_streams++;
  pthread_mutex_unlock(&h->mu);

  resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader,
                                           s, stream_free);
  if (!resp) {
    stream_free(s);
    http_reply_error(r, 503, "overloaded", "out of memory");
    return;
  }
  MHD_add_response_header(resp, "Content-Type", "text/event-stream");
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "X-Accel-Buffering", "no");
  http_reply_response(r, 200, resp);
}

int sse_streams(struct sse_hub *h)
{
  int n;
  pthread_mutex_lock(&h->mu);
  n = h->n_streams;
  pthread_mutex_unlock(&h->mu);
  return n;
}
