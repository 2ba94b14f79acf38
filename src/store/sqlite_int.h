/* Internals of the SQLite backend, shared by its files (sqlite.c: the
 * engine, messages and conversations; sqlite_users.c: staff accounts and
 * sessions). Nothing outside src/store/ includes this. */
#ifndef LB_SQLITE_INT_H
#define LB_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "store/store.h"

#define STMT_CACHE 48
#define LIST_MAX 200

struct conn {
  sqlite3 *db;
  struct {
    const char *sql;
    sqlite3_stmt *st;
  } cache[STMT_CACHE];
  int n;
  struct conn *next, *prev;
};

struct job {
  int (*fn)(struct conn *c, void *arg);
  void *arg;
  int rc;
  int done;
  pthread_cond_t cv; /* its own, so a commit wakes only its waiters */
  /* Asynchronous jobs: called on the writer thread after the commit;
   * the job is then freed. NULL for a job someone waits on. */
  void (*on_done)(void *arg, int rc);
  struct job *next;
};

struct store {
  char *path;
  int full;
  struct conn *w;
  pthread_t writer;
  int writer_started;
  pthread_mutex_t mu;
  pthread_cond_t cv_job;
  struct job *head, *tail;
  int stop;
  pthread_key_t key;
  pthread_mutex_t rmu;
  struct conn *readers;
};

/* The calling thread's reader connection (opened on first use). */
struct conn *sq_rconn(struct store *s);
/* A cached prepared statement, reset and ready to bind; NULL on error. */
sqlite3_stmt *sq_stmt(struct conn *c, const char *sql);
/* Runs fn in a committed transaction on the writer thread. */
int sq_write_tx(struct store *s, int (*fn)(struct conn *, void *), void *arg);
/* Binding: text (NULL binds NULL), text with "" as NULL, integer. */
void sq_bt(sqlite3_stmt *st, int i, const char *v);
void sq_bt0(sqlite3_stmt *st, int i, const char *v);
void sq_bi(sqlite3_stmt *st, int i, int64_t v);
/* Copies a text column ("" for NULL), truncating to n. */
void sq_ct(sqlite3_stmt *st, int i, char *dst, size_t n);
/* Inserts a link row (sqlite_links.c), inside the caller's job. */
int sq_link_insert(struct conn *c, const struct link *l);
/* Steps a statement that returns no rows, and resets it. */
int sq_step_done(struct conn *c, sqlite3_stmt *st);

#endif
