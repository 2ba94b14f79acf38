/* The store's shared half: opening by URL, writes, migrations, and the
 * statement layer over whichever backend is open (store/backend.h). */
#include <stdio.h>
#include <string.h>

#include "store/backend.h"
#include "store/migrations.h"
#include "util/clock.h"
#include "util/log.h"

static const struct store_ops *const backends[] = {&store_sqlite_ops,
                                                   &store_pg_ops};

static enum lb_err open_with(const struct store_ops *ops, const char *target,
                             const struct store_options *opt,
                             struct store **out)
{
  enum lb_err rc = ops->open(target, opt, out);
  if (rc)
    return rc;
  if ((rc = db_common_init(*out))) {
    store_free(*out);
    *out = NULL;
  }
  return rc;
}

enum lb_err store_open(const char *url, const struct store_options *opt,
                       struct store **out)
{
  size_t scheme = strspn(url, "abcdefghijklmnopqrstuvwxyz");
  *out = NULL;
  /* libpq's other spelling of the scheme. */
  if (scheme == 8 && strncmp(url, "postgres://", 11) == 0)
    return open_with(&store_pg_ops, url + 9, opt, out);
  for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
    if (url[scheme] == ':' && strlen(backends[i]->scheme) == scheme &&
        strncmp(url, backends[i]->scheme, scheme) == 0)
      return open_with(backends[i], url + scheme + 1, opt, out);
  if (scheme && strncmp(url + scheme, "://", 3) == 0) {
    log_error("store.open",
              "no store backend for '%.*s://' (lyrebird knows sqlite:PATH and "
              "postgresql://...)",
              (int)scheme, url);
    return LB_EUNSUPPORTED;
  }
  /* A plain path: SQLite, the embedded default. */
  return open_with(&store_sqlite_ops, url, opt, out);
}

void store_free(struct store *s)
{
  struct store common;
  if (!s)
    return;
  common = *s; /* the backend frees s; its writer may dispatch till then */
  s->ops->free(s);
  db_common_release(&common);
}

enum lb_err store_write(struct store *s, store_tx_fn fn, void *arg)
{
  return s->ops->write(s, fn, arg, NULL, NULL);
}

enum lb_err store_write_async(struct store *s, store_tx_fn fn, void *arg,
                              void (*done)(void *darg, enum lb_err rc),
                              void *darg)
{
  return s->ops->write(s, fn, arg, done, darg);
}

enum lb_err db_write(struct store *s, store_tx_fn fn, void *arg)
{
  return s->ops->write(s, fn, arg, NULL, NULL);
}

struct dbc *db_reader(struct store *s)
{
  return s->ops->reader(s);
}

/* ---- statements --------------------------------------------------------- */

static const struct store_ops *ops_of(struct dbc *c)
{
  return c->s->ops;
}

struct dbst *db_query(struct dbc *c, const char *sql, const struct db_arg *args,
                      size_t n)
{
  const struct store_ops *ops;
  struct dbst *st;
  if (!c)
    return NULL;
  ops = ops_of(c);
  if (!(st = ops->prepare(c, sql)))
    return NULL;
  st->failed = 0;
  for (size_t i = 0; i < n && !st->failed; i++) {
    const struct db_arg *a = &args[i];
    const char *v = a->s;
    enum lb_err rc;
    switch (a->kind) {
    case DB_K_INT:
      rc = ops->bind_int(st, (int)i + 1, a->i);
      break;
    case DB_K_TEXT0:
      rc = ops->bind_text(st, (int)i + 1, v && *v ? v : NULL);
      break;
    case DB_K_NULL:
      rc = ops->bind_text(st, (int)i + 1, NULL);
      break;
    default:
      rc = ops->bind_text(st, (int)i + 1, v);
    }
    if (rc)
      st->failed = 1;
  }
  return st;
}

int db_next(struct dbst *st)
{
  int row = 0;
  if (!st || st->failed)
    return 0;
  if (st->ops->step(st, &row)) {
    st->failed = 1;
    return 0;
  }
  return row;
}

enum lb_err db_end(struct dbst *st)
{
  int failed;
  if (!st)
    return LB_EDB;
  failed = st->failed;
  st->ops->reset(st);
  st->failed = 0;
  return failed ? LB_EDB : LB_OK;
}

enum lb_err db_exec_args(struct dbc *c, const char *sql,
                         const struct db_arg *args, size_t n)
{
  struct dbst *st = db_query(c, sql, args, n);
  while (db_next(st))
    ;
  return db_end(st);
}

