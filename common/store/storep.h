/*
 * storep.h - the revocation store's private parts, shared by its files
 * (store*.c, revdb.c) and its unit tests.
 *
 * A store is a directory (docs/design.md 4):
 *   lock       writers hold flock(LOCK_EX) on it; the kernel drops it when
 *              a writer dies, so a killed writer never blocks anyone
 *   gen        a counter a writer bumps in place after each change; readers
 *              map it read-only and compare it on every lookup
 *   base.db    Berkeley DB B-tree of the entries, immutable once in place
 *   delta.db   B-tree of the changes since base.db (adds, tombstones),
 *              rewritten on each change; small
 *   bloom.ID   the lookup filter of the base file whose id is ID
 *   daemon     present when a jwtrevd owns the store: names its socket
 *              (store_daemon.c)
 *   *.tmp.PID.N  a writer's file before its rename; the next writer
 *              removes those a dead writer left (a live one holds their
 *              flock)
 * Files are written beside, fsynced and renamed into place, so a reader
 * always opens a whole file and never shares a lock with a writer.
 *
 * Inside a file, an entry's key is its kind byte, then for token and
 * subject entries the 4-byte big-endian index of its issuer in the file's
 * issuer table, then the id bytes.  Issuer indexes follow the issuers'
 * byte order, so key order is (kind, issuer, id) in every file and files
 * merge as sorted streams.  Keys starting with a 0 byte are the file's
 * meta records (format version, id, issuer table, counts; for a base the
 * id of the base it was folded from, for the delta its base's id and
 * filter).
 */
#ifndef STOREP_H
#define STOREP_H

#include <sys/stat.h>
#include <sys/types.h>

#include <db.h>

#include "jwtrev_store.h"

#define STOREP_VERSION 1 /* the one file format this code reads */
#define STOREP_ID_LEN 16 /* random id of a file */
#define STOREP_KEY_MAX (1 + 4 + JWTREV_STORE_ID_MAX)
#define STOREP_VAL_MAX (1 + 8 + 8 + 8 + JWTREV_STORE_REASON_MAX)
#define STOREP_NCOUNT 5 /* counts per kind, [0] tombstones */

/*
 * Readers read gen at most once per this long (a read is a system call;
 * a mapping of it would die of SIGBUS when the file is truncated), and
 * every writer waits this long after its bump before it returns: a change
 * is seen by every lookup that starts after its writer returned.
 */
#define STOREP_GEN_TTL_NS 1000000LL

/*
 * A delta holding more changes than this is folded into a new base by the
 * write that passes it: keeps one revoke into a large store to the cost
 * of rewriting a small file (bench/store.sh measures both).
 */
#define STOREP_DELTA_MAX 2048

/* Flags of a stored entry. */
#define STOREP_TOMBSTONE 0x01u /* delta: the base's entry was removed */
#define STOREP_SHADOW 0x02u    /* delta: replaces an entry of the base */

/* An entry with its flags; batch entries carry the caller's tag. */
typedef struct storep_rec {
    jwtrev_entry e;
    unsigned flags;
    uint64_t tag;
    uint64_t pfx; /* in a set: the id's first 8 bytes, big-endian, zero
                     padded (sorting compares this before the bytes) */
} storep_rec;

/* Byte order with a proper prefix first: Berkeley DB's key order. */
int storep_bytes_cmp(const void *a, size_t alen, const void *b, size_t blen);

/* Compare identities: kind, then issuer bytes, then id bytes. */
int storep_rec_cmp(const jwtrev_entry *a, const jwtrev_entry *b);

/* Combine a new entry with an existing live one (see jwtrev_store_put). */
void storep_rec_combine(jwtrev_entry *nw, const jwtrev_entry *old);

/* 1 when the entry still matters at now (until 0 or in the future). */
int storep_rec_live(const jwtrev_entry *e, int64_t now);

/* Big-endian integers of the file format. */
void storep_put_u32(unsigned char *p, uint32_t v);
uint32_t storep_get_u32(const unsigned char *p);
void storep_put_i64(unsigned char *p, int64_t v);
int64_t storep_get_i64(const unsigned char *p);

/* Encode an entry's value (flags, times, reason); returns its length. */
size_t storep_val_encode(const storep_rec *r, unsigned char *buf);

/* Decode a value into r's flags, times and reason (pointing into buf). */
int storep_val_decode(const unsigned char *buf, size_t len, storep_rec *r);

/* ---- opening store files (store_open.c) ---------------------------------- */

/* The longest name of a store file (bloom.<32 hex>, NAME.tmp.PID). */
#define STOREP_NAME_MAX 48

