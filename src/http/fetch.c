#include "http/fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/clock.h"
#include "util/err.h"
#include "util/netaddr.h"

#define HOST_MAX 256
/* The body of an answer we do not keep (an error page, a redirect's) is
 * read up to this much, then the transfer stops. */
#define DISCARD_MAX (64 * 1024)
#define CONNECT_TIMEOUT_MAX_MS 10000L

/* Where a URL points, for comparing hops. */
struct origin {
  char scheme[8];      /* "http" or "https" */
  char host[HOST_MAX]; /* as in the URL; IPv6 without brackets */
  long port;           /* explicit or the scheme's */
};

/* One URL, parsed and checked. Owns 'u'. */
struct target {
  CURLU *u;
  struct origin o;
  char shown[HOST_MAX]; /* the host, printable, for messages */
};

/* The state of one fetch_get() call, shared with curl's callbacks. */
struct fetch {
  const struct fetch_policy *p;
  CURL *h;
  struct buf *out;
  size_t cap;       /* body cap */
  size_t discarded; /* body bytes of this hop not kept */
  int too_big;
  int nomem;
  int denied; /* on_open refused an address */
  char denied_addr[INET6_ADDRSTRLEN];
};

static void set_error(struct fetch_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct fetch_result *res, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(res->error, sizeof res->error, fmt, ap);
  va_end(ap);
}

/* Copies text from outside (a host, a Content-Type) for people to read:
 * printable ASCII only, truncated to the destination. */
