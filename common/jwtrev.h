/*
 * jwtrev.h - the interface of libjwtrev, shared by mod_auth_jwtrev,
 * pam_jwtrev and the jwtrev admin tool.
 *
 * Conventions (see HACKING.md):
 *  - every fallible function returns 0 or a negative JWTREV_ERR_* code and
 *    fills the caller's jwtrev_error (which may be NULL) with a detail text;
 *  - out-parameters come last and are written only on success;
 *  - the library never logs, never exits, keeps no static mutable state and
 *    never puts token or key material into an error text;
 *  - objects documented as immutable may be shared between threads.
 */
#ifndef JWTREV_H
#define JWTREV_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors and reason codes ------------------------------------------ */

/*
 * One code per reason of docs/design.md 3; jwtrev_reason() gives the
 * stable string.  Values are never renumbered once released.
 */
enum jwtrev_errcode {
    JWTREV_OK = 0,
    JWTREV_ERR_MALFORMED,
    JWTREV_ERR_TOO_LARGE,
    JWTREV_ERR_BAD_HEADER,
    JWTREV_ERR_UNSUPPORTED_ALG,
    JWTREV_ERR_ALG_NOT_ALLOWED,
    JWTREV_ERR_CRIT_UNSUPPORTED,
    JWTREV_ERR_TYP_NOT_ALLOWED,
    JWTREV_ERR_KEY_NOT_FOUND,
    JWTREV_ERR_BAD_SIGNATURE,
    JWTREV_ERR_BAD_CLAIMS,
    JWTREV_ERR_MISSING_CLAIM,
    JWTREV_ERR_EXPIRED,
    JWTREV_ERR_NOT_YET_VALID,
    JWTREV_ERR_ISSUED_IN_FUTURE,
    JWTREV_ERR_TOO_OLD,
    JWTREV_ERR_BAD_ISSUER,
    JWTREV_ERR_BAD_AUDIENCE,
    JWTREV_ERR_REVOKED,
    JWTREV_ERR_SUBJECT_REVOKED,
    JWTREV_ERR_KEY_REVOKED,
    JWTREV_ERR_USER_MISMATCH,
    JWTREV_ERR_DB_ERROR,
    JWTREV_ERR_CONFIG_ERROR,
    JWTREV_ERR_INTERNAL, /* out of memory, a library failing unexpectedly */
    JWTREV_ERR_COUNT
};

#define JWTREV_DETAIL_MAX 224
#define JWTREV_LOGID_MAX 80

typedef struct jwtrev_error {
    int code;                       /* 0 or a positive JWTREV_ERR_* */
    char detail[JWTREV_DETAIL_MAX]; /* human detail, never a secret */
    char logid[JWTREV_LOGID_MAX];   /* "jti=..." or "sha256:<16 hex>" of
                                       the signing input, or "" */
} jwtrev_error;

/* The stable reason string ("malformed", ...) of err or -err. */
const char *jwtrev_reason(int err);

/* A short human sentence for err or -err. */
const char *jwtrev_strerror(int err);

/*
 * 1 when err (or -err) says the token itself was refused (a client's
 * problem: HTTP 401, PAM_AUTH_ERR); 0 for store, configuration and
 * internal trouble, and for success.
 */
int jwtrev_err_is_token_failure(int err);

/* Clear *e (code 0, empty texts).  NULL is allowed. */
void jwtrev_error_clear(jwtrev_error *e);

/*
 * The one error setter of the library and its hosts: fill e (when not
 * NULL) with code (or -code) and a printf-style detail, leave e->logid as
 * it is, and return -code, so that error paths read
 * "return jwtrev_fail(err, JWTREV_ERR_..., ...);".  The detail must never
 * hold token or key material.
 */
