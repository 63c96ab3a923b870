/*
 * policy.c - a jwtrev_conf compiled into the rules a token is judged by:
 * the typ header rule (SECURITY 9) and the claims (SECURITY 24-28).
 *
 * The claims of a verified payload are judged in this order, and the
 * first failure is the token's one reason:
 *
 *   1. shapes: exp, nbf, iat finite numbers within int64 (malformed);
 *      iss a string, sub a non-empty string, aud a string or a non-empty
 *      array of strings, jti a non-empty string, the user claim a
 *      non-empty string, each when present (bad_claims); when the host
 *      maps the user claim to a user, a name jwtrev_user_check accepts
 *      (bad_claims);
 *   2. presence (missing_claim): the required claims (default exp), iat
 *      when a max age is set, the user claim when the host maps a user,
 *      iss when issuers are configured, aud when audiences are;
 *   3. exp: accepted only while now < exp + leeway (expired);
 *   4. nbf: nbf > now + leeway rejects (not_yet_valid);
 *   5. iat: iat > now + leeway rejects (issued_in_future);
 *   6. max age: iat < now - max_age - leeway rejects (too_old);
 *   7. iss: equal, byte for byte, to a configured issuer (bad_issuer);
 *   8. aud: one of its values equal to a configured audience
 *      (bad_audience).
 *
 * Unknown claims are ignored.  Time claims may carry a fraction; since
 * now is whole seconds, exp and nbf are rounded up and iat down, which
 * keeps every comparison above (and the store's "iat < T") exact.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "josep.h"

/* A time claim: whole seconds rounded down, and whether it had a fraction. */
struct tclaim {
    int64_t sec;
    int frac;
    int has;
};

/* What the claims say, once their shapes are known to be right. */
struct claimset {
    struct tclaim exp, nbf, iat;
    const char *iss, *sub, *jti, *user;
    const json_t *aud;
};

static char
ascii_lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* Case-insensitive in ASCII only, whatever the locale. */
static int
ascii_casecmp_prefix(const char *s, const char *prefix)
{
    for (; *prefix != '\0'; s++, prefix++)
        if (ascii_lower(*s) != ascii_lower(*prefix))
            return 0;
    return 1;
}

static const char *
strip_application(const char *s)
{
    return ascii_casecmp_prefix(s, "application/") ? s + 12 : s;
}

int
jwtrevp_media_type_eq(const char *a, const char *b)
{
    a = strip_application(a);
    b = strip_application(b);
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (ascii_lower(*a) != ascii_lower(*b))
            return 0;
    return *a == *b;
}

int
jwtrevp_policy_typ_ok(const jwtrev_policy *p, const char *typ)
{
    size_t i;

    if (p->types.n == 0)
        return typ == NULL || jwtrevp_media_type_eq(typ, "JWT");
    if (typ == NULL)
        return 0;
    for (i = 0; i < p->types.n; i++)
        if (jwtrevp_media_type_eq(typ, p->types.v[i]))
            return 1;
    return 0;
}

/* ---- compiling a conf ---------------------------------------------------- */

static int
check_conf(const jwtrev_conf *c, jwtrev_error *err)
{
    if (c->leeway < 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "leeway must not be negative");
    if (c->max_age < -1)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "max_age must not be negative");
    if (c->max_token_len == 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "the maximum token length must not be 0");
    if ((c->algs & JWTREV_ALGSET_ALL) == 0 || (c->algs & ~JWTREV_ALGSET_ALL))
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "the algorithm list is empty or invalid");
    return 0;
}

static int
copy_lists(jwtrev_policy *p, const jwtrev_conf *c)
{
    if (jwtrevp_strlist_copy(&p->issuers, &c->issuers) != 0 ||
        jwtrevp_strlist_copy(&p->audiences, &c->audiences) != 0 ||
        jwtrevp_strlist_copy(&p->types, &c->types) != 0)
        return -JWTREV_ERR_INTERNAL;
    if (c->required_set) {
        if (jwtrevp_strlist_copy(&p->required, &c->required) != 0)
            return -JWTREV_ERR_INTERNAL;
    } else if (jwtrevp_strlist_add(&p->required, "exp", 3) != 0) {
        return -JWTREV_ERR_INTERNAL;
    }
    p->user_claim = strdup(c->user_claim != NULL ? c->user_claim : "sub");
    return p->user_claim == NULL ? -JWTREV_ERR_INTERNAL : 0;
}

