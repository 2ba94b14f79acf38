/* The clinic's templates: checked, stored and audited together. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template.h"
#include "gateway/internal.h"
#include "util/clock.h"

struct save_tx {
  const struct gw_actor *who;
  struct msg_template *t;
  int create;
  char *why;
  size_t whylen;
};

static enum lb_err save_in_tx(struct store_tx *tx, void *arg)
{
  struct save_tx *s = arg;
  struct msg_template old;
  struct audit_entry a;
  int n = 0;
  enum lb_err rc;

  memset(&old, 0, sizeof old);
  if (s->create) {
    if ((rc = store_tx_template_count(tx, &n)))
      return rc;
    if (n >= TEMPLATES_MAX) {
      snprintf(s->why, s->whylen,
               "the clinic already has %d templates, the most it keeps; "
               "delete one first",
               TEMPLATES_MAX);
      return LB_ETOOBIG;
    }
  } else {
    if ((rc = store_tx_template_get(tx, s->t->id, &old)))
      return rc;
    s->t->created_at = old.created_at;
    msg_template_release(&old);
  }
  if ((rc = store_tx_template_put(tx, s->t, s->create)))
    return rc;
  gw_audit_prepare(&a, s->who,
                   s->create ? "template.created" : "template.updated", NULL,
                   s->t->id, NULL);
  gw_audit_detail(&a, "name", s->t->name);
  return store_tx_audit(tx, &a);
}

enum lb_err gw_template_save(struct gateway *gw, const struct gw_actor *who,
                             const char *id, const char *name, const char *body,
                             struct msg_template *out, char *why, size_t whylen)
{
  struct template_fields f;
  struct save_tx s = {who, out, id == NULL, why, whylen};
  char raw[LB_ID_SIZE];
  enum lb_err rc;

  memset(out, 0, sizeof *out);
  if ((rc = template_name_check(name, why, whylen)) ||
      (rc = template_parse(body, &f, why, whylen)))
    return rc;
  if (id) {
    snprintf(out->id, sizeof out->id, "%s", id);
  } else {
    id_new(raw);
    snprintf(out->id, sizeof out->id, "tpl_%s", raw);
  }
  snprintf(out->name, sizeof out->name, "%s", name);
  if (!(out->body = strdup(body)))
    return LB_ENOMEM;
  snprintf(out->updated_by, sizeof out->updated_by, "%s",
           who && who->name ? who->name : "");
  out->created_at = out->updated_at = clock_now_ms();
  rc = store_write(gw->store, save_in_tx, &s);
  if (rc == LB_EDUPLICATE)
    snprintf(why, whylen, "another template is already named '%.80s'", name);
  return rc;
}

struct delete_tx {
  const struct gw_actor *who;
  const char *id;
};

static enum lb_err delete_in_tx(struct store_tx *tx, void *arg)
{
  struct delete_tx *d = arg;
  struct msg_template old;
  struct audit_entry a;
  enum lb_err rc = store_tx_template_get(tx, d->id, &old);
  if (rc)
    return rc;
  gw_audit_prepare(&a, d->who, "template.deleted", NULL, d->id, NULL);
  gw_audit_detail(&a, "name", old.name);
  msg_template_release(&old);
  if ((rc = store_tx_template_delete(tx, d->id)))
    return rc;
  return store_tx_audit(tx, &a);
}

enum lb_err gw_template_delete(struct gateway *gw, const struct gw_actor *who,
                               const char *id)
{
  struct delete_tx d = {who, id};
  return store_write(gw->store, delete_in_tx, &d);
}

json_t *gw_template_json(const struct msg_template *t)
{
  struct template_fields f;
  char why[200], at[LB_ISO8601_LEN], up[LB_ISO8601_LEN];
  json_t *fields = json_array();
  if (fields && template_parse(t->body, &f, why, sizeof why) == LB_OK)
    for (size_t i = 0; i < f.n; i++)
      json_array_append_new(fields, json_string(f.name[i]));
  clock_iso8601(t->created_at, at, sizeof at);
  clock_iso8601(t->updated_at, up, sizeof up);
  return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s?}", "id", t->id, "name",
                   t->name, "body", t->body ? t->body : "", "fields",
                   fields ? fields : json_array(), "created_at", at,
                   "updated_at", up, "updated_by",
                   t->updated_by[0] ? t->updated_by : NULL);
}
