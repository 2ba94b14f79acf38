/* http/fetch: the media fetcher against a real server. Uses loopback
 * sockets: a libmicrohttpd daemon on 127.0.0.1 (an ephemeral port, started
 * here) serves the fixtures, and every request it sees is recorded, so a
 * test can say "refused without connecting". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "http/fetch.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"

#define BIG_LEN (64 * 1024)
#define SLOW_MS 1500
#define MAX_SEEN 32

static const char media[] = "\xff\xd8\xff\xe0 lyrebird test image \xff\xd9";
#define MEDIA_LEN (sizeof media - 1)

/* Basic "clinic:hunter2". */
#define USERPWD "clinic:hunter2"
#define AUTH_HEADER "Basic Y2xpbmljOmh1bnRlcjI="

struct seen {
  char path[64];
  char host[64];
  char auth[64]; /* "" when none */
};

static struct {
  struct MHD_Daemon *d;
  unsigned port;
  pthread_mutex_t mu;
  int n;
  struct seen seen[MAX_SEEN];
  char big[BIG_LEN];
} srv;

/* ---- the fixture server ---------------------------------------------------
 */

static void record(struct MHD_Connection *c, const char *url)
{
  const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_AUTHORIZATION);
  const char *host =
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
  pthread_mutex_lock(&srv.mu);
  if (srv.n < MAX_SEEN) {
    struct seen *s = &srv.seen[srv.n];
    snprintf(s->path, sizeof s->path, "%s", url);
    snprintf(s->host, sizeof s->host, "%s", host ? host : "");
    snprintf(s->auth, sizeof s->auth, "%s", auth ? auth : "");
  }
  srv.n++;
  pthread_mutex_unlock(&srv.mu);
}

static int seen_count(void)
{
  int n;
  pthread_mutex_lock(&srv.mu);
  n = srv.n;
  pthread_mutex_unlock(&srv.mu);
  return n;
}

static ssize_t stream_part(void *cls, uint64_t pos, char *out, size_t max)
{
  size_t n = max < 1024 ? max : 1024;
  if (pos >= BIG_LEN)
    return MHD_CONTENT_READER_END_OF_STREAM;
  memset(out, 'z', n);
  return (ssize_t)n;
}

