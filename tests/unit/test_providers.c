/* The provider adapters' tests, as data: every file
 * tests/fixtures/<provider>/<case>.json is one case, holding what goes in
 * (the message to send, the provider's HTTP answer, the webhook as the
 * provider sends it) and what must come out. This runner reads each case,
 * runs the adapter operation it names, and compares the result with the
 * expectation, naming the file and the field that differ. The schema is in
 * tests/fixtures/README.md.
 *
 *   test_providers [provider ...]   (default: every directory)
 *
 * Each case is one cmocka test, named "<provider>/<file>"; a last test per
 * directory checks that every file in its payloads/ is used by some case.
 * A malformed case (bad JSON, an unknown key, a value of the wrong type)
 * fails like any other, with the reason. Links lb_pure only: no I/O beyond
 * reading the case files. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/message.h"
#include "core/status.h"
#include "providers/messagemedia.h"
#include "providers/provider.h"
#include "providers/twilio.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/wire.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR must point at tests/fixtures"
#endif

#define MAX_CASES 2048       /* case files per provider directory */
#define MAX_PAYLOADS 256     /* files per payloads/ directory */
#define NAME_MAX_LEN 200     /* a case or payload file name */
#define FILE_MAX (8u << 20)  /* a case or payload file */
#define TEXT_MAX (16u << 20) /* a text spec's bytes */
#define ERRS_MAX 16384       /* a case's failure report */
#define ERRS_MAX_LINES 40    /* failures reported per case */
#define HOOK_HEADERS_MAX 16  /* headers of one webhook */
#define SHOW_MAX 400         /* bytes of a value shown in a report */
#define WHY_SIZE 512         /* the parse 'why' buffer */
#define OUT_SIZE 512         /* the check/setup 'out' buffer */
#define MEDIA_LEN_MAX (64u << 20)

/* ---- a case being run --------------------------------------------------- */

struct payloads {
  char names[MAX_PAYLOADS][NAME_MAX_LEN];
  int used[MAX_PAYLOADS];
  int n;
};

struct tcase {
  char name[NAME_MAX_LEN * 2]; /* "sim/send_response_accepted.json" */
  char path[PATH_MAX];
  char dir[64]; /* "sim" */
  struct payloads *payloads;
};

struct run {
  const struct tcase *tc;
  char errs[ERRS_MAX];
  size_t elen;
  int nerr, nlines;
  /* Allocations freed when the case ends. */
  void **owned;
  size_t n_owned, cap_owned;
  json_t **docs;
  size_t n_docs, cap_docs;
};

static void report(struct run *r, int count, const char *fmt, va_list ap)
{
  int n;
  if (count)
    r->nerr++;
  if (++r->nlines > ERRS_MAX_LINES) {
    if (r->nlines == ERRS_MAX_LINES + 1 && r->elen + 64 < sizeof r->errs)
      r->elen +=
          (size_t)snprintf(r->errs + r->elen, sizeof r->errs - r->elen,
                           "%s: (more failures not shown)\n", r->tc->name);
    return;
  }
  if (r->elen + 2 >= sizeof r->errs)
    return;
  n = snprintf(r->errs + r->elen, sizeof r->errs - r->elen,
               "%s: ", r->tc->name);
  if (n > 0)
    r->elen = r->elen + (size_t)n < sizeof r->errs ? r->elen + (size_t)n
                                                   : sizeof r->errs - 1;
  n = vsnprintf(r->errs + r->elen, sizeof r->errs - r->elen, fmt, ap);
  if (n > 0)
    r->elen = r->elen + (size_t)n < sizeof r->errs ? r->elen + (size_t)n
                                                   : sizeof r->errs - 1;
  if (r->elen + 1 < sizeof r->errs) {
    r->errs[r->elen++] = '\n';
    r->errs[r->elen] = '\0';
  }
}