/* The store directory as judged once per operation. */
typedef struct storep_dir {
    const char *path; /* borrowed */
    uid_t uid;        /* its owner: root or this process's user */
    gid_t gid;
    int group_writes; /* setgid and group-writable (--logout-writable) */
} storep_dir;

/*
 * Judge the store directory at path (following a link to it): a
 * directory, not writable by others, owned by root or by this process's
 * user.  db_error naming it otherwise.
 */
int storep_dir_check(const char *path, storep_dir *out, jwtrev_error *err);

/*
 * Judge a store file's stat: a regular file, not writable by others,
 * owned by root, by the directory's owner or, when the group writes the
 * store, of its group.  db_error naming path and what is wrong.
 */
int storep_file_judge(const storep_dir *d, const char *path,
                      const struct stat *st, jwtrev_error *err);

/*
 * Open name in d with flags (O_RDONLY, O_RDWR), never following a link
 * and never blocking, and judge the opened file: 0 with *fd and *st, or
 * db_error (missing, a link, a FIFO, a device, modes, owner).
 */
int storep_open_in(const storep_dir *d, const char *name, int flags, int *fd,
                   struct stat *st, jwtrev_error *err);

/*
 * The gen file: STOREP_GEN_MAGIC, then the counter (8 bytes, host order)
 * that writers bump in place.  storep_gen_read: the counter of the file
 * on fd, or db_error (cut short, not a gen file) naming dir's gen.
 */
#define STOREP_GEN_MAGIC "JWTRGEN1"
#define STOREP_GEN_LEN 16
int storep_gen_read(int fd, const char *dir, uint64_t *out, jwtrev_error *err);

/*
 * 1 when name in d is still the file was describes, unchanged (inode,
 * size and change time: an in-place write or truncation changes the
 * last two) and still acceptable.
 */
int storep_lstat_same(const storep_dir *d, const char *name,
                      const struct stat *was);

/* ---- the lookup filter (store_bloom.c) ----------------------------------- */

/*
 * A blocked Bloom filter: every key sets bits in one 64-byte block, so a
 * probe reads one cache line.  Keyed SipHash (key: the base file's id)
 * spreads keys, so nobody can aim at a filter without reading the store.
 */
#define STOREP_BLOOM_HEADER 64

typedef struct storep_bloom {
    const unsigned char *blocks; /* nblocks * 64 bytes; NULL: no filter */
    uint32_t nblocks;
    size_t rec_len;       /* scratch while a delta's meta record is read */
    unsigned char *owned; /* the heap copy blocks point into, or NULL */
} storep_bloom;

/* SipHash-c-d of msg under the 128-bit key. */
uint64_t storep_siphash(int c, int d, const uint64_t key[2], const void *msg,
                        size_t len);

/* The hash key from a base file's id. */
void storep_hash_key(const unsigned char *id, uint64_t key[2]);

/* The filter hash of an entry's identity (kind, issuer, id). */
uint64_t storep_entry_hash(const uint64_t key[2], const jwtrev_entry *e);

/*
 * Adopt a serialised filter (header + blocks) keyed with the id into b,
 * pointing into buf.  -1 when buf is not a filter of this format (no
 * filter: lookups stay right, only slower); -2 when it is one that is
 * cut, names another file or fails its checksum (damage: the caller
 * refuses the store).
 */
int storep_bloom_parse(storep_bloom *b, const unsigned char *buf, size_t len,
                       const unsigned char *id);

/* 0: key is surely absent; 1: maybe present (or no filter). */
int storep_bloom_maybe(const storep_bloom *b, uint64_t h);

void storep_bloom_release(storep_bloom *b);

/* A filter being built: sized for n keys. */
typedef struct storep_bloom_builder {
    unsigned char *buf; /* header + blocks, heap */
    size_t len;
    storep_bloom b;
} storep_bloom_builder;

int storep_bloom_build_init(storep_bloom_builder *bb, uint64_t n,
                            const unsigned char *id);
void storep_bloom_build_add(storep_bloom_builder *bb, uint64_t h);
/* Write the checksum of the filter as it is now (before it is stored). */
void storep_bloom_build_seal(storep_bloom_builder *bb);
void storep_bloom_build_free(storep_bloom_builder *bb);

/* ---- one store file, read-only (store_file.c) ---------------------------- */

typedef struct storep_str {
    const char *s;
    size_t len;
} storep_str;

