#include "media/image.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <vips/vips.h>

#include "util/err.h"
#include "util/log.h"

/* Quality for cleaned JPEGs and thumbnails: high enough that cleaning
 * never visibly costs detail; the MMS fit searches its own. */
#define CLEAN_QUALITY 90
#define THUMB_QUALITY 75
#define FIT_MAX_QUALITY 95
#define FIT_MAX_ENCODES 8

enum kind { K_NONE, K_JPEG, K_PNG, K_GIF, K_WEBP, K_HEIF };

static enum kind kind_of(const char *ctype)
{
  static const struct {
    const char *t;
    enum kind k;
  } m[] = {{"image/jpeg", K_JPEG}, {"image/png", K_PNG},
           {"image/gif", K_GIF},   {"image/webp", K_WEBP},
           {"image/heic", K_HEIF}, {"image/heif", K_HEIF}};
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    if (strcmp(ctype, m[i].t) == 0)
      return m[i].k;
  return K_NONE;
}

int image_type_supported(const char *ctype)
{
  return kind_of(ctype) != K_NONE;
}

static int started;

/* libvips's own warnings (a truncated upload, a bad profile) go to our log
 * as one JSON line each, not as free text on stderr. */
static void on_vips_log(const gchar *domain, GLogLevelFlags level,
                        const gchar *msg, gpointer data)
{
  (void)data;
  (void)level;
  log_info("media.vips", "%s: %.200s", domain ? domain : "vips",
           msg ? msg : "");
}

enum lb_err image_init(const char *argv0)
{
  if (started)
    return LB_OK;
  if (VIPS_INIT(argv0 ? argv0 : "lyrebird")) {
    log_error("media.vips", "libvips would not start: %s", vips_error_buffer());
    vips_error_clear();
    return LB_EIO;
  }
  /* The operation cache would keep decoded uploads alive between
   * requests; every image here is used once. */
  vips_cache_set_max(0);
  g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE,
                    on_vips_log, NULL);
  started = 1;
  return LB_OK;
}

void image_shutdown(void)
{
  if (started)
    vips_shutdown();
  started = 0;
}

void image_out_release(struct image_out *o)
{
  if (o && o->data)
    g_free(o->data);
  if (o)
    memset(o, 0, sizeof *o);
}

static void vips_why(char *why, size_t whylen, const char *what)
{
  const char *e = vips_error_buffer();
  size_t n = strcspn(e, "\n");
  if (why && whylen)
    snprintf(why, whylen, "%s%s%.*s", what, n ? ": " : "",
             (int)(n > 160 ? 160 : n), e);
  vips_error_clear();
}

/* Opens the image with the decoder for its sniffed type, reading only the
 * header. 'shrink' (1, 2, 4 or 8) asks a JPEG decoder for a reduced size;
 * all_frames loads every GIF frame. */
static int load(const void *data, size_t len, enum kind k, int shrink,
                int all_frames, VipsImage **out)
{
  void *buf = (void *)data; /* vips takes a non-const pointer; it never
                               writes through it */
  int r = -1;
  switch (k) {
  case K_JPEG:
    r = shrink > 1 ? vips_jpegload_buffer(buf, len, out, "shrink", shrink, NULL)
                   : vips_jpegload_buffer(buf, len, out, NULL);
    break;
  case K_PNG:
    r = vips_pngload_buffer(buf, len, out, NULL);
    break;
  case K_GIF:
    r = all_frames ? vips_gifload_buffer(buf, len, out, "n", -1, NULL)
                   : vips_gifload_buffer(buf, len, out, NULL);
    break;
  case K_WEBP:
    r = vips_webpload_buffer(buf, len, out, NULL);
    break;
  case K_HEIF:
    r = vips_heifload_buffer(buf, len, out, NULL);
    break;
  case K_NONE:
    break;
  }
  return r == 0 ? LB_OK : LB_EMEDIATYPE;
}

/* Opens the header and checks the pixel cap. */
static enum lb_err open_checked(const void *data, size_t len, const char *ctype,
                                long max_pixels, int all_frames,
                                VipsImage **out, char *why, size_t whylen)
{
  enum kind k = kind_of(ctype);
  VipsImage *img = NULL;
  double px;
  *out = NULL;
  if (k == K_NONE) {
    snprintf(why, whylen, "%s is not an image type lyrebird reads", ctype);
    return LB_EMEDIATYPE;
  }
  if (load(data, len, k, 1, all_frames, &img)) {
    vips_why(why, whylen, "the image could not be read");
    return LB_EMEDIATYPE;
  }
  px = (double)img->Xsize * (double)img->Ysize;
  if (max_pixels > 0 && px > (double)max_pixels) {
    snprintf(why, whylen,
             "the image is %dx%d pixels (%.0f megapixels); the limit is %.0f "
             "megapixels",
             img->Xsize, img->Ysize, px / 1e6, (double)max_pixels / 1e6);
    g_object_unref(img);
    return LB_ETOOBIG;
  }
  *out = img;
  return LB_OK;
}

