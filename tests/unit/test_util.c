/* util: bounded buffers, sortable ids, HMAC, message text rules, and the
 * URL helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/message.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/id.h"
#include "util/url.h"
#include "util/utf8.h"

/* ---- buf ---------------------------------------------------------------- */

/* An append that would pass the cap fails and changes nothing. */
static void test_buf_cap(void **state)
{
  struct buf b;
  buf_init(&b, 10);
  assert_int_equal(buf_puts(&b, "hello"), LB_OK);
  assert_int_equal(buf_puts(&b, "world!"), LB_ETOOBIG); /* 11 > 10 */
  assert_int_equal(b.len, 5);
  assert_string_equal(b.data, "hello");
  assert_int_equal(buf_printf(&b, "%s", "123456"), LB_ETOOBIG);
  assert_int_equal(b.len, 5);
  assert_string_equal(b.data, "hello");
  /* Exactly up to the cap is fine. */
  assert_int_equal(buf_printf(&b, "%d", 12345), LB_OK);
  assert_int_equal(b.len, 10);
  assert_string_equal(b.data, "hello12345");
  /* Full: even one byte more fails, zero bytes do not. */
  assert_int_equal(buf_append(&b, "x", 1), LB_ETOOBIG);
  assert_int_equal(buf_append(&b, "", 0), LB_OK);
  assert_string_equal(b.data, "hello12345");
  /* A huge length does not wrap around the check. */
  assert_int_equal(buf_append(&b, "x", SIZE_MAX), LB_ETOOBIG);
  assert_int_equal(buf_append(&b, "x", SIZE_MAX - 4), LB_ETOOBIG);
  assert_int_equal(b.len, 10);
  buf_release(&b);
}

/* Binary data keeps its bytes and is still NUL-terminated after them, and
 * growth across many appends keeps everything. */
static void test_buf_nul_terminated(void **state)
{
  struct buf b;
  static const char bin[] = {'a', '\0', 'b', (char)0xff};
  buf_init(&b, 1u << 20);
  assert_int_equal(buf_append(&b, bin, sizeof bin), LB_OK);
  assert_int_equal(b.len, 4);
  assert_memory_equal(b.data, bin, 4);
  assert_int_equal(b.data[4], '\0');
  for (int i = 0; i < 5000; i++) {
    assert_int_equal(buf_printf(&b, "%04d,", i), LB_OK);
    assert_int_equal(b.data[b.len], '\0');
  }
  assert_int_equal(b.len, 4 + 5000 * 5);
  assert_memory_equal(b.data + 4, "0000,0001,", 10);
  assert_memory_equal(b.data + b.len - 5, "4999,", 5);

  buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_string_equal(b.data, "");
  assert_int_equal(buf_puts(&b, "again"), LB_OK);
  assert_string_equal(b.data, "again");

  size_t n = 0;
  char *s = buf_steal(&b, &n);
  assert_int_equal(n, 5);
  assert_string_equal(s, "again");
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  free(s);
  /* Usable after a steal. */
  assert_int_equal(buf_puts(&b, "x"), LB_OK);
  assert_string_equal(b.data, "x");
  buf_release(&b);
}

/* A cap far below the first allocation size still holds exactly. */
static void test_buf_small_cap(void **state)
{
  struct buf b;
  buf_init(&b, 3);
  assert_int_equal(buf_printf(&b, "%s", "abcd"), LB_ETOOBIG);
  assert_int_equal(b.len, 0);
  assert_int_equal(buf_printf(&b, "%s", "abc"), LB_OK);
  assert_string_equal(b.data, "abc");
  assert_true(b.cap <= 4); /* never more than max + 1 */
  buf_release(&b);
}

/* ---- id ----------------------------------------------------------------- */

static void test_id_new_sorted(void **state)
{
  enum { N = 10000 };
  char(*ids)[LB_ID_SIZE] = calloc(N, LB_ID_SIZE);
  assert_non_null(ids);
  for (int i = 0; i < N; i++)
    id_new(ids[i]);
  for (int i = 0; i < N; i++) {
    assert_int_equal(strlen(ids[i]), LB_ID_LEN);
    if (!id_valid(ids[i]))
      fail_msg("id %d '%s' is not valid", i, ids[i]);
    if (i && strcmp(ids[i - 1], ids[i]) >= 0)
      fail_msg("ids out of order at %d: '%s' then '%s'", i, ids[i - 1], ids[i]);
  }
  free(ids);
}

