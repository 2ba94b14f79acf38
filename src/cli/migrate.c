#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "util/err.h"

static void usage(FILE *f)
{
  fprintf(f, "usage: lyrebird migrate --config FILE\n\n"
             "Applies any pending database migrations and prints the schema\n"
             "version. 'serve' and 'demo' also migrate at start; run this to\n"
             "migrate ahead of an upgrade.\n\n"
             "  -c, --config FILE  the configuration file (INI)\n"
             "  -h, --help         show this help\n");
}

int cmd_migrate(int argc, char **argv)
{
  const char *path;
  struct config cfg;
  struct store *s = NULL;
  int rc, from = 0, to = 0;

  if (cli_config_only("migrate", argc, argv, usage, &path, &rc))
    return rc;
  if (cli_load_config(path, &cfg)) {
    config_release(&cfg);
    return 1;
  }
  {
    struct store_options so = {strcmp(cfg.synchronous, "full") == 0};
    rc = store_open(cfg.db_path, &so, &s);
    if (!rc)
      rc = store_migrate(s, &from, &to);
  }
  if (rc)
    fprintf(stderr, "lyrebird migrate: %s: %s\n", cfg.db_path, lb_strerror(rc));
  else if (from == to)
    printf("%s: schema is up to date (version %d)\n", cfg.db_path, to);
  else
    printf("%s: migrated schema from version %d to %d\n", cfg.db_path, from,
           to);
  store_free(s);
  config_release(&cfg);
  return rc ? 1 : 0;
}
