/* What a store backend supplies, and the small statement layer the queries
 * are written against. Internal to src/store/.
 *
 * The SQL text lives once, in the domain files (messages.c,
 * conversations.c, media.c, links.c, users.c, events.c), written against
 * db_* below. A backend (sqlite.c, pg.c) supplies only struct store_ops:
 * connections, a transaction runner, prepare / bind / step / column, and
 * its dialect (struct db_dialect: the few statements that differ). It
 * decides how writes are scheduled (the SQLite backend batches them into
 * group commits on one writer thread; PostgreSQL takes a pool of
 * concurrent writers), so nothing above it knows.
 *
 * Statements are prepared once per connection and cached, keyed by the
 * address of their SQL text: pass static strings. A statement is used
 * between db_query() and db_end(), one use at a time; a second statement may
 * be stepped while the first is open (the SQLite cache keeps each text's
 * statement apart).
 *
 * Errors are sticky: once binding or stepping fails, db_next() returns 0
 * and db_end() returns LB_EDB (after logging the backend's message), so a
 * query reads as
 *
 *     struct dbst *st = DB_Q(c, sql, DB_TEXT(id));
 *     while (db_next(st))
 *       ...db_int(st, 0)...;
 *     return db_end(st);
 *
 * and a NULL connection or a failed prepare falls through the same path.
 *
 * Ownership: the backend owns connections and statements; column text is
 * valid until the next db_next() or db_end() on that statement. */
#ifndef LB_STORE_BACKEND_H
#define LB_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

/* A connection: inside a write transaction, or a reader. Backends embed
 * this as the first member of their own connection. */
struct dbc {
  struct store *s;
};

/* A prepared statement. Backends embed this as their first member. */
struct dbst {
  const struct store_ops *ops;
  int failed; /* a bind or a step failed: db_end() says LB_EDB */
};

/* What differs between the backends' SQL, in one place per backend (the
 * rest of the SQL is shared): sqlite.c and pg.c each fill one. */
struct db_dialect {
  /* Run in a write transaction to serialise it with every other writer of
   * the same key until it commits ("?" is the key); NULL where writes are
   * serial already (SQLite's single writer). See db_lock(). */
  const char *lock_sql;
  /* The same for one name under a key ("?1" the key, "?2" the name):
   * writers of different names go on side by side. See db_lock_name(). */
  const char *lock_name_sql;
  /* Text search in messages (search.c for SQLite, search_pg.c): migration
   * 10's step, the query text for the words of q, the conversations list
   * with a search (see search.c for its parameters and columns), and the
   * snippet of a match. */
  enum lb_err (*search_migrate)(struct dbc *c);
  enum lb_err (*search_terms)(const char *q, char *out, size_t n);
  const char *search_list_sql;
  enum lb_err (*search_snippet)(struct dbc *c, const char *q,
                                struct conversation_match *m);
};

struct store_ops {
  const char *scheme; /* "sqlite": the URL scheme that selects it */
  /* 'target' is the URL after "<scheme>:". */
  enum lb_err (*open)(const char *target, const struct store_options *opt,
                      struct store **out);
  void (*free)(struct store *s);
  /* Runs fn in one transaction on some connection, and commits it. With
   * done == NULL: returns once it has committed (LB_OK) or failed, rolled
   * back. With done: may return before that; done(darg, rc) runs once,
   * after the commit or the failure, on any thread. A non-OK result of fn
   * rolls back fn's changes only. */
  enum lb_err (*write)(struct store *s, store_tx_fn fn, void *arg,
                       void (*done)(void *darg, enum lb_err rc), void *darg);
  /* The calling thread's read connection; NULL on failure. */
  struct dbc *(*reader)(struct store *s);