enum lb_err db_one_text(struct dbc *c, const char *sql,
                        const struct db_arg *args, size_t n, char *out,
                        size_t outlen)
{
  struct dbst *st = db_query(c, sql, args, n);
  int found = db_next(st);
  enum lb_err rc;
  if (found)
    db_text(st, 0, out, outlen);
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

const char *db_str(struct dbst *st, int i)
{
  const char *v = st->ops->col_text(st, i);
  return v ? v : "";
}

void db_text(struct dbst *st, int i, char *dst, size_t n)
{
  str_copy(dst, n, db_str(st, i));
}

int64_t db_int(struct dbst *st, int i)
{
  return st->ops->col_int(st, i);
}

int db_is_null(struct dbst *st, int i)
{
  return st->ops->col_is_null(st, i);
}

int64_t db_changes(struct dbc *c)
{
  return c ? ops_of(c)->changes(c) : 0;
}

enum lb_err db_script(struct dbc *c, const char *sql)
{
  enum lb_err rc;
  if (!c)
    return LB_EDB;
  if ((rc = ops_of(c)->exec(c, sql)))
    log_error("store.sql", "%.60s...: %s", sql, ops_of(c)->errmsg(c));
  return rc;
}

/* ---- the dialect ----------------------------------------------------------
 */

const struct db_dialect *db_dialect_of(struct dbc *c)
{
  return ops_of(c)->dialect;
}

enum lb_err db_lock(struct dbc *c, enum db_lock_key key)
{
  const char *sql;
  if (!c)
    return LB_EDB;
  /* The keys are offset into lyrebird's own range of advisory locks. */
  sql = db_dialect_of(c)->lock_sql;
  return sql ? DB_EXEC(c, sql, DB_INT(0x4c79726500LL + key)) : LB_OK;
}

enum lb_err db_lock_name(struct dbc *c, enum db_lock_key key, const char *name)
{
  const char *sql;
  if (!c)
    return LB_EDB;
  sql = db_dialect_of(c)->lock_name_sql;
  return sql ? DB_EXEC(c, sql, DB_INT(key), DB_TEXT(name)) : LB_OK;
}

enum lb_err db_search_migrate(struct dbc *c)
{
  return c ? db_dialect_of(c)->search_migrate(c) : LB_EDB;
}

enum lb_err db_search_terms(struct dbc *c, const char *q, char *out, size_t n)
{
  out[0] = '\0';
  return c ? db_dialect_of(c)->search_terms(q, out, n) : LB_EDB;
}

const char *db_search_list_sql(struct dbc *c)
{
  return db_dialect_of(c)->search_list_sql;
}

enum lb_err db_search_snippet(struct dbc *c, const char *q,
                              struct conversation_match *m)
{
  return c ? db_dialect_of(c)->search_snippet(c, q, m) : LB_EDB;
}

/* ---- migrations ---------------------------------------------------------- */

static const char version_sql[] =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";

static enum lb_err version_of(struct dbc *c, int *v)
{
  struct dbst *st = DB_Q0(c, version_sql);
  *v = db_next(st) ? (int)db_int(st, 0) : 0;
  return db_end(st);
}

struct migrate_arg {
  int from, to, target;
};

/* Migrations with a step in C after their SQL: work that is the backend's
 * own, or that shows its progress. */
static const struct {
  int version;
  enum lb_err (*step)(struct dbc *c);
} migration_steps[] = {
    {10, db_search_migrate},
};

static enum lb_err migration_step(struct dbc *c, int version)
{
  for (size_t i = 0; i < sizeof migration_steps / sizeof migration_steps[0];
       i++)
    if (migration_steps[i].version == version)
      return migration_steps[i].step(c);
  return LB_OK;
}

static enum lb_err migrate_tx(struct store_tx *tx, void *arg)
{
  static const char ins[] =
      "INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)";
  struct migrate_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  enum lb_err rc;
  /* Two nodes starting at once: the second waits here for the first's
   * commit, then finds the schema current. */
  if ((rc = db_lock(c, DB_LOCK_MIGRATE)) ||
      (rc = db_script(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version INTEGER PRIMARY KEY,"
                         " applied_at BIGINT NOT NULL)")) ||
      (rc = version_of(c, &a->from)))
    return rc;
  if (a->from > MIGRATIONS_COUNT) {
    log_error("store.migrate",
              "the database is at schema version %d, newer than this "
              "lyrebird (%d); upgrade lyrebird",
              a->from, MIGRATIONS_COUNT);
    return LB_EDB;
  }
  for (int v = a->from + 1; v <= a->target; v++)
    if ((rc = db_script(c, migrations[v - 1])) || (rc = migration_step(c, v)) ||
        (rc = DB_EXEC(c, ins, DB_INT(v), DB_INT(clock_now_ms()))))
      return rc;
  a->to = a->from > a->target ? a->from : a->target;
  return LB_OK;
}

enum lb_err store_migrate(struct store *s, int *from, int *to)
{
  return store_migrate_to(s, MIGRATIONS_COUNT, from, to);
}

enum lb_err store_migrate_to(struct store *s, int target, int *from, int *to)
{
  struct migrate_arg a = {0, 0, target};
  if (target < 1 || target > MIGRATIONS_COUNT)
    return LB_EINVAL;
  enum lb_err rc = db_write(s, migrate_tx, &a);
  if (from)
    *from = a.from;
  if (to)
    *to = a.to;
  return rc;
}

enum lb_err store_schema_version(struct store *s, int *version)
{
  struct dbc *c = db_reader(s);
  struct dbst *st;
  *version = 0;
  if (!c)
    return LB_EDB;
  /* A database never migrated has no table yet: version 0. */
  if (ops_of(c)->exec(c, "SELECT 1 FROM schema_migrations LIMIT 0"))
    return LB_OK;
  st = DB_Q0(c, version_sql);
  if (db_next(st))
    *version = (int)db_int(st, 0);
  return db_end(st);
}
