/* The SQLite backend of store.h.
 *
 * One writer connection, owned by a writer thread, runs every write. Callers
 * queue a job and wait; the thread takes every queued job, runs each inside
 * its own SAVEPOINT of one transaction, commits once, and wakes them all
 * (group commit: one fsync for many writes). Reads use one connection per
 * thread (WAL lets them run beside the writer). Prepared statements are
 * cached per connection, keyed by the address of their static SQL text. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/migrations.h"
#include "store/sqlite_int.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

/* ---- connections ------------------------------------------------------ */

static void conn_close(struct conn *c)
{
  if (!c)
    return;
  for (int i = 0; i < c->n; i++)
    sqlite3_finalize(c->cache[i].st);
  sqlite3_close(c->db);
  free(c);
}

static int conn_open(const char *path, int full, struct conn **out)
{
  struct conn *c = calloc(1, sizeof *c);
  char pragmas[200];
  int rc;
  if (!c)
    return LB_ENOMEM;
  rc = sqlite3_open_v2(
      path, &c->db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    log_error("store.open", "cannot open %s: %s", path,
              c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    conn_close(c);
    return LB_EDB;
  }
  sqlite3_busy_timeout(c->db, 10000);
  snprintf(pragmas, sizeof pragmas,
           "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
           " PRAGMA foreign_keys=ON;",
           full ? "FULL" : "NORMAL");
  if (sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
    log_error("store.open", "cannot set up %s: %s", path,
              sqlite3_errmsg(c->db));
    conn_close(c);
    return LB_EDB;
  }
  *out = c;
  return LB_OK;
}

/* A cached prepared statement, reset and ready to bind. */
sqlite3_stmt *sq_stmt(struct conn *c, const char *sql)
{
  sqlite3_stmt *st = NULL;
  for (int i = 0; i < c->n; i++)
    if (c->cache[i].sql == sql) {
      st = c->cache[i].st;
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      return st;
    }
  if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                         NULL) != SQLITE_OK) {
    log_error("store.sql", "prepare failed: %s", sqlite3_errmsg(c->db));
    return NULL;
  }
  if (c->n < STMT_CACHE) {
    c->cache[c->n].sql = sql;
    c->cache[c->n].st = st;
    c->n++;
  } else {
    log_warn("store.sql", "statement cache full");
  }
  return st;
}

struct conn *sq_rconn(struct store *s)
{
  struct conn *c = pthread_getspecific(s->key);
  if (c)
    return c;
  if (conn_open(s->path, s->full, &c))
    return NULL;
  pthread_setspecific(s->key, c);
  pthread_mutex_lock(&s->rmu);
  c->next = s->readers;
  if (s->readers)
    s->readers->prev = c;
  s->readers = c;
  pthread_mutex_unlock(&s->rmu);
  return c;
}

