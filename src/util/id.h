/* Sortable unique ids: 48-bit milliseconds then 80 random bits (libsodium),
 * in Crockford base32, 26 characters (the ULID layout). Ids made by one
 * process sort in creation order, even within one millisecond. Optionally
 * prefixed ("msg_", "med_") by callers; the id itself has no prefix. */
#ifndef LB_ID_H
#define LB_ID_H

#include <stddef.h>
#include <stdint.h>

#define LB_ID_LEN 26
#define LB_ID_SIZE (LB_ID_LEN + 1)

void id_new(char out[LB_ID_SIZE]);
/* Same, with a caller-chosen time (tests). */
void id_new_at(char out[LB_ID_SIZE], int64_t ms);
/* 1 if s is exactly 26 Crockford base32 characters. */
int id_valid(const char *s);

#endif
