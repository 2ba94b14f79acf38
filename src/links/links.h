/* Secure links to images: for a message that goes as "SMS + link", the
 * link row, its token and the SMS text that carries it.
 *
 * The token is HMAC-SHA256([links] secret, "lyrebird-link:" + link id),
 * base64url: 256 bits that only this gateway can compute. Deriving it (and
 * not storing it) means a resend after a timeout carries the same link, the
 * database holds only its SHA-256, and no log or table ever has the token.
 * Rotating [links] secret ends every link.
 *
 * Ownership: everything is borrowed; outputs are the caller's buffers. The
 * store and the configuration ([links], [clinic] name, [server]
 * public_url) are all these need. */
#ifndef LB_LINKS_H
#define LB_LINKS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/message.h"
#include "store/store.h"
#include "util/err.h"

#define LINK_TOKEN_MAX 64
#define LINK_GRANT_MINUTES 10

enum lb_err links_token(const char *secret, const char *link_id,
                        char out[LINK_TOKEN_MAX]);
/* A link's own settings; the clinic's are [links] expiry_days, max_views
 * and check. */
struct link_options {
  int expiry_days;
  int max_views; /* 0: no limit */
  char check[8]; /* none, dob, code */
};
void links_defaults(const struct config *c, struct link_options *o);
/* Fills in (does not store) the link for a message to 'patient'.
 * LB_ENOTFOUND (with 'why') when the check needs a date of birth the
 * patient does not have on file. */
enum lb_err links_make(struct store *s, const struct config *c,
                       const char *message_id, const char *patient,
                       const struct link_options *o, struct link *out,
                       char *why, size_t whylen);
/* The link for outbound message m (made on first use, with the clinic's
 * defaults) and the SMS text to send: m's own text, then the [links]
 * template with {clinic}, {expires} and {link}. LB_ENOTFOUND (with 'why')
 * when the link cannot be made as configured: the second check needs a
 * date of birth the patient does not have on file. */
enum lb_err links_prepare(struct store *s, const struct config *c,
                          const struct message *m, char *text, size_t n,
                          char *why, size_t whylen);
/* The stored form of the answer to link 'id''s check (a date of birth
 * "YYYY-MM-DD", or a 6-digit code): SHA-256 hex of "<id>:<answer>". The
 * lockout, not the hash, is what stops guessing. */
void links_answer_hash(const char *id, const char *answer, char out[65]);
/* A grant to fetch a link's images for LINK_GRANT_MINUTES after a view:
 * hex HMAC over the link id and the expiry (unix seconds). */
void links_grant(const char *secret, const char *link_id, long long exp,
                 char out[65]);

#endif