int
jwtrev_policy_new(const jwtrev_conf *c, jwtrev_policy **out, jwtrev_error *err)
{
    jwtrev_policy *p;
    int rc;

    if ((rc = check_conf(c, err)) != 0)
        return rc;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    p->algs = c->algs;
    p->max_token_len = c->max_token_len;
    p->leeway = c->leeway;
    p->max_age = c->max_age;
    p->require_user = c->require_user;
    if (copy_lists(p, c) != 0) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    p->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (p->sha256 == NULL) {
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "OpenSSL has no SHA-256");
        goto fail;
    }
    *out = p;
    return 0;
fail:
    jwtrev_policy_free(p);
    return rc;
}

void
jwtrev_policy_free(jwtrev_policy *p)
{
    if (p == NULL)
        return;
    jwtrevp_strlist_free(&p->issuers);
    jwtrevp_strlist_free(&p->audiences);
    jwtrevp_strlist_free(&p->required);
    jwtrevp_strlist_free(&p->types);
    free(p->user_claim);
    EVP_MD_free(p->sha256);
    free(p);
}

/* ---- claim shapes -------------------------------------------------------- */

/*
 * A NumericDate: an integer, or a real inside [-2^63, 2^63) (so that the
 * conversion is defined) rounded down.  jansson already refuses integers
 * outside int64 and reals that overflow a double.
 */
static int
read_time(const json_t *claims, const char *name, int strict,
          struct tclaim *out, jwtrev_error *err)
{
    const json_t *v = json_object_get(claims, name);
    double d;

    out->sec = 0;
    out->frac = 0;
    out->has = 0;
    if (v == NULL)
        return 0;
    if (json_is_integer(v)) {
        out->sec = json_integer_value(v);
        out->frac = 0;
    } else if (json_is_real(v) && (d = json_real_value(v)) >= -0x1p63 &&
               d < 0x1p63) {
        out->sec = (int64_t)d; /* toward zero: step down below zero */
        if ((double)out->sec > d)
            out->sec--;
        out->frac = (double)out->sec != d;
    } else if (strict) {
        return jwtrev_fail(err, JWTREV_ERR_MALFORMED,
                           "claim %s is not a number in the int64 range", name);
    } else {
        return 0;
    }
    out->has = 1;
    return 0;
}

static int
read_string(const json_t *claims, const char *name, int nonempty, int strict,
            const char **out, jwtrev_error *err)
{
    const json_t *v = json_object_get(claims, name);

    *out = NULL;
    if (v == NULL)
        return 0;
    if (json_is_string(v) && (!nonempty || json_string_length(v) > 0)) {
        *out = json_string_value(v);
        return 0;
    }
    if (!strict)
        return 0;
    return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS,
                       "claim %.64s is not a %sstring", name,
                       nonempty ? "non-empty " : "");
}

static int
aud_shape_ok(const json_t *aud)
{
    size_t i;
    const json_t *v;

    if (json_is_string(aud))
        return 1;
    if (!json_is_array(aud) || json_array_size(aud) == 0)
        return 0;
    json_array_foreach(aud, i, v)
    {
        if (!json_is_string(v))
            return 0;
    }
    return 1;
}

static int
read_claims(const json_t *claims, const char *user_claim, int strict,
            struct claimset *cs, jwtrev_error *err)
{
    int rc;

    if ((rc = read_time(claims, "exp", strict, &cs->exp, err)) != 0 ||
        (rc = read_time(claims, "nbf", strict, &cs->nbf, err)) != 0 ||
        (rc = read_time(claims, "iat", strict, &cs->iat, err)) != 0 ||
        (rc = read_string(claims, "iss", 0, strict, &cs->iss, err)) != 0 ||
        (rc = read_string(claims, "sub", 1, strict, &cs->sub, err)) != 0 ||
        (rc = read_string(claims, "jti", 1, strict, &cs->jti, err)) != 0 ||
        (user_claim != NULL && (rc = read_string(claims, user_claim, 1, strict,
                                                 &cs->user, err)) != 0))
        return rc;
    cs->aud = json_object_get(claims, "aud");
    if (cs->aud != NULL && !aud_shape_ok(cs->aud)) {
        if (strict)
            return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS,
                               "claim aud is not a string or a non-empty "
                               "array of strings");
        cs->aud = NULL;
    }
    return 0;
}

