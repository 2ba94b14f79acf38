/* /api/v1/templates: the clinic's message templates. Staff list them and
 * fill one in for a patient (messages:send); admins create, change and
 * delete them (admin). */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "core/template.h"

static int template_id_ok(const char *id)
{
  return id && strncmp(id, "tpl_", 4) == 0 && id_valid(id + 4);
}

static void not_found(struct http_req *r)
{
  http_reply_error(r, 404, "not_found", "no template '%s'", r->params[0]);
}

static enum lb_err list_one(void *arg, const struct msg_template *t)
{
  json_t *o = gw_template_json(t);
  return !o || json_array_append_new(arg, o) ? LB_ENOMEM : LB_OK;
}

void h_templates_list(void *cls, struct http_req *r)
{
  struct api *a = cls;
  json_t *arr = json_array();
  enum lb_err rc =
      arr ? store_template_list(a->store, list_one, arr) : LB_ENOMEM;
  if (rc)
    api_store_error(r, rc);
  else
    http_reply_json(r, 200, json_pack("{s:O}", "templates", arr));
  json_decref(arr);
}

/* Answers a refusal of gw_template_save. */
static void save_error(struct http_req *r, enum lb_err rc, const char *why)
{
  if (rc == LB_ENOTFOUND)
    not_found(r);
  else if (rc == LB_EDUPLICATE)
    http_reply_error(r, 409, "name_taken", "%s", why);
  else if (rc == LB_EINVAL)
    http_reply_error(r, 422, "invalid_template", "%s", why);
  else if (rc == LB_ETOOBIG)
    http_reply_error(r, 422, "template_too_large", "%s", why);
  else
    api_store_error(r, rc);
}

/* Create (id NULL: every field required) or update (what is given). */
static void save(struct api *a, struct http_req *r, const char *id)
{
  static const char *const fields[] = {"name", "body", NULL};
  struct msg_template old, t;
  struct gw_actor who;
  char why[400] = "";
  json_t *body, *name, *text;
  const char *nv, *bv;
  enum lb_err rc;

  memset(&old, 0, sizeof old);
  memset(&t, 0, sizeof t);
  if (!(body = api_json_object(r, fields)))
    return;
  name = json_object_get(body, "name");
  text = json_object_get(body, "body");
  if ((name && !json_is_string(name)) || (text && !json_is_string(text)) ||
      (!id && (!name || !text)) || (id && !name && !text)) {
    http_reply_error(r, 400, "invalid_request",
                     id ? "send 'name' and/or 'body', as strings"
                        : "'name' and 'body' are required strings");
    goto out;
  }
  if ((name && strlen(json_string_value(name)) != json_string_length(name)) ||
      (text && strlen(json_string_value(text)) != json_string_length(text))) {
    http_reply_error(r, 422, "invalid_template",
                     "a template holds no NUL characters");
    goto out;
  }
  if (id && (rc = store_template_get(a->store, id, &old))) {
    save_error(r, rc, why);
    goto out;
  }
  nv = name ? json_string_value(name) : old.name;
  bv = text ? json_string_value(text) : old.body;
  api_actor(r, &who);
  rc = gw_template_save(a->gw, &who, id, nv, bv, &t, why, sizeof why);
  if (rc)
    save_error(r, rc, why);
  else
    http_reply_json(r, id ? 200 : 201, gw_template_json(&t));
out:
  msg_template_release(&old);
  msg_template_release(&t);
  json_decref(body);
}

void h_templates_create(void *cls, struct http_req *r)
{
  save(cls, r, NULL);
}

void h_templates_update(void *cls, struct http_req *r)
{
  if (!template_id_ok(r->params[0])) {
    not_found(r);
    return;
  }
  save(cls, r, r->params[0]);
}

void h_templates_delete(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct gw_actor who;
  enum lb_err rc;
  if (!template_id_ok(r->params[0])) {
    not_found(r);
    return;
  }
  api_actor(r, &who);
  rc = gw_template_delete(a->gw, &who, r->params[0]);
  if (rc == LB_ENOTFOUND)
    not_found(r);
  else if (rc)
    api_store_error(r, rc);
  else
    http_reply_json(r, 200,
                    json_pack("{s:s, s:b}", "id", r->params[0], "deleted", 1));
}

/* POST /api/v1/templates/{id}/render {"patient", "values"}: the text for
 * one patient, lyrebird's placeholders filled in, the free fields from
 * values; what is still missing is listed (and left as written). */
void h_templates_render(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"patient", "values", NULL};
  struct api *a = cls;
  struct msg_template t;
  struct template_value vals[TEMPLATE_FIELDS_MAX + 3];
  struct template_fields missing;
  struct patient_row p;
  char e164[LB_E164_SIZE], first[128] = "", why[300], *out = NULL;
  json_t *body, *pv, *values, *x, *miss;
  const char *key;
  size_t n = 0;
  enum lb_err rc;

  memset(&t, 0, sizeof t);
  if (!template_id_ok(r->params[0])) {
    not_found(r);
    return;
  }
  if (!(body = api_json_object(r, fields)))
    return;
  pv = json_object_get(body, "patient");
  values = json_object_get(body, "values");
  if ((pv && !json_is_string(pv) && !json_is_null(pv)) ||
      (values && !json_is_object(values)) ||
      json_object_size(values) > TEMPLATE_FIELDS_MAX) {
    http_reply_error(r, 400, "invalid_request",
                     "send {\"patient\": \"+61...\", \"values\": {\"time\": "
                     "\"10:30\"}}: a patient number (optional) and up to %d "
                     "string values",
                     TEMPLATE_FIELDS_MAX);
    goto out;
  }
  if ((rc = store_template_get(a->store, r->params[0], &t))) {
    if (rc == LB_ENOTFOUND)
      not_found(r);
    else
      api_store_error(r, rc);
    goto out;
  }
  /* Staff's values first, so a first name typed in fills {first_name}
   * when the record has none; lyrebird's own follow. */
  json_object_foreach(values, key, x)
  {
    if (!json_is_string(x)) {
      http_reply_error(r, 400, "invalid_request",
                       "values.%.40s must be a string", key);
      goto out;
    }
    vals[n].name = key;
    vals[n++].value = json_string_value(x);
  }
  if (json_is_string(pv)) {
    if (api_patient_param(a, r, json_string_value(pv), e164))
      goto out;
    if (store_patient_get(a->store, e164, &p) == LB_OK)
      template_first_name(p.name, first, sizeof first);
  }
  vals[n].name = "first_name";
  vals[n++].value = first;
  vals[n].name = "clinic_name";
  vals[n++].value = a->cfg->clinic_name;
  vals[n].name = "clinic_phone";
  vals[n++].value = a->cfg->clinic_phone;
  if (!(out = malloc(TEMPLATE_BODY_BYTES + 1))) {
    api_store_error(r, LB_ENOMEM);
    goto out;
  }
  rc = template_render(t.body, vals, n, out, TEMPLATE_BODY_BYTES + 1, &missing,
                       why, sizeof why);
  if (rc) {
    http_reply_error(r, 422, "invalid_value", "%s", why);
    goto out;
  }
  miss = json_array();
  for (size_t i = 0; miss && i < missing.n; i++)
    json_array_append_new(miss, json_string(missing.name[i]));
  http_reply_json(r, 200,
                  json_pack("{s:s, s:s, s:o}", "template", t.id, "text", out,
                            "missing", miss ? miss : json_array()));
out:
  free(out);
  msg_template_release(&t);
  json_decref(body);
}
