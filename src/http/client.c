#include "http/client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

struct http_client {
  CURL *h;
  long timeout_ms;
};

enum lb_err http_client_new(long timeout_ms, struct http_client **out)
{
  struct http_client *c = calloc(1, sizeof *c);
  if (!c)
    return LB_ENOMEM;
  c->h = curl_easy_init();
  if (!c->h) {
    free(c);
    return LB_ENOMEM;
  }
  c->timeout_ms = timeout_ms;
  *out = c;
  return LB_OK;
}

void http_client_free(struct http_client *c)
{
  if (!c)
    return;
  curl_easy_cleanup(c->h);
  free(c);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
  struct wire_response *res = arg;
  if (buf_append(&res->body, p, size * n) != LB_OK)
    return 0; /* over the cap: abort the transfer */
  return size * n;
}

enum lb_err http_client_perform(struct http_client *c,
                                const struct wire_request *req,
                                struct wire_response *res)
{
  struct curl_slist *hdrs = NULL, *tmp;
  CURLcode cc;
  long req_size = 0;
  char *ctype = NULL;
  curl_off_t retry_after = -1;
  CURL *h = c->h;

  curl_easy_reset(h);
  for (size_t i = 0; i < req->n_headers; i++) {
    tmp = curl_slist_append(hdrs, req->headers[i]);
    if (!tmp) {
      curl_slist_free_all(hdrs);
      return LB_ENOMEM;
    }
    hdrs = tmp;
  }
  /* curl adds "Expect: 100-continue" for large bodies; providers differ in
   * how they treat it, so never send it. */
  tmp = curl_slist_append(hdrs, "Expect:");
  if (tmp)
    hdrs = tmp;
  curl_easy_setopt(h, CURLOPT_URL, req->url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   c->timeout_ms < 10000 ? c->timeout_ms : 10000L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "lyrebird/" LYREBIRD_VERSION);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, res);
  if (req->userpwd[0]) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERPWD, req->userpwd);
  }
  if (strcmp(req->method, "GET") == 0) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                     req->body.data ? req->body.data : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
  }
  cc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
  curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &req_size);
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype)
    snprintf(res->content_type, sizeof res->content_type, "%s", ctype);
  if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
      retry_after > 0)
    res->retry_after_s = (long)retry_after;
  if (cc != CURLE_OK) {
    res->error = cc == CURLE_OPERATION_TIMEDOUT ? LB_ETIMEOUT : LB_EIO;
    res->maybe_sent = req_size > 0;
    snprintf(res->error_text, sizeof res->error_text, "%s",
             curl_easy_strerror(cc));
    if (res->status > 0 && cc != CURLE_OPERATION_TIMEDOUT)
      res->error = LB_OK,
      res->maybe_sent = 1; /* body over cap: still answered */
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(hdrs);
  return LB_OK;
}
