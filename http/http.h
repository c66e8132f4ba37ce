/*
** http.h: the public interface of http/: the Usergrid REST server.
*/
#ifndef UG_HTTP_H
#define UG_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/store.h"

#define UGSTORE_VERSION "0.14.0"

typedef struct http_server http_server;

typedef struct {
	const char *bind;          /* address to listen on; NULL = 127.0.0.1 */
	unsigned    port;
	unsigned    threads;       /* worker threads; 0 = four per core */
	size_t      max_body;      /* request body bytes; 0 = HTTP_MAX_BODY */
	size_t      max_asset;     /* binary (asset) body bytes; 0 = HTTP_MAX_ASSET */
	size_t      max_import;    /* POST .../_import body bytes; 0 = HTTP_MAX_IMPORT */
	const char *superuser;     /* "name:password" for /management, or NULL */
	const char *base_url;      /* for response `uri`; NULL = from Host */
	int         quiet;         /* 1 = no log (access lines, libmicrohttpd) */
	const char *backup_dir;    /* folder of POST /management/backup, or NULL */
	unsigned    query_budget_ms;  /* a query's time budget; 0 = HTTP_QUERY_BUDGET_MS */
	unsigned    token_burst;   /* token requests per address or name; 0 = default */
	unsigned    token_refill_ms; /* one more every this many ms; 0 = default */
	const char *cors_origins;  /* comma-separated origins that may send credentials;
	                           ** NULL = any origin, without credentials */
	const char *tls_cert;      /* PEM certificate (chain) file: serve HTTPS; or NULL */
	const char *tls_key;       /* its PEM private key file */
	unsigned    slow_query_ms; /* log queries that take this long; 0 = none */
	int         public_status; /* 1 = /status and /metrics need no credentials
	                           ** from any address (else: loopback or superuser) */
} http_config;

/* Starts listening; the server keeps using s until http_server_stop. */
int  http_server_start(store *s, const http_config *cfg, http_server **out);
/* Stops accepting, lets in-flight requests finish, frees the server. */
void http_server_stop(http_server *srv);
/* Applies the settings of cfg that may change while serving: quiet,
** public_status, slow_query_ms, query_budget_ms, max_body, max_asset,
** max_import and cors_origins (whose text must stay valid until the server stops).  The
** others need a restart. */
void http_server_reload(http_server *srv, const http_config *cfg);
/* The bound port (useful with port 0). */
unsigned http_server_port(const http_server *srv);

/* The one parser of a numeric parameter or option: decimal digits only (no
** sign, space, fraction or exponent), at most max.  Returns 1 with *out
** set; 0 when malformed or over max. */
int http_parse_uint(const char *v, uint64_t max, uint64_t *out);

/* 1 when s is a word the URL grammar gives a meaning (spec 1.1: management,
** status, metrics, orgs, apps and their other spellings), so that an org
** or app named s could not be reached: every way an org or app is made
** (the management API, --bootstrap, ugstore import) refuses such a name. */
int http_url_word(store_slice s);

#endif
