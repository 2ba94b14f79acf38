#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/gateway.h"
#include "cli/cli.h"
#include "providers/sim.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/log.h"
#include "util/password.h"

#define DEMO_NUMBER "+61488868772"
#define DEMO_CLINIC "WalkEasy Nexus Clinic"
#define DEMO_USER "reception"
/* In the data directory: the access log, kept off the console so that the
 * banner and the warnings stay in view. */
#define DEMO_ACCESS_LOG "access.log"
/* From the range ACMA reserves for fiction. */
#define DEMO_PHONE "(02) 5550 1234"

/* The demo staff member's password: LYREBIRD_DEMO_PASSWORD, else the one
 * kept in DIR/staff-password (made on first use). */
static char demo_password[LB_PASSWORD_MAX + 2];

/* Numbers from the range ACMA reserves for fiction: they reach nobody. */
static const struct {
  const char *e164, *name, *dob;
} demo_patients[] = {{"+61491570156", "Jordan Lee", "1984-03-07"},
                     {"+61491570157", "Priya Sharma", "1990-11-02"}};

static void usage(FILE *f)
{
  fprintf(
      f,
      "usage: lyrebird demo [--port N] [--data DIR]\n\n"
      "Runs a complete gateway on one machine: SQLite and media under\n"
      "DIR, the simulated carrier under /sim/, and the clinic number\n"
      "%s (%s) with two demo patients.\n"
      "LYREBIRD_API_KEY fixes the API key (otherwise one is made and\n"
      "kept in DIR/api-key). The staff sign-in is '" DEMO_USER "' with the\n"
      "password in DIR/staff-password, or LYREBIRD_DEMO_PASSWORD.\n"
      "Any LYREBIRD_<SECTION>_<KEY> applies, e.g.\n"
      "LYREBIRD_SIM_MMS_OUT=false makes the carrier SMS-only (images go as\n"
      "secure links); add LYREBIRD_LINKS_CHECK=dob to ask for the date of\n"
      "birth before an image shows. The access log (one JSON line per\n"
      "request) goes to DIR/access.log, the rest of the log to stderr.\n\n"
      "  -p, --port N    port on 127.0.0.1 (default 8080)\n"
      "  -d, --data DIR  data directory (default ./demo-data)\n"
      "  -h, --help      show this help\n",
      DEMO_NUMBER, DEMO_CLINIC);
}

/* A secret kept in DIR/<file> (at least 'min' characters), made with
 * 'bytes' bytes of entropy on first use. LB_EIO when it cannot be kept. */
static enum lb_err demo_secret(const char *dir, const char *file, size_t min,
                               size_t bytes, char *out, size_t n)
{
  char path[1100];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, file);
  f = fopen(path, "r");
  if (f) {
    int ok = fgets(out, (int)n, f) != NULL;
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    if (ok && strlen(out) >= min)
      return LB_OK;
  }
  crypto_token(out, n, bytes);
  f = fopen(path, "w");
  if (!f)
    return LB_EIO;
  fprintf(f, "%s\n", out);
  fclose(f);
  return LB_OK;
}

/* The demo staff member exists, is enabled and has the demo password. */
void cli_demo_clinic(struct config *c, const char *sim_secret)
{
  config_set(c, "clinic", "name", DEMO_CLINIC);
  config_set(c, "clinic", "number", DEMO_NUMBER);
  config_set(c, "clinic", "phone", DEMO_PHONE);
  config_set(c, "clinic", "host", "sim");
  config_set(c, "sim", "enabled", "true");
  config_set(c, "sim", "secret", sim_secret);
}

static enum lb_err seed_user(struct gateway *a)
{
  struct user u;
  enum lb_err rc = store_user_get(a->store, DEMO_USER, &u);
  if (rc == LB_ENOTFOUND) {
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "%s", DEMO_USER);
    snprintf(u.name, sizeof u.name, "Reception");
    u.role = ROLE_STAFF;
    if ((rc = password_hash(demo_password, u.password_hash)))
      return rc;
    return store_user_add(a->store, &u);
  }
  if (rc)
    return rc;
  if (u.disabled || password_verify(u.password_hash, demo_password)) {
    char hash[LB_PWHASH_MAX];
    struct user_change ch = {hash, NULL, -1, 0, 0};
    if ((rc = password_hash(demo_password, hash)))
      return rc;
    rc = store_user_update(a->store, DEMO_USER, &ch);
  }
  return rc;
}

