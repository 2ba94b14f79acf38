/* Password hashing with Argon2id (libsodium crypto_pwhash_str, the
 * "interactive" limits: 2 passes over 64 MiB). The hash string carries its
 * own salt and parameters, so stronger limits later still verify old
 * hashes. */
#ifndef LB_PASSWORD_H
#define LB_PASSWORD_H

#include <stddef.h>

/* Room for one hash string with its NUL (crypto_pwhash_STRBYTES; checked
 * in password.c). Callers own the buffers: struct user keeps one, and so
 * do the image-link checks in the store. */
#define LB_PWHASH_MAX 128

/* Fills out (LB_PWHASH_MAX bytes). LB_OK or LB_ENOMEM. */
enum lb_err password_hash(const char *password, char out[LB_PWHASH_MAX]);
/* LB_OK when password matches hash, LB_EAUTH when not (or the hash is
 * malformed). Takes about as long either way. */
enum lb_err password_verify(const char *hash, const char *password);
/* 1 if the hash was made with weaker limits than today's. */
int password_needs_rehash(const char *hash);

#endif