static int exec(struct conn *c, const char *sql)
{
  char *err = NULL;
  if (sqlite3_exec(c->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    log_error("store.sql", "%s: %s", sql, err ? err : "?");
    sqlite3_free(err);
    return LB_EDB;
  }
  return LB_OK;
}

/* ---- the writer ------------------------------------------------------- */

static void *writer_main(void *arg)
{
  struct store *s = arg;
  for (;;) {
    struct job *batch, *j, *async;
    int rc;
    pthread_mutex_lock(&s->mu);
    while (!s->head && !s->stop)
      pthread_cond_wait(&s->cv_job, &s->mu);
    if (!s->head && s->stop) {
      pthread_mutex_unlock(&s->mu);
      break;
    }
    batch = s->head;
    s->head = s->tail = NULL;
    pthread_mutex_unlock(&s->mu);

    rc = exec(s->w, "BEGIN IMMEDIATE");
    for (j = batch; j; j = j->next) {
      if (rc) {
        j->rc = rc;
        continue;
      }
      if (exec(s->w, "SAVEPOINT job")) {
        j->rc = LB_EDB;
        continue;
      }
      j->rc = j->fn(s->w, j->arg);
      if (j->rc != LB_OK)
        exec(s->w, "ROLLBACK TO job");
      exec(s->w, "RELEASE job");
    }
    if (!rc && exec(s->w, "COMMIT")) {
      exec(s->w, "ROLLBACK");
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
      j->on_done(j->arg, j->rc);
      free(j);
    }
  }
  return NULL;
}

/* Runs fn in a committed transaction on the writer thread. */
int sq_write_tx(struct store *s, int (*fn)(struct conn *, void *), void *arg)
{
  struct job j = {fn, arg, LB_OK, 0, PTHREAD_COND_INITIALIZER, NULL, NULL};
  pthread_mutex_lock(&s->mu);
  if (s->stop) {
    pthread_mutex_unlock(&s->mu);
    pthread_cond_destroy(&j.cv);
    return LB_EDB;
  }
  if (s->tail)
    s->tail->next = &j;
  else
    s->head = &j;
  s->tail = &j;
  pthread_cond_signal(&s->cv_job);
  while (!j.done)
    pthread_cond_wait(&j.cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
  pthread_cond_destroy(&j.cv);
  return j.rc;
}

/* Queues fn and returns at once; on_done(arg, rc) runs on the writer
 * thread once the transaction is committed (or has failed). */
static int write_tx_async(struct store *s, int (*fn)(struct conn *, void *),
                          void *arg, void (*on_done)(void *arg, int rc))
{
  struct job *j = calloc(1, sizeof *j);
  if (!j)
    return LB_ENOMEM;
  j->fn = fn;
  j->arg = arg;
  j->on_done = on_done;
  pthread_mutex_lock(&s->mu);
  if (s->stop) {
    pthread_mutex_unlock(&s->mu);
    free(j);
    return LB_EDB;
  }
  if (s->tail)
    s->tail->next = j;
  else
    s->head = j;
  s->tail = j;
  pthread_cond_signal(&s->cv_job);
  pthread_mutex_unlock(&s->mu);
  return LB_OK;
}

/* ---- open / close / migrate ------------------------------------------- */

int store_open(const struct store_options *opt, struct store **out)
{
  struct store *s = calloc(1, sizeof *s);
  int rc = LB_ENOMEM;
  if (!s)
    return LB_ENOMEM;
  s->full = opt->synchronous_full;
  s->path = strdup(opt->path);
  pthread_mutex_init(&s->mu, NULL);
  pthread_mutex_init(&s->rmu, NULL);
  pthread_cond_init(&s->cv_job, NULL);
  if (!s->path || pthread_key_create(&s->key, NULL))
    goto fail;
  if ((rc = conn_open(s->path, s->full, &s->w)))
    goto fail;
  if (pthread_create(&s->writer, NULL, writer_main, s)) {
    rc = LB_ENOMEM;
    goto fail;
  }
  s->writer_started = 1;
  *out = s;
  return LB_OK;
fail:
  store_free(s);
  return rc;
}

void store_free(struct store *s)
{
  struct conn *c, *next;
  if (!s)
    return;
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

static int version_of(struct conn *c, int *v)
{
  sqlite3_stmt *st = NULL;
  int rc = LB_EDB;
  *v = 0;
  if (exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
              " version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"))
    return LB_EDB;
  if (sqlite3_prepare_v2(c->db,
                         "SELECT COALESCE(MAX(version), 0) FROM "
                         "schema_migrations",
                         -1, &st, NULL) != SQLITE_OK)
    goto out;
  if (sqlite3_step(st) == SQLITE_ROW) {
    *v = sqlite3_column_int(st, 0);
    rc = LB_OK;
  }
out:
  sqlite3_finalize(st);
  return rc;
}

struct migrate_arg {
  int from, to;
};

static int migrate_job(struct conn *c, void *arg)
{
  struct migrate_arg *a = arg;
  int rc = version_of(c, &a->from);
  if (rc)
    return rc;
  if (a->from > MIGRATIONS_COUNT) {
    log_error("store.migrate",
              "the database is at schema version %d, newer than this "
              "lyrebird (%d); upgrade lyrebird",
              a->from, MIGRATIONS_COUNT);
    return LB_EDB;
  }
  for (int v = a->from + 1; v <= MIGRATIONS_COUNT; v++) {
    char ins[128];
    if ((rc = exec(c, migrations[v - 1])))
      return rc;
    snprintf(ins, sizeof ins,
             "INSERT INTO schema_migrations(version, applied_at) "
             "VALUES (%d, %lld)",
             v, (long long)clock_now_ms());
    if ((rc = exec(c, ins)))
      return rc;
  }
  a->to = MIGRATIONS_COUNT;
  return LB_OK;
}

int store_migrate(struct store *s, int *from, int *to)
{
  struct migrate_arg a = {0, 0};
  int rc = sq_write_tx(s, migrate_job, &a);
  if (from)
    *from = a.from;
  if (to)
    *to = a.to;
  return rc;
}

int store_schema_version(struct store *s, int *version)
{
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc = LB_EDB;
  *version = 0;
  if (!c)
    return LB_EDB;
  if (sqlite3_prepare_v2(c->db,
                         "SELECT COALESCE(MAX(version), 0) FROM "
                         "schema_migrations",
                         -1, &st, NULL) != SQLITE_OK)
    return LB_OK; /* no table: version 0 */
  if (sqlite3_step(st) == SQLITE_ROW) {
    *version = sqlite3_column_int(st, 0);
    rc = LB_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

/* ---- binding helpers -------------------------------------------------- */

void sq_bt(sqlite3_stmt *st, int i, const char *v)
{
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

/* Binds "" as NULL. */
void sq_bt0(sqlite3_stmt *st, int i, const char *v)
{
  sq_bt(st, i, v && *v ? v : NULL);
}

void sq_bi(sqlite3_stmt *st, int i, int64_t v)
{
  sqlite3_bind_int64(st, i, v);
}

void sq_ct(sqlite3_stmt *st, int i, char *dst, size_t n)
{
  const unsigned char *v = sqlite3_column_text(st, i);
  str_copy(dst, n, v ? (const char *)v : "");
}

/* Steps a statement that returns no rows. */
int sq_step_done(struct conn *c, sqlite3_stmt *st)
{
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    log_error("store.sql", "step failed: %s", sqlite3_errmsg(c->db));
    sqlite3_reset(st);
    return LB_EDB;
  }
  sqlite3_reset(st);
  return LB_OK;
}

static int add_event(struct conn *c, const char *msg_id, const char *status,
                     const char *detail, int64_t at)
{
  static const char sql[] = "INSERT INTO message_events(id, message_id, "
                            "status, detail, at) VALUES (?, ?, ?, ?, ?)";
  sqlite3_stmt *st = sq_stmt(c, sql);
  char id[LB_ID_SIZE];
  if (!st)
    return LB_EDB;
  id_new(id);
  sq_bt(st, 1, id);
  sq_bt(st, 2, msg_id);
  sq_bt(st, 3, status);
  sq_bt0(st, 4, detail);
  sq_bi(st, 5, at);
  return sq_step_done(c, st);
}

/* ---- messages --------------------------------------------------------- */

#define MSG_COLS                                                               \
  "m.id, m.direction, m.from_e164, m.to_e164, m.body, m.status, m.provider,"   \
  " m.provider_message_id, m.error_code, m.error_text, m.error_retryable,"     \
  " m.attempts, m.next_attempt_at, m.created_at, m.updated_at, m.route,"       \
  " m.route_reason"

static int row_to_message(struct conn *c, sqlite3_stmt *st, int col,
                          struct message *m)
{
  static const char media_sql[] = "SELECT media_id FROM message_media WHERE "
                                  "message_id = ? ORDER BY position";
  const unsigned char *text;
  char buf[32];
  sqlite3_stmt *ms;

  message_release(m);
  message_init(m);
  sq_ct(st, col + 0, m->id, sizeof m->id);
  sq_ct(st, col + 1, buf, sizeof buf);
  m->direction = strcmp(buf, "inbound") == 0 ? DIR_INBOUND : DIR_OUTBOUND;
  sq_ct(st, col + 2, m->from, sizeof m->from);
  sq_ct(st, col + 3, m->to, sizeof m->to);
  text = sqlite3_column_text(st, col + 4);
  m->text = strdup(text ? (const char *)text : "");
  if (!m->text)
    return LB_ENOMEM;
  sq_ct(st, col + 5, buf, sizeof buf);
  if (status_parse(buf, &m->status))
    m->status = ST_FAILED;
  sq_ct(st, col + 6, m->provider, sizeof m->provider);
  sq_ct(st, col + 7, m->provider_msg_id, sizeof m->provider_msg_id);
  sq_ct(st, col + 8, m->error_code, sizeof m->error_code);
  sq_ct(st, col + 9, m->error_text, sizeof m->error_text);
  m->error_retryable = sqlite3_column_int(st, col + 10);
  m->attempts = sqlite3_column_int(st, col + 11);
  m->next_attempt_at = sqlite3_column_int64(st, col + 12);
  m->created_at = sqlite3_column_int64(st, col + 13);
  m->updated_at = sqlite3_column_int64(st, col + 14);
  sq_ct(st, col + 15, m->route, sizeof m->route);
  sq_ct(st, col + 16, m->route_reason, sizeof m->route_reason);

  /* A second cached statement, while the caller's st is mid-step. */
  ms = sq_stmt(c, media_sql);
  if (!ms)
    return LB_EDB;
  sq_bt(ms, 1, m->id);
  while (sqlite3_step(ms) == SQLITE_ROW && m->n_media < LB_MEDIA_MAX) {
    sq_ct(ms, 0, m->media_ids[m->n_media], LB_ID_SIZE);
    m->n_media++;
  }
  sqlite3_reset(ms);
  return LB_OK;
}

static int load_message(struct conn *c, const char *id, struct message *out)
{
  static const char sql[] =
      "SELECT " MSG_COLS " FROM messages m WHERE m.id = ?";
  sqlite3_stmt *st = sq_stmt(c, sql);
  int rc;
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    rc = row_to_message(c, st, 0, out);
  else
    rc = rc == SQLITE_DONE ? LB_ENOTFOUND : LB_EDB;
  sqlite3_reset(st);
  return rc;
}

int store_message_get(struct store *s, const char *id, struct message *out)
{
  struct conn *c = sq_rconn(s);
  return c ? load_message(c, id, out) : LB_EDB;
}

/* Ensures the patient and the conversation, and records m (when not NULL)
 * as its latest message, adding unread_inc to its unread count: two
 * statements. Writes the conversation id. */
static int upsert_conversation(struct conn *c, const char *number,
                               const char *patient, const struct message *m,
                               int unread_inc, int64_t now,
                               char conv_id[LB_ID_SIZE])
{
  static const char pat_sql[] =
      "INSERT INTO patients(e164, created_at, updated_at) VALUES (?, ?, ?) "
      "ON CONFLICT (e164) DO NOTHING";
  static const char conv_sql[] =
      "INSERT INTO conversations(id, number_e164, patient_e164, "
      "last_message_id, last_message_at, unread_count, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (number_e164, patient_e164) "
      "DO UPDATE SET last_message_id = COALESCE(excluded.last_message_id, "
      "conversations.last_message_id), last_message_at = "
      "COALESCE(excluded.last_message_at, conversations.last_message_at), "
      "unread_count = conversations.unread_count + excluded.unread_count "
      "RETURNING id";
  sqlite3_stmt *st;
  char id[LB_ID_SIZE];
  int rc;

  if (!(st = sq_stmt(c, pat_sql)))
    return LB_EDB;
  sq_bt(st, 1, patient);
  sq_bi(st, 2, now);
  sq_bi(st, 3, now);
  if ((rc = sq_step_done(c, st)))
    return rc;
  if (!(st = sq_stmt(c, conv_sql)))
    return LB_EDB;
  id_new(id);
  sq_bt(st, 1, id);
  sq_bt(st, 2, number);
  sq_bt(st, 3, patient);
  sq_bt(st, 4, m ? m->id : NULL);
  if (m)
    sq_bi(st, 5, m->created_at);
  else
    sqlite3_bind_null(st, 5);
  sq_bi(st, 6, unread_inc);
  sq_bi(st, 7, now);
  rc = sqlite3_step(st) == SQLITE_ROW ? LB_OK : LB_EDB;
  if (!rc)
    sq_ct(st, 0, conv_id, LB_ID_SIZE);
  else
    log_error("store.sql", "upsert conversation: %s", sqlite3_errmsg(c->db));
  sqlite3_reset(st);
  return rc;
}

static int insert_message(struct conn *c, const struct message *m,
                          const char *conv_id, int *inserted)
{
  static const char sql[] =
      "INSERT INTO messages(id, conversation_id, direction, from_e164, "
      "to_e164, body, status, provider, provider_message_id, error_code, "
      "error_text, error_retryable, attempts, next_attempt_at, created_at, "
      "updated_at, route, route_reason) VALUES "
      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
      "ON CONFLICT (provider, provider_message_id) DO NOTHING RETURNING id";
  sqlite3_stmt *st = sq_stmt(c, sql);
  int rc;
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, m->id);
  sq_bt(st, 2, conv_id);
  sq_bt(st, 3, direction_name(m->direction));
  sq_bt(st, 4, m->from);
  sq_bt(st, 5, m->to);
  sq_bt(st, 6, m->text ? m->text : "");
  sq_bt(st, 7, status_name(m->status));
  sq_bt(st, 8, m->provider);
  sq_bt0(st, 9, m->provider_msg_id);
  sq_bt0(st, 10, m->error_code);
  sq_bt0(st, 11, m->error_text);
  sq_bi(st, 12, m->error_retryable);
  sq_bi(st, 13, m->attempts);
  sq_bi(st, 14, m->next_attempt_at);
  sq_bi(st, 15, m->created_at);
  sq_bi(st, 16, m->updated_at);
  sq_bt0(st, 17, m->route);
  sq_bt0(st, 18, m->route_reason);
  rc = sqlite3_step(st);
  *inserted = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW)
    rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    log_error("store.sql", "insert message: %s", sqlite3_errmsg(c->db));
    return LB_EDB;
  }
  return LB_OK;
}

static int link_media(struct conn *c, const struct message *m)
{
  static const char sql[] = "INSERT INTO message_media(message_id, position, "
                            "media_id) VALUES (?, ?, ?)";
  for (size_t i = 0; i < m->n_media; i++) {
    sqlite3_stmt *st = sq_stmt(c, sql);
    int rc;
    if (!st)
      return LB_EDB;
    sq_bt(st, 1, m->id);
    sq_bi(st, 2, (int64_t)i);
    sq_bt(st, 3, m->media_ids[i]);
    if ((rc = sq_step_done(c, st)))
      return rc;
  }
  return LB_OK;
}

struct enqueue_arg {
  struct message *msg;
  const struct link *link;
  const char *idem_key;
  const char *hash;
};

static int enqueue_job(struct conn *c, void *arg)
{
  static const char idem_get[] = "SELECT request_sha256, message_id FROM "
                                 "idempotency_keys WHERE key = ?";
  static const char idem_put[] = "INSERT INTO idempotency_keys(key, "
                                 "request_sha256, message_id, created_at) "
                                 "VALUES (?, ?, ?, ?)";
  struct enqueue_arg *a = arg;
  struct message *m = a->msg;
  char conv[LB_ID_SIZE];
  sqlite3_stmt *st;
  int rc, inserted = 0;

  if (a->idem_key) {
    char hash[65], first[LB_ID_SIZE];
    if (!(st = sq_stmt(c, idem_get)))
      return LB_EDB;
    sq_bt(st, 1, a->idem_key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      sq_ct(st, 0, hash, sizeof hash);
      sq_ct(st, 1, first, sizeof first);
      sqlite3_reset(st);
      rc = load_message(c, first, m);
      if (rc)
        return rc;
      return strcmp(hash, a->hash) == 0 ? LB_EDUPLICATE : LB_ECONFLICT;
    }
    sqlite3_reset(st);
  }
  if ((rc = upsert_conversation(
           c, m->clinic_number[0] ? m->clinic_number : m->from, m->to, m, 0,
           m->created_at, conv)) ||
      (rc = insert_message(c, m, conv, &inserted)))
    return rc;
  if (!inserted)
    return LB_EDB;
  if ((rc = link_media(c, m)) ||
      (rc = add_event(c, m->id, status_name(m->status), NULL, m->created_at)) ||
      (a->link && (rc = sq_link_insert(c, a->link))))
    return rc;
  if (a->idem_key) {
    if (!(st = sq_stmt(c, idem_put)))
      return LB_EDB;
    sq_bt(st, 1, a->idem_key);
    sq_bt(st, 2, a->hash);
    sq_bt(st, 3, m->id);
    sq_bi(st, 4, m->created_at);
    if ((rc = sq_step_done(c, st)))
      return rc;
  }
  return LB_OK;
}

int store_message_enqueue(struct store *s, struct message *msg,
                          const struct link *link, const char *idem_key,
                          const char *request_hash)
{
  struct enqueue_arg a = {msg, link, idem_key,
                          request_hash ? request_hash : ""};
  return sq_write_tx(s, enqueue_job, &a);
}

struct receive_arg {
  struct message *msg;
  const struct media *media;
  size_t n;
  const char *const *fetch_urls;
  size_t n_fetch;
};

static int put_fetch(struct conn *c, const char *message_id, int position,
                     const char *url, int64_t now)
{
  static const char sql[] =
      "INSERT INTO media_fetches(id, message_id, position, url, state, "
      "attempts, next_at, created_at, updated_at) VALUES "
      "(?, ?, ?, ?, 'pending', 0, ?, ?, ?)";
  sqlite3_stmt *st = sq_stmt(c, sql);
  char id[LB_ID_SIZE];
  if (!st)
    return LB_EDB;
  id_new(id);
  sq_bt(st, 1, id);
  sq_bt(st, 2, message_id);
  sq_bi(st, 3, position);
  sq_bt(st, 4, url);
  sq_bi(st, 5, now);
  sq_bi(st, 6, now);
  sq_bi(st, 7, now);
  return sq_step_done(c, st);
}

static int put_variant(struct conn *c, const char *media_id,
                       const struct media_variant *v)
{
  static const char sql[] =
      "INSERT INTO media_variants(media_id, kind, blob_key, content_type, "
      "bytes, width, height, quality, created_at) VALUES "
      "(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (media_id, kind) DO UPDATE SET "
      "blob_key = excluded.blob_key, content_type = excluded.content_type, "
      "bytes = excluded.bytes, width = excluded.width, height = "
      "excluded.height, quality = excluded.quality, created_at = "
      "excluded.created_at";
  sqlite3_stmt *st = sq_stmt(c, sql);
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, media_id);
  sq_bt(st, 2, v->kind);
  sq_bt(st, 3, v->blob_key);
  sq_bt(st, 4, v->content_type);
  sq_bi(st, 5, v->bytes);
  sq_bi(st, 6, v->width);
  sq_bi(st, 7, v->height);
  sq_bi(st, 8, v->quality);
  sq_bi(st, 9, v->created_at);
  return sq_step_done(c, st);
}

