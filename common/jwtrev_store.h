/*
 * jwtrev_store.h - the administration interface of the revocation store
 * (docs/design.md 4), used by the jwtrev tool and the tests.  The
 * modules need only the reader and the two writes declared in jwtrev.h.
 *
 * Every function takes the store directory; writers serialise on the
 * store's lock and each change is visible to every reader when the
 * function returns.  Conventions as in jwtrev.h.
 */
#ifndef JWTREV_STORE_H
#define JWTREV_STORE_H

#include <stdint.h>

#include "jwtrev.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What an entry revokes (docs/design.md 4).  The values are stored on disk. */
typedef enum jwtrev_entry_kind {
    JWTREV_ENTRY_TOKEN = 1,   /* one token by (iss, jti) */
    JWTREV_ENTRY_HASH = 2,    /* one token by SHA-256 of header.payload */
    JWTREV_ENTRY_SUBJECT = 3, /* tokens of (iss, sub) issued before a time */
    JWTREV_ENTRY_KEY = 4      /* tokens whose header kid is id */
} jwtrev_entry_kind;

/* kind as a bit for masks: JWTREV_ENTRY_BIT(JWTREV_ENTRY_KEY) */
#define JWTREV_ENTRY_BIT(kind) (1u << (kind))
#define JWTREV_ENTRY_ALL 0x1eu

#define JWTREV_STORE_ID_MAX 1024    /* bytes of an iss, jti, sub or kid */
#define JWTREV_STORE_REASON_MAX 128 /* bytes of a reason text */
#define JWTREV_STORE_HASH_LEN 32

/*
 * One entry.  The pointers are borrowed: the caller keeps them alive for
 * the call; entries handed to a visitor live until the visitor returns.
 * Texts are counted, not NUL-terminated, and are UTF-8 without control
 * characters (the writers refuse anything else).
 */
typedef struct jwtrev_entry {
    jwtrev_entry_kind kind;
    const char *iss;         /* token, subject: the issuer ("" = none) */
    size_t iss_len;          /* ... other kinds: 0 */
    const unsigned char *id; /* jti, sub or kid; hash: the 32 raw bytes */
    size_t id_len;
    int64_t revoked_at; /* Unix time of the revocation */
    int64_t until;      /* the entry matters while now < until;
                           0: until removed */
    int64_t not_before; /* subject: tokens with iat < this (or
                           without iat) are rejected; else 0 */
    const char *reason; /* may be empty */
    size_t reason_len;
} jwtrev_entry;

/* "token", "hash", "subject", "key"; NULL for anything else. */
const char *jwtrev_entry_kind_name(int kind);

/* The kind called name, or -JWTREV_ERR_CONFIG_ERROR. */
int jwtrev_entry_kind_parse(const char *name, jwtrev_entry_kind *out);

/*
 * Refuse an entry a writer would refuse (config_error naming the field):
 * an unknown kind, an empty or overlong id, a hash id that is not 32
 * bytes, text that is not UTF-8 or has control characters, an issuer on
 * a kind without one, negative times.
 */
int jwtrev_entry_check(const jwtrev_entry *e, jwtrev_error *err);

/*
 * An entry as one JSON object, the dump and load format and the entries
 * of jwtrevd's protocol: {"kind", "iss", "jti"|"sub"|"kid"|"sha256",
 * "before", "revoked_at", "until", "reason"}.  NULL when out of memory.
 */
json_t *jwtrev_entry_to_json(const jwtrev_entry *e);

/*
 * The entry that JSON object o describes (revoked_at defaults to now,
 * until to 0, reason to "", before to now).  *e borrows from o and hash.
 * 0, or -1 with *why set.
 */
int jwtrev_entry_from_json(json_t *o, int64_t now,
                           unsigned char hash[JWTREV_STORE_HASH_LEN],
                           jwtrev_entry *e, const char **why);

/* 64 lowercase hex digits into 32 bytes; 0 or -1. */
int jwtrev_sha256_from_hex(const char *s, unsigned char *out);

