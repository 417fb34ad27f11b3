/* privdrop.c — setgroups + setresgid + setresuid, then proof that root is gone. */
#include "common/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

int privdrop_to(unsigned uid, unsigned gid, struct err_ctx *err)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (uid == 0 || gid == 0)
		return err_set(err, ERR_INVAL, "privdrop: refusing to drop to uid/gid 0");
	if (geteuid() != 0)
		return err_set(err, ERR_PERM, "privdrop: not root");
	if (setgroups(0, NULL) != 0)
		return err_set(err, ERR_PERM, "privdrop: setgroups: %s", strerror(errno));
	if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0)
		return err_set(err, ERR_PERM, "privdrop: setresgid %u: %s", gid, strerror(errno));
	if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0)
		return err_set(err, ERR_PERM, "privdrop: setresuid %u: %s", uid, strerror(errno));

	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
		return err_set(err, ERR_PERM, "privdrop: cannot read back ids");
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		return err_set(err, ERR_PERM, "privdrop: ids not fully changed");
	/* The drop must be irreversible: each of these succeeding would be fatal. */
	if (setgid(0) != -1 || setegid(0) != -1)
		return err_set(err, ERR_PERM, "privdrop: gid 0 could be regained");
	if (setuid(0) != -1 || seteuid(0) != -1)
		return err_set(err, ERR_PERM, "privdrop: uid 0 could be regained");
	if (getgroups(0, NULL) != 0)
		return err_set(err, ERR_PERM, "privdrop: supplementary groups remain");
	return 0;
}