static int put_media(struct conn *c, const struct media *md)
{
  static const char sql[] =
      "INSERT INTO media(id, sha256, content_type, bytes, blob_key, "
      "width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO NOTHING";
  sqlite3_stmt *st = sq_stmt(c, sql);
  int rc;
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, md->id);
  sq_bt(st, 2, md->sha256);
  sq_bt(st, 3, md->content_type);
  sq_bi(st, 4, md->bytes);
  sq_bt(st, 5, md->blob_key);
  sq_bi(st, 6, md->width);
  sq_bi(st, 7, md->height);
  sq_bi(st, 8, md->created_at);
  if ((rc = sq_step_done(c, st)))
    return rc;
  for (size_t i = 0; i < md->n_variants && i < LB_MEDIA_VARIANTS_AT_INTAKE; i++)
    if ((rc = put_variant(c, md->id, &md->variants[i])))
      return rc;
  return LB_OK;
}

static int receive_job(struct conn *c, void *arg)
{
  static const char dup_sql[] = "SELECT id FROM messages WHERE provider = ? "
                                "AND provider_message_id = ?";
  struct receive_arg *a = arg;
  struct message *m = a->msg;
  char conv[LB_ID_SIZE];
  int rc, inserted = 0;

  /* A duplicate undoes the conversation update: the job fails, and its
   * savepoint is rolled back. */
  if ((rc =
           upsert_conversation(c, m->to, m->from, m, 1, m->created_at, conv)) ||
      (rc = insert_message(c, m, conv, &inserted)))
    return rc;
  if (!inserted) {
    sqlite3_stmt *st = sq_stmt(c, dup_sql);
    if (!st)
      return LB_EDB;
    sq_bt(st, 1, m->provider);
    sq_bt(st, 2, m->provider_msg_id);
    if (sqlite3_step(st) == SQLITE_ROW)
      sq_ct(st, 0, m->id, sizeof m->id);
    sqlite3_reset(st);
    return LB_EDUPLICATE;
  }
  for (size_t i = 0; i < a->n; i++)
    if ((rc = put_media(c, &a->media[i])))
      return rc;
  if ((rc = link_media(c, m)) ||
      (rc = add_event(c, m->id, "received", NULL, m->created_at)))
    return rc;
  for (size_t k = 0; k < a->n_fetch; k++)
    if ((rc = put_fetch(c, m->id, (int)(m->n_media + k), a->fetch_urls[k],
                        m->created_at)))
      return rc;
  return LB_OK;
}

