#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "cli/cli.h"
#include "util/err.h"
#include "util/log.h"

int cli_load_config(const char *path, struct config *c)
{
  struct config_errors errs = {0};
  if (config_init(c)) {
    fprintf(stderr, "lyrebird: out of memory\n");
    return 1;
  }
  if (path)
    config_load_file(c, path, &errs);
  config_load_env(c, &errs);
  if (!errs.n)
    config_validate(c, &errs);
  if (errs.n) {
    config_errors_print(stderr, c, &errs);
    fprintf(stderr, "lyrebird: %d configuration error%s\n", errs.n,
            errs.n == 1 ? "" : "s");
    return 1;
  }
  return 0;
}

void cli_setup_logging(const struct config *c)
{
  if (!strcmp(c->log_level, "debug"))
    log_set_level(LOG_DEBUG);
  else if (!strcmp(c->log_level, "warn"))
    log_set_level(LOG_WARN);
  else if (!strcmp(c->log_level, "error"))
    log_set_level(LOG_ERROR);
  else
    log_set_level(LOG_INFO);
}

int cli_config_only(const char *cmd, int argc, char **argv,
                    void (*usage)(FILE *f), const char **path)
{
  static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int o;
  *path = NULL;
  while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    if (o == 'c')
      *path = optarg;
    else if (o == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (!*path) {
    fprintf(stderr,
            "lyrebird %s: --config FILE is required (see "
            "lyrebird.example.ini)\n",
            cmd);
    return 2;
  }
  return -1;
}

int cli_run_app(const char *cmd, const struct config *cfg,
                int (*seed)(struct app *a), void (*ready)(struct app *, void *),
                void *arg)
{
  struct app app;
  int rc;
  cli_setup_logging(cfg);
  rc = app_open(&app, cfg);
  if (rc) {
    fprintf(stderr, "lyrebird %s: cannot start: %s\n", cmd, lb_strerror(rc));
    return 1;
  }
  if (seed)
    rc = seed(&app);
  if (!rc)
    rc = app_run(&app, ready, arg);
  if (rc)
    fprintf(stderr, "lyrebird %s: %s\n", cmd, lb_strerror(rc));
  app_close(&app);
  return rc ? 1 : 0;
}
