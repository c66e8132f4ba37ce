/*
** auth.h: identities, tokens, client credentials and permissions (spec
** 1.5, 1.6, 7).
**
** Every decision about who may do what is made here, in core/, and tested
** without a socket; http/ only extracts credentials from a request and
** renders the verdict.  Conventions are those of store.h.
**
** Permission strings (perm.c, pure: no LMDB, fuzzed by `make fuzz`)
**   <verbs>:<path>[,<path>...]   verbs: get,put,post,delete (any case,
**   comma-separated); blank or "*" = all.  A path is an Ant pattern over
**   '/'-separated segments: "**" as a whole segment = any number of
**   segments, "*" = any characters within one segment, "?" = one
**   character; a lone "*" means "/ **" (all); empty segments are ignored (so
**   "/cats/fluffy" matches "/cats/fluffy/").  A segment that is exactly
**   "${user}" or "me" matches the subject user's username or uuid (and
**   "me").  Matching is case-insensitive (ASCII) and bounded: at most
**   AUTH_PERM_MAX_SEGS segments and AUTH_PERM_MAX bytes, with a
**   backtracking point only at the last "**" and the last "*", so a
**   hostile pattern costs O(pattern x path), never more.
*/
#ifndef UG_AUTH_H
#define UG_AUTH_H

#include "core/store.h"

#define AUTH_PERM_MAX      1024   /* bytes of one permission string */
#define AUTH_PERM_MAX_SEGS 64     /* segments of a pattern or a path */

/* The user a permission's "${user}" and "me" stand for (either may be
** NULL: anonymous requests have neither). */
typedef struct {
	const char *username;
	const char *uuid;
} auth_user;

/* 1 when perm is well formed (a ':' and a non-empty path part, bounded). */
int auth_perm_valid(const char *perm);

/* 1 when perm allows method ("GET", "get", ...; HEAD counts as get) on
** path (the part after /{org}/{app}, e.g. "/cats/fluffy"). */
int auth_perm_allows(const char *perm, const char *method, const char *path,
                     const auth_user *user);

#endif
