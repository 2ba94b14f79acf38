/* lyrebird: a self-hosted two-way SMS and MMS gateway for clinics. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gateway/gateway.h"
#include "cli/cli.h"
#include "media/image.h"
#include "util/clock.h"
#include "util/log.h"

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *summary;
} commands[] = {
    {"serve", cmd_serve, "run the gateway from a configuration file"},
    {"demo", cmd_demo, "run a complete gateway with a simulated carrier"},
    {"send", cmd_send, "send a message through a running gateway's API"},
    {"migrate", cmd_migrate, "bring the database schema up to date"},
    {"store", cmd_store, "copy a SQLite database into PostgreSQL"},
    {"check-config", cmd_check_config, "validate a configuration file"},
    {"user", cmd_user, "add, list and disable staff accounts"},
    {"routes", cmd_routes, "explain how texts and images travel, both ways"},
    {"image", cmd_image, "fit an image into an MMS byte budget"},
    {"provider", cmd_provider, "check credentials; register webhooks"},
    {"patient", cmd_patient, "a patient's consent: show, opt-in, opt-out"},
    {"export", cmd_export, "a patient's thread as a ZIP for the record"},
    {"purge", cmd_purge, "delete records past [retention]"},
    {"audit", cmd_audit, "read the audit log, or verify its chain"},
    {"webhook", cmd_webhook, "the clinic app's webhook endpoints"},
    {"key", cmd_key, "scoped API keys for the clinic's app"},
};

static void usage(FILE *f)
{
  fprintf(f, "usage: lyrebird <command> [options]\n\n"
             "A self-hosted two-way SMS and MMS gateway for clinics.\n\n"
             "Commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nRun 'lyrebird <command> --help' for a command's options.\n"
             "Options:\n  -h, --help     show this help\n"
             "  -V, --version  show the version\n");
}

int main(int argc, char **argv)
{
  int rc;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
      !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
    printf("lyrebird %s%s\n", LYREBIRD_VERSION,
           clock_is_settable() ? " (test build: settable clock)" : "");
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(argv[1], commands[i].name) != 0)
      continue;
    /* Signals are waited for, not handled: block them before any thread
     * starts so every thread inherits the mask. */
    gw_block_signals();
    umask(077);
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT)) {
      fprintf(stderr, "lyrebird: cannot initialise the crypto or HTTP "
                      "libraries\n");
      return 1;
    }
    rc = commands[i].fn(argc - 1, argv + 1);
    image_shutdown();
    curl_global_cleanup();
    return rc;
  }
  fprintf(stderr, "lyrebird: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
