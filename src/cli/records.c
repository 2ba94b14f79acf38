/* What the clinical-record commands share (patient.c, purge.c, audit.c,
 * export.c): each opens one gateway on a configuration (--config FILE) or
 * a demo's data directory (--data DIR), never started:
 *
 *   lyrebird patient show|opt-in|opt-out NUMBER [--reason TEXT]
 *   lyrebird purge [--dry-run]
 *   lyrebird audit [verify] [--patient NUMBER] [--since TIME]
 *   lyrebird export --patient NUMBER --out FILE.zip
 *
 * They may run while the server runs: SQLite serialises their writes with
 * the server's. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "gateway/gateway.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

/* Who runs the command, for the audit log: the OS user. */
void cli_actor(struct gw_actor *who, char *name, size_t n)
{
  struct passwd *pw = getpwuid(getuid());
  snprintf(name, n, "%s", pw && pw->pw_name ? pw->pw_name : "unknown");
  who->kind = "cli";
  who->name = name;
  who->ip = NULL;
}

int cli_record_opts(const char *cmd, int argc, char **argv,
                    struct record_opts *o, void (*usage)(FILE *f))
{
  static const struct option lo[] = {{"config", required_argument, 0, 'c'},
                                     {"data", required_argument, 0, 'd'},
                                     {"patient", required_argument, 0, 'P'},
                                     {"reason", required_argument, 0, 'r'},
                                     {"since", required_argument, 0, 's'},
                                     {"out", required_argument, 0, 'o'},
                                     {"dry-run", no_argument, 0, 'n'},
                                     {"help", no_argument, 0, 'h'},
                                     {0, 0, 0, 0}};
  int c;
  memset(o, 0, sizeof *o);
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:d:P:r:s:o:nh", lo, NULL)) != -1) {
    switch (c) {
    case 'c':
      o->config = optarg;
      break;
    case 'd':
      o->data = optarg;
      break;
    case 'P':
      o->patient = optarg;
      break;
    case 'r':
      o->reason = optarg;
      break;
    case 's':
      o->since = optarg;
      break;
    case 'o':
      o->out = optarg;
      break;
    case 'n':
      o->dry_run = 1;
      break;
    case 'h':
      usage(stdout);
      o->help = 1;
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  (void)cmd;
  return -2; /* go on */
}

/* Opens the gateway (not started) on the command's configuration. */
int cli_open_gateway(const char *cmd, const struct record_opts *o,
                     struct config *cfg, struct gateway *gw)
{
  int rc = cli_target_config(cmd, o->config, o->data, cfg);
  if (rc)
    return rc;
  cli_setup_logging(cfg);
  log_set_level(LOG_WARN); /* the command's own output is what matters */
  if (gw_open(gw, cfg)) {
    fprintf(stderr, "lyrebird %s: cannot open the store or the media\n", cmd);
    config_release(cfg);
    return 1;
  }
  return 0;
}

void cli_close_gateway(struct config *cfg, struct gateway *gw)
{
  gw_close(gw);
  config_release(cfg);
}

void cli_local_time(int64_t ms, char *out, size_t n)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  strftime(out, n, "%Y-%m-%d %H:%M %Z", &tm);
}
