/* The PostgreSQL backend, through libpq: a pool of write connections, one
 * read connection per thread that reads, and prepared statements cached
 * per connection.
 *
 * Writes: each store_write() takes a connection from the pool (waiting
 * while all pool_size are busy), runs fn between BEGIN and COMMIT, and
 * returns (or calls done) only after COMMIT has answered: no caller sees
 * success before the commit. PostgreSQL takes the writers concurrently;
 * where the domain needs writes serialised (the audit chain) it asks for a
 * transaction lock through the dialect (db_lock).
 *
 * Statements: the shared SQL's placeholders ('?' and '?N') are rewritten
 * to $N once per text. A statement is prepared on first use on a
 * connection, with each parameter typed from that first bind: an integer
 * as int8, text and NULL left for the server to infer from the SQL (the
 * shared SQL casts where it cannot, "CAST(? AS TEXT) IS NULL"). Values go
 * as text, results come back as text; a boolean column reads as 1 or 0.
 * Every connection has the configured statement_timeout.
 *
 * A lost connection: the step that finds it logs one line, resets the
 * connection and forgets its prepared statements; a read outside a
 * transaction is then run once more; a write fails (LB_EDB: the caller
 * answers 5xx, so the client or carrier retries) and the next use of the
 * connection works again once the server is back.
 *
 * Wake-ups: store_notify() sends pg_notify('lyrebird', channel) after the
 * commit; a thread of each store LISTENs on a connection of its own and
 * runs db_dispatch() for each notification (and for every channel after it
 * reconnects, as news may have been missed).
 *
 * Ownership: the store owns every connection and statement; a statement's
 * column text lives until the next step or reset. The URL (which may hold
 * a password) is kept in memory only and never logged. */
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/err.h"
#include "util/log.h"

#define STMT_CACHE 160
#define INT8_OID 20

struct pg_conn;

struct pg_stmt {
  struct dbst base; /* first */
  struct pg_conn *c;
  const char *sql; /* the cache key: the shared text */
  char *text;      /* with $N placeholders */
  char name[16];
  int nparams;
  int prepared;
  int bound; /* types are taken from the first bind */
  unsigned types[DB_PG_PARAMS_MAX];
  char *vals[DB_PG_PARAMS_MAX];
  char ints[DB_PG_PARAMS_MAX][24];
  PGresult *res;
  int row, nrows, ran;
};

struct pg_conn {
  struct dbc base; /* first */
  PGconn *pg;
  int in_tx;
  int64_t changes;
  char err[300];
  struct pg_stmt *cache[STMT_CACHE];
  int n;
  unsigned names; /* statement names given on this connection */
  struct pg_conn *next;
};

struct pg_store {
  struct store base; /* first */
  char *url;
  char options[64];
  int pool_size;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct pg_conn *idle; /* the pool's free connections */
  int opened;           /* pool connections in existence */
  pthread_key_t key;
  pthread_mutex_t rmu;
  struct pg_conn *readers;
  /* Wake-ups from the other nodes: a thread LISTENs on its own
   * connection and hands each notification to db_dispatch(). */
  pthread_t listener;
  int listening, stop;
};

/* The one channel lyrebird's notifications go on; the payload names the
 * store channel ("outbox", "events", ...). */
#define PG_CHANNEL "lyrebird"

static void set_err(struct pg_conn *c, const char *what)
{
  const char *m = c->pg ? PQerrorMessage(c->pg) : "no connection";
  size_t n;
  snprintf(c->err, sizeof c->err, "%s%s", what ? what : "", m);
  n = strlen(c->err);
  while (n && (c->err[n - 1] == '\n' || c->err[n - 1] == ' '))
    c->err[--n] = '\0';
}

/* ---- placeholders --------------------------------------------------------
 */

char *db_pg_placeholders(const char *sql, int *np)
{
  size_t n = strlen(sql);
  char *out = malloc(n * 3 + 1), *o = out;
  int next = 0, max = 0;
  char quote = 0;
  if (!out)
    return NULL;
  for (const char *p = sql; *p; p++) {
    if (quote) {
      if (*p == quote)
        quote = 0;
      *o++ = *p;
    } else if (*p == '\'' || *p == '"') {
      quote = *p;
      *o++ = *p;
    } else if (*p == '?') {
      int k;
      if (p[1] >= '0' && p[1] <= '9') {
        k = 0;
        while (p[1] >= '0' && p[1] <= '9')
          k = k * 10 + (*++p - '0');
      } else
        k = ++next;
      if (k < 1 || k > DB_PG_PARAMS_MAX) {
        free(out);
        return NULL;
      }
      if (k > max)
        max = k;
      o += sprintf(o, "$%d", k);
    } else
      *o++ = *p;
  }
  *o = '\0';
  *np = max;
  return out;
}