/* ---- the user a host maps the token to --------------------------------- */

int
jwtrev_user_check(const char *name, int rule, jwtrev_error *err)
{
    const unsigned char *p;

    if (name == NULL || *name == '\0')
        return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS, "no user name");
    /* A leading '-' reads as an option to the tools that get the name. */
    if (rule >= JWTREV_USER_LOGIN && *name == '-')
        return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS,
                           "user name refused: leading '-'");
    for (p = (const unsigned char *)name; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS,
                               "user name refused: control character");
        if (rule >= JWTREV_USER_LOGIN && *p == '/')
            return jwtrev_fail(err, JWTREV_ERR_BAD_CLAIMS,
                               "user name refused: '/'");
    }
    return 0;
}

/* ---- the rules ----------------------------------------------------------- */

static int
missing(jwtrev_error *err, const char *name, const char *why)
{
    return jwtrev_fail(err, JWTREV_ERR_MISSING_CLAIM, "missing claim %.64s%s",
                       name, why);
}

static int
check_present(const jwtrev_policy *p, const json_t *claims,
              const struct claimset *cs, jwtrev_error *err)
{
    size_t i;

    for (i = 0; i < p->required.n; i++)
        if (json_object_get(claims, p->required.v[i]) == NULL)
            return missing(err, p->required.v[i], "");
    if (p->max_age >= 0 && !cs->iat.has)
        return missing(err, "iat", " (a maximum age is set)");
    if (p->require_user && cs->user == NULL)
        return missing(err, p->user_claim, " (it names the user)");
    if (p->issuers.n > 0 && cs->iss == NULL)
        return missing(err, "iss", " (issuers are configured)");
    if (p->audiences.n > 0 && cs->aud == NULL)
        return missing(err, "aud", " (audiences are configured)");
    return 0;
}

/* Compare a + b with c without overflow: <0, 0, >0. */
static int
sum_cmp(int64_t a, int64_t b, int64_t c)
{
    int64_t s;

    if (__builtin_add_overflow(a, b, &s))
        return b > 0 ? 1 : -1;
    return (s > c) - (s < c);
}

/* SECURITY 26: accepted only while now < exp + leeway. */
static int
check_exp(int64_t exp, int64_t leeway, int64_t now, jwtrev_error *err)
{
    if (sum_cmp(exp, leeway, now) > 0)
        return 0;
    return jwtrev_fail(err, JWTREV_ERR_EXPIRED,
                       "expired at %lld, now %lld, leeway %lld", (long long)exp,
                       (long long)now, (long long)leeway);
}

/* SECURITY 26: with a maximum age, refused when iat < now - max_age -
 * leeway (a limit too large to add up never refuses). */
static int
check_age(int64_t iat, int64_t max_age, int64_t leeway, int64_t now,
          jwtrev_error *err)
{
    int64_t limit;

    if (__builtin_add_overflow(max_age, leeway, &limit) ||
        sum_cmp(iat, limit, now) >= 0)
        return 0;
    return jwtrev_fail(err, JWTREV_ERR_TOO_OLD,
                       "issued at %lld, older than %lld s (leeway %lld) at "
                       "%lld",
                       (long long)iat, (long long)max_age, (long long)leeway,
                       (long long)now);
}

static int
check_times(const jwtrev_policy *p, const struct claimset *cs, int64_t now,
            jwtrev_error *err)
{
    int64_t nbf_up = cs->nbf.sec + cs->nbf.frac;
    int64_t iat_up = cs->iat.sec + cs->iat.frac;
    int rc;

    if (cs->exp.has &&
        (rc = check_exp(cs->exp.sec + cs->exp.frac, p->leeway, now, err)) != 0)
        return rc;
    if (cs->nbf.has && sum_cmp(now, p->leeway, nbf_up) < 0)
        return jwtrev_fail(err, JWTREV_ERR_NOT_YET_VALID,
                           "not valid before %lld, now %lld, leeway %lld",
                           (long long)nbf_up, (long long)now,
                           (long long)p->leeway);
    if (cs->iat.has && sum_cmp(now, p->leeway, iat_up) < 0)
        return jwtrev_fail(err, JWTREV_ERR_ISSUED_IN_FUTURE,
                           "issued at %lld, now %lld, leeway %lld",
                           (long long)iat_up, (long long)now,
                           (long long)p->leeway);
    if (p->max_age >= 0)
        return check_age(cs->iat.sec, p->max_age, p->leeway, now, err);
    return 0;
}

