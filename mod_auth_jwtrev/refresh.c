/*
 * refresh.c - a token whose kid no configured key has: ask the host's
 * jwtrevd to fetch the key sets now (docs/design.md 10).  The request is
 * refused as it stands (key_not_found); the key is there for the next
 * one once the daemon has written the new set and the child reloaded it.
 * At most once a minute per key set in a child, never waiting: the
 * daemon limits it again per URL.
 */
#include <pthread.h>
#include <sys/un.h>
#include <time.h>

#include "jwtrev_daemon.h"
#include "mod_auth_jwtrev.h"

#define ASK_EVERY_S 60
#define ASKED_SLOTS 64

static pthread_mutex_t asked_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const jr_keyset *ks;
    time_t at;
} asked[ASKED_SLOTS];

/* 1 when ks may ask now (and it is noted), 0 when it asked lately. */
static int
may_ask(const jr_keyset *ks, time_t now)
{
    size_t i, oldest = 0;
    int ok = 1;

    pthread_mutex_lock(&asked_lock);
    for (i = 0; i < ASKED_SLOTS; i++) {
        if (asked[i].ks == ks)
            break;
        if (asked[i].at < asked[oldest].at)
            oldest = i;
    }
    if (i == ASKED_SLOTS) {
        i = oldest; /* the slot of the set that asked longest ago */
        asked[i].ks = ks;
        asked[i].at = 0;
    }
    if (now - asked[i].at < ASK_EVERY_S)
        ok = 0;
    else
        asked[i].at = now;
    pthread_mutex_unlock(&asked_lock);
    return ok;
}

void
jr_keys_unknown_kid(request_rec *r, const jr_site *site)
{
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    const char *const *files;
    size_t n;

    if (!may_ask(site->keys, time(NULL)))
        return;
    files = jr_keyset_files(site->keys, &n);
    if (jwtrev_daemon_ask_keys(site->store_dir, files, n, sock, sizeof(sock)) ==
        0)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "a token's kid is in none of the keys: asked jwtrevd "
                      "(%s) to fetch the key sets now",
                      sock);
}
