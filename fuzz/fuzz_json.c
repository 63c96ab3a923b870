/*
 * fuzz_json.c - differential libFuzzer target for the library's JSON
 * reader: on any input, jwtrevp_json_parse_object must accept exactly
 * what jansson's parser accepts under the same rules (tests/json_ref.h)
 * and build an equal tree.  Any difference aborts.  Seeds:
 * fuzz/seed_json.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_ref.h"
#include "jose/josep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1);
    json_t *ours = NULL, *ref;
    int rc;

    /* A copy of exactly size bytes, so that ASan sees any over-read. */
    memcpy(copy, data, size);
    rc = jwtrevp_json_parse_object(copy, size, &ours);
    ref = json_ref_parse(copy, size);
    if ((rc == 0) != (ref != NULL) || (rc != 0 && rc != -JWTREV_ERR_MALFORMED))
        abort();
    if (rc == 0 && !json_equal(ours, ref))
        abort();
    json_decref(ours);
    json_decref(ref);
    free(copy);
    return 0;
}
