/* lyrebird routes: what happens to texts and images, both ways, for the
 * clinic number, and how the four set-ups a clinic weighs compare. Uses the
 * same routing policy (core/route.c) as the gateway itself. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/route.h"
#include "providers/provider.h"
#include "util/err.h"

static void usage(FILE *f)
{
  fprintf(f, "usage: lyrebird routes [--config FILE]\n\n"
             "Explains, for the clinic number, what happens to SMS and MMS\n"
             "in each direction and why, then compares the four set-ups: stay\n"
             "on SMS Broadcast with links, move to MessageMedia, Twilio in\n"
             "parallel, move to Twilio. Without --config it describes the\n"
             "demo's set-up (the simulated carrier).\n\n"
             "  -c, --config FILE  the configuration file (INI)\n"
             "  -h, --help         show this help\n");
}

/* The plan for one image of 'bytes' of 'ctype' from this set-up. */
static void plan_for(const struct config *c, const struct provider *p,
                     const struct provider_caps *caps, const char *ctype,
                     int64_t bytes, struct route_decision *d)
{
  struct route_media m = {ctype, bytes};
  struct route_input in;
  memset(&in, 0, sizeof in);
  in.has_text = 1;
  in.media = &m;
  in.n_media = 1;
  in.delivery = DELIVERY_AUTO;
  in.fallback =
      strcmp(c->mms_fallback, "link") == 0 ? FALLBACK_LINK : FALLBACK_NONE;
  in.links_available = c->link_secret[0] != '\0';
  in.host = p->ops->name;
  in.caps = caps;
  route_decide(&in, d);
}

static const char *yes(int v)
{
  return v ? "yes" : "no";
}

/* The four set-ups the clinic weighs. What each host can do is from its
 * documentation (docs/providers/ and the reference notes it cites);
 * "hosted" says whether the clinic's own number stays the one that sends
 * and receives. */
static const struct {
  const char *name;
  int mms_out;      /* the host sends MMS to Australian mobiles */
  int other_number; /* images would come from a second number */
  const char *number_note;
} options[] = {
    {"1. Stay on SMS Broadcast, images as links", 0, 0,
     "yes: SMS Broadcast keeps hosting the number"},
    {"2. Move the number to MessageMedia", 1, 0,
     "yes, if MessageMedia hosts the number for replies (not documented for "
     "Australian mobiles: confirm with them)"},
    {"3. Twilio in parallel for images", 1, 1,
     "no: images from a Twilio number, texts and replies on the clinic's"},
    {"4. Move (port) the number to Twilio", 1, 0,
     "yes: Australian mobiles can be ported (4 to 6 weeks)"},
};

static int explain(const struct config *c)
{
  struct provider p;
  struct route_decision small, big, heic;
  char budget[32];
  int rc = provider_init(&p, c->host, c);
  if (rc) {
    fprintf(stderr, "lyrebird routes: cannot set up %s: %s\n", c->host,
            lb_strerror(rc));
    return 1;
  }
  plan_for(c, &p, &p.caps, "image/jpeg", 100000, &small);
  plan_for(c, &p, &p.caps, "image/jpeg", (int64_t)p.caps.mms_max_bytes + 1,
           &big);
  plan_for(c, &p, &p.caps, "image/heic", 100000, &heic);
  route_format_bytes(p.caps.mms_max_bytes, budget, sizeof budget);

  printf("%s (%s), hosted by %s (%s)\n\n", c->number, c->clinic_name,
         p.ops->name, p.ops->title);
  printf("  SMS out  %s: every text goes from %s through %s, and nothing "
         "else ever sends from it.\n",
         yes(p.caps.sms_out), c->number, p.ops->name);
  printf("  SMS in   %s: replies to %s reach the inbox through %s's webhook "
         "(/hooks/%s/inbound).\n",
         yes(p.caps.sms_in), c->number, p.ops->name, p.ops->name);
  printf("  MMS out  %s.\n", p.caps.mms_out ? "yes" : "no");
  printf("           A 100 KB photo: %s\n", small.reason);
  if (p.caps.mms_out) {
    printf("           Over %s: %s\n", budget, big.reason);
    printf("           An iPhone HEIC photo: %s\n", heic.reason);
  }
  printf("  MMS in   %s%s\n", yes(p.caps.mms_in),
         p.caps.mms_in ? ": patients' photos are stored privately and shown "
                         "in the inbox."
                       : ".");
  printf("  Links    %s\n",
         c->link_secret[0]
             ? "on: [links] secret is set; links are on the clinic's own "
               "public_url."
             : "off: set [links] secret so images the host cannot send go as "
               "links.");
  if (c->mms_provider[0] && c->allow_other_sender)
    printf("  Senders  %s sends every text and link from %s. Images %s cannot "
           "send as MMS go through %s from %s ([routing] allow_other_sender "
           "= true): patients see a second number, and a reply to %s does not "
           "reach the inbox. Each such message is marked.\n\n",
           p.ops->name, c->number, p.ops->name, c->mms_provider, c->mms_from,
           c->mms_from);
  else
    printf("  Senders  only %s sends from %s; a second sender ([routing] "
           "mms_provider) is refused.\n\n",
           p.ops->name, c->number);

  printf("The four set-ups, with this gateway's rules:\n\n");
  for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
    struct provider_caps caps = p.caps;
    struct route_decision d;
    caps.sms_out = caps.sms_in = 1;
    caps.mms_out = options[i].mms_out;
    if (caps.mms_out && caps.mms_max_bytes <= 0)
      caps.mms_max_bytes = 600000;
    plan_for(c, &p, &caps, "image/jpeg", 100000, &d);
    printf("  %s\n", options[i].name);
    printf("     Same number both ways: %s\n", options[i].number_note);
    if (options[i].other_number)
      printf("     Images: as MMS, but from the other number; lyrebird "
             "refuses this unless [routing] allow_other_sender = true, "
             "because a reply to the image would not reach the inbox\n");
    else
      printf("     Images: %s\n", d.plan == ROUTE_MMS ? "as MMS, natively"
                                  : d.plan == ROUTE_LINK
                                      ? "as an SMS with a secure link, on the "
                                        "same number"
                                      : "refused (set up links first)");
  }
  printf("\nThis configuration: host = %s, which %s.\n", p.ops->name,
         p.caps.mms_out ? "sends MMS natively on the same number (like 2 and 4)"
         : small.plan == ROUTE_LINK
             ? "sends images as links on the same number (like 1)"
             : "cannot send images yet (set up links)");
  provider_release(&p);
  return 0;
}

int cmd_routes(int argc, char **argv)
{
  static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *path = NULL;
  struct config cfg;
  struct config_errors errs = {0};
  int o, rc;

  while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    if (o == 'c')
      path = optarg;
    else if (o == 'h') {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (path) {
    if (cli_load_config(path, &cfg)) {
      config_release(&cfg);
      return 1;
    }
  } else {
    /* The demo's set-up, with placeholder secrets: nothing is sent. */
    if (config_init(&cfg))
      return 1;
    config_set(&cfg, "api", "key", "placeholder-key-for-routes-only");
    cli_demo_clinic(&cfg, "placeholder-sim-secret");
    config_set(&cfg, "links", "secret",
               "placeholder-link-secret-for-routes-only");
    config_load_env(&cfg, &errs);
    if (!errs.n)
      config_validate(&cfg, &errs);
    if (errs.n) {
      config_errors_print(stderr, &cfg, &errs);
      config_release(&cfg);
      return 1;
    }
    printf("(No --config: the demo's set-up.)\n\n");
  }
  rc = explain(&cfg);
  config_release(&cfg);
  return rc;
}
