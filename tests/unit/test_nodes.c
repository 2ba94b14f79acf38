/* store/nodes.c and the outbox's lease SQL: what several nodes on one
 * database rely on. The database is a SQLite file in a temporary
 * directory, opened as two stores, which is what two processes on it
 * are: separate connections and separate writer threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "core/message.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/id.h"
#include "util/throttle.h"

#define CLINIC "+61299990000"
#define PATIENT "+61491570156"

struct two {
  char dir[64], path[96];
  struct store *a, *b;
};

static int open_two(void **state)
{
  struct two *t = calloc(1, sizeof *t);
  struct store_options so = {0};
  int from, to;
  snprintf(t->dir, sizeof t->dir, "/tmp/lb-nodes-XXXXXX");
  if (!t || !mkdtemp(t->dir))
    return -1;
  snprintf(t->path, sizeof t->path, "%s/lyrebird.db", t->dir);
  if (store_open(t->path, &so, &t->a) || store_migrate(t->a, &from, &to) ||
      store_open(t->path, &so, &t->b) || store_migrate(t->b, &from, &to) ||
      store_number_upsert(t->a, CLINIC, "Clinic", "sim"))
    return -1;
  *state = t;
  return 0;
}

static int close_two(void **state)
{
  struct two *t = *state;
  char f[128];
  store_free(t->a);
  store_free(t->b);
  for (const char *const *s = (const char *const[]){"", "-wal", "-shm", NULL};
       *s; s++) {
    snprintf(f, sizeof f, "%s%s", t->path, *s);
    unlink(f);
  }
  rmdir(t->dir);
  free(t);
  return 0;
}

/* ---- wake-ups ----------------------------------------------------------- */

struct heard {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int n;
  char last[16];
};

static void on_heard(void *arg, const char *channel)
{
  struct heard *h = arg;
  pthread_mutex_lock(&h->mu);
  h->n++;
  snprintf(h->last, sizeof h->last, "%s", channel);
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

/* Waits up to ms for h->n to reach n; the count then. */
static int wait_heard(struct heard *h, int n, long ms)
{
  struct timespec ts;
  int got;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L)
    ts.tv_sec++, ts.tv_nsec -= 1000000000L;
  pthread_mutex_lock(&h->mu);
  while (h->n < n)
    if (pthread_cond_timedwait(&h->cv, &h->mu, &ts))
      break;
  got = h->n;
  pthread_mutex_unlock(&h->mu);
  return got;
}

static void test_notify_wakes_the_channels_listeners_only(void **state)
{
  struct two *t = *state;
  struct heard h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, ""};
  struct store_listener *l;
  assert_int_equal(store_listen(t->a, STORE_CH_OUTBOX, on_heard, &h, &l),
                   LB_OK);
  store_notify(t->a, STORE_CH_FETCH);
  assert_int_equal(h.n, 0);
  store_notify(t->a, STORE_CH_OUTBOX);
  assert_int_equal(h.n, 1);
  assert_string_equal(h.last, STORE_CH_OUTBOX);
  store_unlisten(t->a, l);
  store_notify(t->a, STORE_CH_OUTBOX);
  assert_int_equal(h.n, 1);
}

static void test_another_connections_commit_wakes_the_listeners(void **state)
{
  struct two *t = *state;
  struct heard h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, ""};
  struct store_listener *l;
  struct node_row n = {.id = "b", .host = "h", .pid = 1, .media = "s3"};
  int64_t start;
  assert_int_equal(store_listen(t->b, STORE_CH_EVENTS, on_heard, &h, &l),
                   LB_OK);
  /* What a wrote while the stores were set up has been heard by now. */
  nanosleep(&(struct timespec){0, 300 * 1000000L}, NULL);
  pthread_mutex_lock(&h.mu);
  h.n = 0;
  pthread_mutex_unlock(&h.mu);
  /* b's own write is not news to b. */
  n.seen_at = clock_now_ms();
  assert_int_equal(store_node_beat(t->b, &n), LB_OK);
  assert_int_equal(wait_heard(&h, 1, 400), 0);
  /* a's commit is, within the writer's watch (100 ms), not a poll. */
  start = clock_mono_ms();
  snprintf(n.id, sizeof n.id, "a");
  assert_int_equal(store_node_beat(t->a, &n), LB_OK);
  assert_true(wait_heard(&h, 1, 2000) >= 1);
  assert_true(clock_mono_ms() - start < 1000);
  store_unlisten(t->b, l);
}

