/* SigV4 against AWS's published examples. The S3 blob store
 * (src/media/blob_s3.c) does not sign by itself: libcurl does, given
 * CURLOPT_AWS_SIGV4 = "aws:amz:<region>:<service>", the key pair in
 * CURLOPT_USERPWD, and the headers to sign (x-amz-content-sha256 among
 * them) in CURLOPT_HTTPHEADER. This test sets up the libcurl this build
 * links in that same way and checks the Authorization header it sends
 * against AWS's published signatures:
 *  - "get-vanilla" from AWS's Signature Version 4 test suite;
 *  - the "GET Object" and "PUT Object" examples of the S3 API reference
 *    (Authenticating Requests: Using the Authorization Header), which carry
 *    x-amz-content-sha256 as lyrebird's requests do.
 * The date is fixed by giving X-Amz-Date, which libcurl then signs with
 * rather than the current time.
 *
 * No network: libcurl connects to a listener of this test on 127.0.0.1
 * (CURLOPT_CONNECT_TO, so the Host it signs is still AWS's example host);
 * a thread here reads the request and answers 200. ctest label "io".
 *
 * What this does not show: that lyrebird's own requests are signed right.
 * That is tests/e2e/test_s3_signatures.py, where a server recomputes each
 * signature with botocore. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include <cmocka.h>

#define REQ_MAX 16384

struct peer {
  int fd;            /* the listener, then the accepted connection */
  char req[REQ_MAX]; /* the request head and body, NUL-terminated */
  size_t len;
};

static size_t head_end(const char *s, size_t n)
{
  for (size_t i = 0; i + 3 < n; i++)
    if (!memcmp(s + i, "\r\n\r\n", 4))
      return i + 4;
  return 0;
}

/* The header's value in the request head (case-insensitive name), copied
 * to out; 0 when absent. */
static int header(const char *req, const char *name, char *out, size_t n)
{
  size_t nl = strlen(name);
  for (const char *p = strstr(req, "\r\n"); p && p[2] != '\r';
       p = strstr(p + 2, "\r\n")) {
    const char *line = p + 2, *end = strstr(line, "\r\n");
    if (end && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
      const char *v = line + nl + 1;
      while (*v == ' ')
        v++;
      snprintf(out, n, "%.*s", (int)(end - v), v);
      return 1;
    }
  }
  return 0;
}

/* Accepts one connection, reads one request (head, then Content-Length
 * bytes, answering an "Expect: 100-continue" first) and answers 200. */
static void *serve(void *arg)
{
  struct peer *p = arg;
  int lfd = p->fd;
  size_t body_at = 0, want = 0;
  char v[32];
  int continued = 0;
  static const char ok[] =
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

  if ((p->fd = accept(lfd, NULL, NULL)) < 0)
    return NULL;

  while (p->len < sizeof p->req - 1) {
    ssize_t got;
    if (body_at && p->len >= body_at + want)
      break;
    got = read(p->fd, p->req + p->len, sizeof p->req - 1 - p->len);
    if (got <= 0)
      break;
    p->len += (size_t)got;
    p->req[p->len] = '\0';
    if (!body_at && (body_at = head_end(p->req, p->len))) {
      want = header(p->req, "Content-Length", v, sizeof v)
                 ? (size_t)strtoul(v, NULL, 10)
                 : 0;
      if (!continued && header(p->req, "Expect", v, sizeof v) && want &&
          p->len < body_at + want) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        continued = 1;
        if (write(p->fd, cont, sizeof cont - 1) < 0)
          break;
      }
    }
  }
  if (write(p->fd, ok, sizeof ok - 1) < 0)
    p->len = 0;
  close(p->fd);
  return NULL;
}

struct upload {
  const char *data;
  size_t len, off;
};

static size_t on_read(char *dst, size_t size, size_t n, void *arg)
{
  struct upload *u = arg;
  size_t want = size * n, left = u->len - u->off;
  if (want > left)
    want = left;
  memcpy(dst, u->data + u->off, want);
  u->off += want;
  return want;
}

static size_t discard(char *d, size_t size, size_t n, void *arg)
{
  (void)d;
  (void)arg;
  return size * n;
}

struct example {
  const char *provider; /* CURLOPT_AWS_SIGV4 */
  const char *userpwd;
  const char *url;
  const char *host; /* connected to 127.0.0.1 instead: no DNS look-up */
  const char *headers[6];
  const char *body; /* PUT when set */
};

/* Sends ex's request through libcurl and returns what the server got. */
static void perform(const struct example *ex, struct peer *p)
{
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  char to[160];
  int lfd;
  pthread_t t;
  struct curl_slist *hdrs = NULL, *res = NULL;
  struct upload up = {ex->body, ex->body ? strlen(ex->body) : 0, 0};
  CURL *h;

  /* A listener on an ephemeral loopback port; curl connects there in
   * place of ex->host port 80 (CURLOPT_CONNECT_TO), so the Host header it
   * signs is still ex->host. */
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_true((lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
  assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(lfd, 1), 0);
  assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
  snprintf(to, sizeof to, "%s:80:127.0.0.1:%u", ex->host,
           (unsigned)ntohs(sa.sin_port));
  memset(p, 0, sizeof *p);
  p->fd = lfd;
  assert_int_equal(pthread_create(&t, NULL, serve, p), 0);

  for (size_t i = 0; ex->headers[i]; i++)
    assert_non_null(hdrs = curl_slist_append(hdrs, ex->headers[i]));
  assert_non_null(res = curl_slist_append(NULL, to));
  assert_non_null(h = curl_easy_init());
  curl_easy_setopt(h, CURLOPT_URL, ex->url);
  curl_easy_setopt(h, CURLOPT_CONNECT_TO, res);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, ex->provider);
  curl_easy_setopt(h, CURLOPT_USERPWD, ex->userpwd);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  if (ex->body) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
  }
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  curl_easy_cleanup(h);
  pthread_join(t, NULL);
  close(lfd);
  curl_slist_free_all(hdrs);
  curl_slist_free_all(res);
}

