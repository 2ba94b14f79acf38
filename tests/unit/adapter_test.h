/* Helpers shared by the provider adapter tests (test_sim.c, test_twilio.c,
 * test_smsbroadcast.c): table-row assertions, fixture readers, and a fake
 * webhook request's header and query lookups.
 *
 * Only what the adapter tests share lives here (add_header/add_query too:
 * they fill the shared struct, though only test_twilio.c calls them so
 * far). Each test file keeps its provider's own helpers: the hook_request
 * builder (its signature differs per provider), signing, form and param
 * loading, and config setup.
 *
 * Define FIXTURE_SUBDIR to the provider's directory under tests/fixtures
 * (e.g. "sim") before including this header; FIXTURE_DIR comes from the
 * build (tests/unit/CMakeLists.txt). Everything here is static inline, so a
 * test that leaves a helper unused still builds with -Werror. */
#ifndef LB_TESTS_ADAPTER_TEST_H
#define LB_TESTS_ADAPTER_TEST_H

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "util/err.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR must point at tests/fixtures"
#endif
#ifndef FIXTURE_SUBDIR
#error "define FIXTURE_SUBDIR (the provider's fixture directory) first"
#endif

/* ---- table-row checks ---------------------------------------------------
 * Each names the row (a fixture file or a case name) that failed, so one
 * loop over a table reports which entry went wrong. */

#define CHECK_INT(row, got, want)                                              \
  do {                                                                         \
    long long g_ = (long long)(got), w_ = (long long)(want);                   \
    if (g_ != w_)                                                              \
      fail_msg("%s: %s = %lld, want %lld", (row), #got, g_, w_);               \
  } while (0)

#define CHECK_RC(row, got, want)                                               \
  do {                                                                         \
    int g_ = (got), w_ = (want);                                               \
    if (g_ != w_)                                                              \
      fail_msg("%s: %s = %s, want %s", (row), #got, lb_errname(g_),            \
               lb_errname(w_));                                                \
  } while (0)

#define CHECK_STR(row, got, want)                                              \
  do {                                                                         \
    const char *g_ = (got), *w_ = (want);                                      \
    if (strcmp(g_, w_) != 0)                                                   \
      fail_msg("%s: %s = '%s', want '%s'", (row), #got, g_, w_);               \
  } while (0)

#define CHECK_HAS(row, got, needle)                                            \
  do {                                                                         \
    const char *g_ = (got), *n_ = (needle);                                    \
    if (!strstr(g_, n_))                                                       \
      fail_msg("%s: %s = '%s' lacks '%s'", (row), #got, g_, n_);               \
  } while (0)

/* ---- fixtures ----------------------------------------------------------- */

/* Reads tests/fixtures/<FIXTURE_SUBDIR>/<name>, NUL-terminated, and its
 * length into *len (if len); the caller frees. */
static inline char *fixture(const char *name, size_t *len)
{
  char path[1024];
  FILE *f;
  char *data;
  long n;
  snprintf(path, sizeof path, "%s/%s/%s", FIXTURE_DIR, FIXTURE_SUBDIR, name);
  f = fopen(path, "rb");
  if (!f)
    fail_msg("cannot open fixture %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = malloc((size_t)n + 1);
  assert_non_null(data);
  assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
  data[n] = '\0';
  fclose(f);
  if (len)
    *len = (size_t)n;
  return data;
}

/* The fixture parsed as JSON; the caller json_decref()s. */
static inline json_t *fixture_json(const char *name)
{
  json_error_t err;
  char *text = fixture(name, NULL);
  json_t *j = json_loads(text, 0, &err);
  free(text);
  if (!j)
    fail_msg("fixture %s: %s (line %d)", name, err.text, err.line);
  return j;
}

/* ---- a fake webhook request ----------------------------------------------
 * The parts of an HTTP request the adapters look up by name: a few headers
 * (names[]/values[], n of them) and query fields (qnames[]/qvalues[], nq).
 * Point a hook_request's .header and .query at fake_header and fake_query
 * and its .ctx at the struct; the test files build the hook_request. */
struct fake_hook {
  const char *names[4];
  const char *values[4];
  int n;
  const char *qnames[4];
  const char *qvalues[4];
  int nq;
};

/* Header lookups ignore case, as HTTP header names do. */
static inline const char *fake_header(void *ctx, const char *name)
{
  struct fake_hook *h = ctx;
  for (int i = 0; h && i < h->n; i++)
    if (strcasecmp(h->names[i], name) == 0)
      return h->values[i];
  return NULL;
}

/* Query field lookups are exact. */
static inline const char *fake_query(void *ctx, const char *name)
{
  struct fake_hook *h = ctx;
  for (int i = 0; h && i < h->nq; i++)
    if (strcmp(h->qnames[i], name) == 0)
      return h->qvalues[i];
  return NULL;
}

static inline void add_header(struct fake_hook *h, const char *name,
                              const char *v)
{
  h->names[h->n] = name;
  h->values[h->n++] = v;
}

static inline void add_query(struct fake_hook *h, const char *name,
                             const char *v)
{
  h->qnames[h->nq] = name;
  h->qvalues[h->nq++] = v;
}

#endif /* LB_TESTS_ADAPTER_TEST_H */