/* n bytes as 2n lowercase hex digits and a NUL into out. */
void jwtrev_hex(const unsigned char *p, size_t n, char *out);

/* The name of kind's id member: "jti", "sha256", "sub", "kid"; or NULL. */
const char *jwtrev_entry_id_name(int kind);

/* 1 for the kinds with an issuer (token, subject). */
int jwtrev_entry_has_iss(int kind);

/* ---- creating a store ---------------------------------------------------- */

/* init: the group may write (the httpd logout handler). */
#define JWTREV_STORE_GROUP_WRITABLE 0x01u

/*
 * Create the store in dir (the parent must exist), or repair the modes of
 * an existing one without touching its entries.  gid < 0: only the owner
 * may read (directory 0700, files 0600); else the group gid may read
 * (directory 2750, files 0640) and with JWTREV_STORE_GROUP_WRITABLE also
 * write (directory 2770; the gen file 0660).  Nothing is world-accessible.
 */
int jwtrev_store_init(const char *dir, long gid, unsigned flags,
                      jwtrev_error *err);

/* ---- single changes ------------------------------------------------------ */

/*
 * Add the entry e, or strengthen the one with the same identity: a later
 * not_before and a later until (0 counts as latest) win, revoked_at and
 * the reason are e's.  So a second revocation never weakens the first;
 * unrevoke first to shorten one.
 */
int jwtrev_store_put(const char *dir, const jwtrev_entry *e, jwtrev_error *err);

/*
 * Remove the entry with the identity of key (kind, iss, id; the other
 * fields are ignored).  *removed is 1 when there was one, else 0.
 */
int jwtrev_store_remove(const char *dir, const jwtrev_entry *key, int *removed,
                        jwtrev_error *err);

/*
 * Several changes in one write (one new delta, one publication): the
 * daemon's group commit, a batch from the fleet.  Applied in order, all
 * or none; each removal's removed says whether there was an entry.
 * An entry a writer refuses fails the whole batch before anything is
 * written.
 */
typedef struct jwtrev_store_change {
    int remove;     /* 0: put e; 1: remove e's identity */
    jwtrev_entry e; /* borrowed for the call */
    int removed;    /* out: remove found one */
} jwtrev_store_change;

int jwtrev_store_apply(const char *dir, jwtrev_store_change *c, size_t n,
                       jwtrev_error *err);

/* ---- whole-store operations ---------------------------------------------- */

/*
 * Long operations report progress through this, when not NULL: done of
 * total units (total may be an estimate; done never passes it).
 */
typedef struct jwtrev_store_progress {
    void (*fn)(void *arg, const char *what, uint64_t done, uint64_t total);
    void *arg;
} jwtrev_store_progress;

/* Fold the recent changes into the base file (one new file). */
int jwtrev_store_compact(const char *dir, const jwtrev_store_progress *p,
                         jwtrev_error *err);

/*
 * Drop the entries whose until is set and <= now (their tokens are
 * expired anyway); *dropped counts them.  Also compacts.
 */
int jwtrev_store_purge(const char *dir, int64_t now,
                       const jwtrev_store_progress *p, uint64_t *dropped,
                       jwtrev_error *err);

/*
 * The fold the store's daemon makes in the background (docs/design.md
 * 7): compact (and, when purge_now != 0, purge as of then) holding the
 * writers' lock only to take the changes and, at the end, to put the new
 * base in place: writes go on meanwhile.  *raced is 1 when another writer
 * replaced the base meanwhile (nothing done; fold again).  Only for a
 * store whose daemon marker is set (removals there keep tombstones,
 * which the fold needs to stay exact).
 */
int jwtrev_store_fold(const char *dir, int64_t purge_now,
                      const jwtrev_store_progress *p, uint64_t *dropped,
                      int *raced, jwtrev_error *err);

/* ---- a store a daemon owns (docs/design.md 7) ---------------------------- */