/* Open for many threads (DB_THREAD): the reader handle. */
#define STOREP_OPEN_THREAD 0x01u
/* The file must be a delta (else a base). */
#define STOREP_OPEN_DELTA 0x02u
/* Map it (a sealed snapshot only: store_snap.c). */
#define STOREP_OPEN_MAPPED 0x04u
#define STOREP_MAP_MAX ((size_t)1 << 40)

typedef struct storep_file {
    DB *db;
    struct stat st; /* of the file as opened */
    uint64_t size;
    int is_delta;
    unsigned char id[STOREP_ID_LEN];
    unsigned char base_id[STOREP_ID_LEN]; /* delta: the base it extends */
    unsigned char parent[STOREP_ID_LEN];  /* base: the base it was folded
                                             from (zero: none known) */
    uint64_t hkey[2];                     /* filter hash key: the base's id */
    storep_str *iss;                      /* issuer table, sorted */
    uint32_t n_iss;
    int64_t count[STOREP_NCOUNT]; /* base: entries per kind; delta: net
                                     change per kind, [0] tombstones */
    storep_bloom bloom;           /* base: attached by the caller */
    int snapshot;                 /* base: read from a sealed snapshot */
    struct stat bloom_st;         /* base: its filter file as read */
    char *name;                   /* file name, for error texts */
} storep_file;

/*
 * Open the store file name of d read-only (storep_open_in's rules),
 * without a shared environment; refuse one of another format version, or
 * not a store file (db_error).  On success the caller closes *out with
 * storep_file_close().
 */
int storep_file_open(const storep_dir *d, const char *name, unsigned flags,
                     storep_file **out, jwtrev_error *err);
/* The same for the file on fd (judged by the caller; st its fstat),
 * named path in errors.  fd stays the caller's. */
int storep_file_open_fd(int fd, const struct stat *st, const char *path,
                        unsigned flags, storep_file **out, jwtrev_error *err);
void storep_file_close(storep_file *f);

/*
 * Write every record of f into a new Berkeley DB file at path without
 * page checksums (Berkeley DB maps only such files): a snapshot's
 * source.  Each page of f is checked as it is read.
 */
int storep_file_copy_plain(const storep_file *f, const char *path,
                           jwtrev_error *err);

/*
 * Read f (a base) through the sealed snapshot on mfd from now on, after
 * checking it is one (sealed, f's size, f's id): 0, or db_error and f as
 * it was.  mfd stays the caller's (the mapping outlives it).
 */
int storep_file_adopt_snapshot(storep_file *f, int mfd, unsigned flags,
                               jwtrev_error *err);

/*
 * Read the base file's filter "bloom.<hex id>" from d into memory.  A
 * missing filter, or one of another format, leaves f without one
 * (lookups stay correct, only slower); one storep_open_in refuses, one
 * cut short or whose checksum fails is a db_error.
 */
int storep_file_attach_bloom(storep_file *f, const storep_dir *d,
                             jwtrev_error *err);

/* The name of the filter file of a base with id (21 + 2*16 bytes). */
#define STOREP_BLOOM_NAME_MAX 48
void storep_bloom_name(const unsigned char *id, char *buf);

/*
 * Encode the key of (kind, iss, id) for f into buf (STOREP_KEY_MAX bytes).
 * 0 and *len, or 1 when f cannot hold such an entry (issuer unknown to it,
 * id too long).
 */
int storep_key_encode(const storep_file *f, const jwtrev_entry *e,
                      unsigned char *buf, size_t *len);

/* Decode a key of f into r's kind, iss and id (pointing into f or buf). */
int storep_key_decode(const storep_file *f, const unsigned char *buf,
                      size_t len, storep_rec *r);

/*
 * Look up the entry with the identity of key in f; h is its
 * storep_entry_hash() under f->hkey.  1: found, *out filled (its reason
 * points into valbuf, STOREP_VAL_MAX bytes); 0: absent;
 * -JWTREV_ERR_DB_ERROR.  Safe from many threads on a STOREP_OPEN_THREAD
 * file.
 */
int storep_file_get(const storep_file *f, const jwtrev_entry *key, uint64_t h,
                    storep_rec *out, unsigned char *valbuf, jwtrev_error *err);

/* Walk f's entries in key order (meta records skipped). */
typedef struct storep_cursor {
    const storep_file *f;
    DBC *c;
    DBT k, v;
    storep_rec rec; /* the current entry, valid until the next call */
} storep_cursor;

int storep_cursor_open(const storep_file *f, storep_cursor *c,
                       jwtrev_error *err);
/* 1: c->rec is the next entry; 0: no more; -JWTREV_ERR_DB_ERROR. */
int storep_cursor_next(storep_cursor *c, jwtrev_error *err);
void storep_cursor_close(storep_cursor *c);

