/* Configuration: defaults, the INI file, the environment, secrets in files,
 * and the cross-field checks that run before the server starts. Errors must
 * point at the line and say what to do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/keys.h"
#include "providers/provider.h"
#include "providers/sim.h"
#include "util/err.h"

extern char **environ;

static char tmpdir[256];
static char created[64][512];
static int n_created;

/* Writes 'text' to <tmpdir>/<name> and returns the path (static storage). */
static const char *write_file(const char *name, const char *text)
{
  FILE *f;
  char *path;
  assert_true(n_created < 64);
  path = created[n_created++];
  snprintf(path, sizeof created[0], "%s/%s", tmpdir, name);
  f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
  return path;
}

/* No LYREBIRD_* variable from the caller's environment may leak in. */
static void clear_lyrebird_env(void)
{
  char names[64][128];
  int n = 0;
  for (char **e = environ; *e && n < 64; e++)
    if (strncmp(*e, "LYREBIRD_", 9) == 0) {
      const char *eq = strchr(*e, '=');
      size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
      if (len < sizeof names[0]) {
        memcpy(names[n], *e, len);
        names[n++][len] = '\0';
      }
    }
  for (int i = 0; i < n; i++)
    unsetenv(names[i]);
}

static int group_setup(void **state)
{
  snprintf(tmpdir, sizeof tmpdir, "%s/lyrebird-config-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmpdir))
    return -1;
  clear_lyrebird_env();
  return 0;
}

static int group_teardown(void **state)
{
  for (int i = 0; i < n_created; i++)
    unlink(created[i]);
  rmdir(tmpdir);
  return 0;
}

static int test_teardown(void **state)
{
  clear_lyrebird_env();
  return 0;
}

/* The first error whose 'where' is exactly 'where', or fails the test. */
static const struct config_error *find_error(const struct config_errors *e,
                                             const char *where)
{
  for (int i = 0; i < e->n; i++)
    if (strcmp(e->items[i].where, where) == 0)
      return &e->items[i];
  for (int i = 0; i < e->n; i++)
    print_error("  error %d: line %d: %s: %s\n", i, e->items[i].line,
                e->items[i].where, e->items[i].msg);
  fail_msg("no error for '%s'", where);
  return NULL;
}

static void assert_contains(const char *hay, const char *needle)
{
  if (!strstr(hay, needle))
    fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* ---- defaults ----------------------------------------------------------- */

static void test_defaults(void **state)
{
  struct config c;
  assert_int_equal(config_init(&c), LB_OK);
  assert_string_equal(c.listen, "127.0.0.1");
  assert_int_equal(c.port, 8080);
  assert_string_equal(c.public_url, "");
  assert_int_equal(c.threads, 64);
  assert_int_equal(c.max_connections, 1024);
  assert_string_equal(c.api_key, "");
  assert_string_equal(c.db_path, "/var/lib/lyrebird/lyrebird.db");
  assert_string_equal(c.synchronous, "full");
  assert_string_equal(c.media_dir, "/var/lib/lyrebird/media");
  assert_int_equal(c.media_max_bytes, 10485760);
  assert_int_equal(c.media_max_items, 10);
  assert_string_equal(c.clinic_name, "");
  assert_string_equal(c.number, "");
  assert_string_equal(c.host, "");
  assert_string_equal(c.region, "AU");
  assert_string_equal(c.timezone, "Australia/Sydney");
  assert_int_equal(c.workers, 2);
  assert_int_equal(c.max_attempts, 8);
  assert_int_equal(c.backoff_base_ms, 2000);
  assert_int_equal(c.backoff_max_ms, 600000);
  assert_int_equal(c.send_timeout_ms, 15000);
  assert_string_equal(c.log_level, "info");
  assert_int_equal(c.access_log, 1);
  assert_int_equal(sim_settings(&c)->enabled, 0);
  assert_string_equal(sim_settings(&c)->base_url, "");
  assert_string_equal(sim_settings(&c)->secret, "");
  assert_int_equal(sim_settings(&c)->mms_out, 1);
  assert_int_equal(sim_settings(&c)->mms_max_bytes, 614400);
  assert_int_equal(sim_settings(&c)->dr_delay_ms, 300);
  assert_true(sim_settings(&c)->dr_failure_rate == 0.0);
  assert_true(sim_settings(&c)->send_failure_rate == 0.0);
  assert_int_equal(sim_settings(&c)->rate, 50);
  assert_string_equal(c.path, "");
  config_release(&c);
  assert_null(c.listen);
  assert_null(c.path);
}

/* ---- the file ----------------------------------------------------------- */

static void test_file_values(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  const char *path = write_file("good.ini", "; a comment\n"
                                            "# another\n"
                                            "[server]\n"
                                            "port = 9090\n"
                                            "listen=0.0.0.0\n"
                                            "\n"
                                            "[clinic]\n"
                                            "name = Harbour Street Clinic\n"
                                            "number = 0488 868 772\n"
                                            "[sim]\n"
                                            "enabled = yes\n"
                                            "mms_out = off\n"
                                            "dr_failure_rate = 0.25\n"
                                            "[log]\n"
                                            "access = false\n");
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_load_file(&c, path, &errs), LB_OK);
  assert_int_equal(errs.n, 0);
  assert_int_equal(c.port, 9090);
  assert_string_equal(c.listen, "0.0.0.0");
  assert_string_equal(c.clinic_name, "Harbour Street Clinic");
  assert_string_equal(c.number, "0488 868 772"); /* normalised by validate */
  assert_int_equal(sim_settings(&c)->enabled, 1);
  assert_int_equal(sim_settings(&c)->mms_out, 0);
  assert_true(sim_settings(&c)->dr_failure_rate > 0.2499 &&
              sim_settings(&c)->dr_failure_rate < 0.2501);
  assert_int_equal(c.access_log, 0);
  assert_string_equal(c.path, path);
  /* Untouched keys keep their defaults. */
  assert_int_equal(c.threads, 64);
  assert_string_equal(c.region, "AU");
  config_release(&c);
}

/* A typo names its line and suggests the key that was meant; the rest of
 * the file still loads, and every error is reported, not just the first. */
static void test_unknown_key_line_and_suggestion(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  const char *path = write_file("typo.ini", "; lyrebird\n"          /* 1 */
                                            "[server]\n"            /* 2 */
                                            "port = 8081\n"         /* 3 */
                                            "\n"                    /* 4 */
                                            "[api]\n"               /* 5 */
                                            "kye = 0123456789\n"    /* 6 */
                                            "[sevrer]\n"            /* 7 */
                                            "port = 1\n"            /* 8 */
                                            "[clinic]\n"            /* 9 */
                                            "zzzzzzzzzzzz = 1\n"    /* 10 */
                                            "nmuber = 0412345678\n" /* 11 */
                                            "[server]\n"            /* 12 */
                                            "listen_file = /x\n");  /* 13 */
  const struct config_error *e;
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_load_file(&c, path, &errs), LB_ECONFIG);
  assert_int_equal(errs.n, 5);

  e = find_error(&errs, "[api] kye");
  assert_int_equal(e->line, 6);
  assert_contains(e->msg, "unknown key 'kye'");
  assert_contains(e->msg, "did you mean 'key'?");

  e = find_error(&errs, "[sevrer] port");
  assert_int_equal(e->line, 8);
  assert_contains(e->msg, "did you mean [server]?");

  e = find_error(&errs, "[clinic] zzzzzzzzzzzz");
  assert_int_equal(e->line, 10);
  assert_null(strstr(e->msg, "did you mean"));
  assert_contains(e->msg, "lyrebird.example.ini");

  e = find_error(&errs, "[clinic] nmuber");
  assert_int_equal(e->line, 11);
  assert_contains(e->msg, "did you mean 'number'?");

  /* Only secrets may come from a file. */
  e = find_error(&errs, "[server] listen_file");
  assert_int_equal(e->line, 13);
  assert_contains(e->msg, "not a secret");

  /* The good line before the typos took effect; the bad ones did not. */
  assert_int_equal(c.port, 8081);
  assert_string_equal(c.api_key, "");
  assert_string_equal(c.listen, "127.0.0.1");
  config_release(&c);
}

