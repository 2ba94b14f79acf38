/* The directories a configuration writes to, checked on this machine:
 * [store] path's directory (SQLite creates the file and its -wal and -shm
 * beside it, never the directory) and [media] dir (created 0700 when
 * missing, so its nearest existing parent must take it). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/err.h"

#define FIX_MKDIR                                                              \
  "create it for the account that runs lyrebird, e.g. 'sudo mkdir -p %s && "   \
  "sudo chown lyrebird: %s'"
#define FIX_CHOWN                                                              \
  "give it to the account that runs lyrebird, e.g. 'sudo chown lyrebird: %s'"  \
  ", or run lyrebird as its owner"

/* The directory part of path ("." for a bare name) in out. */
static void dir_of(const char *path, char *out, size_t n)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(out, n, ".");
  else if (slash == path)
    snprintf(out, n, "/");
  else
    snprintf(out, n, "%.*s", (int)(slash - path), path);
}

/* Whether dir (which exists) is a directory this process may create files
 * in; adds the error to errs when not. Returns 0 when it is. */
static int check_existing(const char *where, const char *what, const char *dir,
                          const struct stat *st, struct config_errors *errs)
{
  if (!S_ISDIR(st->st_mode)) {
    config_errors_add(errs, 0, where,
                      "%s, %s, is not a directory; point the key elsewhere, "
                      "or move what is there",
                      what, dir);
    return 1;
  }
  if (access(dir, W_OK | X_OK)) {
    config_errors_add(errs, 0, where, "cannot write in %s, %s (%s); " FIX_CHOWN,
                      what, dir, strerror(errno), dir);
    return 1;
  }
  return 0;
}

/* dir must be a writable directory; when 'made' (lyrebird creates it), a
 * missing dir is fine if its nearest existing parent is one. */
static void check_dir(const char *where, const char *what, const char *dir,
                      int made, struct config_errors *errs)
{
  char up[PATH_MAX];
  struct stat st;

  if (stat(dir, &st) == 0) {
    check_existing(where, what, dir, &st, errs);
    return;
  }
  if (errno == ENOTDIR) {
    config_errors_add(errs, 0, where,
                      "%s, %s, cannot be a directory: a part of that path is "
                      "a file; point the key elsewhere",
                      what, dir);
    return;
  }
  if (errno != ENOENT) {
    config_errors_add(errs, 0, where, "cannot read %s, %s: %s", what, dir,
                      strerror(errno));
    return;
  }
  if (!made) {
    config_errors_add(errs, 0, where, "%s, %s, does not exist; " FIX_MKDIR,
                      what, dir, dir, dir);
    return;
  }
  /* lyrebird makes it (mkdir -p): the nearest existing parent must let it. */
  snprintf(up, sizeof up, "%s", dir);
  for (;;) {
    char parent[PATH_MAX];
    dir_of(up, parent, sizeof parent);
    if (!strcmp(parent, up))
      return;
    snprintf(up, sizeof up, "%s", parent);
    if (stat(up, &st) == 0)
      break;
    if (errno != ENOENT) {
      config_errors_add(errs, 0, where, "%s cannot be created: %s: %s", dir, up,
                        strerror(errno));
      return;
    }
  }
  if (!S_ISDIR(st.st_mode) || access(up, W_OK | X_OK))
    config_errors_add(
        errs, 0, where,
        "%s, %s, does not exist and cannot be created in %s; " FIX_MKDIR, what,
        dir, up, dir, dir);
}

enum lb_err cli_check_paths(const struct config *c, struct config_errors *errs)
{
  char dir[PATH_MAX];
  struct stat st;
  int before = errs->n;

  /* On PostgreSQL ([store] url) the SQLite file is not used. */
  if (!c->store_url[0]) {
    dir_of(c->db_path, dir, sizeof dir);
    check_dir("[store] path", "the database's directory", dir, 0, errs);
  }
  if (!c->store_url[0] && errs->n == before && stat(c->db_path, &st) == 0) {
    if (!S_ISREG(st.st_mode))
      config_errors_add(errs, 0, "[store] path",
                        "%s is not a file; point the key at the database "
                        "file (it is made when missing)",
                        c->db_path);
    else if (access(c->db_path, R_OK | W_OK))
      config_errors_add(errs, 0, "[store] path",
                        "cannot write the database %s (%s); " FIX_CHOWN,
                        c->db_path, strerror(errno), c->db_path);
  }
  if (!strcmp(c->media_store, "fs"))
    check_dir("[media] dir", "the media directory", c->media_dir, 1, errs);
  return errs->n > before ? LB_ECONFIG : LB_OK;
}
