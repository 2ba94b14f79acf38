/* lyrebird user: staff accounts, from the command line. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/password.h"

static void usage(FILE *f)
{
  fprintf(
      f, "usage: lyrebird user add NAME [--role staff|admin] [--display TEXT]\n"
         "       lyrebird user list\n"
         "       lyrebird user passwd NAME\n"
         "       lyrebird user disable NAME\n"
         "       lyrebird user enable NAME\n"
         "  each with --config FILE (or --db PATH)\n\n"
         "Manages the staff accounts that sign in to the inbox. 'staff'\n"
         "read and send; 'admin' also manage accounts. 'passwd' and\n"
         "'disable' sign the account out everywhere.\n\n"
         "A new password is read from stdin with --password-stdin, asked\n"
         "for twice on a terminal, or else made up and printed once.\n\n"
         "  -c, --config FILE    the configuration file (INI)\n"
         "      --db PATH        the database itself (e.g. "
         "demo-data/lyrebird.db,\n"
         "                       or a postgresql:// URL)\n"
         "  -r, --role ROLE      staff (default) or admin\n"
         "      --display TEXT   the name shown in the inbox\n"
         "      --password-stdin read the password from stdin\n"
         "  -h, --help           show this help\n");
}

/* Reads one line with echo off. */
/* Reads a line without echo; LB_EIO when there is none. */
static enum lb_err prompt(const char *what, char *out, size_t n)
{
  struct termios old, quiet;
  int restored = tcgetattr(STDIN_FILENO, &old) == 0, ok;
  fprintf(stderr, "%s", what);
  fflush(stderr);
  if (restored) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  ok = fgets(out, (int)n, stdin) != NULL;
  if (restored)
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  fprintf(stderr, "\n");
  out[strcspn(out, "\r\n")] = '\0';
  return ok ? LB_OK : LB_EIO;
}

/* The new password: stdin, a terminal prompt, or made up (*made = 1).
 * LB_EINVAL (said on stderr) when there is none, or it is weak. */
static enum lb_err new_password(const char *user, int from_stdin, char *out,
                                size_t n, int *made)
{
  char again[LB_PASSWORD_MAX + 2], why[200], q[160];
  *made = 0;
  if (from_stdin) {
    if (!fgets(out, (int)n, stdin)) {
      fprintf(stderr, "lyrebird user: no password on stdin\n");
      return LB_EINVAL;
    }
    out[strcspn(out, "\r\n")] = '\0';
  } else if (isatty(STDIN_FILENO)) {
    snprintf(q, sizeof q, "New password for %s: ", user);
    if (prompt(q, out, n) || prompt("Again: ", again, sizeof again))
      return LB_EINVAL;
    if (strcmp(out, again) != 0) {
      fprintf(stderr, "lyrebird user: the passwords differ; nothing changed\n");
      return LB_EINVAL;
    }
  } else {
    crypto_token(out, n, 15); /* 120 bits, 20 characters */
    *made = 1;
  }
  if (password_check(out, why, sizeof why)) {
    fprintf(stderr, "lyrebird user: %s\n", why);
    return LB_EINVAL;
  }
  return LB_OK;
}

static enum lb_err print_user(void *arg, const struct user *u)
{
  char t[LB_ISO8601_LEN];
  clock_iso8601(u->created_at, t, sizeof t);
  t[10] = '\0';
  printf("%-24s %-6s %-9s %-11s %s\n", u->username, role_name(u->role),
         u->disabled ? "disabled" : "active", t, u->name);
  (*(int *)arg)++;
  return 0;
}

/* An account change on the audit log, as the OS user who ran the
 * command. A failure to record it is said, not fatal: the change is made. */
static void audit_change(struct store *st, const char *action, const char *name)
{
  struct passwd *pw = getpwuid(getuid());
  struct audit_entry a;
  audit_entry_init(&a, "cli", pw && pw->pw_name ? pw->pw_name : "unknown",
                   action, NULL, name, NULL);
  if (store_audit(st, &a))
    fprintf(stderr, "lyrebird user: the change was not recorded in the "
                    "audit log\n");
}

