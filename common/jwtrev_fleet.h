/*
 * jwtrev_fleet.h - fleet mode (docs/design.md 7.2): the host's link to the
 * fleet's PostgreSQL database.  jwtrevd's core calls it; it owns one
 * thread, one libpq connection (reconnecting with backoff) and the
 * host's durable outbox.
 *
 * Local first: the core enqueues a change (durable in the outbox when
 * fleet_enqueue returns) before it applies it to the local store and
 * acknowledges it; the fleet thread sends the outbox in order (resends
 * are idempotent: each change carries (host_id, outbox sequence)), and
 * follows the log by a commit-ordered position, handing every change of
 * the log (this host's own included: applying one twice is harmless) to
 * the core's apply callback in commit order.  The position advances only
 * after apply returned 0, so a change is applied at least once.
 *
 * The set merges as a CRDT whatever the order the hosts see the log in:
 * an entry is in the fleet's set while one of its adds is live (until 0
 * or in the future) and is not cancelled, an add being cancelled by a
 * tombstone of the same identity whose revoked_at (the time of the
 * unrevoke) is not earlier than the add's.  So a late add that an admin
 * already removed stays removed, and an add made after the unrevoke
 * revokes again.  The follower hands apply only adds no tombstone
 * cancels, and after a tombstone the adds of that identity that outlive
 * it (so apply must apply a batch in order).
 */
#ifndef JWTREV_FLEET_H
#define JWTREV_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "jwtrev_store.h"

typedef enum fleet_op {
    FLEET_ADD = 1,   /* add or strengthen the entry (jwtrev_store_put) */
    FLEET_REMOVE = 2 /* an admin's unrevoke: a tombstone */
} fleet_op;

/*
 * One change.  ADD: the whole entry.  REMOVE: the identity (kind, iss,
 * id); revoked_at is when it was removed (0 in fleet_enqueue: now) and
 * cancels the adds revoked at or before it; until is how long the
 * tombstone must be kept (the removed entry's until; 0 for ever), after
 * which fleet_prune drops it.
 */
typedef struct fleet_change {
    fleet_op op;
    jwtrev_entry e; /* borrowed for the call */
} fleet_change;

/* apply's bootstrap argument: 0 when following the log, else flags. */
#define FLEET_BOOTSTRAP 0x1 /* part of the fleet's live set */
#define FLEET_BOOTSTRAP_FIRST                                                  \
    0x2 /* its first batch: forget any earlier,                                \
            unfinished bootstrap */
#define FLEET_BOOTSTRAP_LAST                                                   \
    0x4 /* its last batch (n may be 0): the whole                              \
            set must be durable when apply                                     \
            returns 0 */

/*
 * Apply a batch of the log's changes to the local store (one store
 * write for the batch), in order.  Called on the fleet thread.  0:
 * applied and durable; else the batch is offered again later (after a
 * bootstrap batch: the bootstrap starts again, with FIRST).  A change
 * that does not parse never reaches it (the fleet thread skips and logs
 * it).  bootstrap: 0 when following the log; when a host without a
 * position starts from the fleet's live set (combined per identity as
 * jwtrev_store_put combines; adds only), FLEET_BOOTSTRAP on every batch
 * of it, with FIRST on the first and LAST on the last (a store may
 * collect the batches and write them once, at LAST).
 */
typedef int fleet_apply_fn(void *arg, const fleet_change *c, size_t n,
                           int bootstrap, jwtrev_error *err);

/* Messages for the daemon's log: level as syslog's (LOG_ERR, ...).
 * Never a token, a key or the conninfo (it may hold a password). */
typedef void fleet_log_fn(void *arg, int level, const char *msg);

typedef struct fleet_config {
    const char *conninfo;  /* libpq, multi-host allowed; defaults added
                              unless it sets them: connect_timeout=3,
                              TCP keepalives, application_name */
    const char *host_id;   /* this host's name in the log */
    const char *state_dir; /* the outbox and the position live here (it
                              must exist; the files are created 0600) */
    fleet_apply_fn *apply;
    fleet_log_fn *log;
    void *arg; /* for apply and log */
} fleet_config;

