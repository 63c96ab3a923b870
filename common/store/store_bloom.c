/*
 * store_bloom.c - the lookup filter of a store file: most tokens are not
 * revoked, and a filter answers "surely absent" from one cache line
 * instead of a B-tree descent.
 *
 * Serialised form (the base's sidecar file, the delta's "bloom" record):
 *   0  "JWTRBLM2"
 *   8  the id of the file it describes (16 bytes)
 *  24  number of 64-byte blocks, u32 big-endian
 *  28  zero (4 bytes)
 *  32  checksum, u64 big-endian: SipHash-2-4 keyed with the id over bytes
 *      0-31 and the blocks (a zeroed block or a flipped bit would make
 *      the filter answer "surely absent" for a revoked entry)
 *  40  zero up to byte 64, then the blocks.
 * An entry's hash (SipHash-1-3 of kind, issuer and id, keyed with the id
 * of the base file, so that the base's and the delta's filters share one
 * hash per lookup) picks one block with its high half and BLOOM_K bits in
 * it from a mix of the whole hash.
 */
#include "config.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "storep.h"

#define BLOOM_MAGIC "JWTRBLM2"
#define SUM_OFF 32
#define BLOOM_BITS_PER_KEY 12
#define BLOOM_K 8
#define BLOCK 64

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t
load_le64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return le64toh(v);
}

/* Inlined: a lookup hashes up to four entries, on every request. */
static inline __attribute__((always_inline)) void
sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL(v[2], 32);
}

