#!/bin/sh
# The layers of the tree (HACKING.md, Layout), checked on the sources: the
# store never sees OpenSSL or the JOSE internals, the JOSE half never the
# store's, the hosts only the public headers, and one token parser: no
# file outside common/jose/ decodes base64url or parses a token's JSON.
. "$top_srcdir/tests/tap.sh"
set -u
cd "$top_srcdir" || exit 1

# includes FILES...: the quoted and angle includes of the files
includes() { sed -n 's/^#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p' "$@"; }

bad=$(includes common/store/*.[ch] | grep -E '^openssl/|josep\.h|keyp\.h')
is "$bad" "" "common/store/ includes neither OpenSSL nor jose/ internals"

bad=$(includes common/jose/*.[ch] | grep -E 'storep\.h|jwtrev_store\.h|^db\.h')
is "$bad" "" "common/jose/ includes nothing of the store"

bad=$(includes common/*.[ch] | grep -E '^openssl/|josep\.h|keyp\.h|storep\.h|^db\.h')
is "$bad" "" "the top level of common/ includes no half's internals"

for host in cli jwtrevd mod_auth_jwtrev pam_jwtrev; do
    bad=$(includes $host/*.[ch] | grep -E 'jwtrevp\.h|josep\.h|keyp\.h|storep\.h')
    is "$bad" "" "$host includes only the library's public headers"
done

# One token reader: the decoder and the strict JSON reader are called
# from common/jose/ only (tests and fuzzers drive them directly).
bad=$(grep -lE 'jwtrevp_(b64url_decode|json_parse_object)' \
    common/*.c common/store/*.c cli/*.c mod_auth_jwtrev/*.c pam_jwtrev/*.c)
is "$bad" "" "no token parsing outside common/jose/"

# One error setter and one log id renderer: no host fills a jwtrev_error's
# detail or a log id by hand.
code_lines() { grep -nE "$1" cli/*.c mod_auth_jwtrev/*.c pam_jwtrev/*.c |
    grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/\*|\*)'; }
bad=$(code_lines '(->|\.)(detail|logid)(\[[^]]*\])? *=[^=]|(v?snprintf|apr_cpystrn|apr_snprintf|strcpy|memcpy)\([^,]*(->|\.)(detail|logid)')
is "$bad" "" "hosts set errors with jwtrev_fail only"
bad=$(code_lines '"(jti=|sha256:|token-sha256:)')
is "$bad" "" "hosts render log ids with jwtrev_token_logid only"
done_testing
