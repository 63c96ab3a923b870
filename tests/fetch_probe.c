/*
 * fetch_probe.c - libjwtrevfetch's API as jwtrevd uses it, for
 * tests/keys_fetch.sh (which runs the server):
 *   fetch_probe get URL CA       prints "LEN MAX_AGE", or "why=N: detail"
 *   fetch_probe discover ISS CA  prints the jwks_uri, or "why=N: detail"
 *   fetch_probe threads URL CA N N threads fetch URL at once; prints
 *                                "N ok" when all of them got it
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwtrev_fetch.h"

static const char *url;
static jwtrev_fetch_opts opts;

static int
get(void)
{
    jwtrev_fetch_body b;
    jwtrev_error err;
    int why = 0;

    jwtrev_error_clear(&err);
    if (jwtrev_fetch_url(url, &opts, &b, &why, &err) != 0) {
        printf("why=%d: %s\n", why, err.detail);
        return 1;
    }
    printf("%zu %lld\n", b.len, (long long)b.max_age);
    jwtrev_fetch_body_free(&b);
    return 0;
}

static int
discover(void)
{
    jwtrev_error err;
    char *uri;
    int why = 0;

    jwtrev_error_clear(&err);
    if (jwtrev_fetch_discover(url, &opts, &uri, &why, &err) != 0) {
        printf("why=%d: %s\n", why, err.detail);
        return 1;
    }
    printf("%s\n", uri);
    free(uri);
    return 0;
}

static void *
worker(void *arg)
{
    jwtrev_fetch_body b;
    int *good = arg;

    *good = jwtrev_fetch_url(url, &opts, &b, NULL, NULL) == 0;
    if (*good)
        jwtrev_fetch_body_free(&b);
    return NULL;
}

static int
threads(int n)
{
    pthread_t t[16];
    int good[16], i, all = 0;

    if (n < 1 || n > 16)
        return 2;
    for (i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, worker, &good[i]) != 0)
            return 2;
    for (i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        all += good[i];
    }
    printf("%d ok\n", all);
    return all == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    url = argv[2];
    opts.ca_file = argv[3];
    if (strcmp(argv[1], "get") == 0)
        return get();
    if (strcmp(argv[1], "discover") == 0)
        return discover();
    if (strcmp(argv[1], "threads") == 0 && argc == 5)
        return threads(atoi(argv[4]));
    return 2;
}
