#include "http/sse.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

struct sse_event {
  long long seq; /* the event's id */
  char *text;    /* "id: ..\nevent: ..\ndata: ..\n\n" */
  size_t len;
};

/* Most a backfill may write for one stream. */
#define SSE_BACKFILL_MAX (4u * 1024 * 1024)

struct sse_stream {
  struct sse_hub *hub;
  struct MHD_Connection *conn;
  uint64_t next; /* the ring number of the next event to send */
  size_t offset; /* bytes of that event already sent */
  struct buf pre; /* a backfill: sent first */
  size_t pre_off;
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
  uint64_t last;       /* ring number of the newest event; 0 before any */
  long long last_seq;  /* its seq (the floor before any) */
  long long floor_seq; /* events up to this seq are not in the ring */
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

enum lb_err sse_hub_new(long long floor, struct sse_hub **out)
{
  struct sse_hub *h = calloc(1, sizeof *h);
  if (!h)
    return LB_ENOMEM;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  h->last_seq = h->floor_seq = floor;
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

enum lb_err sse_frame(struct buf *out, long long seq, const char *event,
                      const char *data)
{
  return buf_printf(out, "id: %lld\nevent: %s\ndata: %s\n\n", seq, event,
                    data)
             ? LB_ETOOBIG
             : LB_OK;
}

void sse_publish(struct sse_hub *h, long long seq, const char *event,
                 const char *data)
{
  struct MHD_Connection *conns[SSE_MAX_STREAMS];
  struct sse_event *e;
  struct buf b;
  char small[96];
  size_t n, len;
  char *text;
  if (!h)
    return;
  buf_init(&b, SSE_EVENT_MAX);
  if (sse_frame(&b, seq, event, data)) {
    log_warn("sse.publish", "event %lld (%s) too large to stream", seq, event);
    buf_reset(&b);
    snprintf(small, sizeof small, "{\"seq\":\"%lld\"}", seq);
    if (sse_frame(&b, seq, "too_large", small)) {
      buf_release(&b);
      return;
    }
  }
  text = buf_steal(&b, &len);
  if (!text)
    return;
  pthread_mutex_lock(&h->mu);
  if (seq <= h->last_seq) { /* published already */
    pthread_mutex_unlock(&h->mu);
    free(text);
    return;
  }
  h->last++;
  e = &h->ring[h->last % SSE_RING];
  if (e->text)
    h->floor_seq = e->seq; /* evicted: from now on only in the log */
  free(e->text);
  e->seq = seq;
  e->text = text;
  e->len = len;
  h->last_seq = seq;
  n = wake_all(h, conns, SSE_MAX_STREAMS, 0);
  pthread_mutex_unlock(&h->mu);
  resume_all(conns, n);
}

long long sse_last_seq(struct sse_hub *h)
{
  long long v;
  pthread_mutex_lock(&h->mu);
  v = h->last_seq;
  pthread_mutex_unlock(&h->mu);
  return v;
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
    buf_release(&s->pre); /* a reset replaces the backfill */
  }
  while (!s->reset && s->pre_off < s->pre.len && used < max)
    s->pre_off += put(buf, max, &used, s->pre.data + s->pre_off,
                      s->pre.len - s->pre_off);
  while (!s->reset && s->pre_off >= s->pre.len && s->next <= h->last &&
         used < max) {
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
  buf_release(&s->pre);
  free(s);
}

/* The ring number of the first event after seq 'after' (h->last + 1 when
 * none). Caller holds mu. */
static uint64_t ring_after(struct sse_hub *h, long long after)
{
  uint64_t first = h->last >= SSE_RING ? h->last - SSE_RING + 1 : 1;
  for (uint64_t i = first; i <= h->last; i++)
    if (h->ring[i % SSE_RING].seq > after)
      return i;
  return h->last + 1;
}

void sse_reply(struct sse_hub *h, struct http_req *r, long long after,
               sse_backfill_fn backfill, void *arg)
{
  struct sse_stream *s;
  struct MHD_Response *resp;
  long long upto = 0;

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
  s->ends_at = clock_mono_ms() + SSE_MAX_AGE_SECONDS * 1000LL;
  buf_init(&s->pre, SSE_BACKFILL_MAX);
  if (after == SSE_RESET || after > h->last_seq) {
    s->next = h->last + 1; /* not an id of this log: start over */
    s->reset = 1;
  } else if (after < 0 || after == h->last_seq) {
    s->next = h->last + 1; /* from now on */
  } else {
    s->next = ring_after(h, after);
    if (after < h->floor_seq)
      upto = h->floor_seq; /* older than the ring: from the log */
  }
  pthread_mutex_unlock(&h->mu);

  if (upto && !s->reset) {
    if (!backfill || backfill(arg, after, upto, &s->pre) != LB_OK) {
      buf_release(&s->pre);
      s->reset = 1; /* too much, or unreadable: catch up another way */
    }
  }

  pthread_mutex_lock(&h->mu);
  if (s->reset)
    s->next = h->last + 1;
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
