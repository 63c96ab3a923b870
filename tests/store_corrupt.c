/*
 * store_corrupt.c - the store's corruption fuzzer: thousands of trials,
 * each damaging one file of a copy of a store (random bytes flipped, the
 * file cut at a random offset, or cut and partly rewritten in place as a
 * "cp" over the live file does), either before a reader opens it or while
 * a reader holds it open, then asking about every revoked entry.  What
 * must hold: no crash, no hang (an alarm ends the program), and never
 * "not revoked" for a revoked token: each answer is "revoked" or
 * db_error.
 *
 *   store_corrupt [TRIALS [SEED]]   (defaults 2000, the time)
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "store_testutil.h"

#define N_BASE 1500 /* revoked entries folded into base.db */
#define N_DELTA 40  /* revoked entries in delta.db */
#define ISS "https://issuer.example"

/* The files of the pristine store: name and bytes. */
struct pristine {
    char name[STOREP_NAME_MAX];
    unsigned char *data;
    size_t len;
};

static struct pristine files[8];
static size_t n_files;
static uint64_t rng;

static uint64_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void
jti_of(int i, char *buf)
{
    snprintf(buf, 32, "r%05d", i);
}

static int
build_pristine(const char *dir)
{
    jwtrev_store_batch *b = NULL;
    jwtrev_entry e;
    jwtrev_error err;
    char jti[32];
    int i, rc = jwtrev_store_init(dir, -1, 0, &err);

    if (rc == 0)
        rc = jwtrev_store_batch_new(&b);
    for (i = 0; rc == 0 && i < N_BASE; i++) {
        jti_of(i, jti);
        e = st_entry(JWTREV_ENTRY_TOKEN, ISS, jti, 0, 0, "lost");
        rc = jwtrev_store_batch_add(b, &e, (uint64_t)i, &err);
    }
    if (rc == 0)
        rc = jwtrev_store_batch_commit(dir, b, NULL, &err);
    jwtrev_store_batch_free(b);
    for (i = N_BASE; rc == 0 && i < N_BASE + N_DELTA; i++) {
        jti_of(i, jti);
        rc = st_put(dir, st_entry(JWTREV_ENTRY_TOKEN, ISS, jti, 0, 0, NULL));
    }
    if (rc != 0)
        tap_diag("building the store: %s", err.detail);
    return rc;
}

static int
slurp(const char *dir, const char *name, struct pristine *p)
{
    char path[PATH_MAX + 64];
    struct stat st;
    int fd;

    if (strlen(name) >= sizeof(p->name))
        return -1;
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return -1;
    fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0)
        return -1;
    memcpy(p->name, name, strlen(name) + 1);
    p->len = (size_t)st.st_size;
    p->data = malloc(p->len + 1);
    if (p->data == NULL || read(fd, p->data, p->len) != (ssize_t)p->len) {
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* The store's files, read once: base.db, delta.db, gen and the filter. */
static int
load_pristine(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;

    if (d == NULL)
        return -1;
    while (rc == 0 && (de = readdir(d)) != NULL && n_files < 8) {
        if (strcmp(de->d_name, "base.db") == 0 ||
            strcmp(de->d_name, "delta.db") == 0 ||
            strcmp(de->d_name, "gen") == 0 ||
            strncmp(de->d_name, "bloom.", 6) == 0)
            rc = slurp(dir, de->d_name, &files[n_files++]);
    }
    closedir(d);
    return rc;
}

static int
write_file(const char *dir, const char *name, const unsigned char *data,
           size_t len, int flags)
{
    char path[PATH_MAX + 64];
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | flags, 0600);
    if (fd < 0)
        return -1;
    if (len > 0 && write(fd, data, len) != (ssize_t)len)
        rc = -1;
    close(fd);
    return rc;
}

/* A fresh copy of the pristine store in dir (same files, same modes). */
static int
copy_pristine(const char *dir)
{
    size_t i;

    for (i = 0; i < n_files; i++) {
        char path[PATH_MAX + 64];

        snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
        unlink(path);
        if (write_file(dir, files[i].name, files[i].data, files[i].len,
                       O_EXCL) != 0)
            return -1;
    }
    return 0;
}

enum damage { FLIP, CUT, CUT_AND_REWRITE, N_DAMAGE };

static const char *const damage_names[] = {"flip", "cut", "cut+rewrite"};