struct receive_async {
  struct receive_arg a;
  void (*done)(void *arg, int rc);
  void *arg;
};

static int receive_async_job(struct conn *c, void *arg)
{
  return receive_job(c, &((struct receive_async *)arg)->a);
}

static void receive_async_done(void *arg, int rc)
{
  struct receive_async *ra = arg;
  void (*done)(void *, int) = ra->done;
  void *darg = ra->arg;
  free(ra);
  done(darg, rc);
}

int store_message_receive_async(struct store *s, struct message *msg,
                                const struct media *media, size_t n_media,
                                const char *const *fetch_urls, size_t n_fetch,
                                void (*done)(void *arg, int rc), void *arg)
{
  struct receive_async *ra = calloc(1, sizeof *ra);
  int rc;
  if (!ra)
    return LB_ENOMEM;
  ra->a = (struct receive_arg){msg, media, n_media, fetch_urls, n_fetch};
  ra->done = done;
  ra->arg = arg;
  rc = write_tx_async(s, receive_async_job, ra, receive_async_done);
  if (rc)
    free(ra);
  return rc;
}

int store_message_events(struct store *s, const char *id, store_event_cb cb,
                         void *arg)
{
  static const char sql[] = "SELECT status, detail, at FROM message_events "
                            "WHERE message_id = ? ORDER BY id";
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc = LB_OK;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, id);
  while (!rc && sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char *status = sqlite3_column_text(st, 0);
    const unsigned char *detail = sqlite3_column_text(st, 1);
    rc = cb(arg, (const char *)status, (const char *)detail,
            sqlite3_column_int64(st, 2));
  }
  sqlite3_reset(st);
  return rc;
}

/* ---- numbers, patients ------------------------------------------------ */

struct number_arg {
  const char *e164, *name, *host;
};

static int number_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "INSERT INTO numbers(e164, name, host_provider, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (e164) DO UPDATE SET "
      "name = excluded.name, host_provider = excluded.host_provider, "
      "updated_at = excluded.updated_at";
  struct number_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  int64_t now = clock_now_ms();
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, a->e164);
  sq_bt(st, 2, a->name);
  sq_bt(st, 3, a->host);
  sq_bi(st, 4, now);
  sq_bi(st, 5, now);
  return sq_step_done(c, st);
}

int store_number_upsert(struct store *s, const char *e164, const char *name,
                        const char *host)
{
  struct number_arg a = {e164, name, host};
  return sq_write_tx(s, number_job, &a);
}

struct patient_arg {
  const char *e164, *name;
};

static int patient_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "INSERT INTO patients(e164, name, created_at, updated_at) "
      "VALUES (?, ?, ?, ?) ON CONFLICT (e164) DO UPDATE SET "
      "name = COALESCE(excluded.name, patients.name), "
      "updated_at = excluded.updated_at";
  struct patient_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  int64_t now = clock_now_ms();
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, a->e164);
  sq_bt(st, 2, a->name);
  sq_bi(st, 3, now);
  sq_bi(st, 4, now);
  return sq_step_done(c, st);
}

int store_patient_upsert(struct store *s, const char *e164, const char *name)
{
  struct patient_arg a = {e164, name};
  return sq_write_tx(s, patient_job, &a);
}

/* Sets one of a known patient's own fields. */
struct field_arg {
  const char *sql; /* "UPDATE patients SET <field> = ?, updated_at = ? ..." */
  const char *e164, *value;
};

