/* bench/webhooks' receiver: a libmicrohttpd server that takes lyrebird's
 * webhook deliveries, checks each one's Standard Webhooks signature and
 * notes when it arrived.
 *
 *   POST /ep/N         a delivery for endpoint N (0..7): answered 200 "{}"
 *                      once the whole body is in
 *   PUT  /_secret/N    body: endpoint N's signing secret (whsec_...)
 *   GET  /_stats       {"received":..,"dropped":..,"bad_signature":..,
 *                      "connections":..}: connections is how many
 *                      connections carried deliveries (lyrebird's reuse)
 *   GET  /_dump?from=K the records from the K-th on, one a line:
 *                      EP RECV_US EVENT_AT_MS CREATED_AT_MS SIG_OK WEBHOOK_ID
 *   GET  /healthz      200
 *
 * RECV_US is the wall clock (CLOCK_REALTIME, microseconds) when the body
 * was complete; EVENT_AT_MS is the envelope's "timestamp" (the event's
 * time in lyrebird's log, set in the transaction that commits it) and
 * CREATED_AT_MS data.message.created_at, both parsed from RFC 3339 with
 * milliseconds (0 when absent). SIG_OK is 1 when webhook-signature holds
 * a v1 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>" under the
 * endpoint's secret, 0 when it does not, and 2 when no secret was set.
 *
 * Records go into a fixed array (RECORDS, 2,000,000 by default); later
 * deliveries are answered but counted only as "dropped". Built by
 * bench/webhooks with
 *   cc -std=c11 -O2 -Wall -Wextra -Werror webhook_sink.c \
 *      $(pkg-config --cflags --libs libmicrohttpd libcrypto) -lpthread
 * and stopped with SIGTERM.
 *
 * usage: webhook_sink PORT [THREADS [RECORDS]]   (THREADS defaults to 4) */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define ENDPOINTS 8
#define BODY_MAX (1024 * 1024)
#define ID_MAX 48

struct record {
  _Atomic int64_t recv_us; /* 0 until the record is complete */
  int64_t at_ms, created_ms;
  int ep, sig;
  char id[ID_MAX];
};

struct req {
  char *body;
  size_t len, cap;
  int too_big;
};

static struct record *records;
static size_t records_max = 2000000;
static atomic_size_t n_recv, n_dropped, n_bad_sig, n_conn;

static pthread_mutex_t secret_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char secret_key[ENDPOINTS][64];
static int secret_len[ENDPOINTS];

static struct MHD_Response *ok_response;

static int64_t now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (what lyrebird writes) to ms since 1970. */
static int64_t parse_rfc3339_ms(const char *s)
{
  struct tm tm;
  int ms = 0, n = 0, digits = 0;
  memset(&tm, 0, sizeof tm);
  if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
    return 0;
  s += n;
  if (*s == '.')
    for (s++; *s >= '0' && *s <= '9'; s++, digits++)
      if (digits < 3)
        ms = ms * 10 + (*s - '0');
  for (; digits < 3; digits++)
    ms *= 10;
  if (*s != 'Z')
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm) * 1000 + ms;
}

/* The first string value of "key" in the body (lyrebird writes the
 * envelope's own fields before "data", so "timestamp" is the envelope's). */
static int64_t field_ms(const char *body, const char *key)
{
  const char *p = strstr(body, key);
  return p ? parse_rfc3339_ms(p + strlen(key)) : 0;
}

static int verify(int ep, const char *id, const char *ts, const char *sig,
                  const struct req *rq)
{
  unsigned char mac[EVP_MAX_MD_SIZE], key[64];
  unsigned int maclen = 0;
  char want[100], *msg;
  size_t il, tl, wl;
  int keylen;
  const char *p;

  pthread_mutex_lock(&secret_mu);
  keylen = secret_len[ep];
  memcpy(key, secret_key[ep], sizeof key);
  pthread_mutex_unlock(&secret_mu);
  if (!keylen)
    return 2;
  if (!id || !ts || !sig)
    return 0;
  /* The signed content: "<id>.<timestamp>.<body>". */
  il = strlen(id);
  tl = strlen(ts);
  if (!(msg = malloc(il + tl + rq->len + 2)))
    return 0;
  memcpy(msg, id, il);
  msg[il] = '.';
  memcpy(msg + il + 1, ts, tl);
  msg[il + 1 + tl] = '.';
  memcpy(msg + il + tl + 2, rq->body, rq->len);
  if (!HMAC(EVP_sha256(), key, keylen, (unsigned char *)msg,
            il + tl + rq->len + 2, mac, &maclen)) {
    free(msg);
    return 0;
  }
  free(msg);
  memcpy(want, "v1,", 3);
  EVP_EncodeBlock((unsigned char *)want + 3, mac, (int)maclen);
  wl = strlen(want);
  /* A space-separated list; any one matching is enough. */
  for (p = sig; *p;) {
    size_t l = strcspn(p, " ");
    if (l == wl && memcmp(p, want, wl) == 0)
      return 1;
    p += l;
    p += strspn(p, " ");
  }
  return 0;
}

