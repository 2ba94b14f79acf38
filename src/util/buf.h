/* A bounded, growable byte buffer.
 *
 * Every buffer has a hard cap ('max') fixed at init; an append that would
 * pass it fails with LB_ETOOBIG and leaves the buffer as it was. The data is
 * always NUL-terminated (the NUL is not counted in len), so text can be read
 * as a C string. The buffer owns 'data'; buf_release() frees it, buf_steal()
 * hands it to the caller. */
#ifndef LB_BUF_H
#define LB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
  char *data;
  size_t len;
  size_t cap;
  size_t max;
};

void buf_init(struct buf *b, size_t max);
enum lb_err buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum lb_err buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);
/* Returns the data (NUL-terminated, possibly NULL if empty) and leaves the
 * buffer empty; the caller frees the result. */
char *buf_steal(struct buf *b, size_t *len);
void buf_release(struct buf *b);

#endif
