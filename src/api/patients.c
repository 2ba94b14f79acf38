/* PATCH /api/v1/patients/{patient}: a patient's display name and date of
 * birth (the answer to a link's second check). */
#include <string.h>

#include "api/handlers.h"
#include "core/patient.h"
#include "util/clock.h"
#include "util/err.h"

#define PATIENT_NAME_MAX 127

void h_patients_update(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"name", "dob", NULL};
  struct api *a = cls;
  char patient[LB_E164_SIZE], why[200], dob[LB_DOB_SIZE] = "";
  json_t *body, *v, *dv, *out;
  const char *name = NULL;
  enum lb_err rc;

  if (api_patient_param(a, r, r->params[0], patient))
    return;
  if (!(body = api_json_object(r, fields)))
    return;
  v = json_object_get(body, "name");
  dv = json_object_get(body, "dob");
  if ((!v && !dv) || (v && !json_is_string(v) && !json_is_null(v)) ||
      (dv && !json_is_string(dv) && !json_is_null(dv))) {
    http_reply_error(r, 400, "invalid_request",
                     "send {\"name\": \"Jordan Lee\"} and/or {\"dob\": "
                     "\"1984-03-07\"}; null clears either");
    goto out;
  }
  if (v) {
    name = json_is_string(v) ? json_string_value(v) : "";
    if (strlen(name) > PATIENT_NAME_MAX ||
        text_check(name, strlen(name), why, sizeof why)) {
      http_reply_error(r, 422, "invalid_name",
                       "a name is valid UTF-8 of at most %d bytes",
                       PATIENT_NAME_MAX);
      goto out;
    }
  }
  if (json_is_string(dv) && json_string_length(dv) &&
      dob_parse(json_string_value(dv), clock_now_ms(), dob, why, sizeof why)) {
    http_reply_error(r, 422, "invalid_dob", "%s", why);
    goto out;
  }
  rc = gw_patient_update(a->gw, patient, name, dv ? dob : NULL);
  if (rc == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found", "lyrebird has no patient %s",
                     patient);
    goto out;
  }
  if (rc) {
    api_store_error(r, rc);
    goto out;
  }
  out = json_pack("{s:s}", "patient", patient);
  if (name)
    json_object_set_new(out, "name", *name ? json_string(name) : json_null());
  if (dv)
    json_object_set_new(out, "dob", dob[0] ? json_string(dob) : json_null());
  http_reply_json(r, 200, out);
out:
  json_decref(body);
}