/* Replaces *img with op's result, consuming the old one. */
#define STEP(img, call)                                                        \
  do {                                                                         \
    VipsImage *t_ = NULL;                                                      \
    if (call) {                                                                \
      g_object_unref(*(img));                                                  \
      *(img) = NULL;                                                           \
      return LB_EMEDIATYPE;                                                    \
    }                                                                          \
    g_object_unref(*(img));                                                    \
    *(img) = t_;                                                               \
  } while (0)

/* Upright, 8-bit sRGB (or 8-bit grey), with an alpha band only when
 * keep_alpha (else flattened on white). */
static enum lb_err to_display(VipsImage **img, int keep_alpha)
{
  VipsInterpretation in = vips_image_guess_interpretation(*img);
  STEP(img, vips_autorot(*img, &t_, NULL));
  if (vips_image_get_typeof(*img, VIPS_META_ICC_NAME) &&
      in != VIPS_INTERPRETATION_B_W && in != VIPS_INTERPRETATION_GREY16) {
    VipsImage *t = NULL;
    if (vips_icc_transform(*img, &t, "srgb", "embedded", TRUE, "intent",
                           VIPS_INTENT_PERCEPTUAL, NULL) == 0) {
      g_object_unref(*img);
      *img = t;
    } else {
      vips_error_clear(); /* a broken profile: read the pixels as sRGB */
    }
  }
  in = vips_image_guess_interpretation(*img);
  if (in == VIPS_INTERPRETATION_B_W || in == VIPS_INTERPRETATION_GREY16) {
    if (in == VIPS_INTERPRETATION_GREY16 ||
        (*img)->BandFmt != VIPS_FORMAT_UCHAR)
      STEP(img, vips_colourspace(*img, &t_, VIPS_INTERPRETATION_B_W, NULL));
  } else if (in != VIPS_INTERPRETATION_sRGB ||
             (*img)->BandFmt != VIPS_FORMAT_UCHAR) {
    STEP(img, vips_colourspace(*img, &t_, VIPS_INTERPRETATION_sRGB, NULL));
  }
  if (vips_image_hasalpha(*img) && !keep_alpha) {
    VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
    VipsImage *t = NULL;
    int r = vips_flatten(*img, &t, "background", white, NULL);
    vips_area_unref(VIPS_AREA(white));
    g_object_unref(*img);
    *img = t;
    if (r)
      return LB_EMEDIATYPE;
  }
  if ((*img)->BandFmt != VIPS_FORMAT_UCHAR)
    STEP(img, vips_cast(*img, &t_, VIPS_FORMAT_UCHAR, NULL));
  return LB_OK;
}

/* subsample: 4:2:0 chroma at every quality (an MMS wants bytes spent on
 * detail); otherwise libvips's default, which stops subsampling at 90. */
static enum lb_err save_jpeg_as(VipsImage *img, int q, int subsample,
                                struct image_out *out)
{
  void *b = NULL;
  size_t n = 0;
  if (vips_jpegsave_buffer(img, &b, &n, "Q", q, "strip", TRUE,
                           "optimize_coding", TRUE, "subsample_mode",
                           subsample ? VIPS_FOREIGN_SUBSAMPLE_ON
                                     : VIPS_FOREIGN_SUBSAMPLE_AUTO,
                           NULL))
    return LB_EIO;
  out->data = b;
  out->len = n;
  snprintf(out->content_type, sizeof out->content_type, "image/jpeg");
  out->width = img->Xsize;
  out->height = vips_image_get_page_height(img);
  out->quality = q;
  return LB_OK;
}

static int save_jpeg(VipsImage *img, int q, struct image_out *out)
{
  return save_jpeg_as(img, q, 0, out);
}

