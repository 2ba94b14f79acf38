/* Copying a clinic's data from a SQLite store into another store (a new
 * PostgreSQL database): every table the migrations made, row by row, with
 * every column as it is (ids, times, search keys, the audit chain's
 * hashes), one transaction per table, parents before children.
 *
 * The tables and their columns are read from the SQLite file itself, so a
 * table a later migration adds is copied without a change here. Both
 * stores are at the same schema version first (store_copy's caller
 * migrates them), and the target must hold no rows yet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/migrations.h"
#include "util/log.h"

#define COPY_TABLES_MAX 64
#define COPY_COLS_MAX 32
#define COPY_SQL_MAX 4096

/* Referenced tables first (their REFERENCES in migrations.h); the rest
 * follow in name order. */
static const char *const parents[] = {"numbers",       "patients", "users",
                                      "conversations", "messages", "media",
                                      "links"};

struct table {
  char name[64];
  int ncols;
  int64_t rows, copied;
  char *select_sql, *insert_sql, *count_sql; /* live until store_copy ends */
};

struct copy {
  struct store *from, *to;
  struct table t[COPY_TABLES_MAX];
  int n;
};

static int rank(const char *name)
{
  for (size_t i = 0; i < sizeof parents / sizeof parents[0]; i++)
    if (!strcmp(parents[i], name))
      return (int)i;
  return (int)(sizeof parents / sizeof parents[0]);
}

static int by_rank(const void *a, const void *b)
{
  const struct table *x = a, *y = b;
  int d = rank(x->name) - rank(y->name);
  return d ? d : strcmp(x->name, y->name);
}

/* Only names of letters, digits and '_' are copied (all of lyrebird's):
 * they go into SQL text quoted. */
static int plain_name(const char *s)
{
  if (!*s || strlen(s) >= 64)
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
      return 0;
  return 1;
}

static enum lb_err read_tables(struct copy *k)
{
  /* FTS5's own tables and the migrations' bookkeeping are the backend's:
   * the target made its own. */
  static const char tables_sql[] =
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
      "'sqlite_%' AND name NOT LIKE 'messages_fts%' AND name NOT IN "
      "('schema_migrations', 'event_counter') ORDER BY name";
  static const char cols_sql[] =
      "SELECT name FROM pragma_table_info(?) ORDER BY cid";
  struct dbc *c = db_reader(k->from);
  struct dbst *st = DB_Q0(c, tables_sql);
  enum lb_err rc;
  while (db_next(st)) {
    if (k->n == COPY_TABLES_MAX || !plain_name(db_str(st, 0))) {
      log_error("store.copy", "unexpected table '%s'", db_str(st, 0));
      db_end(st);
      return LB_EUNSUPPORTED;
    }
    db_text(st, 0, k->t[k->n++].name, sizeof k->t[0].name);
  }
  if ((rc = db_end(st)))
    return rc;
  qsort(k->t, (size_t)k->n, sizeof k->t[0], by_rank);
  for (int i = 0; i < k->n; i++) {
    struct table *t = &k->t[i];
    char cols[COPY_SQL_MAX] = "", marks[COPY_COLS_MAX * 3] = "";
    size_t cl = 0, ml = 0;
    st = DB_Q(c, cols_sql, DB_TEXT(t->name));
    while (db_next(st)) {
      if (t->ncols == COPY_COLS_MAX || !plain_name(db_str(st, 0)) ||
          cl + 80 > sizeof cols) {
        db_end(st);
        return LB_EUNSUPPORTED;
      }
      cl += (size_t)snprintf(cols + cl, sizeof cols - cl, "%s\"%s\"",
                             t->ncols ? ", " : "", db_str(st, 0));
      ml += (size_t)snprintf(marks + ml, sizeof marks - ml, "%s?",
                             t->ncols ? ", " : "");
      t->ncols++;
    }
    if ((rc = db_end(st)))
      return rc;
    t->select_sql = malloc(COPY_SQL_MAX + 100);
    t->insert_sql = malloc(COPY_SQL_MAX + 200);
    t->count_sql = malloc(128);
    if (!t->select_sql || !t->insert_sql || !t->count_sql)
      return LB_ENOMEM;
    snprintf(t->select_sql, COPY_SQL_MAX + 100, "SELECT %s FROM \"%s\"", cols,
             t->name);
    snprintf(t->insert_sql, COPY_SQL_MAX + 200,
             "INSERT INTO \"%s\" (%s) VALUES (%s)", t->name, cols, marks);
    snprintf(t->count_sql, 128, "SELECT COUNT(*) FROM \"%s\"", t->name);
  }
  return LB_OK;
}