static int field_job(struct conn *c, void *arg)
{
  struct field_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, a->sql);
  int rc;
  if (!st)
    return LB_EDB;
  sq_bt0(st, 1, a->value);
  sq_bi(st, 2, clock_now_ms());
  sq_bt(st, 3, a->e164);
  rc = sq_step_done(c, st);
  if (!rc && sqlite3_changes(c->db) == 0)
    rc = LB_ENOTFOUND;
  return rc;
}

int store_patient_rename(struct store *s, const char *e164, const char *name)
{
  static const char sql[] =
      "UPDATE patients SET name = ?, updated_at = ? WHERE e164 = ?";
  struct field_arg a = {sql, e164, name};
  return sq_write_tx(s, field_job, &a);
}

int store_patient_set_dob(struct store *s, const char *e164, const char *dob)
{
  static const char sql[] =
      "UPDATE patients SET dob = ?, updated_at = ? WHERE e164 = ?";
  struct field_arg a = {sql, e164, dob};
  return sq_write_tx(s, field_job, &a);
}

int store_patient_opt_out(struct store *s, const char *e164, const char *source)
{
  /* The first opt-out's time stands; the source says who told us. */
  static const char sql[] =
      "UPDATE patients SET opt_out_source = ?, opted_out_at = "
      "COALESCE(opted_out_at, ?2) WHERE e164 = ?3";
  struct field_arg a = {sql, e164, source};
  return sq_write_tx(s, field_job, &a);
}

int store_patient_dob(struct store *s, const char *e164, char out[11])
{
  static const char sql[] =
      "SELECT dob FROM patients WHERE e164 = ? AND dob IS NOT NULL";
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, e164);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    sq_ct(st, 0, out, 11);
    rc = LB_OK;
  } else {
    rc = rc == SQLITE_DONE ? LB_ENOTFOUND : LB_EDB;
  }
  sqlite3_reset(st);
  return rc;
}

struct conv_open_arg {
  const char *number, *patient;
};

static int conv_open_job(struct conn *c, void *arg)
{
  struct conv_open_arg *a = arg;
  char id[LB_ID_SIZE];
  return upsert_conversation(c, a->number, a->patient, NULL, 0, clock_now_ms(),
                             id);
}

int store_conversation_open(struct store *s, const char *number,
                            const char *patient)
{
  struct conv_open_arg a = {number, patient};
  return sq_write_tx(s, conv_open_job, &a);
}

/* ---- outbox ----------------------------------------------------------- */

struct claim_arg {
  int64_t now;
  struct message *out;
  size_t max, n;
};

static int claim_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "UPDATE messages SET status = 'sending', attempts = attempts + 1, "
      "updated_at = ?1 WHERE id IN (SELECT id FROM messages WHERE status = "
      "'queued' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id "
      "LIMIT ?2) RETURNING id";
  struct claim_arg *a = arg;
  char ids[16][LB_ID_SIZE];
  size_t n = 0;
  sqlite3_stmt *st = sq_stmt(c, sql);
  int rc;
  if (!st)
    return LB_EDB;
  sq_bi(st, 1, a->now);
  sq_bi(st, 2, (int64_t)(a->max < 16 ? a->max : 16));
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 16)
    sq_ct(st, 0, ids[n++], LB_ID_SIZE);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return LB_EDB;
  for (size_t i = 0; i < n; i++) {
    char detail[64];
    if ((rc = load_message(c, ids[i], &a->out[a->n])))
      return rc;
    snprintf(detail, sizeof detail, "attempt %d", a->out[a->n].attempts);
    if ((rc = add_event(c, ids[i], "sending", detail, a->now)))
      return rc;
    a->n++;
  }
  return LB_OK;
}

int store_outbox_claim(struct store *s, int64_t now, struct message *out,
                       size_t max, size_t *n)
{
  struct claim_arg a = {now, out, max, 0};
  int rc = sq_write_tx(s, claim_job, &a);
  if (rc) {
    for (size_t i = 0; i < a.n; i++)
      message_release(&out[i]);
    a.n = 0;
  }
  *n = a.n;
  return rc;
}

static int current_status(struct conn *c, const char *id,
                          enum msg_status *st_out, char *pmid, size_t pmidlen)
{
  static const char sql[] = "SELECT status, provider_message_id FROM messages "
                            "WHERE id = ?";
  sqlite3_stmt *st = sq_stmt(c, sql);
  char buf[32];
  int rc;
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    sq_ct(st, 0, buf, sizeof buf);
    if (pmid)
      sq_ct(st, 1, pmid, pmidlen);
    rc = status_parse(buf, st_out) ? LB_EDB : LB_OK;
  } else {
    rc = rc == SQLITE_DONE ? LB_ENOTFOUND : LB_EDB;
  }
  sqlite3_reset(st);
  return rc;
}

