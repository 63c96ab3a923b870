/*
 * store_writer.c - the bulk writer of the store's kill test: it revokes
 * w<START>, w<START+1>, ... (issuer "w") one at a time and prints each id
 * once the write has returned, i.e. once it is acknowledged.  Every 50th
 * write compacts (a whole new base file), every 120th loads a batch of
 * 100 ids (one pass, one new file), so that kills land in every kind of
 * write.  Runs until killed or COUNT ids are written.
 *
 *   store_writer DIR START COUNT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwtrev_store.h"

static jwtrev_entry
entry(const char *id)
{
    jwtrev_entry e;

    memset(&e, 0, sizeof(e));
    e.kind = JWTREV_ENTRY_TOKEN;
    e.iss = "w";
    e.iss_len = 1;
    e.id = (const unsigned char *)id;
    e.id_len = strlen(id);
    e.revoked_at = 1;
    e.reason = "kill test";
    e.reason_len = strlen(e.reason);
    return e;
}

/* A batch of 100 ids after i; prints them once committed. */
static int
load_batch(const char *dir, long i, jwtrev_error *err)
{
    jwtrev_store_batch *b;
    jwtrev_entry e;
    char id[32];
    int k, rc;

    if (jwtrev_store_batch_new(&b) != 0)
        return -1;
    for (k = 0, rc = 0; k < 100 && rc == 0; k++) {
        snprintf(id, sizeof(id), "w%ld-%d", i, k);
        e = entry(id);
        rc = jwtrev_store_batch_add(b, &e, (uint64_t)k, err);
    }
    if (rc == 0)
        rc = jwtrev_store_batch_commit(dir, b, NULL, err);
    for (k = 0; k < 100 && rc == 0; k++)
        printf("w%ld-%d\n", i, k);
    jwtrev_store_batch_free(b);
    return rc;
}

int
main(int argc, char **argv)
{
    jwtrev_error err;
    jwtrev_entry e;
    char id[32];
    long i, start, count;
    int rc = 0;

    if (argc != 4) {
        fprintf(stderr, "usage: store_writer DIR START COUNT\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    start = atol(argv[2]);
    count = atol(argv[3]);
    for (i = start; i < start + count && rc == 0; i++) {
        snprintf(id, sizeof(id), "w%ld", i);
        e = entry(id);
        rc = jwtrev_store_put(argv[1], &e, &err);
        if (rc == 0)
            printf("%s\n", id);
        if (rc == 0 && i % 50 == 49)
            rc = jwtrev_store_compact(argv[1], NULL, &err);
        if (rc == 0 && i % 120 == 119)
            rc = load_batch(argv[1], i, &err);
    }
    if (rc != 0)
        fprintf(stderr, "store_writer: %s\n", err.detail);
    return rc != 0;
}
