/* privdrop.h — permanently give up root for one unprivileged uid/gid. */
#ifndef SMC_PRIVDROP_H
#define SMC_PRIVDROP_H

#include "common/err.h"

/* Drops supplementary groups, then sets real/effective/saved gid and uid to gid/uid, and
 * verifies that uid 0 / gid 0 cannot be regained. Must be called as root (ERR_PERM
 * otherwise); uid and gid must not be 0 (ERR_INVAL). Any failure leaves the process in
 * an unknown state: the caller must exit. */
int privdrop_to(unsigned uid, unsigned gid, struct err_ctx *err);

#endif
