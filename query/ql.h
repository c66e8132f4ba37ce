/*
** ql.h: the Usergrid query language (ql): tokens, syntax tree, parser and
** a canonical printer.  Spec: usergrid-api.md sections 6.2-6.4 and 9.
**
** This part of query/ is pure: it never touches LMDB, jansson or HTTP, it
** keeps no state between calls and it allocates only from the arena it is
** given, so it can be fuzzed on its own (tests/fuzz/fuzz_ql.c).  The
** planner and executor consume the ql_query tree and never see text.
**
** Grammar (the parser in parse.c follows it rule for rule):
**
**   ql          : SELECT select_expr [WHERE] [expression] [order_by] EOF
**               | WHERE expression [order_by] EOF
**               | order_by EOF
**               | expression [order_by] EOF        (implicit "select * where")
**               | EOF                              (empty text: no filter)
**   select_expr : '*' | ID (',' ID)* | '{' ID ':' ID (',' ID ':' ID)* '}'
**   expression  : DIRECT (ID|UUID) (',' (ID|UUID))* | orexp
**   orexp       : andexp (OR andexp)*
**   andexp      : notexp (AND notexp)*
**   notexp      : NOT operation | operation
**   operation   : '(' orexp ')'
**               | property (LT|LTE|EQ|GT|GTE) value
**               | ID WITHIN number OF number ',' number
**               | ID CONTAINS STRING
**   property    : ID | ASC | DESC | CONTAINS | WITHIN | DIRECT
**   value       : BOOLEAN | LONG | UUID | STRING | FLOAT
**   order_by    : ORDER_BY property [ASC|DESC] (',' property [ASC|DESC])*
**
** Precedence: comparison > NOT > AND > OR.  NOT takes one operation or one
** parenthesised group, so "not not a = 1" is an error.
**
** Decisions where ugstore differs from Usergrid 2.x (spec section 9):
**   - Text left over after a complete query ("... sort by x") is an error
**     naming the first unparsed token; Usergrid silently drops it.
**   - "order by" is one token with any whitespace between the two words,
**     and "by" must end the word ("order byx" is the identifier "order").
**   - The text is not lower-cased destructively: property names are stored
**     lower-cased (names are case-insensitive), string literals keep their
**     case next to a lower-cased copy (comparisons are case-insensitive,
**     responses echo what the user wrote).
**   - A NUL byte is never part of a token, and "\u0000" or an unpaired
**     surrogate escape is an invalid escape, so every string literal is a
**     proper C string (stored JSON text cannot hold NUL either).
**   - A LONG literal outside int64 or a FLOAT outside double is a parse
**     error, not a silent wrap-around or infinity.
**   - Text that is empty or only whitespace is "no query" (Usergrid would
**     reject the whitespace-only case after trimming and prefixing).
**   - In {a:b} the target b keeps its case (it names an output field, it
**     looks nothing up); a field selected twice counts once and a source
**     renamed twice takes the last target, as Usergrid's map does.
**   - An unbraced rename ("select uuid:myid", which Usergrid reads as
**     "select uuid" and drops the rest) is an error at ':'.
**
** Positions in error messages refer to the text as given (not trimmed or
** prefixed the way Usergrid does it): line is 1-based and counts '\n';
** column is 1-based and counts characters (UTF-8 sequences) in that line.
*/
#ifndef UG_QL_H
#define UG_QL_H

#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

/* ---- limits ------------------------------------------------------------
** Every resource a query can make the parser use is bounded here.  The
** parser's recursion depth is bounded by QL_MAX_DEPTH, its output by
** QL_MAX_LEN.  Exceeding one is QL_ERR_LIMIT (HTTP 400 query_parse), except
** QL_MAX_DIRECT which Usergrid reports as too_many_direct_entities. */
#define QL_MAX_LEN     4096  /* bytes of query text */
#define QL_MAX_DEPTH   32    /* nested '(' and NOT, together */
#define QL_MAX_TERMS   64    /* comparisons, contains and within operations */
#define QL_MAX_ORDER   16    /* order by keys */
#define QL_MAX_SELECT  64    /* select fields or {a:b} renames */
#define QL_MAX_DIRECT  1000  /* ids after DIRECT (Usergrid's limit) */