static int set_provider_id(struct conn *c, const char *id, const char *pmid)
{
  static const char sql[] = "UPDATE messages SET provider_message_id = ? "
                            "WHERE id = ? AND provider_message_id IS NULL";
  sqlite3_stmt *st;
  if (!pmid || !*pmid)
    return LB_OK;
  if (!(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, pmid);
  sq_bt(st, 2, id);
  return sq_step_done(c, st);
}

struct result_arg {
  const struct message *m;
  const char *detail;
  int ignored;
};

static int result_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "UPDATE messages SET status = ?, provider_message_id = "
      "COALESCE(?, provider_message_id), error_code = ?, error_text = ?, "
      "error_retryable = ?, next_attempt_at = ?, updated_at = ?, "
      "route = COALESCE(?, route), route_reason = COALESCE(?, route_reason), "
      "provider = ?, from_e164 = ? WHERE id = ?";
  struct result_arg *a = arg;
  const struct message *m = a->m;
  enum msg_status cur;
  sqlite3_stmt *st;
  int64_t now = clock_now_ms();
  int rc = current_status(c, m->id, &cur, NULL, 0);
  if (rc)
    return rc;
  if (cur != m->status && !status_can_move(cur, m->status)) {
    /* A receipt got here first; keep its status, keep the provider id. */
    a->ignored = 1;
    return set_provider_id(c, m->id, m->provider_msg_id);
  }
  if (!(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, status_name(m->status));
  sq_bt0(st, 2, m->provider_msg_id);
  sq_bt0(st, 3, m->error_code);
  sq_bt0(st, 4, m->error_text);
  sq_bi(st, 5, m->error_retryable);
  sq_bi(st, 6, m->next_attempt_at);
  sq_bi(st, 7, now);
  sq_bt0(st, 8, m->route);
  sq_bt0(st, 9, m->route_reason);
  sq_bt(st, 10, m->provider);
  sq_bt(st, 11, m->from);
  sq_bt(st, 12, m->id);
  if ((rc = sq_step_done(c, st)))
    return rc;
  return add_event(c, m->id, status_name(m->status), a->detail, now);
}

int store_outbox_result(struct store *s, const struct message *m,
                        const char *detail)
{
  struct result_arg a = {m, detail, 0};
  int rc = sq_write_tx(s, result_job, &a);
  return rc ? rc : a.ignored ? LB_ETRANSITION : LB_OK;
}

int store_outbox_next_due(struct store *s, int64_t *at)
{
  static const char sql[] = "SELECT MIN(next_attempt_at) FROM messages "
                            "WHERE status = 'queued'";
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc = LB_EDB;
  *at = -1;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  if (sqlite3_step(st) == SQLITE_ROW) {
    if (sqlite3_column_type(st, 0) != SQLITE_NULL)
      *at = sqlite3_column_int64(st, 0);
    rc = LB_OK;
  }
  sqlite3_reset(st);
  return rc;
}

struct recover_arg {
  int (*dedupes)(void *arg, const char *provider);
  void *dedupes_arg;
  int requeued, unconfirmed;
};

static int recover_job(struct conn *c, void *arg)
{
  static const char list_sql[] =
      "SELECT id, provider FROM messages WHERE status = 'sending' "
      "AND (error_code IS NULL OR error_code <> 'unconfirmed') LIMIT 1000";
  static const char requeue_sql[] =
      "UPDATE messages SET status = 'queued', next_attempt_at = ?, "
      "updated_at = ? WHERE id = ?";
  static const char unconf_sql[] =
      "UPDATE messages SET error_code = 'unconfirmed', error_text = ?, "
      "error_retryable = 0, updated_at = ? WHERE id = ?";
  static const char unconf_text[] =
      "lyrebird stopped while sending this message, so the provider may "
      "have it. It is not resent automatically (this provider cannot "
      "recognise a resend); its delivery receipt will settle it.";
  struct recover_arg *a = arg;
  char ids[1000][LB_ID_SIZE];
  char provs[1000][LB_PROVIDER_MAX];
  size_t n = 0;
  int64_t now = clock_now_ms();
  sqlite3_stmt *st = sq_stmt(c, list_sql);
  int rc;
  if (!st)
    return LB_EDB;
  while (n < 1000 && sqlite3_step(st) == SQLITE_ROW) {
    sq_ct(st, 0, ids[n], LB_ID_SIZE);
    sq_ct(st, 1, provs[n], LB_PROVIDER_MAX);
    n++;
  }
  sqlite3_reset(st);
  for (size_t i = 0; i < n; i++) {
    int dd = a->dedupes(a->dedupes_arg, provs[i]);
    if (!(st = sq_stmt(c, dd ? requeue_sql : unconf_sql)))
      return LB_EDB;
    if (dd) {
      sq_bi(st, 1, now);
      sq_bi(st, 2, now);
      sq_bt(st, 3, ids[i]);
    } else {
      sq_bt(st, 1, unconf_text);
      sq_bi(st, 2, now);
      sq_bt(st, 3, ids[i]);
    }
    if ((rc = sq_step_done(c, st)))
      return rc;
    if ((rc = add_event(c, ids[i], dd ? "queued" : "sending",
                        dd ? "requeued after a restart: the provider "
                             "recognises a resend by our reference"
                           : "unconfirmed after a restart; waiting for a "
                             "receipt",
                        now)))
      return rc;
    if (dd)
      a->requeued++;
    else
      a->unconfirmed++;
  }
  return LB_OK;
}

int store_outbox_recover(struct store *s,
                         int (*dedupes)(void *arg, const char *provider),
                         void *arg, int *requeued, int *unconfirmed)
{
  struct recover_arg *a = calloc(1, sizeof *a);
  int rc;
  if (!a)
    return LB_ENOMEM;
  a->dedupes = dedupes;
  a->dedupes_arg = arg;
  rc = sq_write_tx(s, recover_job, a);
  *requeued = a->requeued;
  *unconfirmed = a->unconfirmed;
  free(a);
  return rc;
}

struct status_arg {
  const char *provider, *pmid, *ref;
  enum msg_status status;
  const char *code, *text;
  char *msg_id;
};

/* A shortened id: 16 to 25 of the characters ids are made of. */
static int ref_is_tail(const char *ref)
{
  size_t n = ref ? strlen(ref) : 0;
  if (n < 16 || n >= LB_ID_SIZE - 1)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((ref[i] >= '0' && ref[i] <= '9') || (ref[i] >= 'A' && ref[i] <= 'Z')))
      return 0;
  return 1;
}

static int status_job(struct conn *c, void *arg)
{
  static const char by_ref[] = "SELECT id FROM messages WHERE id = ? AND "
                               "provider = ? AND direction = 'outbound'";
  static const char by_pmid[] = "SELECT id FROM messages WHERE provider = ? "
                                "AND provider_message_id = ?";
  static const char by_tail[] =
      "SELECT id FROM messages WHERE id LIKE '%' || ? AND provider = ? AND "
      "direction = 'outbound' LIMIT 2";
  static const char upd[] =
      "UPDATE messages SET status = ?, error_code = COALESCE(?, error_code), "
      "error_text = COALESCE(?, error_text), error_retryable = 0, "
      "updated_at = ? WHERE id = ?";
  static const char clear_unconfirmed[] =
      "UPDATE messages SET error_code = NULL, error_text = NULL WHERE id = ? "
      "AND error_code = 'unconfirmed'";
  struct status_arg *a = arg;
  enum msg_status cur;
  sqlite3_stmt *st;
  char detail[LB_ERRTEXT_MAX + 96];
  int64_t now = clock_now_ms();
  int rc;

  a->msg_id[0] = '\0';
  if (a->ref && *a->ref) {
    if (!(st = sq_stmt(c, by_ref)))
      return LB_EDB;
    sq_bt(st, 1, a->ref);
    sq_bt(st, 2, a->provider);
    if (sqlite3_step(st) == SQLITE_ROW)
      sq_ct(st, 0, a->msg_id, LB_ID_SIZE);
    sqlite3_reset(st);
  }
  if (!a->msg_id[0] && a->pmid && *a->pmid) {
    if (!(st = sq_stmt(c, by_pmid)))
      return LB_EDB;
    sq_bt(st, 1, a->provider);
    sq_bt(st, 2, a->pmid);
    if (sqlite3_step(st) == SQLITE_ROW)
      sq_ct(st, 0, a->msg_id, LB_ID_SIZE);
    sqlite3_reset(st);
  }
  if (!a->msg_id[0] && ref_is_tail(a->ref)) {
    /* A provider that keeps only the end of our id (SMS Broadcast's ref
     * holds 20 characters): the one outbound message whose id ends so.
     * Only needed for a send whose answer was lost (no provider id). */
    int n = 0;
    if (!(st = sq_stmt(c, by_tail)))
      return LB_EDB;
    sq_bt(st, 1, a->ref);
    sq_bt(st, 2, a->provider);
    while (sqlite3_step(st) == SQLITE_ROW && ++n == 1)
      sq_ct(st, 0, a->msg_id, LB_ID_SIZE);
    sqlite3_reset(st);
    if (n != 1)
      a->msg_id[0] = '\0';
  }
  if (!a->msg_id[0])
    return LB_ENOTFOUND;
  if ((rc = current_status(c, a->msg_id, &cur, NULL, 0)) ||
      (rc = set_provider_id(c, a->msg_id, a->pmid)))
    return rc;
  if (cur == a->status)
    return LB_OK; /* a repeated receipt */
  snprintf(detail, sizeof detail, "receipt%s%s%s%s",
           a->code && *a->code ? " " : "", a->code ? a->code : "",
           a->text && *a->text ? ": " : "", a->text ? a->text : "");
  if (!status_can_move(cur, a->status)) {
    char late[LB_ERRTEXT_MAX + 160];
    snprintf(late, sizeof late, "%s (ignored: already %s)", detail,
             status_name(cur));
    return add_event(c, a->msg_id, status_name(a->status), late, now);
  }
  if (!(st = sq_stmt(c, upd)))
    return LB_EDB;
  sq_bt(st, 1, status_name(a->status));
  sq_bt0(st, 2, a->status == ST_DELIVERED ? NULL : a->code);
  sq_bt0(st, 3, a->status == ST_DELIVERED ? NULL : a->text);
  sq_bi(st, 4, now);
  sq_bt(st, 5, a->msg_id);
  if ((rc = sq_step_done(c, st)))
    return rc;
  if (!(st = sq_stmt(c, clear_unconfirmed)))
    return LB_EDB;
  sq_bt(st, 1, a->msg_id);
  if ((rc = sq_step_done(c, st)))
    return rc;
  return add_event(c, a->msg_id, status_name(a->status), detail, now);
}