/* Texts a clinic sends every day, for the composer's '/' list: only into
 * a demo whose templates are all gone (a new one; staff may delete them). */
static const struct {
  const char *name, *body;
} demo_templates[] = {
    {"Appointment reminder",
     "Hi {first_name}, a reminder of your appointment at {clinic_name} on "
     "{day} at {time}. Reply or call {clinic_phone} to change it."},
    {"Photo request",
     "Hi {first_name}, could you reply with a photo of the area we treated? "
     "It helps us see how it is healing. {clinic_name}"},
    {"Orthotics ready",
     "Hi {first_name}, your orthotics are ready to collect from "
     "{clinic_name}. Call {clinic_phone} if you have questions."},
};

static enum lb_err count_template(void *arg, const struct msg_template *t)
{
  (void)t;
  ++*(int *)arg;
  return LB_OK;
}

static enum lb_err seed_templates(struct gateway *a)
{
  struct gw_actor who = {"system", "demo", NULL};
  int n = 0;
  enum lb_err rc = store_template_list(a->store, count_template, &n);
  for (size_t i = 0;
       !rc && !n && i < sizeof demo_templates / sizeof demo_templates[0]; i++) {
    struct msg_template t;
    char why[256];
    memset(&t, 0, sizeof t);
    rc = gw_template_save(a, &who, NULL, demo_templates[i].name,
                          demo_templates[i].body, &t, why, sizeof why);
    msg_template_release(&t);
  }
  return rc;
}

static enum lb_err seed(struct gateway *a)
{
  enum lb_err rc = seed_user(a);
  if (!rc)
    rc = seed_templates(a);
  for (size_t i = 0; i < sizeof demo_patients / sizeof demo_patients[0] && !rc;
       i++) {
    rc = store_patient_upsert(a->store, demo_patients[i].e164,
                              demo_patients[i].name);
    if (!rc)
      rc = store_conversation_open(a->store, a->cfg->number,
                                   demo_patients[i].e164);
    /* For the link check (LYREBIRD_LINKS_CHECK=dob), unless staff changed
     * it. */
    if (!rc) {
      char dob[11];
      if (store_patient_dob(a->store, demo_patients[i].e164, dob) ==
          LB_ENOTFOUND)
        rc = gw_patient_update(a, demo_patients[i].e164, NULL,
                               demo_patients[i].dob, NULL);
    }
  }
  return rc;
}

static void ready(struct gateway *a, void *arg)
{
  const struct config *c = a->cfg;
  const char *dir = arg;
  const char *u = c->public_url;
  printf("\nlyrebird demo is running: %s, %s, simulated carrier%s\n\n",
         c->clinic_name, c->number,
         sim_settings(c)->mms_out ? " (MMS on)" : " (SMS only)");
  printf("  Inbox      %s/inbox  (sign in as %s / %s)\n", u, DEMO_USER,
         demo_password);
  printf("  Phone      %s/sim/phone  (play the patient)\n", u);
  printf("  API        %s/api/v1\n", u);
  printf("  API key    %s\n", c->api_key);
  printf("  Health     %s/healthz\n", u);
  printf("  Handsets   %s/sim/handsets/<number>/messages\n", u);
  printf("  Data       %s\n", dir);
  if (c->access_log)
    printf("  Access log %s/" DEMO_ACCESS_LOG "  (one JSON line per request)\n",
           dir);
  printf("\n");
  printf("Demo patients:\n");
  for (size_t i = 0; i < sizeof demo_patients / sizeof demo_patients[0]; i++)
    printf("  %-14s %-13s born %s\n", demo_patients[i].e164,
           demo_patients[i].name, demo_patients[i].dob);
  printf("\nTry it:\n"
         "  curl -s -H 'Authorization: Bearer %s' \\\n"
         "    -d '{\"to\": \"0491 570 156\", \"text\": \"Hello from the "
         "clinic\"}' \\\n"
         "    %s/api/v1/messages\n"
         "  curl -s %s/sim/handsets/+61491570156/messages\n\n"
         "Stop with Ctrl-C.\n",
         c->api_key, u, u);
  fflush(stdout);
}