/* Bad values name their line and the accepted range, and leave the
 * default in place. */
static void test_bad_values_name_line(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  const struct config_error *e;
  const char *path =
      write_file("badvalues.ini", "[server]\n"                 /* 1 */
                                  "port = eighty\n"            /* 2 */
                                  "threads = 0\n"              /* 3 */
                                  "max_connections = 100k\n"   /* 4 */
                                  "[log]\n"                    /* 5 */
                                  "access = maybe\n"           /* 6 */
                                  "[sim]\n"                    /* 7 */
                                  "dr_failure_rate = 2\n"      /* 8 */
                                  "rate = 99999999999999999\n" /* 9 */
                                  "[outbox]\n"                 /* 10 */
                                  "workers = 4\n");            /* 11 */
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_load_file(&c, path, &errs), LB_ECONFIG);
  assert_int_equal(errs.n, 6);

  e = find_error(&errs, "[server] port");
  assert_int_equal(e->line, 2);
  assert_contains(e->msg, "'eighty'");
  assert_contains(e->msg, "1 to 65535");
  e = find_error(&errs, "[server] threads");
  assert_int_equal(e->line, 3);
  assert_contains(e->msg, "'0'");
  e = find_error(&errs, "[server] max_connections");
  assert_int_equal(e->line, 4);
  e = find_error(&errs, "[log] access");
  assert_int_equal(e->line, 6);
  assert_contains(e->msg, "true or false");
  e = find_error(&errs, "[sim] dr_failure_rate");
  assert_int_equal(e->line, 8);
  e = find_error(&errs, "[sim] rate");
  assert_int_equal(e->line, 9);

  assert_int_equal(c.port, 8080);
  assert_int_equal(c.threads, 64);
  assert_int_equal(c.max_connections, 1024);
  assert_int_equal(c.access_log, 1);
  assert_true(sim_settings(&c)->dr_failure_rate == 0.0);
  assert_int_equal(sim_settings(&c)->rate, 50);
  assert_int_equal(c.workers, 4); /* after the errors, still applied */
  config_release(&c);
}