static void copy_printable(char *dst, size_t n, const char *src)
{
  size_t i = 0;
  for (; src && src[i] && i + 1 < n; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  dst[i] = '\0';
}

static unsigned char lower(unsigned char c)
{
  return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Host names equal, ignoring ASCII case and one trailing dot. */
static int host_eq(const char *a, const char *b)
{
  size_t na = strlen(a), nb = strlen(b);
  if (na && a[na - 1] == '.')
    na--;
  if (nb && b[nb - 1] == '.')
    nb--;
  if (na != nb)
    return 0;
  for (size_t i = 0; i < na; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
      return 0;
  return 1;
}

static int same_origin(const struct origin *a, const struct origin *b)
{
  return strcmp(a->scheme, b->scheme) == 0 && host_eq(a->host, b->host) &&
         a->port == b->port;
}

/* 1 if the URL has this part (a user name, a zone id...). */
static int has_part(CURLU *u, CURLUPart what)
{
  char *s = NULL;
  CURLUcode uc = curl_url_get(u, what, &s, 0);
  curl_free(s);
  return uc == CURLUE_OK;
}

/* Parses 'url' into t (t->u is then the caller's to free, even on error)
 * and applies the policy to it before anything connects. 'hop' is 0 for
 * the URL we were given, then the redirect's number. */
static int check_url(const struct fetch_policy *p, const char *url, int hop,
                     struct target *t, struct fetch_result *res)
{
  const char *what = hop ? "redirect to " : "";
  char *scheme = NULL, *host = NULL, *port = NULL;
  const char *h;
  size_t n;
  CURLUcode uc;
  int rc = LB_EINVAL;

  memset(t, 0, sizeof *t);
  if (strnlen(url, FETCH_URL_MAX + 1) > FETCH_URL_MAX) {
    rc = LB_EDENIED;
    set_error(res, "refused: %sa URL longer than %d bytes", what,
              FETCH_URL_MAX);
    goto out;
  }
  t->u = curl_url();
  if (!t->u) {
    rc = LB_ENOMEM;
    goto out;
  }
  uc = curl_url_set(t->u, CURLUPART_URL, url, 0);
  if (uc == CURLUE_OUT_OF_MEMORY) {
    rc = LB_ENOMEM;
    goto out;
  }
  if (uc == CURLUE_UNSUPPORTED_SCHEME) {
    rc = LB_EDENIED;
    set_error(res, "refused: %sa URL that is not http or https", what);
    goto out;
  }
  if (uc != CURLUE_OK) {
    set_error(res, "cannot parse the %sURL: %s", hop ? "redirect's " : "",
              curl_url_strerror(uc));
    goto out;
  }
  if (curl_url_get(t->u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(t->u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
      curl_url_get(t->u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
          CURLUE_OK) {
    set_error(res, "cannot parse the %sURL: no host", hop ? "redirect's " : "");
    goto out;
  }
  rc = LB_EDENIED;
  if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
    set_error(res, "refused: %sa URL that is not http or https", what);
    goto out;
  }
  if (p->require_https && strcmp(scheme, "https") != 0) {
    set_error(res, "refused: %san http:// URL (https only)", what);
    goto out;
  }
  if (has_part(t->u, CURLUPART_USER) || has_part(t->u, CURLUPART_PASSWORD) ||
      has_part(t->u, CURLUPART_OPTIONS)) {
    set_error(res, "refused: %sa URL that carries credentials", what);
    goto out;
  }
  if (has_part(t->u, CURLUPART_ZONEID)) {
    set_error(res, "refused: %sa URL with an IPv6 zone", what);
    goto out;
  }
  /* An IPv6 literal comes back as "[::1]"; the policy sees "::1". */
  h = host;
  n = strlen(h);
  if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
    h++, n -= 2;
  if (n == 0 || n >= sizeof t->o.host) {
    rc = LB_EINVAL;
    set_error(res, "cannot parse the %sURL: bad host",
              hop ? "redirect's " : "");
    goto out;
  }
  memcpy(t->o.host, h, n);
  t->o.host[n] = '\0';
  copy_printable(t->shown, sizeof t->shown, t->o.host);
  snprintf(t->o.scheme, sizeof t->o.scheme, "%s", scheme);
  t->o.port = strtol(port, NULL, 10);
  if (!netaddr_host_allowed(t->o.host, p->hosts)) {
    set_error(res, "refused: %s%s is not on the allow-list", what, t->shown);
    goto out;
  }
  if (!p->allow_private && netaddr_literal_private(t->o.host)) {
    set_error(res, "refused: %s%s, a private address", what, t->shown);
    goto out;
  }
  rc = LB_OK;
out:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  return rc;
}

/* Every socket curl opens goes through here: this sees the address it is
 * about to connect to, whatever the name resolved to. */
static curl_socket_t on_open(void *arg, curlsocktype purpose,
                             struct curl_sockaddr *a)
{
  struct fetch *f = arg;
  curl_socket_t s = CURL_SOCKET_BAD;
  size_t need = a->family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                      : sizeof(struct sockaddr_in);
  int ok = purpose == CURLSOCKTYPE_IPCXN &&
           (a->family == AF_INET || a->family == AF_INET6) &&
           a->addrlen >= need;

  if (ok && !f->p->allow_private)
    ok = netaddr_is_public(&a->addr);
  if (!ok) {
    if (!f->denied) {
      struct sockaddr_in in;
      struct sockaddr_in6 in6;
      const char *shown = NULL;
      f->denied = 1;
      if (a->family == AF_INET && a->addrlen >= need) {
        memcpy(&in, &a->addr, sizeof in);
        shown = inet_ntop(AF_INET, &in.sin_addr, f->denied_addr,
                          sizeof f->denied_addr);
      } else if (a->family == AF_INET6 && a->addrlen >= need) {
        memcpy(&in6, &a->addr, sizeof in6);
        shown = inet_ntop(AF_INET6, &in6.sin6_addr, f->denied_addr,
                          sizeof f->denied_addr);
      }
      if (!shown)
        snprintf(f->denied_addr, sizeof f->denied_addr, "?");
    }
    goto out;
  }
  s = socket(a->family, a->socktype, a->protocol);
out:
  return s;
}

static int answer_2xx(CURL *h)
{
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  return code >= 200 && code <= 299;
}

/* Refuses a body announced larger than the cap before any of it comes. */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
  static const char name[] = "content-length:";
  struct fetch *f = arg;
  size_t len = size * n, i, v = 0;

  if (len <= sizeof name - 1)
    return len;
  for (i = 0; i < sizeof name - 1; i++)
    if (lower((unsigned char)line[i]) != (unsigned char)name[i])
      return len;
  if (!answer_2xx(f->h))
    return len;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
    size_t d = (size_t)(line[i] - '0');
    if (f->cap < d || v > (f->cap - d) / 10) {
      f->too_big = 1;
      return 0; /* stops the transfer */
    }
    v = v * 10 + d;
  }
  return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
  struct fetch *f = arg;
  size_t len = size * n;

  if (!answer_2xx(f->h)) {
    /* Not the media: read a little of it, keep none. */
    if (len > DISCARD_MAX - f->discarded)
      return 0;
    f->discarded += len;
    return len;
  }
  if (len > f->cap - f->out->len) {
    f->too_big = 1;
    return 0;
  }
  if (buf_append(f->out, data, len) != LB_OK) {
    f->nomem = 1;
    return 0;
  }
  return len;
}

/* What one hop's answer means. Sets *follow when it is a redirect. */
static int judge(const struct fetch *f, const char *host, CURLcode cc,
                 struct fetch_result *res, int *follow)
{
  long st = res->http_status;
  int rc = LB_EIO;

  *follow = 0;
  res->final = 0;
  /* An address refused while another (public) one answered is no matter. */
  if (f->denied && cc != CURLE_OK) {
    rc = LB_EDENIED;
    res->final = 1;
    set_error(res, "refused: %s resolves to a private address (%s)", host,
              f->denied_addr);
  } else if (f->too_big) {
    rc = LB_ETOOBIG;
    res->final = 1;
    set_error(res, "refused: the body from %s is larger than %zu bytes", host,
              f->cap);
  } else if (f->nomem) {
    rc = LB_ENOMEM;
    set_error(res, "out of memory reading from %s", host);
  } else if (cc == CURLE_OPERATION_TIMEDOUT) {
    rc = LB_ETIMEOUT;
    set_error(res, "timed out fetching from %s", host);
  } else if (st >= 200 && st <= 299) {
    if (cc == CURLE_OK)
      rc = LB_OK;
    else
      set_error(res, "%s: %s", host, curl_easy_strerror(cc));
  } else if (st >= 300 && st <= 399) {
    if (cc == CURLE_OK) {
      rc = LB_OK;
      *follow = 1;
    } else {
      res->final = 1;
      set_error(res, "HTTP %ld from %s: %s", st, host, curl_easy_strerror(cc));
    }
  } else if (st >= 400 && st <= 499) {
    res->final = st != 408 && st != 429;
    set_error(res, "HTTP %ld from %s", st, host);
  } else if (st > 0) {
    set_error(res, "HTTP %ld from %s", st, host);
  } else {
    set_error(res, "%s: %s", host,
              cc == CURLE_OK ? "no answer" : curl_easy_strerror(cc));
  }
  return rc;
}

/* The URL a redirect points at, into *next (the caller curl_free()s it).
 * The Location header is resolved against 'base', the URL we asked for.
 * Not CURLINFO_REDIRECT_URL: curl builds that from its own copy of the URL,
 * which holds the Basic credentials, so a relative redirect would come
 * back with them in it. */
static int redirect_url(CURL *h, CURLU *base, int hop, const char *host,
                        char **next, struct fetch_result *res)
{
  struct curl_header *loc = NULL;
  CURLU *u = NULL;
  CURLUcode uc;
  int rc = LB_EIO;

  *next = NULL;
  if (curl_easy_header(h, "Location", 0, CURLH_HEADER, -1, &loc) != CURLHE_OK ||
      !loc->value || !loc->value[0]) {
    set_error(res, "HTTP %ld from %s with no Location to follow",
              res->http_status, host);
    goto out;
  }
  rc = LB_EDENIED;
  if (strnlen(loc->value, FETCH_URL_MAX + 1) > FETCH_URL_MAX) {
    set_error(res, "refused: redirect to a URL longer than %d bytes",
              FETCH_URL_MAX);
    goto out;
  }
  rc = LB_ENOMEM;
  u = curl_url_dup(base);
  if (!u)
    goto out;
  uc = curl_url_set(u, CURLUPART_URL, loc->value, 0);
  if (uc == CURLUE_OK)
    uc = curl_url_get(u, CURLUPART_URL, next, 0);
  if (uc == CURLUE_OUT_OF_MEMORY)
    goto out;
  rc = uc == CURLUE_UNSUPPORTED_SCHEME ? LB_EDENIED : LB_EINVAL;
  if (uc == CURLUE_UNSUPPORTED_SCHEME)
    set_error(res,
              "refused: redirect %d from %s to a URL that is not http "
              "or https",
              hop + 1, host);
  else if (uc != CURLUE_OK)
    set_error(res, "cannot parse the redirect's URL from %s: %s", host,
              curl_url_strerror(uc));
  else
    rc = LB_OK;
out:
  curl_url_cleanup(u);
  return rc;
}

/* The options every hop shares. Those the policy rests on are checked:
 * a curl that refuses one is not used. */
static int setup(struct fetch *f)
{
  const char *protos = f->p->require_https ? "https" : "http,https";
  CURL *h = f->h;
  int bad = 0;

  bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protos) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protos) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
  /* No proxy from the environment: the address check would see the proxy,
   * not the server. */
  bad |= curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, f) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, f) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, f) != CURLE_OK;
  bad |= curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC) != CURLE_OK;
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "lyrebird/" LYREBIRD_VERSION);
  return bad ? LB_EUNSUPPORTED : LB_OK;
}

