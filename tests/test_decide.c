/*
 * test_decide.c - the whole decision (docs/design.md 1, SECURITY 29-30)
 * with a real store: revoked by (iss, jti), by signing-input hash, by
 * subject and time, by kid; the store consulted only for tokens whose
 * signature and claims passed; a store that cannot answer fails closed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jwsfix.h"
#include "jwtrev_store.h"
#include "tap.h"

#define HS "{\"alg\":\"HS256\"}"
#define ISS "https://issuer.example"

static char store[128];
static jwtrev_revdb *db;

/* A claim set of sub, issued at iat, with jti when not NULL. */
static char *
token(const char *hdr, const char *sub, int64_t iat, const char *jti)
{
    char claims[300];

    snprintf(claims, sizeof(claims),
             "{\"iss\":\"" ISS "\",\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld"
             "%s%s%s}",
             sub, (long long)iat, (long long)FIX_NOW + 3600,
             jti ? ",\"jti\":\"" : "", jti ? jti : "", jti ? "\"" : "");
    return tok_json(hdr, claims, &fx.sg[S_K1]);
}

static int
decide(const char *tok, int64_t now, jwtrev_error *err)
{
    jwtrev_token t, sentinel;
    int rc;

    memset(&t, 0x5a, sizeof(t));
    memset(&sentinel, 0x5a, sizeof(sentinel));
    rc =
        jwtrev_decide(fx.pol[P_ALL], fx.kr, db, tok, strlen(tok), now, &t, err);
    if (rc == 0)
        jwtrev_token_clear(&t);
    else if (memcmp(&t, &sentinel, sizeof(t)) != 0)
        rc = 9999; /* a refusal must not fill the token */
    return rc;
}

/* Revoke tok as the logout handler does: verify it, then revoke it. */
static int
logout(const char *tok)
{
    jwtrev_token t;
    jwtrev_error err;
    int rc = jwtrev_verify(fx.pol[P_ALL], fx.kr, tok, strlen(tok), FIX_NOW, 0,
                           &t, &err);

    if (rc == 0)
        rc = jwtrev_store_revoke_token(store, &t, 60, FIX_NOW, "logout", &err);
    if (rc != 0)
        tap_diag("revoke: %s", err.detail);
    jwtrev_token_clear(&t);
    return rc;
}

static void
expect(int rc, int want, const jwtrev_error *err, const char *why)
{
    ok(rc == -want && (want == 0 || err->code == want), "%s: %s",
       jwtrev_reason(want), why);
    if (rc != -want)
        tap_diag("got %s (%d): %s", jwtrev_reason(rc), rc, err->detail);
}

static void
test_kinds(void)
{
    char *a = token(HS, "alice", FIX_NOW - 10, "a-1");
    char *b = token(HS, "alice", FIX_NOW - 10, NULL);
    char *old = token(HS, "bob", FIX_NOW - 100, "b-1");
    char *young = token(HS, "bob", FIX_NOW - 10, "b-2");
    char *kid = token("{\"alg\":\"HS256\",\"kid\":\"k1\"}", "carol",
                      FIX_NOW - 10, "c-1");
    char *nokid = token(HS, "carol", FIX_NOW - 10, "c-2");
    jwtrev_entry key = {
        JWTREV_ENTRY_KEY, "", 0, (const unsigned char *)"k1", 2, FIX_NOW, 0, 0,
        "compromised",    11};
    jwtrev_error err;

    expect(decide(a, FIX_NOW, &err), 0, &err, "a token not revoked");
    ok(strcmp(err.logid, "jti=a-1") == 0, "accepted: log id %s", err.logid);
    ok(logout(a) == 0 && logout(b) == 0, "logout of a token with and "
                                         "without jti");
    expect(decide(a, FIX_NOW, &err), JWTREV_ERR_REVOKED, &err,
           "revoked by (iss, jti)");
    ok(strcmp(err.logid, "jti=a-1") == 0,
       "the store's refusal keeps the log id %s", err.logid);
    expect(decide(b, FIX_NOW, &err), JWTREV_ERR_REVOKED, &err,
           "revoked by the signing-input hash");
    expect(decide(nokid, FIX_NOW, &err), 0, &err,
           "another token of the same key is not");

    ok(jwtrev_store_revoke_subject(store, ISS, "bob", FIX_NOW - 50, 0, FIX_NOW,
                                   "password change", &err) == 0,
       "revoke subject bob before now - 50");
    expect(decide(old, FIX_NOW, &err), JWTREV_ERR_SUBJECT_REVOKED, &err,
           "bob's token issued before");
    expect(decide(young, FIX_NOW, &err), 0, &err, "bob's token issued after");

    ok(jwtrev_store_put(store, &key, &err) == 0, "revoke kid k1");
    expect(decide(kid, FIX_NOW, &err), JWTREV_ERR_KEY_REVOKED, &err,
           "a token whose header names kid k1");
    expect(decide(nokid, FIX_NOW, &err), 0, &err,
           "the same key without a kid in the header");
    free(a);
    free(b);
    free(old);
    free(young);
    free(kid);
    free(nokid);
}

/* SECURITY 30: token failures win over the store's answer. */
static void
test_order(void)
{
    char *a = token(HS, "alice", FIX_NOW - 10, "a-1"), *bad;
    jwtrev_error err;
    size_t n = strlen(a);

    bad = strdup(a);
    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
    expect(decide(bad, FIX_NOW, &err), JWTREV_ERR_BAD_SIGNATURE, &err,
           "a revoked token with a broken signature");
    expect(decide(a, FIX_NOW + 7200, &err), JWTREV_ERR_EXPIRED, &err,
           "a revoked token after its exp");
    expect(decide("garbage", FIX_NOW, &err), JWTREV_ERR_MALFORMED, &err,
           "garbage");
    free(bad);
    free(a);
}

/* A store that cannot answer: the decision is db_error, never accept. */
static void
test_fail_closed(void)
{
    char *a = token(HS, "dave", FIX_NOW - 10, "d-1"), *bad = strdup(a);
    size_t n = strlen(a);
    jwtrev_error err;

    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
    expect(decide(a, FIX_NOW, &err), 0, &err, "before: accepted");
    /* The reader re-checks the store's modes once a second and refuses
     * one writable by others (docs/design.md 4). */
    ok(chmod(store, 0777) == 0, "make the store writable by others");
    sleep(2);
    expect(decide(a, FIX_NOW, &err), JWTREV_ERR_DB_ERROR, &err,
           "a refused store fails closed");
    /* The store would answer db_error if it were asked. */
    expect(decide("garbage", FIX_NOW, &err), JWTREV_ERR_MALFORMED, &err,
           "garbage is judged without the store");
    expect(decide(bad, FIX_NOW, &err), JWTREV_ERR_BAD_SIGNATURE, &err,
           "a forged token is judged without the store");
    expect(decide(a, FIX_NOW + 7200, &err), JWTREV_ERR_EXPIRED, &err,
           "an expired token is judged without the store");
    chmod(store, 0700);
    free(bad);
    free(a);
}

int
main(void)
{
    jwtrev_error err;
    char cmd[200];

    fix_setup();
    snprintf(store, sizeof(store), "%s/store", fx.dir);
    ok(jwtrev_store_init(store, -1, 0, &err) == 0 &&
           jwtrev_revdb_open(store, &db, &err) == 0,
       "a new store, opened for reading");
    test_kinds();
    test_order();
    test_fail_closed();
    jwtrev_revdb_close(db);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", store);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", store);
    fix_teardown();
    return tap_done();
}
