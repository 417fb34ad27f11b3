/* git_cache.h — the disk cap of the fetcher's Git clone cache.
 *
 * The cache directory holds one bare repository per URL (source_git.h names them by the
 * SHA-256 of the URL without userinfo: 64 hex digits) and nothing else of ours. A fetch
 * sets its repository's mtime; git_cache_evict then removes whole repositories, least
 * recently used first, until the cache is under the cap. The repository just used is
 * never removed (a cache smaller than one repository keeps that one). Entries whose name
 * is not 64 hex digits are neither counted nor touched. */
#ifndef SMC_FETCHER_GIT_CACHE_H
#define SMC_FETCHER_GIT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define FETCHER_CACHE_MAX ((uint64_t)2 << 30) /* default cap: 2 GiB of repositories */
#define GIT_CACHE_MAX_ENTRIES 4096	       /* repositories considered per sweep */
#define GIT_CACHE_MAX_DEPTH 64		       /* directory depth walked in one repository */

/* Sizes every repository under dir and removes the least recently used until the total
 * is at most max_bytes (0 → FETCHER_CACHE_MAX). *removed (may be NULL) counts the
 * repositories removed, *total (may be NULL) the bytes left. 0, or ERR_IO / ERR_NOMEM
 * (the cache is left as it was, or with fewer repositories; never half a repository
 * counted as present). */
int git_cache_evict(const char *dir, uint64_t max_bytes, size_t *removed, uint64_t *total);

#endif
