/* lyrebird provider check NAME --config FILE: proves the provider's
 * credentials with one harmless call (an account balance, the account
 * itself) and prints what the provider answered.
 * lyrebird provider setup NAME --config FILE: registers lyrebird's webhooks
 * with the provider (for those with an API for it) and prints what each
 * request did. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "http/client.h"
#include "providers/provider.h"
#include "util/err.h"

static void usage(FILE *f)
{
  fprintf(f, "usage: lyrebird provider check NAME --config FILE\n"
             "       lyrebird provider setup NAME --config FILE\n\n"
             "check: checks the credentials for provider NAME (e.g.\n"
             "smsbroadcast, twilio) from the configuration, with one call\n"
             "that sends nothing: the account balance, or the account\n"
             "itself. Prints the provider's answer, or its error.\n\n"
             "setup: registers lyrebird's webhooks (replies, receipts) with\n"
             "the provider through its API, under [server] public_url, and\n"
             "prints what each request did. For providers whose webhooks\n"
             "are set in their portal, it says where to read how.\n\n"
             "  -c, --config FILE  the configuration file (INI)\n"
             "  -h, --help         show this help\n\n"
             "Exit status: 0 the provider accepted everything, 1 it did not\n"
             "(or could not be reached), 2 usage.\n");
}

/* The provider 'name' from cfg, once its keys are complete; prints what
 * is wrong and returns non-zero otherwise. */
static int open_provider(const struct config *cfg, const char *name,
                         struct provider *p)
{
  struct config_errors errs = {0};
  int rc;
  config_check_provider(cfg, name, &errs);
  if (errs.n) {
    config_errors_print(stderr, cfg, &errs);
    return 1;
  }
  if ((rc = provider_init(p, name, cfg))) {
    fprintf(stderr, "lyrebird provider: %s: %s (known providers: %s)\n", name,
            rc == LB_ENOTFOUND ? "no such provider" : lb_strerror(rc),
            provider_names());
    return 1;
  }
  return 0;
}

static int check(const struct config *cfg, const char *name)
{
  struct provider p;
  struct http_client *hc = NULL;
  struct wire_request req;
  struct wire_response res;
  char answer[512] = "";
  int rc, status = 1;

  wire_request_init(&req);
  wire_response_init(&res);
  if (open_provider(cfg, name, &p))
    return 1;
  if (!p.ops->build_check || !p.ops->parse_check) {
    printf("%s: nothing to check (%s has no account)\n", name, p.ops->title);
    status = 0;
    goto out;
  }
  if ((rc = p.ops->build_check(&p, &req))) {
    fprintf(stderr,
            "lyrebird provider: %s: %s; check its keys in the "
            "configuration\n",
            name, lb_strerror(rc));
    goto out;
  }
  if ((rc = http_client_new(cfg->send_timeout_ms, &hc)) ||
      (rc = http_client_perform(hc, &req, &res))) {
    fprintf(stderr, "lyrebird provider: %s: %s\n", name, lb_strerror(rc));
    goto out;
  }
  if (res.error) {
    fprintf(stderr, "lyrebird provider: %s: cannot reach %s: %s\n", name,
            p.ops->title, res.error_text[0] ? res.error_text : "no answer");
    goto out;
  }
  rc = p.ops->parse_check(&p, &res, answer, sizeof answer);
  if (rc) {
    fprintf(stderr, "lyrebird provider: %s: %s: %s\n", name,
            rc == LB_EAUTH ? "the credentials were refused" : "error",
            answer[0] ? answer : lb_strerror(rc));
    goto out;
  }
  printf("%s: ok, %s\n", name, answer);
  status = 0;
out:
  http_client_free(hc);
  wire_request_release(&req);
  wire_response_release(&res);
  provider_release(&p);
  return status;
}

/* Runs the provider's set-up requests in order; stops at the first
 * failure. */
static int setup(const struct config *cfg, const char *name)
{
  struct provider p;
  struct http_client *hc = NULL;
  char base[LB_URL_MAX], answer[512];
  int rc = LB_OK, status = 1, n;

  if (open_provider(cfg, name, &p))
    return 1;
  if (!p.ops->build_setup || !p.ops->parse_setup) {
    printf("%s: %s has no API for webhooks; set them in its portal as "
           "docs/providers/%s.md says\n",
           name, p.ops->title, name);
    status = 0;
    goto out;
  }
  snprintf(base, sizeof base, "%s/hooks/%s", cfg->public_url, name);
  if ((rc = http_client_new(cfg->send_timeout_ms, &hc))) {
    fprintf(stderr, "lyrebird provider: %s\n", lb_strerror(rc));
    goto out;
  }
  for (n = 0;; n++) {
    struct wire_request req;
    struct wire_response res;
    wire_request_init(&req);
    wire_response_init(&res);
    answer[0] = '\0';
    rc = p.ops->build_setup(&p, n, base, &req);
    if (rc == LB_OK) {
      if ((rc = http_client_perform(hc, &req, &res)) == LB_OK && res.error) {
        snprintf(answer, sizeof answer, "cannot reach %s: %s", p.ops->title,
                 res.error_text[0] ? res.error_text : "no answer");
        rc = LB_EIO;
      } else if (rc == LB_OK) {
        rc = p.ops->parse_setup(&p, n, &res, answer, sizeof answer);
      }
    }
    wire_request_release(&req);
    wire_response_release(&res);
    if (rc == LB_ENOTFOUND && n > 0) {
      rc = LB_OK;
      break;
    }
    if (rc) {
      fprintf(stderr, "lyrebird provider: %s: %s\n", name,
              answer[0] ? answer : lb_strerror(rc));
      goto out;
    }
    printf("%s: %s\n", name, answer);
  }
  status = 0;
out:
  http_client_free(hc);
  provider_release(&p);
  return status;
}

int cmd_provider(int argc, char **argv)
{
  const char *path = NULL, *name;
  struct config cfg;
  int rc;
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "setup") != 0) {
    fprintf(stderr, "lyrebird provider: unknown subcommand '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
  }
  if (argc < 3 || argv[2][0] == '-') {
    usage(stderr);
    return 2;
  }
  name = argv[2];
  if (cli_config_only("provider", argc - 2, argv + 2, usage, &path, &rc))
    return rc;
  if (cli_load_config(path, &cfg)) {
    config_release(&cfg);
    return 1;
  }
  cli_setup_logging(&cfg);
  rc = strcmp(argv[1], "setup") == 0 ? setup(&cfg, name) : check(&cfg, name);
  config_release(&cfg);
  return rc;
}