enum lb_err image_clean(const void *data, size_t len, const char *ctype,
                        long max_pixels, struct image_out *out, char *why,
                        size_t whylen)
{
  enum kind k = kind_of(ctype);
  VipsImage *img = NULL;
  void *b = NULL;
  size_t n = 0;
  int rc, alpha, r;

  memset(out, 0, sizeof *out);
  if ((rc = open_checked(data, len, ctype, max_pixels, k == K_GIF, &img, why,
                         whylen)))
    return rc;
  alpha = vips_image_hasalpha(img);
  /* PNG stays PNG (diagrams stay sharp), GIF stays GIF (it may move);
   * a transparent WebP becomes PNG; the rest JPEG. */
  if (k == K_GIF) {
    /* Frames keep their layout: no rotation (GIF has no orientation). */
    r = vips_gifsave_buffer(img, &b, &n, "strip", TRUE, NULL);
    if (r == 0) {
      out->width = img->Xsize;
      out->height = vips_image_get_page_height(img);
      snprintf(out->content_type, sizeof out->content_type, "image/gif");
    }
  } else if ((rc = to_display(&img, k == K_PNG || (k == K_WEBP && alpha)))) {
    vips_why(why, whylen, "the image could not be decoded");
    return rc;
  } else if (k == K_PNG || (k == K_WEBP && alpha)) {
    r = vips_pngsave_buffer(img, &b, &n, "strip", TRUE, "compression", 6, NULL);
    if (r == 0) {
      out->width = img->Xsize;
      out->height = img->Ysize;
      snprintf(out->content_type, sizeof out->content_type, "image/png");
    }
  } else {
    r = save_jpeg(img, CLEAN_QUALITY, out);
  }
  g_object_unref(img);
  if (r) {
    vips_why(why, whylen, "the image could not be decoded");
    image_out_release(out);
    return LB_EMEDIATYPE;
  }
  if (b) {
    out->data = b;
    out->len = n;
  }
  out->encodes = 1;
  return LB_OK;
}

/* Opens at a size whose longest side is about 'target' (never enlarged):
 * JPEGs are decoded at 1/2, 1/4 or 1/8 where that stays above the target,
 * then everything is resized with Lanczos. The result is upright, 8-bit,
 * alpha flattened, and rendered to memory for repeated encodes. */
static enum lb_err open_scaled(const void *data, size_t len, const char *ctype,
                               long max_pixels, int target, VipsImage **out,
                               char *why, size_t whylen)
{
  enum kind k = kind_of(ctype);
  VipsImage *img = NULL, *mem;
  int rc, longest, shrink = 1;

  *out = NULL;
  if ((rc = open_checked(data, len, ctype, max_pixels, 0, &img, why, whylen)))
    return rc;
  longest = img->Xsize > img->Ysize ? img->Xsize : img->Ysize;
  if (k == K_JPEG) {
    while (shrink < 8 && longest / (shrink * 2) >= target)
      shrink *= 2;
    if (shrink > 1) {
      g_object_unref(img);
      img = NULL;
      if (load(data, len, k, shrink, 0, &img)) {
        vips_why(why, whylen, "the image could not be read");
        return LB_EMEDIATYPE;
      }
      longest = img->Xsize > img->Ysize ? img->Xsize : img->Ysize;
    }
  }
  if (longest > target) {
    VipsImage *t = NULL;
    int r = vips_resize(img, &t, (double)target / longest, "kernel",
                        VIPS_KERNEL_LANCZOS3, NULL);
    g_object_unref(img);
    img = t;
    if (r) {
      vips_why(why, whylen, "the image could not be resized");
      return LB_EMEDIATYPE;
    }
  }
  if ((rc = to_display(&img, 0))) {
    vips_why(why, whylen, "the image could not be decoded");
    return rc;
  }
  mem = vips_image_copy_memory(img);
  g_object_unref(img);
  if (!mem) {
    vips_why(why, whylen, "the image could not be decoded");
    return LB_EMEDIATYPE;
  }
  *out = mem;
  return LB_OK;
}

int image_thumbnail(const void *data, size_t len, const char *ctype,
                    long max_pixels, int px, struct image_out *out)
{
  VipsImage *img = NULL;
  char why[200];
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = open_scaled(data, len, ctype, max_pixels, px, &img, why,
                        sizeof why))) {
    log_warn("media.thumb", "no thumbnail: %s", why);
    return rc;
  }
  rc = save_jpeg(img, THUMB_QUALITY, out);
  if (rc)
    vips_error_clear();
  out->encodes = 1;
  g_object_unref(img);
  return rc;
}

/* The quality search at one size. Sets *best (released and replaced on each
 * better fit) and *fitted 1 when something fitted, 0 when even min_quality
 * is too large (*smallest_len is then its size). LB_EIO on an encoder
 * error. */