  /* The statement layer. Parameters are numbered from 1, columns from 0.
   * SQL placeholders are '?' or '?N'. */
  struct dbst *(*prepare)(struct dbc *c, const char *sql);
  enum lb_err (*bind_text)(struct dbst *st, int i, const char *v); /* NULL */
  enum lb_err (*bind_int)(struct dbst *st, int i, int64_t v);
  /* LB_OK with *row 1 when a row is ready, 0 when there are no more;
   * LB_EDB when it failed (logged). */
  enum lb_err (*step)(struct dbst *st, int *row);
  const char *(*col_text)(struct dbst *st, int i); /* NULL for NULL */
  int64_t (*col_int)(struct dbst *st, int i);
  int (*col_is_null)(struct dbst *st, int i);
  void (*reset)(struct dbst *st);
  /* Rows changed by the connection's last statement. */
  int64_t (*changes)(struct dbc *c);
  /* Runs a script of ';'-separated statements with no parameters. Quiet:
   * the caller logs a failure (db_script does). */
  enum lb_err (*exec)(struct dbc *c, const char *sql);
  /* The backend's last error on c, for log lines. */
  const char *(*errmsg)(struct dbc *c);
  const struct db_dialect *dialect;

  /* ---- the dialect hooks (nodes.c composes the SQL) ---- */
  /* Appended to the outbox claim's inner SELECT (the rows it takes):
   * "" on SQLite, whose one writer already serialises claims; PostgreSQL
   * supplies " FOR UPDATE SKIP LOCKED", so concurrent claims on other
   * nodes pass over the rows this one holds instead of waiting. */
  const char *claim_suffix;
  /* Appended to a SELECT that reads a row a write then updates (a shared
   * limit's counters): "" on SQLite; " FOR UPDATE" on PostgreSQL. */
  const char *lock_suffix;
  /* Tells the other processes on this database that 'channel' has news
   * (called after the commit that made it, from store_notify()). NULL
   * when the backend has no such message: SQLite's writer notices other
   * processes' commits itself and calls db_dispatch(). PostgreSQL:
   * NOTIFY lyrebird_<channel> (its listening connection then calls
   * db_dispatch() with the channel for each notification). */
  void (*notify)(struct store *s, const char *channel);
};

/* The store's common state, set up by store_open() whatever the backend:
 * the wake-up listeners and the SQL composed from the dialect hooks. */
enum db_composed { DB_SQL_CLAIM, DB_SQL_LIMIT_GET, DB_SQL_N };
struct store_hub;

/* Every backend's store begins with this (zeroed by the backend). */
struct store {
  const struct store_ops *ops;
  struct store_hub *hub;
  char *sql[DB_SQL_N];
};

/* Runs the in-process listeners of 'channel' (NULL: of every channel),
 * for a change another process committed. Any thread; quick. */
void db_dispatch(struct store *s, const char *channel);
/* Sets up and releases the common state (db.c, around the backend). */
enum lb_err db_common_init(struct store *s);
void db_common_release(struct store *s);

/* A write transaction in progress (store.h keeps it opaque). */
struct store_tx {
  struct store *s;
  struct dbc *c;
};

/* pg.c: the text of sql with '?' and '?N' as $N (outside quoted text and
 * names), and the highest parameter number into *np. Caller frees. NULL
 * when out of memory or past DB_PG_PARAMS_MAX. */
#define DB_PG_PARAMS_MAX 32
char *db_pg_placeholders(const char *sql, int *np);

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;
extern const struct db_dialect db_dialect_sqlite;
extern const struct db_dialect db_dialect_pg;

/* ---- the statement layer ---------------------------------------------- */

enum db_kind { DB_K_TEXT, DB_K_TEXT0, DB_K_INT, DB_K_NULL };

/* One parameter: DB_TEXT(s) binds s (NULL binds NULL), DB_TEXT0(s) binds ""
 * as NULL too, DB_INT(i) an integer, DB_NULL a NULL. */
struct db_arg {
  enum db_kind kind;
  const char *s;
  int64_t i;
};
#define DB_TEXT(x) ((struct db_arg){DB_K_TEXT, (x), 0})
#define DB_TEXT0(x) ((struct db_arg){DB_K_TEXT0, (x), 0})
#define DB_INT(x) ((struct db_arg){DB_K_INT, NULL, (int64_t)(x)})
#define DB_NULL ((struct db_arg){DB_K_NULL, NULL, 0})