static int run(struct store *st, const char *action, const char *name, int role,
               const char *display, int from_stdin)
{
  char pw[LB_PASSWORD_MAX + 2], why[200];
  int made = 0, rc;

  if (strcmp(action, "list") == 0) {
    int n = 0;
    printf("%-24s %-6s %-9s %-11s %s\n", "USERNAME", "ROLE", "STATUS",
           "CREATED", "NAME");
    rc = store_users(st, print_user, &n);
    if (!rc && !n)
      printf("(no accounts yet: add one with 'lyrebird user add NAME')\n");
    return rc ? 1 : 0;
  }
  if (!name) {
    fprintf(stderr, "lyrebird user %s: which user? (lyrebird user %s NAME)\n",
            action, action);
    return 2;
  }
  if (strcmp(action, "add") == 0) {
    struct user u;
    memset(&u, 0, sizeof u);
    if (username_check(name, why, sizeof why)) {
      fprintf(stderr, "lyrebird user add: %s\n", why);
      return 1;
    }
    if (new_password(name, from_stdin, pw, sizeof pw, &made))
      return 1;
    snprintf(u.username, sizeof u.username, "%s", name);
    snprintf(u.name, sizeof u.name, "%s", display ? display : "");
    u.role = role < 0 ? ROLE_STAFF : (enum user_role)role;
    if ((rc = password_hash(pw, u.password_hash)))
      goto fail;
    rc = store_user_add(st, &u);
    if (rc == LB_EDUPLICATE) {
      fprintf(stderr,
              "lyrebird user add: '%s' already exists (use passwd "
              "to set a new password)\n",
              name);
      return 1;
    }
    if (rc)
      goto fail;
    audit_change(st, "user.created", name);
    printf("added %s (%s)\n", name, role_name(u.role));
  } else if (strcmp(action, "passwd") == 0 || strcmp(action, "disable") == 0 ||
             strcmp(action, "enable") == 0) {
    char hash[LB_PWHASH_MAX];
    struct user_change ch = {NULL, display, role, -1, 0};
    struct user u;
    if ((rc = store_user_get(st, name, &u)) == LB_ENOTFOUND) {
      fprintf(stderr,
              "lyrebird user %s: no user '%s' (see 'lyrebird user "
              "list')\n",
              action, name);
      return 1;
    }
    if (rc)
      goto fail;
    if (action[0] == 'p') {
      if (new_password(name, from_stdin, pw, sizeof pw, &made))
        return 1;
      if ((rc = password_hash(pw, hash)))
        goto fail;
      ch.password_hash = hash;
    } else {
      ch.disabled = action[0] == 'd';
    }
    if ((rc = store_user_update(st, name, &ch)))
      goto fail;
    audit_change(st,
                 action[0] == 'p'   ? "user.password_changed"
                 : action[0] == 'd' ? "user.disabled"
                                    : "user.enabled",
                 name);
    printf("%s: %s\n", name,
           action[0] == 'p'   ? "new password set; signed out everywhere"
           : action[0] == 'd' ? "disabled and signed out everywhere"
                              : "enabled");
  } else {
    fprintf(stderr, "lyrebird user: unknown action '%s'\n\n", action);
    usage(stderr);
    return 2;
  }
  if (made)
    printf("password for %s (shown once): %s\n", name, pw);
  return 0;
fail:
  fprintf(stderr, "lyrebird user %s: %s\n", action, lb_strerror(rc));
  return 1;
}

int cmd_user(int argc, char **argv)
{
  enum { OPT_DB = 256, OPT_DISPLAY, OPT_STDIN };
  static const struct option opts[] = {
      {"config", required_argument, 0, 'c'},
      {"db", required_argument, 0, OPT_DB},
      {"role", required_argument, 0, 'r'},
      {"display", required_argument, 0, OPT_DISPLAY},
      {"password-stdin", no_argument, 0, OPT_STDIN},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *path = NULL, *db = NULL, *display = NULL, *action, *name;
  struct config cfg;
  struct store *st = NULL;
  int o, role = -1, from_stdin = 0, rc, from, to, have_cfg = 0;
  enum user_role ro;

  while ((o = getopt_long(argc, argv, "c:r:h", opts, NULL)) != -1) {
    switch (o) {
    case 'c':
      path = optarg;
      break;
    case OPT_DB:
      db = optarg;
      break;
    case 'r':
      if (role_parse(optarg, &ro)) {
        fprintf(stderr, "lyrebird user: --role is staff or admin\n");
        return 2;
      }
      role = (int)ro;
      break;
    case OPT_DISPLAY:
      display = optarg;
      break;
    case OPT_STDIN:
      from_stdin = 1;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind >= argc || (!path && !db) || argc - optind > 2) {
    usage(stderr);
    return 2;
  }
  action = argv[optind];
  name = optind + 1 < argc ? argv[optind + 1] : NULL;
  if (!db) {
    if (cli_load_config(path, &cfg)) {
      config_release(&cfg);
      return 1;
    }
    have_cfg = 1;
    db = config_store_url(&cfg);
  } else if (!strstr(db, "://") && access(db, F_OK) != 0) {
    fprintf(stderr, "lyrebird user: no database at %s\n", db);
    return 1;
  }
  {
    struct store_options so = {1, have_cfg ? cfg.store_pool_size : 0,
                               have_cfg ? (int)cfg.store_statement_timeout_ms
                                        : 0};
    rc = store_open(db, &so, &st);
    if (!rc)
      rc = store_migrate(st, &from, &to);
  }
  if (rc) {
    fprintf(stderr, "lyrebird user: cannot open %s: %s\n",
            strstr(db, "://") ? "the database" : db, lb_strerror(rc));
    rc = 1;
  } else {
    rc = run(st, action, name, role, display, from_stdin);
  }
  store_free(st);
  if (have_cfg)
    config_release(&cfg);
  return rc;
}