/* ---- result codes ------------------------------------------------------ */

typedef enum {
	QL_OK = 0,
	QL_ERR_PARSE,   /* syntax error, trailing text, bad literal value */
	QL_ERR_TOKEN,   /* a character or escape that starts no token */
	QL_ERR_LIMIT,   /* one of the limits above (except QL_MAX_DIRECT) */
	QL_ERR_DIRECT,  /* more than QL_MAX_DIRECT ids after DIRECT */
	QL_RC_COUNT
} ql_rc;

/* Detail of a failed parse.  msg is NUL-terminated, valid UTF-8, has no
** control characters, and echoes at most a short prefix of user text. */
typedef struct {
	int    code;      /* a ql_rc */
	size_t offset;    /* byte offset of the offending token in the text */
	int    line, col; /* 1-based position of that token */
	char   msg[200];
} ql_error;

/* The Usergrid error name for code, for the "error" field of a 400 body:
** "query_parse", "query_token", "too_many_direct_entities"; "" for QL_OK. */
const char *ql_error_name(int code);
/* The enum spelling without the prefix ("PARSE", "TOKEN", ...). */
const char *ql_rc_name(int code);

/* ---- tokens ------------------------------------------------------------
** X(name, spelling): the token types of spec 6.3 in one list, so the enum
** and the name table cannot drift apart.  The ERR_* types are what the
** tokenizer returns for input that starts no token. */
#define QL_TOKEN_LIST(X) \
	X(EOF,        "<EOF>")      \
	X(WS,         "whitespace") \
	X(LT,         "<")          \
	X(LTE,        "<=")         \
	X(EQ,         "=")          \
	X(GT,         ">")          \
	X(GTE,        ">=")         \
	X(BOOLEAN,    "boolean")    \
	X(AND,        "and")        \
	X(OR,         "or")         \
	X(NOT,        "not")        \
	X(ASC,        "asc")        \
	X(DESC,       "desc")       \
	X(CONTAINS,   "contains")   \
	X(WITHIN,     "within")     \
	X(OF,         "of")         \
	X(DIRECT,     "direct")     \
	X(UUID,       "uuid")       \
	X(ID,         "identifier") \
	X(LONG,       "integer")    \
	X(FLOAT,      "float")      \
	X(STRING,     "string")     \
	X(LPAREN,     "(")          \
	X(RPAREN,     ")")          \
	X(STAR,       "*")          \
	X(COMMA,      ",")          \
	X(COLON,      ":")          \
	X(LBRACE,     "{")          \
	X(RBRACE,     "}")          \
	X(SELECT,     "select")     \
	X(WHERE,      "where")      \
	X(ORDER_BY,   "order by")   \
	X(ERR_CHAR,   "invalid character")    \
	X(ERR_STRING, "unterminated string")  \
	X(ERR_ESCAPE, "invalid escape")

typedef enum {
#define QL_X_ENUM(name, spelling) QL_TK_##name,
	QL_TOKEN_LIST(QL_X_ENUM)
#undef QL_X_ENUM
	QL_TK_COUNT
} ql_tk;

/*
** Scans the one token that starts at z[0] (n bytes available) and returns
** its length in bytes; *type receives a ql_tk.  Returns 0 only when n is 0
** (type QL_TK_EOF); otherwise at least 1.  Longest match wins, and on equal
** length the earlier rule of spec 6.3 (keywords before ID before numbers).
** Error types: QL_TK_ERR_CHAR covers the bad character (a whole UTF-8
** sequence when it is one; for a NUL inside a string, the token runs from
** the opening quote to the NUL); QL_TK_ERR_STRING runs to the end of input;
** QL_TK_ERR_ESCAPE ends just after the two characters "\x" that start the
** bad escape.  Pure: no allocation, no state; z need not be NUL-terminated.
*/
size_t      ql_token(const char *z, size_t n, int *type);
const char *ql_token_name(int type);   /* spelling from QL_TOKEN_LIST */

/* ---- syntax tree ------------------------------------------------------
** Every node and string of a parsed query lives in the arena passed to
** ql_parse and dies with it; nothing in a tree is freed on its own.
** Property names are lower-cased (ASCII), dotted paths are one string. */

