/* The SQLite backend: connections, a statement cache, and group commit.
 *
 * One writer connection, owned by a writer thread, runs every write. A
 * write is queued as a job; the thread takes every queued job, runs each
 * inside its own SAVEPOINT of one transaction, commits once, and then wakes
 * the jobs' waiters or calls their done callbacks (group commit: one fsync
 * for many writes, each still with its own result). Reads use one
 * connection per thread, which WAL lets run beside the writer. Prepared
 * statements are cached per connection, keyed by the address of their
 * static SQL text.
 *
 * Nothing outside this file knows about the writer thread: store.h
 * promises only that a completed write is durable.
 *
 * Other processes on the same file (more gateway nodes, the CLI): the
 * writer also watches PRAGMA data_version on its own connection, which
 * changes only when another connection commits, at least every WATCH_MS
 * and after each batch; a change wakes every listener (db_dispatch), so
 * their work is seen within WATCH_MS without anyone polling the tables. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/backend.h"
#include "util/err.h"
#include "util/log.h"

#define STMT_CACHE 128
#define WATCH_MS 100

struct sq_stmt {
  struct dbst base;
  sqlite3_stmt *st;
  struct sq_conn *c;
};

struct sq_conn {
  struct dbc base; /* first: the statement layer's view */
  sqlite3 *db;
  struct {
    const char *sql;
    struct sq_stmt *st;
  } cache[STMT_CACHE];
  int n;
  struct sq_conn *next;
};

struct job {
  store_tx_fn fn;
  void *arg;
  enum lb_err rc;
  int done;
  pthread_cond_t cv; /* its own, so a commit wakes only its waiters */
  /* Asynchronous jobs: called on the writer thread after the commit; the
   * job is then freed. NULL for a job someone waits on. */
  void (*on_done)(void *arg, enum lb_err rc);
  void *darg;
  struct job *next;
};

struct sq_store {
  struct store base; /* first */
  char *path;
  int full;
  struct sq_conn *w;
  pthread_t writer;
  int writer_started;
  pthread_mutex_t mu;
  pthread_cond_t cv_job;
  struct job *head, *tail;
  int stop;
  int64_t data_version; /* the writer's: -1 until the first batch */
  pthread_key_t key;
  pthread_mutex_t rmu;
  struct sq_conn *readers;
};

/* ---- connections -------------------------------------------------------- */

static void conn_close(struct sq_conn *c)
{
  if (!c)
    return;
  for (int i = 0; i < c->n; i++) {
    sqlite3_finalize(c->cache[i].st->st);
    free(c->cache[i].st);
  }
  sqlite3_close(c->db);
  free(c);
}

static enum lb_err conn_open(struct sq_store *s, struct sq_conn **out)
{
  struct sq_conn *c = calloc(1, sizeof *c);
  char pragmas[200];
  int rc;
  if (!c)
    return LB_ENOMEM;
  c->base.s = &s->base;
  rc = sqlite3_open_v2(
      s->path, &c->db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    log_error("store.open", "cannot open %s: %s", s->path,
              c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    conn_close(c);
    return LB_EDB;
  }
  sqlite3_busy_timeout(c->db, 10000);
  snprintf(pragmas, sizeof pragmas,
           "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
           " PRAGMA foreign_keys=ON;",
           s->full ? "FULL" : "NORMAL");
  if (sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
    log_error("store.open", "cannot set up %s: %s", s->path,
              sqlite3_errmsg(c->db));
    conn_close(c);
    return LB_EDB;
  }
  *out = c;
  return LB_OK;
}

static struct dbc *sq_reader(struct store *base)
{
  struct sq_store *s = (struct sq_store *)base;
  struct sq_conn *c = pthread_getspecific(s->key);
  if (c)
    return &c->base;
  if (conn_open(s, &c))
    return NULL;
  pthread_setspecific(s->key, c);
  pthread_mutex_lock(&s->rmu);
  c->next = s->readers;
  s->readers = c;
  pthread_mutex_unlock(&s->rmu);
  return &c->base;
}

/* ---- the statement layer ------------------------------------------------ */

static struct dbst *sq_prepare(struct dbc *dc, const char *sql)
{
  struct sq_conn *c = (struct sq_conn *)dc;
  struct sq_stmt *st;
  for (int i = 0; i < c->n; i++)
    if (c->cache[i].sql == sql) {
      st = c->cache[i].st;
      sqlite3_reset(st->st);
      sqlite3_clear_bindings(st->st);
      return &st->base;
    }
  if (c->n == STMT_CACHE) {
    /* Every query is a static text, so this is a programming error. */
    log_error("store.sql", "statement cache full (%d)", STMT_CACHE);
    return NULL;
  }
  if (!(st = calloc(1, sizeof *st)))
    return NULL;
  if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->st,
                         NULL) != SQLITE_OK) {
    log_error("store.sql", "prepare failed: %s", sqlite3_errmsg(c->db));
    free(st);
    return NULL;
  }
  st->base.ops = &store_sqlite_ops;
  st->c = c;
  c->cache[c->n].sql = sql;
  c->cache[c->n].st = st;
  c->n++;
  return &st->base;
}