/* Prepares (from the cache) and binds; NULL when c is NULL or that fails.
 * Use the macros: DB_Q(c, sql, DB_TEXT(a), DB_INT(b)). */
struct dbst *db_query(struct dbc *c, const char *sql, const struct db_arg *args,
                      size_t n);
#define DB_ARGS(...) ((const struct db_arg[]){__VA_ARGS__})
#define DB_NARGS(...)                                                          \
  (sizeof((const struct db_arg[]){__VA_ARGS__}) / sizeof(struct db_arg))
#define DB_Q(c, sql, ...)                                                      \
  db_query((c), (sql), DB_ARGS(__VA_ARGS__), DB_NARGS(__VA_ARGS__))
#define DB_Q0(c, sql) db_query((c), (sql), NULL, 0)

/* Steps: 1 when a row is ready, 0 when done or failed (see db_end). */
int db_next(struct dbst *st);
/* Ends a use of the statement (resets it): LB_OK, or LB_EDB if anything
 * failed since db_query. NULL gives LB_EDB. */
enum lb_err db_end(struct dbst *st);

/* Runs a statement that returns no rows (or whose rows are not wanted). */
enum lb_err db_exec_args(struct dbc *c, const char *sql,
                         const struct db_arg *args, size_t n);
#define DB_EXEC(c, sql, ...)                                                   \
  db_exec_args((c), (sql), DB_ARGS(__VA_ARGS__), DB_NARGS(__VA_ARGS__))
/* Runs a one-row query and reads column 0 as text into out (size n):
 * LB_OK, LB_ENOTFOUND when there is no row, or LB_EDB. */
enum lb_err db_one_text(struct dbc *c, const char *sql,
                        const struct db_arg *args, size_t n, char *out,
                        size_t outlen);
#define DB_ONE_TEXT(c, sql, out, outlen, ...)                                  \
  db_one_text((c), (sql), DB_ARGS(__VA_ARGS__), DB_NARGS(__VA_ARGS__), (out),  \
              (outlen))

/* Columns of the current row. */
const char *db_str(struct dbst *st, int i); /* "" for NULL */
/* Copies a text column ("" for NULL) into dst, truncated at a UTF-8
 * boundary to fit n. */
void db_text(struct dbst *st, int i, char *dst, size_t n);
int64_t db_int(struct dbst *st, int i);
int db_is_null(struct dbst *st, int i);

/* Rows changed by c's last statement. */
int64_t db_changes(struct dbc *c);
/* Runs a parameterless script. */
enum lb_err db_script(struct dbc *c, const char *sql);

/* The dialect of c's backend. */
const struct db_dialect *db_dialect_of(struct dbc *c);

/* Keys for db_lock(): one per thing whose writers must take turns. */
enum db_lock_key {
  DB_LOCK_MIGRATE = 1,     /* applying migrations */
  DB_LOCK_AUDIT = 2,       /* appending to the audit chain */
  DB_LOCK_IDEMPOTENCY = 3, /* one idempotency key (db_lock_name) */
  DB_LOCK_MESSAGE = 4,     /* one message's status (db_lock_name) */
};
/* In a write transaction on c: waits until no other transaction holds
 * key, and holds it until this one ends. A no-op where writes are serial. */
enum lb_err db_lock(struct dbc *c, enum db_lock_key key);
/* As db_lock, for one name under key (a transaction with another name
 * does not wait). */
enum lb_err db_lock_name(struct dbc *c, enum db_lock_key key, const char *name);

/* The calling thread's read connection (NULL on failure: queries on it then
 * fail with LB_EDB). */
struct dbc *db_reader(struct store *s);

/* A transaction's connection. */
static inline struct dbc *tx_conn(struct store_tx *tx)
{
  return tx->c;
}

/* Runs fn in a write transaction and waits for its commit. */
enum lb_err db_write(struct store *s, store_tx_fn fn, void *arg);

/* ---- shared between the domain files ---------------------------------- */