int jwtrev_fail(jwtrev_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- algorithms --------------------------------------------------------- */

typedef enum jwtrev_alg {
    JWTREV_ALG_HS256,
    JWTREV_ALG_HS384,
    JWTREV_ALG_HS512,
    JWTREV_ALG_RS256,
    JWTREV_ALG_RS384,
    JWTREV_ALG_RS512,
    JWTREV_ALG_PS256,
    JWTREV_ALG_PS384,
    JWTREV_ALG_PS512,
    JWTREV_ALG_ES256,
    JWTREV_ALG_ES384,
    JWTREV_ALG_ES512,
    JWTREV_ALG_EDDSA,  /* Ed25519 or Ed448, by the key (RFC 8037) */
    JWTREV_ALG_ES256K, /* secp256k1 (RFC 8812) */
    JWTREV_ALG_COUNT
} jwtrev_alg;

/* A set of algorithms: bit (1u << alg). */
typedef uint32_t jwtrev_algset;
#define JWTREV_ALGSET_ALL ((jwtrev_algset)((1u << JWTREV_ALG_COUNT) - 1))
#define JWTREV_ALGSET_HAS(set, alg) (((set) >> (alg)) & 1u)

/* "HS256", ..., "EdDSA". */
const char *jwtrev_alg_name(jwtrev_alg alg);

/* Exact, case-sensitive lookup of a JOSE name of len bytes. */
int jwtrev_alg_from_name(const char *name, size_t len, jwtrev_alg *out);

/*
 * Parse a list of algorithm names separated by commas and/or spaces into a
 * set; an unknown name (or "none") is a config_error naming it.
 */
int jwtrev_algset_parse(const char *list, jwtrev_algset *out,
                        jwtrev_error *err);

/* ---- configuration (one parser for PAM options, config files, CLI) ------ */

typedef struct jwtrev_strlist {
    char **v;
    size_t n;
} jwtrev_strlist;

enum jwtrev_on_db_error {
    JWTREV_ON_DB_ERROR_DENY = 0, /* fail closed (default) */
    JWTREV_ON_DB_ERROR_ALLOW,    /* httpd: accept without the check */
    JWTREV_ON_DB_ERROR_IGNORE    /* PAM: the module abstains */
};

/* Flags that only some consumers use; the parser records them all. */
#define JWTREV_CONF_DEBUG 0x01u
#define JWTREV_CONF_USE_FIRST_PASS 0x02u
#define JWTREV_CONF_TRY_FIRST_PASS 0x04u
#define JWTREV_CONF_AUD_FROM_SERVICE 0x08u

#define JWTREV_DEFAULT_LEEWAY 60
#define JWTREV_DEFAULT_MAX_TOKEN_LEN 8192
#define JWTREV_DEFAULT_DB "/var/lib/jwtrev"

/*
 * Verification settings by option name (docs/design.md 5.1 and 5.3).  The
 * struct owns every string in it; jwtrev_conf_free() releases them.
 */
typedef struct jwtrev_conf {
    jwtrev_strlist keys;          /* key=FILE (repeatable) */
    jwtrev_strlist secrets;       /* secret=FILE (repeatable) */
    jwtrev_algset algs;           /* alg=LIST; default all */
    jwtrev_strlist issuers;       /* iss= (repeatable); empty: any */
    jwtrev_strlist audiences;     /* aud= (repeatable); empty: any */
    int64_t leeway;               /* leeway=SECONDS; default 60 */
    int64_t max_age;              /* max_age=SECONDS; -1: no limit */
    jwtrev_strlist required;      /* require=LIST; default {"exp"} */
    jwtrev_strlist types;         /* typ=LIST; empty: absent or JWT */
    char *user_claim;             /* user_claim=NAME; default "sub" */
    int user_claim_set;           /* user_claim= was given explicitly */
    int require_user;             /* 0, or the JWTREV_USER_* rule the user
                                     claim must meet (set by hosts that map
                                     it to a user: httpd, PAM, jwtrev verify
                                     --user-claim); not an option name */
    char *db;                     /* db=DIR; NULL: no revocation check */
    int on_db_error;              /* on_db_error=deny|ignore|allow */
    size_t max_token_len;         /* default 8192 */
    unsigned flags;               /* JWTREV_CONF_* */
    jwtrev_strlist export_claims; /* export_claims=LIST (PAM) */
    int required_set;             /* require= given: default replaced */
} jwtrev_conf;

/*
 * The rules for the name a host makes of the user claim (require_user)
 * and for a user name it is given (PAM_USER): JWTREV_USER_NAME: present,
 * non-empty, no control characters (it becomes REMOTE_USER, environment
 * variables and log lines); JWTREV_USER_LOGIN: also no '/' and no leading
 * '-' (a login name handed to other tools).  jwtrev_user_check: 0, or
 * bad_claims naming what is wrong.
 */
#define JWTREV_USER_NAME 1
#define JWTREV_USER_LOGIN 2
int jwtrev_user_check(const char *name, int rule, jwtrev_error *err);

/* Defaults as above.  Never fails. */
void jwtrev_conf_init(jwtrev_conf *c);
void jwtrev_conf_free(jwtrev_conf *c);

/*
 * Set one option by name; value is NULL for a flag.  key, secret, iss and
 * aud are repeatable and append; every other option replaces what an
 * earlier one set, and list options (alg, require, typ, export_claims)
 * take commas or spaces (an empty require= requires nothing).  Unknown
 * names, missing or bad values: config_error naming the option, and c is
 * unchanged.  "config" is not handled here (see jwtrev_conf_load_file).
 */
int jwtrev_conf_set(jwtrev_conf *c, const char *name, const char *value,
                    jwtrev_error *err);

/* One word "name=value" or "flag", as PAM passes module arguments. */
int jwtrev_conf_set_word(jwtrev_conf *c, const char *word, jwtrev_error *err);

/*
 * Read a config file: one name=value (or flag) per line, full-line '#'
 * comments, blank lines, whitespace around names and values ignored.  A
 * symbolic link is refused; with JWTREV_CONF_FILE_STRICT the file must be
 * a regular file owned by root and not writable by group or others
 * (PAM).  Errors name the file and the line.  Options apply as they are
 * read: after a failure, drop c.
 */
#define JWTREV_CONF_FILE_STRICT 0x01u
int jwtrev_conf_load_file(jwtrev_conf *c, const char *path, unsigned flags,
                          jwtrev_error *err);

/*
 * The same file syntax and checks for options of another program
 * (jwtrevd.conf): fn is called with each name and value (NULL for a
 * flag); its failure, prefixed with the file and line, stops the read.
 */
typedef int jwtrev_option_fn(void *arg, const char *name, const char *value,
                             jwtrev_error *err);
int jwtrev_conf_read_file(const char *path, unsigned flags,
                          jwtrev_option_fn *fn, void *arg, jwtrev_error *err);

/* ---- keys ---------------------------------------------------------------- */

/*
 * A set of verification keys, each bound to exactly one algorithm
 * (SECURITY 13-16).  Immutable once loaded; reference counted so that a
 * host can swap in a reloaded ring while requests still use the old one.
 */
typedef struct jwtrev_keyring jwtrev_keyring;

/* An empty ring whose keys will be bound using the allow-list algs. */
int jwtrev_keyring_new(jwtrev_algset algs, jwtrev_keyring **out);

/*
 * Add the keys of a file: PEM public key, PEM X.509 certificate, JWK or
 * JWKS (detected from the content).  A refused key, or a file that yields
 * no usable key, is config_error naming the file and the reason; the ring
 * is then unchanged.
 *
 * path may be "KID#FILE": when it names no existing file and holds a '#',
 * the part before the first '#' is the kid of the keys of FILE that have
 * none (PEM keys, certificates, JWKs without one), so that tokens carrying
 * a kid can select them; a JWK whose own kid differs is config_error.
 */
int jwtrev_keyring_add_file(jwtrev_keyring *kr, const char *path,
                            jwtrev_error *err);

/* The same from memory; name is used in error texts. */
int jwtrev_keyring_add_mem(jwtrev_keyring *kr, const char *data, size_t len,
                           const char *name, jwtrev_error *err);

/*
 * Add a raw HMAC secret file: its bytes (binary allowed) less one final
 * "\n" or "\r\n".  "KID#FILE" as for jwtrev_keyring_add_file.
 */
int jwtrev_keyring_add_secret_file(jwtrev_keyring *kr, const char *path,
                                   jwtrev_error *err);

/* Build a ring from c->keys, c->secrets and c->algs; none: config_error. */
int jwtrev_keyring_load(const jwtrev_conf *c, jwtrev_keyring **out,
                        jwtrev_error *err);

size_t jwtrev_keyring_count(const jwtrev_keyring *kr);

/*
 * The i-th warning of the loads into kr (0-based), or NULL past the last:
 * a key of a JWKS that could not be used and was skipped (DESIGN 10),
 * "FILE: key N (kid \"K\") skipped: reason".  A JWKS is refused only when
 * none of its keys is usable; a file holding one key stays strict.  Hosts
 * log these once per load (the library never logs); the texts live as
 * long as kr.
 */
const char *jwtrev_keyring_warning(const jwtrev_keyring *kr, size_t i);

/* Take another reference; returns kr. */
jwtrev_keyring *jwtrev_keyring_ref(jwtrev_keyring *kr);

/* Drop a reference; the last one frees.  NULL is allowed. */
void jwtrev_keyring_free(jwtrev_keyring *kr);

/* ---- policy -------------------------------------------------------------- */

/* The claims and header rules of a conf, compiled; immutable. */
typedef struct jwtrev_policy jwtrev_policy;

int jwtrev_policy_new(const jwtrev_conf *c, jwtrev_policy **out,
                      jwtrev_error *err);
void jwtrev_policy_free(jwtrev_policy *p);

/* ---- verification -------------------------------------------------------- */

/* A verified token.  Borrowed pointers live as long as the json objects. */
typedef struct jwtrev_token {
    jwtrev_alg alg;
    json_t *header;         /* owned */
    json_t *claims;         /* owned; NULL in signature-only mode when
                               the payload is not a JSON object */
    unsigned char *payload; /* owned: decoded payload bytes */
    size_t payload_len;
    const char *kid; /* header kid, or NULL */
    const char *iss, *sub, *jti;
    const char *user;      /* the policy's user claim, or NULL */
    int64_t exp, nbf, iat; /* valid when has_*; whole seconds: exp and
                              nbf rounded up, iat down, so that "now <
                              exp + leeway" and "iat < T" stay exact */
    int has_exp, has_nbf, has_iat;
    unsigned char sighash[32]; /* SHA-256 of the received header.payload */
} jwtrev_token;

/* Release what *t owns and zero it.  NULL and a zeroed token are allowed. */
void jwtrev_token_clear(jwtrev_token *t);

/* Check the JWS layer only (header, key, signature), not the claims. */
#define JWTREV_VERIFY_SIGNATURE_ONLY 0x01u

/*
 * The decision pipeline up to, not including, the revocation lookup:
 * size cap, split, strict base64url, header, key selection, signature,
 * payload, claims.  now is the Unix time to judge by.  On failure the
 * return value is the one reason; err->logid is filled when a token id or
 * hash is known.
 */
int jwtrev_verify(const jwtrev_policy *p, const jwtrev_keyring *kr,
                  const char *token, size_t len, int64_t now, unsigned flags,
                  jwtrev_token *out, jwtrev_error *err);

/*
 * The same steps without a key, to learn what an administrator's `jwtrev
 * revoke/unrevoke/status` refers to: size cap, split, strict base64url,
 * the header and payload as strict JSON objects, the kid's shape and the
 * claim shapes, with the verifier's code (exp and nbf rounded up, iat
 * down).  NEVER on the decision path (SECURITY 31): nothing it returns
 * is trusted.  out->alg and out->user are not set.  On success the caller
 * releases *out with jwtrev_token_clear().
 */
int jwtrev_token_parse_unverified(const char *token, size_t len,
                                  jwtrev_token *out, jwtrev_error *err);

/*
 * The log id of a token, the one way every host names a token in a log
 * line: "jti=" and the jti (bytes outside printable ASCII, '"' and '\\'
 * as '?'; cut with "..." to fit), else "sha256:" and the first 16 hex
 * digits of the signing-input hash.  size >= JWTREV_LOGID_MAX fits every
 * id; a smaller buffer gets a cut, terminated id.
 */
void jwtrev_token_logid(const jwtrev_token *t, char *buf, size_t size);

/*
 * For a text refused before it could be split (too large, not three
 * segments): when err->logid is still empty, "token-sha256:" and the
 * first 16 hex digits of the SHA-256 of the whole text.
 */
void jwtrev_text_logid(const char *text, size_t len, jwtrev_error *err);

/* ---- revocation store: readers ------------------------------------------- */

/*
 * A read-only handle on a store directory (docs/design.md 4).  One
 * handle may be used by many threads at once; it notices new versions of
 * the store by itself.  Must not cross fork(): open it in the child.
 */
typedef struct jwtrev_revdb jwtrev_revdb;

int jwtrev_revdb_open(const char *dir, jwtrev_revdb **out, jwtrev_error *err);

/*
 * The same with flags.  JWTREV_REVDB_SNAPSHOTS: for a process that keeps
 * its handle (an httpd child): when a jwtrevd owns the store, read each
 * base through the sealed snapshot the daemon hands out (mapped: a
 * revoked token's lookup reads memory, and the pages exist once for
 * every child); without one, read the files as jwtrev_revdb_open does.
 */
#define JWTREV_REVDB_SNAPSHOTS 0x01u
int jwtrev_revdb_open_flags(const char *dir, unsigned flags, jwtrev_revdb **out,
                            jwtrev_error *err);
void jwtrev_revdb_close(jwtrev_revdb *db);

/*
 * Is the verified token t revoked at time now?  0: no;
 * -JWTREV_ERR_REVOKED, -JWTREV_ERR_SUBJECT_REVOKED, -JWTREV_ERR_KEY_REVOKED
 * with err->detail naming the entry; -JWTREV_ERR_DB_ERROR when the store
 * cannot answer.
 */
int jwtrev_revdb_check(jwtrev_revdb *db, const jwtrev_token *t, int64_t now,
                       jwtrev_error *err);

/* ---- revocation store: the writes a module makes (logout) ---------------- */

/*
 * Revoke one verified token: by (iss, jti) when it has a jti, else by its
 * signing-input hash; the entry matters until exp + leeway.  Visible to
 * every reader when this returns.
 */
int jwtrev_store_revoke_token(const char *dir, const jwtrev_token *t,
                              int64_t leeway, int64_t now, const char *reason,
                              jwtrev_error *err);

/*
 * Revoke every token of (iss, sub) issued before `before`; the entry
 * matters until `until` (0: until removed).
 */
int jwtrev_store_revoke_subject(const char *dir, const char *iss,
                                const char *sub, int64_t before, int64_t until,
                                int64_t now, const char *reason,
                                jwtrev_error *err);

/* ---- the whole decision -------------------------------------------------- */

/*
 * jwtrev_verify() then, when db is not NULL, jwtrev_revdb_check(): the
 * decision of docs/design.md 1, failing closed on store errors.  Hosts
 * that may fail open call the two steps themselves.
 */
int jwtrev_decide(const jwtrev_policy *p, const jwtrev_keyring *kr,
                  jwtrev_revdb *db, const char *token, size_t len, int64_t now,
                  jwtrev_token *out, jwtrev_error *err);

/* ---- claims for hosts ------------------------------------------------------
 */

/*
 * A claim value as text for an env var or header: strings as they are,
 * numbers and booleans as JSON, arrays of strings joined by spaces, other
 * values as compact JSON.  Cut at cap bytes (on a UTF-8 boundary).  A value
 * with CR, LF, NUL or other control characters is refused (bad_claims).
 * On success the caller frees *out.
 */
int jwtrev_claim_text(const json_t *value, size_t cap, char **out,
                      jwtrev_error *err);

/*
 * Claim rules for hosts (claimrules.c), applied to verified claims only.
 *
 * jwtrev_claim_matches: 1 when claim name equals one of the n values: a
 * string byte for byte, an integer by its decimal text, a boolean as
 * "true"/"false"; for an array claim, any element.  0 otherwise
 * (missing claim, reals, objects, NULL claims).
 */
int jwtrev_claim_matches(const json_t *claims, const char *name,
                         const char *const *values, size_t n);

/*
 * 1 when every one of the n scopes is granted by the "scope" claim or the
 * "scp" claim (each a space-separated string or an array of strings;
 * exact, case-sensitive words).  0 otherwise.
 */
int jwtrev_scopes_present(const json_t *claims, const char *const *scopes,
                          size_t n);

/*
 * Re-check at time now the rules that the passing of time can break for
 * a token verified earlier (a host's cache of verified tokens): exp
 * (expired) and, when max_age >= 0, the maximum age (too_old;
 * missing_claim without iat), with the boundaries of jwtrev_verify.  nbf
 * and iat only get easier to meet as time passes.
 */
int jwtrev_token_recheck_time(const jwtrev_token *t, int64_t leeway,
                              int64_t max_age, int64_t now, jwtrev_error *err);

/* ---- signing (jwtrev sign, tests) -----------------------------------------
 */

typedef struct jwtrev_signkey jwtrev_signkey;

/*
 * Load a private key (PEM, or JWK with private parts) or, for HS*, a raw
 * secret file.  alg < 0: the key type's default algorithm (RSA: RS256,
 * P-256: ES256, P-384: ES384, P-521: ES512, Ed25519: EdDSA, oct: HS256),
 * else alg must fit the key.
 */
#define JWTREV_SIGNKEY_SECRET 0x01u /* path is a raw HMAC secret file */
int jwtrev_signkey_load(const char *path, unsigned flags, int alg,
                        jwtrev_signkey **out, jwtrev_error *err);
jwtrev_alg jwtrev_signkey_alg(const jwtrev_signkey *k);
void jwtrev_signkey_free(jwtrev_signkey *k);

/*
 * Produce a compact JWS of claims (a JSON object) with header
 * {"alg":...,"typ":"JWT"[,"kid":kid]}.  On success the caller frees *out.
 */
int jwtrev_sign(const jwtrev_signkey *k, const char *kid, const json_t *claims,
                char **out, jwtrev_error *err);

#ifdef __cplusplus
}
#endif
#endif /* JWTREV_H */