/* One failure of the case: "<file>: <field> = <got>, want <want>". */
static void bad(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bad(struct run *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  report(r, 1, fmt, ap);
  va_end(ap);
}

/* A line of context after failures, not one itself. */
static void note(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(struct run *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  report(r, 0, fmt, ap);
  va_end(ap);
}

/* Takes ownership of p (freed when the case ends); NULL if p is NULL or
 * cannot be kept (then p is freed and the case fails). */
static void *keep(struct run *r, void *p)
{
  if (!p) {
    bad(r, "out of memory");
    return NULL;
  }
  if (r->n_owned == r->cap_owned) {
    size_t cap = r->cap_owned ? r->cap_owned * 2 : 64;
    void **o = realloc(r->owned, cap * sizeof *o);
    if (!o) {
      free(p);
      bad(r, "out of memory");
      return NULL;
    }
    r->owned = o;
    r->cap_owned = cap;
  }
  r->owned[r->n_owned++] = p;
  return p;
}

static json_t *keep_doc(struct run *r, json_t *j)
{
  if (!j)
    return NULL;
  if (r->n_docs == r->cap_docs) {
    size_t cap = r->cap_docs ? r->cap_docs * 2 : 8;
    json_t **d = realloc(r->docs, cap * sizeof *d);
    if (!d) {
      json_decref(j);
      bad(r, "out of memory");
      return NULL;
    }
    r->docs = d;
    r->cap_docs = cap;
  }
  r->docs[r->n_docs++] = j;
  return j;
}

static char *keep_copy(struct run *r, const void *p, size_t n)
{
  char *c = malloc(n + 1);
  if (c) {
    if (n)
      memcpy(c, p, n);
    c[n] = '\0';
  }
  return keep(r, c);
}

static void run_release(struct run *r)
{
  for (size_t i = 0; i < r->n_owned; i++)
    free(r->owned[i]);
  free(r->owned);
  for (size_t i = 0; i < r->n_docs; i++)
    json_decref(r->docs[i]);
  free(r->docs);
}

/* A value for a report: at most SHOW_MAX bytes, control characters and
 * bytes outside printable ASCII and UTF-8 shown as escapes. */
static const char *show(const void *p, size_t n, char *out, size_t outlen)
{
  const unsigned char *s = p;
  size_t o = 0;
  if (!p) {
    snprintf(out, outlen, "(null)");
    return out;
  }
  for (size_t i = 0; i < n && o + 8 < outlen; i++) {
    unsigned char c = s[i];
    if (i >= SHOW_MAX) {
      o += (size_t)snprintf(out + o, outlen - o, "...(%zu bytes)", n);
      break;
    }
    if (c == '\n')
      o += (size_t)snprintf(out + o, outlen - o, "\\n");
    else if (c == '\r')
      o += (size_t)snprintf(out + o, outlen - o, "\\r");
    else if (c == '\t')
      o += (size_t)snprintf(out + o, outlen - o, "\\t");
    else if (c < 0x20 || c == 0x7f)
      o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
    else
      out[o++] = (char)c;
  }
  out[o < outlen ? o : outlen - 1] = '\0';
  return out;
}

#define SHOWBUF (SHOW_MAX * 4 + 32)

/* ---- reading the case's JSON --------------------------------------------
 * Every reader names the field it reads ("input.response.status") in a
 * failure, and refuses a value of the wrong type. */

static int only_keys(struct run *r, json_t *o, const char *where,
                     const char *const *keys)
{
  const char *k;
  json_t *v;
  int ok = 1;
  if (!json_is_object(o)) {
    bad(r, "%s must be an object", where);
    return 0;
  }
  json_object_foreach(o, k, v)
  {
    size_t i;
    for (i = 0; keys[i]; i++)
      if (strcmp(keys[i], k) == 0)
        break;
    if (!keys[i]) {
      bad(r, "%s: unknown key '%s'", where, k);
      ok = 0;
    }
  }
  return ok;
}

#define KEYS(...)                                                              \
  (const char *const[])                                                        \
  {                                                                            \
    __VA_ARGS__, NULL                                                          \
  }

/* 1 and *out for a string (or, with nullable, NULL for null); 0 when
 * absent; -1 (reported) for another type. */
static int get_str(struct run *r, json_t *o, const char *key, const char *where,
                   int nullable, const char **out)
{
  json_t *v = json_object_get(o, key);
  *out = NULL;
  if (!v)
    return 0;
  if (nullable && json_is_null(v))
    return 1;
  if (!json_is_string(v)) {
    bad(r, "%s.%s must be a string%s", where, key, nullable ? " or null" : "");
    return -1;
  }
  *out = json_string_value(v);
  return 1;
}

static int get_int(struct run *r, json_t *o, const char *key, const char *where,
                   long long *out)
{
  json_t *v = json_object_get(o, key);
  if (!v)
    return 0;
  if (!json_is_integer(v)) {
    bad(r, "%s.%s must be an integer", where, key);
    return -1;
  }
  *out = json_integer_value(v);
  return 1;
}

static int get_bool(struct run *r, json_t *o, const char *key,
                    const char *where, int *out)
{
  json_t *v = json_object_get(o, key);
  if (!v)
    return 0;
  if (!json_is_boolean(v)) {
    bad(r, "%s.%s must be true or false", where, key);
    return -1;
  }
  *out = json_is_true(v);
  return 1;
}

static const char *const send_outcomes[] = {"SEND_ACCEPTED", "SEND_RETRY",
                                            "SEND_FINAL", "SEND_UNKNOWN"};
static const char *const recipients[] = {"RECIPIENT_OK", "RECIPIENT_REFUSED",
                                         "RECIPIENT_OPTED_OUT"};
static const char *const statuses[] = {
    "ST_QUEUED",      "ST_SENDING", "ST_SENT",    "ST_DELIVERED",
    "ST_UNDELIVERED", "ST_FAILED",  "ST_RECEIVED"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *enum_name(const char *const *names, size_t n, long v)
{
  return v >= 0 && (size_t)v < n ? names[v] : "(out of range)";
}

static const char *rc_name(int rc)
{
  return lb_errname(rc);
}

/* An enum value by its name: "LB_EAUTH", "SEND_FINAL", ... */
static int get_enum(struct run *r, json_t *o, const char *key,
                    const char *where, const char *const *names, size_t n,
                    int *out)
{
  const char *s;
  int got = get_str(r, o, key, where, 0, &s);
  if (got <= 0)
    return got;
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0) {
      *out = (int)i;
      return 1;
    }
  bad(r, "%s.%s: '%s' is not one of %s, ...", where, key, s, names[0]);
  return -1;
}

static int get_rc(struct run *r, json_t *o, const char *key, const char *where,
                  int *out)
{
  const char *s;
  int got = get_str(r, o, key, where, 0, &s);
  if (got <= 0)
    return got;
  for (int i = 0; i < LB_ERR_COUNT; i++)
    if (strcmp(lb_errname(i), s) == 0) {
      *out = i;
      return 1;
    }
  bad(r, "%s.%s: '%s' is not an LB_* error name", where, key, s);
  return -1;
}

/* ---- payload files --------------------------------------------------------
 */

static char *read_file(const char *path, size_t *len, const char **err)
{
  FILE *f = fopen(path, "rb");
  struct stat st;
  char *data;
  *err = NULL;
  if (!f) {
    *err = strerror(errno);
    return NULL;
  }
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
      (unsigned long long)st.st_size > FILE_MAX) {
    fclose(f);
    *err = "not a regular file of at most 8 MiB";
    return NULL;
  }
  data = malloc((size_t)st.st_size + 1);
  if (!data) {
    fclose(f);
    *err = "out of memory";
    return NULL;
  }
  if (fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
    fclose(f);
    free(data);
    *err = "short read";
    return NULL;
  }
  fclose(f);
  data[st.st_size] = '\0';
  *len = (size_t)st.st_size;
  return data;
}

/* Reads payloads/<name> of the case's directory (owned by the run). */
static char *payload(struct run *r, const char *name, const char *where,
                     size_t *len)
{
  char path[PATH_MAX];
  const char *err;
  char *data;
  int i;
  if (!name[0] || strchr(name, '/') || name[0] == '.' ||
      strlen(name) >= NAME_MAX_LEN) {
    bad(r, "%s: '%s' is not a file name in payloads/", where, name);
    return NULL;
  }
  for (i = 0; i < r->tc->payloads->n; i++)
    if (strcmp(r->tc->payloads->names[i], name) == 0)
      break;
  if (i == r->tc->payloads->n) {
    bad(r, "%s: there is no payloads/%s", where, name);
    return NULL;
  }
  r->tc->payloads->used[i] = 1;
  snprintf(path, sizeof path, "%s/%s/payloads/%s", FIXTURE_DIR, r->tc->dir,
           name);
  data = read_file(path, len, &err);
  if (!data) {
    bad(r, "%s: cannot read payloads/%s: %s", where, name, err);
    return NULL;
  }
  return keep(r, data);
}

/* ---- text specs -----------------------------------------------------------
 * A string; {"hex": "e2 82 ac"} for bytes that are not UTF-8;
 * {"repeat": spec, "times": n}; {"concat": [spec, ...]}. */

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Appends the hex digits' bytes (blanks between bytes allowed). */
static int hex_bytes(struct run *r, const char *hex, const char *where,
                     struct buf *b)
{
  for (const char *p = hex; *p;) {
    int hi, lo;
    unsigned char c;
    if (*p == ' ') {
      p++;
      continue;
    }
    hi = hexval((unsigned char)p[0]);
    lo = hi < 0 ? -1 : hexval((unsigned char)p[1]);
    if (hi < 0 || lo < 0) {
      bad(r, "%s: '%s' is not hex bytes", where, hex);
      return -1;
    }
    c = (unsigned char)(hi * 16 + lo);
    if (buf_append(b, &c, 1)) {
      bad(r, "%s: more than %u bytes", where, TEXT_MAX);
      return -1;
    }
    p += 2;
  }
  return 0;
}

static int text_spec(struct run *r, json_t *v, const char *where, struct buf *b,
                     int depth)
{
  const char *s;
  json_t *it;
  size_t i;
  long long times = 0;
  if (depth > 8) {
    bad(r, "%s: text spec nested too deep", where);
    return -1;
  }
  if (json_is_string(v)) {
    if (buf_append(b, json_string_value(v), json_string_length(v))) {
      bad(r, "%s: more than %u bytes", where, TEXT_MAX);
      return -1;
    }
    return 0;
  }
  if (json_is_object(v) && json_object_get(v, "hex")) {
    if (!only_keys(r, v, where, KEYS("hex")) ||
        get_str(r, v, "hex", where, 0, &s) < 0)
      return -1;
    return hex_bytes(r, s, where, b);
  }
  if (json_is_object(v) && json_object_get(v, "repeat")) {
    if (!only_keys(r, v, where, KEYS("repeat", "times")) ||
        get_int(r, v, "times", where, &times) != 1 || times < 0 ||
        times > 1000000) {
      bad(r, "%s: 'times' must be an integer in 0..1000000", where);
      return -1;
    }
    for (long long n = 0; n < times; n++)
      if (text_spec(r, json_object_get(v, "repeat"), where, b, depth + 1))
        return -1;
    return 0;
  }
  if (json_is_object(v) && json_is_array(json_object_get(v, "concat"))) {
    if (!only_keys(r, v, where, KEYS("concat")))
      return -1;
    json_array_foreach(json_object_get(v, "concat"), i, it)
    {
      if (text_spec(r, it, where, b, depth + 1))
        return -1;
    }
    return 0;
  }
  bad(r,
      "%s: not a text (a string, {\"hex\"}, {\"repeat\", \"times\"} or "
      "{\"concat\"})",
      where);
  return -1;
}

/* A text spec as an owned NUL-terminated string; *len (if len) its bytes. */
static char *text_of(struct run *r, json_t *v, const char *where, size_t *len)
{
  struct buf b;
  char *s;
  size_t n = 0;
  buf_init(&b, TEXT_MAX);
  if (text_spec(r, v, where, &b, 0)) {
    buf_release(&b);
    return NULL;
  }
  s = keep_copy(r, b.data ? b.data : "", b.len);
  n = b.len;
  buf_release(&b);
  if (len)
    *len = n;
  return s;
}

/* A text that must be a C string (no NUL inside). */
static char *cstr_of(struct run *r, json_t *v, const char *where)
{
  size_t n;
  char *s = text_of(r, v, where, &n);
  if (s && strlen(s) != n) {
    bad(r, "%s: a NUL byte inside a string", where);
    return NULL;
  }
  return s;
}

/* ---- bodies -------------------------------------------------------------- */

/* "body" (a text spec, verbatim), "body_file" (payloads/<name>, verbatim)
 * or "body_json" (any JSON, serialised compactly in key order), then
 * "body_replace": [from, to] on the first occurrence. 0 with *out NULL when
 * there is none. */
static int body_of(struct run *r, json_t *o, const char *where, char **out,
                   size_t *len)
{
  json_t *b = json_object_get(o, "body"), *bf = json_object_get(o, "body_file");
  json_t *bj = json_object_get(o, "body_json");
  json_t *rep = json_object_get(o, "body_replace");
  char w[256];
  *out = NULL;
  *len = 0;
  if (!!b + !!bf + !!bj > 1) {
    bad(r, "%s: give one of body, body_file and body_json", where);
    return -1;
  }
  if (b) {
    snprintf(w, sizeof w, "%s.body", where);
    if (!(*out = text_of(r, b, w, len)))
      return -1;
  } else if (bf) {
    if (!json_is_string(bf)) {
      bad(r, "%s.body_file must be a string", where);
      return -1;
    }
    snprintf(w, sizeof w, "%s.body_file", where);
    if (!(*out = payload(r, json_string_value(bf), w, len)))
      return -1;
  } else if (bj) {
    char *s = json_dumps(bj, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!(*out = keep(r, s)))
      return -1;
    *len = strlen(s);
  }
  if (rep) {
    const char *from, *to;
    char *at, *n;
    size_t fl, tl;
    if (!*out || !json_is_array(rep) || json_array_size(rep) != 2 ||
        !(from = json_string_value(json_array_get(rep, 0))) ||
        !(to = json_string_value(json_array_get(rep, 1))) || !from[0]) {
      bad(r, "%s.body_replace must be [from, to] (strings) after a body",
          where);
      return -1;
    }
    if (!(at = strstr(*out, from))) {
      bad(r, "%s.body_replace: '%s' is not in the body", where, from);
      return -1;
    }
    fl = strlen(from);
    tl = strlen(to);
    n = malloc(*len - fl + tl + 1);
    if (!keep(r, n))
      return -1;
    memcpy(n, *out, (size_t)(at - *out));
    memcpy(n + (at - *out), to, tl);
    memcpy(n + (at - *out) + tl, at + fl, *len - (size_t)(at - *out) - fl + 1);
    *len = *len - fl + tl;
    *out = n;
  }
  return 0;
}

/* ---- forms -----------------------------------------------------------------
 * Decoded as libmicrohttpd decodes a query string or a urlencoded body:
 * fields split at '&', name and value at the first '=', '+' is a space,
 * %XX a byte (a '%' not followed by two hex digits stays as it is). */

static char *form_unescape(struct run *r, const char *s, size_t n)
{
  char *d = malloc(n + 1);
  size_t o = 0;
  if (!keep(r, d))
    return NULL;
  for (size_t i = 0; i < n; i++) {
    int hi, lo;
    if (s[i] == '+')
      d[o++] = ' ';
    else if (s[i] == '%' && i + 2 < n &&
             (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
             (lo = hexval((unsigned char)s[i + 2])) >= 0) {
      d[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else
      d[o++] = s[i];
  }
  d[o] = '\0';
  return d;
}

static int form_decode(struct run *r, const char *s, size_t len,
                       const char *where, struct wire_param *out, size_t max,
                       size_t *n)
{
  size_t i = 0;
  *n = 0;
  while (i < len) {
    size_t e = i, eq;
    while (e < len && s[e] != '&')
      e++;
    if (e > i) {
      if (*n >= max) {
        bad(r, "%s: more than %zu form fields", where, max);
        return -1;
      }
      for (eq = i; eq < e && s[eq] != '='; eq++)
        ;
      out[*n].name = form_unescape(r, s + i, eq - i);
      out[*n].value = eq < e ? form_unescape(r, s + eq + 1, e - eq - 1)
                             : keep_copy(r, "", 0);
      if (!out[*n].name || !out[*n].value)
        return -1;
      (*n)++;
    }
    i = e + 1;
  }
  return 0;
}

/* [[name, value], ...] */
static int pairs_of(struct run *r, json_t *arr, const char *where,
                    struct wire_param *out, size_t max, size_t *n)
{
  size_t i;
  json_t *it;
  *n = 0;
  if (!json_is_array(arr)) {
    bad(r, "%s must be an array of [name, value] pairs", where);
    return -1;
  }
  json_array_foreach(arr, i, it)
  {
    char w[256];
    if (*n >= max) {
      bad(r, "%s: more than %zu pairs", where, max);
      return -1;
    }
    snprintf(w, sizeof w, "%s[%zu]", where, i);
    if (!json_is_array(it) || json_array_size(it) != 2) {
      bad(r, "%s must be a [name, value] pair", w);
      return -1;
    }
    if (!(out[*n].name = cstr_of(r, json_array_get(it, 0), w)) ||
        !(out[*n].value = cstr_of(r, json_array_get(it, 1), w)))
      return -1;
    (*n)++;
  }
  return 0;
}

/* ---- the webhook request ----------------------------------------------------
 */

struct fake_hook {
  const char *hname[HOOK_HEADERS_MAX], *hval[HOOK_HEADERS_MAX];
  size_t nh;
  struct wire_param query[LB_HOOK_PARAMS_MAX];
  size_t nq;
  struct wire_param params[LB_HOOK_PARAMS_MAX];
  size_t np;
};

/* Header names ignore case, as in HTTP. */
static const char *fake_header(void *ctx, const char *name)
{
  struct fake_hook *h = ctx;
  for (size_t i = 0; h && i < h->nh; i++)
    if (strcasecmp(h->hname[i], name) == 0)
      return h->hval[i];
  return NULL;
}

static const char *fake_query(void *ctx, const char *name)
{
  struct fake_hook *h = ctx;
  for (size_t i = 0; h && i < h->nq; i++)
    if (strcmp(h->query[i].name, name) == 0)
      return h->query[i].value;
  return NULL;
}

static int is_form(const char *ct)
{
  return wire_ctype_is(ct, "application/x-www-form-urlencoded");
}

/* A hook_request from input.request (see the README). */
static int hook_of(struct run *r, json_t *o, const char *where, long long now,
                   struct fake_hook *h, struct hook_request *req)
{
  static const char *const keys[] = {
      "method",  "path",      "query_string", "public_url",   "content_type",
      "headers", "query",     "params",       "params_file",  "params_replace",
      "body",    "body_file", "body_json",    "body_replace", NULL};
  const char *s;
  char w[256];
  char *body;
  size_t len;
  json_t *v;
  struct wire_param tmp[HOOK_HEADERS_MAX];
  size_t n;

  memset(h, 0, sizeof *h);
  memset(req, 0, sizeof *req);
  if (!only_keys(r, o, where, keys))
    return -1;
  req->method = "POST";
  if (get_str(r, o, "method", where, 0, &s) < 0)
    return -1;
  if (s)
    req->method = s;
  if (get_str(r, o, "path", where, 0, &req->path) != 1) {
    bad(r, "%s.path is required (a string)", where);
    return -1;
  }
  req->query_string = "";
  if (json_object_get(o, "query_string") &&
      get_str(r, o, "query_string", where, 1, &req->query_string) < 0)
    return -1;
  if (!json_object_get(o, "public_url")) {
    bad(r, "%s.public_url is required (a string, or null)", where);
    return -1;
  }
  if (get_str(r, o, "public_url", where, 1, &req->public_url) < 0 ||
      get_str(r, o, "content_type", where, 1, &req->content_type) < 0)
    return -1;

  if ((v = json_object_get(o, "headers"))) {
    snprintf(w, sizeof w, "%s.headers", where);
    if (pairs_of(r, v, w, tmp, HOOK_HEADERS_MAX, &n))
      return -1;
    for (size_t i = 0; i < n; i++) {
      h->hname[i] = tmp[i].name;
      h->hval[i] = tmp[i].value;
    }
    h->nh = n;
  }

  snprintf(w, sizeof w, "%s", where);
  if (body_of(r, o, w, &body, &len))
    return -1;

  /* The form fields: given, from a file, or decoded as the HTTP layer
   * does (a urlencoded POST body, else the query string). */
  if (json_object_get(o, "params") && json_object_get(o, "params_file")) {
    bad(r, "%s: give params or params_file, not both", where);
    return -1;
  }
  if ((v = json_object_get(o, "params"))) {
    snprintf(w, sizeof w, "%s.params", where);
    if (pairs_of(r, v, w, h->params, LB_HOOK_PARAMS_MAX, &h->np))
      return -1;
  } else if ((v = json_object_get(o, "params_file"))) {
    char *text;
    json_t *doc;
    json_error_t jerr;
    snprintf(w, sizeof w, "%s.params_file", where);
    if (!json_is_string(v)) {
      bad(r, "%s must be a string", w);
      return -1;
    }
    if (!(text = payload(r, json_string_value(v), w, &len)))
      return -1;
    doc = keep_doc(r, json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr));
    if (!doc) {
      bad(r, "%s: payloads/%s is not JSON: %s (line %d)", w,
          json_string_value(v), jerr.text, jerr.line);
      return -1;
    }
    if (pairs_of(r, doc, w, h->params, LB_HOOK_PARAMS_MAX, &h->np))
      return -1;
  } else if (strcmp(req->method, "POST") == 0 && is_form(req->content_type)) {
    snprintf(w, sizeof w, "%s.body", where);
    if (body && form_decode(r, body, strlen(body), w, h->params,
                            LB_HOOK_PARAMS_MAX, &h->np))
      return -1;
  } else if (req->query_string) {
    snprintf(w, sizeof w, "%s.query_string", where);
    if (form_decode(r, req->query_string, strlen(req->query_string), w,
                    h->params, LB_HOOK_PARAMS_MAX, &h->np))
      return -1;
  }
  if ((v = json_object_get(o, "params_replace"))) {
    struct wire_param rep[16];
    snprintf(w, sizeof w, "%s.params_replace", where);
    if (pairs_of(r, v, w, rep, 16, &n))
      return -1;
    for (size_t i = 0; i < n; i++) {
      size_t k;
      for (k = 0; k < h->np; k++)
        if (strcmp(h->params[k].name, rep[i].name) == 0)
          break;
      if (k == h->np) {
        bad(r, "%s: there is no field '%s' to replace", w, rep[i].name);
        return -1;
      }
      h->params[k].value = rep[i].value;
    }
  }
  /* Form fields without a body: the body is their urlencoding. */
  if (!body && h->np && is_form(req->content_type)) {
    struct buf fb;
    buf_init(&fb, LB_WIRE_BODY_MAX);
    for (size_t i = 0; i < h->np; i++)
      if (wire_form_add(&fb, h->params[i].name, h->params[i].value)) {
        buf_release(&fb);
        bad(r, "%s: cannot encode the form fields", where);
        return -1;
      }
    body = keep_copy(r, fb.data ? fb.data : "", fb.len);
    len = fb.len;
    buf_release(&fb);
    if (!body)
      return -1;
  }
  req->body = body ? body : "";
  req->body_len = body ? len : 0;

  /* Query lookups: given, else the query string's fields. */
  if ((v = json_object_get(o, "query"))) {
    snprintf(w, sizeof w, "%s.query", where);
    if (pairs_of(r, v, w, h->query, LB_HOOK_PARAMS_MAX, &h->nq))
      return -1;
  } else if (req->query_string) {
    snprintf(w, sizeof w, "%s.query_string", where);
    if (form_decode(r, req->query_string, strlen(req->query_string), w,
                    h->query, LB_HOOK_PARAMS_MAX, &h->nq))
      return -1;
  }

  req->header = fake_header;
  req->query = fake_query;
  req->ctx = h;
  req->now_s = now;
  req->params = h->params;
  req->n_params = h->np;
  return 0;
}

/* ---- the provider's HTTP answer -------------------------------------------
 */

static int response_of(struct run *r, json_t *o, const char *where,
                       struct wire_response *res)
{
  static const char *const keys[] = {
      "status",     "error",        "maybe_sent", "retry_after_s",
      "error_text", "content_type", "body",       "body_file",
      "body_json",  "body_replace", NULL};
  long long v = 0;
  int b = 0, rc;
  const char *s;
  char *body;
  size_t len;

  if (!only_keys(r, o, where, keys))
    return -1;
  if ((rc = get_int(r, o, "status", where, &v)) < 0)
    return -1;
  if (rc)
    res->status = (long)v;
  if (get_rc(r, o, "error", where, &res->error) < 0)
    return -1;
  if ((rc = get_bool(r, o, "maybe_sent", where, &b)) < 0)
    return -1;
  res->maybe_sent = b;
  if ((rc = get_int(r, o, "retry_after_s", where, &v)) < 0)
    return -1;
  if (rc)
    res->retry_after_s = (long)v;
  if (get_str(r, o, "error_text", where, 0, &s) < 0)
    return -1;
  if (s)
    snprintf(res->error_text, sizeof res->error_text, "%s", s);
  if (get_str(r, o, "content_type", where, 0, &s) < 0)
    return -1;
  if (s)
    snprintf(res->content_type, sizeof res->content_type, "%s", s);
  if (body_of(r, o, where, &body, &len))
    return -1;
  if (body && buf_append(&res->body, body, len)) {
    bad(r, "%s: the body is larger than a response may be", where);
    return -1;
  }
  return 0;
}

/* ---- checks
 * ------------------------------------------------------------------ */

static void want_str(struct run *r, const char *field, const char *got,
                     const char *want)
{
  char g[SHOWBUF], w[SHOWBUF];
  if (!got || !want ? got != want : strcmp(got, want) != 0)
    bad(r, "%s = '%s', want '%s'", field,
        show(got, got ? strlen(got) : 0, g, sizeof g),
        show(want, want ? strlen(want) : 0, w, sizeof w));
}

static void want_has(struct run *r, const char *field, const char *got,
                     const char *needle)
{
  char g[SHOWBUF], w[SHOWBUF];
  if (!got || !strstr(got, needle))
    bad(r, "%s = '%s' lacks '%s'", field,
        show(got, got ? strlen(got) : 0, g, sizeof g),
        show(needle, strlen(needle), w, sizeof w));
}

static void want_lacks(struct run *r, const char *field, const char *got,
                       const char *needle)
{
  char g[SHOWBUF], w[SHOWBUF];
  if (got && strstr(got, needle))
    bad(r, "%s = '%s' has '%s'", field, show(got, strlen(got), g, sizeof g),
        show(needle, strlen(needle), w, sizeof w));
}

static void want_int(struct run *r, const char *field, long long got,
                     long long want)
{
  if (got != want)
    bad(r, "%s = %lld, want %lld", field, got, want);
}

static void want_rc(struct run *r, const char *field, int got, int want)
{
  if (got != want)
    bad(r, "%s = %s, want %s", field, rc_name(got), rc_name(want));
}

/* A fixed-size string field must be NUL-terminated (the struct was filled
 * with garbage before the call). */
static int terminated(struct run *r, const char *field, const char *s,
                      size_t size)
{
  if (!memchr(s, '\0', size)) {
    bad(r, "%s is not NUL-terminated within its %zu bytes", field, size);
    return 0;
  }
  return 1;
}

/* A string expectation: "key": exact; "key_contains": a substring (or an
 * array of them); "key_lacks": an array of strings it must not contain. */
static void expect_text(struct run *r, json_t *exp, const char *key,
                        const char *got, const char *field)
{
  char k[64];
  json_t *v;
  size_t i;
  json_t *it;
  if ((v = json_object_get(exp, key))) {
    if (json_is_null(v))
      want_str(r, field, got, NULL);
    else if (json_is_string(v))
      want_str(r, field, got, json_string_value(v));
    else
      bad(r, "expect.%s must be a string", key);
  }
  snprintf(k, sizeof k, "%s_contains", key);
  if ((v = json_object_get(exp, k))) {
    if (json_is_string(v))
      want_has(r, field, got, json_string_value(v));
    else if (json_is_array(v)) {
      json_array_foreach(v, i, it)
      {
        if (json_is_string(it))
          want_has(r, field, got, json_string_value(it));
        else
          bad(r, "expect.%s[%zu] must be a string", k, i);
      }
    } else
      bad(r, "expect.%s must be a string or an array of strings", k);
  }
  snprintf(k, sizeof k, "%s_lacks", key);
  if ((v = json_object_get(exp, k))) {
    if (!json_is_array(v))
      bad(r, "expect.%s must be an array of strings", k);
    else
      json_array_foreach(v, i, it)
      {
        if (json_is_string(it))
          want_lacks(r, field, got, json_string_value(it));
        else
          bad(r, "expect.%s[%zu] must be a string", k, i);
      }
  }
}

static void dump_short(json_t *j, char *out, size_t n)
{
  char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  if (!s)
    snprintf(out, n, "%s", j ? "(unprintable)" : "(absent)");
  else
    show(s, strlen(s), out, n);
  free(s);
}

/* JSON equality, naming the first differing path of each branch; with
 * 'ordered', object keys must also come in the same order. */
static void json_diff(struct run *r, const char *path, json_t *got,
                      json_t *want, int ordered)
{
  char g[SHOWBUF], w[SHOWBUF], sub[512];
  if (json_is_object(got) && json_is_object(want)) {
    const char *k;
    json_t *v;
    json_object_foreach(want, k, v)
    {
      snprintf(sub, sizeof sub, "%s.%s", path, k);
      if (!json_object_get(got, k))
        bad(r, "%s is missing, want %s", sub, (dump_short(v, w, sizeof w), w));
      else
        json_diff(r, sub, json_object_get(got, k), v, ordered);
    }
    json_object_foreach(got, k, v)
    {
      if (!json_object_get(want, k))
        bad(r, "%s.%s = %s is not expected", path, k,
            (dump_short(v, g, sizeof g), g));
    }
    if (ordered && json_object_size(got) == json_object_size(want)) {
      void *gi = json_object_iter(got), *wi = json_object_iter(want);
      while (gi && wi) {
        if (strcmp(json_object_iter_key(gi), json_object_iter_key(wi)) != 0) {
          bad(r, "%s: key '%s' comes where '%s' should", path,
              json_object_iter_key(gi), json_object_iter_key(wi));
          break;
        }
        gi = json_object_iter_next(got, gi);
        wi = json_object_iter_next(want, wi);
      }
    }
    return;
  }
  if (json_is_array(got) && json_is_array(want)) {
    size_t n = json_array_size(got) < json_array_size(want)
                   ? json_array_size(got)
                   : json_array_size(want);
    if (json_array_size(got) != json_array_size(want))
      bad(r, "%s has %zu items, want %zu", path, json_array_size(got),
          json_array_size(want));
    for (size_t i = 0; i < n; i++) {
      snprintf(sub, sizeof sub, "%s[%zu]", path, i);
      json_diff(r, sub, json_array_get(got, i), json_array_get(want, i),
                ordered);
    }
    return;
  }
  if (!json_equal(got, want))
    bad(r, "%s = %s, want %s", path, (dump_short(got, g, sizeof g), g),
        (dump_short(want, w, sizeof w), w));
}

/* The value at "a.b[0].c" in j, or NULL. */
static json_t *json_at(json_t *j, const char *path)
{
  const char *p = path;
  while (j && *p) {
    if (*p == '[') {
      char *end;
      unsigned long i = strtoul(p + 1, &end, 10);
      if (*end != ']')
        return NULL;
      j = json_array_get(j, i);
      p = end + 1;
    } else {
      char key[256];
      size_t n = strcspn(p, ".[");
      if (n >= sizeof key)
        return NULL;
      memcpy(key, p, n);
      key[n] = '\0';
      j = json_object_get(j, key);
      p += n;
    }
    if (*p == '.')
      p++;
  }
  return j;
}

/* The Velocity templates messagemedia.h exports, by name. */
static const char *exported_symbol(const char *name)
{
  if (strcmp(name, "messagemedia_template_inbound") == 0)
    return messagemedia_template_inbound;
  if (strcmp(name, "messagemedia_template_opt_out") == 0)
    return messagemedia_template_opt_out;
  if (strcmp(name, "messagemedia_template_status") == 0)
    return messagemedia_template_status;
  return NULL;
}

/* expect.request.json_at: [{"path", "equals" | "prefix" | "min_bytes" |
 * "max_bytes" | "absent" | "empty_or_absent" | "base64_hex" |
 * "equals_symbol"}, ...] */
static void check_json_at(struct run *r, json_t *body, json_t *list,
                          const char *where)
{
  size_t i;
  json_t *it;
  if (!json_is_array(list)) {
    bad(r, "%s must be an array", where);
    return;
  }
  json_array_foreach(list, i, it)
  {
    static const char *const keys[] = {
        "path",   "equals",          "prefix",     "min_bytes",     "max_bytes",
        "absent", "empty_or_absent", "base64_hex", "equals_symbol", NULL};
    char w[256], field[512];
    const char *path, *s;
    json_t *got, *v;
    long long n;
    int flag;
    snprintf(w, sizeof w, "%s[%zu]", where, i);
    if (!only_keys(r, it, w, keys) ||
        get_str(r, it, "path", w, 0, &path) != 1) {
      bad(r, "%s.path is required", w);
      continue;
    }
    snprintf(field, sizeof field, "request.json.%s", path);
    got = json_at(body, path);
    if ((v = json_object_get(it, "equals")))
      json_diff(r, field, got, v, 0);
    if (get_str(r, it, "prefix", w, 0, &s) == 1) {
      if (!json_is_string(got) ||
          strncmp(json_string_value(got), s, strlen(s)) != 0) {
        char g[SHOWBUF];
        bad(r, "%s = %s does not start with '%s'", field,
            (dump_short(got, g, sizeof g), g), s);
      }
    }
    if (get_int(r, it, "min_bytes", w, &n) == 1 &&
        (!json_is_string(got) || (long long)json_string_length(got) < n))
      bad(r, "%s is %s, want at least %lld bytes", field,
          json_is_string(got) ? "shorter" : "not a string", n);
    if (get_int(r, it, "max_bytes", w, &n) == 1 &&
        (!json_is_string(got) || (long long)json_string_length(got) > n))
      bad(r, "%s is %s, want at most %lld bytes", field,
          json_is_string(got) ? "longer" : "not a string", n);
    if (get_bool(r, it, "absent", w, &flag) == 1 && flag && got)
      bad(r, "%s is present, want it absent", field);
    if (get_bool(r, it, "empty_or_absent", w, &flag) == 1 && flag && got &&
        !(json_is_array(got) && json_array_size(got) == 0))
      bad(r, "%s is neither absent nor []", field);
    if (get_str(r, it, "base64_hex", w, 0, &s) == 1) {
      struct buf want;
      unsigned char dec[4096];
      size_t dlen = 0;
      buf_init(&want, sizeof dec);
      if (hex_bytes(r, s, w, &want) == 0) {
        if (!json_is_string(got) ||
            sodium_base642bin(dec, sizeof dec, json_string_value(got),
                              json_string_length(got), NULL, &dlen, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
          bad(r, "%s is not base64", field);
        else if (dlen != want.len || memcmp(dec, want.data, dlen) != 0)
          bad(r, "%s decodes to %zu other bytes, want %zu: %s", field, dlen,
              want.len, s);
      }
      buf_release(&want);
    }
    if (get_str(r, it, "equals_symbol", w, 0, &s) == 1) {
      const char *sym = exported_symbol(s);
      if (!sym)
        bad(r, "%s.equals_symbol: '%s' is not an exported template", w, s);
      else if (!json_is_string(got) || strcmp(json_string_value(got), sym))
        bad(r, "%s differs from %s", field, s);
    }
  }
}

/* The built request against expect.request (see the README). */
static void check_request(struct run *r, const struct wire_request *req,
                          json_t *exp)
{
  static const char *const keys[] = {"method",         "url",
                                     "userpwd",        "headers",
                                     "headers_absent", "header_contains",
                                     "body",           "body_length",
                                     "body_contains",  "body_lacks",
                                     "form",           "form_fields",
                                     "json",           "json_ordered",
                                     "json_at",        NULL};
  const char *s;
  json_t *v, *it;
  size_t i;
  const char *body = req->body.data ? req->body.data : "";
  const char *names[LB_WIRE_HEADERS];
  const char *values[LB_WIRE_HEADERS];
  size_t nlen[LB_WIRE_HEADERS];
  int ordered = 0;

  if (!only_keys(r, exp, "expect.request", keys))
    return;
  if (get_str(r, exp, "method", "expect.request", 0, &s) == 1)
    want_str(r, "request.method", req->method, s);
  if (get_str(r, exp, "url", "expect.request", 0, &s) == 1)
    want_str(r, "request.url", req->url, s);
  if (get_str(r, exp, "userpwd", "expect.request", 0, &s) == 1)
    want_str(r, "request.userpwd", req->userpwd, s);

  /* Every header is "Name: value", each name once. */
  if (req->n_headers > LB_WIRE_HEADERS) {
    bad(r, "request.n_headers = %zu, more than %d", req->n_headers,
        LB_WIRE_HEADERS);
    return;
  }
  for (i = 0; i < req->n_headers; i++) {
    const char *h = req->headers[i], *sep;
    if (!memchr(h, '\0', LB_WIRE_HEADER_MAX) || !(sep = strstr(h, ": "))) {
      bad(r, "request.headers[%zu] is not 'Name: value'", i);
      return;
    }
    names[i] = h;
    nlen[i] = (size_t)(sep - h);
    values[i] = sep + 2;
    for (size_t k = 0; k < i; k++)
      if (nlen[k] == nlen[i] && strncasecmp(names[k], h, nlen[i]) == 0)
        bad(r, "request: header %.*s sent twice", (int)nlen[i], h);
  }
  if ((v = json_object_get(exp, "headers"))) {
    const char *k;
    json_t *hv;
    if (!json_is_object(v)) {
      bad(r, "expect.request.headers must be an object");
    } else {
      json_object_foreach(v, k, hv)
      {
        for (i = 0; i < req->n_headers; i++)
          if (strlen(k) == nlen[i] && strncasecmp(names[i], k, nlen[i]) == 0)
            break;
        if (i == req->n_headers)
          bad(r, "request.headers: '%s' was not sent", k);
        else if (!json_is_string(hv))
          bad(r, "expect.request.headers.%s must be a string", k);
        else {
          char f[300];
          snprintf(f, sizeof f, "request.headers.%s", k);
          want_str(r, f, values[i], json_string_value(hv));
        }
      }
      for (i = 0; i < req->n_headers; i++) {
        int found = 0;
        json_object_foreach(v, k, hv)
        {
          if (strlen(k) == nlen[i] && strncasecmp(names[i], k, nlen[i]) == 0)
            found = 1;
        }
        if (!found)
          bad(r, "request.headers: '%s' is not expected", names[i]);
      }
    }
  }
  if ((v = json_object_get(exp, "headers_absent"))) {
    json_array_foreach(v, i, it)
    {
      const char *k = json_string_value(it);
      if (!k) {
        bad(r, "expect.request.headers_absent[%zu] must be a string", i);
        continue;
      }
      for (size_t j = 0; j < req->n_headers; j++)
        if (strlen(k) == nlen[j] && strncasecmp(names[j], k, nlen[j]) == 0)
          bad(r, "request.headers: '%s' is sent, want it absent", k);
    }
  }
  if ((v = json_object_get(exp, "header_contains"))) {
    const char *k;
    json_t *hv;
    json_object_foreach(v, k, hv)
    {
      char f[300];
      const char *got = NULL;
      for (i = 0; i < req->n_headers; i++)
        if (strlen(k) == nlen[i] && strncasecmp(names[i], k, nlen[i]) == 0)
          got = values[i];
      snprintf(f, sizeof f, "request.headers.%s", k);
      if (!json_is_string(hv))
        bad(r, "expect.request.header_contains.%s must be a string", k);
      else if (!got)
        bad(r, "%s was not sent", f);
      else
        want_has(r, f, got, json_string_value(hv));
    }
  }

  if ((v = json_object_get(exp, "body"))) {
    size_t wl;
    char *want = text_of(r, v, "expect.request.body", &wl);
    char g[SHOWBUF], w[SHOWBUF];
    if (want && (wl != req->body.len || memcmp(body, want, wl) != 0))
      bad(r, "request.body = '%s', want '%s'",
          show(body, req->body.len, g, sizeof g), show(want, wl, w, sizeof w));
  }
  {
    long long n;
    if (get_int(r, exp, "body_length", "expect.request", &n) == 1)
      want_int(r, "request.body.len", (long long)req->body.len, n);
  }
  if ((v = json_object_get(exp, "body_contains")))
    json_array_foreach(v, i, it)
    {
      if (json_is_string(it))
        want_has(r, "request.body", body, json_string_value(it));
      else
        bad(r, "expect.request.body_contains[%zu] must be a string", i);
    }
  if ((v = json_object_get(exp, "body_lacks")))
    json_array_foreach(v, i, it)
    {
      if (json_is_string(it))
        want_lacks(r, "request.body", body, json_string_value(it));
      else
        bad(r, "expect.request.body_lacks[%zu] must be a string", i);
    }

  /* The body as a form: decoded field by field, in order. */
  if (json_object_get(exp, "form") || json_object_get(exp, "form_fields")) {
    struct wire_param got[LB_HOOK_PARAMS_MAX];
    size_t ng = 0;
    if (strchr(body, '+'))
      bad(r, "request.body has a literal '+' (ambiguous in a form): %s", body);
    if (form_decode(r, body, req->body.len, "request.body", got,
                    LB_HOOK_PARAMS_MAX, &ng) == 0) {
      if ((v = json_object_get(exp, "form"))) {
        struct wire_param want[LB_HOOK_PARAMS_MAX];
        size_t nw = 0;
        if (pairs_of(r, v, "expect.request.form", want, LB_HOOK_PARAMS_MAX,
                     &nw) == 0) {
          if (ng != nw)
            bad(r, "request.form has %zu fields, want %zu", ng, nw);
          for (i = 0; i < ng && i < nw; i++) {
            char f[300];
            snprintf(f, sizeof f, "request.form[%zu].name", i);
            want_str(r, f, got[i].name, want[i].name);
            snprintf(f, sizeof f, "request.form[%zu] (%s)", i, want[i].name);
            want_str(r, f, got[i].value, want[i].value);
          }
        }
      }
      if ((v = json_object_get(exp, "form_fields"))) {
        const char *k;
        json_t *fv;
        if (!json_is_object(v))
          bad(r, "expect.request.form_fields must be an object");
        else
          json_object_foreach(v, k, fv)
          {
            char f[300];
            const char *gv = NULL;
            for (i = 0; i < ng && !gv; i++)
              if (strcmp(got[i].name, k) == 0)
                gv = got[i].value;
            snprintf(f, sizeof f, "request.form.%s", k);
            if (json_is_null(fv))
              want_str(r, f, gv, NULL);
            else if (!json_is_string(fv))
              bad(r, "expect.request.form_fields.%s must be a string", k);
            else if (!gv)
              bad(r, "%s is missing", f);
            else
              want_str(r, f, gv, json_string_value(fv));
          }
      }
    }
  }

  /* The body as JSON. */
  if (get_bool(r, exp, "json_ordered", "expect.request", &ordered) < 0)
    return;
  if (json_object_get(exp, "json") || json_object_get(exp, "json_at")) {
    json_error_t jerr;
    json_t *got = json_loadb(body, req->body.len,
                             JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!got) {
      char g[SHOWBUF];
      bad(r, "request.body is not JSON (%s): %s", jerr.text,
          show(body, req->body.len, g, sizeof g));
      return;
    }
    if ((v = json_object_get(exp, "json")))
      json_diff(r, "request.json", got, v, ordered);
    if ((v = json_object_get(exp, "json_at")))
      check_json_at(r, got, v, "expect.request.json_at");
    json_decref(got);
  }
}

/* ---- the provider ---------------------------------------------------------
 */

static long long fixed_clock_s;

static int64_t fixed_clock(void)
{
  return fixed_clock_s;
}

struct setup {
  struct config cfg;
  struct provider p;
  int cfg_ok, p_ok;
  long long clock;
  int has_clock;
};

/* config_init, the case's settings (config_set), provider_init; 0 when the
 * operation should run (init returned LB_OK, as expected). */
static int setup_of(struct run *r, json_t *root, struct setup *s)
{
  json_t *settings = json_object_get(root, "settings"), *it;
  const char *provider = r->tc->dir;
  int want = LB_OK, rc;
  size_t i;

  memset(s, 0, sizeof *s);
  if (get_str(r, root, "provider", "case", 0, &provider) < 0 ||
      get_rc(r, root, "init", "case", &want) < 0)
    return -1;
  if (!provider)
    provider = r->tc->dir;
  if ((rc = get_int(r, root, "clock", "case", &s->clock)) < 0)
    return -1;
  s->has_clock = rc;
  if (config_init(&s->cfg) != LB_OK) {
    bad(r, "config_init failed");
    return -1;
  }
  s->cfg_ok = 1;
  if (settings && !json_is_array(settings)) {
    bad(r, "settings must be an array of [section, key, value]");
    return -1;
  }
  json_array_foreach(settings, i, it)
  {
    char w[64];
    const char *sec, *key, *val;
    snprintf(w, sizeof w, "settings[%zu]", i);
    if (!json_is_array(it) || json_array_size(it) != 3 ||
        !(sec = json_string_value(json_array_get(it, 0))) ||
        !(key = json_string_value(json_array_get(it, 1)))) {
      bad(r, "%s must be [section, key, value]", w);
      return -1;
    }
    if (!(val = cstr_of(r, json_array_get(it, 2), w)))
      return -1;
    if ((rc = config_set(&s->cfg, sec, key, val)) != LB_OK) {
      bad(r, "%s: config_set([%s] %s) = %s", w, sec, key, rc_name(rc));
      return -1;
    }
  }
  rc = provider_init(&s->p, provider, &s->cfg);
  s->p_ok = 1;
  if (rc != want) {
    bad(r, "provider_init(%s) = %s, want %s", provider, rc_name(rc),
        rc_name(want));
    return -1;
  }
  if (rc != LB_OK)
    return 1;
  if (s->has_clock && strcmp(s->p.ops->name, "messagemedia") == 0) {
    fixed_clock_s = s->clock;
    messagemedia_set_clock(&s->p, fixed_clock);
  }
  return 0;
}

static void setup_release(struct run *r, struct setup *s)
{
  if (s->p_ok) {
    provider_release(&s->p);
    if (s->p.priv)
      bad(r, "provider_release left priv set");
  }
  if (s->cfg_ok)
    config_release(&s->cfg);
}

/* ---- kinds ----------------------------------------------------------------
 */

static json_t *section(struct run *r, json_t *root, const char *name,
                       const char *const *keys)
{
  json_t *o = json_object_get(root, name);
  if (!o) {
    bad(r, "'%s' is required", name);
    return NULL;
  }
  if (!only_keys(r, o, name, keys))
    return NULL;
  return o;
}

/* registry: provider_find and provider_names. */
static void run_registry(struct run *r, json_t *root)
{
  json_t *in = section(r, root, "input", KEYS("lookups"));
  json_t *exp = section(r, root, "expect", KEYS("found", "names_contain"));
  json_t *lk, *found, *it;
  size_t i;
  if (!in || !exp)
    return;
  lk = json_object_get(in, "lookups");
  found = json_object_get(exp, "found");
  if (!json_is_array(lk) || !json_is_array(found) ||
      json_array_size(lk) != json_array_size(found)) {
    bad(r, "input.lookups and expect.found must be arrays of one length");
    return;
  }
  json_array_foreach(lk, i, it)
  {
    const struct provider_ops *ops;
    json_t *w = json_array_get(found, i);
    char f[300];
    if (!json_is_null(it) && !json_is_string(it)) {
      bad(r, "input.lookups[%zu] must be a string or null", i);
      continue;
    }
    ops = provider_find(json_string_value(it));
    snprintf(f, sizeof f, "provider_find(%s)->name",
             json_is_null(it) ? "NULL" : json_string_value(it));
    if (!json_is_null(w) && !json_is_string(w))
      bad(r, "expect.found[%zu] must be a string or null", i);
    else
      want_str(r, f, ops ? ops->name : NULL, json_string_value(w));
  }
  if ((it = json_object_get(exp, "names_contain"))) {
    json_t *n;
    json_array_foreach(it, i, n)
    {
      if (json_is_string(n))
        want_has(r, "provider_names()", provider_names(), json_string_value(n));
      else
        bad(r, "expect.names_contain[%zu] must be a string", i);
    }
  }
}

static void want_list(struct run *r, const char *field, const char *const *got,
                      json_t *want)
{
  size_t i;
  json_t *it;
  if (json_is_null(want)) {
    if (got)
      bad(r, "%s is a list, want NULL (the default)", field);
    return;
  }
  if (!json_is_array(want)) {
    bad(r, "expect.caps: %s must be an array or null", field);
    return;
  }
  if (!got) {
    bad(r, "%s is NULL, want a list", field);
    return;
  }
  json_array_foreach(want, i, it)
  {
    char f[128];
    snprintf(f, sizeof f, "%s[%zu]", field, i);
    if (!got[i]) {
      bad(r, "%s is the end of the list, want '%s'", f,
          json_string_value(it) ? json_string_value(it) : "?");
      return;
    }
    want_str(r, f, got[i], json_string_value(it));
  }
  if (got[i])
    bad(r, "%s[%zu] = '%s', want the end of the list", field, i, got[i]);
}

static void want_int_or_range(struct run *r, json_t *caps, const char *key,
                              long long got)
{
  json_t *v = json_object_get(caps, key);
  char f[64];
  snprintf(f, sizeof f, "caps.%s", key);
  if (!v)
    return;
  if (json_is_integer(v)) {
    want_int(r, f, got, json_integer_value(v));
  } else if (json_is_object(v) &&
             only_keys(r, v, "expect.caps", KEYS("min", "max"))) {
    long long lo, hi;
    if (get_int(r, v, "min", f, &lo) == 1 && got < lo)
      bad(r, "%s = %lld, want at least %lld", f, got, lo);
    if (get_int(r, v, "max", f, &hi) == 1 && got > hi)
      bad(r, "%s = %lld, want at most %lld", f, got, hi);
  } else
    bad(r, "expect.caps.%s must be an integer or {min, max}", key);
}

/* caps: what provider_init made of the settings. */
static void run_caps(struct run *r, json_t *root, struct setup *s)
{
  json_t *exp = section(
      r, root, "expect",
      KEYS("name", "title", "registered", "names_contain", "caps", "ops"));
  json_t *caps, *ops, *v;
  const struct provider_caps *c = &s->p.caps;
  const char *str;
  int b;
  if (!exp)
    return;
  if (get_str(r, exp, "name", "expect", 0, &str) == 1)
    want_str(r, "ops->name", s->p.ops->name, str);
  if (get_str(r, exp, "title", "expect", 0, &str) == 1)
    want_str(r, "ops->title", s->p.ops->title, str);
  if (get_bool(r, exp, "registered", "expect", &b) == 1 && b &&
      provider_find(s->p.ops->name) != s->p.ops)
    bad(r, "provider_find(\"%s\") is not the provider's ops", s->p.ops->name);
  if ((v = json_object_get(exp, "names_contain"))) {
    size_t i;
    json_t *it;
    json_array_foreach(v, i, it)
    {
      if (json_is_string(it))
        want_has(r, "provider_names()", provider_names(),
                 json_string_value(it));
    }
  }
  if ((caps = json_object_get(exp, "caps"))) {
    static const char *const keys[] = {
        "sms_out",          "sms_in",    "mms_out",     "mms_in",
        "mms_max_bytes",    "max_media", "subject_max", "dedupes_by_ref",
        "rate_per_s",       "mms_types", "media_hosts", "media_userpwd",
        "inbound_body_max", NULL};
    if (only_keys(r, caps, "expect.caps", keys)) {
      want_int_or_range(r, caps, "sms_out", c->sms_out);
      want_int_or_range(r, caps, "sms_in", c->sms_in);
      want_int_or_range(r, caps, "mms_out", c->mms_out);
      want_int_or_range(r, caps, "mms_in", c->mms_in);
      want_int_or_range(r, caps, "mms_max_bytes", c->mms_max_bytes);
      want_int_or_range(r, caps, "max_media", c->max_media);
      want_int_or_range(r, caps, "subject_max", c->subject_max);
      want_int_or_range(r, caps, "dedupes_by_ref", c->dedupes_by_ref);
      want_int_or_range(r, caps, "rate_per_s", c->rate_per_s);
      want_int_or_range(r, caps, "inbound_body_max",
                        (long long)c->inbound_body_max);
      if ((v = json_object_get(caps, "mms_types")))
        want_list(r, "caps.mms_types", c->mms_types, v);
      if ((v = json_object_get(caps, "media_hosts")))
        want_list(r, "caps.media_hosts", c->media_hosts, v);
      if ((v = json_object_get(caps, "media_userpwd")))
        want_str(r, "caps.media_userpwd", c->media_userpwd,
                 json_string_value(v));
    }
  }
  if ((ops = json_object_get(exp, "ops"))) {
    static const char *const keys[] = {"hook_reply_type",    "hook_reply_body",
                                       "build_check",        "parse_check",
                                       "build_setup",        "parse_setup",
                                       "build_media_delete", NULL};
    const struct provider_ops *o = s->p.ops;
    if (only_keys(r, ops, "expect.ops", keys)) {
      if ((v = json_object_get(ops, "hook_reply_type")))
        want_str(r, "ops->hook_reply_type", o->hook_reply_type,
                 json_string_value(v));
      if ((v = json_object_get(ops, "hook_reply_body")))
        want_str(r, "ops->hook_reply_body", o->hook_reply_body,
                 json_string_value(v));
#define OPT_OP(name)                                                           \
  if (get_bool(r, ops, #name, "expect.ops", &b) == 1 && b != !!o->name)        \
  bad(r, "ops->" #name " is %s, want %s", o->name ? "set" : "NULL",            \
      b ? "set" : "NULL")
      OPT_OP(build_check);
      OPT_OP(parse_check);
      OPT_OP(build_setup);
      OPT_OP(parse_setup);
      OPT_OP(build_media_delete);
#undef OPT_OP
    }
  }
}

/* send: build_send. */
struct built_message {
  struct message m;
  struct send_media media[LB_MEDIA_MAX + 2];
  size_t n_media;
  const char *status_url;
};

static int message_of(struct run *r, json_t *in, const char *prefix,
                      struct built_message *bm)
{
  json_t *mj = json_object_get(in, "message"), *media, *it;
  const char *s;
  long long n;
  size_t i;
  int rc;

  message_init(&bm->m);
  if (!only_keys(r, mj, "input.message",
                 KEYS("id", "from", "to", "text", "n_media")))
    return -1;
#define COPY_FIELD(field)                                                      \
  if (get_str(r, mj, #field, "input.message", 0, &s) < 0)                      \
    return -1;                                                                 \
  if (s && strlen(s) >= sizeof bm->m.field) {                                  \
    bad(r, "input.message." #field " is longer than %zu bytes",                \
        sizeof bm->m.field - 1);                                               \
    return -1;                                                                 \
  }                                                                            \
  snprintf(bm->m.field, sizeof bm->m.field, "%s", s ? s : "")
  COPY_FIELD(id);
  COPY_FIELD(from);
  COPY_FIELD(to);
#undef COPY_FIELD
  if (json_object_get(mj, "text") &&
      !json_is_null(json_object_get(mj, "text"))) {
    char *t = cstr_of(r, json_object_get(mj, "text"), "input.message.text");
    size_t pl = prefix ? strlen(prefix) : 0;
    if (!t)
      return -1;
    bm->m.text = malloc(pl + strlen(t) + 1);
    if (!bm->m.text) {
      bad(r, "out of memory");
      return -1;
    }
    memcpy(bm->m.text, prefix ? prefix : "", pl);
    strcpy(bm->m.text + pl, t);
  } else if (prefix) {
    bad(r, "input.each_prefix needs input.message.text");
    return -1;
  }

  bm->n_media = 0;
  if ((media = json_object_get(in, "media"))) {
    if (!json_is_array(media) || json_array_size(media) > NELEM(bm->media)) {
      bad(r, "input.media must be an array of at most %zu items",
          NELEM(bm->media));
      return -1;
    }
    json_array_foreach(media, i, it)
    {
      char w[64];
      struct send_media *sm = &bm->media[i];
      json_t *d;
      snprintf(w, sizeof w, "input.media[%zu]", i);
      if (!only_keys(
              r, it, w,
              KEYS("content_type", "url", "data_hex", "data_file", "len")))
        return -1;
      if (get_str(r, it, "content_type", w, 1, &sm->content_type) < 0 ||
          get_str(r, it, "url", w, 1, &sm->url) < 0)
        return -1;
      if (!!json_object_get(it, "data_hex") +
              !!json_object_get(it, "data_file") +
              !!json_object_get(it, "len") >
          1) {
        bad(r, "%s: give one of data_hex, data_file and len", w);
        return -1;
      }
      if ((d = json_object_get(it, "data_hex"))) {
        struct buf b;
        buf_init(&b, MEDIA_LEN_MAX);
        if (!json_is_string(d) ||
            hex_bytes(r, json_string_value(d), w, &b) != 0) {
          buf_release(&b);
          bad(r, "%s.data_hex must be hex bytes", w);
          return -1;
        }
        sm->data = (unsigned char *)keep_copy(r, b.data ? b.data : "", b.len);
        sm->len = b.len;
        buf_release(&b);
      } else if ((d = json_object_get(it, "data_file"))) {
        if (!json_is_string(d)) {
          bad(r, "%s.data_file must be a string", w);
          return -1;
        }
        sm->data =
            (unsigned char *)payload(r, json_string_value(d), w, &sm->len);
      } else if ((rc = get_int(r, it, "len", w, &n)) != 0) {
        /* Only the size matters: zero bytes of that length. */
        if (rc < 0 || n < 0 || (unsigned long long)n > MEDIA_LEN_MAX) {
          bad(r, "%s.len must be 0..%u", w, MEDIA_LEN_MAX);
          return -1;
        }
        sm->data = keep(r, calloc(1, (size_t)n + 1));
        sm->len = (size_t)n;
      }
      if ((json_object_get(it, "data_hex") ||
           json_object_get(it, "data_file") || json_object_get(it, "len")) &&
          !sm->data)
        return -1;
      bm->n_media++;
    }
  }
  bm->m.n_media = bm->n_media;
  if ((rc = get_int(r, mj, "n_media", "input.message", &n)) < 0)
    return -1;
  if (rc) {
    if (n < 0 || n > LB_MEDIA_MAX) {
      bad(r, "input.message.n_media must be 0..%d", LB_MEDIA_MAX);
      return -1;
    }
    bm->m.n_media = (size_t)n;
  }
  bm->status_url = NULL;
  if (get_str(r, in, "status_url", "input", 1, &bm->status_url) < 0)
    return -1;
  return 0;
}

static void run_send_one(struct run *r, json_t *in, json_t *exp,
                         struct setup *s, const char *prefix)
{
  struct built_message bm;
  struct send_input si;
  struct wire_request req;
  int want = LB_OK, rc;
  json_t *reqexp = json_object_get(exp, "request");

  memset(&bm, 0, sizeof bm);
  if (message_of(r, in, prefix, &bm)) {
    message_release(&bm.m);
    return;
  }
  if (get_rc(r, exp, "rc", "expect", &want) != 1) {
    bad(r, "expect.rc is required");
    message_release(&bm.m);
    return;
  }
  si.msg = &bm.m;
  si.media = bm.n_media ? bm.media : NULL;
  si.n_media = bm.n_media;
  si.status_url = bm.status_url;
  wire_request_init(&req);
  rc = s->p.ops->build_send(&s->p, &si, &req);
  want_rc(r, "build_send", rc, want);
  if (rc == LB_OK && reqexp)
    check_request(r, &req, reqexp);
  if (want != LB_OK && reqexp)
    bad(r, "expect.request is for an LB_OK case");
  wire_request_release(&req);
  message_release(&bm.m);
}

static void run_send(struct run *r, json_t *root, struct setup *s)
{
  json_t *in = section(r, root, "input",
                       KEYS("message", "media", "status_url", "each_prefix"));
  json_t *exp = section(r, root, "expect", KEYS("rc", "request"));
  json_t *each, *it;
  size_t i;
  if (!in || !exp)
    return;
  if (!json_object_get(in, "message")) {
    bad(r, "input.message is required");
    return;
  }
  if (!(each = json_object_get(in, "each_prefix"))) {
    run_send_one(r, in, exp, s, NULL);
    return;
  }
  if (!json_is_array(each) || !json_array_size(each)) {
    bad(r, "input.each_prefix must be a non-empty array of texts");
    return;
  }
  /* The same expectation for the text after each prefix. */
  json_array_foreach(each, i, it)
  {
    char w[64], sh[SHOWBUF];
    char *p;
    int before = r->nerr;
    snprintf(w, sizeof w, "input.each_prefix[%zu]", i);
    if (!(p = cstr_of(r, it, w)))
      return;
    run_send_one(r, in, exp, s, p);
    if (r->nerr > before)
      note(r, "  (those for %s = '%s')", w, show(p, strlen(p), sh, sizeof sh));
  }
}

/* send_response: parse_send. */
static void run_send_response(struct run *r, json_t *root, struct setup *s)
{
  json_t *in = section(r, root, "input", KEYS("response"));
  json_t *exp = section(r, root, "expect",
                        KEYS("rc", "outcome", "provider_msg_id", "error_code",
                             "error_text", "error_text_contains", "recipient",
                             "retry_after_ms"));
  struct wire_response res;
  struct send_result out;
  int want = LB_OK, outcome, recipient, rc;
  long long retry;
  const char *str;
  if (!in || !exp)
    return;
  if (!json_object_get(in, "response")) {
    bad(r, "input.response is required");
    return;
  }
  if (get_enum(r, exp, "outcome", "expect", send_outcomes, NELEM(send_outcomes),
               &outcome) != 1 ||
      get_enum(r, exp, "recipient", "expect", recipients, NELEM(recipients),
               &recipient) != 1 ||
      get_int(r, exp, "retry_after_ms", "expect", &retry) != 1 ||
      !json_is_string(json_object_get(exp, "provider_msg_id")) ||
      !json_is_string(json_object_get(exp, "error_code")) ||
      get_rc(r, exp, "rc", "expect", &want) < 0) {
    bad(r, "expect needs outcome, provider_msg_id, error_code, recipient "
           "and retry_after_ms");
    return;
  }
  wire_response_init(&res);
  if (response_of(r, json_object_get(in, "response"), "input.response", &res) ==
      0) {
    memset(&out, 0x5a, sizeof out); /* garbage in: all of it must be set */
    rc = s->p.ops->parse_send(&s->p, &res, &out);
    want_rc(r, "parse_send", rc, want);
    if (terminated(r, "provider_msg_id", out.provider_msg_id,
                   sizeof out.provider_msg_id) &&
        terminated(r, "error_code", out.error_code, sizeof out.error_code) &&
        terminated(r, "error_text", out.error_text, sizeof out.error_text)) {
      if (out.outcome != (enum send_outcome)outcome)
        bad(r, "outcome = %s, want %s",
            enum_name(send_outcomes, NELEM(send_outcomes), out.outcome),
            send_outcomes[outcome]);
      get_str(r, exp, "provider_msg_id", "expect", 0, &str);
      want_str(r, "provider_msg_id", out.provider_msg_id, str);
      get_str(r, exp, "error_code", "expect", 0, &str);
      want_str(r, "error_code", out.error_code, str);
      expect_text(r, exp, "error_text", out.error_text, "error_text");
      if (out.recipient != (enum send_recipient)recipient)
        bad(r, "recipient = %s, want %s",
            enum_name(recipients, NELEM(recipients), out.recipient),
            recipients[recipient]);
      want_int(r, "retry_after_ms", out.retry_after_ms, retry);
      /* For staff to read: always words, on one line. */
      if (out.outcome != SEND_ACCEPTED && !out.error_text[0])
        bad(r, "error_text is empty: no reason for staff to read");
      if (strchr(out.error_text, '\n') || strchr(out.error_text, '\r'))
        bad(r, "error_text has a line break");
    }
  }
  wire_response_release(&res);
}

/* verify: verify_hook. */
static void run_verify(struct run *r, json_t *root, struct setup *s)
{
  json_t *in = section(r, root, "input", KEYS("request"));
  json_t *exp = section(r, root, "expect", KEYS("rc"));
  struct fake_hook *h;
  struct hook_request req;
  int want;
  if (!in || !exp)
    return;
  if (!s->has_clock || get_rc(r, exp, "rc", "expect", &want) != 1) {
    bad(r, "a verify case needs 'clock' and expect.rc");
    return;
  }
  if (!(h = keep(r, calloc(1, sizeof *h))))
    return;
  if (hook_of(r, json_object_get(in, "request"), "input.request", s->clock, h,
              &req) == 0)
    want_rc(r, "verify_hook", s->p.ops->verify_hook(&s->p, &req), want);
}

/* The bytes an expected media item holds: data_hex, data_file or
 * data_pattern {"len", "mul", "add"} (byte i is (i * mul + add) % 256). */
static unsigned char *media_bytes(struct run *r, json_t *it, const char *w,
                                  size_t *len, int *given)
{
  json_t *d;
  *given = 1;
  if ((d = json_object_get(it, "data_hex"))) {
    struct buf b;
    unsigned char *out;
    buf_init(&b, MEDIA_LEN_MAX);
    if (!json_is_string(d) || hex_bytes(r, json_string_value(d), w, &b)) {
      buf_release(&b);
      bad(r, "%s.data_hex must be hex bytes", w);
      return NULL;
    }
    out = (unsigned char *)keep_copy(r, b.data ? b.data : "", b.len);
    *len = b.len;
    buf_release(&b);
    return out;
  }
  if ((d = json_object_get(it, "data_file"))) {
    if (!json_is_string(d)) {
      bad(r, "%s.data_file must be a string", w);
      return NULL;
    }
    return (unsigned char *)payload(r, json_string_value(d), w, len);
  }
  if ((d = json_object_get(it, "data_pattern"))) {
    long long n, mul, add;
    unsigned char *out;
    if (!only_keys(r, d, w, KEYS("len", "mul", "add")) ||
        get_int(r, d, "len", w, &n) != 1 ||
        get_int(r, d, "mul", w, &mul) != 1 ||
        get_int(r, d, "add", w, &add) != 1 || n < 0 ||
        (unsigned long long)n > MEDIA_LEN_MAX) {
      bad(r, "%s.data_pattern must be {len, mul, add}", w);
      return NULL;
    }
    if (!(out = keep(r, malloc((size_t)n + 1))))
      return NULL;
    for (long long i = 0; i < n; i++)
      out[i] = (unsigned char)((i * mul + add) % 256);
    *len = (size_t)n;
    return out;
  }
  *given = 0;
  return NULL;
}

static void check_inbound(struct run *r, json_t *exp, int rc, const char *why,
                          const struct inbound_msg *m, const char *label);

static int parse_inbound_of(struct run *r, struct setup *s, json_t *reqj,
                            const char *where, struct inbound_msg *m, char *why)
{
  struct fake_hook *h = keep(r, calloc(1, sizeof *h));
  struct hook_request req;
  if (!h || hook_of(r, reqj, where, s->clock, h, &req))
    return -1;
  inbound_msg_init(m);
  memset(why, 0, WHY_SIZE);
  return s->p.ops->parse_inbound(&s->p, &req, m, why, WHY_SIZE);
}

static const char *const inbound_keys[] = {"rc",
                                           "why",
                                           "why_contains",
                                           "why_lacks",
                                           "provider_msg_id",
                                           "provider_msg_id_digest",
                                           "provider_msg_id_lacks",
                                           "from",
                                           "to",
                                           "text",
                                           "opt_out",
                                           "n_media",
                                           "media",
                                           NULL};

static void check_inbound(struct run *r, json_t *exp, int rc, const char *why,
                          const struct inbound_msg *m, const char *label)
{
  int want = LB_OK;
  long long n;
  json_t *v;
  const char *str;
  char f[128];

  if (get_rc(r, exp, "rc", label, &want) != 1) {
    bad(r, "%s.rc is required", label);
    return;
  }
  want_rc(r, "parse_inbound", rc, want);
  if (!memchr(why, '\0', WHY_SIZE)) {
    bad(r, "why is not NUL-terminated");
    return;
  }
  expect_text(r, exp, "why", why, "why");
  if (rc != LB_OK) {
    if (!why[0])
      bad(r, "refused without a reason (why is empty)");
    return;
  }
  if (!terminated(r, "provider_msg_id", m->provider_msg_id,
                  sizeof m->provider_msg_id) ||
      !terminated(r, "from", m->from, sizeof m->from) ||
      !terminated(r, "to", m->to, sizeof m->to))
    return;
  expect_text(r, exp, "provider_msg_id", m->provider_msg_id, "provider_msg_id");
  if (get_str(r, exp, "provider_msg_id_digest", label, 0, &str) == 1) {
    /* <prefix> and 64 lower-case hex digits. */
    size_t pl = strlen(str);
    const char *id = m->provider_msg_id;
    if (strncmp(id, str, pl) != 0 || strlen(id) != pl + 64 ||
        strspn(id + pl, "0123456789abcdef") != 64)
      bad(r, "provider_msg_id = '%s', want '%s' and 64 hex digits", id, str);
  }
  if (get_str(r, exp, "from", label, 0, &str) == 1)
    want_str(r, "from", m->from, str);
  if (get_str(r, exp, "to", label, 0, &str) == 1)
    want_str(r, "to", m->to, str);
  if (!m->text)
    bad(r, "text is NULL (want \"\" at least)");
  else
    expect_text(r, exp, "text", m->text, "text");
  if (get_int(r, exp, "opt_out", label, &n) == 1)
    want_int(r, "opt_out", m->opt_out, n);
  if (m->n_media > LB_MEDIA_MAX) {
    bad(r, "n_media = %zu, more than %d", m->n_media, LB_MEDIA_MAX);
    return;
  }
  if (get_int(r, exp, "n_media", label, &n) == 1)
    want_int(r, "n_media", (long long)m->n_media, n);
  if ((v = json_object_get(exp, "media"))) {
    size_t i;
    json_t *it;
    if (!json_is_array(v)) {
      bad(r, "%s.media must be an array", label);
      return;
    }
    if (json_array_size(v) != m->n_media)
      bad(r, "n_media = %zu, want %zu (the media listed)", m->n_media,
          json_array_size(v));
    json_array_foreach(v, i, it)
    {
      const struct inbound_media *im = &m->media[i];
      char w[64];
      unsigned char *bytes;
      size_t blen = 0;
      int given;
      json_t *u;
      if (i >= m->n_media)
        break;
      snprintf(w, sizeof w, "%s.media[%zu]", label, i);
      if (!only_keys(r, it, w,
                     KEYS("content_type", "url", "data_hex", "data_file",
                          "data_pattern")))
        continue;
      snprintf(f, sizeof f, "media[%zu].content_type", i);
      if (!terminated(r, f, im->content_type, sizeof im->content_type))
        continue;
      if (get_str(r, it, "content_type", w, 0, &str) == 1)
        want_str(r, f, im->content_type, str);
      if ((u = json_object_get(it, "url"))) {
        /* A link: a URL and no bytes; null: no URL. */
        snprintf(f, sizeof f, "media[%zu].url", i);
        want_str(r, f, im->url, json_string_value(u));
        if (!json_is_null(u) && im->data)
          bad(r, "media[%zu].data is set, want none (a link)", i);
      }
      bytes = media_bytes(r, it, w, &blen, &given);
      if (given && bytes) {
        if (!im->data)
          bad(r, "media[%zu].data is NULL, want %zu bytes", i, blen);
        else if (im->len != blen)
          bad(r, "media[%zu].len = %zu, want %zu", i, im->len, blen);
        else if (memcmp(im->data, bytes, blen) != 0) {
          size_t k = 0;
          while (im->data[k] == bytes[k])
            k++;
          bad(r, "media[%zu].data differs from byte %zu", i, k);
        }
      }
    }
  }
}

/* inbound: parse_inbound (and, with "compare", a second webhook whose id
 * must be the same or another). */
static void run_inbound(struct run *r, json_t *root, struct setup *s)
{
  json_t *in = section(r, root, "input", KEYS("request"));
  json_t *exp = json_object_get(root, "expect"), *cmp, *it;
  struct inbound_msg m;
  char *why;
  int rc;
  size_t i;
  static const char *const exp_keys[] = {"rc",
                                         "why",
                                         "why_contains",
                                         "why_lacks",
                                         "provider_msg_id",
                                         "provider_msg_id_digest",
                                         "provider_msg_id_lacks",
                                         "from",
                                         "to",
                                         "text",
                                         "opt_out",
                                         "n_media",
                                         "media",
                                         "compare",
                                         NULL};
  if (!in || !exp || !only_keys(r, exp, "expect", exp_keys))
    return;
  if (!s->has_clock) {
    bad(r, "an inbound case needs 'clock'");
    return;
  }
  if (!(why = keep(r, malloc(WHY_SIZE))))
    return;
  rc = parse_inbound_of(r, s, json_object_get(in, "request"), "input.request",
                        &m, why);
  if (rc < 0)
    return;
  check_inbound(r, exp, rc, why, &m, "expect");

  cmp = json_object_get(exp, "compare");
  if (cmp && !json_is_array(cmp))
    bad(r, "expect.compare must be an array");
  json_array_foreach(cmp, i, it)
  {
    char w[64], le[128];
    struct inbound_msg m2;
    char *why2 = keep(r, malloc(WHY_SIZE));
    json_t *e2;
    int same, before = r->nerr, rc2;
    inbound_msg_init(&m2);
    snprintf(w, sizeof w, "expect.compare[%zu]", i);
    snprintf(le, sizeof le, "%s.expect", w);
    if (!why2 || !only_keys(r, it, w, KEYS("request", "expect", "same_id")) ||
        get_bool(r, it, "same_id", w, &same) != 1) {
      bad(r, "%s needs request, expect and same_id", w);
      break;
    }
    e2 = json_object_get(it, "expect");
    if (!only_keys(r, e2, le, inbound_keys))
      break;
    snprintf(le, sizeof le, "%s.request", w);
    rc2 = parse_inbound_of(r, s, json_object_get(it, "request"), le, &m2, why2);
    if (rc2 >= 0) {
      snprintf(le, sizeof le, "%s.expect", w);
      check_inbound(r, e2, rc2, why2, &m2, le);
      if (rc == LB_OK && rc2 == LB_OK &&
          (strcmp(m.provider_msg_id, m2.provider_msg_id) == 0) != same)
        bad(r, "%s: provider_msg_id '%s' is %s the first's '%s'", w,
            m2.provider_msg_id, same ? "not" : "the same as",
            m.provider_msg_id);
    }
    inbound_msg_release(&m2);
    if (r->nerr > before)
      note(r, "  (those for %s)", w);
  }
  inbound_msg_release(&m); /* frees whatever was half-parsed, too */
  if (m.text || m.n_media)
    bad(r, "inbound_msg_release left text or media");
}

/* status: parse_status. */
static void run_status(struct run *r, json_t *root, struct setup *s)
{
  json_t *in = section(r, root, "input", KEYS("request"));
  json_t *exp = section(r, root, "expect",
                        KEYS("rc", "why", "why_contains", "why_lacks",
                             "provider_msg_id", "ref", "status", "error_code",
                             "error_text", "error_text_contains"));
  struct fake_hook *h;
  struct hook_request req;
  struct status_update u;
  char why[WHY_SIZE];
  int want, rc, st;
  const char *str;
  if (!in || !exp)
    return;
  if (!s->has_clock || get_rc(r, exp, "rc", "expect", &want) != 1) {
    bad(r, "a status case needs 'clock' and expect.rc");
    return;
  }
  if (!(h = keep(r, calloc(1, sizeof *h))) ||
      hook_of(r, json_object_get(in, "request"), "input.request", s->clock, h,
              &req))
    return;
  memset(&u, 0x5a, sizeof u);
  u.status = ST__COUNT;
  memset(why, 0, sizeof why);
  rc = s->p.ops->parse_status(&s->p, &req, &u, why, sizeof why);
  want_rc(r, "parse_status", rc, want);
  if (!memchr(why, '\0', sizeof why)) {
    bad(r, "why is not NUL-terminated");
    return;
  }
  expect_text(r, exp, "why", why, "why");
  if (rc != LB_OK) {
    if (!why[0])
      bad(r, "refused without a reason (why is empty)");
    return;
  }
  if (!terminated(r, "provider_msg_id", u.provider_msg_id,
                  sizeof u.provider_msg_id) ||
      !terminated(r, "ref", u.ref, sizeof u.ref) ||
      !terminated(r, "error_code", u.error_code, sizeof u.error_code) ||
      !terminated(r, "error_text", u.error_text, sizeof u.error_text))
    return;
  if (get_str(r, exp, "provider_msg_id", "expect", 0, &str) == 1)
    want_str(r, "provider_msg_id", u.provider_msg_id, str);
  if (get_str(r, exp, "ref", "expect", 0, &str) == 1)
    want_str(r, "ref", u.ref, str);
  if (get_enum(r, exp, "status", "expect", statuses, NELEM(statuses), &st) ==
          1 &&
      u.status != (enum msg_status)st)
    bad(r, "status = %s, want %s",
        enum_name(statuses, NELEM(statuses), u.status), statuses[st]);
  if (get_str(r, exp, "error_code", "expect", 0, &str) == 1)
    want_str(r, "error_code", u.error_code, str);
  expect_text(r, exp, "error_text", u.error_text, "error_text");
}

/* check, setup, media_delete: a request built from no message. */
static void run_build(struct run *r, json_t *root, struct setup *s,
                      const char *kind)
{
  json_t *in = json_object_get(root, "input");
  json_t *exp = section(r, root, "expect", KEYS("rc", "request"));
  struct wire_request req;
  int want, rc = LB_OK;
  long long n = 0;
  const char *str = NULL;
  if (!exp)
    return;
  if (get_rc(r, exp, "rc", "expect", &want) != 1) {
    bad(r, "expect.rc is required");
    return;
  }
  wire_request_init(&req);
  if (strcmp(kind, "check") == 0) {
    if (in)
      bad(r, "a check case has no input");
    else if (!s->p.ops->build_check)
      bad(r, "the provider has no build_check");
    else
      rc = s->p.ops->build_check(&s->p, &req);
  } else if (strcmp(kind, "setup") == 0) {
    if (!in || !only_keys(r, in, "input", KEYS("n", "base")) ||
        get_int(r, in, "n", "input", &n) != 1 ||
        get_str(r, in, "base", "input", 0, &str) != 1)
      bad(r, "a setup case needs input.n and input.base");
    else if (!s->p.ops->build_setup)
      bad(r, "the provider has no build_setup");
    else
      rc = s->p.ops->build_setup(&s->p, (int)n, str, &req);
  } else {
    if (!in || !only_keys(r, in, "input", KEYS("url")) ||
        get_str(r, in, "url", "input", 0, &str) != 1)
      bad(r, "a media_delete case needs input.url");
    else if (!s->p.ops->build_media_delete)
      bad(r, "the provider has no build_media_delete");
    else
      rc = s->p.ops->build_media_delete(&s->p, str, &req);
  }
  if (!r->nerr) {
    want_rc(r, kind, rc, want);
    if (rc == LB_OK && json_object_get(exp, "request"))
      check_request(r, &req, json_object_get(exp, "request"));
  }
  wire_request_release(&req);
}

/* check_response, setup_response: the operator's words about an answer. */
static void run_words(struct run *r, json_t *root, struct setup *s, int setup)
{
  json_t *in = section(r, root, "input",
                       setup ? KEYS("n", "response") : KEYS("response"));
  json_t *exp = section(r, root, "expect",
                        KEYS("rc", "out", "out_contains", "out_lacks"));
  struct wire_response res;
  char out[OUT_SIZE];
  long long n = 0;
  int want, rc;
  if (!in || !exp)
    return;
  if (get_rc(r, exp, "rc", "expect", &want) != 1 ||
      !json_object_get(in, "response") ||
      (setup && get_int(r, in, "n", "input", &n) != 1)) {
    bad(r, "the case needs input.response%s and expect.rc",
        setup ? ", input.n" : "");
    return;
  }
  if (setup ? !s->p.ops->parse_setup : !s->p.ops->parse_check) {
    bad(r, "the provider has no %s", setup ? "parse_setup" : "parse_check");
    return;
  }
  wire_response_init(&res);
  if (response_of(r, json_object_get(in, "response"), "input.response", &res) ==
      0) {
    memset(out, 'x', sizeof out);
    out[sizeof out - 1] = '\0';
    rc = setup ? s->p.ops->parse_setup(&s->p, (int)n, &res, out, sizeof out)
               : s->p.ops->parse_check(&s->p, &res, out, sizeof out);
    want_rc(r, setup ? "parse_setup" : "parse_check", rc, want);
    expect_text(r, exp, "out", out, "out");
  }
  wire_response_release(&res);
}

/* ---- named checks over published vectors ----------------------------------
 */

/* twilio_signature_vectors: Twilio's published request-validator vectors
 * through twilio_signature(), and each published string to sign through
 * HMAC-SHA1 and base64 alone. */
static void run_twilio_vectors(struct run *r, json_t *root)
{
  const char *token;
  json_t *vecs = json_object_get(root, "vectors"), *v;
  size_t i;
  if (!only_keys(r, root, "case",
                 KEYS("kind", "description", "source", "token", "vectors")) ||
      get_str(r, root, "token", "case", 0, &token) != 1 ||
      !json_is_array(vecs) || !json_array_size(vecs)) {
    bad(r, "the case needs token and vectors");
    return;
  }
  json_array_foreach(vecs, i, v)
  {
    char w[64], f[160];
    const char *name, *url, *sig, *sts, *body, *sha;
    struct wire_param params[16];
    size_t n;
    char got[TWILIO_SIGNATURE_SIZE];
    int rc;
    snprintf(w, sizeof w, "vectors[%zu]", i);
    if (!only_keys(r, v, w,
                   KEYS("name", "url", "params", "string_to_sign", "signature",
                        "body", "body_sha256")) ||
        get_str(r, v, "name", w, 0, &name) != 1 ||
        get_str(r, v, "url", w, 0, &url) != 1 ||
        get_str(r, v, "signature", w, 0, &sig) != 1 ||
        get_str(r, v, "string_to_sign", w, 0, &sts) < 0 ||
        get_str(r, v, "body", w, 0, &body) < 0 ||
        get_str(r, v, "body_sha256", w, 0, &sha) < 0 ||
        pairs_of(r, json_object_get(v, "params"), w, params, 16, &n)) {
      bad(r, "%s needs name, url, params and signature", w);
      continue;
    }
    snprintf(f, sizeof f, "%s (%s): twilio_signature", w, name);
    rc = twilio_signature(token, url, params, n, got);
    want_rc(r, f, rc, LB_OK);
    if (rc == LB_OK)
      want_str(r, f, got, sig);
    if (sts) {
      unsigned char mac[LB_SHA1_LEN];
      char b64[TWILIO_SIGNATURE_SIZE];
      snprintf(f, sizeof f, "%s (%s): base64(HMAC-SHA1(string_to_sign))", w,
               name);
      if (crypto_hmac_sha1(token, strlen(token), sts, strlen(sts), mac)) {
        bad(r, "%s failed", f);
      } else {
        sodium_bin2base64(b64, sizeof b64, mac, sizeof mac,
                          sodium_base64_VARIANT_ORIGINAL);
        want_str(r, f, b64, sig);
      }
    }
    if (body) {
      char hex[LB_SHA256_HEX];
      crypto_sha256_hex(body, strlen(body), hex);
      snprintf(f, sizeof f, "%s (%s): sha256(body)", w, name);
      want_str(r, f, hex, sha ? sha : "(body_sha256 missing)");
      snprintf(f, sizeof f, "%s (%s): url", w, name);
      want_has(r, f, url, hex);
    }
  }
}

/* messagemedia_hmac_vectors: the published HMAC vectors through
 * messagemedia_http_date() and messagemedia_hmac(), and the Basic
 * credentials for the same key. */
static void run_mm_vectors(struct run *r, json_t *root)
{
  const char *key, *secret, *date, *basic;
  long long unix_s;
  json_t *cases = json_object_get(root, "cases"), *c;
  char got[MM_DATE_SIZE], userpwd[256], b64[400];
  size_t i;
  if (!only_keys(r, root, "case",
                 KEYS("kind", "description", "source", "api_key", "api_secret",
                      "date", "unix_s", "basic", "cases")) ||
      get_str(r, root, "api_key", "case", 0, &key) != 1 ||
      get_str(r, root, "api_secret", "case", 0, &secret) != 1 ||
      get_str(r, root, "date", "case", 0, &date) != 1 ||
      get_str(r, root, "basic", "case", 0, &basic) != 1 ||
      get_int(r, root, "unix_s", "case", &unix_s) != 1 ||
      !json_is_array(cases) || !json_array_size(cases)) {
    bad(r, "the case needs api_key, api_secret, date, unix_s, basic and "
           "cases");
    return;
  }
  want_rc(r, "messagemedia_http_date(unix_s)",
          messagemedia_http_date(unix_s, got), LB_OK);
  want_str(r, "messagemedia_http_date(unix_s)", got, date);
  json_array_foreach(cases, i, c)
  {
    char w[64], f[200], md5[MM_MD5_HEX], auth[512];
    const char *method, *path, *body, *wmd5, *wauth;
    snprintf(w, sizeof w, "cases[%zu]", i);
    if (!only_keys(r, c, w,
                   KEYS("method", "path", "body", "md5", "authorization")) ||
        get_str(r, c, "method", w, 0, &method) != 1 ||
        get_str(r, c, "path", w, 0, &path) != 1 ||
        get_str(r, c, "body", w, 0, &body) != 1 ||
        get_str(r, c, "md5", w, 0, &wmd5) != 1 ||
        get_str(r, c, "authorization", w, 0, &wauth) != 1) {
      bad(r, "%s needs method, path, body, md5 and authorization", w);
      continue;
    }
    snprintf(f, sizeof f, "%s (%s %s)", w, method, path);
    md5[0] = '\0';
    want_rc(r, f,
            messagemedia_hmac(key, secret, date, method, path, body,
                              strlen(body), md5, auth, sizeof auth),
            LB_OK);
    snprintf(f, sizeof f, "%s (%s %s): x-Content-MD5", w, method, path);
    want_str(r, f, md5, wmd5);
    snprintf(f, sizeof f, "%s (%s %s): Authorization", w, method, path);
    want_str(r, f, auth, wauth);
  }
  snprintf(userpwd, sizeof userpwd, "%s:%s", key, secret);
  sodium_bin2base64(b64, sizeof b64, (const unsigned char *)userpwd,
                    strlen(userpwd), sodium_base64_VARIANT_ORIGINAL);
  if (strncmp(basic, "Basic ", 6) != 0)
    bad(r, "basic must start 'Basic '");
  else
    want_str(r, "base64(api_key:api_secret)", b64, basic + 6);
}

/* messagemedia_http_date and messagemedia_hmac, one input each. */
static void run_mm_date(struct run *r, json_t *root)
{
  json_t *in = section(r, root, "input", KEYS("unix_s"));
  json_t *exp = section(r, root, "expect", KEYS("rc", "date"));
  long long t;
  int want = LB_OK;
  const char *date;
  char got[MM_DATE_SIZE];
  int rc;
  if (!in || !exp)
    return;
  if (get_int(r, in, "unix_s", "input", &t) != 1 ||
      get_rc(r, exp, "rc", "expect", &want) < 0) {
    bad(r, "input.unix_s is required");
    return;
  }
  rc = messagemedia_http_date(t, got);
  want_rc(r, "messagemedia_http_date", rc, want);
  if (rc == LB_OK && get_str(r, exp, "date", "expect", 0, &date) == 1)
    want_str(r, "date", got, date);
}

static void run_mm_hmac(struct run *r, json_t *root)
{
  json_t *in =
      section(r, root, "input",
              KEYS("api_key", "api_secret", "date", "method", "path", "body"));
  json_t *exp = section(r, root, "expect", KEYS("rc", "md5", "authorization"));
  const char *key, *secret, *date, *method, *path, *body = NULL, *s;
  char md5[MM_MD5_HEX] = "", auth[512] = "";
  int want, rc;
  if (!in || !exp)
    return;
  if (get_str(r, in, "api_key", "input", 0, &key) != 1 ||
      get_str(r, in, "api_secret", "input", 0, &secret) != 1 ||
      get_str(r, in, "date", "input", 0, &date) != 1 ||
      get_str(r, in, "method", "input", 0, &method) != 1 ||
      get_str(r, in, "path", "input", 0, &path) != 1 ||
      get_str(r, in, "body", "input", 1, &body) < 0 ||
      get_rc(r, exp, "rc", "expect", &want) != 1) {
    bad(r, "the case needs api_key, api_secret, date, method, path and "
           "expect.rc");
    return;
  }
  rc = messagemedia_hmac(key, secret, date, method, path, body,
                         body ? strlen(body) : 0, md5, auth, sizeof auth);
  want_rc(r, "messagemedia_hmac", rc, want);
  if (rc == LB_OK && get_str(r, exp, "md5", "expect", 0, &s) == 1)
    want_str(r, "md5", md5, s);
  if (rc == LB_OK && get_str(r, exp, "authorization", "expect", 0, &s) == 1)
    want_str(r, "authorization", auth, s);
}

/* ---- one case
 * ---------------------------------------------------------------- */

static const char *const top_keys[] = {
    "kind", "description", "source", "provider", "settings",
    "init", "clock",       "input",  "expect",   NULL};

static void run_case(void **state)
{
  const struct tcase *tc = *state;
  struct run *r = calloc(1, sizeof *r);
  struct setup s;
  json_t *root;
  json_error_t jerr;
  const char *kind, *err;
  char *text;
  size_t len;

  if (!r)
    fail_msg("%s: out of memory", tc->name);
  r->tc = tc;
  memset(&s, 0, sizeof s);
  text = read_file(tc->path, &len, &err);
  if (!text) {
    bad(r, "cannot read: %s", err);
    goto out;
  }
  root = keep_doc(r, json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr));
  free(text);
  if (!root) {
    bad(r, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
        jerr.column);
    goto out;
  }
  if (!json_is_object(root) ||
      get_str(r, root, "kind", "case", 0, &kind) != 1) {
    bad(r, "a case is an object with a \"kind\"");
    goto out;
  }
  if (get_str(r, root, "description", "case", 0, &err) < 0 ||
      get_str(r, root, "source", "case", 0, &err) < 0)
    goto out;

  /* The named checks have their own shape and need no provider. */
  if (strcmp(kind, "twilio_signature_vectors") == 0) {
    run_twilio_vectors(r, root);
    goto out;
  }
  if (strcmp(kind, "messagemedia_hmac_vectors") == 0) {
    run_mm_vectors(r, root);
    goto out;
  }
  if (!only_keys(r, root, "case", top_keys))
    goto out;
  if (strcmp(kind, "registry") == 0) {
    run_registry(r, root);
    goto out;
  }
  if (strcmp(kind, "messagemedia_http_date") == 0) {
    run_mm_date(r, root);
    goto out;
  }
  if (strcmp(kind, "messagemedia_hmac") == 0) {
    run_mm_hmac(r, root);
    goto out;
  }

  if (setup_of(r, root, &s) != 0) {
    if (!r->nerr && strcmp(kind, "caps") != 0)
      bad(r, "provider_init failed as expected: only a caps case may stop "
             "there");
    if (!r->nerr && json_object_get(root, "expect"))
      bad(r, "expect is for a provider that initialises");
    goto out;
  }
  if (strcmp(kind, "caps") == 0)
    run_caps(r, root, &s);
  else if (strcmp(kind, "send") == 0)
    run_send(r, root, &s);
  else if (strcmp(kind, "send_response") == 0)
    run_send_response(r, root, &s);
  else if (strcmp(kind, "verify") == 0)
    run_verify(r, root, &s);
  else if (strcmp(kind, "inbound") == 0)
    run_inbound(r, root, &s);
  else if (strcmp(kind, "status") == 0)
    run_status(r, root, &s);
  else if (strcmp(kind, "check") == 0 || strcmp(kind, "setup") == 0 ||
           strcmp(kind, "media_delete") == 0)
    run_build(r, root, &s, kind);
  else if (strcmp(kind, "check_response") == 0)
    run_words(r, root, &s, 0);
  else if (strcmp(kind, "setup_response") == 0)
    run_words(r, root, &s, 1);
  else
    bad(r, "unknown kind '%s'", kind);

out:
  setup_release(r, &s);
  run_release(r);
  if (r->nerr) {
    int nerr = r->nerr;
    /* The report is longer than cmocka's message buffer: it goes to stderr
     * directly, after what cmocka has printed so far. */
    fflush(stdout);
    fputs(r->errs, stderr);
    fflush(stderr);
    free(r);
    fail_msg("%s: %d failure(s), listed above", tc->name, nerr);
  }
  free(r);
}

/* payloads: every file in <provider>/payloads/ is used by some case. */
static void run_payloads_used(void **state)
{
  const struct tcase *tc = *state;
  int unused = 0;
  for (int i = 0; i < tc->payloads->n; i++)
    if (!tc->payloads->used[i]) {
      fprintf(stderr, "%s: payloads/%s is used by no case\n", tc->dir,
              tc->payloads->names[i]);
      unused++;
    }
  if (unused)
    fail_msg("%s: %d unused payload file(s)", tc->dir, unused);
}

/* ---- main
 * --------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
  return strcmp(((const struct tcase *)a)->name,
                ((const struct tcase *)b)->name);
}

static int by_dir_name(const void *a, const void *b)
{
  return strcmp(a, b);
}

static int ends_with(const char *s, const char *tail)
{
  size_t n = strlen(s), t = strlen(tail);
  return n > t && strcmp(s + n - t, tail) == 0;
}

/* Runs every case in FIXTURE_DIR/<dir>; the number of failed tests, or -1
 * when the directory cannot be read. */
static int run_dir(const char *dir)
{
  char path[PATH_MAX];
  DIR *d;
  struct dirent *e;
  struct tcase *cases = calloc(MAX_CASES + 1, sizeof *cases);
  struct CMUnitTest *tests = calloc(MAX_CASES + 1, sizeof *tests);
  struct payloads *pl = calloc(1, sizeof *pl);
  size_t n = 0;
  int failed;

  if (!cases || !tests || !pl || strlen(dir) >= sizeof cases[0].dir) {
    fprintf(stderr, "%s: out of memory or name too long\n", dir);
    free(cases);
    free(tests);
    free(pl);
    return -1;
  }
  snprintf(path, sizeof path, "%s/%s/payloads", FIXTURE_DIR, dir);
  if ((d = opendir(path))) {
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.')
        continue;
      if (pl->n == MAX_PAYLOADS || strlen(e->d_name) >= NAME_MAX_LEN) {
        fprintf(stderr, "%s/payloads: too many files or a long name\n", dir);
        closedir(d);
        free(cases);
        free(tests);
        free(pl);
        return -1;
      }
      memcpy(pl->names[pl->n++], e->d_name, strlen(e->d_name) + 1);
    }
    closedir(d);
  }
  snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, dir);
  if (!(d = opendir(path))) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    free(cases);
    free(tests);
    free(pl);
    return -1;
  }
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !ends_with(e->d_name, ".json"))
      continue;
    if (n == MAX_CASES || strlen(e->d_name) >= NAME_MAX_LEN) {
      fprintf(stderr, "%s: too many cases or a long name\n", dir);
      closedir(d);
      free(cases);
      free(tests);
      free(pl);
      return -1;
    }
    if (snprintf(cases[n].name, sizeof cases[n].name, "%s/%s", dir,
                 e->d_name) >= (int)sizeof cases[n].name ||
        snprintf(cases[n].path, sizeof cases[n].path, "%s/%s", path,
                 e->d_name) >= (int)sizeof cases[n].path) {
      fprintf(stderr, "%s: a path too long\n", dir);
      continue;
    }
    snprintf(cases[n].dir, sizeof cases[n].dir, "%s", dir);
    cases[n].payloads = pl;
    n++;
  }
  closedir(d);
  if (!n) {
    fprintf(stderr, "%s: no cases\n", path);
    free(cases);
    free(tests);
    free(pl);
    return -1;
  }
  qsort(cases, n, sizeof *cases, by_name);
  for (size_t i = 0; i < n; i++)
    tests[i] = (struct CMUnitTest){.name = cases[i].name,
                                   .test_func = run_case,
                                   .initial_state = &cases[i]};
  snprintf(cases[n].name, sizeof cases[n].name, "%s/payloads", dir);
  snprintf(cases[n].dir, sizeof cases[n].dir, "%s", dir);
  cases[n].payloads = pl;
  tests[n] = (struct CMUnitTest){.name = cases[n].name,
                                 .test_func = run_payloads_used,
                                 .initial_state = &cases[n]};
  failed = _cmocka_run_group_tests(dir, tests, n + 1, NULL, NULL);
  free(cases);
  free(tests);
  free(pl);
  return failed;
}

int main(int argc, char **argv)
{
  int failed = 0;
  if (sodium_init() < 0)
    return 1;
  if (argc > 1) {
    for (int i = 1; i < argc; i++) {
      int f = run_dir(argv[i]);
      failed += f < 0 ? 1 : f;
    }
  } else {
    DIR *d = opendir(FIXTURE_DIR);
    struct dirent *e;
    char names[32][64];
    int n = 0;
    if (!d) {
      fprintf(stderr, "%s: %s\n", FIXTURE_DIR, strerror(errno));
      return 1;
    }
    while ((e = readdir(d)) && n < 32) {
      char p[PATH_MAX];
      struct stat st;
      if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof names[0])
        continue;
      snprintf(p, sizeof p, "%s/%s", FIXTURE_DIR, e->d_name);
      if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
        memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], by_dir_name);
    for (int i = 0; i < n; i++) {
      int f = run_dir(names[i]);
      failed += f < 0 ? 1 : f;
    }
  }
  return failed ? 1 : 0;
}
