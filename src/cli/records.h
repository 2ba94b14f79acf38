/* Shared by the clinical-record commands (patient, purge, audit, export):
 * their options, and the gateway they open without starting it. */
#ifndef LB_CLI_RECORDS_H
#define LB_CLI_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "gateway/gateway.h"

struct record_opts {
  const char *config, *data, *patient, *reason, *since, *out;
  int dry_run, help;
};

/* Parses --config, --data, --patient, --reason, --since, --out, --dry-run
 * and --help (shown with usage; o->help set). Returns -2 to go on, else
 * the exit code. */
int cli_record_opts(const char *cmd, int argc, char **argv,
                    struct record_opts *o, void (*usage)(FILE *f));
/* Opens the gateway on o's configuration; 0 when open. */
int cli_open_gateway(const char *cmd, const struct record_opts *o,
                     struct config *cfg, struct gateway *gw);
void cli_close_gateway(struct config *cfg, struct gateway *gw);
/* Who runs the command, for the audit log: the OS user (in name). */
void cli_actor(struct gw_actor *who, char *name, size_t n);
/* A time for people, in the clinic's zone. */
void cli_local_time(int64_t ms, char *out, size_t n);

#endif
