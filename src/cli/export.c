/* lyrebird export: a patient's thread as a ZIP for the record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "util/clock.h"
#include "util/err.h"

/* ---- lyrebird export
 * ---------------------------------------------------------- */

static void export_usage(FILE *f)
{
  fprintf(f,
          "usage: lyrebird export --patient NUMBER --out FILE.zip (--config "
          "FILE | --data DIR)\n\n"
          "Writes the patient's whole thread for the clinical record: a ZIP\n"
          "with thread.json (every message, its statuses and the consent\n"
          "history), thread.html (printable, images inline, no script) and\n"
          "the media files as stored. The export is recorded in the audit "
          "log.\n\n"
          "  -P, --patient NUMBER  the patient\n"
          "  -o, --out FILE        the ZIP to write (made 0600)\n"
          "  -c, --config FILE     the configuration file (INI)\n"
          "  -d, --data DIR        a demo's data directory instead\n"
          "  -h, --help            show this help\n");
}

int cmd_export(int argc, char **argv)
{
  struct record_opts o;
  struct config cfg;
  struct gateway gw;
  struct gw_export_summary sum;
  struct gw_actor who;
  struct buf zip;
  char e164[LB_E164_SIZE], why[300], user[64];
  enum lb_err r;
  int rc = cli_record_opts("export", argc, argv, &o, export_usage);
  if (rc != -2)
    return rc;
  if (o.help)
    return 0;
  if (!o.patient || !o.out) {
    fprintf(stderr, "lyrebird export: --patient NUMBER and --out FILE.zip "
                    "are required\n");
    return 2;
  }
  if ((rc = cli_open_gateway("export", &o, &cfg, &gw)))
    return rc;
  buf_init(&zip, (size_t)1024 * 1024 * 1024);
  cli_actor(&who, user, sizeof user);
  if (gw_patient_number(&gw, o.patient, e164, why, sizeof why)) {
    fprintf(stderr, "lyrebird export: %s\n", why);
    rc = 2;
  } else if ((r = gw_export(&gw, e164, &who, &zip, &sum))) {
    fprintf(stderr, "lyrebird export: %s\n",
            r == LB_ENOTFOUND ? "there are no messages with that patient"
                              : lb_strerror(r));
    rc = 1;
  } else {
    FILE *f = fopen(o.out, "wb");
    if (!f || fwrite(zip.data, 1, zip.len, f) != zip.len || fclose(f)) {
      fprintf(stderr, "lyrebird export: cannot write %s\n", o.out);
      rc = 1;
    } else {
      printf("%s: %zu message(s) and %zu media file(s) of %s\n", o.out,
             sum.messages, sum.media, e164);
    }
  }
  buf_release(&zip);
  cli_close_gateway(&cfg, &gw);
  return rc;
}