static enum lb_err search_quality(VipsImage *img, const struct fit_params *p,
                                  struct image_out *best, size_t *smallest_len,
                                  int *encodes, int *fitted)
{
  int lo = p->min_quality - 1, hi = FIT_MAX_QUALITY + 1; /* lo fits, hi not */
  double s_lo = 0, s_hi = 0;
  int q = 80 > p->min_quality ? 80 : p->min_quality;

  while (hi - lo > 1 && *encodes < FIT_MAX_ENCODES) {
    struct image_out o = {0};
    if (save_jpeg_as(img, q, 1, &o))
      return LB_EIO;
    (*encodes)++;
    if (o.len <= p->max_bytes) {
      lo = q;
      s_lo = (double)o.len;
      image_out_release(best);
      *best = o;
    } else {
      hi = q;
      s_hi = (double)o.len;
      image_out_release(&o);
      if (q == p->min_quality) {
        *smallest_len = (size_t)s_hi;
        *fitted = 0;
        return LB_OK;
      }
    }
    /* Next: interpolate log(size) against quality between the known
     * points; without a lower one, try the floor. */
    if (lo < p->min_quality) {
      double guess = q - 13.0 * log(s_hi / (double)p->max_bytes) / log(1.35);
      q = (int)floor(guess);
    } else if (hi > FIT_MAX_QUALITY) {
      q = FIT_MAX_QUALITY; /* the best, if it fits */
    } else {
      /* Size grows faster than exponentially towards the top, so a log
       * interpolation guesses low: split the difference with bisection. */
      double f =
          (log((double)p->max_bytes) - log(s_lo)) / (log(s_hi) - log(s_lo));
      q = (int)ceil((lo + f * (hi - lo) + (lo + hi) / 2.0) / 2.0);
    }
    if (q <= lo)
      q = lo + 1;
    if (q >= hi)
      q = hi - 1;
    if (q < p->min_quality)
      q = p->min_quality;
  }
  *fitted = lo >= p->min_quality;
  if (*fitted)
    return LB_OK;
  {
    /* The budget ran out before min_quality was tried. */
    struct image_out o = {0};
    if (save_jpeg_as(img, p->min_quality, 1, &o))
      return LB_EIO;
    (*encodes)++;
    if (o.len <= p->max_bytes) {
      *best = o;
      *fitted = 1;
      return LB_OK;
    }
    *smallest_len = o.len;
    image_out_release(&o);
    return LB_OK;
  }
}

int image_fit(const void *data, size_t len, const char *ctype,
              const struct fit_params *p, struct image_out *out, char *why,
              size_t whylen)
{
  VipsImage *img = NULL;
  int rc, encodes = 0, target = p->max_dim;
  size_t smallest = 0;

  memset(out, 0, sizeof *out);
  if ((rc = open_scaled(data, len, ctype, p->max_pixels, p->max_dim, &img, why,
                        whylen)))
    return rc;
  for (;;) {
    int fitted = 0, next;
    int longest = img->Xsize > img->Ysize ? img->Xsize : img->Ysize;
    enum lb_err qrc = search_quality(img, p, out, &smallest, &encodes, &fitted);
    if (qrc == LB_OK && fitted) {
      rc = LB_OK;
      break;
    }
    if (qrc) {
      vips_why(why, whylen, "the image could not be encoded");
      rc = LB_EIO;
      break;
    }
    /* Size goes roughly with the pixel count: shrink by the square root
     * of what is missing, with a margin. */
    next =
        (int)(longest * sqrt((double)p->max_bytes / (double)smallest) * 0.92);
    if (next >= longest)
      next = longest - 1;
    if (next < p->min_dim || target <= p->min_dim) {
      char have[32], lim[32];
      snprintf(have, sizeof have, "%.1f KB", (double)smallest / 1000.0);
      snprintf(lim, sizeof lim, "%.1f KB", (double)p->max_bytes / 1000.0);
      snprintf(why, whylen,
               "the image does not fit in %s even at %d px and JPEG quality "
               "%d (%s)",
               lim, longest, p->min_quality, have);
      rc = LB_ETOOBIG;
      break;
    }
    if (next < p->min_dim)
      next = p->min_dim;
    target = next;
    {
      VipsImage *t = NULL, *mem;
      if (vips_resize(img, &t, (double)next / longest, "kernel",
                      VIPS_KERNEL_LANCZOS3, NULL)) {
        vips_why(why, whylen, "the image could not be resized");
        rc = LB_EIO;
        break;
      }
      mem = vips_image_copy_memory(t);
      g_object_unref(t);
      if (!mem) {
        vips_why(why, whylen, "the image could not be resized");
        rc = LB_EIO;
        break;
      }
      g_object_unref(img);
      img = mem;
    }
  }
  g_object_unref(img);
  out->encodes = encodes;
  if (rc)
    image_out_release(out);
  return rc;
}