static enum lb_err count(struct store *s, const char *sql, int64_t *n)
{
  struct dbst *st = DB_Q0(db_reader(s), sql);
  *n = db_next(st) ? db_int(st, 0) : -1;
  return db_end(st);
}

struct table_tx {
  struct copy *k;
  struct table *t;
};

static enum lb_err copy_table_tx(struct store_tx *tx, void *arg)
{
  struct table_tx *a = arg;
  struct table *t = a->t;
  struct dbc *to = tx_conn(tx);
  struct dbst *src = DB_Q0(db_reader(a->k->from), t->select_sql);
  enum lb_err rc = LB_OK;
  t->copied = 0;
  while (!rc && db_next(src)) {
    struct db_arg args[COPY_COLS_MAX];
    for (int i = 0; i < t->ncols; i++)
      args[i] = db_is_null(src, i) ? DB_NULL : DB_TEXT(db_str(src, i));
    if (!(rc = db_exec_args(to, t->insert_sql, args, (size_t)t->ncols)))
      t->copied++;
  }
  if (db_end(src) && !rc)
    rc = LB_EDB;
  return rc;
}

/* What the migrations keep outside the rows: the event counter, and on
 * PostgreSQL the sequence that numbers messages for search. */
static enum lb_err counters_tx(struct store_tx *tx, void *arg)
{
  static const char ev_sql[] = "SELECT n FROM event_counter";
  static const char set_sql[] = "UPDATE event_counter SET n = ?";
  static const char seq_sql[] =
      "SELECT setval('messages_search_key_seq', (SELECT COALESCE(MAX("
      "search_key), 0) + 1 FROM messages), false)";
  struct copy *k = arg;
  struct dbc *to = tx_conn(tx);
  struct dbst *st = DB_Q0(db_reader(k->from), ev_sql);
  int64_t n = db_next(st) ? db_int(st, 0) : 0;
  enum lb_err rc;
  if ((rc = db_end(st)) || (rc = DB_EXEC(to, set_sql, DB_INT(n))))
    return rc;
  if (to->s->ops == &store_pg_ops)
    rc = db_exec_args(to, seq_sql, NULL, 0);
  return rc;
}

enum lb_err store_copy(struct store *from, struct store *to,
                       store_copy_cb progress, void *arg)
{
  struct copy *k = calloc(1, sizeof *k);
  int vfrom = 0, vto = 0;
  enum lb_err rc;
  if (!k)
    return LB_ENOMEM;
  k->from = from;
  k->to = to;
  if (from->ops != &store_sqlite_ops) {
    log_error("store.copy", "the source must be a SQLite store");
    rc = LB_EUNSUPPORTED;
    goto out;
  }
  if ((rc = store_schema_version(from, &vfrom)) ||
      (rc = store_schema_version(to, &vto)))
    goto out;
  if (vfrom != vto || vfrom != MIGRATIONS_COUNT) {
    log_error("store.copy", "schema versions differ (%d and %d): migrate both",
              vfrom, vto);
    rc = LB_EINVAL;
    goto out;
  }
  if ((rc = read_tables(k)))
    goto out;
  for (int i = 0; i < k->n; i++) {
    int64_t there = 0;
    if ((rc = count(to, k->t[i].count_sql, &there)) ||
        (rc = count(from, k->t[i].count_sql, &k->t[i].rows)))
      goto out;
    if (there) {
      log_error("store.copy",
                "the target already has rows in %s: copy into an empty "
                "database",
                k->t[i].name);
      rc = LB_EDUPLICATE;
      goto out;
    }
  }
  for (int i = 0; i < k->n; i++) {
    struct table_tx a = {k, &k->t[i]};
    int64_t there = 0;
    if ((rc = store_write(to, copy_table_tx, &a)) ||
        (rc = count(to, k->t[i].count_sql, &there)))
      goto out;
    if (there != k->t[i].rows) {
      log_error("store.copy", "%s: %lld rows in the source, %lld copied",
                k->t[i].name, (long long)k->t[i].rows, (long long)there);
      rc = LB_EDB;
      goto out;
    }
    if (progress)
      progress(arg, k->t[i].name, there);
  }
  rc = store_write(to, counters_tx, k);
out:
  for (int i = 0; i < k->n; i++) {
    free(k->t[i].select_sql);
    free(k->t[i].insert_sql);
    free(k->t[i].count_sql);
  }
  free(k);
  return rc;
}
