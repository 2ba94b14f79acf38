/* What several gateway nodes on one database share: wake-ups between
 * them (store_listen / store_notify), the nodes' heartbeats, the outbox's
 * leases, and the limits kept in the database (sign-in throttles).
 *
 * The wake-up hub is the same for every backend: store_notify() runs this
 * process's listeners, then asks the backend to tell the others
 * (ops->notify, NULL on SQLite), and a backend calls db_dispatch() when
 * another process has news. The SQL that differs by dialect is composed
 * here once per store, from the backend's hooks (backend.h), so each
 * query's text still exists once.
 *
 * Ownership: the hub and the composed texts belong to the store
 * (db_common_release frees them). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/throttle.h"

#define LISTENERS_MAX 16
#define CHANNEL_MAX 16

struct store_listener {
  char channel[CHANNEL_MAX];
  store_listen_fn fn;
  void *arg;
  int used;
};

struct store_hub {
  pthread_mutex_t mu;
  struct store_listener l[LISTENERS_MAX];
};

/* The texts the dialect hooks go into (messages.c has the claim's). */
extern const char db_claim_head[], db_claim_tail[];
static const char limit_get_head[] =
    "SELECT fails, first_at, locked_until FROM shared_limits WHERE "
    "subject = ?";

static char *compose(const char *head, const char *hook, const char *tail)
{
  size_t n = strlen(head) + strlen(hook) + strlen(tail) + 1;
  char *s = malloc(n);
  if (s)
    snprintf(s, n, "%s%s%s", head, hook, tail);
  return s;
}

enum lb_err db_common_init(struct store *s)
{
  const struct store_ops *ops = s->ops;
  const char *claim = ops->claim_suffix ? ops->claim_suffix : "";
  const char *lock = ops->lock_suffix ? ops->lock_suffix : "";
  if (!(s->hub = calloc(1, sizeof *s->hub)))
    return LB_ENOMEM;
  pthread_mutex_init(&s->hub->mu, NULL);
  s->sql[DB_SQL_CLAIM] = compose(db_claim_head, claim, db_claim_tail);
  s->sql[DB_SQL_LIMIT_GET] = compose(limit_get_head, lock, "");
  for (int i = 0; i < DB_SQL_N; i++)
    if (!s->sql[i])
      return LB_ENOMEM;
  return LB_OK;
}

void db_common_release(struct store *s)
{
  if (s->hub) {
    pthread_mutex_destroy(&s->hub->mu);
    free(s->hub);
  }
  for (int i = 0; i < DB_SQL_N; i++)
    free(s->sql[i]);
}

/* ---- wake-ups ------------------------------------------------------------ */

void db_dispatch(struct store *s, const char *channel)
{
  struct store_hub *h = s->hub;
  if (!h)
    return;
  pthread_mutex_lock(&h->mu);
  for (int i = 0; i < LISTENERS_MAX; i++)
    if (h->l[i].used && (!channel || strcmp(h->l[i].channel, channel) == 0))
      h->l[i].fn(h->l[i].arg, h->l[i].channel);
  pthread_mutex_unlock(&h->mu);
}

enum lb_err store_listen(struct store *s, const char *channel,
                         store_listen_fn fn, void *arg,
                         struct store_listener **out)
{
  struct store_hub *h = s->hub;
  enum lb_err rc = LB_ETOOBIG;
  *out = NULL;
  if (strlen(channel) >= CHANNEL_MAX)
    return LB_EINVAL;
  pthread_mutex_lock(&h->mu);
  for (int i = 0; i < LISTENERS_MAX; i++)
    if (!h->l[i].used) {
      snprintf(h->l[i].channel, CHANNEL_MAX, "%s", channel);
      h->l[i].fn = fn;
      h->l[i].arg = arg;
      h->l[i].used = 1;
      *out = &h->l[i];
      rc = LB_OK;
      break;
    }
  pthread_mutex_unlock(&h->mu);
  return rc;
}

void store_unlisten(struct store *s, struct store_listener *l)
{
  if (!l)
    return;
  pthread_mutex_lock(&s->hub->mu);
  memset(l, 0, sizeof *l);
  pthread_mutex_unlock(&s->hub->mu);
}

void store_notify(struct store *s, const char *channel)
{
  db_dispatch(s, channel);
  if (s->ops->notify)
    s->ops->notify(s, channel);
}

/* ---- nodes --------------------------------------------------------------- */

static void node_row(struct dbst *st, struct node_row *n)
{
  db_text(st, 0, n->id, sizeof n->id);
  db_text(st, 1, n->host, sizeof n->host);
  n->pid = db_int(st, 2);
  db_text(st, 3, n->media, sizeof n->media);
  n->started_at = db_int(st, 4);
  n->seen_at = db_int(st, 5);
}