/*
 * Fill err with code and a detail naming the entry r (kind, time of
 * revocation, reason; never token material); returns -code.
 */
int storep_hit(jwtrev_error *err, int code, const storep_rec *r);

/* Silence Berkeley DB's own messages: the library never prints. */
void storep_db_quiet(DB *db);

/* Berkeley DB's text for dbret, in a store's words where it has none. */
const char *storep_db_reason(int dbret);

/* "NAME: what: strerror" as a db_error. */
int storep_fail_db(jwtrev_error *err, const char *name, const char *what,
                   int dbret);
int storep_fail_errno(jwtrev_error *err, const char *name, const char *what,
                      int errnum);

/* ---- a consistent pair of files (store_file.c) --------------------------- */

/*
 * How delta relates to base: STOREP_PAIR_SAME, it extends base;
 * STOREP_PAIR_BEHIND, it extends the base base was folded from (a
 * compaction made beside the writers is putting its files in place, or
 * its writer was killed between the two renames): lookups over the pair
 * are still exact, because such a fold takes only identities the delta
 * still holds (storep_txn.daemon_owned); STOREP_PAIR_OTHER, anything else.
 */
enum { STOREP_PAIR_SAME, STOREP_PAIR_BEHIND, STOREP_PAIR_OTHER };
int storep_pair_kind(const storep_file *base, const storep_file *delta);

/*
 * A delta written for another base (a writer killed between the new base
 * and its empty delta) holds nothing the base lacks: 0; else db_error
 * (a base.db restored over a newer store would silently forget the
 * delta's revocations).
 */
int storep_delta_covered(const storep_file *base, const storep_file *delta,
                         jwtrev_error *err);

/*
 * Open delta.db then base.db of dir and pair them: a delta one fold
 * behind is kept; one written for another base is left out (*delta NULL)
 * when the base holds all it has (storep_delta_covered), else refused.
 * Base filter attached.
 */
int storep_open_pair(const char *dir, unsigned flags, storep_file **base,
                     storep_file **delta, jwtrev_error *err);

/* ---- an in-memory sorted set of entries (store_set.c) -------------------- */

typedef struct storep_chunk storep_chunk;

/* Issuers a set keeps one copy of (stores have a handful; more are
 * copied per record, which is only slower). */
#define STOREP_SET_ISSUERS 16

typedef struct storep_set {
    storep_rec **v;
    size_t n, cap;
    storep_chunk *chunks; /* arena owning the records and their bytes */
    storep_str iss[STOREP_SET_ISSUERS]; /* interned issuers: records of
                                           one issuer share one copy */
    size_t n_iss;
} storep_set;

void storep_set_init(storep_set *s);
void storep_set_free(storep_set *s);

/* Append a copy of r (unsorted; see storep_set_sort).  *out: the copy. */
int storep_set_append(storep_set *s, const storep_rec *r, storep_rec **out);
void storep_set_sort(storep_set *s);

/* Index of the entry with r's identity, or -(insertion point) - 1. */
long storep_set_find(const storep_set *s, const jwtrev_entry *e);

/* Insert a copy of r at its place, replacing one with the same identity. */
int storep_set_upsert(storep_set *s, const storep_rec *r);
void storep_set_delete(storep_set *s, size_t i);

/* The first index i > 0 whose entry equals entry i-1's identity, or 0. */
size_t storep_set_first_duplicate(const storep_set *s);

/* ---- writing (store_write.c, store.c) ------------------------------------ */

/* A writer holding the store's lock, with the current files open. */
typedef struct storep_txn {
    const char *dir;
    int dirfd, lockfd, genfd;
    mode_t file_mode; /* for new files: 0640 when the group reads */
    storep_file *base;
    storep_file *delta; /* NULL when it belongs to another base */
    storep_set changes; /* the delta's entries, once loaded (rebased on
                           base when the delta is one fold behind) */
    int changes_loaded;
    int daemon_owned; /* a jwtrevd owns the store: it folds the delta in
                         the background, so writes never fold, and a
                         removal always leaves a tombstone (a fold in
                         progress may be taking the entry into the new
                         base: the tombstone hides it there) */
} storep_txn;

/* flock(LOCK_EX) with a bounded wait (db_error naming dir after it). */
int storep_lock_wait(int fd, const char *dir, jwtrev_error *err);

/* Wait (bounded) for the lock, remove dead writers' files, open both. */
int storep_txn_begin(const char *dir, storep_txn *w, jwtrev_error *err);
void storep_txn_end(storep_txn *w);

