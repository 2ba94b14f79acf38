/* The audit log, from the gateway's side: who did what to whose record.
 * Rows are appended in the transaction of the change they record where
 * there is one (a consent override, a purge, an account change); a view
 * (an image, a link, an export) is a row of its own. */
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"
#include "util/log.h"

void gw_audit_detail(struct audit_entry *a, const char *key, const char *value)
{
  json_t *o = a->detail[0] ? json_loads(a->detail, 0, NULL) : json_object();
  char *text;
  if (!o)
    return;
  json_object_set_new(o, key, json_string(value ? value : ""));
  text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  if (text && strlen(text) < sizeof a->detail)
    memcpy(a->detail, text, strlen(text) + 1);
  free(text);
  json_decref(o);
}

void gw_audit_prepare(struct audit_entry *a, const struct gw_actor *who,
                      const char *action, const char *patient,
                      const char *subject, json_t *detail)
{
  char *text =
      detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  audit_entry_init(a, who && who->kind ? who->kind : "system",
                   who ? who->name : NULL, action, patient, subject,
                   who ? who->ip : NULL);
  if (text && strlen(text) < sizeof a->detail)
    memcpy(a->detail, text, strlen(text) + 1);
  free(text);
}

enum lb_err gw_audit(struct gateway *gw, const struct gw_actor *who,
                     const char *action, const char *patient,
                     const char *subject, json_t *detail)
{
  struct audit_entry a;
  enum lb_err rc;
  gw_audit_prepare(&a, who, action, patient, subject, detail);
  if ((rc = store_audit(gw->store, &a)))
    log_error("audit.write", "could not record %s: %s", action,
              lb_strerror(rc));
  return rc;
}