/* ---- connections --------------------------------------------------------
 */

static void stmt_clear(struct pg_stmt *st)
{
  if (st->res)
    PQclear(st->res);
  st->res = NULL;
  st->row = st->nrows = st->ran = 0;
}

static void stmt_unbind(struct pg_stmt *st)
{
  for (int i = 0; i < st->nparams; i++) {
    if (st->vals[i] != st->ints[i])
      free(st->vals[i]);
    st->vals[i] = NULL;
  }
}

static void conn_close(struct pg_conn *c)
{
  if (!c)
    return;
  for (int i = 0; i < c->n; i++) {
    stmt_clear(c->cache[i]);
    stmt_unbind(c->cache[i]);
    free(c->cache[i]->text);
    free(c->cache[i]);
  }
  if (c->pg)
    PQfinish(c->pg);
  free(c);
}

static void quiet(void *arg, const char *message)
{
}

static enum lb_err conn_connect(struct pg_store *s, struct pg_conn *c)
{
  const char *const kw[] = {"dbname", "options", "application_name",
                            "connect_timeout", NULL};
  const char *const val[] = {s->url, s->options, "lyrebird", "10", NULL};
  c->pg = PQconnectdbParams(kw, val, 1);
  if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
    set_err(c, NULL);
    log_error("store.open", "cannot connect to PostgreSQL: %s", c->err);
    return LB_EDB;
  }
  /* NOTICEs ("already exists, skipping") are not the operator's. */
  PQsetNoticeProcessor(c->pg, quiet, NULL);
  return LB_OK;
}

static enum lb_err conn_open(struct pg_store *s, struct pg_conn **out)
{
  struct pg_conn *c = calloc(1, sizeof *c);
  enum lb_err rc;
  *out = NULL;
  if (!c)
    return LB_ENOMEM;
  c->base.s = &s->base;
  if ((rc = conn_connect(s, c))) {
    conn_close(c);
    return rc;
  }
  *out = c;
  return LB_OK;
}

/* After a lost connection: reconnects and forgets what was prepared. */
static int conn_recover(struct pg_conn *c)
{
  if (PQstatus(c->pg) == CONNECTION_OK)
    return 0;
  log_warn("store.pg",
           "the connection to PostgreSQL was lost (%s); reconnecting",
           c->err[0] ? c->err : "closed");
  for (int i = 0; i < c->n; i++)
    c->cache[i]->prepared = 0;
  c->in_tx = 0;
  PQreset(c->pg);
  if (PQstatus(c->pg) != CONNECTION_OK) {
    set_err(c, NULL);
    log_error("store.pg", "cannot reconnect to PostgreSQL: %s", c->err);
    return -1;
  }
  log_info("store.pg", "reconnected to PostgreSQL");
  return 1;
}

static struct dbc *pg_reader(struct store *base)
{
  struct pg_store *s = (struct pg_store *)base;
  struct pg_conn *c = pthread_getspecific(s->key);
  if (c) {
    if (PQstatus(c->pg) != CONNECTION_OK && conn_recover(c) < 0)
      return NULL;
    return &c->base;
  }
  if (conn_open(s, &c))
    return NULL;
  pthread_setspecific(s->key, c);
  pthread_mutex_lock(&s->rmu);
  c->next = s->readers;
  s->readers = c;
  pthread_mutex_unlock(&s->rmu);
  return &c->base;
}

/* ---- the statement layer -------------------------------------------------
 */

static struct dbst *pg_prepare(struct dbc *dc, const char *sql)
{
  struct pg_conn *c = (struct pg_conn *)dc;
  struct pg_stmt *st;
  for (int i = 0; i < c->n; i++)
    if (c->cache[i]->sql == sql) {
      st = c->cache[i];
      stmt_clear(st);
      stmt_unbind(st);
      return &st->base;
    }
  if (c->n == STMT_CACHE) {
    log_error("store.sql", "statement cache full (%d)", STMT_CACHE);
    return NULL;
  }
  if (!(st = calloc(1, sizeof *st)))
    return NULL;
  if (!(st->text = db_pg_placeholders(sql, &st->nparams))) {
    log_error("store.sql", "cannot convert the statement %.60s", sql);
    free(st);
    return NULL;
  }
  st->base.ops = &store_pg_ops;
  st->c = c;
  st->sql = sql;
  snprintf(st->name, sizeof st->name, "lb%u", ++c->names);
  c->cache[c->n++] = st;
  return &st->base;
}

