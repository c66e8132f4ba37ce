/*
** limits.h: every bound the HTTP layer enforces, in one place.  Exceeding
** one is a 4xx Usergrid error, never a crash or a partial write.
*/
#ifndef UG_LIMITS_H
#define UG_LIMITS_H

#define HTTP_MAX_BODY        (1u << 20)  /* request body bytes (413 past it) */
#define HTTP_MAX_ASSET       (25u << 20) /* a multipart/form-data or octet-stream
                                         ** body: an entity's binary data (413) */
#define HTTP_MAX_IMPORT      (4ull << 30) /* POST /{org}/{app}/_import body bytes
                                         ** (--max-import; streamed, never held) */
#define HTTP_IMPORT_CHUNK    (256u << 10) /* import lines are applied each time
                                         ** this many bytes of them are in */
#define HTTP_IMPORT_BATCH    500         /* import records in one write transaction */
#define HTTP_MAX_IMPORT_ERRORS 100       /* bad import lines listed in the reply */
#define HTTP_MAX_JSON_DEPTH  32          /* nesting of a request body */
#define HTTP_MAX_SEGMENTS    32          /* path segments of one URL */
#define HTTP_MAX_URI         8192        /* raw request target bytes */
#define HTTP_MAX_PARAMS      64          /* query-string parameters */
#define HTTP_DEFAULT_LIMIT   10          /* page size without `limit` */
#define HTTP_MAX_LIMIT       1000        /* `limit` is clamped to this */
#define HTTP_MAX_BATCH       1000        /* entities in one array POST */
#define HTTP_MAX_WRITE_ENTRIES 100000    /* index entries one write may make */
#define HTTP_MAX_MATRIX_PARAMS 16         /* `;name=value` pairs on a path segment */
#define HTTP_MAX_MATRIX_EDGES  100000     /* edges a matrix relation listing reads */
#define HTTP_MAX_ECHO        200         /* bytes of user input echoed in errors */
#define HTTP_MAX_WORKERS     64          /* worker threads (--threads) */
#define HTTP_TOKEN_NAME_BURST     10     /* token requests per username or client id ... */
#define HTTP_TOKEN_NAME_REFILL_MS 3000   /* ... regaining one every 3 s */
#define HTTP_TOKEN_ADDR_BURST     60     /* token requests per client address ... */
#define HTTP_TOKEN_ADDR_REFILL_MS 250    /* ... regaining one every 250 ms */
#define HTTP_RATE_SLOTS      4096        /* rate-limit buckets (fixed memory) */
#define HTTP_RATE_PROBES     4           /* slots a key may live in */
#define HTTP_CORS_MAX_AGE    "600"       /* seconds a browser may cache a preflight */
#define HTTP_MAX_CORS_HEADERS 512        /* Access-Control-Request-Headers granted as sent */
#define HTTP_MAX_PEM         (1 << 20)   /* bytes of a TLS certificate or key file */
#define HTTP_MAX_REQUEST_ID  64          /* X-Request-Id bytes echoed (else one is made) */

/* Queries (docs/security.md, "Limits on queries").  A read's query runs on
** its worker for HTTP_INLINE_QUERY_MS at most; past that it is redone on
** one of HTTP_SLOW_READERS threads, with at most HTTP_MAX_SLOW_READS such
** reads queued or running (503 past it).  Every query stops at the budget
** (--query-budget-ms, counted from the request's arrival) with 503. */
#define HTTP_QUERY_BUDGET_MS 10000       /* default --query-budget-ms */
#define HTTP_MAX_BUDGET_MS   3600000     /* largest --query-budget-ms */
#define HTTP_INLINE_QUERY_MS 5
#define HTTP_SLOW_READERS    2
#define HTTP_SLOW_NICE       10          /* their nice value: below the workers */
#define HTTP_MAX_SLOW_READS  64
#define HTTP_MAX_QUEUE_THREADS 16        /* threads of one queue (queue.c) */
#define HTTP_WRITER_BATCH    256         /* write requests committed together at most */
#define HTTP_GATHER_MAX_US   2000        /* a batch waits for more requests at most
                                         ** (writer.c, plan_gathering) */
/* Request counts (application.requests) wait in memory for the next write
** commit; an idle writer commits them after this long (writer.c). */
#define HTTP_COUNT_FLUSH_MS  1000

/* The reindexer (reindex.c): its shortest pause between two steps (it
** pauses as long as the step took), which lets the writer's batches take
** the write lock, and how often it looks for a reindex nothing woke it
** for. */
#define HTTP_REINDEX_PAUSE_MS 2
#define HTTP_REINDEX_POLL_MS  1000

#endif