static void record(struct MHD_Connection *conn, int ep, struct req *rq)
{
  int64_t t = now_us();
  const char *id =
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-id");
  const char *ts =
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-timestamp");
  const char *sig =
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-signature");
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  int *seen = ci ? ci->socket_context : NULL;
  int ok = verify(ep, id, ts, sig, rq);
  size_t k = atomic_fetch_add(&n_recv, 1);
  struct record *r;
  if (seen && !*seen) { /* the first delivery on this connection */
    *seen = 1;
    atomic_fetch_add(&n_conn, 1);
  }
  if (ok == 0)
    atomic_fetch_add(&n_bad_sig, 1);
  if (k >= records_max) {
    atomic_fetch_add(&n_dropped, 1);
    return;
  }
  r = &records[k];
  r->ep = ep;
  r->sig = ok;
  r->at_ms = field_ms(rq->body, "\"timestamp\":\"");
  r->created_ms = field_ms(rq->body, "\"created_at\":\"");
  snprintf(r->id, sizeof r->id, "%s", id ? id : "-");
  /* Last: a dump stops at a record whose time is not yet written. */
  atomic_store_explicit(&r->recv_us, t, memory_order_release);
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status,
                                   char *text, size_t len)
{
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
  enum MHD_Result r;
  if (!resp) {
    free(text);
    return MHD_NO;
  }
  r = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return r;
}

static enum MHD_Result stats(struct MHD_Connection *conn)
{
  char *s = malloc(200);
  int n;
  if (!s)
    return MHD_NO;
  n = snprintf(s, 200,
               "{\"received\":%zu,\"dropped\":%zu,\"bad_signature\":%zu,"
               "\"connections\":%zu}\n",
               atomic_load(&n_recv), atomic_load(&n_dropped),
               atomic_load(&n_bad_sig), atomic_load(&n_conn));
  return answer_text(conn, MHD_HTTP_OK, s, (size_t)n);
}

static enum MHD_Result dump(struct MHD_Connection *conn)
{
  const char *f =
      MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "from");
  size_t from = f ? strtoull(f, NULL, 10) : 0, to = atomic_load(&n_recv);
  size_t cap, len = 0;
  char *out;
  if (to > records_max)
    to = records_max;
  if (from > to)
    from = to;
  cap = (to - from) * (ID_MAX + 80) + 1;
  if (!(out = malloc(cap)))
    return MHD_NO;
  for (size_t k = from; k < to; k++) {
    const struct record *r = &records[k];
    int64_t t = atomic_load_explicit(&r->recv_us, memory_order_acquire);
    if (!t)
      break; /* still being written; the next dump has it */
    len += (size_t)snprintf(out + len, cap - len, "%d %lld %lld %lld %d %s\n",
                            r->ep, (long long)t, (long long)r->at_ms,
                            (long long)r->created_ms, r->sig, r->id);
  }
  return answer_text(conn, MHD_HTTP_OK, out, len);
}

static int path_index(const char *url, const char *prefix)
{
  size_t l = strlen(prefix);
  char *end;
  long v;
  if (strncmp(url, prefix, l) != 0)
    return -1;
  v = strtol(url + l, &end, 10);
  if (end == url + l || *end || v < 0 || v >= ENDPOINTS)
    return -1;
  return (int)v;
}