/* Announces 100 MB, then sends nothing for SLOW_MS. */
static ssize_t stall_part(void *cls, uint64_t pos, char *out, size_t max)
{
  struct timespec ts = {SLOW_MS / 1000, (SLOW_MS % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  return MHD_CONTENT_READER_END_WITH_ERROR;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             const void *body, size_t len, const char *ctype,
                             const char *location)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, (void *)body, MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ret;
  if (!r)
    return MHD_NO;
  if (ctype)
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  if (location)
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
  ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
  static const char page[] = "<html>no</html>";
  char loc[128];

  record(c, url);
  if (strcmp(url, "/media") == 0)
    return reply(c, 200, media, MEDIA_LEN, "image/jpeg", NULL);
  if (strcmp(url, "/same") == 0)
    return reply(c, 302, page, sizeof page - 1, "text/html", "/media");
  if (strcmp(url, "/other") == 0) {
    snprintf(loc, sizeof loc, "http://localhost:%u/media", srv.port);
    return reply(c, 302, page, sizeof page - 1, "text/html", loc);
  }
  if (strcmp(url, "/evil") == 0) {
    snprintf(loc, sizeof loc,
             "http://evil.invalid:%u/media?X-Amz-Signature=s3cr3tsig",
             srv.port);
    return reply(c, 302, "", 0, NULL, loc);
  }
  if (strcmp(url, "/ftp") == 0)
    return reply(c, 301, "", 0, NULL, "ftp://127.0.0.1/media");
  if (strcmp(url, "/loop") == 0)
    return reply(c, 307, "", 0, NULL, "/loop");
  if (strcmp(url, "/big") == 0)
    return reply(c, 200, srv.big, BIG_LEN, "image/png", NULL);
  if (strcmp(url, "/declared") == 0) {
    struct MHD_Response *r = MHD_create_response_from_callback(
        100u << 20, 4096, stall_part, NULL, NULL);
    enum MHD_Result ret;
    if (!r)
      return MHD_NO;
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
  }
  if (strcmp(url, "/stream") == 0) {
    /* No Content-Length: chunked, so only the running count can stop it. */
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 4096, stream_part, NULL, NULL);
    enum MHD_Result ret;
    if (!r)
      return MHD_NO;
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
  }
  if (strcmp(url, "/slow") == 0) {
    struct timespec ts = {SLOW_MS / 1000, (SLOW_MS % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return reply(c, 200, media, MEDIA_LEN, "image/jpeg", NULL);
  }
  if (strncmp(url, "/status/", 8) == 0)
    return reply(c, (unsigned)atoi(url + 8), page, sizeof page - 1, "text/html",
                 NULL);
  return reply(c, 404, page, sizeof page - 1, "text/html", NULL);
}

static int server_start(void **state)
{
  struct sockaddr_in sa;
  const union MHD_DaemonInfo *info;

  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  memset(srv.big, 'b', sizeof srv.big);
  pthread_mutex_init(&srv.mu, NULL);
  srv.d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
      NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
      MHD_OPTION_END);
  if (!srv.d)
    return -1;
  info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
  if (!info || !info->port)
    return -1;
  srv.port = info->port;
  return 0;
}

static int server_stop(void **state)
{
  MHD_stop_daemon(srv.d);
  pthread_mutex_destroy(&srv.mu);
  return 0;
}

static int forget_requests(void **state)
{
  pthread_mutex_lock(&srv.mu);
  srv.n = 0;
  memset(srv.seen, 0, sizeof srv.seen);
  pthread_mutex_unlock(&srv.mu);
  return 0;
}

/* ---- helpers --------------------------------------------------------------
 */

static const char *const local_hosts[] = {"127.0.0.1", "localhost", NULL};

/* A policy for the loopback server: its hosts, private allowed. */
static struct fetch_policy loopback(void)
{
  struct fetch_policy p;
  memset(&p, 0, sizeof p);
  p.hosts = local_hosts;
  p.allow_private = 1;
  p.max_bytes = 1 << 20;
  p.timeout_ms = 5000;
  p.max_redirects = 3;
  p.userpwd = USERPWD;
  return p;
}

static const char *url_for(const char *host, const char *path)
{
  static char url[256];
  snprintf(url, sizeof url, "http://%s:%u%s", host, srv.port, path);
  return url;
}

/* No message may give away the credentials or a query string. */
static void assert_clean_error(const struct fetch_result *res)
{
  assert_null(strstr(res->error, "hunter2"));
  assert_null(strstr(res->error, "clinic:"));
  assert_null(strstr(res->error, "s3cr3t"));
  assert_null(strstr(res->error, "X-Amz"));
}

static int fetch(const struct fetch_policy *p, const char *url, struct buf *out,
                 struct fetch_result *res)
{
  int rc = fetch_get(p, url, out, res);
  assert_clean_error(res);
  if (rc != LB_OK)
    assert_int_equal(out->len, 0);
  return rc;
}

/* ---- tests ----------------------------------------------------------------
 */

static void test_allowed_fetch(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  buf_init(&out, 1 << 20);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/media"), &out, &res),
                   LB_OK);
  assert_int_equal(out.len, MEDIA_LEN);
  assert_memory_equal(out.data, media, MEDIA_LEN);
  assert_int_equal(res.http_status, 200);
  assert_int_equal(res.final, 0);
  assert_string_equal(res.content_type, "image/jpeg");
  assert_string_equal(res.error, "");
  assert_int_equal(seen_count(), 1);
  assert_string_equal(srv.seen[0].path, "/media");
  assert_string_equal(srv.seen[0].auth, AUTH_HEADER);
  buf_release(&out);
}

/* The same URL without allow_private: refused before connecting. */
static void test_private_refused(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  p.allow_private = 0;
  buf_init(&out, 1 << 20);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/media"), &out, &res),
                   LB_EDENIED);
  assert_int_equal(res.final, 1);
  assert_int_equal(res.http_status, 0);
  assert_non_null(strstr(res.error, "refused"));
  assert_non_null(strstr(res.error, "127.0.0.1"));
  assert_int_equal(seen_count(), 0);
  buf_release(&out);
}

