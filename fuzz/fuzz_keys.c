/*
 * fuzz_keys.c - libFuzzer target for the key loader: arbitrary bytes as a
 * key file (PEM, JWK, JWKS) with every algorithm allowed; each key loaded
 * is then used once by jwtrevp_sig_verify on input-derived bytes, so that
 * the prepared contexts are exercised too.  Seeds: fuzz/seed_keys.sh.
 */
#include "config.h"

#include <stdint.h>

#include "jose/josep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const jwtrevp_key *k;
    jwtrev_keyring *kr;
    jwtrev_error err;
    size_t i, sig_len;
    int a;

    if (jwtrev_keyring_new(JWTREV_ALGSET_ALL, &kr) != 0)
        return 0;
    if (jwtrev_keyring_add_mem(kr, (const char *)data, size, "fuzz", &err) ==
        0) {
        for (a = 0; a < JWTREV_ALG_COUNT; a++) {
            for (i = 0; (k = jwtrevp_keyring_by_alg(kr, a, i)) != NULL; i++) {
                sig_len = size < k->sig_len ? size : k->sig_len;
                (void)jwtrevp_sig_verify(k, data, size, data, sig_len);
            }
        }
    }
    jwtrev_keyring_free(kr);
    return 0;
}