/*
 * The socket of the jwtrevd that owns the store dir, from its marker
 * file "daemon" (judged as every store file is): 1 and socket filled, 0
 * when no daemon owns it, or db_error.
 */
int jwtrev_store_daemon_get(const char *dir, char *socket, size_t len,
                            jwtrev_error *err);

/*
 * Mark the store as owned by the daemon listening on socket (an
 * absolute path), or, with NULL, as owned by none (direct writes again).
 * While it is marked, writes never fold the delta into the base (the
 * daemon does, beside them) and removals leave tombstones.
 */
int jwtrev_store_daemon_set(const char *dir, const char *socket,
                            jwtrev_error *err);

/*
 * A snapshot of the store's base.db for its long-lived readers (jwtrevd
 * hands them out; jwtrev_revdb_open_flags): a memfd holding a copy of
 * its records without page checksums (each checked as it was copied),
 * sealed against any write, growth or shrinking.  scratch: a directory
 * for the copy on its way (removed).  *fd is the caller's; id is the
 * base's.
 */
#define JWTREV_STORE_SNAPSHOT_ID 16
int jwtrev_store_snapshot_make(const char *dir, const char *scratch, int *fd,
                               unsigned char id[JWTREV_STORE_SNAPSHOT_ID],
                               jwtrev_error *err);

/*
 * A batch of entries to add in one pass (jwtrev load): collect them, then
 * commit writes one new base file with the store's entries and the
 * batch's (combined as jwtrev_store_put does).  Two batch entries with
 * the same identity are refused at commit, naming both tags.
 */
typedef struct jwtrev_store_batch jwtrev_store_batch;

int jwtrev_store_batch_new(jwtrev_store_batch **out);

/* Copy e into the batch; tag (e.g. a line number) names it in errors. */
int jwtrev_store_batch_add(jwtrev_store_batch *b, const jwtrev_entry *e,
                           uint64_t tag, jwtrev_error *err);

size_t jwtrev_store_batch_count(const jwtrev_store_batch *b);

int jwtrev_store_batch_commit(const char *dir, jwtrev_store_batch *b,
                              const jwtrev_store_progress *p,
                              jwtrev_error *err);

void jwtrev_store_batch_free(jwtrev_store_batch *b);

/* ---- reading ------------------------------------------------------------- */

/*
 * Call fn for every entry whose kind is in the mask kinds, in key order
 * (kind, issuer, id), from one consistent version of the store; needs
 * read access only.  A non-zero return from fn stops the walk and is
 * returned.
 */
typedef int jwtrev_store_visit_fn(void *arg, const jwtrev_entry *e);
int jwtrev_store_foreach(const char *dir, unsigned kinds,
                         jwtrev_store_visit_fn *fn, void *arg,
                         const jwtrev_store_progress *p, jwtrev_error *err);

typedef struct jwtrev_store_stats {
    uint64_t entries[5];   /* indexed by jwtrev_entry_kind; [0] the sum */
    uint64_t recent;       /* changes in the delta file, not yet folded */
    uint64_t base_bytes;   /* size of the base file */
    uint64_t delta_bytes;  /* size of the delta file */
    uint64_t filter_bytes; /* size of the base file's lookup filter */
    uint64_t issuers;      /* distinct issuers in the base file */
    uint64_t generation;   /* changes since init */
} jwtrev_store_stats;

int jwtrev_store_stats_get(const char *dir, jwtrev_store_stats *out,
                           jwtrev_error *err);

/* ---- checking the whole store (jwtrev check) ------------------------------
 */

/* check: rewrite, under the writers' lock, what intact files allow. */
#define JWTREV_STORE_CHECK_REBUILD 0x01u

