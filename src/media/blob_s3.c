/* The S3 blob store: each blob is the object <prefix><key> in one bucket,
 * written with PUT and read with GET, signed with AWS Signature Version 4
 * by libcurl (CURLOPT_AWS_SIGV4).
 *
 * Ownership: blob_s3_open() copies what it needs from the config, so the
 * config may be released afterwards. The store owns its strings and wipes
 * the credentials when freed. blob_get() appends to the caller's buf (the
 * caller initialised it; its max bounds the read) and leaves it as it was
 * when the read fails.
 *
 * Threads: after open the store is read-only. Every call makes, uses and
 * frees its own curl easy handle, so put and get may run on many threads at
 * once. curl_global_init() is the program's job (src/cli/main.c does it
 * before any thread starts).
 *
 * libcurl 7.88 (Debian 12) caveats, see docs/s3.md:
 *  - it does not add x-amz-content-sha256, which S3 requires with SigV4:
 *    every request here sends it (the SHA-256 of the body, or of the empty
 *    string for GET);
 *  - it signs the query string in the order given, not sorted: no request
 *    here has a query string;
 *  - it signs every header given with CURLOPT_HTTPHEADER, including an
 *    empty "Expect:" that it then does not send: so none is given, and a PUT
 *    goes with curl's own "Expect: 100-continue" (not signed).
 * Content-Type and x-amz-server-side-encryption are given as headers and so
 * are signed, with host, x-amz-content-sha256 and x-amz-date. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "media/blob.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/log.h"

#define S3_CONNECT_TIMEOUT_MS 5000L
#define S3_TIMEOUT_MS 30000L
#define S3_ERROR_BODY_MAX 8192
#define S3_EMPTY_SHA256                                                        \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_priv {
  char *origin;    /* "scheme://host[:port]", made with curl_url */
  char *base_path; /* "/[endpoint path/][bucket/]" */
  char *prefix;    /* as configured, for logs */
  char *prefix_enc;
  char *bucket;
  char *userpwd; /* "<access key>:<secret>"; never logged */
  char sigv4[96];
  char sse_header[80]; /* "" or "x-amz-server-side-encryption: ..." */
};

static int unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

/* AWS's UriEncode for an object key: every byte but the unreserved ones and
 * '/' as %XX (upper case). The path is then sent exactly as signed. */
static char *path_encode(const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *out = malloc(n * 3 + 1), *o = out;
  if (!out)
    return NULL;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (unreserved(*p) || *p == '/') {
      *o++ = (char)*p;
    } else {
      *o++ = '%';
      *o++ = hex[*p >> 4];
      *o++ = hex[*p & 15];
    }
  }
  *o = '\0';
  return out;
}

/* A prefix is a relative key path: no leading '/', no empty, "." or ".."
 * segment (curl would fold those away after signing), no control bytes. */