/* Appends a row to a message's history (message_events). */
enum lb_err db_history_add(struct dbc *c, const char *msg_id,
                           const char *status, const char *detail, int64_t at);
/* The columns of a message row, for "SELECT " DB_MSG_COLS " FROM messages
 * m ...", and the row read into m (with its media ids, by a second query
 * on c). */
#define DB_MSG_COLS                                                            \
  "m.id, m.direction, m.from_e164, m.to_e164, m.body, m.status, m.provider,"   \
  " m.provider_message_id, m.error_code, m.error_text, m.error_retryable,"     \
  " m.attempts, m.next_attempt_at, m.created_at, m.updated_at, m.route,"       \
  " m.route_reason, m.purpose, m.metadata, m.client_reference,"                \
  " m.ref_round, m.resend_of"
#define DB_MSG_NCOLS 22
/* *earlier = 1 when pmid is provider's id for an attempt of msg_id that a
 * retry ended, and not the current attempt's (retry.c). */
enum lb_err db_attempt_is_earlier(struct dbc *c, const char *msg_id,
                                  const char *provider, const char *pmid,
                                  int *earlier);
enum lb_err db_row_message(struct dbc *c, struct dbst *st, int col,
                           struct message *m);
/* The id of the conversation between 'number' and 'patient' on c, into out:
 * LB_ENOTFOUND when there is none. */
enum lb_err db_conversation_id(struct dbc *c, const char *number,
                               const char *patient, char out[LB_ID_SIZE]);
/* Reads message 'id' on c. LB_ENOTFOUND when there is none. */
enum lb_err db_message_load(struct dbc *c, const char *id, struct message *out);
/* Ensures the patient and the conversation; with m, records it as the
 * latest message and adds unread_inc to the unread count. */
enum lb_err db_conversation_upsert(struct dbc *c, const char *number,
                                   const char *patient, const struct message *m,
                                   int unread_inc, int64_t now,
                                   char conv_id[LB_ID_SIZE]);
/* Inserts a media row and the variants intake made. */
enum lb_err db_media_put(struct dbc *c, const struct media *md);
/* Inserts a link row. */
enum lb_err db_link_insert(struct dbc *c, const struct link *l);

/* ---- search in message text (search.c and search_pg.c: the one place
 * per backend its SQL lives; through c's dialect) --------------------- */

/* Migration 10's step: creates the index (and whatever keeps it), and
 * indexes every message, logging its progress. */
enum lb_err db_search_migrate(struct dbc *c);
/* The index query for the words of q (at most DB_SEARCH_TERMS_MAX): each
 * a literal term, the last a prefix. "" when q has no word.
 * LB_ETOOBIG when out (size n) is too small. */
#define DB_SEARCH_TERMS_MAX 16
enum lb_err db_search_terms(struct dbc *c, const char *q, char *out, size_t n);
/* The conversations list with text search: see search.c for its
 * parameters and columns (the match from column 7, the state and the
 * assignee from DB_SEARCH_TEAM_COL). */
#define DB_SEARCH_TEAM_COL 12
const char *db_search_list_sql(struct dbc *c);
void db_search_row(struct dbst *st, int col, struct conversation_match *m);
/* Fills m->snippet for m->key under the query q (from db_search_terms). */
enum lb_err db_search_snippet(struct dbc *c, const char *q,
                              struct conversation_match *m);
/* The backends' own (search.c, search_pg.c). */
enum lb_err db_search_sqlite_migrate(struct dbc *c);
enum lb_err db_search_sqlite_terms(const char *q, char *out, size_t n);
extern const char db_search_sqlite_list_sql[];
enum lb_err db_search_sqlite_snippet(struct dbc *c, const char *q,
                                     struct conversation_match *m);
enum lb_err db_search_pg_migrate(struct dbc *c);
enum lb_err db_search_pg_terms(const char *q, char *out, size_t n);
extern const char db_search_pg_list_sql[];
enum lb_err db_search_pg_snippet(struct dbc *c, const char *q,
                                 struct conversation_match *m);

#define DB_LIST_MAX 200

#endif
