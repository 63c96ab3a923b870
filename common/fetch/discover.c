/*
 * discover.c - OpenID Connect Discovery 1.0, section 4: an issuer's
 * configuration document, checked to name that issuer, and its jwks_uri.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jwtrev_fetch.h"

#define WELL_KNOWN "/.well-known/openid-configuration"

/* The document's jwks_uri, once its issuer is the one asked about. */
static int
read_config(const jwtrev_fetch_body *b, const char *issuer, char **out,
            int *why, jwtrev_error *err)
{
    json_error_t je;
    json_t *doc, *iss, *uri;
    int rc = 0;

    *why = JWTREV_FETCH_ANSWER;
    doc = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL || !json_is_object(doc)) {
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "discovery document: not JSON: %s", je.text);
        goto done;
    }
    iss = json_object_get(doc, "issuer");
    uri = json_object_get(doc, "jwks_uri");
    if (!json_is_string(iss) || strcmp(json_string_value(iss), issuer) != 0)
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "discovery document: issuer is not %s", issuer);
    else if (!json_is_string(uri) || json_string_length(uri) == 0)
        rc = jwtrev_fail(err, JWTREV_ERR_CONFIG_ERROR,
                         "discovery document: no jwks_uri");
    else if ((*out = strdup(json_string_value(uri))) == NULL)
        rc = jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
done:
    json_decref(doc);
    return rc;
}

int
jwtrev_fetch_discover(const char *issuer, const jwtrev_fetch_opts *o,
                      char **jwks_uri, int *why, jwtrev_error *err)
{
    jwtrev_fetch_body b = {NULL, 0, -1};
    size_t n = strlen(issuer);
    char *url, *uri = NULL;
    int w = 0, rc;

    if (n > 0 && issuer[n - 1] == '/')
        n--;
    if ((url = malloc(n + sizeof(WELL_KNOWN))) == NULL)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL, "out of memory");
    memcpy(url, issuer, n);
    memcpy(url + n, WELL_KNOWN, sizeof(WELL_KNOWN));
    rc = jwtrev_fetch_url(url, o, &b, &w, err);
    if (rc == 0)
        rc = read_config(&b, issuer, &uri, &w, err);
    if (rc == 0)
        *jwks_uri = uri;
    else if (why != NULL)
        *why = w;
    jwtrev_fetch_body_free(&b);
    free(url);
    return rc;
}
