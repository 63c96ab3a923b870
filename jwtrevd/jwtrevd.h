/*
 * jwtrevd.h - the one writer of a host's store (docs/design.md 7): its
 * configuration (conf.c), the socket and its protocol (serve.c, ops.c),
 * the fold and purge in the background (maint.c).
 */
#ifndef JWTREVD_H
#define JWTREVD_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "jwtrev_daemon.h"
#include "jwtrev_fleet.h"
#include "jwtrev_store.h"

#define JD_DEFAULT_CONFIG "/etc/jwtrev/jwtrevd.conf"
#define JD_DEFAULT_PURGE_INTERVAL 3600
/* The delta is folded once it holds this many changes (fold_at=). */
#define JD_DEFAULT_FOLD_AT 2048
/* A failed fold is tried again after this long (fold_retry=). */
#define JD_DEFAULT_FOLD_RETRY 30
/* Key sets are fetched this often (jwks_refresh=); a Cache-Control
 * max-age between a minute and a day takes its place. */
#define JD_DEFAULT_JWKS_REFRESH 300

/* users and @groups of writers= and admins=, resolved at start */
typedef struct jd_principals {
    uid_t *uids;
    size_t n_uids;
    gid_t *gids;
    size_t n_gids;
} jd_principals;

/* jwks=URL FILE and issuer=URL FILE (docs/design.md 10) */
typedef struct jd_keysrc {
    char *url;
    char *file;
    int issuer;       /* URL is an issuer: OpenID discovery first */
    int64_t next;     /* Unix time of the next fetch */
    int64_t last_try; /* of the last fetch, done or failed */
    int64_t last_ask; /* of the last refresh-keys that moved it forward */
    int failing;
    char last_error[256]; /* logged once while it lasts */
} jd_keysrc;

typedef struct jd_conf {
    char *db;
    char *socket;
    jd_principals writers, admins;
    long purge_interval; /* seconds; 0: never */
    long fold_at;        /* changes in the delta that start a fold */
    long fold_retry;     /* seconds between tries of a failing fold */
    char *fleet;         /* conninfo, or NULL: a single host */
    char *host_id;
    char *state_dir; /* fleet: outbox and position */
    jd_keysrc *keys; /* key sets fetched from identity providers */
    size_t n_keys;
    long jwks_refresh; /* seconds between fetches (max-age may change it) */
    char *jwks_ca;     /* CA file for them, or NULL: the system's */
} jd_conf;

void jd_conf_init(jd_conf *c);
void jd_conf_free(jd_conf *c);
/* Read path (root's, not writable by group or others). */
int jd_conf_load(jd_conf *c, const char *path, jwtrev_error *err);

/* What a peer may do. */
typedef enum jd_role { JD_NOBODY, JD_WRITER, JD_ADMIN } jd_role;

typedef struct jd_peer {
    pid_t pid;
    uid_t uid;
    gid_t gid;
    jd_role role;
    gid_t groups[64]; /* its groups (SO_PEERGROUPS), the first ones */
    size_t n_groups;
} jd_peer;

/* The peer on a connected socket (SO_PEERCRED, SO_PEERGROUPS). */
int jd_peer_of(int fd, const jd_conf *c, jd_peer *out);
const char *jd_role_name(jd_role r);

/* ---- the background fold (maint.c) --------------------------------------- */

typedef struct jd_maint {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    int stop, started;
    int fold_now;     /* asked for (compact, or a delta past the bound) */
    int64_t purge_at; /* next purge (Unix time); 0: none planned */
    pthread_mutex_t fold_lock; /* one fold at a time */
    /* what status reports */
    int failing;           /* the last fold failed */
    int64_t failing_since; /* Unix time of the first failure in a row */
    char last_error[512];  /* of the last failed fold, or "" */
    int64_t last_fold;     /* Unix time of the last fold done */
    long last_fold_ms;     /* its length */
    uint64_t folds, fold_failures;
    uint64_t last_dropped; /* by the last purge */
} jd_maint;

struct jd;