typedef struct fleet fleet;

/*
 * Open the outbox and position (creating them; a torn record at the end
 * of the outbox, left by a crash, is dropped and logged), start the
 * thread.  Does not wait for the database.
 */
int fleet_open(const fleet_config *cfg, fleet **out, jwtrev_error *err);

/*
 * Append n changes to the outbox, durably (fsynced) when it returns 0;
 * *ticket (may be NULL): the outbox sequence of the last one, for
 * fleet_wait_sent.  Never waits for the network.  Refuses
 * (config_error) a change jwtrev_entry_check refuses, and then none of
 * the n is queued.  Thread-safe.
 */
int fleet_enqueue(fleet *f, const fleet_change *c, size_t n, uint64_t *ticket,
                  jwtrev_error *err);

/*
 * Wait until the change with ticket, and every change before it, is
 * committed in the database: 0, -1 after timeout_ms (< 0: no limit).  A
 * change the database refuses for good (a host role sending a
 * tombstone) is dropped from the outbox and logged, and counts as sent
 * here; fleet_status's refused counts it.  Thread-safe.
 */
int fleet_wait_sent(fleet *f, uint64_t ticket, long timeout_ms);

typedef struct fleet_status {
    int connected;        /* a session to a read-write server now */
    int bootstrapped;     /* the host has a position (it did bootstrap,
                             now or before) */
    char server[256];     /* host:port of it, or "" */
    char position[128];   /* the follower's position (a PostgreSQL
                             snapshot, "xmin:xmax:xip,..."), as text;
                             cut with "..." when longer */
    uint64_t outbox;      /* changes not yet committed to the database */
    uint64_t applied;     /* changes applied from the log since start */
    uint64_t skipped;     /* log rows that did not parse */
    uint64_t refused;     /* outbox changes the database refused for good */
    double lag_seconds;   /* age of the newest change not yet applied,
                             or since the last successful poll when
                             disconnected; 0 when in step */
    int64_t last_contact; /* Unix time of the last successful query */
    char last_error[256]; /* the last failure, or "" */
} fleet_status;

void fleet_status_get(fleet *f, fleet_status *out);

/* Stop the thread and close everything (the outbox stays on disk).
 * May wait for a connection attempt in progress (connect_timeout). */
void fleet_close(fleet *f);

/* ---- administration (jwtrev fleet) ---------------------------------------
 */

/*
 * The schema (jwtrev fleet schema): roles jwtrev_host and jwtrev_admin,
 * schema jwtrev, table jwtrev.log, grants, row-level policies, the
 * notify trigger.  Idempotent: applying it again creates what is missing
 * and resets grants and policies.  Login roles are the admin's: CREATE
 * ROLE web1 LOGIN IN ROLE jwtrev_host.
 */
extern const char fleet_schema_sql[];

/*
 * Apply fleet_schema_sql in one transaction (jwtrev fleet init), as a
 * role that may create roles and schemas.  -JWTREV_ERR_DB_ERROR naming
 * the server's complaint.
 */
int fleet_schema_apply(const char *conninfo, jwtrev_error *err);

/*
 * Delete the rows that no longer matter (jwtrev fleet prune; a role in
 * jwtrev_admin): every row whose until is set and <= now (adds and
 * tombstones), and every add a tombstone cancels.  *deleted (may be
 * NULL) counts them.  -JWTREV_ERR_DB_ERROR (a host role: permission
 * denied).
 */
int fleet_prune(const char *conninfo, int64_t now, uint64_t *deleted,
                jwtrev_error *err);

/*
 * An admin's unrevoke for the whole fleet (jwtrev fleet unrevoke): the
 * tombstone of e's identity, dated now, written with conninfo's role
 * (one in jwtrev_admin; a host role is refused by the database) as
 * origin; every host's follower then removes the entry.  *cancelled (may
 * be NULL): the adds of the log it cancels; with none, nothing is
 * written.
 */
int fleet_unrevoke(const char *conninfo, const char *origin,
                   const jwtrev_entry *e, int64_t now, uint64_t *cancelled,
                   jwtrev_error *err);

#endif /* JWTREV_FLEET_H */
