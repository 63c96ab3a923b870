/*
 * store_json.c - an entry as a JSON object: the dump and load format of
 * jwtrev, and the entries of jwtrevd's protocol.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "jwtrev_store.h"

static const char *const id_names[] = {
    [JWTREV_ENTRY_TOKEN] = "jti",
    [JWTREV_ENTRY_HASH] = "sha256",
    [JWTREV_ENTRY_SUBJECT] = "sub",
    [JWTREV_ENTRY_KEY] = "kid",
};

const char *
jwtrev_entry_id_name(int kind)
{
    return kind >= JWTREV_ENTRY_TOKEN && kind <= JWTREV_ENTRY_KEY
               ? id_names[kind]
               : NULL;
}

int
jwtrev_entry_has_iss(int kind)
{
    return kind == JWTREV_ENTRY_TOKEN || kind == JWTREV_ENTRY_SUBJECT;
}

void
jwtrev_hex(const unsigned char *p, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static json_t *
id_json(const jwtrev_entry *e)
{
    char h[2 * JWTREV_STORE_HASH_LEN + 1];

    if (e->kind != JWTREV_ENTRY_HASH)
        return json_stringn((const char *)e->id, e->id_len);
    jwtrev_hex(e->id, JWTREV_STORE_HASH_LEN, h);
    return json_string(h);
}

json_t *
jwtrev_entry_to_json(const jwtrev_entry *e)
{
    json_t *o = json_object();
    int bad = o == NULL;

    bad |= json_object_set_new(o, "kind",
                               json_string(jwtrev_entry_kind_name(e->kind)));
    if (jwtrev_entry_has_iss(e->kind))
        bad |= json_object_set_new(
            o, "iss", json_stringn(e->iss_len ? e->iss : "", e->iss_len));
    bad |= json_object_set_new(o, id_names[e->kind], id_json(e));
    if (e->kind == JWTREV_ENTRY_SUBJECT)
        bad |= json_object_set_new(o, "before", json_integer(e->not_before));
    bad |= json_object_set_new(o, "revoked_at", json_integer(e->revoked_at));
    bad |= json_object_set_new(o, "until", json_integer(e->until));
    bad |= json_object_set_new(
        o, "reason",
        json_stringn(e->reason_len ? e->reason : "", e->reason_len));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int
unhex(const char *s, size_t len, unsigned char *out)
{
    size_t i;
    int hi, lo;

    if (len != 2 * JWTREV_STORE_HASH_LEN)
        return -1;
    for (i = 0; i < JWTREV_STORE_HASH_LEN; i++) {
        hi = hexval(s[2 * i]);
        lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int
jwtrev_sha256_from_hex(const char *s, unsigned char *out)
{
    return unhex(s, strlen(s), out);
}

static int
refuse(const char **why, const char *text)
{
    *why = text;
    return -1;
}

/* One member of an entry object; -1 and *why when it does not belong. */
static int
member(const char *name, const json_t *v, unsigned char *hash, jwtrev_entry *e,
       const char **why)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    size_t len = s != NULL ? json_string_length(v) : 0;
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;

    if (strcmp(name, "kind") == 0)
        return 0;
    if (strcmp(name, id_names[e->kind]) == 0 && s != NULL) {
        if (e->kind == JWTREV_ENTRY_HASH && unhex(s, len, hash) != 0)
            return refuse(why, "sha256 wants 64 lowercase hex digits");
        e->id = e->kind == JWTREV_ENTRY_HASH ? hash : (const void *)s;
        e->id_len = e->kind == JWTREV_ENTRY_HASH ? JWTREV_STORE_HASH_LEN : len;
    } else if (strcmp(name, "iss") == 0 && s != NULL &&
               jwtrev_entry_has_iss(e->kind)) {
        e->iss = s, e->iss_len = len;
    } else if (strcmp(name, "reason") == 0 && s != NULL) {
        e->reason = s, e->reason_len = len;
    } else if (strcmp(name, "revoked_at") == 0 && n >= 0) {
        e->revoked_at = n;
    } else if (strcmp(name, "until") == 0 && n >= 0) {
        e->until = n;
    } else if (strcmp(name, "before") == 0 && n >= 0 &&
               e->kind == JWTREV_ENTRY_SUBJECT) {
        e->not_before = n;
    } else {
        return refuse(why, "a member is unknown for this kind or of the "
                           "wrong type");
    }
    return 0;
}

int
jwtrev_entry_from_json(json_t *o, int64_t now,
                       unsigned char hash[JWTREV_STORE_HASH_LEN],
                       jwtrev_entry *e, const char **why)
{
    const json_t *kind = json_object_get(o, "kind");
    const char *name;
    json_t *v;

    memset(e, 0, sizeof(*e));
    if (!json_is_string(kind) ||
        jwtrev_entry_kind_parse(json_string_value(kind), &e->kind) != 0)
        return refuse(why, "kind must be token, hash, subject or key");
    e->iss = e->reason = "";
    e->revoked_at = now;
    if (e->kind == JWTREV_ENTRY_SUBJECT)
        e->not_before = now;
    json_object_foreach(o, name, v)
    {
        if (member(name, v, hash, e, why) != 0)
            return -1;
    }
    if (e->id == NULL)
        return refuse(why, "the entry has no id member");
    return 0;
}