/* SipHash-c-d as specified by Aumasson and Bernstein (2012). */
uint64_t
storep_siphash(int c, int d, const uint64_t key[2], const void *msg, size_t len)
{
    uint64_t k0 = key[0], k1 = key[1];
    const unsigned char *p = msg;
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                     k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
    uint64_t m, last = (uint64_t)len << 56;
    size_t i, tail = len & 7;
    int r;

    for (i = 0; i + 8 <= len; i += 8) {
        m = load_le64(p + i);
        v[3] ^= m;
        for (r = 0; r < c; r++)
            sip_round(v);
        v[0] ^= m;
    }
    while (tail-- > 0)
        last |= (uint64_t)p[i + tail] << (8 * tail);
    v[3] ^= last;
    for (r = 0; r < c; r++)
        sip_round(v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for (r = 0; r < d; r++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void
storep_hash_key(const unsigned char *id, uint64_t key[2])
{
    key[0] = load_le64(id);
    key[1] = load_le64(id + 8);
}

uint64_t
storep_entry_hash(const uint64_t key[2], const jwtrev_entry *e)
{
    unsigned char buf[1 + 4 + 2 * JWTREV_STORE_ID_MAX];
    size_t n = 5;

    if (e->iss_len > JWTREV_STORE_ID_MAX || e->id_len > JWTREV_STORE_ID_MAX)
        return 0; /* never stored: any value will do */
    buf[0] = (unsigned char)e->kind;
    storep_put_u32(buf + 1, (uint32_t)e->iss_len);
    if (e->iss_len > 0)
        memcpy(buf + n, e->iss, e->iss_len);
    n += e->iss_len;
    memcpy(buf + n, e->id, e->id_len);
    return storep_siphash(1, 3, key, buf, n + e->id_len);
}

/* Offset of the block of hash h among nblocks blocks. */
static size_t
block_off(uint32_t nblocks, uint64_t h)
{
    return (size_t)((h >> 32) * nblocks >> 32) * BLOCK;
}

/* The next bit index in a block (0..511) from the running mix x. */
static unsigned
next_bit(uint64_t *x)
{
    *x = *x * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
    return (unsigned)(*x >> 55);
}

int
storep_bloom_maybe(const storep_bloom *b, uint64_t h)
{
    const unsigned char *blk;
    uint64_t x;
    unsigned i, bit;

    if (b->blocks == NULL)
        return 1;
    blk = b->blocks + block_off(b->nblocks, h);
    x = h;
    for (i = 0; i < BLOOM_K; i++) {
        bit = next_bit(&x);
        if (!(blk[bit >> 3] >> (bit & 7) & 1))
            return 0;
    }
    return 1;
}

/* The checksum of a serialised filter of len bytes (its header's id). */
static uint64_t
checksum(const unsigned char *buf, size_t len)
{
    uint64_t key[2], h[2];

    storep_hash_key(buf + 8, key);
    h[0] = storep_siphash(2, 4, key, buf, SUM_OFF);
    h[1] = storep_siphash(2, 4, key, buf + STOREP_BLOOM_HEADER,
                          len - STOREP_BLOOM_HEADER);
    return storep_siphash(2, 4, key, h, sizeof(h));
}

int
storep_bloom_parse(storep_bloom *b, const unsigned char *buf, size_t len,
                   const unsigned char *id)
{
    uint32_t nblocks;

    if (len < 8 || memcmp(buf, BLOOM_MAGIC, 8) != 0)
        return -1;
    /* This format from here on: anything amiss is damage. */
    if (len < STOREP_BLOOM_HEADER || memcmp(buf + 8, id, STOREP_ID_LEN) != 0)
        return -2;
    nblocks = storep_get_u32(buf + 24);
    if (nblocks == 0 || (len - STOREP_BLOOM_HEADER) / BLOCK != nblocks ||
        (len - STOREP_BLOOM_HEADER) % BLOCK != 0)
        return -2;
    if (checksum(buf, len) != ((uint64_t)storep_get_u32(buf + SUM_OFF) << 32 |
                               storep_get_u32(buf + SUM_OFF + 4)))
        return -2;
    b->blocks = buf + STOREP_BLOOM_HEADER;
    b->nblocks = nblocks;
    return 0;
}

void
storep_bloom_build_seal(storep_bloom_builder *bb)
{
    uint64_t sum = checksum(bb->buf, bb->len);

    storep_put_u32(bb->buf + SUM_OFF, (uint32_t)(sum >> 32));
    storep_put_u32(bb->buf + SUM_OFF + 4, (uint32_t)sum);
}

void
storep_bloom_release(storep_bloom *b)
{
    free(b->owned);
    memset(b, 0, sizeof(*b));
}

int
storep_bloom_build_init(storep_bloom_builder *bb, uint64_t n,
                        const unsigned char *id)
{
    uint64_t nblocks = (n * BLOOM_BITS_PER_KEY + BLOCK * 8 - 1) / (BLOCK * 8);

    memset(bb, 0, sizeof(*bb));
    if (nblocks == 0)
        nblocks = 1;
    if (nblocks > UINT32_MAX)
        return -JWTREV_ERR_INTERNAL;
    bb->len = STOREP_BLOOM_HEADER + (size_t)nblocks * BLOCK;
    bb->buf = calloc(1, bb->len);
    if (bb->buf == NULL)
        return -JWTREV_ERR_INTERNAL;
    memcpy(bb->buf, BLOOM_MAGIC, 8);
    memcpy(bb->buf + 8, id, STOREP_ID_LEN);
    storep_put_u32(bb->buf + 24, (uint32_t)nblocks);
    storep_bloom_build_seal(bb);
    if (storep_bloom_parse(&bb->b, bb->buf, bb->len, id) != 0) {
        storep_bloom_build_free(bb);
        return -JWTREV_ERR_INTERNAL;
    }
    return 0;
}

void
storep_bloom_build_add(storep_bloom_builder *bb, uint64_t h)
{
    uint64_t x = h;
    unsigned char *blk =
        bb->buf + STOREP_BLOOM_HEADER + block_off(bb->b.nblocks, h);
    unsigned i, bit;

    for (i = 0; i < BLOOM_K; i++) {
        bit = next_bit(&x);
        blk[bit >> 3] |= (unsigned char)(1u << (bit & 7));
    }
}

void
storep_bloom_build_free(storep_bloom_builder *bb)
{
    free(bb->buf);
    memset(bb, 0, sizeof(*bb));
}