static enum lb_err pg_bind_text(struct dbst *b, int i, const char *v)
{
  struct pg_stmt *st = (struct pg_stmt *)b;
  if (i < 1 || i > st->nparams)
    return LB_EDB;
  if (st->vals[i - 1] != st->ints[i - 1])
    free(st->vals[i - 1]);
  st->vals[i - 1] = NULL;
  if (v && !(st->vals[i - 1] = strdup(v)))
    return LB_ENOMEM;
  return LB_OK;
}

static enum lb_err pg_bind_int(struct dbst *b, int i, int64_t v)
{
  struct pg_stmt *st = (struct pg_stmt *)b;
  if (i < 1 || i > st->nparams)
    return LB_EDB;
  if (st->vals[i - 1] != st->ints[i - 1])
    free(st->vals[i - 1]);
  snprintf(st->ints[i - 1], sizeof st->ints[i - 1], "%lld", (long long)v);
  st->vals[i - 1] = st->ints[i - 1];
  if (!st->bound)
    st->types[i - 1] = INT8_OID;
  return LB_OK;
}

/* Prepares (if this connection has not) and runs st: LB_OK with st->res. */
static enum lb_err run_once(struct pg_stmt *st)
{
  struct pg_conn *c = st->c;
  PGresult *r;
  ExecStatusType es;
  st->bound = 1;
  if (!st->prepared) {
    r = PQprepare(c->pg, st->name, st->text, st->nparams, st->types);
    es = PQresultStatus(r);
    if (es != PGRES_COMMAND_OK) {
      set_err(c, "prepare: ");
      PQclear(r);
      return LB_EDB;
    }
    PQclear(r);
    st->prepared = 1;
  }
  r = PQexecPrepared(c->pg, st->name, st->nparams,
                     (const char *const *)st->vals, NULL, NULL, 0);
  es = PQresultStatus(r);
  if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK) {
    set_err(c, NULL);
    PQclear(r);
    return LB_EDB;
  }
  st->res = r;
  st->nrows = es == PGRES_TUPLES_OK ? PQntuples(r) : 0;
  c->changes = strtoll(PQcmdTuples(r), NULL, 10);
  return LB_OK;
}

static enum lb_err pg_step(struct dbst *b, int *row)
{
  struct pg_stmt *st = (struct pg_stmt *)b;
  *row = 0;
  if (!st->ran) {
    enum lb_err rc = run_once(st);
    st->ran = 1;
    /* A read outside a transaction is run again on a new connection. */
    if (rc && !st->c->in_tx && conn_recover(st->c) > 0)
      rc = run_once(st);
    if (rc) {
      log_error("store.sql", "%s (in: %.80s)", st->c->err, st->sql);
      return rc;
    }
    st->row = -1;
  }
  if (st->row + 1 < st->nrows) {
    st->row++;
    *row = 1;
  }
  return LB_OK;
}

static const char *pg_col_text(struct dbst *b, int i)
{
  struct pg_stmt *st = (struct pg_stmt *)b;
  if (!st->res || st->row < 0 || st->row >= st->nrows ||
      i >= PQnfields(st->res) || PQgetisnull(st->res, st->row, i))
    return NULL;
  return PQgetvalue(st->res, st->row, i);
}

static int64_t pg_col_int(struct dbst *b, int i)
{
  const char *v = pg_col_text(b, i);
  if (!v)
    return 0;
  if (v[0] == 't' && !v[1])
    return 1; /* a boolean */
  return strtoll(v, NULL, 10);
}

static int pg_col_is_null(struct dbst *b, int i)
{
  return pg_col_text(b, i) == NULL;
}

static void pg_reset(struct dbst *b)
{
  stmt_clear((struct pg_stmt *)b);
}

static int64_t pg_changes(struct dbc *c)
{
  return ((struct pg_conn *)c)->changes;
}

