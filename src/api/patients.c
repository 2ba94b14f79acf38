/* PATCH /api/v1/patients/{patient}: a patient's display name. */
#include <string.h>

#include "api/handlers.h"
#include "util/err.h"

#define PATIENT_NAME_MAX 127

void h_patients_update(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"name", NULL};
  struct app *a = cls;
  char patient[LB_E164_SIZE], why[200];
  json_t *body, *v;
  const char *name;
  int rc;

  if (api_patient_param(a, r, r->params[0], patient))
    return;
  if (!(body = api_json_object(r, fields)))
    return;
  v = json_object_get(body, "name");
  if (!v || (!json_is_string(v) && !json_is_null(v))) {
    http_reply_error(r, 400, "invalid_request",
                     "send {\"name\": \"Jordan Lee\"}, or null to clear it");
    goto out;
  }
  name = json_is_string(v) ? json_string_value(v) : "";
  if (strlen(name) > PATIENT_NAME_MAX ||
      text_check(name, strlen(name), why, sizeof why)) {
    http_reply_error(r, 422, "invalid_name",
                     "a name is valid UTF-8 of at most %d bytes",
                     PATIENT_NAME_MAX);
    goto out;
  }
  rc = store_patient_rename(a->store, patient, name);
  if (rc == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found", "lyrebird has no patient %s",
                     patient);
    goto out;
  }
  if (rc) {
    api_store_error(r, rc);
    goto out;
  }
  app_notify_conversation(a, patient);
  http_reply_json(r, 200,
                  json_pack("{s:s, s:o}", "patient", patient, "name",
                            *name ? json_string(name) : json_null()));
out:
  json_decref(body);
}
