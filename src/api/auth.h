/* Staff sign-in: sessions, the sign-in throttles and the session API.
 * Internal to src/api.
 *
 * Ownership: struct auth belongs to the app (auth_new/auth_free). */
#ifndef LB_AUTH_H
#define LB_AUTH_H

#include "api/api.h"

#define AUTH_COOKIE "lyrebird_session"
/* A session's last_seen_at is written at most this often. */
#define AUTH_TOUCH_MS (60 * 1000)

enum lb_err auth_new(struct api *a, struct auth **out);
void auth_free(struct auth *au);

/* The http_session_fn for the server (cls is the app). */
int auth_session(void *cls, const char *token, int active,
                 struct http_principal *p);

void h_session_create(void *cls, struct http_req *r);
void h_session_get(void *cls, struct http_req *r);
void h_session_delete(void *cls, struct http_req *r);
void h_users_list(void *cls, struct http_req *r);
void h_users_create(void *cls, struct http_req *r);
void h_users_update(void *cls, struct http_req *r);
void h_settings_get(void *cls, struct http_req *r);

#endif