static void test_syntax_error_and_outside_section(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  const struct config_error *e;
  const char *path = write_file("syntax.ini", "port = 1\n"            /* 1 */
                                              "[server]\n"            /* 2 */
                                              "this line is junk\n"); /* 3 */
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_load_file(&c, path, &errs), LB_ECONFIG);
  e = find_error(&errs, "[] port");
  assert_int_equal(e->line, 1);
  assert_contains(e->msg, "outside any section");
  e = find_error(&errs, "syntax");
  assert_int_equal(e->line, 3);
  assert_int_equal(c.port, 8080);
  config_release(&c);
}

static void test_missing_file(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  char path[600];
  snprintf(path, sizeof path, "%s/does-not-exist.ini", tmpdir);
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_load_file(&c, path, &errs), LB_ECONFIG);
  assert_int_equal(errs.n, 1);
  assert_contains(errs.items[0].msg, "lyrebird.example.ini");
  config_release(&c);
}

/* What check-config prints: "file:line: where: message". */
static void test_errors_print(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  char *out = NULL, want[700];
  size_t outlen = 0;
  FILE *f;
  const char *path = write_file("print.ini", "[api]\n\nkye = x\n");
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_load_file(&c, path, &errs), LB_ECONFIG);
  f = open_memstream(&out, &outlen);
  assert_non_null(f);
  config_errors_print(f, &c, &errs);
  fclose(f);
  snprintf(want, sizeof want,
           "%s:3: [api] kye: unknown key 'kye' in [api]; did you mean "
           "'key'?\n",
           path);
  assert_string_equal(out, want);
  free(out);
  config_release(&c);
}