static enum lb_err sq_bind_text(struct dbst *b, int i, const char *v)
{
  sqlite3_stmt *st = ((struct sq_stmt *)b)->st;
  int rc = v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT)
             : sqlite3_bind_null(st, i);
  return rc == SQLITE_OK ? LB_OK : LB_EDB;
}

static enum lb_err sq_bind_int(struct dbst *b, int i, int64_t v)
{
  return sqlite3_bind_int64(((struct sq_stmt *)b)->st, i, v) == SQLITE_OK
             ? LB_OK
             : LB_EDB;
}

static enum lb_err sq_step(struct dbst *b, int *row)
{
  struct sq_stmt *st = (struct sq_stmt *)b;
  int rc = sqlite3_step(st->st);
  *row = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    return LB_OK;
  log_error("store.sql", "step failed: %s", sqlite3_errmsg(st->c->db));
  return LB_EDB;
}

static const char *sq_col_text(struct dbst *b, int i)
{
  return (const char *)sqlite3_column_text(((struct sq_stmt *)b)->st, i);
}

static int64_t sq_col_int(struct dbst *b, int i)
{
  return sqlite3_column_int64(((struct sq_stmt *)b)->st, i);
}

static int sq_col_is_null(struct dbst *b, int i)
{
  return sqlite3_column_type(((struct sq_stmt *)b)->st, i) == SQLITE_NULL;
}

static void sq_reset(struct dbst *b)
{
  sqlite3_reset(((struct sq_stmt *)b)->st);
}

static int64_t sq_changes(struct dbc *c)
{
  return sqlite3_changes(((struct sq_conn *)c)->db);
}

static enum lb_err sq_exec(struct dbc *c, const char *sql)
{
  return sqlite3_exec(((struct sq_conn *)c)->db, sql, NULL, NULL, NULL) ==
                 SQLITE_OK
             ? LB_OK
             : LB_EDB;
}

static const char *sq_errmsg(struct dbc *c)
{
  return sqlite3_errmsg(((struct sq_conn *)c)->db);
}

