/* lyrebird webhook: the clinic app's webhook endpoints, managed from the
 * shell. The same use cases as /api/v1/webhook-endpoints (gateway/
 * webhooks.c); changes are on the audit log as the OS user, and a
 * running server picks them up within a second. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/records.h"
#include "util/clock.h"
#include "util/err.h"

static void usage(FILE *f)
{
  fprintf(
      f,
      "usage: lyrebird webhook add --url URL [--events a,b] [--description D]\n"
      "       lyrebird webhook list\n"
      "       lyrebird webhook show ID\n"
      "       lyrebird webhook rotate-secret ID\n"
      "       lyrebird webhook disable ID | enable ID | remove ID\n"
      "       lyrebird webhook test ID\n"
      "       lyrebird webhook replay ID --since TIME\n"
      "  each with (--config FILE | --data DIR)\n\n"
      "Endpoints are where lyrebird posts events for the clinic's app,\n"
      "signed as Standard Webhooks (docs/webhooks.md).\n\n"
      "add: a new endpoint; prints its signing secret once (whsec_...).\n"
      "  --events: the event types it wants, comma-separated (default: all):\n"
      "  message.received, message.status, message.updated, link.viewed,\n"
      "  conversation.read, conversation.updated, patient.opted_out,\n"
      "  patient.opted_in, ping.\n"
      "show: the endpoint and its recent deliveries.\n"
      "rotate-secret: a new secret (printed once); the old one keeps signing\n"
      "  too for [events] rotation_overlap, so the receiver can switch.\n"
      "test: posts a ping event now and shows the answer.\n"
      "replay: sends every event since TIME (RFC 3339) again, with its id.\n\n"
      "  -c, --config FILE       the configuration file (INI)\n"
      "  -d, --data DIR          a demo's data directory instead\n"
      "  -u, --url URL           (add) where to post; https:// only\n"
      "  -e, --events LIST       (add) the event types\n"
      "  -D, --description TEXT  (add) what it is for\n"
      "  -s, --since TIME        (replay) from when\n"
      "  -h, --help              show this help\n");
}

static const char *verbs[] = {"add",     "list",   "show",   "rotate-secret",
                              "disable", "enable", "remove", "test",
                              "replay",  NULL};

static void print_endpoint(const struct webhook_endpoint *e)
{
  char t[40];
  printf("%s  %s\n", e->id, e->url);
  printf("  events       %s\n", e->events);
  if (e->description[0])
    printf("  description  %s\n", e->description);
  printf("  state        %s%s%s\n", e->enabled ? "enabled" : "disabled",
         !e->enabled && e->disabled_reason[0] ? ": " : "",
         !e->enabled ? e->disabled_reason : "");
  if (e->failing_since) {
    cli_local_time(e->failing_since, t, sizeof t);
    printf("  failing      since %s (%d attempts on the next event)\n", t,
           e->attempts);
  }
  if (e->old_secret[0] && e->old_secret_until > clock_now_ms()) {
    cli_local_time(e->old_secret_until, t, sizeof t);
    printf("  rotation     the previous secret also signs until %s\n", t);
  }
}

static enum lb_err list_one(void *arg, const struct webhook_endpoint *e)
{
  (*(int *)arg)++;
  print_endpoint(e);
  return LB_OK;
}

static enum lb_err print_attempt(void *arg, const struct webhook_attempt *a)
{
  char t[40], st[16];
  (*(int *)arg)++;
  cli_local_time(a->at, t, sizeof t);
  if (a->status)
    snprintf(st, sizeof st, "%d", a->status);
  else
    snprintf(st, sizeof st, "-");
  printf("  %s  %-20s  #%d  %-4s %5d ms  %-9s %s\n", t, a->event_type,
         a->attempt, st, a->duration_ms, a->outcome, a->error);
  return LB_OK;
}

int cmd_webhook(int argc, char **argv)
{
  static const struct option lo[] = {{"config", required_argument, 0, 'c'},
                                     {"data", required_argument, 0, 'd'},
                                     {"url", required_argument, 0, 'u'},
                                     {"events", required_argument, 0, 'e'},
                                     {"description", required_argument, 0,
                                      'D'},
                                     {"since", required_argument, 0, 's'},
                                     {"help", no_argument, 0, 'h'},
                                     {0, 0, 0, 0}};
  struct record_opts o;
  const char *verb, *id = NULL, *url = NULL, *events = NULL, *desc = NULL,
                    *since = NULL;
  struct webhook_endpoint e;
  struct webhook_attempt at;
  struct config cfg;
  struct gateway gw;
  struct gw_actor who;
  char name[64], why[400];
  int c, rc, i, need_id;
  enum lb_err err = LB_OK;

  if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    usage(stdout);
    return 0;
  }
  if (argc < 2 || argv[1][0] == '-') {
    usage(stderr);
    return 2;
  }
  verb = argv[1];
  for (i = 0; verbs[i] && strcmp(verbs[i], verb); i++)
    ;
  if (!verbs[i]) {
    fprintf(stderr, "lyrebird webhook: unknown action '%s'\n\n", verb);
    usage(stderr);
    return 2;
  }
  need_id = strcmp(verb, "add") && strcmp(verb, "list");
  if (need_id) {
    if (argc < 3 || argv[2][0] == '-') {
      fprintf(stderr, "lyrebird webhook %s: the endpoint's ID is required "
                      "(see lyrebird webhook list)\n",
              verb);
      return 2;
    }
    id = argv[2];
  }
  memset(&o, 0, sizeof o);
  optind = 1;
  argc -= need_id ? 2 : 1;
  argv += need_id ? 2 : 1;
  while ((c = getopt_long(argc, argv, "c:d:u:e:D:s:h", lo, NULL)) != -1) {
    switch (c) {
    case 'c':
      o.config = optarg;
      break;
    case 'd':
      o.data = optarg;
      break;
    case 'u':
      url = optarg;
      break;
    case 'e':
      events = optarg;
      break;
    case 'D':
      desc = optarg;
      break;
    case 's':
      since = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (!strcmp(verb, "add") && !url) {
    fprintf(stderr, "lyrebird webhook add: --url URL is required\n");
    return 2;
  }
  if (!strcmp(verb, "replay") && !since) {
    fprintf(stderr, "lyrebird webhook replay: --since TIME is required, "
                    "e.g. --since 2026-12-01T00:00:00Z\n");
    return 2;
  }
  if ((rc = cli_open_gateway("webhook", &o, &cfg, &gw)))
    return rc;
  cli_actor(&who, name, sizeof name);
  rc = 1;
  if (!strcmp(verb, "add")) {
    err = gw_webhook_add(&gw, &who, url, events, desc, &e, why, sizeof why);
    if (!err) {
      print_endpoint(&e);
      printf("\nsigning secret (shown once; the receiver verifies every "
             "delivery with it):\n%s\n",
             e.secret);
      rc = 0;
    }
  } else if (!strcmp(verb, "list")) {
    int n = 0;
    err = store_webhook_list(gw.store, list_one, &n);
    if (!err) {
      if (!n)
        printf("no webhook endpoints; add one with lyrebird webhook add "
               "--url URL\n");
      rc = 0;
    }
  } else if (!strcmp(verb, "show")) {
    int n = 0;
    if (!(err = store_webhook_get(gw.store, id, &e))) {
      print_endpoint(&e);
      printf("\nrecent deliveries (newest first):\n");
      err = store_webhook_attempts(gw.store, id, 20, print_attempt, &n);
      if (!n)
        printf("  none yet\n");
      rc = err ? 1 : 0;
    }
  } else if (!strcmp(verb, "rotate-secret")) {
    if (!(err = gw_webhook_rotate(&gw, &who, id, &e))) {
      char t[40];
      cli_local_time(e.old_secret_until, t, sizeof t);
      printf("new signing secret for %s (shown once):\n%s\n\nthe previous "
             "secret also signs every delivery until %s\n",
             e.id, e.secret, t);
      rc = 0;
    }
  } else if (!strcmp(verb, "disable") || !strcmp(verb, "enable")) {
    err = gw_webhook_update(&gw, &who, id, NULL, NULL, NULL,
                            !strcmp(verb, "enable"), &e, why, sizeof why);
    if (!err) {
      print_endpoint(&e);
      rc = 0;
    }
  } else if (!strcmp(verb, "remove")) {
    if (!(err = gw_webhook_remove(&gw, &who, id))) {
      printf("removed %s; nothing more is sent to it\n", id);
      rc = 0;
    }
  } else if (!strcmp(verb, "test")) {
    if (!(err = gw_webhook_test(&gw, id, &at))) {
      if (!at.error[0]) {
        printf("delivered: %s answered %d in %d ms (event %s)\n", id,
               at.status, at.duration_ms, at.event_id);
        rc = 0;
      } else {
        printf("failed: %s (after %d ms; event %s)\n", at.error,
               at.duration_ms, at.event_id);
      }
    }
  } else if (!strcmp(verb, "replay")) {
    long long from = 0;
    int ok = 0;
    int64_t t = clock_parse_iso8601(since, &ok);
    if (!ok) {
      fprintf(stderr, "lyrebird webhook replay: --since must be an RFC 3339 "
                      "time such as 2026-12-01T00:00:00Z\n");
      rc = 2;
    } else if (!(err = gw_webhook_replay(&gw, &who, id, t, &from))) {
      printf("every event since %s goes to %s again, in order, with its "
             "own webhook-id (from cursor %lld)\n",
             since, id, from);
      rc = 0;
    }
  }
  if (err == LB_ENOTFOUND)
    fprintf(stderr, "lyrebird webhook %s: no endpoint '%s' (see lyrebird "
                    "webhook list)\n",
            verb, id ? id : "");
  else if (err == LB_EINVAL || err == LB_ETOOBIG)
    fprintf(stderr, "lyrebird webhook %s: %s\n", verb, why);
  else if (err)
    fprintf(stderr, "lyrebird webhook %s: %s\n", verb, lb_strerror(err));
  cli_close_gateway(&cfg, &gw);
  return rc;
}
