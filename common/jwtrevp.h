/*
 * jwtrevp.h - what every part of libjwtrev shares and no host sees: the
 * string lists of the option parser (conf.c), which the policy copies.
 * Public names are jwtrev_*, library-private cross-file names jwtrevp_*,
 * the rest static.  The JOSE half adds jose/josep.h, the store
 * store/storep.h; neither includes the other.
 */
#ifndef JWTREVP_H
#define JWTREVP_H

#include "jwtrev.h"

/* Free the strings and the vector; l is left empty. */
void jwtrevp_strlist_free(jwtrev_strlist *l);

/* Append a copy of the n bytes at s: 0 or -JWTREV_ERR_INTERNAL. */
int jwtrevp_strlist_add(jwtrev_strlist *l, const char *s, size_t n);

/* Replace *dst with a deep copy of *src; on failure *dst is unchanged. */
int jwtrevp_strlist_copy(jwtrev_strlist *dst, const jwtrev_strlist *src);

#endif /* JWTREVP_H */