/* The writer's own statements, which log their failures. */
static enum lb_err wexec(struct sq_conn *c, const char *sql)
{
  char *err = NULL;
  if (sqlite3_exec(c->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    log_error("store.sql", "%s: %s", sql, err ? err : "?");
    sqlite3_free(err);
    return LB_EDB;
  }
  return LB_OK;
}

/* ---- the writer ---------------------------------------------------------- */

/* Has another connection (another process) committed since the last
 * look? Then every listener hears of it. The first look only records. */
static void watch_others(struct sq_store *s)
{
  sqlite3_stmt *st;
  int64_t v = -1;
  if (sqlite3_prepare_v2(s->w->db, "PRAGMA data_version", -1, &st, NULL) !=
      SQLITE_OK)
    return;
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (v >= 0 && s->data_version >= 0 && v != s->data_version)
    db_dispatch(&s->base, NULL);
  if (v >= 0)
    s->data_version = v;
}

static void deadline_in(struct timespec *ts, long ms)
{
  clock_gettime(CLOCK_REALTIME, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L)
    ts->tv_sec++, ts->tv_nsec -= 1000000000L;
}

static void *writer_main(void *arg)
{
  struct sq_store *s = arg;
  struct store_tx tx = {&s->base, &s->w->base};
  int started = 0;
  for (;;) {
    struct job *batch, *j, *async;
    enum lb_err rc;
    pthread_mutex_lock(&s->mu);
    while (!s->head && !s->stop) {
      struct timespec ts;
      if (!started) { /* the store is not set up before the first write */
        pthread_cond_wait(&s->cv_job, &s->mu);
        continue;
      }
      deadline_in(&ts, WATCH_MS);
      if (pthread_cond_timedwait(&s->cv_job, &s->mu, &ts) && !s->head &&
          !s->stop) {
        pthread_mutex_unlock(&s->mu);
        watch_others(s);
        pthread_mutex_lock(&s->mu);
      }
    }
    if (!s->head && s->stop) {
      pthread_mutex_unlock(&s->mu);
      break;
    }
    batch = s->head;
    s->head = s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    started = 1;

    rc = wexec(s->w, "BEGIN IMMEDIATE");
    for (j = batch; j; j = j->next) {
      if (rc) {
        j->rc = rc;
        continue;
      }
      if (wexec(s->w, "SAVEPOINT job")) {
        j->rc = LB_EDB;
        continue;
      }
      j->rc = j->fn(&tx, j->arg);
      if (j->rc != LB_OK)
        wexec(s->w, "ROLLBACK TO job");
      wexec(s->w, "RELEASE job");
    }
    if (!rc && wexec(s->w, "COMMIT")) {
      wexec(s->w, "ROLLBACK");
      for (j = batch; j; j = j->next)
        if (j->rc == LB_OK)
          j->rc = LB_EDB;
    }
    /* A waited-for job lives on its owner's stack and is gone once the
     * owner wakes, so the asynchronous ones are set aside first. */
    async = NULL;
    pthread_mutex_lock(&s->mu);
    for (j = batch; j;) {
      struct job *next = j->next;
      if (j->on_done) {
        j->next = async;
        async = j;
      } else {
        j->done = 1;
        pthread_cond_signal(&j->cv);
      }
      j = next;
    }
    pthread_mutex_unlock(&s->mu);
    while (async) {
      j = async;
      async = j->next;
      j->on_done(j->darg, j->rc);
      free(j);
    }
    watch_others(s);
  }
  return NULL;
}

static enum lb_err enqueue(struct sq_store *s, struct job *j)
{
  pthread_mutex_lock(&s->mu);
  if (s->stop) {
    pthread_mutex_unlock(&s->mu);
    return LB_EDB;
  }
  if (s->tail)
    s->tail->next = j;
  else
    s->head = j;
  s->tail = j;
  pthread_cond_signal(&s->cv_job);
  return LB_OK; /* with s->mu held */
}

static enum lb_err sq_write(struct store *base, store_tx_fn fn, void *arg,
                            void (*done)(void *darg, enum lb_err rc),
                            void *darg)
{
  struct sq_store *s = (struct sq_store *)base;
  struct job *j, local;
  enum lb_err rc;
  if (!done) {
    memset(&local, 0, sizeof local);
    local.fn = fn;
    local.arg = arg;
    pthread_cond_init(&local.cv, NULL);
    if ((rc = enqueue(s, &local)) == LB_OK) {
      while (!local.done)
        pthread_cond_wait(&local.cv, &s->mu);
      pthread_mutex_unlock(&s->mu);
      rc = local.rc;
    }
    pthread_cond_destroy(&local.cv);
    return rc;
  }
  if (!(j = calloc(1, sizeof *j)))
    return LB_ENOMEM;
  j->fn = fn;
  j->arg = arg;
  j->on_done = done;
  j->darg = darg;
  if ((rc = enqueue(s, j))) {
    free(j);
    return rc;
  }
  pthread_mutex_unlock(&s->mu);
  return LB_OK;
}

/* ---- open / close -------------------------------------------------------- */

static void sq_free(struct store *base)
{
  struct sq_store *s = (struct sq_store *)base;
  struct sq_conn *c, *next;
  if (s->writer_started) {
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv_job);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
  }
  conn_close(s->w);
  for (c = s->readers; c; c = next) {
    next = c->next;
    conn_close(c);
  }
  pthread_key_delete(s->key);
  pthread_mutex_destroy(&s->mu);
  pthread_mutex_destroy(&s->rmu);
  pthread_cond_destroy(&s->cv_job);
  free(s->path);
  free(s);
}

static enum lb_err sq_open(const char *path, const struct store_options *opt,
                           struct store **out)
{
  struct sq_store *s = calloc(1, sizeof *s);
  enum lb_err rc = LB_ENOMEM;
  if (!s)
    return LB_ENOMEM;
  s->base.ops = &store_sqlite_ops;
  s->full = opt->synchronous_full;
  s->data_version = -1;
  s->path = strdup(path);
  pthread_mutex_init(&s->mu, NULL);
  pthread_mutex_init(&s->rmu, NULL);
  pthread_cond_init(&s->cv_job, NULL);
  if (!s->path || pthread_key_create(&s->key, NULL))
    goto fail;
  if ((rc = conn_open(s, &s->w)))
    goto fail;
  if (pthread_create(&s->writer, NULL, writer_main, s)) {
    rc = LB_ENOMEM;
    goto fail;
  }
  s->writer_started = 1;
  *out = &s->base;
  return LB_OK;
fail:
  sq_free(&s->base);
  return rc;
}

const struct store_ops store_sqlite_ops = {
    .scheme = "sqlite",
    .open = sq_open,
    .free = sq_free,
    .write = sq_write,
    .reader = sq_reader,
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .bind_int = sq_bind_int,
    .step = sq_step,
    .col_text = sq_col_text,
    .col_int = sq_col_int,
    .col_is_null = sq_col_is_null,
    .reset = sq_reset,
    .changes = sq_changes,
    .exec = sq_exec,
    .errmsg = sq_errmsg,
    .dialect = &db_dialect_sqlite,
    .claim_suffix = "",
    .lock_suffix = "",
    .notify = NULL, /* the writer sees other processes' commits */
};
