#define _DEFAULT_SOURCE /* timegm */
#include <time.h>
/* lyrebird audit: the audit log, and the check of its chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "util/clock.h"
#include "util/err.h"

/* ---- lyrebird audit
 * ------------------------------------------------------------ */

static void audit_usage(FILE *f)
{
  fprintf(f,
          "usage: lyrebird audit [--patient NUMBER] [--since TIME] (--config "
          "FILE | --data DIR)\n"
          "       lyrebird audit verify (--config FILE | --data DIR)\n\n"
          "Prints the audit log: who viewed a patient's images or a secure\n"
          "link, exported a thread, signed in (or failed to), changed a\n"
          "patient's consent or an account, and every purge. 'verify' checks\n"
          "the chain of hashes that makes the log tamper-evident, and names\n"
          "the first row that was changed, removed or inserted.\n\n"
          "  -P, --patient NUMBER  only this patient's rows\n"
          "  -s, --since TIME      from this time (2026-12-01T00:00:00Z)\n"
          "  -c, --config FILE     the configuration file (INI)\n"
          "  -d, --data DIR        a demo's data directory instead\n"
          "  -h, --help            show this help\n");
}

static enum lb_err print_entry(void *arg, const struct audit_entry *e)
{
  char t[40];
  (void)arg;
  cli_local_time(e->at, t, sizeof t);
  printf("%6lld  %s  %-22s %s:%s%s%s%s%s%s%s\n", (long long)e->seq, t,
         e->action, e->actor_kind, e->actor[0] ? e->actor : "-",
         e->patient[0] ? "  patient " : "", e->patient,
         e->subject[0] ? "  " : "", e->subject, e->detail[0] ? "  " : "",
         e->detail);
  return LB_OK;
}

int cmd_audit(int argc, char **argv)
{
  struct record_opts o;
  struct config cfg;
  struct gateway gw;
  char e164[LB_E164_SIZE] = "", why[300];
  int verify = argc >= 2 && strcmp(argv[1], "verify") == 0, ok = 1, rc;
  int64_t since = 0;
  if (verify) {
    argc--;
    argv++;
  }
  if ((rc = cli_record_opts("audit", argc, argv, &o, audit_usage)) != -2)
    return rc;
  if (o.help)
    return 0;
  if (o.since && (since = clock_parse_iso8601(o.since, &ok), !ok)) {
    fprintf(stderr, "lyrebird audit: --since is a date or a UTC time, e.g. "
                    "2026-12-01 or 2026-12-01T09:00:00Z\n");
    return 2;
  }
  if ((rc = cli_open_gateway("audit", &o, &cfg, &gw)))
    return rc;
  if (o.patient && gw_patient_number(&gw, o.patient, e164, why, sizeof why)) {
    fprintf(stderr, "lyrebird audit: %s\n", why);
    rc = 2;
  } else if (verify) {
    struct audit_entry bad;
    int64_t rows = 0;
    enum lb_err r = store_audit_verify(gw.store, &rows, &bad, why, sizeof why);
    if (r == LB_ESIGNATURE) {
      printf("audit log BROKEN at row %lld: %s (%lld row(s) before it "
             "verify)\n",
             (long long)bad.seq, why, (long long)rows);
      rc = 1;
    } else if (r) {
      fprintf(stderr, "lyrebird audit: %s\n", lb_strerror(r));
      rc = 1;
    } else {
      printf("audit log ok: %lld row(s), every hash verifies\n",
             (long long)rows);
    }
  } else if (store_audit_list(gw.store, e164[0] ? e164 : NULL, since, 0, 10000,
                              print_entry, NULL)) {
    rc = 1;
  }
  cli_close_gateway(&cfg, &gw);
  return rc;
}
