/*
 * json_ref.h - the reference for jwtrevp_json_parse_object, for the
 * differential test (test_json) and fuzzer (fuzz_json): jansson's own
 * parser with JSON_REJECT_DUPLICATES, an object at the top, and the tree
 * no deeper than JWTREVP_JSON_MAX_DEPTH.  Returns the tree or NULL.
 *
 * A NUL byte is refused up front: JSON has no place for one, and
 * jansson 2.14 reads {"a":2<NUL>} as {"a":2} (found by fuzz_json).
 */
#ifndef JWTREV_TEST_JSON_REF_H
#define JWTREV_TEST_JSON_REF_H

#include <string.h>

#include <jansson.h>

#include "jose/josep.h"

static int
json_ref_depth(const json_t *v)
{
    const char *key;
    const json_t *item;
    size_t i;
    int d, max = 0;

    if (json_is_object(v)) {
        json_object_foreach((json_t *)(uintptr_t)v, key, item)
        {
            if ((d = json_ref_depth(item)) > max)
                max = d;
        }
        return max + 1;
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            if ((d = json_ref_depth(item)) > max)
                max = d;
        }
        return max + 1;
    }
    return 0;
}

__attribute__((unused)) static json_t *
json_ref_parse(const void *buf, size_t len)
{
    json_t *v;

    if (memchr(buf, '\0', len) != NULL)
        return NULL;
    v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);

    if (v != NULL &&
        (!json_is_object(v) || json_ref_depth(v) > JWTREVP_JSON_MAX_DEPTH)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

#endif /* JWTREV_TEST_JSON_REF_H */
