#include "links/links.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/patient.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"

enum lb_err links_token(const char *secret, const char *link_id,
                        char out[LINK_TOKEN_MAX])
{
  unsigned char mac[LB_SHA256_LEN];
  struct crypto_part parts[2] = {{"lyrebird-link:", 14},
                                 {link_id, strlen(link_id)}};
  if (crypto_hmac_sha256_parts(secret, strlen(secret), parts, 2, mac))
    return LB_EINVAL;
  sodium_bin2base64(out, LINK_TOKEN_MAX, mac, sizeof mac,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(mac, sizeof mac);
  return LB_OK;
}

void links_grant(const char *secret, const char *link_id, long long exp,
                 char out[65])
{
  unsigned char mac[LB_SHA256_LEN];
  char e[24];
  struct crypto_part parts[4] = {
      {"lyrebird-grant:", 15}, {link_id, strlen(link_id)}, {":", 1}, {e, 0}};
  snprintf(e, sizeof e, "%lld", exp);
  parts[3].len = strlen(e);
  crypto_hmac_sha256_parts(secret, strlen(secret), parts, 4, mac);
  crypto_hex(mac, sizeof mac, out);
}

/* Replaces each {name} of the template; unknown names stay as they are. */
static void render(const char *tpl, const char *clinic, const char *expires,
                   const char *url, char *out, size_t n)
{
  size_t j = 0;
  while (*tpl && j + 1 < n) {
    const char *v = NULL;
    size_t skip = 0;
    if (strncmp(tpl, "{clinic}", 8) == 0)
      v = clinic, skip = 8;
    else if (strncmp(tpl, "{expires}", 9) == 0)
      v = expires, skip = 9;
    else if (strncmp(tpl, "{link}", 6) == 0)
      v = url, skip = 6;
    if (v) {
      j += (size_t)snprintf(out + j, n - j, "%s", v);
      if (j >= n)
        j = n - 1;
      tpl += skip;
    } else {
      out[j++] = *tpl++;
    }
  }
  out[j] = '\0';
}

void links_answer_hash(const char *id, const char *answer, char out[65])
{
  char in[LB_ID_SIZE + LB_DOB_SIZE + 2];
  snprintf(in, sizeof in, "%s:%s", id, answer);
  crypto_sha256_hex(in, strlen(in), out);
  sodium_memzero(in, sizeof in);
}

void links_defaults(const struct config *c, struct link_options *o)
{
  o->expiry_days = c->link_expiry_days;
  o->max_views = c->link_max_views;
  snprintf(o->check, sizeof o->check, "%s", c->link_check);
}

enum lb_err links_make(struct store *s, const struct config *c,
                       const char *message_id, const char *patient,
                       const struct link_options *o, struct link *out,
                       char *why, size_t whylen)
{
  char token[LINK_TOKEN_MAX];
  struct link *l = out;
  enum lb_err rc;
  memset(l, 0, sizeof *l);
  id_new(l->id);
  snprintf(l->message_id, sizeof l->message_id, "%s", message_id);
  snprintf(l->patient, sizeof l->patient, "%s", patient);
  l->created_at = clock_now_ms();
  l->expires_at = l->created_at + (int64_t)o->expiry_days * 86400000;
  l->max_views = o->max_views;
  snprintf(l->check, sizeof l->check, "%s", o->check);
  if (strcmp(l->check, "dob") == 0) {
    char dob[LB_DOB_SIZE];
    if (store_patient_dob(s, patient, dob) != LB_OK) {
      snprintf(why, whylen,
               "image links ask for the patient's date of birth, and %s has "
               "none on file; add it to the patient and send again",
               patient);
      return LB_ENOTFOUND;
    }
    links_answer_hash(l->id, dob, l->check_hash);
    sodium_memzero(dob, sizeof dob);
  }
  if ((rc = links_token(c->link_secret, l->id, token)))
    return rc;
  crypto_sha256_hex(token, strlen(token), l->token_hash);
  sodium_memzero(token, sizeof token);
  return LB_OK;
}

enum lb_err links_prepare(struct store *s, const struct config *c,
                          const struct message *m, char *text, size_t n,
                          char *why, size_t whylen)
{
  char token[LINK_TOKEN_MAX], url[600], when[32], msg[480];
  struct link l;
  struct tm tm;
  time_t t;
  enum lb_err rc = store_link_of_message(s, m->id, &l);

  if (rc == LB_ENOTFOUND) {
    struct link_options defaults;
    links_defaults(c, &defaults);
    /* Made here for a message that became a link on the way (an MMS the
     * host refused); a message routed as a link brought its own. */
    if ((rc = links_make(s, c, m->id, m->to, &defaults, &l, why, whylen)) ||
        (rc = store_link_add(s, &l)))
      return rc;
  } else if (rc) {
    return rc;
  }
  if ((rc = links_token(c->link_secret, l.id, token)))
    return rc;
  snprintf(url, sizeof url, "%s/v/%s", c->public_url, token);
  /* The process runs in the clinic's time zone (gw_open sets TZ). */
  t = (time_t)(l.expires_at / 1000);
  localtime_r(&t, &tm);
  strftime(when, sizeof when, "%e %b", &tm);
  render(c->link_template, c->clinic_name, when[0] == ' ' ? when + 1 : when,
         url, msg, sizeof msg);
  if (m->text && m->text[0])
    snprintf(text, n, "%s\n\n%s", m->text, msg);
  else
    snprintf(text, n, "%s", msg);
  sodium_memzero(token, sizeof token);
  sodium_memzero(url, sizeof url);
  return LB_OK;
}