/* ---- nodes -------------------------------------------------------------- */

static void test_nodes_seen_recently_are_listed_and_forgotten(void **state)
{
  struct two *t = *state;
  struct node_row n = {.id = "n1", .host = "h1", .pid = 42, .media = "fs"};
  struct node_row out[4], got;
  size_t k = 0;
  int64_t now = clock_now_ms();
  n.started_at = now;
  n.seen_at = now - 60000; /* a minute ago */
  assert_int_equal(store_node_beat(t->a, &n), LB_OK);
  snprintf(n.id, sizeof n.id, "n2");
  n.seen_at = now;
  assert_int_equal(store_node_beat(t->a, &n), LB_OK);
  assert_int_equal(store_nodes_seen(t->b, now - 30000, "n3", out, 4, &k),
                   LB_OK);
  assert_int_equal(k, 1);
  assert_string_equal(out[0].id, "n2");
  assert_int_equal(store_nodes_seen(t->b, now - 30000, "n2", out, 4, &k),
                   LB_OK);
  assert_int_equal(k, 0);
  assert_int_equal(store_node_get(t->b, "n1", &got), LB_OK);
  assert_int_equal(got.pid, 42);
  assert_string_equal(got.media, "fs");
  assert_int_equal(store_node_forget(t->a, "n1"), LB_OK);
  assert_int_equal(store_node_get(t->b, "n1", &got), LB_ENOTFOUND);
}

/* ---- leases -------------------------------------------------------------- */

static enum lb_err enqueue_tx(struct store_tx *tx, void *arg)
{
  return store_tx_enqueue(tx, arg, NULL, NULL, NULL);
}

static void queue_one(struct store *s, int64_t now, char id[LB_ID_SIZE])
{
  struct message m;
  message_init(&m);
  id_new(m.id);
  m.direction = DIR_OUTBOUND;
  snprintf(m.from, sizeof m.from, "%s", CLINIC);
  snprintf(m.to, sizeof m.to, "%s", PATIENT);
  m.text = strdup("Your appointment is at 10");
  m.status = ST_QUEUED;
  snprintf(m.provider, sizeof m.provider, "sim");
  m.route = ROUTE_SMS;
  m.created_at = m.updated_at = m.next_attempt_at = now;
  assert_int_equal(store_write(s, enqueue_tx, &m), LB_OK);
  snprintf(id, LB_ID_SIZE, "%s", m.id);
  message_release(&m);
}

struct recover {
  const char *id, *self;
  int64_t now;
  int changed;
};

static enum lb_err recover_tx(struct store_tx *tx, void *arg)
{
  struct recover *r = arg;
  return store_tx_outbox_recover_one(tx, r->id, r->now, r->self, 1, 1,
                                     &r->changed);
}

static size_t stuck_count(struct store *s, int64_t now, const char *self)
{
  struct outbox_stuck out[8];
  size_t n = 0;
  assert_int_equal(store_outbox_stuck(s, now, self, out, 8, &n), LB_OK);
  return n;
}

static void test_a_lease_is_taken_over_only_once_it_expires(void **state)
{
  struct two *t = *state;
  int64_t now = clock_now_ms();
  struct outbox_lease lease = {"node-a", now + 1000};
  struct message m;
  struct recover r;
  char id[LB_ID_SIZE];
  size_t n = 0;
  int64_t renewed = 0;

  queue_one(t->a, now, id);
  message_init(&m);
  assert_int_equal(store_outbox_claim(t->a, now, &lease, &m, 1, &n), LB_OK);
  assert_int_equal(n, 1);
  assert_string_equal(m.id, id);
  assert_int_equal(m.status, ST_SENDING);
  message_release(&m);

  /* Node b cannot claim it, nor take it over while the lease runs. */
  lease.node = "node-b";
  assert_int_equal(store_outbox_claim(t->b, now, &lease, &m, 1, &n), LB_OK);
  assert_int_equal(n, 0);
  assert_int_equal(stuck_count(t->b, now, "node-b"), 0);
  r = (struct recover){id, "node-b", now, 0};
  assert_int_equal(store_write(t->b, recover_tx, &r), LB_OK);
  assert_int_equal(r.changed, 0);
  /* A restart of node a takes its own at once. */
  assert_int_equal(stuck_count(t->a, now, "node-a"), 1);
  /* Past the lease anyone may... */
  assert_int_equal(stuck_count(t->b, now + 2000, NULL), 1);
  /* ...unless node a renewed it meanwhile. */
  assert_int_equal(store_outbox_renew(t->a, "node-a", now + 5000, &renewed),
                   LB_OK);
  assert_int_equal(renewed, 1);
  assert_int_equal(stuck_count(t->b, now + 2000, NULL), 0);
  r = (struct recover){id, NULL, now + 2000, 0};
  assert_int_equal(store_write(t->b, recover_tx, &r), LB_OK);
  assert_int_equal(r.changed, 0);
  /* Node a died: the renewed lease runs out too, and b requeues it. */
  r = (struct recover){id, NULL, now + 6000, 0};
  assert_int_equal(store_write(t->b, recover_tx, &r), LB_OK);
  assert_int_equal(r.changed, 1);
  assert_int_equal(store_message_get(t->b, id, &m), LB_OK);
  assert_int_equal(m.status, ST_QUEUED);
  message_release(&m);
  assert_int_equal(stuck_count(t->b, now + 6000, NULL), 0);
}

