/*
 * store_testutil.h - helpers of the revocation store's unit tests
 * (test_revdb.c, test_store.c): scratch stores, entries, tokens.
 */
#ifndef STORE_TESTUTIL_H
#define STORE_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/storep.h"
#include "tap.h"

static char st_root[64];

static int
st_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Remove the scratch directory at exit, whatever the tests did. */
__attribute__((unused)) static void
st_cleanup(void)
{
    if (st_root[0] != '\0')
        nftw(st_root, st_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh scratch root; stores are directories below it. */
__attribute__((unused)) static void
st_setup(void)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(st_root, sizeof(st_root), "%s/jwtrev-test.XXXXXX",
             tmp != NULL && strlen(tmp) < 32 ? tmp : "/tmp");
    if (mkdtemp(st_root) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    atexit(st_cleanup);
}

/* A new initialised store named name (path into buf, PATH_MAX). */
__attribute__((unused)) static const char *
st_store(const char *name, char *buf)
{
    jwtrev_error err;

    snprintf(buf, PATH_MAX, "%s/%s", st_root, name);
    if (jwtrev_store_init(buf, -1, 0, &err) != 0) {
        printf("Bail out! init %s: %s\n", buf, err.detail);
        exit(1);
    }
    return buf;
}

/* An entry with borrowed texts (hash: id is 32 bytes). */
__attribute__((unused)) static jwtrev_entry
st_entry(int kind, const char *iss, const char *id, int64_t until,
         int64_t not_before, const char *reason)
{
    jwtrev_entry e;

    memset(&e, 0, sizeof(e));
    e.kind = (jwtrev_entry_kind)kind;
    e.iss = iss != NULL ? iss : "";
    e.iss_len = strlen(e.iss);
    e.id = (const unsigned char *)id;
    e.id_len = kind == JWTREV_ENTRY_HASH ? JWTREV_STORE_HASH_LEN : strlen(id);
    e.revoked_at = 100;
    e.until = until;
    e.not_before = not_before;
    e.reason = reason != NULL ? reason : "";
    e.reason_len = strlen(e.reason);
    return e;
}

__attribute__((unused)) static int
st_put(const char *dir, jwtrev_entry e)
{
    jwtrev_error err;
    int rc = jwtrev_store_put(dir, &e, &err);

    if (rc != 0)
        tap_diag("put: %s", err.detail);
    return rc;
}

/* A verified-token stand-in; NULL fields are absent; iat < 0: none. */
__attribute__((unused)) static jwtrev_token
st_token(const char *kid, const char *iss, const char *sub, const char *jti,
         int64_t iat, unsigned char hashbyte)
{
    jwtrev_token t;

    memset(&t, 0, sizeof(t));
    t.kid = kid;
    t.iss = iss;
    t.sub = sub;
    t.jti = jti;
    t.iat = iat;
    t.has_iat = iat >= 0;
    memset(t.sighash, hashbyte, sizeof(t.sighash));
    return t;
}

#endif /* STORE_TESTUTIL_H */