/* Within one millisecond, and across a carry in the random part. */
static void test_id_same_ms_sorted(void **state)
{
  char a[LB_ID_SIZE], b[LB_ID_SIZE];
  int64_t ms = 1795000000000;
  id_new_at(a, ms);
  for (int i = 0; i < 5000; i++) {
    id_new_at(b, ms);
    assert_true(strcmp(a, b) < 0);
    memcpy(a, b, sizeof a);
  }
  /* The time comes first: a later ms sorts after, an earlier before. */
  id_new_at(b, ms + 1);
  assert_true(strcmp(a, b) < 0);
  id_new_at(b, ms - 1);
  assert_true(strcmp(b, a) < 0);
}

/* The time prefix is the ULID encoding of the milliseconds. */
static void test_id_time_prefix(void **state)
{
  char id[LB_ID_SIZE];
  id_new_at(id, 0);
  assert_memory_equal(id, "0000000000", 10);
  /* 2^48 - 1 ms, the largest: "7ZZZZZZZZZ". */
  id_new_at(id, (int64_t)0xFFFFFFFFFFFF);
  assert_memory_equal(id, "7ZZZZZZZZZ", 10);
  /* 1469918176385 = 01ARYZ6S41 (the ULID spec's example). */
  id_new_at(id, 1469918176385);
  assert_memory_equal(id, "01ARYZ6S41", 10);
}