/* A name is judged by the address curl connects to. */
static void test_name_resolving_private_refused(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  p.allow_private = 0;
  buf_init(&out, 1 << 20);
  assert_int_equal(fetch(&p, url_for("localhost", "/media"), &out, &res),
                   LB_EDENIED);
  assert_int_equal(res.final, 1);
  assert_non_null(
      strstr(res.error, "refused: localhost resolves to a private address ("));
  assert_int_equal(seen_count(), 0);
  buf_release(&out);
}

/* Other spellings of private addresses: all refused, none reaches the
 * server. */
static void test_private_spellings_refused(void **state)
{
  static const char *const hosts[] = {
      "[::ffff:127.0.0.1]",
      "[::1]",
      "2130706433",
      "0x7f.0.0.1",
      "127.1",
      "0",
      "[::ffff:7f00:1]",
      "[64:ff9b::7f00:1]",
  };
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  p.allow_private = 0;
  p.hosts = NULL;
  buf_init(&out, 1 << 20);
  for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
    int rc = fetch(&p, url_for(hosts[i], "/media"), &out, &res);
    if (rc != LB_EDENIED || !res.final)
      fail_msg("%s: rc %s, final %d (%s)", hosts[i], lb_errname(rc), res.final,
               res.error);
  }
  assert_int_equal(seen_count(), 0);
  buf_release(&out);
}

/* Cloud metadata: refused at once, with no connection attempt. */
static void test_metadata_refused_quickly(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;
  int64_t t0;

  p.hosts = NULL;
  p.allow_private = 0;
  p.timeout_ms = 10000;
  buf_init(&out, 1 << 20);
  t0 = clock_mono_ms();
  assert_int_equal(
      fetch(&p, "http://169.254.169.254/latest/meta-data/", &out, &res),
      LB_EDENIED);
  assert_true(clock_mono_ms() - t0 < 500);
  assert_int_equal(res.final, 1);
  assert_non_null(strstr(res.error, "169.254.169.254"));
  buf_release(&out);
}

static void test_host_not_listed(void **state)
{
  static const char *const twilio[] = {"api.twilio.com", ".twiliocdn.com",
                                       NULL};
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  p.hosts = twilio;
  buf_init(&out, 1 << 20);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/media"), &out, &res),
                   LB_EDENIED);
  assert_int_equal(res.final, 1);
  assert_string_equal(res.error, "refused: 127.0.0.1 is not on the allow-list");
  assert_int_equal(seen_count(), 0);
  buf_release(&out);
}

static void test_scheme_refused(void **state)
{
  static const char *const urls[] = {
      "ftp://127.0.0.1/media", "file:///etc/passwd",
      "gopher://127.0.0.1/x",  "dict://127.0.0.1:11211/stat",
      "127.0.0.1/media",       "",
  };
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  buf_init(&out, 1 << 20);
  for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
    int rc = fetch(&p, urls[i], &out, &res);
    if ((rc != LB_EDENIED && rc != LB_EINVAL) || !res.final)
      fail_msg("'%s': rc %s, final %d", urls[i], lb_errname(rc), res.final);
  }
  assert_int_equal(seen_count(), 0);
  buf_release(&out);
}

static void test_require_https(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  p.require_https = 1;
  buf_init(&out, 1 << 20);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/media"), &out, &res),
                   LB_EDENIED);
  assert_int_equal(res.final, 1);
  assert_non_null(strstr(res.error, "https only"));
  assert_int_equal(seen_count(), 0);
  buf_release(&out);
}

/* Credentials in the URL itself are not ours to send. */
static void test_url_credentials_refused(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;
  char url[256];

  snprintf(url, sizeof url, "http://clinic:hunter2@127.0.0.1:%u/media",
           srv.port);
  buf_init(&out, 1 << 20);
  assert_int_equal(fetch(&p, url, &out, &res), LB_EDENIED);
  assert_int_equal(res.final, 1);
  assert_int_equal(seen_count(), 0);
  buf_release(&out);
}

static void test_redirect_same_host(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  buf_init(&out, 1 << 20);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/same"), &out, &res), LB_OK);
  assert_int_equal(out.len, MEDIA_LEN);
  assert_memory_equal(out.data, media, MEDIA_LEN);
  assert_int_equal(res.http_status, 200);
  assert_string_equal(res.content_type, "image/jpeg");
  assert_int_equal(seen_count(), 2);
  assert_string_equal(srv.seen[0].path, "/same");
  assert_string_equal(srv.seen[1].path, "/media");
  assert_string_equal(srv.seen[0].auth, AUTH_HEADER);
  assert_string_equal(srv.seen[1].auth, AUTH_HEADER);
  buf_release(&out);
}

