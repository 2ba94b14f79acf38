/* Request handlers, one group per file. Internal to src/api. */
#ifndef LB_HANDLERS_H
#define LB_HANDLERS_H

#include "api/api.h"
#include "http/server.h"

void h_messages_create(void *cls, struct http_req *r);
void h_messages_get(void *cls, struct http_req *r);
void h_conversations_list(void *cls, struct http_req *r);
void h_conversation_messages(void *cls, struct http_req *r);
void h_conversation_read(void *cls, struct http_req *r);
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
/* Answers for a store failure (404, 503). */
void api_store_error(struct http_req *r, enum lb_err rc);
/* Parses a patient number from a path segment (E.164 or local form);
 * answers 422 itself and returns the error on failure. */
enum lb_err api_patient_param(struct api *a, struct http_req *r, const char *in,
                              char out[LB_E164_SIZE]);

#endif
