/*
 * conf.c - the one option parser (docs/design.md 5.1 and 5.3): PAM module
 * arguments, config files and the CLI's flags all arrive here as
 * name/value pairs.
 *
 * key, secret, iss and aud are repeatable and append; every other option
 * replaces what an earlier occurrence set (a list option such as alg or
 * require replaces the whole list).  So a command line applied after a
 * config file adds keys, issuers and audiences and overrides the rest.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jwtrevp.h"

/* Upper bounds that catch a typo (an epoch given as leeway) early. */
#define LEEWAY_MAX (7 * 86400)
#define MAX_AGE_MAX (10 * 366 * 86400)

enum opt_kind { OPT_FLAG, OPT_VALUE };

struct option_def {
    const char *name;
    enum opt_kind kind;
    int (*set)(jwtrev_conf *c, const struct option_def *o, const char *v,
               jwtrev_error *err);
    unsigned flag; /* OPT_FLAG: the JWTREV_CONF_* bit */
};

void
jwtrev_conf_init(jwtrev_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->algs = JWTREV_ALGSET_ALL;
    c->leeway = JWTREV_DEFAULT_LEEWAY;
    c->max_age = -1;
    c->on_db_error = JWTREV_ON_DB_ERROR_DENY;
    c->max_token_len = JWTREV_DEFAULT_MAX_TOKEN_LEN;
}

void
jwtrevp_strlist_free(jwtrev_strlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int
jwtrevp_strlist_add(jwtrev_strlist *l, const char *s, size_t n)
{
    char **v, *copy;

    copy = strndup(s, n);
    if (copy == NULL)
        return -JWTREV_ERR_INTERNAL;
    v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (v == NULL) {
        free(copy);
        return -JWTREV_ERR_INTERNAL;
    }
    v[l->n++] = copy;
    l->v = v;
    return 0;
}

int
jwtrevp_strlist_copy(jwtrev_strlist *dst, const jwtrev_strlist *src)
{
    jwtrev_strlist fresh = {NULL, 0};
    size_t i;

    for (i = 0; i < src->n; i++) {
        if (jwtrevp_strlist_add(&fresh, src->v[i], strlen(src->v[i])) != 0) {
            jwtrevp_strlist_free(&fresh);
            return -JWTREV_ERR_INTERNAL;
        }
    }
    jwtrevp_strlist_free(dst);
    *dst = fresh;
    return 0;
}

void
jwtrev_conf_free(jwtrev_conf *c)
{
    if (c == NULL)
        return;
    jwtrevp_strlist_free(&c->keys);
    jwtrevp_strlist_free(&c->secrets);
    jwtrevp_strlist_free(&c->issuers);
    jwtrevp_strlist_free(&c->audiences);
    jwtrevp_strlist_free(&c->required);
    jwtrevp_strlist_free(&c->types);
    jwtrevp_strlist_free(&c->export_claims);
    free(c->user_claim);
    free(c->db);
    jwtrev_conf_init(c);
}

static int
nomem(jwtrev_error *err)
{
    return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
}

/* Append a copy of the n bytes at s to l. */
static int
strlist_add(jwtrev_strlist *l, const char *s, size_t n, jwtrev_error *err)
{
    return jwtrevp_strlist_add(l, s, n) != 0 ? nomem(err) : 0;
}

static int
is_list_sep(char ch)
{
    return ch == ',' || ch == ' ' || ch == '\t';
}

/*
 * Replace *l with the items of a comma/space separated list.  On failure
 * *l is unchanged.
 */
static int
strlist_set_from(jwtrev_strlist *l, const char *list, jwtrev_error *err)
{
    jwtrev_strlist fresh = {NULL, 0};
    const char *p = list, *start;
    int rc;

    while (*p != '\0') {
        while (is_list_sep(*p))
            p++;
        start = p;
        while (*p != '\0' && !is_list_sep(*p))
            p++;
        if (p > start && (rc = strlist_add(&fresh, start, p - start, err))) {
            jwtrevp_strlist_free(&fresh);
            return rc;
        }
    }
    jwtrevp_strlist_free(l);
    *l = fresh;
    return 0;
}

static int
set_string(char **slot, const char *v, jwtrev_error *err)
{
    char *copy = strdup(v);

    if (copy == NULL)
        return nomem(err);
    free(*slot);
    *slot = copy;
    return 0;
}

/* A decimal number in [0, max]: digits only, no sign, no spaces. */
static int
parse_seconds(const char *name, const char *v, int64_t max, int64_t *out,
              jwtrev_error *err)
{
    int64_t n = 0;
    const char *p;

    for (p = v; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || n > (max - (*p - '0')) / 10)
            return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                               "option %s: '%.32s' is not a number of "
                               "seconds from 0 to %lld",
                               name, v, (long long)max);
        n = n * 10 + (*p - '0');
    }
    *out = n;
    return 0;
}

static int
set_key(jwtrev_conf *c, const struct option_def *o, const char *v,
        jwtrev_error *err)
{
    return strlist_add(&c->keys, v, strlen(v), err);
}

static int
set_secret(jwtrev_conf *c, const struct option_def *o, const char *v,
           jwtrev_error *err)
{
    return strlist_add(&c->secrets, v, strlen(v), err);
}

static int
set_iss(jwtrev_conf *c, const struct option_def *o, const char *v,
        jwtrev_error *err)
{
    return strlist_add(&c->issuers, v, strlen(v), err);
}

