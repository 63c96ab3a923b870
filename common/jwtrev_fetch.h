/*
 * jwtrev_fetch.h - keys from the identity provider (docs/design.md 10):
 * a JWKS fetched over HTTPS, OpenID discovery, and a key file replaced
 * atomically, only by a set that loads.  libjwtrevfetch.la, the only part
 * that links libcurl (jwtrevd and the CLI; never the modules).
 *
 * Thread-safe: no global state but curl_global_init, done once
 * (pthread_once) by the first call; every call uses its own handle, so a
 * daemon thread may call these while others verify.  Nothing here logs.
 */
#ifndef JWTREV_FETCH_H
#define JWTREV_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "jwtrev.h"

#define JWTREV_FETCH_MAX_SIZE (1024 * 1024)
#define JWTREV_FETCH_CONNECT_TIMEOUT 10
#define JWTREV_FETCH_TIMEOUT 30
#define JWTREV_FETCH_MAX_REDIRS 3

/* How a fetch is made; zeroes mean the defaults above. */
typedef struct jwtrev_fetch_opts {
    const char *ca_file;  /* PEM CA bundle; NULL: the system's */
    long connect_timeout; /* seconds */
    long timeout;         /* seconds, the whole transfer */
    size_t max_size;      /* bytes of body */
} jwtrev_fetch_opts;

/* What a failed fetch blames (*why): the CLI's exit code, a log line. */
enum {
    JWTREV_FETCH_REFUSED = 1, /* the URL or an option: nothing was sent
                                 (scheme, plain http off loopback) */
    JWTREV_FETCH_NETWORK = 2, /* DNS, connect, TLS verify, timeout */
    JWTREV_FETCH_ANSWER = 3   /* status, too large, not JSON, a discovery
                                 document that does not fit */
};

/* A fetched body; NUL-terminated (not counted in len). */
typedef struct jwtrev_fetch_body {
    char *data;
    size_t len;
    int64_t max_age; /* Cache-Control max-age of the answer; -1: none
                        (the caller clamps it) */
} jwtrev_fetch_body;

/*
 * GET url into memory: https with certificate and host name checks, or
 * http to 127.0.0.1, ::1 or localhost only; at most JWTREV_FETCH_MAX_REDIRS
 * redirects, to https only; status 200; a body that looks like JSON.  On
 * failure returns -JWTREV_ERR_CONFIG_ERROR (err names what went wrong;
 * *why, when why is not NULL, says whose fault) or -JWTREV_ERR_INTERNAL.
 * On success the caller frees *out with jwtrev_fetch_body_free.
 */
int jwtrev_fetch_url(const char *url, const jwtrev_fetch_opts *o,
                     jwtrev_fetch_body *out, int *why, jwtrev_error *err);

void jwtrev_fetch_body_free(jwtrev_fetch_body *b);

/*
 * OpenID Connect Discovery: GET ISSUER/.well-known/openid-configuration
 * (one trailing '/' of issuer dropped first), check that its "issuer" is
 * exactly issuer, and return its "jwks_uri" (the caller frees *jwks_uri).
 * Errors as jwtrev_fetch_url's.
 */
int jwtrev_fetch_discover(const char *issuer, const jwtrev_fetch_opts *o,
                          char **jwks_uri, int *why, jwtrev_error *err);

/* What jwtrev_fetch_install did; kids are printable only after the
 * caller's escaping (they come from the network). */
typedef struct jwtrev_fetch_change {
    int replaced; /* 0: file already held these bytes, untouched */
    size_t keys;  /* keys in the new set */
    char **added; /* kids in the new set, not in the old file */
    size_t n_added;
    char **removed; /* kids in the old file, not in the new set */
    size_t n_removed;
} jwtrev_fetch_change;

/*
 * Install a fetched JWKS as file: it must be a JSON object with a "keys"
 * array, no two keys with one kid, and load with jwtrev_keyring_load (at
 * least one usable key).  Written to a temporary file beside file, loaded
 * from there, fsynced and renamed over file (its mode kept, else 0644).
 * Errors: -JWTREV_ERR_CONFIG_ERROR the set was refused, -JWTREV_ERR_INTERNAL
 * the file could not be written; file is then as it was.  On success the
 * caller frees *out with jwtrev_fetch_change_free.
 */
int jwtrev_fetch_install(const char *file, const char *data, size_t len,
                         jwtrev_fetch_change *out, jwtrev_error *err);

void jwtrev_fetch_change_free(jwtrev_fetch_change *c);

#endif /* JWTREV_FETCH_H */