/* The same exp and max-age rules for a token verified earlier: t->exp is
 * rounded up and t->iat down, as check_times reads them. */
int
jwtrev_token_recheck_time(const jwtrev_token *t, int64_t leeway,
                          int64_t max_age, int64_t now, jwtrev_error *err)
{
    int rc;

    if (t == NULL || leeway < 0)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "bad arguments");
    if (t->has_exp && (rc = check_exp(t->exp, leeway, now, err)) != 0)
        return rc;
    if (max_age < 0)
        return 0;
    if (!t->has_iat)
        return jwtrev_fail(err, JWTREV_ERR_MISSING_CLAIM,
                           "missing claim iat (a maximum age is set)");
    return check_age(t->iat, max_age, leeway, now, err);
}

static int
in_list(const jwtrev_strlist *l, const char *s)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

static int
aud_accepted(const jwtrev_strlist *l, const json_t *aud)
{
    size_t i;
    const json_t *v;

    if (json_is_string(aud))
        return in_list(l, json_string_value(aud));
    json_array_foreach(aud, i, v)
    {
        if (in_list(l, json_string_value(v)))
            return 1;
    }
    return 0;
}

/*
 * The JSON reader refuses "\u0000" in strings, so strcmp above compares
 * whole values byte for byte.
 */
static int
check_parties(const jwtrev_policy *p, const struct claimset *cs,
              jwtrev_error *err)
{
    if (p->issuers.n > 0 && !in_list(&p->issuers, cs->iss))
        return jwtrev_fail(err, JWTREV_ERR_BAD_ISSUER,
                           "the issuer is not one of the %zu accepted",
                           p->issuers.n);
    if (p->audiences.n > 0 && !aud_accepted(&p->audiences, cs->aud))
        return jwtrev_fail(err, JWTREV_ERR_BAD_AUDIENCE,
                           "no audience is one of the %zu accepted",
                           p->audiences.n);
    return 0;
}

static void
fill_token(jwtrev_token *t, const struct claimset *cs)
{
    t->iss = cs->iss;
    t->sub = cs->sub;
    t->jti = cs->jti;
    t->user = cs->user;
    t->has_exp = cs->exp.has;
    t->exp = cs->exp.sec + cs->exp.frac;
    t->has_nbf = cs->nbf.has;
    t->nbf = cs->nbf.sec + cs->nbf.frac;
    t->has_iat = cs->iat.has;
    t->iat = cs->iat.sec;
}

int
jwtrevp_claims_check(const jwtrev_policy *p, jwtrev_token *t, int64_t now,
                     unsigned flags, jwtrev_error *err)
{
    int strict = !(flags & JWTREV_VERIFY_SIGNATURE_ONLY);
    struct claimset cs;
    int rc;

    if (t->claims == NULL)
        return strict ? jwtrev_fail(err, JWTREV_ERR_MALFORMED,
                                    "the payload is not a JSON object")
                      : 0;
    if ((rc = read_claims(t->claims, p->user_claim, strict, &cs, err)) != 0)
        return rc;
    fill_token(t, &cs);
    if (!strict)
        return 0;
    if ((p->require_user && cs.user != NULL &&
         (rc = jwtrev_user_check(cs.user, p->require_user, err)) != 0) ||
        (rc = check_present(p, t->claims, &cs, err)) != 0 ||
        (rc = check_times(p, &cs, now, err)) != 0 ||
        (rc = check_parties(p, &cs, err)) != 0)
        return rc;
    return 0;
}

int
jwtrevp_claims_read(const json_t *claims, const char *user_claim,
                    jwtrev_token *t, jwtrev_error *err)
{
    struct claimset cs;
    int rc;

    memset(&cs, 0, sizeof(cs));
    if ((rc = read_claims(claims, user_claim, 1, &cs, err)) != 0)
        return rc;
    fill_token(t, &cs);
    return 0;
}
