/* lyrebird patient: a patient's consent, shown and changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "util/clock.h"
#include "util/err.h"

/* ---- lyrebird patient
 * -------------------------------------------------------- */

static void patient_usage(FILE *f)
{
  fprintf(f,
          "usage: lyrebird patient show NUMBER (--config FILE | --data DIR)\n"
          "       lyrebird patient opt-in NUMBER --reason TEXT (--config FILE "
          "| --data DIR)\n"
          "       lyrebird patient opt-out NUMBER --reason TEXT (--config "
          "FILE | --data DIR)\n\n"
          "show: the patient's name, date of birth, whether they opted out of\n"
          "messages, and every change of that choice, oldest first.\n"
          "opt-in / opt-out: records the patient's choice as given to staff,\n"
          "with the reason (required, e.g. \"consent given in person on 3 "
          "Dec\"),\n"
          "in the consent history and the audit log, as the OS user.\n\n"
          "  -c, --config FILE  the configuration file (INI)\n"
          "  -d, --data DIR     a demo's data directory instead\n"
          "  -r, --reason TEXT  why (opt-in, opt-out)\n"
          "  -h, --help         show this help\n");
}

static enum lb_err print_event(void *arg, const struct consent_event *e)
{
  char t[40], how[CONSENT_REASON_MAX + 100];
  (void)arg;
  cli_local_time(e->at, t, sizeof t);
  consent_describe(e, how, sizeof how);
  printf("  %s  %-9s  %-8s  %s\n", t,
         e->state == CONSENT_OPTED_OUT ? "opted out" : "opted in",
         consent_source_name(e->source), how);
  return LB_OK;
}

int cmd_patient(int argc, char **argv)
{
  struct record_opts o;
  struct config cfg;
  struct gateway gw;
  const char *verb, *number;
  char e164[LB_E164_SIZE], why[300];
  int rc;

  if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    patient_usage(stdout);
    return 0;
  }
  if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-') {
    patient_usage(stderr);
    return 2;
  }
  verb = argv[1];
  number = argv[2];
  if (strcmp(verb, "show") && strcmp(verb, "opt-in") &&
      strcmp(verb, "opt-out")) {
    fprintf(stderr, "lyrebird patient: unknown action '%s'\n\n", verb);
    patient_usage(stderr);
    return 2;
  }
  if ((rc = cli_record_opts("patient", argc - 2, argv + 2, &o,
                            patient_usage)) != -2)
    return rc;
  if (o.help)
    return 0;
  if (strcmp(verb, "show") && (!o.reason || !o.reason[0])) {
    fprintf(stderr,
            "lyrebird patient %s: --reason TEXT is required: a patient's "
            "choice is only changed with a recorded reason\n",
            verb);
    return 2;
  }
  if ((rc = cli_open_gateway("patient", &o, &cfg, &gw)))
    return rc;
  if (gw_patient_number(&gw, number, e164, why, sizeof why)) {
    fprintf(stderr, "lyrebird patient: %s\n", why);
    rc = 2;
  } else if (!strcmp(verb, "show")) {
    struct patient_row pr;
    struct consent c;
    enum lb_err r = store_patient_get(gw.store, e164, &pr);
    if (r == LB_ENOTFOUND) {
      fprintf(stderr, "lyrebird patient: lyrebird has no patient %s\n", e164);
      rc = 1;
    } else if (r || (r = store_patient_consent(gw.store, e164, &c))) {
      fprintf(stderr, "lyrebird patient: %s\n", lb_strerror(r));
      rc = 1;
    } else {
      char t[40], how[CONSENT_REASON_MAX + 100];
      printf("patient  %s\nname     %s\nborn     %s\n", e164,
             pr.name[0] ? pr.name : "(unknown)",
             pr.dob[0] ? pr.dob : "(not on file)");
      if (c.opted_out) {
        cli_local_time(c.since, t, sizeof t);
        consent_describe(&c.last, how, sizeof how);
        printf("messages OPTED OUT since %s: %s\n", t, how);
      } else {
        printf("messages receives them\n");
      }
      printf("consent history:\n");
      if (store_consent_history(gw.store, e164, print_event, NULL))
        rc = 1;
    }
  } else {
    struct consent_event e;
    struct gw_actor who;
    char user[64];
    int changed = 0;
    enum lb_err r;
    cli_actor(&who, user, sizeof user);
    r = gw_consent_set(&gw, e164,
                       strcmp(verb, "opt-in") ? CONSENT_OPTED_OUT
                                              : CONSENT_OPTED_IN,
                       &who, o.reason, &e, &changed);
    if (r == LB_ENOTFOUND) {
      fprintf(stderr, "lyrebird patient: lyrebird has no patient %s\n", e164);
      rc = 1;
    } else if (r) {
      fprintf(stderr, "lyrebird patient: %s\n", lb_strerror(r));
      rc = 1;
    } else if (!changed) {
      printf("%s already %s; nothing changed\n", e164,
             strcmp(verb, "opt-in") ? "opted out" : "receives messages");
    } else {
      printf("%s %s (recorded as %s: %s)\n", e164,
             strcmp(verb, "opt-in") ? "opted out" : "opted in", user, o.reason);
    }
  }
  cli_close_gateway(&cfg, &gw);
  return rc;
}
