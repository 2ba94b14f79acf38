#include <stdio.h>
#include <string.h>

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
