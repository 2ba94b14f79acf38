#include "http/multi.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/clock.h"
#include "util/netaddr.h"

struct transfer {
  struct http_multi *m;
  CURL *h;
  struct curl_slist *headers;
  void *tag;
  int64_t t0;
  size_t got;
  int denied;    /* an address was refused */
  int truncated; /* the body passed the cap */
  int used;
};

struct http_multi {
  struct http_multi_options o;
  CURLM *cm;
  struct transfer t[HTTP_MULTI_MAX];
  int running;
};

enum lb_err http_multi_new(const struct http_multi_options *o,
                           struct http_multi **out)
{
  struct http_multi *m = calloc(1, sizeof *m);
  if (!m)
    return LB_ENOMEM;
  m->o = *o;
  if (!(m->cm = curl_multi_init())) {
    free(m);
    return LB_ENOMEM;
  }
  *out = m;
  return LB_OK;
}

static void transfer_end(struct transfer *t)
{
  curl_multi_remove_handle(t->m->cm, t->h);
  curl_easy_cleanup(t->h);
  curl_slist_free_all(t->headers);
  memset(t, 0, sizeof *t);
}

void http_multi_free(struct http_multi *m)
{
  if (!m)
    return;
  for (int i = 0; i < HTTP_MULTI_MAX; i++)
    if (m->t[i].used)
      transfer_end(&m->t[i]);
  curl_multi_cleanup(m->cm);
  free(m);
}

static curl_socket_t on_open(void *arg, curlsocktype purpose,
                             struct curl_sockaddr *a)
{
  struct transfer *t = arg;
  (void)purpose;
  if (!t->m->o.allow_private && !netaddr_is_public(&a->addr)) {
    t->denied = 1;
    return CURL_SOCKET_BAD;
  }
  return socket(a->family, a->socktype, a->protocol);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
  struct transfer *t = arg;
  (void)p;
  t->got += size * n;
  if (t->got > t->m->o.body_max) {
    t->truncated = 1;
    return 0; /* enough: the status is what counts */
  }
  return size * n;
}

enum lb_err http_multi_add(struct http_multi *m, const struct wire_request *req,
                           void *tag)
{
  struct transfer *t = NULL;
  const char *protos = m->o.allow_private ? "http,https" : "https";
  int bad = 0;
  for (int i = 0; i < HTTP_MULTI_MAX && !t; i++)
    if (!m->t[i].used)
      t = &m->t[i];
  if (!t)
    return LB_ETOOBIG;
  memset(t, 0, sizeof *t);
  t->m = m;
  t->tag = tag;
  if (!(t->h = curl_easy_init()))
    return LB_ENOMEM;
  for (size_t i = 0; i < req->n_headers; i++) {
    struct curl_slist *n = curl_slist_append(t->headers, req->headers[i]);
    if (!n) {
      curl_slist_free_all(t->headers);
      curl_easy_cleanup(t->h);
      memset(t, 0, sizeof *t);
      return LB_ENOMEM;
    }
    t->headers = n;
  }
  bad |= curl_easy_setopt(t->h, CURLOPT_URL, req->url) != CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_PROTOCOLS_STR, protos) != CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_PROXY, "") != CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_OPENSOCKETFUNCTION, on_open) !=
         CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_OPENSOCKETDATA, t) != CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_WRITEDATA, t) != CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_HTTPHEADER, t->headers) != CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_POSTFIELDSIZE_LARGE,
                          (curl_off_t)req->body.len) != CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_COPYPOSTFIELDS,
                          req->body.data ? req->body.data : "") != CURLE_OK;
  bad |= curl_easy_setopt(t->h, CURLOPT_TIMEOUT_MS, m->o.timeout_ms) !=
         CURLE_OK;
  curl_easy_setopt(t->h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(t->h, CURLOPT_USERAGENT, "lyrebird/" LYREBIRD_VERSION);
  if (bad || curl_multi_add_handle(m->cm, t->h) != CURLM_OK) {
    curl_slist_free_all(t->headers);
    curl_easy_cleanup(t->h);
    memset(t, 0, sizeof *t);
    return bad ? LB_EUNSUPPORTED : LB_ENOMEM;
  }
  t->used = 1;
  t->t0 = clock_mono_ms();
  m->running++;
  return LB_OK;
}

static void finish(struct http_multi *m, CURL *h, CURLcode cc,
                   http_multi_done_fn done, void *arg)
{
  struct http_multi_result r;
  struct transfer *t = NULL;
  curl_off_t ra = -1;
  for (int i = 0; i < HTTP_MULTI_MAX && !t; i++)
    if (m->t[i].used && m->t[i].h == h)
      t = &m->t[i];
  if (!t)
    return;
  memset(&r, 0, sizeof r);
  r.tag = t->tag;
  r.duration_ms = (long)(clock_mono_ms() - t->t0);
  r.retry_after_s = -1;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
    r.retry_after_s = (long)ra;
  if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && t->truncated)) {
    r.err = LB_OK;
  } else if (t->denied) {
    r.err = LB_EDENIED;
    r.status = 0;
    snprintf(r.error, sizeof r.error,
             "refused: the address is loopback, private or link-local "
             "([events] allow_private_urls is off)");
  } else if (cc == CURLE_OPERATION_TIMEDOUT) {
    r.err = LB_ETIMEOUT;
    r.status = 0;
    snprintf(r.error, sizeof r.error, "no answer within %ld ms",
             m->o.timeout_ms);
  } else {
    r.err = LB_EIO;
    r.status = 0;
    snprintf(r.error, sizeof r.error, "%s", curl_easy_strerror(cc));
  }
  transfer_end(t);
  m->running--;
  done(arg, &r);
}

enum lb_err http_multi_run(struct http_multi *m, int wait_ms,
                           http_multi_done_fn done, void *arg)
{
  int still = 0, left = 0;
  CURLMsg *msg;
  if (curl_multi_poll(m->cm, NULL, 0, wait_ms, NULL) != CURLM_OK ||
      curl_multi_perform(m->cm, &still) != CURLM_OK)
    return LB_EIO;
  while ((msg = curl_multi_info_read(m->cm, &left)))
    if (msg->msg == CURLMSG_DONE)
      finish(m, msg->easy_handle, msg->data.result, done, arg);
  return LB_OK;
}

int http_multi_running(const struct http_multi *m)
{
  return m->running;
}

void http_multi_wakeup(struct http_multi *m)
{
  curl_multi_wakeup(m->cm);
}
