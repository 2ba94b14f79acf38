/* lyrebird purge: the retention purge, by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "util/clock.h"
#include "util/err.h"

/* ---- lyrebird purge
 * ---------------------------------------------------------- */

static void purge_usage(FILE *f)
{
  fprintf(
      f,
      "usage: lyrebird purge [--dry-run] (--config FILE | --data DIR)\n\n"
      "Deletes the records [retention] has kept long enough: every\n"
      "patient whose last message is more than keep_years old (and, with a\n"
      "date of birth on file, who is min_age_years or older) loses their\n"
      "messages, media and thumbnails, links and link views, and the\n"
      "staff's notes on them, in batches.\n"
      "Consent history and the audit log stay. Each run is recorded in the\n"
      "audit log. The server also runs it daily ([retention] purge_daily).\n\n"
      "  -n, --dry-run      count what would go; delete nothing\n"
      "  -c, --config FILE  the configuration file (INI)\n"
      "  -d, --data DIR     a demo's data directory instead\n"
      "  -h, --help         show this help\n");
}

int cmd_purge(int argc, char **argv)
{
  struct record_opts o;
  struct config cfg;
  struct gateway gw;
  struct gw_purge_report rep;
  struct gw_actor who;
  char user[64], cut[LB_ISO8601_LEN];
  enum lb_err r;
  int rc = cli_record_opts("purge", argc, argv, &o, purge_usage);
  if (rc != -2)
    return rc;
  if (o.help)
    return 0;
  if ((rc = cli_open_gateway("purge", &o, &cfg, &gw)))
    return rc;
  cli_actor(&who, user, sizeof user);
  r = gw_purge(&gw, o.dry_run, &who, &rep);
  clock_iso8601(rep.last_before, cut, sizeof cut);
  printf("%s patients whose last message is before %.10s (born by %s if a\n"
         "date of birth is on file):\n",
         o.dry_run ? "Would purge" : "Purged", cut, rep.born_by);
  printf("  patients    %lld\n  messages    %lld\n  media       %lld\n",
         (long long)rep.counts.patients, (long long)rep.counts.messages,
         (long long)rep.counts.media);
  if (!o.dry_run)
    printf("  variants    %lld (thumbnails and MMS fits)\n  links       %lld\n"
           "  link views  %lld\n  blobs       %lld\n",
           (long long)rep.counts.variants, (long long)rep.counts.links,
           (long long)rep.counts.link_views, (long long)rep.counts.blobs);
  else
    printf("  links       %lld\n", (long long)rep.counts.links);
  if (r) {
    fprintf(stderr, "lyrebird purge: stopped: %s\n", lb_strerror(r));
    rc = 1;
  }
  cli_close_gateway(&cfg, &gw);
  return rc;
}