int cli_demo_config(const char *cmd, const char *dir, const char *port,
                    struct config *cfg)
{
  char path[1100], key[128], secret[64], lsecret[80];
  struct config_errors errs = {0};
  if (mkdir(dir, 0700) && errno != EEXIST) {
    fprintf(stderr, "lyrebird %s: cannot create %s: %s\n", cmd, dir,
            strerror(errno));
    return 1;
  }
  if (demo_secret(dir, "api-key", 24, 32, key, sizeof key)) {
    fprintf(stderr, "lyrebird %s: cannot write %s/api-key\n", cmd, dir);
    return 1;
  }
  if (demo_secret(dir, "link-secret", 32, 32, lsecret, sizeof lsecret)) {
    fprintf(stderr, "lyrebird %s: cannot write %s/link-secret\n", cmd, dir);
    return 1;
  }
  crypto_token(secret, sizeof secret, 24);
  if (config_init(cfg))
    return 1;
  config_set(cfg, "server", "port", port ? port : "8080");
  config_set(cfg, "api", "key", key);
  snprintf(path, sizeof path, "%s/lyrebird.db", dir);
  config_set(cfg, "store", "path", path);
  snprintf(path, sizeof path, "%s/media", dir);
  config_set(cfg, "media", "dir", path);
  cli_demo_clinic(cfg, secret);
  config_set(cfg, "links", "secret", lsecret);
  /* The demo's media links point at this machine (the phone simulator). */
  config_set(cfg, "media", "fetch_private", "true");
  /* And the clinic app's webhook receiver may be on this machine too. */
  config_set(cfg, "events", "allow_private_urls", "true");
  config_load_env(cfg, &errs);
  if (!errs.n)
    config_validate(cfg, &errs);
  if (errs.n) {
    config_errors_print(stderr, cfg, &errs);
    config_release(cfg);
    return 1;
  }
  return 0;
}

/* Opens DIR/access.log for appending (made 0600) into *out, which the
 * caller then owns and fcloses. LB_EIO (said on stderr) when it cannot. */
static enum lb_err open_access_log(const char *dir, FILE **out)
{
  char path[1100];
  enum lb_err rc = LB_EIO;
  int fd;
  *out = NULL;
  snprintf(path, sizeof path, "%s/" DEMO_ACCESS_LOG, dir);
  fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    goto out;
  if (!(*out = fdopen(fd, "a"))) {
    close(fd);
    goto out;
  }
  rc = LB_OK;
out:
  if (rc)
    fprintf(stderr, "lyrebird demo: cannot write %s: %s\n", path,
            strerror(errno));
  return rc;
}

int cmd_demo(int argc, char **argv)
{
  static const struct option opts[] = {{"port", required_argument, 0, 'p'},
                                       {"data", required_argument, 0, 'd'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *dir = "./demo-data", *port = "8080";
  struct config cfg;
  FILE *access = NULL;
  int o, rc;

  while ((o = getopt_long(argc, argv, "p:d:h", opts, NULL)) != -1) {
    if (o == 'p')
      port = optarg;
    else if (o == 'd')
      dir = optarg;
    else if (o == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (getenv("LYREBIRD_DEMO_PASSWORD")) {
    snprintf(demo_password, sizeof demo_password, "%s",
             getenv("LYREBIRD_DEMO_PASSWORD"));
  } else if (mkdir(dir, 0700) && errno != EEXIST) {
    fprintf(stderr, "lyrebird demo: cannot create %s: %s\n", dir,
            strerror(errno));
    return 1;
  } else if (demo_secret(dir, "staff-password", LB_PASSWORD_MIN, 12,
                         demo_password, sizeof demo_password)) {
    fprintf(stderr, "lyrebird demo: cannot write %s/staff-password\n", dir);
    return 1;
  }
  {
    char why[200];
    if (password_check(demo_password, why, sizeof why)) {
      fprintf(stderr, "lyrebird demo: LYREBIRD_DEMO_PASSWORD: %s\n", why);
      return 1;
    }
  }
  if (cli_demo_config("demo", dir, port, &cfg))
    return 1;
  if (cfg.access_log && open_access_log(dir, &access)) {
    config_release(&cfg);
    return 1;
  }
  log_divert("http.access", access);
  rc = cli_run_app("demo", &cfg, seed, ready, (void *)dir);
  log_divert("http.access", NULL);
  if (access)
    fclose(access);
  config_release(&cfg);
  return rc;
}
