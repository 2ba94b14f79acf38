#include <getopt.h>
#include <stdio.h>

#include "api/app.h"
#include "cli/cli.h"
#include "util/err.h"

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
  static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *path = NULL;
  struct config cfg;
  struct app app;
  int o, rc;

  while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    if (o == 'c')
      path = optarg;
    else if (o == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (!path) {
    fprintf(stderr, "lyrebird serve: --config FILE is required (see "
                    "lyrebird.example.ini)\n");
    return 2;
  }
  if (cli_load_config(path, &cfg)) {
    config_release(&cfg);
    return 1;
  }
  cli_setup_logging(&cfg);
  rc = app_open(&app, &cfg);
  if (rc) {
    fprintf(stderr, "lyrebird serve: cannot start: %s\n", lb_strerror(rc));
    config_release(&cfg);
    return 1;
  }
  rc = app_run(&app, NULL, NULL);
  app_close(&app);
  config_release(&cfg);
  return rc ? 1 : 0;
}
