/* The PostgreSQL backend's text work, without a server: the shared SQL's
 * placeholders as $N, and a search box's words as a tsquery that always
 * parses (each word a term, the last a prefix). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "store/backend.h"

static void placeholders_become_numbered(void **state)
{
  int n = 0;
  char *s;
  (void)state;
  s = db_pg_placeholders("SELECT a FROM t WHERE b = ? AND c = ?", &n);
  assert_string_equal(s, "SELECT a FROM t WHERE b = $1 AND c = $2");
  assert_int_equal(n, 2);
  free(s);
  /* ?N keeps its number and may repeat. */
  s = db_pg_placeholders("x = ?1 OR y = ?12 OR z = ?1", &n);
  assert_string_equal(s, "x = $1 OR y = $12 OR z = $1");
  assert_int_equal(n, 12);
  free(s);
  /* Inside quotes a '?' is text. */
  s = db_pg_placeholders("a LIKE '%?' ESCAPE '\\' AND \"q?\" = ?", &n);
  assert_string_equal(s, "a LIKE '%?' ESCAPE '\\' AND \"q?\" = $1");
  assert_int_equal(n, 1);
  free(s);
  s = db_pg_placeholders("SELECT 1", &n);
  assert_string_equal(s, "SELECT 1");
  assert_int_equal(n, 0);
  free(s);
  assert_null(db_pg_placeholders("x = ?33", &n));
  assert_null(db_pg_placeholders("x = ?0", &n));
}

static void search_words_become_a_tsquery(void **state)
{
  char out[512];
  (void)state;
  assert_int_equal(db_search_pg_terms("knee brace", out, sizeof out), LB_OK);
  assert_string_equal(out, "('knee') & ('brace':*)");
  /* Punctuation splits a word into a phrase; quotes and operators are
   * never passed through. */
  assert_int_equal(db_search_pg_terms("o'brien & | !x", out, sizeof out),
                   LB_OK);
  assert_string_equal(out, "('o' <-> 'brien') & ('x':*)");
  assert_int_equal(db_search_pg_terms("Café", out, sizeof out), LB_OK);
  assert_string_equal(out, "('Café':*)");
  assert_int_equal(db_search_pg_terms(" %_\\ \"\"\" {} ", out, sizeof out),
                   LB_OK);
  assert_string_equal(out, "");
  assert_int_equal(db_search_pg_terms("abcdef", out, 10), LB_ETOOBIG);
}

static void the_store_label_hides_the_password(void **state)
{
  struct config c;
  char out[200];
  (void)state;
  assert_int_equal(config_init(&c), 0);
  config_set(&c, "store", "url",
             "postgresql://lb:s3cret@db.example:5432/clinic?sslmode=require");
  config_store_label(&c, out, sizeof out);
  assert_string_equal(out, "postgresql://lb@db.example:5432/clinic");
  config_set(&c, "store", "url", "postgresql:///clinic?password=pw&host=/s");
  config_store_label(&c, out, sizeof out);
  assert_string_equal(out, "postgresql:///clinic");
  config_set(&c, "store", "url", "");
  config_store_label(&c, out, sizeof out);
  assert_string_equal(out, c.db_path);
  config_release(&c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(placeholders_become_numbered),
      cmocka_unit_test(search_words_become_a_tsquery),
      cmocka_unit_test(the_store_label_hides_the_password),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