static enum lb_err pg_exec(struct dbc *dc, const char *sql)
{
  struct pg_conn *c = (struct pg_conn *)dc;
  PGresult *r = PQexec(c->pg, sql);
  ExecStatusType es = PQresultStatus(r);
  enum lb_err rc = LB_OK;
  if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
    set_err(c, NULL);
    rc = LB_EDB;
  } else
    c->changes = strtoll(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  if (rc && !c->in_tx)
    conn_recover(c);
  return rc;
}

static const char *pg_errmsg(struct dbc *c)
{
  return ((struct pg_conn *)c)->err;
}

/* ---- writes --------------------------------------------------------------
 */

static enum lb_err pool_take(struct pg_store *s, struct pg_conn **out)
{
  struct pg_conn *c = NULL;
  enum lb_err rc = LB_OK;
  pthread_mutex_lock(&s->mu);
  while (!s->idle && s->opened >= s->pool_size)
    pthread_cond_wait(&s->cv, &s->mu);
  if (s->idle) {
    c = s->idle;
    s->idle = c->next;
    c->next = NULL;
  } else
    s->opened++;
  pthread_mutex_unlock(&s->mu);
  if (!c && (rc = conn_open(s, &c))) {
    pthread_mutex_lock(&s->mu);
    s->opened--;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
  }
  *out = c;
  return rc;
}

static void pool_give(struct pg_store *s, struct pg_conn *c)
{
  pthread_mutex_lock(&s->mu);
  c->next = s->idle;
  s->idle = c;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static enum lb_err tx_cmd(struct pg_conn *c, const char *sql)
{
  enum lb_err rc = pg_exec(&c->base, sql);
  if (rc)
    log_error("store.sql", "%s: %s", sql, c->err);
  return rc;
}

static enum lb_err run_tx(struct pg_store *s, struct pg_conn *c, store_tx_fn fn,
                          void *arg)
{
  struct store_tx tx = {&s->base, &c->base};
  enum lb_err rc;
  /* Nothing has run yet if BEGIN finds the connection lost (pg_exec has
   * reconnected): try once more. */
  if (pg_exec(&c->base, "BEGIN") && tx_cmd(c, "BEGIN"))
    return LB_EDB;
  c->in_tx = 1;
  rc = fn(&tx, arg);
  if (rc == LB_OK && tx_cmd(c, "COMMIT"))
    rc = LB_EDB;
  else if (rc != LB_OK)
    pg_exec(&c->base, "ROLLBACK");
  c->in_tx = 0;
  if (PQstatus(c->pg) != CONNECTION_OK)
    conn_recover(c);
  return rc;
}

static enum lb_err pg_write(struct store *base, store_tx_fn fn, void *arg,
                            void (*done)(void *darg, enum lb_err rc),
                            void *darg)
{
  struct pg_store *s = (struct pg_store *)base;
  struct pg_conn *c;
  enum lb_err rc;
  if ((rc = pool_take(s, &c)))
    return rc;
  rc = run_tx(s, c, fn, arg);
  pool_give(s, c);
  if (!done)
    return rc;
  done(darg, rc);
  return LB_OK;
}

/* ---- wake-ups between nodes ----------------------------------------------
 */

static void pg_notify(struct store *base, const char *channel)
{
  static const char sql[] = "SELECT pg_notify('" PG_CHANNEL "', ?)";
  struct pg_store *s = (struct pg_store *)base;
  struct pg_conn *c;
  /* After the commit that made the news: a lost wake-up only delays the
   * others until their slow poll, so a failure is logged and dropped. */
  if (pool_take(s, &c))
    return;
  if (DB_EXEC(&c->base, sql, DB_TEXT(channel)))
    log_warn("store.pg", "could not notify the other nodes (%s)", c->err);
  pool_give(s, c);
}

static int listen_on(struct pg_conn *c)
{
  PGresult *r = PQexec(c->pg, "LISTEN " PG_CHANNEL);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok;
}

static void *listener_main(void *arg)
{
  struct pg_store *s = arg;
  struct pg_conn *c = NULL;
  int backoff_ms = 100;
  while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
    struct pollfd pfd;
    PGnotify *n;
    if (!c || PQstatus(c->pg) != CONNECTION_OK) {
      if (c) {
        set_err(c, NULL);
        log_warn("store.pg",
                 "the connection for the other nodes' wake-ups was lost (%s); "
                 "reconnecting",
                 c->err);
        conn_close(c);
        c = NULL;
      }
      if (conn_open(s, &c) || !listen_on(c)) {
        conn_close(c);
        c = NULL;
        poll(NULL, 0, backoff_ms);
        backoff_ms = backoff_ms < 5000 ? backoff_ms * 2 : 5000;
        continue;
      }
      backoff_ms = 100;
      db_dispatch(&s->base, NULL); /* news may have been missed meanwhile */
    }
    pfd.fd = PQsocket(c->pg);
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 200) > 0 && !PQconsumeInput(c->pg))
      continue; /* the status check above reconnects */
    while ((n = PQnotifies(c->pg)) != NULL) {
      db_dispatch(&s->base, n->extra && *n->extra ? n->extra : NULL);
      PQfreemem(n);
    }
  }
  conn_close(c);
  return NULL;
}

