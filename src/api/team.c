/* Working as a team: PATCH /api/v1/conversations/{patient} (state and
 * assignee) and its notes, POST and GET /api/v1/conversations/{patient}/
 * notes. A note is internal: it is stored and shown to staff, never sent. */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "gateway/team.h"
#include "util/err.h"

/* The conversation's fields after a change, or as they are. */
static json_t *team_json(const char *patient, const struct conv_team *t)
{
  json_t *o = json_pack("{s:s}", "patient", patient);
  if (o)
    gw_team_json_set(o, t->state, t->assigned_to);
  return o;
}

void h_conversation_update(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"state", "assigned_to", NULL};
  struct api *a = cls;
  struct conv_team_change ch;
  struct conv_team after;
  struct gw_actor who;
  char patient[LB_E164_SIZE], why[200] = "";
  json_t *body, *sv, *av;
  enum lb_err rc;

  if (api_patient_param(a, r, r->params[0], patient))
    return;
  if (!(body = api_json_object(r, fields)))
    return;
  memset(&ch, 0, sizeof ch);
  sv = json_object_get(body, "state");
  av = json_object_get(body, "assigned_to");
  if ((!sv && !av) || (av && !json_is_string(av) && !json_is_null(av))) {
    http_reply_error(r, 400, "invalid_request",
                     "send {\"state\": \"open\" or \"done\"} and/or "
                     "{\"assigned_to\": \"<username>\"}; null unassigns");
    goto out;
  }
  if (sv) {
    ch.set_state = 1;
    if (!json_is_string(sv) ||
        conv_state_parse(json_string_value(sv), &ch.state)) {
      http_reply_error(r, 400, "invalid_request",
                       "state is \"open\" or \"done\"");
      goto out;
    }
  }
  if (av) {
    ch.set_assignee = 1;
    ch.assignee = json_is_string(av) ? json_string_value(av) : NULL;
    if (ch.assignee && username_check(ch.assignee, why, sizeof why)) {
      http_reply_error(r, 400, "unknown_user",
                       "assigned_to is a staff member's username, or null "
                       "to unassign: %s",
                       why);
      goto out;
    }
  }
  api_actor(r, &who);
  rc = gw_conversation_team_set(a->gw, &who, patient, &ch, &after, why,
                                sizeof why);
  if (rc == LB_EINVAL)
    http_reply_error(r, 400, "unknown_user", "%s", why);
  else if (rc == LB_ENOTFOUND)
    http_reply_error(r, 404, "not_found", "no conversation with %s", patient);
  else if (rc)
    api_store_error(r, rc);
  else
    http_reply_json(r, 200, team_json(patient, &after));
out:
  json_decref(body);
}

void h_notes_create(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"text", NULL};
  struct api *a = cls;
  struct gw_actor who;
  struct note *n;
  char patient[LB_E164_SIZE], why[200] = "";
  json_t *body, *tv;
  enum lb_err rc;

  if (api_patient_param(a, r, r->params[0], patient))
    return;
  if (!(body = api_json_object(r, fields)))
    return;
  tv = json_object_get(body, "text");
  if (!json_is_string(tv)) {
    http_reply_error(r, 400, "invalid_request",
                     "send {\"text\": \"...\"}: the note, at most %d "
                     "characters",
                     NOTE_TEXT_MAX_CHARS);
    json_decref(body);
    return;
  }
  if (!(n = malloc(sizeof *n))) {
    json_decref(body);
    api_store_error(r, LB_ENOMEM);
    return;
  }
  api_actor(r, &who);
  rc = gw_note_add(a->gw, &who, patient, json_string_value(tv), n, why,
                   sizeof why);
  if (rc == LB_EINVAL)
    http_reply_error(r, 400, "invalid_note", "%s", why);
  else if (rc == LB_ENOTFOUND)
    http_reply_error(r, 404, "not_found", "no conversation with %s", patient);
  else if (rc)
    api_store_error(r, rc);
  else
    http_reply_json(r, 201, gw_note_json(n));
  free(n);
  json_decref(body);
}

static enum lb_err on_note(void *arg, const struct note *n)
{
  return json_array_append_new(arg, gw_note_json(n)) ? LB_ENOMEM : LB_OK;
}

void h_notes_list(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct conv_team t;
  char patient[LB_E164_SIZE];
  json_t *arr;
  enum lb_err rc;

  if (api_patient_param(a, r, r->params[0], patient))
    return;
  rc = store_conversation_team(a->store, a->cfg->number, patient, &t);
  if (rc == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found", "no conversation with %s", patient);
    return;
  }
  if (rc) {
    api_store_error(r, rc);
    return;
  }
  arr = json_array();
  rc = store_notes(a->store, a->cfg->number, patient, NULL, NULL, 200, on_note,
                   arr);
  if (rc) {
    json_decref(arr);
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200, json_pack("{s:o}", "notes", arr));
}

enum lb_err api_thread_notes(struct api *a, const char *patient,
                             const char *after_id, const char *before_id,
                             json_t *arr)
{
  return store_notes(a->store, a->cfg->number, patient, after_id, before_id,
                     200, on_note, arr);
}