typedef enum { QL_OR, QL_AND, QL_NOT, QL_CMP, QL_CONTAINS, QL_WITHIN } ql_kind;
typedef enum { QL_EQ, QL_LT, QL_LTE, QL_GT, QL_GTE } ql_op;
typedef enum { QL_VSTRING, QL_VLONG, QL_VDOUBLE, QL_VBOOL, QL_VUUID } ql_vtype;

typedef struct {
	ql_vtype type;
	union {
		struct {
			const char *text;   /* unescaped, as written, NUL-terminated */
			const char *lower;  /* text with A-Z lower-cased: evaluation
			                    ** compares this, case-insensitively */
			size_t      len;    /* bytes of either, without the NUL */
		} s;                        /* QL_VSTRING; '*' inside = wildcard */
		int64_t       l;            /* QL_VLONG */
		double        d;            /* QL_VDOUBLE, always finite */
		int           b;            /* QL_VBOOL: 0 or 1 */
		unsigned char uuid[16];     /* QL_VUUID, network byte order */
	} u;
} ql_value;

typedef struct ql_node ql_node;
struct ql_node {
	ql_kind kind;
	size_t  offset;                 /* byte offset of the node's first token */
	union {
		struct {                    /* QL_AND, QL_OR: kids in text order */
			ql_node **kids;     /* n >= 2; a chain "a and b and c" is one */
			size_t    n;        /* node, a parenthesised group is a kid */
		} list;
		ql_node *not_kid;           /* QL_NOT */
		struct {                    /* QL_CMP */
			const char *prop;
			ql_op       op;
			ql_value    val;
		} cmp;
		struct {                    /* QL_CONTAINS: val.type is QL_VSTRING */
			const char *prop;
			ql_value    val;
		} contains;
		struct {                    /* QL_WITHIN: meters of (lat, lon) */
			const char *prop;
			double      distance, lat, lon;
		} within;
	} u;
};

typedef enum { QL_SELECT_ALL, QL_SELECT_FIELDS, QL_SELECT_RENAME } ql_select_kind;

typedef struct {
	const char *name;    /* source property path, lower-cased */
	const char *target;  /* output name: == name for QL_SELECT_FIELDS, the
	                     ** rename as written for QL_SELECT_RENAME */
} ql_field;

typedef struct {
	const char *prop;    /* lower-cased */
	int         desc;    /* 0 ascending (the default), 1 descending */
} ql_order;

typedef struct {
	int           is_uuid;
	unsigned char uuid[16];  /* when is_uuid */
	const char   *name;      /* otherwise: the entity name as written */
} ql_direct;

typedef struct ql_query {
	ql_select_kind select;
	ql_field      *fields;    /* nfields entries, no duplicate name */
	size_t         nfields;
	ql_node       *where;     /* NULL: no filter */
	ql_direct     *direct;    /* DIRECT ids (then where is NULL) */
	size_t         ndirect;
	ql_order      *order;     /* norder entries, no duplicate prop */
	size_t         norder;
} ql_query;

/*
** Parses len bytes of ql text into *out, a new tree allocated from a.
** Empty or all-whitespace text and "select *" parse to a query with
** select QL_SELECT_ALL, no where, no direct and no order: the caller turns
** that into a plain listing.  text need not be NUL-terminated.
** Returns QL_OK, or an error code with *out set to NULL and *err (which
** may be NULL) filled in.  Memory already taken from a on failure stays in
** a until arena_destroy.
*/
ql_rc ql_parse(arena      *a,      /* owns the tree */
               const char *text,   /* borrowed: nothing points into it */
               size_t      len,
               ql_query  **out,
               ql_error   *err);

/*
** Writes the canonical s-expression of q into buf (at most cap bytes,
** always NUL-terminated when cap > 0) and returns the length the whole
** text needs, like snprintf.  Used by tests and for debugging:
**   (select *) (where (and (= ordinal 5) (not (contains title 'hot'))))
**   (order (name asc) (created desc))
** Strings print in single quotes with \' \\ and \uXXXX for control
** characters; doubles always show a '.' or an exponent, longs never do.
*/
size_t ql_format(const ql_query *q, char *buf, size_t cap);

#endif
