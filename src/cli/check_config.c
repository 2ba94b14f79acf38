#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
  fprintf(f, "usage: lyrebird check-config [--config FILE] [--example]\n\n"
             "Validates a configuration file together with any\n"
             "LYREBIRD_<SECTION>_<KEY> environment overrides. Each error\n"
             "names its line (or variable) and how to fix it. Also checks\n"
             "that the database's directory and the media directory exist\n"
             "(or can be made) and can be written.\n\n"
             "  -c, --config FILE  the file (default: lyrebird.ini)\n"
             "      --example      print a commented example file\n"
             "  -h, --help         show this help\n");
}

int cmd_check_config(int argc, char **argv)
{
  static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                       {"example", no_argument, 0, 'e'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *path = "lyrebird.ini";
  struct config cfg;
  int o, rc;

  while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    if (o == 'c')
      path = optarg;
    else if (o == 'e') {
      config_write_example(stdout);
      return 0;
    } else if (o == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  rc = cli_load_config(path, &cfg);
  if (!rc) {
    struct config_errors errs = {0};
    if (cli_check_paths(&cfg, &errs)) {
      config_errors_print(stderr, &cfg, &errs);
      fprintf(stderr, "lyrebird: %d configuration error%s\n", errs.n,
              errs.n == 1 ? "" : "s");
      rc = 1;
    }
  }
  if (!rc)
    printf("%s: ok. %s (%s) hosted by %s; listening on %s:%d; public URL "
           "%s\n",
           path, cfg.number, cfg.clinic_name, cfg.host, cfg.listen, cfg.port,
           cfg.public_url);
  config_release(&cfg);
  return rc ? 1 : 0;
}
