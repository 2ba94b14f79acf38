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
  struct gw_actor who;
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
  api_actor(r, &who);
  rc = gw_patient_update(a->gw, patient, name, dv ? dob : NULL, &who);
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

/* GET /api/v1/patients/{patient}/consent: where the patient stands and
 * every change, oldest first. */
static enum lb_err on_consent(void *arg, const struct consent_event *e)
{
  return json_array_append_new(arg, gw_consent_event_json(e)) ? LB_ENOMEM
                                                              : LB_OK;
}

void h_patient_consent(void *cls, struct http_req *r)
{
  struct api *a = cls;
  char patient[LB_E164_SIZE];
  struct patient_row pr;
  struct consent c;
  json_t *history;
  enum lb_err rc;
  if (api_patient_param(a, r, r->params[0], patient))
    return;
  rc = store_patient_get(a->store, patient, &pr);
  if (rc == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found", "lyrebird has no patient %s",
                     patient);
    return;
  }
  history = json_array();
  if (rc || (rc = store_patient_consent(a->store, patient, &c)) ||
      (rc = store_consent_history(a->store, patient, on_consent, history))) {
    json_decref(history);
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200,
                  json_pack("{s:s, s:o, s:o}", "patient", patient, "opt_out",
                            gw_consent_json(&c), "history", history));
}

/* POST /api/v1/patients/{patient}/opt-in and /opt-out {"reason"}: staff
 * (or the clinic's app) record the patient's choice, with why. */
static void consent_set(struct api *a, struct http_req *r,
                        enum consent_state state)
{
  static const char *const fields[] = {"reason", NULL};
  char patient[LB_E164_SIZE], why[200];
  struct consent_event e;
  struct consent now;
  struct gw_actor who;
  json_t *body, *reason;
  const char *rs;
  int changed = 0;
  enum lb_err rc;

  if (api_patient_param(a, r, r->params[0], patient))
    return;
  if (!(body = api_json_object(r, fields)))
    return;
  reason = json_object_get(body, "reason");
  rs = json_is_string(reason) ? json_string_value(reason) : "";
  while (*rs == ' ')
    rs++;
  if (!rs[0]) {
    http_reply_error(
        r, 400, "reason_required",
        "say why in 'reason', e.g. {\"reason\": \"consent given in person on "
        "3 Dec\"}: a patient's choice is only changed with a recorded "
        "reason");
    goto out;
  }
  if (strlen(rs) >= CONSENT_REASON_MAX ||
      text_check(rs, strlen(rs), why, sizeof why)) {
    http_reply_error(r, 400, "invalid_request",
                     "'reason' is valid UTF-8 of under %d bytes",
                     CONSENT_REASON_MAX);
    goto out;
  }
  api_actor(r, &who);
  rc = gw_consent_set(a->gw, patient, state, &who, rs, &e, &changed);
  if (rc == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found", "lyrebird has no patient %s",
                     patient);
    goto out;
  }
  if (rc || (rc = store_patient_consent(a->store, patient, &now))) {
    api_store_error(r, rc);
    goto out;
  }
  http_reply_json(r, 200,
                  json_pack("{s:s, s:b, s:o, s:o}", "patient", patient,
                            "changed", changed, "event",
                            changed ? gw_consent_event_json(&e) : json_null(),
                            "opt_out", gw_consent_json(&now)));
out:
  json_decref(body);
}

void h_patient_opt_in(void *cls, struct http_req *r)
{
  consent_set(cls, r, CONSENT_OPTED_IN);
}

void h_patient_opt_out(void *cls, struct http_req *r)
{
  consent_set(cls, r, CONSENT_OPTED_OUT);
}

/* GET /api/v1/patients/{patient}/export: the thread as a ZIP (admins). */
void h_patient_export(void *cls, struct http_req *r)
{
  struct api *a = cls;
  char patient[LB_E164_SIZE], cd[96];
  struct gw_export_summary sum;
  struct gw_actor who;
  struct buf zip;
  size_t len;
  char *data;
  enum lb_err rc;
  if (api_patient_param(a, r, r->params[0], patient))
    return;
  api_actor(r, &who);
  buf_init(&zip, (size_t)1024 * 1024 * 1024);
  rc = gw_export(a->gw, patient, &who, &zip, &sum);
  if (rc == LB_ENOTFOUND) {
    buf_release(&zip);
    http_reply_error(r, 404, "not_found", "there are no messages with %s",
                     patient);
    return;
  }
  if (rc == LB_ETOOBIG) {
    buf_release(&zip);
    http_reply_error(r, 413, "export_too_large",
                     "the thread is too large to export over HTTP; use "
                     "lyrebird export --patient %s --out FILE.zip",
                     patient);
    return;
  }
  if (rc) {
    buf_release(&zip);
    api_store_error(r, rc);
    return;
  }
  data = buf_steal(&zip, &len);
  http_reply_bytes(r, 200, "application/zip", data ? data : calloc(1, 1), len);
  snprintf(cd, sizeof cd, "attachment; filename=\"thread-%s.zip\"",
           patient + 1);
  http_reply_header(r, "Content-Disposition", cd);
  http_reply_header(r, "Cache-Control", "private, no-store");
}