static void test_id_valid(void **state)
{
  static const struct {
    const char *s;
    int want;
  } rows[] = {
      {"01ARZ3NDEKTSV4RRFFQ69G5FAV", 1},
      {"0123456789ABCDEFGHJKMNPQRS", 1},
      {"TVWXYZ0123456789ABCDEFGHJK", 1},
      {"01ARZ3NDEKTSV4RRFFQ69G5FA", 0},   /* 25 */
      {"01ARZ3NDEKTSV4RRFFQ69G5FAVV", 0}, /* 27 */
      {"", 0},
      {"01ARZ3NDEKTSV4RRFFQ69G5FAI", 0}, /* I is not Crockford */
      {"01ARZ3NDEKTSV4RRFFQ69G5FAL", 0}, /* L */
      {"01ARZ3NDEKTSV4RRFFQ69G5FAO", 0}, /* O */
      {"01ARZ3NDEKTSV4RRFFQ69G5FAU", 0}, /* U */
      {"01arz3ndektsv4rrffq69g5fav", 0}, /* we only make upper case */
      {"01ARZ3NDEKTSV4RRFFQ69G5FA-", 0},
      {"01ARZ3NDEKTSV4RRFFQ69G5FA ", 0},
      {"msg_01ARZ3NDEKTSV4RRFFQ69G", 0},
      {NULL, 0},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (id_valid(rows[i].s) != rows[i].want)
      fail_msg("id_valid('%s') != %d", rows[i].s ? rows[i].s : "(null)",
               rows[i].want);
}

/* ---- crypto ------------------------------------------------------------- */

static void hex(const unsigned char *in, size_t n, char *out)
{
  crypto_hex(in, n, out);
}

/* RFC 4231, test cases 1, 2 and 6 (a key longer than the block). */
static void test_hmac_rfc4231(void **state)
{
  unsigned char mac[LB_SHA256_LEN];
  char h[LB_SHA256_HEX];

  assert_int_equal(
      crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac),
      LB_OK);
  hex(mac, sizeof mac, h);
  assert_string_equal(
      h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

  unsigned char key1[20];
  memset(key1, 0x0b, sizeof key1);
  assert_int_equal(crypto_hmac_sha256(key1, sizeof key1, "Hi There", 8, mac),
                   LB_OK);
  hex(mac, sizeof mac, h);
  assert_string_equal(
      h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

  unsigned char key6[131];
  const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  memset(key6, 0xaa, sizeof key6);
  assert_int_equal(
      crypto_hmac_sha256(key6, sizeof key6, msg6, strlen(msg6), mac), LB_OK);
  hex(mac, sizeof mac, h);
  assert_string_equal(
      h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_sha256(void **state)
{
  char h[LB_SHA256_HEX];
  crypto_sha256_hex("abc", 3, h);
  assert_string_equal(
      h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  crypto_sha256_hex("", 0, h);
  assert_string_equal(
      h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_streq(void **state)
{
  assert_true(crypto_streq("", ""));
  assert_true(crypto_streq("secret-token", "secret-token"));
  assert_false(crypto_streq("secret-token", "secret-tokeN"));
  assert_false(crypto_streq("secret-token", "secret-toke"));
  assert_false(crypto_streq("secret", "secret-token"));
  assert_false(crypto_streq("", "x"));
  assert_false(crypto_streq("abc", "ABC"));
}

/* Tokens are URL-safe, as long as asked, and differ each time. */
static void test_token(void **state)
{
  char a[64], b[64];
  crypto_token(a, sizeof a, 32);
  crypto_token(b, sizeof b, 32);
  assert_int_equal(strlen(a), 43); /* 32 bytes, base64 without padding */
  assert_string_not_equal(a, b);
  for (const char *p = a; *p; p++)
    assert_non_null(
        strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789-_",
               *p));
}

/* ---- text_check / str_copy ---------------------------------------------- */

static int check(const char *s, size_t len)
{
  char why[200] = "";
  int rc = text_check(s, len, why, sizeof why);
  if (rc != LB_OK && !why[0])
    fail_msg("text_check failed without a reason");
  return rc;
}

static void test_text_check_utf8(void **state)
{
  static const struct {
    const char *name;
    const char *s;
    size_t len;
    int want;
  } rows[] = {
      {"ascii", "See you at 10:30.", 17, LB_OK},
      {"empty", "", 0, LB_OK},
      {"latin", "caf\xc3\xa9", 5, LB_OK},
      {"cjk", "\xe6\x97\xa5\xe6\x9c\xac", 6, LB_OK},
      {"emoji", "\xf0\x9f\x98\x80", 4, LB_OK},
      {"max code point", "\xf4\x8f\xbf\xbf", 4, LB_OK},
      {"invalid byte ff", "ab\xff", 3, LB_EINVAL},
      {"overlong C0 80", "\xc0\x80", 2, LB_EINVAL},
      {"overlong C1 BF", "\xc1\xbf", 2, LB_EINVAL},
      {"overlong E0 80 80", "\xe0\x80\x80", 3, LB_EINVAL},
      {"overlong F0 80 80 80", "\xf0\x80\x80\x80", 4, LB_EINVAL},
      {"surrogate ED A0 80", "\xed\xa0\x80", 3, LB_EINVAL},
      {"above U+10FFFF", "\xf4\x90\x80\x80", 4, LB_EINVAL},
      {"lone continuation", "\x80", 1, LB_EINVAL},
      {"truncated sequence", "caf\xc3", 4, LB_EINVAL},
      {"bad continuation",
       "\xe6\x97"
       "a",
       3, LB_EINVAL},
      {"NUL inside", "ab\0cd", 5, LB_EINVAL},
      {"NUL at end", "ab\0", 3, LB_EINVAL},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int rc = check(rows[i].s, rows[i].len);
    if (rc != rows[i].want)
      fail_msg("text_check(%s) = %s, want %s", rows[i].name, lb_errname(rc),
               lb_errname(rows[i].want));
  }
}

static void test_text_check_length(void **state)
{
  char why[200];
  char *s = malloc(4 * (LB_TEXT_MAX_CHARS + 1) + 1);
  assert_non_null(s);

  /* 1600 ASCII characters: fine. 1601: too long, and why says so. */
  memset(s, 'a', LB_TEXT_MAX_CHARS + 1);
  assert_int_equal(check(s, LB_TEXT_MAX_CHARS), LB_OK);
  assert_int_equal(text_check(s, LB_TEXT_MAX_CHARS + 1, why, sizeof why),
                   LB_ETOOBIG);
  assert_non_null(strstr(why, "1600"));

  /* Characters, not bytes: 1600 emoji (6400 bytes) are fine. */
  for (int i = 0; i <= LB_TEXT_MAX_CHARS; i++)
    memcpy(s + 4 * i, "\xf0\x9f\x98\x80", 4);
  assert_int_equal(check(s, 4 * LB_TEXT_MAX_CHARS), LB_OK);
  assert_int_equal(check(s, 4 * (LB_TEXT_MAX_CHARS + 1)), LB_ETOOBIG);

  /* 1599 ASCII and one 3-byte character: 1600. */
  memset(s, 'a', LB_TEXT_MAX_CHARS - 1);
  memcpy(s + LB_TEXT_MAX_CHARS - 1, "\xe2\x82\xac", 3);
  assert_int_equal(check(s, LB_TEXT_MAX_CHARS + 2), LB_OK);
  free(s);
}

/* Only 'len' bytes are read; a terminator beyond is not needed. */
static void test_text_check_reads_len_only(void **state)
{
  char s[4] = {'o', 'k', '\xc3', '\xa9'};
  assert_int_equal(check(s, 2), LB_OK);
  assert_int_equal(check(s, 3), LB_EINVAL); /* cut sequence */
  assert_int_equal(check(s, 4), LB_OK);
}

static void test_str_copy(void **state)
{
  char d[8];
  str_copy(d, sizeof d, "short");
  assert_string_equal(d, "short");
  str_copy(d, sizeof d, "exactly");
  assert_string_equal(d, "exactly");
  str_copy(d, sizeof d, "too long by far");
  assert_string_equal(d, "too lon");
  str_copy(d, sizeof d, NULL);
  assert_string_equal(d, "");

  /* "abcde" + é (2 bytes) + x: 7 bytes fit exactly. */
  str_copy(d, sizeof d, "abcde\xc3\xa9x");
  assert_string_equal(d, "abcde\xc3\xa9");
  /* "abcdef" + é: the é would be cut; it is dropped whole. */
  str_copy(d, sizeof d, "abcdef\xc3\xa9");
  assert_string_equal(d, "abcdef");
  /* An emoji across the boundary is dropped whole. */
  str_copy(d, sizeof d, "abcd\xf0\x9f\x98\x80");
  assert_string_equal(d, "abcd");
  str_copy(d, sizeof d, "abc\xf0\x9f\x98\x80z");
  assert_string_equal(d, "abc\xf0\x9f\x98\x80");
  /* Nothing fits but the terminator. */
  str_copy(d, 1, "abc");
  assert_string_equal(d, "");
  str_copy(d, 3, "\xe2\x82\xac");
  assert_string_equal(d, "");

  /* Whatever the size, the result is valid UTF-8. */
  const char *src = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80!";
  char big[64];
  for (size_t n = 1; n <= strlen(src) + 1; n++) {
    str_copy(big, n, src);
    assert_true(strlen(big) < n);
    assert_int_equal(strncmp(big, src, strlen(big)), 0);
    assert_int_equal(check(big, strlen(big)), LB_OK);
  }
}

static void test_message_set_error(void **state)
{
  struct message m;
  char long_text[2 * LB_ERRTEXT_MAX];
  message_init(&m);
  memset(long_text, 'e', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  message_set_error(&m, "invalid_number", long_text, 1);
  assert_string_equal(m.error_code, "invalid_number");
  assert_int_equal(strlen(m.error_text), LB_ERRTEXT_MAX - 1);
  assert_int_equal(m.error_retryable, 1);
  message_set_error(&m, NULL, "plain", 0);
  assert_string_equal(m.error_code, "");
  assert_string_equal(m.error_text, "plain");
  assert_int_equal(m.error_retryable, 0);
  message_release(&m);
  assert_null(m.text);
}

static void test_strerror(void **state)
{
  for (int e = 0; e < LB_ERR_COUNT; e++) {
    assert_non_null(lb_strerror(e));
    assert_non_null(lb_errname(e));
    assert_true(lb_strerror(e)[0] != '\0');
  }
  assert_string_equal(lb_errname(LB_ENOTFOUND), "LB_ENOTFOUND");
  assert_string_equal(lb_strerror(LB_ETOOBIG), "too large");
  assert_non_null(lb_strerror(-1));
  assert_non_null(lb_strerror(LB_ERR_COUNT));
  assert_non_null(lb_errname(9999));
}

/* Bounded base64 for inline media: the cap holds before and after
 * decoding, and nothing is allocated on failure. */
static void test_base64_decode(void **state)
{
  unsigned char *out = NULL;
  size_t n = 0;
  assert_int_equal(
      crypto_base64_decode("aGVs\r\nbG8=", 10, "\r\n", 5, &out, &n), LB_OK);
  assert_int_equal(n, 5);
  assert_memory_equal(out, "hello", 5);
  free(out);
  assert_int_equal(crypto_base64_decode("aGVsbG8=", 8, NULL, 4, &out, &n),
                   LB_ETOOBIG);
  assert_null(out);
  assert_int_equal(crypto_base64_decode("aGVsbG8hIQ==", 12, NULL, 1, &out, &n),
                   LB_ETOOBIG); /* refused before decoding */
  assert_null(out);
  assert_int_equal(crypto_base64_decode("a$b", 3, NULL, 100, &out, &n),
                   LB_EINVAL);
  assert_null(out);
  assert_int_equal(crypto_base64_decode("", 0, NULL, 100, &out, &n), LB_OK);
  assert_int_equal(n, 0);
  free(out);
}

/* Strict UTF-8: what every text check and provider adapter relies on. */
static void test_utf8(void **state)
{
  static const struct {
    const char *s;
    long chars; /* -1: invalid */
  } rows[] = {
      {"", 0},
      {"plain ASCII", 11},
      {"caf\xc3\xa9", 4}, /* 2 bytes */
      {"\xe2\x82\xac"
       "5",
       2},                      /* 3 bytes: euro sign */
      {"\xf0\x9f\x98\x80", 1},  /* 4 bytes: an emoji */
      {"\xc0\xaf", -1},         /* overlong '/' */
      {"\xe0\x80\xaf", -1},     /* overlong, 3 bytes */
      {"\xed\xa0\x80", -1},     /* a surrogate */
      {"\xf4\x90\x80\x80", -1}, /* past U+10FFFF */
      {"\xc3", -1},             /* cut short */
      {"\x80", -1},             /* a lone continuation byte */
      {"ok\xff", -1},
  };
  uint32_t cp = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t n = 0;
    long got = utf8_count(rows[i].s, strlen(rows[i].s), &n) ? -1 : (long)n;
    if (got != rows[i].chars)
      fail_msg("row %zu: utf8_count = %ld, want %ld", i, got, rows[i].chars);
  }
  assert_int_equal(utf8_next((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
  assert_int_equal(cp, 0x20ac);
  assert_int_equal(utf8_next((const unsigned char *)"A", 1, &cp), 1);
  assert_int_equal(cp, 'A');
  assert_int_equal(utf8_next((const unsigned char *)"\xe2\x82", 2, NULL), 0);
}

/* ---- url ---------------------------------------------------------------- */

/* The libcurl URL helpers that the configuration and the adapters share:
 * one row per URL, every helper's answer for it. */
static void test_url(void **state)
{
  static const struct {
    const char *url;
    int http;                         /* url_is_http */
    const char *scheme, *host, *port; /* url_origin; NULL: LB_EINVAL */
    const char *path;                 /* URL_PATH; NULL: does not parse */
    const char *query, *given_port;   /* URL_QUERY, URL_PORT; NULL: none */
  } rows[] = {
      {"https://api.twilio.com", 1, "https", "api.twilio.com", "443", "/", NULL,
       NULL},
      {"http://127.0.0.1:8080/sim/api?x=1&y", 1, "http", "127.0.0.1", "8080",
       "/sim/api", "x=1&y", "8080"},
      {"HTTPS://Example.COM:443/A%20b", 1, "https", "Example.COM", "443",
       "/A%20b", NULL, "443"},
      {"http://[::1]/x#frag", 1, "http", "[::1]", "80", "/x", NULL, NULL},
      {"ftp://files.example/f", 0, NULL, NULL, NULL, "/f", NULL, NULL},
      {"mailto:x@example.com", 0, NULL, NULL, NULL, NULL, NULL, NULL},
      {"not a url", 0, NULL, NULL, NULL, NULL, NULL, NULL},
      {"http://", 0, NULL, NULL, NULL, NULL, NULL, NULL},
      {"https://a:99999/", 0, NULL, NULL, NULL, NULL, NULL, NULL},
      {"", 0, NULL, NULL, NULL, NULL, NULL, NULL},
  };
  char scheme[16], host[64], port[8], part[64];

  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const char *u = rows[i].url;
    print_message("url: '%s'\n", u);
    assert_int_equal(url_is_http(u), rows[i].http);
    assert_int_equal(url_origin(u, scheme, sizeof scheme, host, sizeof host,
                                port, sizeof port),
                     rows[i].scheme ? LB_OK : LB_EINVAL);
    if (rows[i].scheme) {
      assert_string_equal(scheme, rows[i].scheme);
      assert_string_equal(host, rows[i].host);
      assert_string_equal(port, rows[i].port);
    }
    if (!rows[i].path) {
      assert_int_equal(url_get(u, URL_SCHEME, part, sizeof part), LB_EINVAL);
      continue;
    }
    assert_int_equal(url_get(u, URL_PATH, part, sizeof part), LB_OK);
    assert_string_equal(part, rows[i].path);
    assert_int_equal(url_get(u, URL_QUERY, part, sizeof part),
                     rows[i].query ? LB_OK : LB_ENOTFOUND);
    if (rows[i].query)
      assert_string_equal(part, rows[i].query);
    assert_int_equal(url_get(u, URL_PORT, part, sizeof part),
                     rows[i].given_port ? LB_OK : LB_ENOTFOUND);
    if (rows[i].given_port)
      assert_string_equal(part, rows[i].given_port);
  }
  assert_int_equal(url_is_http(NULL), 0);
  assert_int_equal(url_get(NULL, URL_HOST, part, sizeof part), LB_EINVAL);
  /* Bounded: a part that does not fit is an error, not a cut. */
  assert_int_equal(url_get("https://api.twilio.com", URL_HOST, part, 14),
                   LB_ETOOBIG);
  assert_int_equal(url_get("https://api.twilio.com", URL_HOST, part, 15),
                   LB_OK);
  assert_int_equal(url_origin("https://api.twilio.com", scheme, sizeof scheme,
                              host, 4, port, sizeof port),
                   LB_ETOOBIG);

  /* The same origin with another path, and nothing else. */
  assert_int_equal(url_with_path("https://u:p@api.twilio.com:8443/a/b?q=1#f",
                                 "/c.json", part, sizeof part),
                   LB_OK);
  assert_string_equal(part, "https://api.twilio.com:8443/c.json");
  assert_int_equal(url_with_path("http://h/x", "/y", part, sizeof part), LB_OK);
  assert_string_equal(part, "http://h/y");
  assert_int_equal(url_with_path("http://h/x", "/y", part, 10), LB_ETOOBIG);
  assert_int_equal(url_with_path("not a url", "/y", part, sizeof part),
                   LB_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_base64_decode),
      cmocka_unit_test(test_buf_cap),
      cmocka_unit_test(test_buf_nul_terminated),
      cmocka_unit_test(test_buf_small_cap),
      cmocka_unit_test(test_id_new_sorted),
      cmocka_unit_test(test_id_same_ms_sorted),
      cmocka_unit_test(test_id_time_prefix),
      cmocka_unit_test(test_id_valid),
      cmocka_unit_test(test_hmac_rfc4231),
      cmocka_unit_test(test_sha256),
      cmocka_unit_test(test_streq),
      cmocka_unit_test(test_token),
      cmocka_unit_test(test_text_check_utf8),
      cmocka_unit_test(test_text_check_length),
      cmocka_unit_test(test_text_check_reads_len_only),
      cmocka_unit_test(test_str_copy),
      cmocka_unit_test(test_message_set_error),
      cmocka_unit_test(test_strerror),
      cmocka_unit_test(test_url),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