static enum MHD_Result set_secret(struct MHD_Connection *conn, int ep,
                                  struct req *rq)
{
  unsigned char raw[96];
  char b64[128];
  size_t n = rq->len;
  int len;
  while (n && (rq->body[n - 1] == '\n' || rq->body[n - 1] == ' '))
    n--;
  if (n < 7 || n - 6 > sizeof b64 - 4 || memcmp(rq->body, "whsec_", 6) != 0)
    return answer_text(conn, MHD_HTTP_BAD_REQUEST, strdup("bad secret\n"), 11);
  memcpy(b64, rq->body + 6, n - 6);
  n -= 6;
  while (n % 4)
    b64[n++] = '=';
  b64[n] = '\0';
  len = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)n);
  if (len < 0)
    return answer_text(conn, MHD_HTTP_BAD_REQUEST, strdup("bad secret\n"), 11);
  /* EVP_DecodeBlock counts the padding as zero bytes. */
  for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
    len--;
  if (len < 1 || len > 64)
    return answer_text(conn, MHD_HTTP_BAD_REQUEST, strdup("bad secret\n"), 11);
  pthread_mutex_lock(&secret_mu);
  memcpy(secret_key[ep], raw, (size_t)len);
  secret_len[ep] = len;
  pthread_mutex_unlock(&secret_mu);
  return answer_text(conn, MHD_HTTP_OK, strdup("ok\n"), 3);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
  struct req *rq = *req_cls;
  int ep;
  (void)cls;
  (void)version;
  if (!rq) {
    if (!(rq = calloc(1, sizeof *rq)))
      return MHD_NO;
    *req_cls = rq;
    return MHD_YES;
  }
  if (*upload_data_size) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (rq->too_big || rq->len + n >= BODY_MAX) {
      rq->too_big = 1;
      return MHD_YES;
    }
    if (rq->len + n + 1 > rq->cap) {
      size_t cap = rq->cap ? rq->cap : 4096;
      char *b;
      while (cap < rq->len + n + 1)
        cap *= 2;
      if (!(b = realloc(rq->body, cap)))
        return MHD_NO;
      rq->body = b;
      rq->cap = cap;
    }
    memcpy(rq->body + rq->len, upload_data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
    return MHD_YES;
  }
  if (!rq->body) {
    if (!(rq->body = calloc(1, 1)))
      return MHD_NO;
  }
  if (!strcmp(method, "POST") && (ep = path_index(url, "/ep/")) >= 0) {
    if (rq->too_big)
      return answer_text(conn, 413, strdup("too big\n"), 8);
    record(conn, ep, rq);
    return MHD_queue_response(conn, MHD_HTTP_OK, ok_response);
  }
  if (!strcmp(method, "PUT") && (ep = path_index(url, "/_secret/")) >= 0)
    return set_secret(conn, ep, rq);
  if (!strcmp(method, "GET") && !strcmp(url, "/_stats"))
    return stats(conn);
  if (!strcmp(method, "GET") && !strcmp(url, "/_dump"))
    return dump(conn);
  if (!strcmp(method, "GET") && !strcmp(url, "/healthz"))
    return MHD_queue_response(conn, MHD_HTTP_OK, ok_response);
  return answer_text(conn, MHD_HTTP_NOT_FOUND, strdup("not found\n"), 10);
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
  struct req *rq = *req_cls;
  (void)cls;
  (void)conn;
  (void)toe;
  if (rq) {
    free(rq->body);
    free(rq);
    *req_cls = NULL;
  }
}

/* Each connection's flag: has it carried a delivery (a connection is
 * served by one thread at a time). */
static void connected(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                      enum MHD_ConnectionNotificationCode toe)
{
  (void)cls;
  (void)conn;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    *socket_ctx = calloc(1, sizeof(int));
  } else {
    free(*socket_ctx);
    *socket_ctx = NULL;
  }
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv)
{
  static const char body[] = "{}";
  struct sockaddr_in addr;
  struct MHD_Daemon *d;
  sigset_t stop;
  long port, threads = 4, nrec = (long)records_max;
  int sig;

  if (argc < 2 || argc > 4 || parse_long(argv[1], 1, 65535, &port) ||
      (argc >= 3 && parse_long(argv[2], 1, 1024, &threads)) ||
      (argc == 4 && parse_long(argv[3], 1, 100000000, &nrec))) {
    fprintf(stderr, "usage: %s PORT [THREADS [RECORDS]]\n", argv[0]);
    return 2;
  }
  records_max = (size_t)nrec;
  if (!(records = calloc(records_max, sizeof *records))) {
    fprintf(stderr, "webhook_sink: cannot allocate %zu records\n", records_max);
    return 1;
  }

  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
    perror("pthread_sigmask");
    return 1;
  }

  ok_response = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
                                                MHD_RESPMEM_PERSISTENT);
  if (!ok_response ||
      MHD_add_response_header(ok_response, MHD_HTTP_HEADER_CONTENT_TYPE,
                              "application/json") != MHD_YES) {
    fprintf(stderr, "webhook_sink: cannot build the response\n");
    return 1;
  }

  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  d = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, (unsigned short)port,
      NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads,
      MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_NOTIFY_COMPLETED,
      completed, NULL, MHD_OPTION_NOTIFY_CONNECTION, connected, NULL,
      MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "webhook_sink: cannot listen on 127.0.0.1:%ld\n", port);
    return 1;
  }
  fprintf(stderr, "webhook_sink: listening on 127.0.0.1:%ld, %ld threads\n",
          port, threads);

  if (sigwait(&stop, &sig) != 0)
    sig = 0;
  MHD_stop_daemon(d);
  MHD_destroy_response(ok_response);
  free(records);
  return 0;
}
