#include "core/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/crypto.h"

static void part(struct buf *b, const char *s)
{
  buf_printf(b, "%zu:", strlen(s));
  buf_puts(b, s);
  buf_puts(b, "\n");
}

void audit_hash(const struct audit_entry *e, char out[AUDIT_HASH_HEX])
{
  struct buf b;
  char num[32];
  buf_init(&b, 8192);
  part(&b, e->prev_hash);
  snprintf(num, sizeof num, "%" PRId64, e->seq);
  part(&b, num);
  part(&b, e->id);
  snprintf(num, sizeof num, "%" PRId64, e->at);
  part(&b, num);
  part(&b, e->actor_kind);
  part(&b, e->actor);
  part(&b, e->action);
  part(&b, e->patient);
  part(&b, e->subject);
  part(&b, e->detail);
  part(&b, e->ip);
  crypto_sha256_hex(b.data ? b.data : "", b.len, out);
  buf_release(&b);
}

void audit_entry_init(struct audit_entry *e, const char *actor_kind,
                      const char *actor, const char *action,
                      const char *patient, const char *subject, const char *ip)
{
  memset(e, 0, sizeof *e);
  str_copy(e->actor_kind, sizeof e->actor_kind, actor_kind);
  str_copy(e->actor, sizeof e->actor, actor);
  str_copy(e->action, sizeof e->action, action);
  str_copy(e->patient, sizeof e->patient, patient);
  str_copy(e->subject, sizeof e->subject, subject);
  str_copy(e->ip, sizeof e->ip, ip);
}