/* The example file the docs ship loads cleanly and means the defaults. */
static void test_example_round_trip(void **state)
{
  struct config c, d;
  struct config_errors errs = {.n = 0};
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  config_write_example(f);
  fclose(f);
  const char *path = write_file("example.ini", text);
  free(text);
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_init(&d), LB_OK);
  assert_int_equal(config_load_file(&c, path, &errs), LB_OK);
  assert_int_equal(errs.n, 0);
  assert_int_equal(c.port, d.port);
  assert_string_equal(c.listen, d.listen);
  assert_string_equal(c.region, d.region);
  assert_int_equal(c.backoff_max_ms, d.backoff_max_ms);
  assert_true(sim_settings(&c)->dr_failure_rate ==
              sim_settings(&d)->dr_failure_rate);
  config_release(&c);
  config_release(&d);
}

/* ---- the environment and secret files ----------------------------------- */

static void test_env_overrides_file(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  const char *path = write_file("env.ini", "[api]\n"
                                           "key = from-the-file-000000000000\n"
                                           "[server]\n"
                                           "port = 9000\n"
                                           "threads = 4\n");
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_load_file(&c, path, &errs), LB_OK);
  assert_string_equal(c.api_key, "from-the-file-000000000000");
  setenv("LYREBIRD_API_KEY", "from-the-environment-11111111", 1);
  setenv("LYREBIRD_SERVER_PORT", "9443", 1);
  setenv("LYREBIRD_SIM_ENABLED", "true", 1);
  assert_int_equal(config_load_env(&c, &errs), LB_OK);
  assert_int_equal(errs.n, 0);
  assert_string_equal(c.api_key, "from-the-environment-11111111");
  assert_int_equal(c.port, 9443);
  assert_int_equal(sim_settings(&c)->enabled, 1);
  assert_int_equal(c.threads, 4); /* not overridden */
  config_release(&c);
}

static void test_env_bad_value(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  const struct config_error *e;
  assert_int_equal(config_init(&c), LB_OK);
  setenv("LYREBIRD_SERVER_PORT", "http", 1);
  assert_int_equal(config_load_env(&c, &errs), LB_ECONFIG);
  e = find_error(&errs, "LYREBIRD_SERVER_PORT");
  assert_int_equal(e->line, 0);
  assert_contains(e->msg, "'http'");
  assert_int_equal(c.port, 8080);
  config_release(&c);
}

/* A secret read from a file loses its trailing newline(s) only. */
static void test_key_file(void **state)
{
  static const struct {
    const char *name, *contents, *want;
  } rows[] = {
      {"key1", "k3y-from-a-file-0123456789abcdef\n",
       "k3y-from-a-file-0123456789abcdef"},
      {"key2", "k3y-from-a-file-0123456789abcdef\r\n",
       "k3y-from-a-file-0123456789abcdef"},
      {"key3", "k3y-from-a-file-0123456789abcdef\n\n\n",
       "k3y-from-a-file-0123456789abcdef"},
      {"key4", "k3y-from-a-file-0123456789abcdef",
       "k3y-from-a-file-0123456789abcdef"},
      {"key5", " spaced key  \n", " spaced key  "},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct config c;
    struct config_errors errs = {.n = 0};
    char ini[700], ininame[32];
    const char *secret = write_file(rows[i].name, rows[i].contents);
    snprintf(ini, sizeof ini, "[api]\nkey_file = %s\n", secret);
    snprintf(ininame, sizeof ininame, "keyfile%zu.ini", i);
    const char *path = write_file(ininame, ini);
    assert_int_equal(config_init(&c), LB_OK);
    assert_int_equal(config_load_file(&c, path, &errs), LB_OK);
    assert_string_equal(c.api_key, rows[i].want);
    config_release(&c);
  }
}

