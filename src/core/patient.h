/* Patients' details as the domain sees them. Pure: no I/O. */
#ifndef LB_PATIENT_H
#define LB_PATIENT_H

#include <stddef.h>
#include <stdint.h>

#define LB_DOB_SIZE 11 /* "YYYY-MM-DD" and the NUL */

/* A date of birth: "YYYY-MM-DD", or the Australian "D/M/YYYY" (also with
 * '-' or '.'). It must be a real day, from 1900 and not after 'now_ms'.
 * Writes the "YYYY-MM-DD" form. LB_OK, or LB_EINVAL with 'why' set. */
enum lb_err dob_parse(const char *s, int64_t now_ms, char out[LB_DOB_SIZE],
                      char *why, size_t whylen);
/* The same from three numbers (a form's day, month and year). */
enum lb_err dob_from_parts(long day, long month, long year, int64_t now_ms,
                           char out[LB_DOB_SIZE], char *why, size_t whylen);

#endif