/* Damage file f of the copy in dir in place (same inode, as a cp does). */
static int
damage(const char *dir, const struct pristine *f, enum damage how)
{
    char path[PATH_MAX + 64];
    unsigned char *buf, b;
    size_t at = f->len > 0 ? next_rand() % f->len : 0, n, i, off;
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, f->name);
    switch (how) {
    case FLIP:
        fd = open(path, O_WRONLY);
        if (fd < 0)
            return -1;
        n = 1 + next_rand() % 8;
        for (i = 0; i < n && f->len > 0 && rc == 0; i++) {
            off = next_rand() % f->len;
            b = f->data[off] ^ (unsigned char)(1 + next_rand() % 255);
            if (pwrite(fd, &b, 1, (off_t)off) != 1)
                rc = -1;
        }
        close(fd);
        return rc;
    case CUT:
        return truncate(path, (off_t)at);
    default:
        /* cp over the live file: cut to nothing, then part of a write. */
        buf = malloc(f->len + 1);
        if (buf == NULL)
            return -1;
        memcpy(buf, f->data, f->len);
        for (i = at; i < f->len; i++)
            buf[i] = (unsigned char)next_rand();
        rc = write_file(dir, f->name, buf, at + (f->len - at) / 2, O_TRUNC);
        free(buf);
        return rc;
    }
}

struct tally {
    unsigned long trials, refused_open, revoked, db_error, not_revoked;
    unsigned long by_damage[N_DAMAGE];
};

/* Ask about every revoked entry; count the answers. */
static void
ask_all(jwtrev_revdb *db, struct tally *t, const char *what)
{
    char jti[32];
    jwtrev_error err;
    jwtrev_token tok;
    int i, rc;

    for (i = 0; i < N_BASE + N_DELTA; i++) {
        jti_of(i, jti);
        tok = st_token(NULL, ISS, "s", jti, -1, (unsigned char)i);
        rc = jwtrev_revdb_check(db, &tok, 1000, &err);
        if (rc == -JWTREV_ERR_REVOKED) {
            t->revoked++;
        } else if (rc == -JWTREV_ERR_DB_ERROR) {
            t->db_error++;
        } else {
            if (t->not_revoked++ < 5)
                tap_diag("%s: %s answered %d (%s)", what, jti, rc,
                         rc ? err.detail : "not revoked");
        }
    }
}

int
main(int argc, char **argv)
{
    unsigned long trials = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000;
    char pristine[PATH_MAX], work[PATH_MAX], what[256];
    struct tally t;
    jwtrev_revdb *db = NULL;
    jwtrev_error err;
    unsigned long k;

    rng = argc > 2 ? strtoull(argv[2], NULL, 10) : (uint64_t)time(NULL);
    if (rng == 0)
        rng = 1;
    printf("# seed %llu\n", (unsigned long long)rng);
    st_setup();
    memset(&t, 0, sizeof(t));
    jwtrev_error_clear(&err);
    st_store("pristine", pristine);
    snprintf(work, sizeof(work), "%s/work", st_root);
    ok(build_pristine(pristine) == 0 && load_pristine(pristine) == 0 &&
           n_files >= 4,
       "a store of %d revoked entries in base.db and %d in delta.db", N_BASE,
       N_DELTA);
    ok(mkdir(work, 0700) == 0 && copy_pristine(work) == 0 &&
           jwtrev_revdb_open(work, &db, &err) == 0,
       "its copy opens%s%s", err.code ? ": " : "", err.code ? err.detail : "");
    if (db != NULL)
        ask_all(db, &t, "pristine");
    jwtrev_revdb_close(db);
    ok(t.revoked == N_BASE + N_DELTA && t.db_error == 0,
       "undamaged: every entry revoked");
    memset(&t, 0, sizeof(t));
    /* A hang is a failure: the alarm ends the program, and so the plan. */
    alarm((unsigned)(60 + trials / 10));
    for (k = 0; k < trials; k++) {
        const struct pristine *f = &files[next_rand() % n_files];
        enum damage how = (enum damage)(next_rand() % N_DAMAGE);
        int live = (int)(next_rand() & 1);

        snprintf(what, sizeof(what), "trial %lu: %s of %s%s", k,
                 damage_names[how], f->name,
                 live ? " under an open reader" : "");
        if (copy_pristine(work) != 0) {
            tap_diag("%s: cannot copy the store", what);
            break;
        }
        db = NULL;
        if (live && jwtrev_revdb_open(work, &db, &err) != 0) {
            tap_diag("%s: the undamaged copy did not open: %s", what,
                     err.detail);
            break;
        }
        if (damage(work, f, how) != 0) {
            tap_diag("%s: cannot damage the copy", what);
            break;
        }
        if (!live && jwtrev_revdb_open(work, &db, &err) != 0)
            t.refused_open++;
        if (db != NULL)
            ask_all(db, &t, what);
        jwtrev_revdb_close(db);
        t.by_damage[how]++;
        t.trials++;
    }
    alarm(0);
    ok(t.trials == trials,
       "%lu trials (flip %lu, cut %lu, cut+rewrite %lu), "
       "no crash, no hang",
       t.trials, t.by_damage[FLIP], t.by_damage[CUT],
       t.by_damage[CUT_AND_REWRITE]);
    ok(t.not_revoked == 0,
       "never \"not revoked\" for a revoked entry: %lu revoked, %lu db_error, "
       "%lu not revoked; %lu damaged stores refused at open",
       t.revoked, t.db_error, t.not_revoked, t.refused_open);
    return tap_done();
}