static void test_key_file_missing(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  char ini[700];
  const struct config_error *e;
  snprintf(ini, sizeof ini, "[sim]\n\nsecret_file = %s/no-such-secret\n",
           tmpdir);
  const char *path = write_file("missingsecret.ini", ini);
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_load_file(&c, path, &errs), LB_ECONFIG);
  e = find_error(&errs, "[sim] secret_file");
  assert_int_equal(e->line, 3);
  assert_contains(e->msg, "no-such-secret");
  assert_string_equal(sim_settings(&c)->secret, "");
  config_release(&c);
}

static void test_key_file_env(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  const char *secret = write_file("envsecret", "secret-via-env-file-0000000\n");
  const char *simsecret = write_file("envsimsecret", "sim-secret-0123456789\n");
  assert_int_equal(config_init(&c), LB_OK);
  setenv("LYREBIRD_API_KEY_FILE", secret, 1);
  setenv("LYREBIRD_SIM_SECRET_FILE", simsecret, 1);
  assert_int_equal(config_load_env(&c, &errs), LB_OK);
  assert_int_equal(errs.n, 0);
  assert_string_equal(c.api_key, "secret-via-env-file-0000000");
  assert_string_equal(sim_settings(&c)->secret, "sim-secret-0123456789");
  config_release(&c);

  /* A missing file is an error naming the variable. */
  assert_int_equal(config_init(&c), LB_OK);
  errs.n = 0;
  setenv("LYREBIRD_API_KEY_FILE", "/nonexistent/lyrebird/key", 1);
  unsetenv("LYREBIRD_SIM_SECRET_FILE");
  assert_int_equal(config_load_env(&c, &errs), LB_ECONFIG);
  find_error(&errs, "LYREBIRD_API_KEY_FILE");
  config_release(&c);
}

static void test_config_set(void **state)
{
  struct config c;
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_set(&c, "sim", "mms_out", "false"), LB_OK);
  assert_int_equal(sim_settings(&c)->mms_out, 0);
  assert_int_equal(config_set(&c, "clinic", "host", "sim"), LB_OK);
  assert_string_equal(c.host, "sim");
  assert_int_equal(config_set(&c, "server", "port", "99999"), LB_ECONFIG);
  assert_int_equal(c.port, 8080);
  assert_int_equal(config_set(&c, "sim", "nope", "1"), LB_ECONFIG);
  assert_int_equal(config_set(&c, "nope", "nope", "1"), LB_ECONFIG);
  config_release(&c);
}

/* ---- validate ----------------------------------------------------------- */

static void make_valid(struct config *c)
{
  assert_int_equal(config_init(c), LB_OK);
  assert_int_equal(config_set(c, "api", "key", "0123456789abcdef01234567"),
                   LB_OK); /* 24 */
  assert_int_equal(config_set(c, "clinic", "name", "Harbour Street Clinic"),
                   LB_OK);
  assert_int_equal(config_set(c, "clinic", "number", "0488 868 772"), LB_OK);
  assert_int_equal(config_set(c, "clinic", "host", "sim"), LB_OK);
  assert_int_equal(config_set(c, "sim", "enabled", "true"), LB_OK);
  assert_int_equal(config_set(c, "sim", "secret", "0123456789abcdef"), LB_OK);
}

static void test_validate_ok_and_derived(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  make_valid(&c);
  assert_int_equal(config_validate(&c, &errs), LB_OK);
  assert_int_equal(errs.n, 0);
  assert_string_equal(c.number, "+61488868772");
  assert_string_equal(c.public_url, "http://127.0.0.1:8080");
  config_release(&c);

  make_valid(&c);
  config_set(&c, "server", "port", "9191");
  assert_int_equal(config_validate(&c, &errs), LB_OK);
  assert_string_equal(c.public_url, "http://127.0.0.1:9191");
  config_release(&c);

  /* Listening everywhere: the public URL still has to be reachable. */
  make_valid(&c);
  config_set(&c, "server", "listen", "0.0.0.0");
  assert_int_equal(config_validate(&c, &errs), LB_OK);
  assert_string_equal(c.public_url, "http://127.0.0.1:8080");
  config_release(&c);

  /* A configured URL is kept, less trailing slashes. */
  make_valid(&c);
  config_set(&c, "server", "public_url", "https://sms.clinic.example//");
  assert_int_equal(config_validate(&c, &errs), LB_OK);
  assert_string_equal(c.public_url, "https://sms.clinic.example");
  config_release(&c);

  /* Already E.164, and validating twice, change nothing. */
  make_valid(&c);
  config_set(&c, "clinic", "number", "+61 488 868 772");
  assert_int_equal(config_validate(&c, &errs), LB_OK);
  assert_int_equal(config_validate(&c, &errs), LB_OK);
  assert_string_equal(c.number, "+61488868772");
  assert_string_equal(c.public_url, "http://127.0.0.1:8080");
  config_release(&c);

  /* The clinic's number may be a landline (it is not a recipient). */
  make_valid(&c);
  config_set(&c, "clinic", "number", "(02) 9999 9999");
  assert_int_equal(config_validate(&c, &errs), LB_OK);
  assert_string_equal(c.number, "+61299999999");
  config_release(&c);
}

