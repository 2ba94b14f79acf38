#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "gateway/gateway.h"
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

enum lb_err cli_config_only(const char *cmd, int argc, char **argv,
                            void (*usage)(FILE *f), const char **path,
                            int *exit_code)
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
      *exit_code = 0;
      return LB_ENOTFOUND;
    } else {
      usage(stderr);
      *exit_code = 2;
      return LB_EINVAL;
    }
  }
  if (!*path) {
    fprintf(stderr,
            "lyrebird %s: --config FILE is required (see "
            "lyrebird.example.ini)\n",
            cmd);
    *exit_code = 2;
    return LB_EINVAL;
  }
  *exit_code = 0;
  return LB_OK;
}

int cli_run_app(const char *cmd, const struct config *cfg,
                enum lb_err (*seed)(struct gateway *gw),
                void (*ready)(struct gateway *, void *), void *arg)
{
  struct gateway gw;
  struct api api;
  enum lb_err rc;
  cli_setup_logging(cfg);
  rc = gw_open(&gw, cfg);
  if (rc) {
    fprintf(stderr, "lyrebird %s: cannot start: %s\n", cmd, lb_strerror(rc));
    return 1;
  }
  if (!(rc = api_open(&api, &gw)) && seed)
    rc = seed(&gw);
  if (!rc)
    rc = gw_run(&gw, ready, arg);
  if (rc)
    fprintf(stderr, "lyrebird %s: %s\n", cmd, lb_strerror(rc));
  api_close(&api);
  gw_close(&gw);
  return rc ? 1 : 0;
}

int cli_target_config(const char *cmd, const char *config_path,
                      const char *data_dir, struct config *cfg)
{
  if (data_dir) {
    if (access(data_dir, F_OK) != 0) {
      fprintf(stderr, "lyrebird %s: no demo data at %s\n", cmd, data_dir);
      return 1;
    }
    return cli_demo_config(cmd, data_dir, NULL, cfg);
  }
  if (!config_path) {
    fprintf(stderr,
            "lyrebird %s: --config FILE is required (or --data DIR for a "
            "demo's data directory)\n",
            cmd);
    return 2;
  }
  if (cli_load_config(config_path, cfg)) {
    config_release(cfg);
    return 1;
  }
  return 0;
}