int store_status_apply(struct store *s, const char *provider,
                       const char *provider_msg_id, const char *ref,
                       enum msg_status status, const char *error_code,
                       const char *error_text, char msg_id[LB_ID_SIZE])
{
  struct status_arg a = {provider,   provider_msg_id, ref,   status,
                         error_code, error_text,      msg_id};
  return sq_write_tx(s, status_job, &a);
}

/* ---- conversations ---------------------------------------------------- */

/* A LIKE pattern "%q%" with % _ and \ escaped by \. */
static void like_pattern(const char *q, char *out, size_t n)
{
  size_t j = 0;
  out[j++] = '%';
  for (; *q && j + 3 < n; q++) {
    if (*q == '%' || *q == '_' || *q == '\\')
      out[j++] = '\\';
    out[j++] = *q;
  }
  out[j++] = '%';
  out[j] = '\0';
}

int store_conversations(struct store *s, const char *number, const char *query,
                        int limit, store_conv_cb cb, void *arg)
{
  static const char sql[] =
      "SELECT c.number_e164, c.patient_e164, p.name, c.unread_count, "
      "c.last_message_id FROM conversations c JOIN patients p ON p.e164 = "
      "c.patient_e164 WHERE c.number_e164 = ? AND (? IS NULL OR "
      "lower(p.name) LIKE lower(?) ESCAPE '\\' OR c.patient_e164 LIKE ? "
      "ESCAPE '\\') ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, "
      "c.id DESC LIMIT ?";
  char pat[300];
  struct conn *c = sq_rconn(s);
  struct conversation_row *rows = NULL;
  sqlite3_stmt *st;
  char last_ids[LIST_MAX][LB_ID_SIZE];
  int n = 0, rc = LB_OK;

  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  if (limit <= 0 || limit > LIST_MAX)
    limit = LIST_MAX;
  rows = calloc((size_t)limit, sizeof *rows);
  if (!rows)
    return LB_ENOMEM;
  sq_bt(st, 1, number);
  if (query && *query) {
    like_pattern(query, pat, sizeof pat);
    sq_bi(st, 2, 1);
    sq_bt(st, 3, pat);
    sq_bt(st, 4, pat);
  } else {
    sqlite3_bind_null(st, 2);
    sqlite3_bind_null(st, 3);
    sqlite3_bind_null(st, 4);
  }
  sq_bi(st, 5, limit);
  while (n < limit && sqlite3_step(st) == SQLITE_ROW) {
    struct conversation_row *r = &rows[n];
    sq_ct(st, 0, r->number, sizeof r->number);
    sq_ct(st, 1, r->patient, sizeof r->patient);
    r->has_name = sqlite3_column_type(st, 2) != SQLITE_NULL;
    sq_ct(st, 2, r->name, sizeof r->name);
    r->unread = sqlite3_column_int(st, 3);
    sq_ct(st, 4, last_ids[n], LB_ID_SIZE);
    n++;
  }
  sqlite3_reset(st);
  for (int i = 0; i < n && !rc; i++) {
    if (last_ids[i][0]) {
      rc = load_message(c, last_ids[i], &rows[i].last);
      rows[i].has_last = rc == LB_OK;
      if (rc == LB_ENOTFOUND)
        rc = LB_OK;
    }
    if (!rc)
      rc = cb(arg, &rows[i]);
  }
  for (int i = 0; i < n; i++)
    message_release(&rows[i].last);
  free(rows);
  return rc;
}

int store_conversation_messages(struct store *s, const char *number,
                                const char *patient, const char *before_id,
                                int limit, store_msg_cb cb, void *arg)
{
  static const char conv_sql[] = "SELECT id FROM conversations WHERE "
                                 "number_e164 = ? AND patient_e164 = ?";
  static const char sql[] = "SELECT " MSG_COLS " FROM messages m WHERE "
                            "m.conversation_id = ? AND (? IS NULL OR m.id < ?) "
                            "ORDER BY m.id DESC LIMIT ?";
  struct conn *c = sq_rconn(s);
  struct message *msgs = NULL;
  sqlite3_stmt *st;
  char conv[LB_ID_SIZE] = "";
  int n = 0, rc = LB_OK;

  if (!c || !(st = sq_stmt(c, conv_sql)))
    return LB_EDB;
  sq_bt(st, 1, number);
  sq_bt(st, 2, patient);
  if (sqlite3_step(st) == SQLITE_ROW)
    sq_ct(st, 0, conv, sizeof conv);
  sqlite3_reset(st);
  if (!conv[0])
    return LB_ENOTFOUND;
  if (limit <= 0 || limit > LIST_MAX)
    limit = LIST_MAX;
  msgs = calloc((size_t)limit, sizeof *msgs);
  if (!msgs)
    return LB_ENOMEM;
  if (!(st = sq_stmt(c, sql))) {
    free(msgs);
    return LB_EDB;
  }
  sq_bt(st, 1, conv);
  sq_bt(st, 2, before_id);
  sq_bt(st, 3, before_id);
  sq_bi(st, 4, limit);
  while (n < limit && sqlite3_step(st) == SQLITE_ROW) {
    /* row_to_message uses another cached statement: fine, distinct. */
    if ((rc = row_to_message(c, st, 0, &msgs[n])))
      break;
    n++;
  }
  sqlite3_reset(st);
  for (int i = n - 1; i >= 0 && !rc; i--)
    rc = cb(arg, &msgs[i]);
  for (int i = 0; i < n; i++)
    message_release(&msgs[i]);
  free(msgs);
  return rc;
}

struct read_arg {
  const char *number, *patient;
};

static int read_job(struct conn *c, void *arg)
{
  static const char sql[] = "UPDATE conversations SET unread_count = 0 WHERE "
                            "number_e164 = ? AND patient_e164 = ?";
  struct read_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  int rc;
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, a->number);
  sq_bt(st, 2, a->patient);
  rc = sq_step_done(c, st);
  if (!rc && sqlite3_changes(c->db) == 0)
    rc = LB_ENOTFOUND;
  return rc;
}

int store_conversation_read(struct store *s, const char *number,
                            const char *patient)
{
  struct read_arg a = {number, patient};
  return sq_write_tx(s, read_job, &a);
}

/* ---- media ------------------------------------------------------------ */

static int media_job(struct conn *c, void *arg)
{
  return put_media(c, arg);
}

int store_media_put(struct store *s, const struct media *m)
{
  return sq_write_tx(s, media_job, (void *)m);
}

