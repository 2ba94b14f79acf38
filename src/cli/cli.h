/* Subcommands, one file each. Each returns the process exit code:
 * 0 success, 1 failure, 2 usage error. */
#ifndef LB_CLI_H
#define LB_CLI_H

#include "config/config.h"
#include "util/err.h"

int cmd_serve(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_routes(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_provider(int argc, char **argv);
int cmd_patient(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_webhook(int argc, char **argv);
int cmd_key(int argc, char **argv);

/* Defaults, then the file (if path is not NULL), then the environment,
 * then validation. Prints errors to stderr; returns 0 when usable. */
int cli_load_config(const char *path, struct config *c);
/* Checks on this machine that the store's directory and the media
 * directory exist (or, for the media, can be made) and can be written;
 * each problem, with how to fix it, goes to errs (the caller's). Nothing is
 * created. LB_ECONFIG when there was any. */
enum lb_err cli_check_paths(const struct config *c, struct config_errors *errs);
/* Applies [log] level. */
void cli_setup_logging(const struct config *c);

/* Parses the options of a command that takes only --config FILE (required)
 * and --help. LB_OK: go on, with *path set. Otherwise the command is over
 * (--help was shown, or a usage error said), and *exit_code is its exit
 * code: LB_EINVAL with 2, or LB_ENOTFOUND (nothing to run) with 0. */
enum lb_err cli_config_only(const char *cmd, int argc, char **argv,
                            void (*usage)(FILE *f), const char **path,
                            int *exit_code);

/* The demo's whole configuration for data directory 'dir' (made when
 * missing, with its API key and link secret) and port, environment
 * overrides applied, validated. Returns 0 when usable; 'cmd' names the
 * command in errors. */
int cli_demo_config(const char *cmd, const char *dir, const char *port,
                    struct config *cfg);
/* The configuration a command works on: --config FILE, or --data DIR for a
 * demo's data directory. Returns 0 when usable. */
int cli_target_config(const char *cmd, const char *config_path,
                      const char *data_dir, struct config *cfg);
/* The demo's clinic: its name, number, phone, and the simulated carrier as
 * host with 'sim_secret'. */
void cli_demo_clinic(struct config *c, const char *sim_secret);

struct gateway;
/* Opens the gateway and its API from cfg, runs 'seed' (may be NULL) and
 * then the gateway until a signal; 'ready' is called once it listens.
 * Returns an exit code. */
int cli_run_app(const char *cmd, const struct config *cfg,
                enum lb_err (*seed)(struct gateway *gw),
                void (*ready)(struct gateway *gw, void *arg), void *arg);

#endif
