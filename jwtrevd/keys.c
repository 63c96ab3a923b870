/*
 * keys.c - key sets from identity providers (docs/design.md 10): one
 * thread fetches each jwks= / issuer= set at start, then every
 * jwks_refresh seconds (or the server's max-age, within a minute and a
 * day), and writes its file only with a set that loads.  A failure keeps
 * the last good file, is logged once while it lasts and is tried again a
 * minute later (or at jwks_refresh, when shorter); a module's
 * refresh-keys brings a fetch forward, at most once a minute per set.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "jwtrev_fetch.h"
#include "jwtrevd.h"

#define RETRY_S 60
#define ASK_EVERY_S 60
#define MAX_AGE_MIN 60
#define MAX_AGE_MAX 86400

/* What a fetch did, for the log. */
typedef struct fetch_result {
    int replaced;
    size_t n_keys;
    char added[512], removed[512]; /* kids, printable, comma separated */
    int64_t max_age;               /* -1: none */
} fetch_result;

/* kids (from the network) joined as printable text, cut to fit. */
static void
join_kids(char *const *kids, size_t n, char *out, size_t size)
{
    size_t i, o = 0;
    const char *p;

    out[0] = '\0';
    for (i = 0; i < n && o + 8 < size; i++) {
        if (i > 0)
            out[o++] = ',';
        for (p = kids[i]; *p != '\0' && o + 5 < size; p++)
            out[o++] = *p >= 0x20 && *p < 0x7f && *p != ',' ? *p : '?';
    }
    if (i < n && o + 4 < size)
        memcpy(out + o, "...", 4);
    else
        out[o] = '\0';
}

/* Discovery (issuer=), the fetch, the file replaced if the set loads. */
static int
fetch_keys(const jd *d, const jd_keysrc *k, fetch_result *res,
           jwtrev_error *err)
{
    jwtrev_fetch_opts o;
    jwtrev_fetch_body body;
    jwtrev_fetch_change ch;
    char *uri = NULL;
    int why, rc = 0;

    memset(&o, 0, sizeof(o));
    o.ca_file = d->conf.jwks_ca;
    if (k->issuer)
        rc = jwtrev_fetch_discover(k->url, &o, &uri, &why, err);
    if (rc == 0)
        rc = jwtrev_fetch_url(uri != NULL ? uri : k->url, &o, &body, &why, err);
    free(uri);
    if (rc != 0)
        return rc;
    rc = jwtrev_fetch_install(k->file, body.data, body.len, &ch, err);
    res->max_age = body.max_age;
    jwtrev_fetch_body_free(&body);
    if (rc != 0)
        return rc;
    res->replaced = ch.replaced;
    res->n_keys = ch.keys;
    join_kids(ch.added, ch.n_added, res->added, sizeof(res->added));
    join_kids(ch.removed, ch.n_removed, res->removed, sizeof(res->removed));
    jwtrev_fetch_change_free(&ch);
    return 0;
}

/* One fetch of k (without keys_lock); the seconds until the next. */
static long
fetch_one(jd *d, jd_keysrc *k)
{
    fetch_result res;
    jwtrev_error err;
    long next;
    int rc;

    jwtrev_error_clear(&err);
    memset(&res, 0, sizeof(res));
    res.max_age = -1;
    rc = fetch_keys(d, k, &res, &err);
    if (rc != 0) {
        if (!k->failing || strcmp(k->last_error, err.detail) != 0)
            jd_log(LOG_ERR, "keys: %s from %s: %s; %s stays as it was", k->file,
                   k->url, err.detail, k->file);
        k->failing = 1;
        snprintf(k->last_error, sizeof(k->last_error), "%s", err.detail);
        return d->conf.jwks_refresh < RETRY_S ? d->conf.jwks_refresh : RETRY_S;
    }
    if (k->failing)
        jd_log(LOG_NOTICE, "keys: %s from %s works again", k->file, k->url);
    k->failing = 0;
    k->last_error[0] = '\0';
    if (res.replaced)
        jd_log(LOG_NOTICE, "keys: %s from %s: %zu keys; added: %s; removed: %s",
               k->file, k->url, res.n_keys,
               res.added[0] != '\0' ? res.added : "none",
               res.removed[0] != '\0' ? res.removed : "none");
    next = d->conf.jwks_refresh;
    if (res.max_age > 0)
        next = res.max_age < MAX_AGE_MIN   ? MAX_AGE_MIN
               : res.max_age > MAX_AGE_MAX ? MAX_AGE_MAX
                                           : (long)res.max_age;
    return next;
}

static void *
run(void *arg)
{
    jd *d = arg;
    struct timespec until;
    jd_keysrc *k;
    int64_t now, soonest;
    size_t i;

    pthread_mutex_lock(&d->keys_lock);
    while (!d->keys_stop) {
        now = (int64_t)time(NULL);
        soonest = now + 3600;
        for (i = 0; i < d->conf.n_keys && !d->keys_stop; i++) {
            k = &d->conf.keys[i];
            if (k->next <= now) {
                long delay;

                k->last_try = now;
                pthread_mutex_unlock(&d->keys_lock);
                delay = fetch_one(d, k); /* the network: without the lock */
                pthread_mutex_lock(&d->keys_lock);
                now = (int64_t)time(NULL);
                k->next = now + delay;
            }
            if (k->next < soonest)
                soonest = k->next;
        }
        if (d->keys_stop || soonest <= now)
            continue;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += soonest - now;
        pthread_cond_timedwait(&d->keys_wake, &d->keys_lock, &until);
    }
    pthread_mutex_unlock(&d->keys_lock);
    return NULL;
}

void
jd_keys_ask(jd *d, const char *const *files, size_t n)
{
    int64_t now = (int64_t)time(NULL);
    size_t i, j;
    int woke = 0;

    if (!d->keys_started)
        return;
    pthread_mutex_lock(&d->keys_lock);
    for (i = 0; i < d->conf.n_keys; i++) {
        jd_keysrc *k = &d->conf.keys[i];

        for (j = 0; j < n; j++) {
            if (strcmp(files[j], k->file) == 0 &&
                now - k->last_ask >= ASK_EVERY_S && k->next > now) {
                k->last_ask = now;
                k->next = now;
                woke = 1;
                jd_log(LOG_INFO,
                       "keys: %s: a token's kid is unknown to "
                       "httpd: fetching %s now",
                       k->file, k->url);
            }
        }
    }
    if (woke)
        pthread_cond_signal(&d->keys_wake);
    pthread_mutex_unlock(&d->keys_lock);
}

int
jd_keys_start(jd *d, jwtrev_error *err)
{
    int e;

    pthread_mutex_init(&d->keys_lock, NULL);
    pthread_cond_init(&d->keys_wake, NULL);
    if (d->conf.n_keys == 0)
        return 0;
    e = pthread_create(&d->keys_thread, NULL, run, d);
    if (e != 0)
        return jwtrev_fail(err, JWTREV_ERR_INTERNAL,
                           "cannot start the key set thread: %s", strerror(e));
    d->keys_started = 1;
    return 0;
}

void
jd_keys_stop(jd *d)
{
    if (!d->keys_started)
        return;
    pthread_mutex_lock(&d->keys_lock);
    d->keys_stop = 1;
    pthread_cond_signal(&d->keys_wake);
    pthread_mutex_unlock(&d->keys_lock);
    pthread_join(d->keys_thread, NULL);
    d->keys_started = 0;
}
