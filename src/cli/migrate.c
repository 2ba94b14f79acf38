#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "util/err.h"

static void usage(FILE *f)
{
  fprintf(
      f,
      "usage: lyrebird migrate (--config FILE | --data DIR) [--to VERSION]\n\n"
      "Applies any pending database migrations and prints the schema\n"
      "version. 'serve' and 'demo' also migrate at start; run this to\n"
      "migrate ahead of an upgrade. Long migrations (the search\n"
      "index, version 10) log their progress. On PostgreSQL\n"
      "([store] url) they run under an advisory lock: nodes that start\n"
      "at once wait for the first, which applies them alone.\n\n"
      "  -c, --config FILE  the configuration file (INI)\n"
      "  -d, --data DIR     a demo's data directory instead\n"
      "      --to VERSION   stop at that schema version (to stage an\n"
      "                     upgrade); the newest when absent\n"
      "  -h, --help         show this help\n");
}

int cmd_migrate(int argc, char **argv)
{
  const char *path, *data = NULL;
  struct config cfg;
  struct store *s = NULL;
  char label[600];
  int rc, from = 0, to = 0;

  static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                       {"data", required_argument, 0, 'd'},
                                       {"to", required_argument, 0, 't'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  long target = 0;
  int o;
  char *end;

  path = NULL;
  while ((o = getopt_long(argc, argv, "c:d:h", opts, NULL)) != -1) {
    if (o == 'c')
      path = optarg;
    else if (o == 'd')
      data = optarg;
    else if (o == 't') {
      target = strtol(optarg, &end, 10);
      if (*end || end == optarg || target < 1 || target > 1000) {
        fprintf(stderr, "lyrebird migrate: --to wants a schema version\n");
        return 2;
      }
    } else if (o == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if ((rc = cli_target_config("migrate", path, data, &cfg)))
    return rc;
  config_store_label(&cfg, label, sizeof label);
  {
    struct store_options so = {strcmp(cfg.synchronous, "full") == 0,
                               cfg.store_pool_size,
                               (int)cfg.store_statement_timeout_ms};
    rc = store_open(config_store_url(&cfg), &so, &s);
    if (!rc)
      rc = target ? store_migrate_to(s, (int)target, &from, &to)
                  : store_migrate(s, &from, &to);
  }
  if (rc)
    fprintf(stderr, "lyrebird migrate: %s: %s\n", label, lb_strerror(rc));
  else if (from == to)
    printf("%s: schema is up to date (version %d)\n", label, to);
  else
    printf("%s: migrated schema from version %d to %d\n", label, from, to);
  store_free(s);
  config_release(&cfg);
  return rc ? 1 : 0;
}
