/* Request handlers, one group per file. Internal to src/api. */
#ifndef LB_HANDLERS_H
#define LB_HANDLERS_H

#include "api/api.h"
#include "http/server.h"

void h_messages_create(void *cls, struct http_req *r);
void h_messages_get(void *cls, struct http_req *r);
void h_messages_feed(void *cls, struct http_req *r);
/* Retry, and edit and resend (retry.c). */
void h_messages_retry(void *cls, struct http_req *r);
void h_messages_resend(void *cls, struct http_req *r);
/* /api/v1/templates (templates.c). */
void h_templates_list(void *cls, struct http_req *r);
void h_templates_create(void *cls, struct http_req *r);
void h_templates_update(void *cls, struct http_req *r);
void h_templates_delete(void *cls, struct http_req *r);
void h_templates_render(void *cls, struct http_req *r);
void h_conversations_list(void *cls, struct http_req *r);
void h_conversation_messages(void *cls, struct http_req *r);
void h_conversation_read(void *cls, struct http_req *r);
/* team.c */
void h_conversation_update(void *cls, struct http_req *r);
void h_notes_create(void *cls, struct http_req *r);
void h_notes_list(void *cls, struct http_req *r);
/* Appends to arr the patient's notes with after_id < id < before_id (either
 * NULL), oldest first, at most 200. */
enum lb_err api_thread_notes(struct api *a, const char *patient,
                             const char *after_id, const char *before_id,
                             json_t *arr);
void h_media_create(void *cls, struct http_req *r);
void h_media_get(void *cls, struct http_req *r);
/* Replies with the bytes of blob 'key' (503 when unreadable). */
void api_reply_blob(struct api *a, struct http_req *r, const char *key,
                    const char *ctype, int64_t bytes, const char *cache);
void h_media_thumb(void *cls, struct http_req *r);
void h_media_original(void *cls, struct http_req *r);
void h_hook_inbound(void *cls, struct http_req *r);
void h_hook_status(void *cls, struct http_req *r);

void h_patients_update(void *cls, struct http_req *r);
void h_patient_consent(void *cls, struct http_req *r);
/* panel.c */
void h_patient_get(void *cls, struct http_req *r);
void h_conversation_media(void *cls, struct http_req *r);
void h_patient_opt_in(void *cls, struct http_req *r);
void h_patient_opt_out(void *cls, struct http_req *r);
void h_patient_export(void *cls, struct http_req *r);
void h_audit_list(void *cls, struct http_req *r);
void h_openapi(void *cls, struct http_req *r);
/* API keys (keys.c): the server's http_key_fn (cls is the api), and
 * /api/v1/keys. */
int api_key_auth(void *cls, const char *token, struct http_principal *p,
                 char *why, size_t n);
void h_keys_create(void *cls, struct http_req *r);
void h_keys_list(void *cls, struct http_req *r);
void h_keys_revoke(void *cls, struct http_req *r);
/* /api/v1/webhook-endpoints (webhooks.c). */
void h_webhooks_create(void *cls, struct http_req *r);
void h_webhooks_list(void *cls, struct http_req *r);
void h_webhooks_get(void *cls, struct http_req *r);
void h_webhooks_update(void *cls, struct http_req *r);
void h_webhooks_remove(void *cls, struct http_req *r);
void h_webhooks_rotate(void *cls, struct http_req *r);
void h_webhooks_deliveries(void *cls, struct http_req *r);
void h_webhooks_replay(void *cls, struct http_req *r);
void h_webhooks_test(void *cls, struct http_req *r);
/* The pages and /static/ (web.c). */
void web_register(struct api *a);
/* /v/{token} and /api/v1/links (viewer.c). */
void viewer_register(struct api *a);
/* /p/media/... (media_urls.c). */
void media_urls_register(struct api *a);

/* Parses the body as a JSON object whose keys are all in 'fields'
 * (NULL-terminated). Answers 400 itself and returns NULL otherwise. The
 * caller owns the result. */
json_t *api_json_object(struct http_req *r, const char *const *fields);
/* The body of the 409 for a send to a patient who opted out: {"code":
 * "opted_out", "message", "since", "source", "description"}. */
json_t *api_opted_out_json(const struct consent *c, const char *message);
/* An audit row as the API shows it. */
json_t *api_audit_json(const struct audit_entry *e);
/* An RFC 3339 UTC time ("...Z") as Unix ms; *ok 0 when it is not one. */
int64_t api_parse_time(const char *s, int *ok);
/* Who made the request, for the audit log and the consent history. */
void api_actor(const struct http_req *r, struct gw_actor *out);

/* A cursor (the changes feed's, an event's seq): 1 and *out, or 0 when s
 * is not one. */
int api_cursor(const char *s, long long *out);

/* Answers for a store failure (404, 503). */
void api_store_error(struct http_req *r, enum lb_err rc);
/* Parses a patient number from a path segment (E.164 or local form);
 * answers 422 itself and returns the error on failure. */
enum lb_err api_patient_param(struct api *a, struct http_req *r, const char *in,
                              char out[LB_E164_SIZE]);

#endif