enum lb_err fetch_get(const struct fetch_policy *p, const char *url,
                      struct buf *out, struct fetch_result *res)
{
  struct fetch f;
  struct target t;
  struct origin first;
  CURLU *inuse = NULL; /* the URL the curl handle points at */
  char *loc = NULL;    /* the redirect's URL (curl_free) */
  const char *cur = url;
  int64_t deadline, left;
  int max_redirects, follow = 0, rc = LB_EINVAL;

  if (!res)
    return LB_EINVAL;
  memset(res, 0, sizeof *res);
  memset(&f, 0, sizeof f);
  memset(&t, 0, sizeof t);
  memset(&first, 0, sizeof first);
  res->final = 1;
  if (!p || !url || !out || p->timeout_ms <= 0) {
    set_error(res, "fetch: bad arguments");
    goto out;
  }
  buf_reset(out);
  f.p = p;
  f.out = out;
  f.cap = p->max_bytes && p->max_bytes < out->max ? p->max_bytes : out->max;
  max_redirects = p->max_redirects < 0 ? 0 : p->max_redirects;
  if (max_redirects > FETCH_REDIRECTS_MAX)
    max_redirects = FETCH_REDIRECTS_MAX;
  deadline = clock_mono_ms() + p->timeout_ms;
  f.h = curl_easy_init();
  if (!f.h) {
    rc = LB_ENOMEM;
    res->final = 0;
    goto out;
  }
  rc = setup(&f);
  if (rc) {
    set_error(res, "fetch: this libcurl lacks a needed option");
    goto out;
  }
  for (int hop = 0;; hop++) {
    CURLcode cc;

    rc = check_url(p, cur, hop, &t, res);
    if (rc) {
      res->final = rc != LB_ENOMEM;
      goto out;
    }
    if (hop == 0)
      first = t.o;
    left = deadline - clock_mono_ms();
    if (left <= 0) {
      rc = LB_ETIMEOUT;
      res->final = 0;
      set_error(res, "timed out fetching from %s", t.shown);
      goto out;
    }
    curl_easy_setopt(f.h, CURLOPT_CURLU, t.u);
    curl_url_cleanup(inuse);
    inuse = t.u;
    t.u = NULL;
    /* The credentials are for the first URL's origin only. */
    curl_easy_setopt(f.h, CURLOPT_USERPWD,
                     p->userpwd && same_origin(&first, &t.o) ? p->userpwd
                                                             : NULL);
    curl_easy_setopt(f.h, CURLOPT_TIMEOUT_MS, (long)left);
    curl_easy_setopt(f.h, CURLOPT_CONNECTTIMEOUT_MS,
                     left < CONNECT_TIMEOUT_MAX_MS ? (long)left
                                                   : CONNECT_TIMEOUT_MAX_MS);
    buf_reset(out);
    f.discarded = 0;
    f.denied = 0;
    cc = curl_easy_perform(f.h);
    curl_easy_getinfo(f.h, CURLINFO_RESPONSE_CODE, &res->http_status);
    {
      char *ctype = NULL;
      res->content_type[0] = '\0';
      if (curl_easy_getinfo(f.h, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK)
        copy_printable(res->content_type, sizeof res->content_type, ctype);
    }
    rc = judge(&f, t.shown, cc, res, &follow);
    if (rc || !follow)
      goto out;
    curl_free(loc);
    rc = redirect_url(f.h, inuse, hop, t.shown, &loc, res);
    if (rc) {
      res->final = rc != LB_ENOMEM;
      goto out;
    }
    if (hop >= max_redirects) {
      rc = LB_EDENIED;
      res->final = 1;
      set_error(res, "refused: more than %d redirects (last from %s)",
                max_redirects, t.shown);
      goto out;
    }
    cur = loc;
  }
out:
  if (rc == LB_OK)
    res->final = 0;
  else if (out)
    buf_reset(out);
  if (rc == LB_ENOMEM && !res->error[0])
    set_error(res, "fetch: out of memory");
  curl_easy_cleanup(f.h);
  curl_url_cleanup(inuse);
  curl_url_cleanup(t.u);
  curl_free(loc);
  return rc;
}