/* What was found of one file. */
typedef enum jwtrev_check_verdict {
    JWTREV_CHECK_OK = 0,
    JWTREV_CHECK_DAMAGED,  /* unreadable, a page checksum, meta records,
                              order, counts; a filter missing an entry */
    JWTREV_CHECK_MISSING,  /* not there */
    JWTREV_CHECK_STALE,    /* delta.db written for another base.db: readers
                              ignore its changes */
    JWTREV_CHECK_LEFTOVER, /* a temporary file a dead writer left */
    JWTREV_CHECK_BUSY,     /* a temporary file while a writer holds the
                              lock: its own; not damage */
    JWTREV_CHECK_UNUSED    /* the filter of an earlier base.db (compact
                              leaves it to the next writer); not damage */
} jwtrev_check_verdict;

/* "ok", "damaged", "missing", "stale", "leftover", "busy", "unused";
 * NULL for anything else. */
const char *jwtrev_check_verdict_name(int verdict);

#define JWTREV_STORE_CHECK_FILES 32

typedef struct jwtrev_store_check_file {
    char name[64];    /* base.db, delta.db, bloom.<id>, gen, lock, ... */
    int verdict;      /* jwtrev_check_verdict */
    int checksums;    /* Berkeley DB files: 1 page checksums, 0 none
                         (written by an older jwtrev), -1 not known */
    uint64_t records; /* base.db, delta.db: entries walked */
    int repaired;     /* --rebuild: rewritten or removed, now intact */
    char detail[JWTREV_DETAIL_MAX]; /* what is wrong ("" when ok) */
    char action[JWTREV_DETAIL_MAX]; /* --rebuild: what was done, or why
                                       not and what to do instead */
} jwtrev_store_check_file;

typedef struct jwtrev_store_check_report {
    int examined; /* 0: the directory itself could not be read */
    jwtrev_store_check_file files[JWTREV_STORE_CHECK_FILES];
    size_t n_files;
    size_t n_omitted;       /* leftovers past the table */
    uint64_t entries[5];    /* base.db's entries per kind, [0] the sum */
    uint64_t changes;       /* delta.db's records */
    unsigned damaged;       /* files still not intact (after --rebuild) */
    unsigned repaired;      /* files --rebuild made intact */
    unsigned unchecksummed; /* Berkeley DB files without page checksums */
    char summary[JWTREV_DETAIL_MAX];
} jwtrev_store_check_report;

/*
 * Verify the whole store as the readers would read it: the directory and
 * every file judged (storep_open_in's rules), every page of base.db and
 * delta.db read and its checksum checked (a walk of every record, and
 * Berkeley DB's own verifier), the meta records against the entries
 * (counts per kind, issuer table, key order), delta.db naming base.db,
 * the filter present, checksummed and answering "maybe" for every entry
 * of base.db, gen, lock; leftover temporary files and filters of other
 * bases.  Needs read access only.
 *
 * With JWTREV_STORE_CHECK_REBUILD, under the writers' lock: a damaged or
 * missing filter, a stale delta.db (its entries base.db lacks are kept)
 * and files without page checksums are rewritten from an intact base.db
 * and delta.db (as compact does), leftovers removed; a damaged base.db or
 * delta.db is never rewritten (entries would be lost): the report says
 * how to restore it.
 *
 * *out is always filled.  0: intact (after --rebuild: everything made
 * intact); -JWTREV_ERR_DB_ERROR naming the first damage (out->examined 0
 * when the directory itself cannot be read); -JWTREV_ERR_INTERNAL.
 */
int jwtrev_store_check(const char *dir, unsigned flags,
                       jwtrev_store_check_report *out, jwtrev_error *err);

/* ---- tokens for the admin tool ------------------------------------------- */

/*
 * The entry that revokes token t (what jwtrev_store_revoke_token
 * stores): by (iss, jti) when t has a jti a store can hold, else by its
 * signing-input hash; until exp + leeway (none without exp).  *out
 * borrows from t and reason.  Never fails.
 */
void jwtrev_entry_for_token(const jwtrev_token *t, int64_t leeway, int64_t now,
                            const char *reason, jwtrev_entry *out);

#ifdef __cplusplus
}
#endif
#endif /* JWTREV_STORE_H */
