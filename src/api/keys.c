/* /api/v1/keys: scoped API keys (scope admin), and the check of a key on
 * every request. The work is the gateway's (gateway/keys.c), shared with
 * 'lyrebird key'. */
#include <string.h>

#include "api/handlers.h"

int api_key_auth(void *cls, const char *token, struct http_principal *p,
                 char *why, size_t n)
{
  struct api *a = cls;
  struct api_key k;
  unsigned scopes = 0;
  if (!gw_key_check(a->gw, token, &k, &scopes, why, n))
    return 0;
  p->kind = PRINCIPAL_KEY;
  p->scopes = scopes;
  p->admin = (scopes & SCOPE_ADMIN) != 0;
  str_copy(p->key_id, sizeof p->key_id, k.id);
  str_copy(p->key_name, sizeof p->key_name, k.name);
  return 1;
}

/* "scopes": a non-empty array of scope names. Answers 400 itself. */
static enum lb_err scopes_json(struct http_req *r, json_t *v, unsigned *out)
{
  char list[SCOPE_LIST_MAX * 2] = "", bad[72];
  size_t i, used = 0;
  json_t *x;
  if (!json_is_array(v) || !json_array_size(v))
    goto bad;
  json_array_foreach(v, i, x)
  {
    int w;
    if (!json_is_string(x))
      goto bad;
    w = snprintf(list + used, sizeof list - used, "%s%s", used ? "," : "",
                 json_string_value(x));
    if (w < 0 || (size_t)w >= sizeof list - used)
      goto bad;
    used += (size_t)w;
  }
  if (scope_parse(list, out, bad, sizeof bad) == LB_OK)
    return LB_OK;
  {
    char all[SCOPE_LIST_MAX];
    scope_format(SCOPE_ALL, all, sizeof all);
    http_reply_error(r, 400, "invalid_scope",
                     "unknown scope '%s'; the scopes are %s", bad, all);
  }
  return LB_EINVAL;
bad:
  http_reply_error(r, 400, "invalid_request",
                   "'scopes' is required: an array of scope names, such as "
                   "[\"messages:send\", \"media:write\"]");
  return LB_EINVAL;
}

void h_keys_create(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"name", "scopes", "expires_at", NULL};
  struct api *a = cls;
  json_t *body = api_json_object(r, fields), *name, *exp;
  int64_t expires_at = 0;
  int ok = 1;
  char secret[GW_KEY_SECRET_MAX];
  struct gw_actor who;
  struct api_key k;
  unsigned scopes;
  enum lb_err rc;

  if (!body)
    return;
  name = json_object_get(body, "name");
  if (!json_is_string(name) || !json_string_length(name) ||
      json_string_length(name) >= sizeof k.name) {
    http_reply_error(r, 400, "invalid_request",
                     "'name' is required: what the key is for (1 to %zu "
                     "bytes), such as \"clinic app\"",
                     sizeof k.name - 1);
    goto out;
  }
  if (scopes_json(r, json_object_get(body, "scopes"), &scopes))
    goto out;
  exp = json_object_get(body, "expires_at");
  if (exp && !json_is_null(exp))
    expires_at = json_is_string(exp)
                     ? api_parse_time(json_string_value(exp), &ok)
                     : (ok = 0);
  if (!ok) {
    http_reply_error(r, 400, "invalid_request",
                     "'expires_at' is an RFC 3339 time such as "
                     "\"2027-06-30T00:00:00Z\", or null for a key that works "
                     "until revoked");
    goto out;
  }
  api_actor(r, &who);
  if ((rc = gw_key_create(a->gw, &who, json_string_value(name), scopes,
                          expires_at, &k, secret))) {
    if (rc == LB_ETIMEOUT)
      http_reply_error(r, 400, "invalid_request",
                       "'expires_at' is in the past");
    else
      api_store_error(r, rc);
    goto out;
  }
  http_reply_json(r, 201,
                  json_pack("{s:o, s:s}", "key", gw_key_json(&k), "secret",
                            secret));
  memset(secret, 0, sizeof secret);
out:
  json_decref(body);
}

static enum lb_err list_one(void *arg, const struct api_key *k)
{
  return json_array_append_new(arg, gw_key_json(k)) ? LB_ENOMEM : LB_OK;
}

void h_keys_list(void *cls, struct http_req *r)
{
  struct api *a = cls;
  json_t *arr = json_array();
  enum lb_err rc = arr ? store_key_list(a->store, list_one, arr) : LB_ENOMEM;
  if (rc) {
    json_decref(arr);
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200, json_pack("{s:o}", "keys", arr));
}

void h_keys_revoke(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct gw_actor who;
  struct api_key k;
  enum lb_err rc;
  api_actor(r, &who);
  rc = gw_key_revoke(a->gw, &who, r->params[0], &k);
  if (rc == LB_ENOTFOUND)
    http_reply_error(r, 404, "not_found", "no API key '%s'", r->params[0]);
  else if (rc)
    api_store_error(r, rc);
  else
    http_reply_json(r, 200, json_pack("{s:o}", "key", gw_key_json(&k)));
}