/* Read the delta's entries into w->changes, once. */
int storep_txn_load_changes(storep_txn *w, jwtrev_error *err);

/* Publish: bump gen so that readers look again. */
int storep_txn_bump(storep_txn *w, jwtrev_error *err);

/* A new file being written in key order. */
typedef struct storep_out storep_out;

/*
 * Start name ("base.db", or "delta.db" extending the base base_id) as a
 * temporary file with the issuer table iss (sorted, unique, borrowed
 * until finish) and a filter sized for about n entries.
 */
int storep_out_begin(storep_txn *w, const char *name,
                     const unsigned char *base_id, const storep_str *iss,
                     uint32_t n_iss, uint64_t n, storep_out **out,
                     jwtrev_error *err);
/* Add the next entry in key order. */
int storep_out_add(storep_out *o, const storep_rec *r, jwtrev_error *err);
uint64_t storep_out_count(const storep_out *o);
/*
 * Write the meta records, sync, and rename into place (a base's filter
 * first); frees o either way.
 */
int storep_out_finish(storep_out *o, jwtrev_error *err);
/*
 * The same in two steps, for a fold made without the lock: seal (meta
 * records, sync) without it, then install (filter, rename, directory
 * sync) under the lock of w; install frees o either way.  Until then the
 * temporary files (the base's and its filter's, both made by begin) are
 * flock()ed, so other writers leave them alone.  sync_dir 0: the caller
 * syncs the directory after a later rename (a fold's delta).
 */
int storep_out_seal(storep_out *o, jwtrev_error *err);
int storep_out_install(storep_out *o, storep_txn *w, int sync_dir,
                       jwtrev_error *err);
/* A base: the id of the base it is folded from. */
void storep_out_set_parent(storep_out *o, const unsigned char *parent);
void storep_out_abort(storep_out *o);
/* The id the file will carry. */
const unsigned char *storep_out_id(const storep_out *o);

/*
 * The sorted union of the issuers in f's table and in the token and
 * subject entries of the sets (each may be NULL).  The strings are
 * borrowed; the caller frees the array *out.
 */
int storep_iss_union(const storep_file *f, const storep_set *s1,
                     const storep_set *s2, storep_str **out, uint32_t *n_out);

/* qsort comparator of storep_str by bytes. */
int storep_str_cmp(const void *a, const void *b);

/* Create name in dirfd with exactly buf, mode, fsynced (O_EXCL). */
int storep_write_file(int dirfd, const char *name, const void *buf, size_t len,
                      mode_t mode, jwtrev_error *err);

/* 1 when another open file holds the flock of name (a live writer's
 * temporary file), else 0. */
int storep_tmp_in_use(int dirfd, const char *name);

/* Fill buf with random bytes (file ids). */
int storep_random(unsigned char *buf, size_t len, jwtrev_error *err);

/*
 * Rewrite the base from base + delta (+ batch, combined as put does),
 * dropping tombstones and, when purge_now != 0, entries no longer live at
 * purge_now (counted in *dropped); then an empty delta; then bump gen.
 */
int storep_compact(storep_txn *w, const storep_set *batch, int64_t purge_now,
                   const jwtrev_store_progress *p, uint64_t *dropped,
                   jwtrev_error *err);

/*
 * Merge base, changes and batch (may be NULL) in key order into o,
 * dropping tombstones and, when purge_now != 0, entries no longer live
 * then (counted in *dropped).
 */
int storep_merge_into_out(const storep_file *base, const storep_set *changes,
                          const storep_set *batch, int64_t purge_now,
                          const jwtrev_store_progress *p, storep_out *o,
                          uint64_t *dropped, jwtrev_error *err);

/* Write w->changes as the new delta of w->base, and bump gen. */
int storep_txn_write_delta(storep_txn *w, jwtrev_error *err);

/*
 * The changes of a delta one fold behind, restated against w->base (the
 * new base): an entry the base holds unchanged, or a tombstone of one it
 * lacks, is dropped; what stays is marked as shadowing the base where it
 * does.  folded, when not NULL, is the set the fold took (the entries
 * equal to one of it are in the base as they are: no lookup).
 */
int storep_rebase(storep_txn *w, storep_set *changes, const storep_set *folded,
                  jwtrev_error *err);

/* The daemon marker file of a store (jwtrev_store_daemon_get). */
#define STOREP_DAEMON_FILE "daemon"

/* 1 when d holds a daemon marker, 0 when not; db_error for a bad one. */
int storep_daemon_owned(const storep_dir *d, char *socket, size_t len,
                        jwtrev_error *err);

#endif /* STOREP_H */
