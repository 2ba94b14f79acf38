#include "util/url.h"

#include <curl/curl.h>
#include <string.h>

/* A parsed URL, or LB_EINVAL / LB_ENOMEM. The caller frees *out with
 * curl_url_cleanup(). */
static enum lb_err parse(const char *url, CURLU **out)
{
  CURLUcode uc;
  enum lb_err rc = LB_EINVAL;

  *out = NULL;
  if (!url)
    goto out;
  if (!(*out = curl_url())) {
    rc = LB_ENOMEM;
    goto out;
  }
  uc = curl_url_set(*out, CURLUPART_URL, url, 0);
  rc = uc == CURLUE_OK              ? LB_OK
       : uc == CURLUE_OUT_OF_MEMORY ? LB_ENOMEM
                                    : LB_EINVAL;
out:
  if (rc) {
    curl_url_cleanup(*out);
    *out = NULL;
  }
  return rc;
}

/* Copies part 'what' of u into out: as url_get(). */
static enum lb_err get(CURLU *u, CURLUPart what, unsigned flags, char *out,
                       size_t n)
{
  char *s = NULL;
  size_t len;
  enum lb_err rc;
  CURLUcode uc = curl_url_get(u, what, &s, flags);

  if (uc == CURLUE_OUT_OF_MEMORY) {
    rc = LB_ENOMEM;
    goto out;
  }
  if (uc != CURLUE_OK) {
    rc = LB_ENOTFOUND;
    goto out;
  }
  len = strlen(s);
  if (len >= n) {
    rc = LB_ETOOBIG;
    goto out;
  }
  memcpy(out, s, len + 1);
  rc = LB_OK;
out:
  curl_free(s);
  return rc;
}

/* An http(s) URL: libcurl's scheme is lower case, and its parser refuses
 * an http(s) URL without a host; the host is checked here all the same. */
static int is_http(CURLU *u)
{
  char scheme[8], *host = NULL;
  int ok = !get(u, CURLUPART_SCHEME, 0, scheme, sizeof scheme) &&
           (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
           curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0];
  curl_free(host);
  return ok;
}

int url_is_http(const char *url)
{
  CURLU *u = NULL;
  int ok = !parse(url, &u) && is_http(u);
  curl_url_cleanup(u);
  return ok;
}

enum lb_err url_get(const char *url, enum url_part part, char *out, size_t n)
{
  static const CURLUPart parts[] = {
      [URL_SCHEME] = CURLUPART_SCHEME, [URL_HOST] = CURLUPART_HOST,
      [URL_PORT] = CURLUPART_PORT,     [URL_PATH] = CURLUPART_PATH,
      [URL_QUERY] = CURLUPART_QUERY,
  };
  CURLU *u = NULL;
  enum lb_err rc;

  if ((unsigned)part >= sizeof parts / sizeof parts[0]) {
    rc = LB_EINVAL;
    goto out;
  }
  if ((rc = parse(url, &u)))
    goto out;
  rc = get(u, parts[part], 0, out, n);
out:
  curl_url_cleanup(u);
  return rc;
}

enum lb_err url_origin(const char *url, char *scheme, size_t sn, char *host,
                       size_t hn, char *port, size_t pn)
{
  CURLU *u = NULL;
  enum lb_err rc;

  if ((rc = parse(url, &u)))
    goto out;
  if (!is_http(u))
    rc = LB_EINVAL;
  else if (!(rc = get(u, CURLUPART_SCHEME, 0, scheme, sn)) &&
           !(rc = get(u, CURLUPART_HOST, 0, host, hn)))
    rc = get(u, CURLUPART_PORT, CURLU_DEFAULT_PORT, port, pn);
out:
  if (rc == LB_ENOTFOUND)
    rc = LB_EINVAL;
  curl_url_cleanup(u);
  return rc;
}

enum lb_err url_with_path(const char *url, const char *path, char *out,
                          size_t n)
{
  CURLU *u = NULL;
  enum lb_err rc;

  if ((rc = parse(url, &u)))
    goto out;
  if (curl_url_set(u, CURLUPART_PATH, path, 0) != CURLUE_OK ||
      curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
      curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
      curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
      curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK) {
    rc = LB_EINVAL;
    goto out;
  }
  rc = get(u, CURLUPART_URL, 0, out, n);
  if (rc == LB_ENOTFOUND)
    rc = LB_EINVAL;
out:
  curl_url_cleanup(u);
  return rc;
}