/* Each broken setting is named, with what to do about it. */
static void test_validate_refusals(void **state)
{
  static const struct {
    const char *section, *key, *value; /* the one change to a valid config */
    const char *where, *msg_has1, *msg_has2;
  } rows[] = {
      {"clinic", "host", "carrier-pigeon", "[clinic] host", "'carrier-pigeon'",
       "known providers: sim"},
      {"clinic", "host", "", "[clinic] host", "one of: sim", NULL},
      {"api", "key", "0123456789abcdef0123456", "[api] key", "24", NULL},
      {"api", "key", "", "[api] key", "key_file", NULL},
      {"clinic", "number", "hello", "[clinic] number", "'hello'", NULL},
      {"clinic", "number", "", "[clinic] number", "+61", NULL},
      {"clinic", "name", "", "[clinic] name", "name", NULL},
      {"sim", "enabled", "false", "[sim] enabled", "enabled = true", NULL},
      {"sim", "secret", "0123456789abcde", "[sim] secret", "16", NULL},
      {"server", "public_url", "ftp://files.example", "[server] public_url",
       "ftp://files.example", NULL},
      {"server", "public_url", "not a url", "[server] public_url", NULL, NULL},
      {"sim", "base_url", "mailto:x@example.com", "[sim] base_url", NULL, NULL},
      {"store", "synchronous", "off", "[store] synchronous", "'off'", NULL},
      {"store", "path", "", "[store] path", NULL, NULL},
      {"media", "dir", "", "[media] dir", NULL, NULL},
      {"outbox", "backoff_base_ms", "700000", "[outbox] backoff_base_ms",
       "600000", NULL},
      {"log", "level", "verbose", "[log] level", "debug", NULL},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    struct config c;
    struct config_errors errs = {.n = 0};
    const struct config_error *e;
    print_message("validate: [%s] %s = '%s'\n", rows[i].section, rows[i].key,
                  rows[i].value);
    make_valid(&c);
    assert_int_equal(
        config_set(&c, rows[i].section, rows[i].key, rows[i].value), LB_OK);
    assert_int_equal(config_validate(&c, &errs), LB_ECONFIG);
    assert_int_equal(errs.n, 1);
    e = find_error(&errs, rows[i].where);
    assert_int_equal(e->line, 0);
    if (rows[i].msg_has1)
      assert_contains(e->msg, rows[i].msg_has1);
    if (rows[i].msg_has2)
      assert_contains(e->msg, rows[i].msg_has2);
    /* Nothing is derived from a config that does not validate. */
    assert_true(strcmp(c.public_url, "http://127.0.0.1:8080") != 0);
    config_release(&c);
  }
}

/* A fresh config reports every missing setting at once. */
static void test_validate_reports_all(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_validate(&c, &errs), LB_ECONFIG);
  find_error(&errs, "[api] key");
  find_error(&errs, "[clinic] name");
  find_error(&errs, "[clinic] number");
  find_error(&errs, "[clinic] host");
  assert_int_equal(errs.n, 4);
  config_release(&c);
}