/* ---- shared limits ---------------------------------------------------------
 */

static void test_failures_on_two_nodes_lock_as_on_one(void **state)
{
  struct two *t = *state;
  struct throttle_rule rule = {THROTTLE_LOCKOUT, 3, 10000, 60000, 0};
  int64_t now = clock_now_ms(), wait = -1;
  assert_int_equal(store_limit_fail(t->a, "u:sam", &rule, now, &wait), LB_OK);
  assert_int_equal(wait, 0);
  assert_int_equal(store_limit_fail(t->b, "u:sam", &rule, now, &wait), LB_OK);
  assert_int_equal(wait, 0);
  assert_int_equal(store_limit_wait(t->a, "u:sam", now, &wait), LB_OK);
  assert_int_equal(wait, 0);
  assert_int_equal(store_limit_fail(t->a, "u:sam", &rule, now, &wait), LB_OK);
  assert_int_equal(wait, 10000);
  assert_int_equal(store_limit_wait(t->b, "u:sam", now + 4000, &wait), LB_OK);
  assert_int_equal(wait, 6000);
  /* Another failure doubles the lock, wherever it happens. */
  assert_int_equal(store_limit_fail(t->b, "u:sam", &rule, now + 4000, &wait),
                   LB_OK);
  assert_int_equal(wait, 20000);
  assert_int_equal(store_limit_clear(t->a, "u:sam"), LB_OK);
  assert_int_equal(store_limit_wait(t->b, "u:sam", now, &wait), LB_OK);
  assert_int_equal(wait, 0);
}

static void test_a_providers_rate_is_shared_by_the_nodes(void **state)
{
  struct two *t = *state;
  int64_t now = 1700000000250LL, wait = -1;
  assert_int_equal(store_rate_take(t->a, "rate:sim", 2, now, &wait), LB_OK);
  assert_int_equal(wait, 0);
  assert_int_equal(store_rate_take(t->b, "rate:sim", 2, now + 10, &wait),
                   LB_OK);
  assert_int_equal(wait, 0);
  /* The third turn of that second waits for the next one. */
  assert_int_equal(store_rate_take(t->a, "rate:sim", 2, now + 20, &wait),
                   LB_OK);
  assert_int_equal(wait, 730);
  assert_int_equal(store_rate_take(t->b, "rate:sim", 2, now + 750, &wait),
                   LB_OK);
  assert_int_equal(wait, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          test_notify_wakes_the_channels_listeners_only, open_two, close_two),
      cmocka_unit_test_setup_teardown(
          test_another_connections_commit_wakes_the_listeners, open_two,
          close_two),
      cmocka_unit_test_setup_teardown(
          test_nodes_seen_recently_are_listed_and_forgotten, open_two,
          close_two),
      cmocka_unit_test_setup_teardown(
          test_a_lease_is_taken_over_only_once_it_expires, open_two, close_two),
      cmocka_unit_test_setup_teardown(test_failures_on_two_nodes_lock_as_on_one,
                                      open_two, close_two),
      cmocka_unit_test_setup_teardown(
          test_a_providers_rate_is_shared_by_the_nodes, open_two, close_two),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
