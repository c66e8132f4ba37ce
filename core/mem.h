/*
** mem.h: the one allocation shim and the per-request arena.
**
** OOM policy: the server cannot do anything useful without memory, so the
** x* functions abort on failure (as Redis's zmalloc does).  Every allocation
** of the project goes through them, so a test build can count or fail them.
**
** An arena hands out memory that lives until arena_destroy(): path segments,
** decoded parameters, the request body and other per-request temporaries.
** Nothing allocated from an arena is freed on its own.
*/
#ifndef UG_MEM_H
#define UG_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);
char *xstrdup(const char *s);

typedef struct arena arena;

arena *arena_create(void);                        /* new, never NULL */
void   arena_destroy(arena *a);                   /* NULL-safe */
void  *arena_alloc(arena *a, size_t n);           /* 16-byte aligned, never NULL */
char  *arena_strndup(arena *a, const char *s, size_t n); /* NUL-terminated copy */

#endif