/* The Authorization header libcurl sent must be want, part by part. */
static void assert_signed(const struct peer *p, const char *credential,
                          const char *signed_headers, const char *signature)
{
  char auth[512], want[512];
  assert_true(header(p->req, "Authorization", auth, sizeof auth));
  snprintf(want, sizeof want,
           "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s",
           credential, signed_headers, signature);
  assert_string_equal(auth, want);
}

/* AWS SigV4 test suite, get-vanilla. */
static void test_get_vanilla(void **state)
{
  static const struct example ex = {
      "aws:amz:us-east-1:service",
      "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      "http://example.amazonaws.com/",
      "example.amazonaws.com",
      {"X-Amz-Date: 20150830T123600Z", NULL},
      NULL};
  struct peer p;
  (void)state;
  perform(&ex, &p);
  assert_true(p.len > 0);
  assert_int_equal(strncmp(p.req, "GET / HTTP/1.1\r\n", 16), 0);
  assert_signed(&p, "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
                "host;x-amz-date",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d"
                "763fbf31");
}

#define S3_EXAMPLE_KEYS                                                        \
  "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3_EXAMPLE_CREDENTIAL                                                  \
  "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"

/* S3 API reference, "Example: GET Object": the empty-body hash given in
 * x-amz-content-sha256, as lyrebird's GET gives it. */
static void test_s3_get_object(void **state)
{
  static const struct example ex = {
      "aws:amz:us-east-1:s3",
      S3_EXAMPLE_KEYS,
      "http://examplebucket.s3.amazonaws.com/test.txt",
      "examplebucket.s3.amazonaws.com",
      {"Range: bytes=0-9",
       "x-amz-content-sha256: "
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "x-amz-date: 20130524T000000Z", NULL},
      NULL};
  struct peer p;
  (void)state;
  perform(&ex, &p);
  assert_int_equal(strncmp(p.req, "GET /test.txt HTTP/1.1\r\n", 24), 0);
  assert_signed(&p, S3_EXAMPLE_CREDENTIAL,
                "host;range;x-amz-content-sha256;x-amz-date",
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c60"
                "36bdb41");
}

/* S3 API reference, "Example: PUT Object": a body, its hash in
 * x-amz-content-sha256, another x-amz-* header signed, and a key with '$'
 * sent percent-encoded (blob_s3.c encodes object paths itself). */
static void test_s3_put_object(void **state)
{
  static const struct example ex = {
      "aws:amz:us-east-1:s3",
      S3_EXAMPLE_KEYS,
      "http://examplebucket.s3.amazonaws.com/test%24file.text",
      "examplebucket.s3.amazonaws.com",
      {"Date: Fri, 24 May 2013 00:00:00 GMT",
       "x-amz-storage-class: REDUCED_REDUNDANCY",
       "x-amz-content-sha256: "
       "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
       "x-amz-date: 20130524T000000Z", NULL},
      "Welcome to Amazon S3."};
  struct peer p;
  size_t at;
  (void)state;
  perform(&ex, &p);
  assert_int_equal(strncmp(p.req, "PUT /test%24file.text HTTP/1.1\r\n", 32), 0);
  assert_signed(&p, S3_EXAMPLE_CREDENTIAL,
                "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ec"
                "e108bd");
  at = head_end(p.req, p.len);
  assert_true(at > 0);
  assert_string_equal(p.req + at, "Welcome to Amazon S3.");
}

/* The GET example with another secret: the signature changes (the check
 * above is not passing by accident). */
static void test_wrong_secret_changes_the_signature(void **state)
{
  static const struct example ex = {
      "aws:amz:us-east-1:s3",
      "AKIAIOSFODNN7EXAMPLE:not-the-example-secret",
      "http://examplebucket.s3.amazonaws.com/test.txt",
      "examplebucket.s3.amazonaws.com",
      {"Range: bytes=0-9",
       "x-amz-content-sha256: "
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "x-amz-date: 20130524T000000Z", NULL},
      NULL};
  struct peer p;
  char auth[512];
  (void)state;
  perform(&ex, &p);
  assert_true(header(p.req, "Authorization", auth, sizeof auth));
  assert_non_null(strstr(auth, "Credential=" S3_EXAMPLE_CREDENTIAL ","));
  assert_null(strstr(auth, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48"
                           "dd91039c6036bdb41"));
  assert_null(strstr(auth, "not-the-example-secret"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_vanilla),
      cmocka_unit_test(test_s3_get_object),
      cmocka_unit_test(test_s3_put_object),
      cmocka_unit_test(test_wrong_secret_changes_the_signature),
  };
  int rc;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
