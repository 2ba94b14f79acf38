/* lyrebird key: scoped API keys for the clinic's app, made and revoked
 * from the shell. The same use cases as /api/v1/keys (gateway/keys.c). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "core/scope.h"
#include "util/clock.h"
#include "util/err.h"

static void usage(FILE *f)
{
  char all[SCOPE_LIST_MAX];
  scope_format(SCOPE_ALL, all, sizeof all);
  fprintf(f,
          "usage: lyrebird key create --name NAME --scopes a,b [--expires "
          "TIME]\n"
          "       lyrebird key list\n"
          "       lyrebird key revoke ID\n"
          "  each with (--config FILE | --data DIR)\n\n"
          "API keys for the clinic's app: each may do only what its scopes\n"
          "allow. create prints the key once (lb_...); lyrebird keeps only\n"
          "its hash. A revoked key is refused at once.\n\n"
          "Scopes: %s\n(admin allows everything).\n\n"
          "  -c, --config FILE   the configuration file (INI)\n"
          "  -d, --data DIR      a demo's data directory instead\n"
          "  -n, --name NAME     (create) what the key is for\n"
          "  -s, --scopes LIST   (create) comma-separated scopes\n"
          "  -e, --expires TIME  (create) when it stops working (RFC 3339,\n"
          "                      or a date); default: until revoked\n"
          "  -h, --help          show this help\n",
          all);
}

static void print_key(const struct api_key *k)
{
  char t[40];
  cli_local_time(k->created_at, t, sizeof t);
  printf("%s  lb_%s_...  %s\n", k->id, k->prefix, k->name);
  printf("  scopes   %s\n", k->scopes);
  printf("  created  %s%s%s\n", t, k->created_by[0] ? " by " : "",
         k->created_by);
  if (k->last_used_at) {
    cli_local_time(k->last_used_at, t, sizeof t);
    printf("  used     %s\n", t);
  }
  if (k->expires_at) {
    cli_local_time(k->expires_at, t, sizeof t);
    printf("  expires  %s\n", t);
  }
  if (k->revoked_at) {
    cli_local_time(k->revoked_at, t, sizeof t);
    printf("  REVOKED  %s\n", t);
  }
}

static enum lb_err list_one(void *arg, const struct api_key *k)
{
  (*(int *)arg)++;
  print_key(k);
  return LB_OK;
}

int cmd_key(int argc, char **argv)
{
  static const struct option lo[] = {{"config", required_argument, 0, 'c'},
                                     {"data", required_argument, 0, 'd'},
                                     {"name", required_argument, 0, 'n'},
                                     {"scopes", required_argument, 0, 's'},
                                     {"expires", required_argument, 0, 'e'},
                                     {"help", no_argument, 0, 'h'},
                                     {0, 0, 0, 0}};
  struct record_opts o;
  const char *verb, *id = NULL, *name = NULL, *scopes = NULL,
             *expires = NULL;
  int64_t expires_at = 0;
  char secret[GW_KEY_SECRET_MAX], who_name[64], bad[72];
  struct config cfg;
  struct gateway gw;
  struct gw_actor who;
  struct api_key k;
  unsigned mask = 0;
  int c, rc, shift;
  enum lb_err err = LB_OK;

  if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    usage(stdout);
    return 0;
  }
  if (argc < 2 || (strcmp(argv[1], "create") && strcmp(argv[1], "list") &&
                   strcmp(argv[1], "revoke"))) {
    if (argc >= 2)
      fprintf(stderr, "lyrebird key: unknown action '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
  }
  verb = argv[1];
  shift = 1;
  if (!strcmp(verb, "revoke")) {
    if (argc < 3 || argv[2][0] == '-') {
      fprintf(stderr, "lyrebird key revoke: the key's ID is required (see "
                      "lyrebird key list)\n");
      return 2;
    }
    id = argv[2];
    shift = 2;
  }
  memset(&o, 0, sizeof o);
  optind = 1;
  argc -= shift;
  argv += shift;
  while ((c = getopt_long(argc, argv, "c:d:n:s:e:h", lo, NULL)) != -1) {
    switch (c) {
    case 'c':
      o.config = optarg;
      break;
    case 'd':
      o.data = optarg;
      break;
    case 'n':
      name = optarg;
      break;
    case 's':
      scopes = optarg;
      break;
    case 'e':
      expires = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (!strcmp(verb, "create")) {
    if (!name || !*name || !scopes) {
      fprintf(stderr, "lyrebird key create: --name NAME and --scopes a,b are "
                      "required\n");
      return 2;
    }
    if (expires) {
      int ok = 0;
      expires_at = clock_parse_iso8601(expires, &ok);
      if (!ok || expires_at <= clock_now_ms()) {
        fprintf(stderr, "lyrebird key create: --expires must be a time to "
                        "come, such as 2027-06-30 or 2027-06-30T00:00:00Z\n");
        return 2;
      }
    }
    if (scope_parse(scopes, &mask, bad, sizeof bad)) {
      char all[SCOPE_LIST_MAX];
      scope_format(SCOPE_ALL, all, sizeof all);
      fprintf(stderr, "lyrebird key create: unknown scope '%s'; the scopes "
                      "are %s\n",
              bad, all);
      return 2;
    }
  }
  if ((rc = cli_open_gateway("key", &o, &cfg, &gw)))
    return rc;
  cli_actor(&who, who_name, sizeof who_name);
  rc = 1;
  if (!strcmp(verb, "create")) {
    if (!(err = gw_key_create(&gw, &who, name, mask, expires_at, &k,
                              secret))) {
      print_key(&k);
      printf("\nthe key (shown once; send it as 'Authorization: Bearer "
             "<key>'):\n%s\n",
             secret);
      memset(secret, 0, sizeof secret);
      rc = 0;
    }
  } else if (!strcmp(verb, "list")) {
    int n = 0;
    if (!(err = store_key_list(gw.store, list_one, &n))) {
      if (!n)
        printf("no API keys yet (the [api] key of the configuration has "
               "every scope); make one with lyrebird key create\n");
      rc = 0;
    }
  } else if (!(err = gw_key_revoke(&gw, &who, id, &k))) {
    print_key(&k);
    rc = 0;
  }
  if (err == LB_ENOTFOUND)
    fprintf(stderr, "lyrebird key %s: no key '%s' (see lyrebird key list)\n",
            verb, id ? id : "");
  else if (err == LB_EINVAL)
    fprintf(stderr, "lyrebird key %s: the name is too long\n", verb);
  else if (err)
    fprintf(stderr, "lyrebird key %s: %s\n", verb, lb_strerror(err));
  cli_close_gateway(&cfg, &gw);
  return rc;
}