static int prefix_ok(const char *p)
{
  const char *seg = p;
  if (strlen(p) > 512 || p[0] == '/')
    return 0;
  for (const char *q = p;; q++) {
    if (*q && (unsigned char)*q < 0x20)
      return 0;
    if (*q == '/' || !*q) {
      size_t n = (size_t)(q - seg);
      if (*q == '/' && n == 0)
        return 0;
      if ((n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
        return 0;
      if (!*q)
        return 1;
      seg = q + 1;
    }
  }
}

static int bucket_ok(const char *b, int path_style)
{
  size_t n = strlen(b);
  if (n < 1 || n > 255)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = b[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
             c == '.';
    /* Old us-east-1 buckets may have capitals and '_': no DNS name. */
    if (!ok && !(path_style && ((c >= 'A' && c <= 'Z') || c == '_')))
      return 0;
  }
  return 1;
}

static int region_ok(const char *r)
{
  if (!r[0] || strlen(r) > 40)
    return 0;
  for (const char *p = r; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
      return 0;
  return 1;
}

static int host_is_ip(const char *h)
{
  if (h[0] == '[')
    return 1;
  for (const char *p = h; *p; p++)
    if (!((*p >= '0' && *p <= '9') || *p == '.'))
      return 0;
  return 1;
}

static void s3_priv_free(struct s3_priv *p)
{
  if (!p)
    return;
  free(p->origin);
  free(p->base_path);
  free(p->prefix);
  free(p->prefix_enc);
  free(p->bucket);
  if (p->userpwd) {
    sodium_memzero(p->userpwd, strlen(p->userpwd));
    free(p->userpwd);
  }
  sodium_memzero(p, sizeof *p);
  free(p);
}

/* The S3 error Code from an XML error body, reduced to [A-Za-z0-9.]; "-"
 * when there is none (HEAD answers, proxies). */
static void s3_error_code(const struct buf *body, char *out, size_t n)
{
  const char *s = body->data ? strstr(body->data, "<Code>") : NULL;
  size_t j = 0;
  if (s) {
    s += 6;
    for (; *s && *s != '<' && j + 1 < n; s++)
      if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
          (*s >= '0' && *s <= '9') || *s == '.')
        out[j++] = *s;
  }
  if (!j)
    out[j++] = '-';
  out[j] = '\0';
}

struct xfer {
  CURL *h;
  struct buf *out; /* GET: the caller's buf, for a 2xx body */
  struct buf err;  /* other bodies, cut at S3_ERROR_BODY_MAX */
  int too_big;
  int nomem;
  const char *up; /* PUT body */
  size_t up_len, up_off;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
  struct xfer *x = arg;
  size_t len = size * n;
  long status = 0;
  curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
  if (x->out && status >= 200 && status < 300) {
    int rc = buf_append(x->out, data, len);
    if (rc == LB_ETOOBIG)
      x->too_big = 1;
    else if (rc)
      x->nomem = 1;
    return rc ? 0 : len; /* 0 stops the transfer */
  }
  if (x->err.len < x->err.max) {
    size_t room = x->err.max - x->err.len;
    buf_append(&x->err, data, len < room ? len : room);
  }
  return len;
}

static size_t on_read(char *dst, size_t size, size_t n, void *arg)
{
  struct xfer *x = arg;
  size_t want = size * n, left = x->up_len - x->up_off;
  if (want > left)
    want = left;
  if (want)
    memcpy(dst, x->up + x->up_off, want);
  x->up_off += want;
  return want;
}

static int on_seek(void *arg, curl_off_t offset, int origin)
{
  struct xfer *x = arg;
  if (origin != SEEK_SET || offset < 0 || (size_t)offset > x->up_len)
    return CURL_SEEKFUNC_CANTSEEK;
  x->up_off = (size_t)offset;
  return CURL_SEEKFUNC_OK;
}

/* The URL of the object for key; the caller frees it.
 *
 * The path is put together here and handed over whole: curl_url_set() of
 * CURLUPART_PATH would turn "%C3" into "%c3" (curl 7.88), and S3, which
 * signs the path with upper-case escapes, would then refuse the
 * signature. A whole URL is kept as written. */
static char *object_url(const struct s3_priv *p, const char *key)
{
  size_t n = strlen(p->origin) + strlen(p->base_path) + strlen(p->prefix_enc) +
             strlen(key) + 1;
  char *url = malloc(n);
  if (url)
    snprintf(url, n, "%s%s%s%s", p->origin, p->base_path, p->prefix_enc, key);
  return url;
}

/* One signed request: "PUT" with data/len, "GET" into out, or "DELETE". */
static enum lb_err s3_request(struct s3_priv *p, const char *method,
                              const char *key, const void *data, size_t len,
                              struct buf *out)
{
  struct xfer x;
  struct curl_slist *hdrs = NULL;
  char hash_hdr[40 + LB_SHA256_HEX], hex[LB_SHA256_HEX], code[80];
  char *url = NULL;
  const char *hdr[3];
  size_t n_hdr = 0, start = out ? out->len : 0;
  int put = strcmp(method, "PUT") == 0, rc;
  long status = 0;
  CURLcode cc;

  memset(&x, 0, sizeof x);
  buf_init(&x.err, S3_ERROR_BODY_MAX);
  if (!(url = object_url(p, key))) {
    rc = LB_ENOMEM;
    goto done;
  }
  if (put)
    crypto_sha256_hex(data, len, hex);
  snprintf(hash_hdr, sizeof hash_hdr, "x-amz-content-sha256: %s",
           put ? hex : S3_EMPTY_SHA256);
  hdr[n_hdr++] = hash_hdr;
  if (put) {
    hdr[n_hdr++] = "Content-Type: application/octet-stream";
    if (p->sse_header[0])
      hdr[n_hdr++] = p->sse_header;
  }
  for (size_t i = 0; i < n_hdr; i++) {
    struct curl_slist *t = curl_slist_append(hdrs, hdr[i]);
    if (!t) {
      rc = LB_ENOMEM;
      goto done;
    }
    hdrs = t;
  }
  if (!(x.h = curl_easy_init())) {
    rc = LB_ENOMEM;
    goto done;
  }
  x.out = out;
  curl_easy_setopt(x.h, CURLOPT_URL, url);
  curl_easy_setopt(x.h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(x.h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(x.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(x.h, CURLOPT_CONNECTTIMEOUT_MS, S3_CONNECT_TIMEOUT_MS);
  curl_easy_setopt(x.h, CURLOPT_TIMEOUT_MS, S3_TIMEOUT_MS);
  curl_easy_setopt(x.h, CURLOPT_USERAGENT, "lyrebird/" LYREBIRD_VERSION);
  curl_easy_setopt(x.h, CURLOPT_AWS_SIGV4, p->sigv4);
  curl_easy_setopt(x.h, CURLOPT_USERPWD, p->userpwd);
  curl_easy_setopt(x.h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(x.h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(x.h, CURLOPT_WRITEDATA, &x);
  if (put) {
    x.up = data;
    x.up_len = len;
    curl_easy_setopt(x.h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(x.h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(x.h, CURLOPT_READDATA, &x);
    curl_easy_setopt(x.h, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(x.h, CURLOPT_SEEKDATA, &x);
    curl_easy_setopt(x.h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
  } else if (strcmp(method, "DELETE") == 0) {
    curl_easy_setopt(x.h, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    curl_easy_setopt(x.h, CURLOPT_HTTPGET, 1L);
  }
  cc = curl_easy_perform(x.h);
  curl_easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &status);

  if (x.too_big) {
    rc = LB_ETOOBIG;
    log_error("media.s3",
              "%s s3://%s/%s%s: the object is larger than the %zu bytes "
              "allowed",
              method, p->bucket, p->prefix, key, out->max);
  } else if (x.nomem) {
    rc = LB_ENOMEM;
    log_error("media.s3", "%s s3://%s/%s%s: out of memory", method, p->bucket,
              p->prefix, key);
  } else if (cc != CURLE_OK) {
    rc = LB_EIO;
    log_error("media.s3", "%s s3://%s/%s%s: %s", method, p->bucket, p->prefix,
              key, curl_easy_strerror(cc));
  } else if (status >= 200 && status < 300) {
    rc = LB_OK;
  } else {
    rc = status == 404 ? LB_ENOTFOUND : status == 403 ? LB_EAUTH : LB_EIO;
    s3_error_code(&x.err, code, sizeof code);
    log_event(status == 404 ? LOG_WARN : LOG_ERROR, "media.s3", NULL,
              "%s s3://%s/%s%s: HTTP %ld, S3 error code %s", method, p->bucket,
              p->prefix, key, status, code);
  }
  if (rc == LB_OK && out) {
    /* Content-addressed: the bytes must hash to their key. */
    crypto_sha256_hex(out->data ? out->data + start : "", out->len - start,
                      hex);
    if (strcmp(hex, key) != 0) {
      rc = LB_EIO;
      log_error("media.s3",
                "GET s3://%s/%s%s: the object's bytes do not match its key",
                p->bucket, p->prefix, key);
    }
  }
done:
  if (rc == LB_ENOMEM && !x.nomem)
    log_error("media.s3", "%s s3://%s/%s%s: out of memory", method, p->bucket,
              p->prefix, key);
  if (rc && out && out->data && out->len > start) {
    out->len = start; /* leave the caller's buf as it was */
    out->data[start] = '\0';
  }
  if (x.h)
    curl_easy_cleanup(x.h);
  curl_slist_free_all(hdrs);
  free(url);
  buf_release(&x.err);
  return rc;
}

static enum lb_err s3_put(struct blob_store *b, const void *data, size_t len,
                          const char *key)
{
  if (!blob_key_valid(key)) {
    log_error("media.s3", "refusing to store a blob under a malformed key");
    return LB_EINVAL;
  }
  return s3_request(b->priv, "PUT", key, data, len, NULL);
}

static enum lb_err s3_get(struct blob_store *b, const char *key,
                          struct buf *out)
{
  if (!blob_key_valid(key))
    return LB_ENOTFOUND;
  return s3_request(b->priv, "GET", key, NULL, 0, out);
}

static enum lb_err s3_del(struct blob_store *b, const char *key)
{
  enum lb_err rc;
  if (!blob_key_valid(key))
    return LB_EINVAL;
  rc = s3_request(b->priv, "DELETE", key, NULL, 0, NULL);
  return rc == LB_ENOTFOUND ? LB_OK : rc; /* gone is gone */
}

static void s3_free(struct blob_store *b)
{
  s3_priv_free(b->priv);
  free(b);
}

static const struct blob_ops s3_ops = {s3_put, s3_get, s3_del, s3_free};

/* Parses the endpoint into p->origin (scheme, host, port; the bucket in the
 * host for virtual-hosted style) and p->base_path. */
static enum lb_err s3_endpoint(struct s3_priv *p, const struct config *c)
{
  char def[160], *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
  char *query = NULL, *user = NULL, *vhost = NULL, *origin = NULL;
  const char *ep = c->s3_endpoint;
  CURLU *u = curl_url(), *o = NULL;
  size_t plen, n;
  int rc = LB_ECONFIG;

  if (!u)
    return LB_ENOMEM;
  if (!ep[0]) {
    snprintf(def, sizeof def, "https://s3.%s.amazonaws.com", c->s3_region);
    ep = def;
  }
  if (curl_url_set(u, CURLUPART_URL, ep, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
      (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
    log_error("media.s3", "[s3] endpoint '%s' is not an http(s) URL", ep);
    goto out;
  }
  if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
      curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
    log_error("media.s3",
              "[s3] endpoint must have no query string and no user name");
    goto out;
  }
  curl_url_get(u, CURLUPART_PORT, &port, 0);
  if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
    path = NULL;
  if (!c->s3_path_style) {
    if (host_is_ip(host)) {
      log_error("media.s3",
                "[s3] endpoint host %s is an address: a bucket cannot be a "
                "subdomain of it; set [s3] path_style = true",
                host);
      goto out;
    }
    n = strlen(p->bucket) + strlen(host) + 2;
    if (!(vhost = malloc(n))) {
      rc = LB_ENOMEM;
      goto out;
    }
    snprintf(vhost, n, "%s.%s", p->bucket, host);
    if (strchr(p->bucket, '.') && strcmp(scheme, "https") == 0)
      log_warn("media.s3",
               "bucket %s has a dot: its TLS name %s will not match a "
               "wildcard certificate; consider [s3] path_style = true",
               p->bucket, vhost);
  }
  /* base_path: the endpoint's own path without its trailing '/', then
   * "/<bucket>" for path-style, then "/". */
  plen = path ? strlen(path) : 0;
  while (plen && path[plen - 1] == '/')
    plen--;
  n = plen + strlen(p->bucket) + 3;
  if (!(p->base_path = malloc(n)) || !(o = curl_url())) {
    rc = LB_ENOMEM;
    goto out;
  }
  snprintf(p->base_path, n, "%.*s/%s%s", (int)plen, path ? path : "",
           c->s3_path_style ? p->bucket : "", c->s3_path_style ? "/" : "");
  if (curl_url_set(o, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK ||
      curl_url_set(o, CURLUPART_HOST, vhost ? vhost : host, 0) != CURLUE_OK ||
      (port && curl_url_set(o, CURLUPART_PORT, port, 0) != CURLUE_OK) ||
      curl_url_set(o, CURLUPART_PATH, "/", 0) != CURLUE_OK ||
      curl_url_get(o, CURLUPART_URL, &origin, 0) != CURLUE_OK ||
      !(n = strlen(origin)) || origin[n - 1] != '/') {
    log_error("media.s3", "cannot make a URL from [s3] endpoint '%s'", ep);
    goto out;
  }
  origin[n - 1] = '\0'; /* the path comes from base_path */
  if (!(p->origin = strdup(origin))) {
    rc = LB_ENOMEM;
    goto out;
  }
  rc = LB_OK;
out:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_free(query);
  curl_free(user);
  free(vhost);
  curl_free(origin);
  curl_url_cleanup(o);
  curl_url_cleanup(u);
  return rc;
}

enum lb_err blob_s3_open(const struct config *c, struct blob_store **out)
{
  struct blob_store *b = NULL;
  struct s3_priv *p = NULL;
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  char *url = NULL;
  size_t n;
  int rc = LB_ECONFIG;

  *out = NULL;
  if (!v || v->version_num < 0x074b00) {
    log_error("media.s3", "libcurl %s has no SigV4 signing (7.75 or later)",
              v ? v->version : "?");
    return LB_ECONFIG;
  }
  if (!bucket_ok(c->s3_bucket, c->s3_path_style)) {
    log_error("media.s3", "[s3] bucket '%s' is not a valid bucket name%s",
              c->s3_bucket,
              c->s3_path_style ? "" : " for virtual-hosted-style URLs");
    return LB_ECONFIG;
  }
  if (!region_ok(c->s3_region)) {
    log_error("media.s3", "[s3] region '%s' is not a region name",
              c->s3_region);
    return LB_ECONFIG;
  }
  if (!c->s3_access_key[0] || !c->s3_secret_key[0] ||
      strchr(c->s3_access_key, ':')) {
    log_error("media.s3", "[s3] access_key and secret_key must be set (and "
                          "the access key has no ':')");
    return LB_ECONFIG;
  }
  if (!prefix_ok(c->s3_prefix)) {
    log_error("media.s3",
              "[s3] prefix '%s' must be a relative key path (no leading '/', "
              "no empty, '.' or '..' part)",
              c->s3_prefix);
    return LB_ECONFIG;
  }
  if (c->s3_sse[0] && strcmp(c->s3_sse, "AES256") &&
      strcmp(c->s3_sse, "aws:kms")) {
    log_error("media.s3", "[s3] sse must be empty, AES256 or aws:kms");
    return LB_ECONFIG;
  }

  b = calloc(1, sizeof *b);
  p = calloc(1, sizeof *p);
  if (!b || !p)
    goto nomem;
  n = strlen(c->s3_access_key) + strlen(c->s3_secret_key) + 2;
  if (!(p->bucket = strdup(c->s3_bucket)) ||
      !(p->prefix = strdup(c->s3_prefix)) ||
      !(p->prefix_enc = path_encode(c->s3_prefix)) || !(p->userpwd = malloc(n)))
    goto nomem;
  snprintf(p->userpwd, n, "%s:%s", c->s3_access_key, c->s3_secret_key);
  snprintf(p->sigv4, sizeof p->sigv4, "aws:amz:%s:s3", c->s3_region);
  if (c->s3_sse[0])
    snprintf(p->sse_header, sizeof p->sse_header,
             "x-amz-server-side-encryption: %s", c->s3_sse);
  if ((rc = s3_endpoint(p, c)))
    goto fail;
  if ((url = object_url(p, "")))
    log_info("media.s3", "media in s3://%s/%s at %s (%s-style)%s%s", p->bucket,
             p->prefix, url, c->s3_path_style ? "path" : "virtual-host",
             c->s3_sse[0] ? ", server-side encryption " : "", c->s3_sse);
  free(url);
  b->ops = &s3_ops;
  b->priv = p;
  *out = b;
  return LB_OK;
nomem:
  rc = LB_ENOMEM;
fail:
  s3_priv_free(p);
  free(b);
  return rc;
}