/* 127.0.0.1 -> localhost: both allowed, the credentials stay behind. */
static void test_redirect_other_host_drops_auth(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;
  char host[64];

  buf_init(&out, 1 << 20);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/other"), &out, &res),
                   LB_OK);
  assert_int_equal(out.len, MEDIA_LEN);
  assert_int_equal(seen_count(), 2);
  assert_string_equal(srv.seen[0].path, "/other");
  assert_string_equal(srv.seen[0].auth, AUTH_HEADER);
  assert_string_equal(srv.seen[1].path, "/media");
  snprintf(host, sizeof host, "localhost:%u", srv.port);
  assert_string_equal(srv.seen[1].host, host);
  assert_string_equal(srv.seen[1].auth, "");
  buf_release(&out);
}

static void test_redirect_host_not_listed(void **state)
{
  static const char *const only_ip[] = {"127.0.0.1", NULL};
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  p.hosts = only_ip;
  buf_init(&out, 1 << 20);
  /* To localhost: a real server, but not on this list. */
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/other"), &out, &res),
                   LB_EDENIED);
  assert_int_equal(res.final, 1);
  assert_string_equal(
      res.error, "refused: redirect to localhost is not on the allow-list");
  assert_int_equal(seen_count(), 1);
  /* To a presigned-looking URL elsewhere: its query stays out of the
   * message (checked by fetch()). */
  forget_requests(state);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/evil"), &out, &res),
                   LB_EDENIED);
  assert_int_equal(res.final, 1);
  assert_non_null(strstr(res.error, "evil.invalid"));
  assert_int_equal(seen_count(), 1);
  /* To another scheme. */
  forget_requests(state);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/ftp"), &out, &res),
                   LB_EDENIED);
  assert_int_equal(res.final, 1);
  assert_int_equal(seen_count(), 1);
  buf_release(&out);
}

static void test_too_many_redirects(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  buf_init(&out, 1 << 20);
  p.max_redirects = 3;
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/loop"), &out, &res),
                   LB_EDENIED);
  assert_int_equal(res.final, 1);
  assert_non_null(strstr(res.error, "redirects"));
  assert_int_equal(seen_count(), 4); /* the URL, then 3 redirects */

  /* 0: none followed. */
  forget_requests(state);
  p.max_redirects = 0;
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/same"), &out, &res),
                   LB_EDENIED);
  assert_int_equal(res.final, 1);
  assert_int_equal(seen_count(), 1);
  buf_release(&out);
}

static void test_too_big(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  buf_init(&out, 1 << 20);
  /* Refused on its Content-Length. */
  p.max_bytes = 1000;
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/big"), &out, &res),
                   LB_ETOOBIG);
  assert_int_equal(res.final, 1);
  assert_int_equal(res.http_status, 200);
  /* Chunked, no length: stopped by the count. */
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/stream"), &out, &res),
                   LB_ETOOBIG);
  assert_int_equal(res.final, 1);
  /* Exactly the cap is fine. */
  p.max_bytes = BIG_LEN;
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/big"), &out, &res), LB_OK);
  assert_int_equal(out.len, BIG_LEN);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/stream"), &out, &res),
                   LB_OK);
  assert_int_equal(out.len, BIG_LEN);
  p.max_bytes = BIG_LEN - 1;
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/big"), &out, &res),
                   LB_ETOOBIG);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/stream"), &out, &res),
                   LB_ETOOBIG);

  /* A Content-Length over the cap is refused before any body comes. */
  {
    int64_t t0 = clock_mono_ms();
    p.timeout_ms = SLOW_MS - 500;
    assert_int_equal(fetch(&p, url_for("127.0.0.1", "/declared"), &out, &res),
                     LB_ETOOBIG);
    assert_true(clock_mono_ms() - t0 < SLOW_MS - 500);
    p.timeout_ms = 5000;
  }
  buf_release(&out);

  /* The buffer's own cap counts too. */
  buf_init(&out, 1000);
  p.max_bytes = 0;
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/big"), &out, &res),
                   LB_ETOOBIG);
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/stream"), &out, &res),
                   LB_ETOOBIG);
  buf_release(&out);
}