/* ---- open / close --------------------------------------------------------
 */

static void pg_free(struct store *base)
{
  struct pg_store *s = (struct pg_store *)base;
  struct pg_conn *c, *next;
  if (s->listening) {
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    pthread_join(s->listener, NULL);
  }
  for (c = s->idle; c; c = next) {
    next = c->next;
    conn_close(c);
  }
  for (c = s->readers; c; c = next) {
    next = c->next;
    conn_close(c);
  }
  pthread_key_delete(s->key);
  pthread_mutex_destroy(&s->mu);
  pthread_mutex_destroy(&s->rmu);
  pthread_cond_destroy(&s->cv);
  if (s->url) {
    memset(s->url, 0, strlen(s->url));
    free(s->url);
  }
  free(s);
}

static enum lb_err pg_open(const char *target, const struct store_options *opt,
                           struct store **out)
{
  struct pg_store *s = calloc(1, sizeof *s);
  struct pg_conn *c = NULL;
  enum lb_err rc = LB_ENOMEM;
  size_t n;
  if (!s)
    return LB_ENOMEM;
  s->base.ops = &store_pg_ops;
  s->pool_size = opt->pool_size > 0 ? opt->pool_size : 4;
  snprintf(s->options, sizeof s->options, "-c statement_timeout=%d",
           opt->statement_timeout_ms > 0 ? opt->statement_timeout_ms : 30000);
  pthread_mutex_init(&s->mu, NULL);
  pthread_mutex_init(&s->rmu, NULL);
  pthread_cond_init(&s->cv, NULL);
  /* libpq takes the whole URL: the scheme was split off by store_open. */
  n = strlen("postgresql:") + strlen(target) + 1;
  if (!(s->url = malloc(n)) || pthread_key_create(&s->key, NULL))
    goto fail;
  snprintf(s->url, n, "postgresql:%s", target);
  /* One connection now: a wrong URL or a server down is said at start. */
  if ((rc = conn_open(s, &c)))
    goto fail;
  s->opened = 1;
  pool_give(s, c);
  if (pthread_create(&s->listener, NULL, listener_main, s)) {
    rc = LB_ENOMEM;
    goto fail;
  }
  s->listening = 1;
  *out = &s->base;
  return LB_OK;
fail:
  pg_free(&s->base);
  return rc;
}

const struct store_ops store_pg_ops = {
    .scheme = "postgresql",
    .open = pg_open,
    .free = pg_free,
    .write = pg_write,
    .reader = pg_reader,
    .prepare = pg_prepare,
    .bind_text = pg_bind_text,
    .bind_int = pg_bind_int,
    .step = pg_step,
    .col_text = pg_col_text,
    .col_int = pg_col_int,
    .col_is_null = pg_col_is_null,
    .reset = pg_reset,
    .changes = pg_changes,
    .exec = pg_exec,
    .errmsg = pg_errmsg,
    .dialect = &db_dialect_pg,
    .claim_suffix = " FOR UPDATE SKIP LOCKED",
    .lock_suffix = " FOR UPDATE",
    .notify = pg_notify,
};

const struct db_dialect db_dialect_pg = {
    .lock_sql = "SELECT pg_advisory_xact_lock(?)",
    /* The two-int form: a key space apart from the one-bigint form's. */
    .lock_name_sql = "SELECT pg_advisory_xact_lock(CAST(?1 AS INTEGER), "
                     "hashtext(?2))",
    .search_migrate = db_search_pg_migrate,
    .search_terms = db_search_pg_terms,
    .search_list_sql = db_search_pg_list_sql,
    .search_snippet = db_search_pg_snippet,
};
