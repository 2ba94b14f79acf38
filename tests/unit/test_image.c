/* The image pipeline (src/media/image.c) on images made here with libvips:
 * cleaning (upright, no metadata), the pixel cap, and fitting into MMS
 * budgets. Links the I/O library (libvips), but does no network I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <vips/vips.h>

#include "media/image.h"
#include "util/err.h"

/* A photo-like colour JPEG (blurred noise) of w x h, with EXIF orientation
 * 'orient' (0: none) and a GPS-ish EXIF string. Caller g_free()s. */
static void *make_jpeg(int w, int h, int orient, size_t *len)
{
  VipsImage *bands[3], *rgb = NULL, *u = NULL;
  void *buf = NULL;
  for (int i = 0; i < 3; i++) {
    VipsImage *n = NULL;
    assert_int_equal(vips_gaussnoise(&n, w, h, "sigma", 30.0 + 10 * i, "mean",
                                     100.0 + 30 * i, NULL),
                     0);
    assert_int_equal(vips_gaussblur(n, &bands[i], 1.2, NULL), 0);
    g_object_unref(n);
  }
  assert_int_equal(vips_bandjoin(bands, &rgb, 3, NULL), 0);
  assert_int_equal(vips_cast(rgb, &u, VIPS_FORMAT_UCHAR, NULL), 0);
  u->Type = VIPS_INTERPRETATION_sRGB;
  if (orient)
    vips_image_set_int(u, VIPS_META_ORIENTATION, orient);
  vips_image_set_string(u, "exif-ifd0-Make",
                        "Apple (Apple, ASCII, 6 components)");
  assert_int_equal(vips_jpegsave_buffer(u, &buf, len, "Q", 92, NULL), 0);
  for (int i = 0; i < 3; i++)
    g_object_unref(bands[i]);
  g_object_unref(rgb);
  g_object_unref(u);
  return buf;
}

static int has_exif(const void *data, size_t len)
{
  VipsImage *img = vips_image_new_from_buffer(data, len, "", NULL);
  int has;
  assert_non_null(img);
  has = vips_image_get_typeof(img, VIPS_META_EXIF_NAME) != 0 ||
        vips_image_get_typeof(img, VIPS_META_ORIENTATION) != 0;
  g_object_unref(img);
  return has;
}

static void test_clean_turns_upright_and_strips(void **state)
{
  size_t len;
  void *jpg = make_jpeg(300, 200, 6, &len);
  struct image_out out;
  char why[200];
  assert_true(has_exif(jpg, len));
  assert_int_equal(
      image_clean(jpg, len, "image/jpeg", 1000000, &out, why, sizeof why),
      LB_OK);
  assert_string_equal(out.content_type, "image/jpeg");
  assert_int_equal(out.width, 200); /* turned a quarter: upright */
  assert_int_equal(out.height, 300);
  assert_false(has_exif(out.data, out.len));
  image_out_release(&out);
  g_free(jpg);
}

static void test_pixel_cap_refuses_from_the_header(void **state)
{
  size_t len;
  void *jpg = make_jpeg(300, 200, 0, &len);
  struct image_out out;
  char why[200];
  assert_int_equal(
      image_clean(jpg, len, "image/jpeg", 59999, &out, why, sizeof why),
      LB_ETOOBIG);
  assert_non_null(strstr(why, "300x200"));
  assert_null(out.data);
  g_free(jpg);
}

static void test_wrong_decoder_is_refused(void **state)
{
  size_t len;
  void *jpg = make_jpeg(64, 64, 0, &len);
  struct image_out out;
  char why[200];
  /* A JPEG said to be a PNG never reaches another decoder. */
  assert_int_equal(
      image_clean(jpg, len, "image/png", 1000000, &out, why, sizeof why),
      LB_EMEDIATYPE);
  assert_int_equal(
      image_clean(jpg, len, "image/svg+xml", 1000000, &out, why, sizeof why),
      LB_EMEDIATYPE);
  g_free(jpg);
}

static void test_fit_meets_every_budget(void **state)
{
  static const size_t budgets[] = {30000, 100000, 250000, 300000, 600000};
  size_t len;
  void *jpg = make_jpeg(2400, 1800, 0, &len);
  for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
    struct fit_params p = {budgets[i], 1600, 40, 320, 50000000L};
    struct image_out out;
    char why[200];
    int rc = image_fit(jpg, len, "image/jpeg", &p, &out, why, sizeof why);
    if (rc)
      fail_msg("budget %zu: %s", budgets[i], why);
    assert_true(out.len <= budgets[i]);
    assert_true(out.width <= 1600 && out.height <= 1600);
    assert_true(out.quality >= 40 && out.quality <= 95);
    assert_true(out.encodes <= 8);
    assert_false(has_exif(out.data, out.len));
    /* Close to the budget, or at the best quality (nothing wasted). */
    assert_true(out.len > budgets[i] * 6 / 10 || out.quality == 95);
    image_out_release(&out);
  }
  g_free(jpg);
}

static void test_fit_says_when_nothing_fits(void **state)
{
  size_t len;
  void *jpg = make_jpeg(1200, 900, 0, &len);
  struct fit_params p = {2000, 1600, 40, 320, 50000000L};
  struct image_out out;
  char why[200];
  assert_int_equal(image_fit(jpg, len, "image/jpeg", &p, &out, why, sizeof why),
                   LB_ETOOBIG);
  assert_non_null(strstr(why, "does not fit in 2.0 KB"));
  assert_null(out.data);
  g_free(jpg);
}

int main(int argc, char **argv)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clean_turns_upright_and_strips),
      cmocka_unit_test(test_pixel_cap_refuses_from_the_header),
      cmocka_unit_test(test_wrong_decoder_is_refused),
      cmocka_unit_test(test_fit_meets_every_budget),
      cmocka_unit_test(test_fit_says_when_nothing_fits),
  };
  int rc;
  if (image_init(argv[0]))
    return 1;
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  image_shutdown();
  return rc;
}