int store_media_get(struct store *s, const char *id, struct media *out)
{
  static const char sql[] = "SELECT id, sha256, content_type, bytes, blob_key, "
                            "created_at, width, height FROM media WHERE id = ?";
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    sq_ct(st, 0, out->id, sizeof out->id);
    sq_ct(st, 1, out->sha256, sizeof out->sha256);
    sq_ct(st, 2, out->content_type, sizeof out->content_type);
    out->bytes = sqlite3_column_int64(st, 3);
    sq_ct(st, 4, out->blob_key, sizeof out->blob_key);
    out->created_at = sqlite3_column_int64(st, 5);
    out->width = sqlite3_column_int(st, 6);
    out->height = sqlite3_column_int(st, 7);
    out->n_variants = 0;
    rc = LB_OK;
  } else {
    rc = rc == SQLITE_DONE ? LB_ENOTFOUND : LB_EDB;
  }
  sqlite3_reset(st);
  return rc;
}

struct variant_arg {
  const char *media_id;
  const struct media_variant *v;
};

static int variant_job(struct conn *c, void *arg)
{
  const struct variant_arg *va = arg;
  return put_variant(c, va->media_id, va->v);
}

int store_media_variant_put(struct store *s, const char *media_id,
                            const struct media_variant *v)
{
  struct variant_arg va = {media_id, v};
  return sq_write_tx(s, variant_job, &va);
}

int store_media_variant_get(struct store *s, const char *media_id,
                            const char *kind, struct media_variant *out)
{
  static const char sql[] =
      "SELECT kind, blob_key, content_type, bytes, width, height, quality, "
      "created_at FROM media_variants WHERE media_id = ? AND kind = ?";
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, media_id);
  sq_bt(st, 2, kind);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    sq_ct(st, 0, out->kind, sizeof out->kind);
    sq_ct(st, 1, out->blob_key, sizeof out->blob_key);
    sq_ct(st, 2, out->content_type, sizeof out->content_type);
    out->bytes = sqlite3_column_int64(st, 3);
    out->width = sqlite3_column_int(st, 4);
    out->height = sqlite3_column_int(st, 5);
    out->quality = sqlite3_column_int(st, 6);
    out->created_at = sqlite3_column_int64(st, 7);
    rc = LB_OK;
  } else {
    rc = rc == SQLITE_DONE ? LB_ENOTFOUND : LB_EDB;
  }
  sqlite3_reset(st);
  return rc;
}

/* ---- inbound media fetches ---------------------------------------------- */

int store_fetches_due(struct store *s, int64_t now, struct media_fetch *out,
                      size_t max, size_t *n)
{
  static const char sql[] =
      "SELECT f.id, f.message_id, f.position, f.url, m.provider, f.attempts "
      "FROM media_fetches f JOIN messages m ON m.id = f.message_id "
      "WHERE f.state = 'pending' AND f.next_at <= ? ORDER BY f.next_at, f.id "
      "LIMIT ?";
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc;
  *n = 0;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bi(st, 1, now);
  sq_bi(st, 2, (int64_t)max);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
    struct media_fetch *f = &out[(*n)++];
    sq_ct(st, 0, f->id, sizeof f->id);
    sq_ct(st, 1, f->message_id, sizeof f->message_id);
    f->position = sqlite3_column_int(st, 2);
    sq_ct(st, 3, f->url, sizeof f->url);
    sq_ct(st, 4, f->provider, sizeof f->provider);
    f->attempts = sqlite3_column_int(st, 5);
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? LB_OK : LB_EDB;
}

struct fetch_arg {
  const struct media_fetch *f;
  const struct media *md;
  int64_t next_at;
  const char *error;
};

/* The message changed (its media arrived or was given up): clients that
 * keep the newest version by updated_at must see it. */
static int touch_message(struct conn *c, const char *message_id)
{
  static const char sql[] = "UPDATE messages SET updated_at = ? WHERE id = ?";
  sqlite3_stmt *st = sq_stmt(c, sql);
  if (!st)
    return LB_EDB;
  sq_bi(st, 1, clock_now_ms());
  sq_bt(st, 2, message_id);
  return sq_step_done(c, st);
}

static int fetch_done_job(struct conn *c, void *arg)
{
  static const char link_sql[] = "INSERT INTO message_media(message_id, "
                                 "position, media_id) VALUES (?, ?, ?)";
  static const char done_sql[] =
      "UPDATE media_fetches SET state = 'done', attempts = attempts + 1, "
      "error = NULL, updated_at = ? WHERE id = ? AND state = 'pending'";
  const struct fetch_arg *a = arg;
  sqlite3_stmt *st;
  int rc;
  if ((rc = put_media(c, a->md)))
    return rc;
  if (!(st = sq_stmt(c, link_sql)))
    return LB_EDB;
  sq_bt(st, 1, a->f->message_id);
  sq_bi(st, 2, a->f->position);
  sq_bt(st, 3, a->md->id);
  if ((rc = sq_step_done(c, st)))
    return rc;
  if (!(st = sq_stmt(c, done_sql)))
    return LB_EDB;
  sq_bi(st, 1, clock_now_ms());
  sq_bt(st, 2, a->f->id);
  if ((rc = sq_step_done(c, st)))
    return rc;
  return touch_message(c, a->f->message_id);
}

int store_fetch_done(struct store *s, const struct media_fetch *f,
                     const struct media *md)
{
  struct fetch_arg a = {f, md, 0, NULL};
  return sq_write_tx(s, fetch_done_job, &a);
}

static int fetch_failed_job(struct conn *c, void *arg)
{
  static const char sql[] =
      "UPDATE media_fetches SET state = ?, attempts = attempts + 1, "
      "next_at = ?, error = ?, updated_at = ? WHERE id = ? AND state = "
      "'pending'";
  const struct fetch_arg *a = arg;
  sqlite3_stmt *st = sq_stmt(c, sql);
  int64_t now = clock_now_ms();
  int rc;
  if (!st)
    return LB_EDB;
  sq_bt(st, 1, a->next_at < 0 ? "failed" : "pending");
  sq_bi(st, 2, a->next_at < 0 ? now : a->next_at);
  sq_bt(st, 3, a->error);
  sq_bi(st, 4, now);
  sq_bt(st, 5, a->f->id);
  if ((rc = sq_step_done(c, st)) || a->next_at >= 0)
    return rc;
  return touch_message(c, a->f->message_id);
}

int store_fetch_failed(struct store *s, const struct media_fetch *f,
                       int64_t next_at, const char *error)
{
  struct fetch_arg a = {f, NULL, next_at, error};
  return sq_write_tx(s, fetch_failed_job, &a);
}

int store_message_fetches(struct store *s, const char *message_id, int *pending,
                          int (*cb)(void *arg, const char *error), void *arg)
{
  static const char sql[] = "SELECT state, error FROM media_fetches WHERE "
                            "message_id = ? ORDER BY position";
  struct conn *c = sq_rconn(s);
  sqlite3_stmt *st;
  int rc, crc = LB_OK;
  *pending = 0;
  if (!c || !(st = sq_stmt(c, sql)))
    return LB_EDB;
  sq_bt(st, 1, message_id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *state = (const char *)sqlite3_column_text(st, 0);
    const char *err = (const char *)sqlite3_column_text(st, 1);
    if (state && strcmp(state, "pending") == 0)
      (*pending)++;
    else if (state && strcmp(state, "failed") == 0 && cb &&
             (crc = cb(arg, err ? err : "")))
      break;
  }
  sqlite3_reset(st);
  if (crc)
    return crc;
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? LB_OK : LB_EDB;
}
