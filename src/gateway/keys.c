/* Scoped API keys: made by 'lyrebird key create' and POST /api/v1/keys
 * alike, checked on every request.
 *
 * A key reads "lb_<prefix>_<secret>": the prefix is 8 hex characters (32
 * random bits) that people see in lists and that finds the row; the
 * secret is 32 URL-safe characters (192 random bits). Only the SHA-256 of
 * the whole key is stored, compared in constant time. A check reads the
 * row every time -- no cache -- so a revocation holds at once, on every
 * thread and every node. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "gateway/internal.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/id.h"

#define PREFIX_HEX 8
#define TOUCH_MS 60000 /* last_used_at is written at most this often */

static void key_hash(const char *key, char out[LB_SHA256_HEX])
{
  crypto_sha256_hex(key, strlen(key), out);
}

enum lb_err gw_key_create(struct gateway *gw, const struct gw_actor *who,
                          const char *name, unsigned scopes,
                          int64_t expires_at, struct api_key *out,
                          char secret[GW_KEY_SECRET_MAX])
{
  unsigned char raw[PREFIX_HEX / 2];
  char prefix[PREFIX_HEX + 1], tail[48], id[LB_ID_SIZE];
  json_t *d;
  enum lb_err rc;

  memset(out, 0, sizeof *out);
  if (!name || !*name || strlen(name) >= sizeof out->name)
    return LB_EINVAL;
  crypto_token(tail, sizeof tail, 24);
  for (int tries = 0;; tries++) { /* unique; a clash is 1 in 4 billion */
    struct api_key other;
    randombytes_buf(raw, sizeof raw);
    crypto_hex(raw, sizeof raw, prefix);
    rc = store_key_by_prefix(gw->store, prefix, &other);
    if (rc == LB_ENOTFOUND)
      break;
    if (rc != LB_OK || tries == 8)
      return rc ? rc : LB_ECONFLICT;
  }
  snprintf(secret, GW_KEY_SECRET_MAX, "lb_%s_%s", prefix, tail);
  id_new(id);
  snprintf(out->id, sizeof out->id, "key_%s", id);
  str_copy(out->name, sizeof out->name, name);
  str_copy(out->prefix, sizeof out->prefix, prefix);
  key_hash(secret, out->sha256);
  scope_format(scopes, out->scopes, sizeof out->scopes);
  str_copy(out->created_by, sizeof out->created_by,
           who && who->name ? who->name : "");
  out->created_at = clock_now_ms();
  if (expires_at && expires_at <= out->created_at)
    return LB_ETIMEOUT;
  out->expires_at = expires_at;
  if ((rc = store_key_add(gw->store, out)))
    return rc;
  d = json_pack("{s:s, s:s, s:s}", "name", out->name, "prefix", out->prefix,
                "scopes", out->scopes);
  gw_audit(gw, who, "key.created", NULL, out->id, d);
  json_decref(d);
  return LB_OK;
}

enum lb_err gw_key_revoke(struct gateway *gw, const struct gw_actor *who,
                          const char *id, struct api_key *out)
{
  enum lb_err rc;
  json_t *d;
  if ((rc = store_key_revoke(gw->store, id, clock_now_ms())) ||
      (rc = store_key_get(gw->store, id, out)))
    return rc;
  d = json_pack("{s:s, s:s}", "name", out->name, "prefix", out->prefix);
  gw_audit(gw, who, "key.revoked", NULL, out->id, d);
  json_decref(d);
  return LB_OK;
}

int gw_key_check(struct gateway *gw, const char *token, struct api_key *out,
                 unsigned *scopes, char *why, size_t n)
{
  char prefix[PREFIX_HEX + 1], hash[LB_SHA256_HEX];
  enum lb_err rc;

  memset(out, 0, sizeof *out);
  if (gw->cfg->api_key[0] && crypto_streq(token, gw->cfg->api_key)) {
    str_copy(out->name, sizeof out->name, "[api] key");
    *scopes = SCOPE_ALL;
    return 1;
  }
  if (strncmp(token, "lb_", 3) != 0 || strlen(token) < 3 + PREFIX_HEX + 2 ||
      token[3 + PREFIX_HEX] != '_' ||
      strspn(token + 3, "0123456789abcdef") != PREFIX_HEX) {
    snprintf(why, n, "not an API key: send 'Authorization: Bearer lb_...' "
                     "with a key from 'lyrebird key create'");
    return 0;
  }
  memcpy(prefix, token + 3, PREFIX_HEX);
  prefix[PREFIX_HEX] = '\0';
  rc = store_key_by_prefix(gw->store, prefix, out);
  key_hash(token, hash);
  /* Compared whether or not the prefix was found, so the time says
   * nothing about which prefixes exist. */
  if (!crypto_streq(hash, rc == LB_OK ? out->sha256 : "")) {
    snprintf(why, n, rc == LB_OK || rc == LB_ENOTFOUND
                         ? "unknown API key"
                         : "the key could not be checked; try again");
    return 0;
  }
  if (out->revoked_at) {
    char t[LB_ISO8601_LEN];
    clock_iso8601(out->revoked_at, t, sizeof t);
    snprintf(why, n, "this API key (%s, lb_%s_...) was revoked at %s",
             out->name, out->prefix, t);
    return 0;
  }
  if (out->expires_at && clock_now_ms() >= out->expires_at) {
    char t[LB_ISO8601_LEN];
    clock_iso8601(out->expires_at, t, sizeof t);
    snprintf(why, n, "this API key (%s, lb_%s_...) expired at %s", out->name,
             out->prefix, t);
    return 0;
  }
  if (scope_parse(out->scopes, scopes, NULL, 0))
    *scopes = 0;
  if (clock_now_ms() - out->last_used_at >= TOUCH_MS)
    store_key_touch(gw->store, out->id, clock_now_ms());
  return 1;
}

json_t *gw_key_json(const struct api_key *k)
{
  char t[LB_ISO8601_LEN];
  json_t *scopes = json_array(), *o;
  const char *p = k->scopes;
  while (scopes && p && *p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    json_array_append_new(scopes, json_stringn(p, len));
    p = end ? end + 1 : NULL;
  }
  clock_iso8601(k->created_at, t, sizeof t);
  o = json_pack("{s:s, s:s, s:o, s:s, s:s, s:o}", "id", k->id, "name",
                k->name, "scopes", scopes, "prefix", k->prefix, "created_at",
                t, "created_by",
                k->created_by[0] ? json_string(k->created_by) : json_null());
  if (!o)
    return NULL;
  if (k->last_used_at) {
    clock_iso8601(k->last_used_at, t, sizeof t);
    json_object_set_new(o, "last_used_at", json_string(t));
  } else {
    json_object_set_new(o, "last_used_at", json_null());
  }
  if (k->revoked_at) {
    clock_iso8601(k->revoked_at, t, sizeof t);
    json_object_set_new(o, "revoked_at", json_string(t));
  } else {
    json_object_set_new(o, "revoked_at", json_null());
  }
  if (k->expires_at) {
    clock_iso8601(k->expires_at, t, sizeof t);
    json_object_set_new(o, "expires_at", json_string(t));
  } else {
    json_object_set_new(o, "expires_at", json_null());
  }
  return o;
}
