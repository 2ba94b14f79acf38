/* POST /api/v1/messages/{id}/retry and /resend: a failed message sent
 * again (scope messages:send). Thin handlers over gateway/retry.c. */
#include <string.h>

#include "api/handlers.h"

/* The answer to a refusal of gw_message_retry or gw_message_resend. */
static void refused(struct http_req *r, enum lb_err rc,
                    const struct gw_refusal *why)
{
  if (strcmp(why->code, "opted_out") == 0) {
    snprintf(r->error_code, sizeof r->error_code, "opted_out");
    http_reply_json(r, 409,
                    json_pack("{s:o}", "error",
                              api_opted_out_json(&why->consent, why->message)));
  } else if (strcmp(why->code, "not_found") == 0) {
    http_reply_error(r, 404, "not_found", "no message with id '%s'",
                     r->params[0]);
  } else if (strcmp(why->code, "not_retryable") == 0) {
    http_reply_error(r, 409, "not_retryable", "%s", why->message);
  } else if (strcmp(why->code, "invalid_request") == 0) {
    http_reply_error(r, 400, "invalid_request", "%s", why->message);
  } else if (why->code[0]) {
    http_reply_error(r, 422, why->code, "%s", why->message);
  } else {
    api_store_error(r, rc);
  }
}

void h_messages_retry(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct gw_actor who;
  struct gw_refusal why;
  struct message m;
  enum lb_err rc;

  if (!id_valid(r->params[0])) {
    http_reply_error(r, 404, "not_found", "no message with id '%s'",
                     r->params[0]);
    return;
  }
  if (r->body.len) {
    http_reply_error(r, 400, "invalid_request",
                     "a retry takes no body: it sends the message as it was");
    return;
  }
  api_actor(r, &who);
  rc = gw_message_retry(a->gw, r->params[0], &who, &m, &why);
  if (rc)
    refused(r, rc, &why);
  else
    http_reply_json(r, 202, gw_message_json(a->gw, &m, 1));
  message_release(&m);
}

void h_messages_resend(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"text", NULL};
  struct api *a = cls;
  struct gw_actor who;
  struct gw_refusal why;
  struct message m;
  json_t *body, *text;
  enum lb_err rc;

  message_init(&m);
  if (!id_valid(r->params[0])) {
    http_reply_error(r, 404, "not_found", "no message with id '%s'",
                     r->params[0]);
    return;
  }
  if (!(body = api_json_object(r, fields)))
    return;
  text = json_object_get(body, "text");
  if (!json_is_string(text)) {
    http_reply_error(r, 400, "invalid_request",
                     "'text' is required: the edited text to send (\"\" for "
                     "the media alone)");
    goto out;
  }
  api_actor(r, &who);
  rc = gw_message_resend(a->gw, r->params[0], json_string_value(text),
                         json_string_length(text), &who, &m, &why);
  if (rc)
    refused(r, rc, &why);
  else
    http_reply_json(r, 202, gw_message_json(a->gw, &m, 0));
out:
  message_release(&m);
  json_decref(body);
}