#define NODE_COLS "id, host, pid, media, started_at, seen_at"

static enum lb_err beat_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "INSERT INTO nodes (" NODE_COLS ") VALUES (?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = "
      "excluded.pid, media = excluded.media, started_at = "
      "excluded.started_at, seen_at = excluded.seen_at";
  const struct node_row *n = arg;
  return DB_EXEC(tx_conn(tx), sql, DB_TEXT(n->id), DB_TEXT(n->host),
                 DB_INT(n->pid), DB_TEXT(n->media), DB_INT(n->started_at),
                 DB_INT(n->seen_at));
}

enum lb_err store_node_beat(struct store *s, const struct node_row *n)
{
  return db_write(s, beat_tx, (void *)n);
}

enum lb_err store_node_get(struct store *s, const char *id,
                           struct node_row *out)
{
  static const char sql[] = "SELECT " NODE_COLS " FROM nodes WHERE id = ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(id));
  int found = db_next(st);
  enum lb_err rc;
  if (found)
    node_row(st, out);
  rc = db_end(st);
  return rc ? rc : found ? LB_OK : LB_ENOTFOUND;
}

enum lb_err store_nodes_seen(struct store *s, int64_t since, const char *except,
                             struct node_row *out, size_t max, size_t *n)
{
  static const char sql[] = "SELECT " NODE_COLS " FROM nodes WHERE "
                            "seen_at >= ? AND id <> ? ORDER BY id LIMIT ?";
  struct dbst *st =
      DB_Q(db_reader(s), sql, DB_INT(since), DB_TEXT(except), DB_INT(max));
  *n = 0;
  while (db_next(st))
    if (*n < max)
      node_row(st, &out[(*n)++]);
  return db_end(st);
}

static enum lb_err forget_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] = "DELETE FROM nodes WHERE id = ?";
  return DB_EXEC(tx_conn(tx), sql, DB_TEXT((const char *)arg));
}

enum lb_err store_node_forget(struct store *s, const char *id)
{
  return db_write(s, forget_tx, (void *)id);
}

/* ---- named leases ----------------------------------------------------------
 */

struct lease_arg {
  const char *name, *node;
  int64_t now, until;
  int held;
};

static enum lb_err lease_tx(struct store_tx *tx, void *arg)
{
  static const char take[] =
      "INSERT INTO leases(name, node, until_at) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (name) DO UPDATE SET node = excluded.node, until_at = "
      "excluded.until_at WHERE leases.node = excluded.node OR "
      "leases.until_at < ?4";
  static const char give_up[] =
      "DELETE FROM leases WHERE name = ?1 AND node = ?2";
  struct lease_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  enum lb_err rc;
  if (!a->until)
    return DB_EXEC(c, give_up, DB_TEXT(a->name), DB_TEXT(a->node));
  rc = DB_EXEC(c, take, DB_TEXT(a->name), DB_TEXT(a->node), DB_INT(a->until),
               DB_INT(a->now));
  a->held = !rc && db_changes(c) > 0;
  return rc;
}

enum lb_err store_lease_take(struct store *s, const char *name,
                             const char *node, int64_t now, int64_t until,
                             int *held)
{
  struct lease_arg a = {name, node, now, until, 0};
  enum lb_err rc = db_write(s, lease_tx, &a);
  *held = rc ? 0 : a.held;
  return rc;
}

/* ---- leases and due times ------------------------------------------------ */

struct renew_arg {
  const char *node;
  int64_t until, n;
};

static enum lb_err renew_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] =
      "UPDATE messages SET lease_until = ? WHERE status = 'sending' AND "
      "lease_node = ?";
  struct renew_arg *a = arg;
  enum lb_err rc =
      DB_EXEC(tx_conn(tx), sql, DB_INT(a->until), DB_TEXT(a->node));
  a->n = rc ? 0 : db_changes(tx_conn(tx));
  return rc;
}

enum lb_err store_outbox_renew(struct store *s, const char *node, int64_t until,
                               int64_t *n)
{
  struct renew_arg a = {node, until, 0};
  enum lb_err rc = db_write(s, renew_tx, &a);
  if (n)
    *n = a.n;
  return rc;
}

enum lb_err store_fetches_next_due(struct store *s, int64_t *at)
{
  static const char sql[] =
      "SELECT MIN(next_at) FROM media_fetches WHERE state = 'pending'";
  struct dbst *st = DB_Q0(db_reader(s), sql);
  *at = -1;
  if (db_next(st) && !db_is_null(st, 0))
    *at = db_int(st, 0);
  return db_end(st);
}

/* ---- shared limits ------------------------------------------------------- */

