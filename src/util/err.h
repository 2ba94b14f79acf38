/* One error enum for the whole program, with a strerror.
 *
 * Every fallible function returns an int that is LB_OK (0) or one of these.
 * The API layer maps them to HTTP statuses (src/api/respond.c). */
#ifndef LB_ERR_H
#define LB_ERR_H

#define LB_ERRORS(X)                                                           \
  X(LB_OK, "ok")                                                               \
  X(LB_ENOMEM, "out of memory")                                                \
  X(LB_EINVAL, "invalid argument")                                             \
  X(LB_ETOOBIG, "too large")                                                   \
  X(LB_ENOTFOUND, "not found")                                                 \
  X(LB_EDUPLICATE, "already exists")                                           \
  X(LB_ECONFLICT, "conflicts with an earlier request")                         \
  X(LB_EIO, "input/output error")                                              \
  X(LB_EDB, "database error")                                                  \
  X(LB_EAUTH, "not authorised")                                                \
  X(LB_ESIGNATURE, "signature does not verify")                                \
  X(LB_EPHONE, "not a valid phone number")                                     \
  X(LB_ENOTMOBILE, "not a mobile number")                                      \
  X(LB_ETRANSITION, "status change not allowed")                               \
  X(LB_EPROVIDER, "provider error")                                            \
  X(LB_ETIMEOUT, "timed out")                                                  \
  X(LB_EUNSUPPORTED, "not supported")                                          \
  X(LB_EMEDIATYPE, "media type not allowed")                                   \
  X(LB_ECONFIG, "configuration error")                                         \
  X(LB_EPARSE, "cannot parse")                                                 \
  X(LB_EDENIED, "refused by policy")

enum lb_err {
#define LB_ERR_ENUM(name, text) name,
  LB_ERRORS(LB_ERR_ENUM)
#undef LB_ERR_ENUM
      LB_ERR_COUNT
};

/* Static text for an error code; never NULL. */
const char *lb_strerror(int err);
/* The enum's own name, e.g. "LB_ENOTFOUND"; never NULL. */
const char *lb_errname(int err);

#endif
