/* This node among the gateway nodes that share one store: its id, the
 * checks made before it starts (its id is its own; media on a local disk
 * is not shared with another live node), and its heartbeat row, which the
 * outbox's keeper refreshes every third of a lease (docs/scaling.md). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "gateway/internal.h"
#include "util/clock.h"
#include "util/log.h"

#define PEERS_MAX 16

static const char id_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                               "TUVWXYZ0123456789.-_";

static void host_name(char *out, size_t n)
{
  if (gethostname(out, n) != 0 || !out[0])
    snprintf(out, n, "localhost");
  out[n - 1] = '\0';
}

/* [server] node_id, or the host name made into an id. */
static void node_id(const struct config *c, char out[LB_NODE_ID_MAX])
{
  char host[256];
  if (c->node_id[0]) {
    snprintf(out, LB_NODE_ID_MAX, "%s", c->node_id);
    return;
  }
  host_name(host, sizeof host);
  host[LB_NODE_ID_MAX - 1] = '\0'; /* an id is shorter than a host name */
  memcpy(out, host, strlen(host) + 1);
  for (char *p = out; *p; p++)
    if (!strchr(id_chars, *p))
      *p = '-';
}

static const char *media_kind(const struct config *c)
{
  if (strcmp(c->media_store, "s3") == 0)
    return "s3";
  return c->media_shared_dir ? "fs-shared" : "fs";
}

static int process_alive(int64_t pid)
{
  return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static void fill_row(struct gateway *gw, struct node_row *n)
{
  memset(n, 0, sizeof *n);
  snprintf(n->id, sizeof n->id, "%s", gw->node_id);
  host_name(n->host, sizeof n->host);
  n->pid = (int64_t)getpid();
  snprintf(n->media, sizeof n->media, "%s", media_kind(gw->cfg));
  n->started_at = gw->node_started_at;
  n->seen_at = clock_now_ms();
}

enum lb_err gw_node_open(struct gateway *gw)
{
  const struct config *c = gw->cfg;
  int64_t now = clock_now_ms(), lease_ms = c->lease_seconds * 1000LL;
  struct node_row me, old, peers[PEERS_MAX];
  size_t n = 0;
  enum lb_err rc;

  node_id(c, gw->node_id);
  gw->node_started_at = now;
  fill_row(gw, &me);

  rc = store_node_get(gw->store, gw->node_id, &old);
  if (rc && rc != LB_ENOTFOUND)
    return rc;
  if (rc == LB_OK && old.seen_at >= now - lease_ms && old.pid != me.pid &&
      (strcmp(old.host, me.host) != 0 || process_alive(old.pid))) {
    log_error("app.node",
              "node id '%s' is in use: process %lld on %s renewed it %llds "
              "ago. Give each node its own [server] node_id (or, if that "
              "node has stopped, wait %d s for its lease to expire)",
              gw->node_id, (long long)old.pid, old.host,
              (long long)((now - old.seen_at) / 1000), c->lease_seconds);
    return LB_ECONFIG;
  }

  if ((rc = store_nodes_seen(gw->store, now - lease_ms, gw->node_id, peers,
                             PEERS_MAX, &n)))
    return rc;
  for (size_t i = 0; i < n; i++)
    if (strcmp(me.media, "fs") == 0 || strcmp(peers[i].media, "fs") == 0) {
      log_error("app.node",
                "node %s (on %s, seen %llds ago) shares this database, and "
                "media kept with [media] store = fs on one machine's disk "
                "cannot be shown by the other: several nodes need [media] "
                "store = s3 (docs/scaling.md), or [media] shared_dir = true "
                "on every node if [media] dir is one filesystem they all "
                "mount",
                peers[i].id, peers[i].host,
                (long long)((now - peers[i].seen_at) / 1000));
      return LB_ECONFIG;
    }

  if ((rc = store_node_beat(gw->store, &me)))
    return rc;
  gw->node_registered = 1;
  log_info("app.node",
           "node %s (host %s, pid %lld, media %s): %zu other live node(s) "
           "on this database; leases of %d s",
           gw->node_id, me.host, (long long)me.pid, me.media, n,
           c->lease_seconds);
  return LB_OK;
}

void gw_node_beat(void *arg)
{
  struct gateway *gw = arg;
  struct node_row me;
  enum lb_err rc;
  fill_row(gw, &me);
  if ((rc = store_node_beat(gw->store, &me)))
    log_error("app.node", "cannot record this node's heartbeat: %s",
              lb_strerror(rc));
}

void gw_node_close(struct gateway *gw)
{
  if (!gw->node_registered || !gw->store)
    return;
  store_node_forget(gw->store, gw->node_id);
  gw->node_registered = 0;
}