static int
set_aud(jwtrev_conf *c, const struct option_def *o, const char *v,
        jwtrev_error *err)
{
    return strlist_add(&c->audiences, v, strlen(v), err);
}

static int
set_alg(jwtrev_conf *c, const struct option_def *o, const char *v,
        jwtrev_error *err)
{
    jwtrev_algset set;
    int rc;

    if ((rc = jwtrev_algset_parse(v, &set, err)) != 0)
        return rc;
    if (set == 0)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "option alg: no algorithm given");
    c->algs = set;
    return 0;
}

static int
set_leeway(jwtrev_conf *c, const struct option_def *o, const char *v,
           jwtrev_error *err)
{
    return parse_seconds(o->name, v, LEEWAY_MAX, &c->leeway, err);
}

static int
set_max_age(jwtrev_conf *c, const struct option_def *o, const char *v,
            jwtrev_error *err)
{
    return parse_seconds(o->name, v, MAX_AGE_MAX, &c->max_age, err);
}

/* An empty require= is allowed: it means "no claim is required". */
static int
set_require(jwtrev_conf *c, const struct option_def *o, const char *v,
            jwtrev_error *err)
{
    int rc;

    if ((rc = strlist_set_from(&c->required, v, err)) != 0)
        return rc;
    c->required_set = 1;
    return 0;
}

static int
set_typ(jwtrev_conf *c, const struct option_def *o, const char *v,
        jwtrev_error *err)
{
    return strlist_set_from(&c->types, v, err);
}

static int
set_export_claims(jwtrev_conf *c, const struct option_def *o, const char *v,
                  jwtrev_error *err)
{
    return strlist_set_from(&c->export_claims, v, err);
}

static int
set_user_claim(jwtrev_conf *c, const struct option_def *o, const char *v,
               jwtrev_error *err)
{
    int rc;

    if ((rc = set_string(&c->user_claim, v, err)) != 0)
        return rc;
    c->user_claim_set = 1;
    return 0;
}

static int
set_db(jwtrev_conf *c, const struct option_def *o, const char *v,
       jwtrev_error *err)
{
    return set_string(&c->db, v, err);
}

static int
set_on_db_error(jwtrev_conf *c, const struct option_def *o, const char *v,
                jwtrev_error *err)
{
    if (strcmp(v, "deny") == 0)
        c->on_db_error = JWTREV_ON_DB_ERROR_DENY;
    else if (strcmp(v, "ignore") == 0)
        c->on_db_error = JWTREV_ON_DB_ERROR_IGNORE;
    else if (strcmp(v, "allow") == 0)
        c->on_db_error = JWTREV_ON_DB_ERROR_ALLOW;
    else
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "option on_db_error: '%.32s' is not one of "
                           "deny, ignore, allow",
                           v);
    return 0;
}

static int
set_flag(jwtrev_conf *c, const struct option_def *o, const char *v,
         jwtrev_error *err)
{
    c->flags |= o->flag;
    return 0;
}

static const struct option_def options[] = {
    {"key", OPT_VALUE, set_key, 0},
    {"secret", OPT_VALUE, set_secret, 0},
    {"alg", OPT_VALUE, set_alg, 0},
    {"iss", OPT_VALUE, set_iss, 0},
    {"aud", OPT_VALUE, set_aud, 0},
    {"leeway", OPT_VALUE, set_leeway, 0},
    {"max_age", OPT_VALUE, set_max_age, 0},
    {"require", OPT_VALUE, set_require, 0},
    {"typ", OPT_VALUE, set_typ, 0},
    {"user_claim", OPT_VALUE, set_user_claim, 0},
    {"db", OPT_VALUE, set_db, 0},
    {"on_db_error", OPT_VALUE, set_on_db_error, 0},
    {"export_claims", OPT_VALUE, set_export_claims, 0},
    {"debug", OPT_FLAG, set_flag, JWTREV_CONF_DEBUG},
    {"use_first_pass", OPT_FLAG, set_flag, JWTREV_CONF_USE_FIRST_PASS},
    {"try_first_pass", OPT_FLAG, set_flag, JWTREV_CONF_TRY_FIRST_PASS},
    {"aud_from_service", OPT_FLAG, set_flag, JWTREV_CONF_AUD_FROM_SERVICE},
};

static const struct option_def *
find_option(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

int
jwtrev_conf_set(jwtrev_conf *c, const char *name, const char *value,
                jwtrev_error *err)
{
    const struct option_def *o = find_option(name);

    if (o == NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "unknown option '%.40s'", name);
    if (o->kind == OPT_FLAG && value != NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "option %s takes no value", o->name);
    if (o->kind == OPT_VALUE && value == NULL)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "option %s needs a value (%s=...)", o->name,
                           o->name);
    if (o->kind == OPT_VALUE && *value == '\0' && o->set != set_require)
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "option %s has an empty value", o->name);
    return o->set(c, o, value, err);
}

int
jwtrev_conf_set_word(jwtrev_conf *c, const char *word, jwtrev_error *err)
{
    const char *eq = strchr(word, '=');
    char name[32];
    size_t n;

    if (eq == NULL)
        return jwtrev_conf_set(c, word, NULL, err);
    n = (size_t)(eq - word);
    if (n >= sizeof(name))
        return jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                           "unknown option '%.40s'", word);
    memcpy(name, word, n);
    name[n] = '\0';
    return jwtrev_conf_set(c, name, eq + 1, err);
}