int jd_maint_start(struct jd *d, jwtrev_error *err);
void jd_maint_stop(struct jd *d);
/* Fold now, on the calling thread (an admin's compact or purge). */
int jd_maint_fold(struct jd *d, int64_t purge_now, uint64_t *dropped,
                  jwtrev_error *err);

/* ---- key sets from identity providers (keys.c) ----------------------------
 */

int jd_keys_start(struct jd *d, jwtrev_error *err);
void jd_keys_stop(struct jd *d);
/* refresh-keys: fetch the sets written to these files now, if the last
 * fetch of each is a minute old. */
void jd_keys_ask(struct jd *d, const char *const *files, size_t n);

/* Make base.db's snapshot again if base.db changed since (maint.c). */
void jd_snapshot_refresh(struct jd *d);

/* ---- the daemon ---------------------------------------------------------- */

typedef struct jd {
    jd_conf conf;
    int listen_fd;
    int wake_fd[2]; /* a pipe: worker threads wake the poll loop */
    volatile int stopping;
    jd_maint maint;
    fleet *fleet;              /* fleet mode, or NULL */
    pthread_mutex_t snap_lock; /* the snapshot below */
    int snap_fd;               /* base.db's sealed snapshot, or -1 */
    unsigned char snap_id[JWTREV_STORE_SNAPSHOT_ID];
    struct stat snap_st;   /* of base.db when it was made */
    pthread_t keys_thread; /* keys.c, when key sets are configured */
    int keys_started, keys_stop;
    pthread_mutex_t keys_lock; /* the key sets' times */
    pthread_cond_t keys_wake;
    jwtrev_store_batch *boot; /* a new host's live set being collected */
    int64_t started;
    uint64_t writes, refused, bad_requests;
} jd;

/* Log a line (never a token): level as syslog's. */
void jd_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Serve the socket until d->stopping. */
int jd_serve(jd *d);

/* ---- requests (ops.c) ---------------------------------------------------- */

/* NULL when p may make req; else the refusal (the caller's). */
json_t *jd_authorize(jd *d, const jd_peer *p, json_t *req);

/* A write made ready for a group commit. */
#define JD_GROUP_MAX 256
typedef struct jd_write {
    const jd_peer *peer;
    const char *op;
    json_t *req;      /* a reference: the entry may borrow from it */
    jwtrev_token tok; /* revoke-token, revoke-subject: the token read */
    unsigned char hash[JWTREV_STORE_HASH_LEN];
    jwtrev_store_change ch;
    long wait_fleet_ms; /* --wait-fleet: wait for the fleet's database */
    uint64_t ticket;    /* fleet: the outbox ticket of the change */
} jd_write;

/* put, remove, revoke-token, revoke-subject */
int jd_is_write(json_t *req);

/*
 * Read the write req (authorized) into w: NULL, or the refusal (then w
 * is clear).  jd_commit makes n of them in one store write and sets
 * each reply; jd_write_clear releases one.
 */
json_t *jd_prepare(jd *d, const jd_peer *p, json_t *req, jd_write *w);
void jd_commit(jd *d, jd_write **w, size_t n, json_t **replies);
void jd_write_clear(jd_write *w);

/* Any other request (status, compact, purge, load-*). */
json_t *jd_handle(jd *d, const jd_peer *p, json_t *req, void **batch);
int jd_is_slow(json_t *req);
void jd_batch_free(void *batch);

/* ---- fleet mode (fleet.c) -------------------------------------------------
 */

/* Start following the fleet (fleet= set), or nothing. */
int jd_fleet_start(jd *d, jwtrev_error *err);
void jd_fleet_stop(jd *d);

/* Queue the writes for the fleet (durably) before they are made; 0
 * without fleet mode.  Sets each w's ticket. */
int jd_fleet_enqueue(jd *d, jd_write **w, size_t n, jwtrev_error *err);

/* 1 once ticket is in the fleet's database (or without fleet mode), 0
 * after timeout_ms. */
int jd_fleet_wait(jd *d, uint64_t ticket, long timeout_ms);

/* The fleet's state for status (JSON null without fleet mode). */
json_t *jd_fleet_status(jd *d);

#endif /* JWTREVD_H */