enum lb_err store_limit_wait(struct store *s, const char *subject, int64_t now,
                             int64_t *wait)
{
  static const char sql[] =
      "SELECT locked_until FROM shared_limits WHERE subject = ?";
  struct dbst *st = DB_Q(db_reader(s), sql, DB_TEXT(subject));
  *wait = 0;
  if (db_next(st) && db_int(st, 0) > now)
    *wait = db_int(st, 0) - now;
  return db_end(st);
}

#define LIMIT_KEEP_MS (24 * 3600 * 1000LL)

struct limit_arg {
  const char *subject;
  const struct throttle_rule *rule;
  int64_t now, wait;
};

/* The row is made if missing, then read locked (PostgreSQL: FOR UPDATE)
 * and written back in the same transaction, so failures counted on
 * several nodes at once all count. */
static enum lb_err limit_tx(struct store_tx *tx, void *arg)
{
  static const char make[] =
      "INSERT INTO shared_limits (subject, fails, first_at, locked_until, "
      "updated_at) VALUES (?, 0, 0, 0, ?) ON CONFLICT (subject) DO NOTHING";
  /* Subjects nobody has failed for a day, and not locked, go: the table
   * stays as small as the attacks of one day. */
  static const char prune[] =
      "DELETE FROM shared_limits WHERE locked_until < ? AND updated_at < ?";
  static const char put[] =
      "UPDATE shared_limits SET fails = ?, first_at = ?, locked_until = ?, "
      "updated_at = ? WHERE subject = ?";
  struct limit_arg *a = arg;
  struct dbc *c = tx_conn(tx);
  struct throttle_state ts = {0, 0, 0};
  struct dbst *st;
  enum lb_err rc;
  if ((rc =
           DB_EXEC(c, prune, DB_INT(a->now), DB_INT(a->now - LIMIT_KEEP_MS))) ||
      (rc = DB_EXEC(c, make, DB_TEXT(a->subject), DB_INT(a->now))))
    return rc;
  st = DB_Q(c, c->s->sql[DB_SQL_LIMIT_GET], DB_TEXT(a->subject));
  if (db_next(st)) {
    ts.fails = db_int(st, 0);
    ts.first_at = db_int(st, 1);
    ts.locked_until = db_int(st, 2);
  }
  if ((rc = db_end(st)))
    return rc;
  throttle_step(a->rule, &ts, a->now);
  a->wait = ts.locked_until > a->now ? ts.locked_until - a->now : 0;
  return DB_EXEC(c, put, DB_INT(ts.fails), DB_INT(ts.first_at),
                 DB_INT(ts.locked_until), DB_INT(a->now), DB_TEXT(a->subject));
}

enum lb_err store_limit_fail(struct store *s, const char *subject,
                             const struct throttle_rule *rule, int64_t now,
                             int64_t *wait)
{
  struct limit_arg a = {subject, rule, now, 0};
  enum lb_err rc = db_write(s, limit_tx, &a);
  if (wait)
    *wait = rc ? 0 : a.wait;
  return rc;
}

static enum lb_err clear_tx(struct store_tx *tx, void *arg)
{
  static const char sql[] = "DELETE FROM shared_limits WHERE subject = ?";
  return DB_EXEC(tx_conn(tx), sql, DB_TEXT((const char *)arg));
}

enum lb_err store_limit_clear(struct store *s, const char *subject)
{
  return db_write(s, clear_tx, (void *)subject);
}

struct rate_arg {
  const char *subject;
  int64_t window, now, count;
};

static enum lb_err rate_tx(struct store_tx *tx, void *arg)
{
  /* fails counts the turns taken in the second that starts at first_at. */
  static const char sql[] =
      "INSERT INTO shared_limits (subject, fails, first_at, locked_until, "
      "updated_at) VALUES (?1, 1, ?2, 0, ?3) ON CONFLICT (subject) DO UPDATE "
      "SET fails = CASE WHEN shared_limits.first_at = ?2 THEN "
      "shared_limits.fails + 1 ELSE 1 END, first_at = ?2, updated_at = ?3 "
      "RETURNING fails";
  struct rate_arg *a = arg;
  struct dbst *st = DB_Q(tx_conn(tx), sql, DB_TEXT(a->subject),
                         DB_INT(a->window), DB_INT(a->now));
  if (db_next(st))
    a->count = db_int(st, 0);
  return db_end(st);
}

enum lb_err store_rate_take(struct store *s, const char *subject, int per_s,
                            int64_t now, int64_t *wait)
{
  struct rate_arg a = {subject, now - now % 1000, now, 0};
  enum lb_err rc = db_write(s, rate_tx, &a);
  *wait = !rc && a.count > per_s ? a.window + 1000 - now : 0;
  return rc;
}
