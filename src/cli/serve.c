#include <stdio.h>

#include "cli/cli.h"
#include "providers/sim.h"
#include "util/log.h"

static void usage(FILE *f)
{
  fprintf(f, "usage: lyrebird serve --config FILE\n\n"
             "Runs the gateway: the HTTP API, the webhooks and the send\n"
             "queue. Every key can be overridden by LYREBIRD_<SECTION>_<KEY>.\n"
             "Stops gracefully on SIGINT or SIGTERM.\n\n"
             "  -c, --config FILE  the configuration file (INI)\n"
             "  -h, --help         show this help\n");
}

int cmd_serve(int argc, char **argv)
{
  const char *path;
  struct config cfg;
  struct config_errors errs = {0};
  int rc;
  if (cli_config_only("serve", argc, argv, usage, &path, &rc))
    return rc;
  if (cli_load_config(path, &cfg))
    rc = 1;
  else if (cli_check_paths(&cfg, &errs)) {
    config_errors_print(stderr, &cfg, &errs);
    rc = 1;
  } else {
    cli_setup_logging(&cfg);
    if (sim_settings(&cfg)->enabled)
      log_warn("config.sim_enabled",
               "the simulated carrier is on ([sim] enabled = true): anyone "
               "who reaches %s/sim/ can read the messages it carries and "
               "play a patient. It is for the demo and tests; in "
               "production set [sim] enabled = false and a real [clinic] "
               "host",
               cfg.public_url);
    rc = cli_run_app("serve", &cfg, NULL, NULL, NULL);
  }
  config_release(&cfg);
  return rc;
}
