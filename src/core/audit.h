/* The audit log's rows, and the hash that chains them. Pure: no I/O (the
 * store appends rows; `lyrebird audit verify` checks the chain).
 *
 * Each row's hash is SHA-256 over the previous row's hash and its own
 * content, every field length-prefixed, so changing, inserting or
 * deleting any row breaks every hash from there on. The first row's
 * previous hash is 64 zeros.
 *
 * Ownership: plain inline data. */
#ifndef LB_AUDIT_H
#define LB_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/message.h"

#define AUDIT_HASH_HEX 65
#define AUDIT_DETAIL_MAX 1024

struct audit_entry {
  int64_t seq; /* 1, 2, ... */
  char id[LB_ID_SIZE];
  int64_t at;
  char actor_kind[16]; /* user, key, patient, provider, system, cli */
  char actor[96];      /* a username, a key id, "link:<id>", "purge" */
  char action[48];     /* media.viewed, link.viewed, export, signin, ... */
  char patient[LB_E164_SIZE];    /* "" when none */
  char subject[64];              /* what was touched: a media, link, user id */
  char detail[AUDIT_DETAIL_MAX]; /* JSON object text, "" for none */
  char ip[64];
  char prev_hash[AUDIT_HASH_HEX];
  char hash[AUDIT_HASH_HEX];
};

#define AUDIT_GENESIS                                                          \
  "0000000000000000000000000000000000000000000000000000000000000000"

/* The hash e should carry: over e->prev_hash and its content (not
 * e->hash). */
void audit_hash(const struct audit_entry *e, char out[AUDIT_HASH_HEX]);

/* Fills the who/what fields of a new entry (the store sets seq, id, at
 * and the hashes). NULL strings are "". */
void audit_entry_init(struct audit_entry *e, const char *actor_kind,
                      const char *actor, const char *action,
                      const char *patient, const char *subject, const char *ip);

#endif