/* The error list is bounded: more errors than fit do not overflow. */
static void test_errors_bounded(void **state)
{
  struct config c;
  struct config_errors errs = {.n = 0};
  char text[8192];
  size_t off = (size_t)snprintf(text, sizeof text, "[server]\n");
  for (int i = 0; i < CONFIG_MAX_ERRORS + 10; i++)
    off += (size_t)snprintf(text + off, sizeof text - off, "bogus%d = 1\n", i);
  const char *path = write_file("manyerrors.ini", text);
  assert_int_equal(config_init(&c), LB_OK);
  assert_int_equal(config_load_file(&c, path, &errs), LB_ECONFIG);
  assert_int_equal(errs.n, CONFIG_MAX_ERRORS);
  assert_int_equal(errs.items[0].line, 2);
  assert_int_equal(errs.items[CONFIG_MAX_ERRORS - 1].line,
                   CONFIG_MAX_ERRORS + 1);
  config_release(&c);
}

/* ---- the providers' own sections ---------------------------------------- */

/* Each registered adapter declares its section: every key of it is in
 * [<name>], takes its own default through config_set(), and the example
 * file shows the section, in registry order after the core sections. */
static void test_provider_sections(void **state)
{
  const struct provider_ops *ops;
  struct config c;
  char *text = NULL, header[64];
  const char *at = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  config_write_example(f);
  fclose(f);
  at = strstr(text, "[log]\n");
  assert_non_null(at);
  assert_int_equal(config_init(&c), LB_OK);
  assert_true(provider_count() >= 5);
  for (size_t i = 0; (ops = provider_at(i)) != NULL; i++) {
    print_message("provider: %s\n", ops->name);
    assert_ptr_equal(provider_find(ops->name), ops);
    assert_non_null(provider_settings(&c, ops));
    assert_non_null(strstr(provider_names(), ops->name));
    assert_true(ops->n_keys > 0);
    for (size_t k = 0; k < ops->n_keys; k++) {
      assert_string_equal(ops->keys[k].section, ops->name);
      assert_int_equal(
          config_set(&c, ops->name, ops->keys[k].name, ops->keys[k].def),
          LB_OK);
    }
    snprintf(header, sizeof header, "\n[%s]\n", ops->name);
    assert_non_null(strstr(at, header));
    at = strstr(at, header);
  }
  assert_null(provider_at(provider_count()));
  /* The order error messages have always named them in. */
  assert_string_equal(provider_names(),
                      "sim, smsbroadcast, twilio, clicksend, messagemedia");
  config_release(&c);
  free(text);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_defaults, test_teardown),
      cmocka_unit_test_teardown(test_file_values, test_teardown),
      cmocka_unit_test_teardown(test_unknown_key_line_and_suggestion,
                                test_teardown),
      cmocka_unit_test_teardown(test_bad_values_name_line, test_teardown),
      cmocka_unit_test_teardown(test_syntax_error_and_outside_section,
                                test_teardown),
      cmocka_unit_test_teardown(test_missing_file, test_teardown),
      cmocka_unit_test_teardown(test_errors_print, test_teardown),
      cmocka_unit_test_teardown(test_example_round_trip, test_teardown),
      cmocka_unit_test_teardown(test_env_overrides_file, test_teardown),
      cmocka_unit_test_teardown(test_env_bad_value, test_teardown),
      cmocka_unit_test_teardown(test_key_file, test_teardown),
      cmocka_unit_test_teardown(test_key_file_missing, test_teardown),
      cmocka_unit_test_teardown(test_key_file_env, test_teardown),
      cmocka_unit_test_teardown(test_config_set, test_teardown),
      cmocka_unit_test_teardown(test_validate_ok_and_derived, test_teardown),
      cmocka_unit_test_teardown(test_validate_refusals, test_teardown),
      cmocka_unit_test_teardown(test_validate_reports_all, test_teardown),
      cmocka_unit_test_teardown(test_errors_bounded, test_teardown),
      cmocka_unit_test_teardown(test_provider_sections, test_teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
