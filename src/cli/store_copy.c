/* lyrebird store copy: moves a clinic's data from its SQLite file into a
 * new PostgreSQL database (store/copy.c does the copying). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"
#include "util/err.h"

static void usage(FILE *f)
{
  fprintf(
      f,
      "usage: lyrebird store copy --from sqlite:PATH [--to URL]\n\n"
      "Copies every row of a clinic's SQLite database into a new, empty\n"
      "PostgreSQL database, keeping every id, time and the audit chain:\n"
      "the step from one node to several (docs/scaling.md). Both are\n"
      "migrated to this lyrebird's schema first. Stop lyrebird before\n"
      "copying, and point [store] url at the new database after. Each\n"
      "table's rows are counted again in the target and printed.\n\n"
      "  --from sqlite:PATH  the SQLite file (\"sqlite:\" may be left out)\n"
      "  --to URL            postgresql://USER@HOST/DB; absent: the\n"
      "                      LYREBIRD_STORE_URL environment variable (a URL\n"
      "                      with a password is better given there)\n"
      "  -h, --help          show this help\n");
}

static void progress(void *arg, const char *table, int64_t rows)
{
  int64_t *total = arg;
  *total += rows;
  printf("%-22s %lld rows\n", table, (long long)rows);
}

static int copy(const char *from, const char *to)
{
  struct store_options so = {1, 2, 0};
  struct store *src = NULL, *dst = NULL;
  int64_t total = 0;
  int a = 0, b = 0;
  enum lb_err rc;
  if (strncmp(from, "sqlite:", 7) == 0)
    from += 7;
  if (strncmp(to, "postgresql://", 13) && strncmp(to, "postgres://", 11)) {
    fprintf(stderr, "lyrebird store copy: --to wants a postgresql:// URL\n");
    return 2;
  }
  if ((rc = store_open(from, &so, &src)) || (rc = store_migrate(src, &a, &b))) {
    fprintf(stderr, "lyrebird store copy: cannot open %s: %s\n", from,
            lb_strerror(rc));
    goto out;
  }
  if ((rc = store_open(to, &so, &dst)) || (rc = store_migrate(dst, &a, &b))) {
    fprintf(stderr,
            "lyrebird store copy: cannot open the PostgreSQL "
            "database: %s\n",
            lb_strerror(rc));
    goto out;
  }
  if ((rc = store_copy(src, dst, progress, &total)))
    fprintf(stderr, "lyrebird store copy: %s (see the log line above)\n",
            lb_strerror(rc));
  else
    printf("copied %lld rows from %s\n", (long long)total, from);
out:
  store_free(dst);
  store_free(src);
  return rc ? 1 : 0;
}

int cmd_store(int argc, char **argv)
{
  static const struct option opts[] = {{"from", required_argument, 0, 'f'},
                                       {"to", required_argument, 0, 't'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *from = NULL, *to = NULL;
  int o;
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    usage(stdout);
    return 0;
  }
  if (argc < 2 || strcmp(argv[1], "copy")) {
    usage(stderr);
    return 2;
  }
  argc--;
  argv++;
  optind = 1;
  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (o == 'f')
      from = optarg;
    else if (o == 't')
      to = optarg;
    else if (o == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (!to)
    to = getenv("LYREBIRD_STORE_URL");
  if (!from || !to || optind < argc) {
    usage(stderr);
    return 2;
  }
  return copy(from, to);
}