static void test_timeout(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;
  int64_t t0, took;

  p.timeout_ms = 300;
  buf_init(&out, 1 << 20);
  t0 = clock_mono_ms();
  assert_int_equal(fetch(&p, url_for("127.0.0.1", "/slow"), &out, &res),
                   LB_ETIMEOUT);
  took = clock_mono_ms() - t0;
  assert_true(took >= 250 && took < SLOW_MS);
  assert_int_equal(res.final, 0);
  assert_non_null(strstr(res.error, "timed out"));
  buf_release(&out);
}

static void test_http_errors(void **state)
{
  static const struct {
    const char *path;
    long status;
    int final;
  } cases[] = {
      {"/status/404", 404, 1}, {"/status/410", 410, 1}, {"/status/403", 403, 1},
      {"/status/401", 401, 1}, {"/status/400", 400, 1}, {"/status/408", 408, 0},
      {"/status/429", 429, 0}, {"/status/500", 500, 0}, {"/status/503", 503, 0},
  };
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;
  char want[64];

  buf_init(&out, 1 << 20);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(fetch(&p, url_for("127.0.0.1", cases[i].path), &out, &res),
                     LB_EIO);
    assert_int_equal(res.http_status, cases[i].status);
    if (res.final != cases[i].final)
      fail_msg("%s: final %d", cases[i].path, res.final);
    snprintf(want, sizeof want, "HTTP %ld from 127.0.0.1", cases[i].status);
    assert_string_equal(res.error, want);
  }
  buf_release(&out);
}

/* Nothing listening: a connection error, worth retrying. */
static void test_connection_refused(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  buf_init(&out, 1 << 20);
  assert_int_equal(fetch(&p, "http://127.0.0.1:1/media", &out, &res), LB_EIO);
  assert_int_equal(res.final, 0);
  assert_int_equal(res.http_status, 0);
  assert_non_null(strstr(res.error, "127.0.0.1"));
  buf_release(&out);
}

static void test_bad_arguments(void **state)
{
  struct fetch_policy p = loopback();
  struct fetch_result res;
  struct buf out;

  buf_init(&out, 1 << 20);
  assert_int_equal(fetch_get(NULL, "http://127.0.0.1/", &out, &res), LB_EINVAL);
  assert_int_equal(res.final, 1);
  assert_int_equal(fetch_get(&p, NULL, &out, &res), LB_EINVAL);
  assert_int_equal(fetch_get(&p, "http://127.0.0.1/", NULL, &res), LB_EINVAL);
  assert_int_equal(fetch_get(&p, "http://127.0.0.1/", &out, NULL), LB_EINVAL);
  p.timeout_ms = 0;
  assert_int_equal(fetch_get(&p, "http://127.0.0.1/", &out, &res), LB_EINVAL);
  buf_release(&out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_allowed_fetch, forget_requests),
      cmocka_unit_test_setup(test_private_refused, forget_requests),
      cmocka_unit_test_setup(test_name_resolving_private_refused,
                             forget_requests),
      cmocka_unit_test_setup(test_private_spellings_refused, forget_requests),
      cmocka_unit_test_setup(test_metadata_refused_quickly, forget_requests),
      cmocka_unit_test_setup(test_host_not_listed, forget_requests),
      cmocka_unit_test_setup(test_scheme_refused, forget_requests),
      cmocka_unit_test_setup(test_require_https, forget_requests),
      cmocka_unit_test_setup(test_url_credentials_refused, forget_requests),
      cmocka_unit_test_setup(test_redirect_same_host, forget_requests),
      cmocka_unit_test_setup(test_redirect_other_host_drops_auth,
                             forget_requests),
      cmocka_unit_test_setup(test_redirect_host_not_listed, forget_requests),
      cmocka_unit_test_setup(test_too_many_redirects, forget_requests),
      cmocka_unit_test_setup(test_too_big, forget_requests),
      cmocka_unit_test_setup(test_timeout, forget_requests),
      cmocka_unit_test_setup(test_http_errors, forget_requests),
      cmocka_unit_test_setup(test_connection_refused, forget_requests),
      cmocka_unit_test_setup(test_bad_arguments, forget_requests),
  };
  int rc;

  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return 1;
  rc = cmocka_run_group_tests(tests, server_start, server_stop);
  curl_global_cleanup();
  return rc;
}
