/* Images: cleaning what comes in and fitting what goes out, with libvips.
 *
 *   image_clean()     any accepted upload -> upright, metadata-free, and in
 *                     a type every browser shows (HEIC and WebP to JPEG)
 *   image_thumbnail() the inbox's small JPEG
 *   image_fit()       a JPEG within an MMS byte budget, or LB_ETOOBIG
 *
 * Every function reads the header first and refuses an image over
 * 'max_pixels' (width x height x frames) before decoding it, so a
 * decompression bomb costs a header parse, not its pixels. The decoder is
 * chosen from the type libmagic sniffed (never vips's own guess), so only
 * the allow-listed codecs ever see untrusted bytes.
 *
 * Ownership: an image_out owns its 'data' (allocated by glib); release it
 * with image_out_release(). Inputs are borrowed. Thread-safe: call
 * image_init() once before any other thread uses these. */
#ifndef LB_IMAGE_H
#define LB_IMAGE_H

#include <stddef.h>

/* Starts libvips (once; later calls do nothing). Call it from the main
 * thread before other threads use images. image_shutdown() at exit. */
enum lb_err image_init(const char *argv0);
void image_shutdown(void);

/* 1 for the types image_clean() takes: JPEG, PNG, GIF, WebP, HEIC/HEIF. */
int image_type_supported(const char *ctype);

struct image_out {
  void *data;
  size_t len;
  char content_type[32]; /* "image/jpeg", "image/png" or "image/gif" */
  int width, height;
  int quality; /* JPEG quality used; 0 for PNG and GIF */
  int encodes; /* encodes it took (image_fit) */
};

void image_out_release(struct image_out *o);

/* Auto-rotates by the EXIF orientation, converts to sRGB, drops every
 * metadata block (EXIF with GPS, XMP, IPTC, ICC, embedded thumbnails) and
 * re-encodes: JPEG, HEIC/HEIF and opaque WebP as JPEG (quality 90), PNG
 * and WebP with transparency as PNG, GIF as GIF (all frames). LB_ETOOBIG
 * (over max_pixels) or LB_EMEDIATYPE (cannot be decoded as its type) with
 * 'why' set for people. */
enum lb_err image_clean(const void *data, size_t len, const char *ctype,
                        long max_pixels, struct image_out *out, char *why,
                        size_t whylen);

/* A JPEG thumbnail, longest side 'px' (never enlarged), transparency
 * flattened on white. */
int image_thumbnail(const void *data, size_t len, const char *ctype,
                    long max_pixels, int px, struct image_out *out);

struct fit_params {
  size_t max_bytes;
  int max_dim;     /* longest side */
  int min_quality; /* below this the fit fails */
  int min_dim;     /* the fit shrinks no further than this longest side */
  long max_pixels;
};

/* A JPEG within max_bytes at the highest quality it can find in a few
 * encodes: shrink to max_dim (decoding at reduced size where the codec
 * can), then search the quality between min_quality and 95 (4:2:0
 * chroma throughout); if even
 * min_quality is too large, shrink further, down to min_dim. LB_ETOOBIG
 * with 'why' when no variant fits. */
int image_fit(const void *data, size_t len, const char *ctype,
              const struct fit_params *p, struct image_out *out, char *why,
              size_t whylen);

#endif
