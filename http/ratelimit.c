/*
** ratelimit.c: token buckets that keep the token endpoints from being used
** to guess passwords at wire speed.  Every attempt takes one token from
** the bucket of its client address and one from the bucket of the name it
** tries (username or client id); a bucket holds `burst` tokens and regains
** one every `refill_ms`.  An empty bucket answers 429 with Retry-After.
**
** The table is fixed (HTTP_RATE_SLOTS buckets, no allocation): a key lives
** in one of HTTP_RATE_PROBES slots after its hash, and a new key takes the
** emptiest-looking (least recently used) of them.  Keys are hashed, never
** stored, so no username or address stays in memory as text.
*/
#include "http/http_int.h"
#include "core/text.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

void
http_ratelimit_init(http_ratelimit *rl, unsigned burst, unsigned refill_ms)
{
	memset(rl, 0, sizeof *rl);
	pthread_mutex_init(&rl->mu, NULL);
	rl->rate[0] = (http_rate){ burst ? burst : HTTP_TOKEN_ADDR_BURST,
	                           refill_ms ? refill_ms : HTTP_TOKEN_ADDR_REFILL_MS };
	rl->rate[1] = (http_rate){ burst ? burst : HTTP_TOKEN_NAME_BURST,
	                           refill_ms ? refill_ms : HTTP_TOKEN_NAME_REFILL_MS };
}

void
http_ratelimit_destroy(http_ratelimit *rl)
{
	pthread_mutex_destroy(&rl->mu);
}

/* A hash of kind and the lower-cased key (0 marks a free slot). */
static uint64_t
key_hash(char kind, const char *s)
{
	return text_hash(text_hash(TEXT_HASH_BASIS, &kind, 1, 0), s, strlen(s), 1) | 1;
}

/* Takes one token of key's bucket: 0, or the seconds until one is back. */
static unsigned
take(http_ratelimit *rl, const http_rate *rate, uint64_t key, int64_t now)
{
	http_bucket *b = NULL;
	size_t at = (size_t)(key % HTTP_RATE_SLOTS);
	for (size_t i = 0; i < HTTP_RATE_PROBES; i++) {
		http_bucket *s = &rl->b[(at + i) % HTTP_RATE_SLOTS];
		if (s->key == key) { b = s; break; }
		if (!b || s->at_ms < b->at_ms) b = s;     /* free (at 0) or least recent */
	}
	if (b->key != key) {
		b->key = key;
		b->tokens = rate->burst;
		b->at_ms = now;
	}
	b->tokens += (double)(now - b->at_ms) / rate->refill_ms;
	if (b->tokens > rate->burst) b->tokens = rate->burst;
	b->at_ms = now;
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	return (unsigned)(((1 - b->tokens) * rate->refill_ms + 999) / 1000);
}

/* The client's IPv4 address as text, or "" when unknown. */
static void
client_address(http_req *r, char out[INET6_ADDRSTRLEN])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out,
		          INET6_ADDRSTRLEN);
}

int
http_rate_ok(http_req *r, const char *name)
{
	http_ratelimit *rl = &r->srv->token_rate;
	char addr[INET6_ADDRSTRLEN];
	unsigned wait;

	client_address(r, addr);
	int64_t now = store_now_ms();
	pthread_mutex_lock(&rl->mu);
	wait = take(rl, &rl->rate[0], key_hash('a', addr), now);
	if (name && *name) {
		unsigned w2 = take(rl, &rl->rate[1], key_hash('n', name), now);
		if (w2 > wait) wait = w2;
	}
	pthread_mutex_unlock(&rl->mu);
	if (!wait) return 1;
	r->retry_after = wait;
	http_error(r, 429, "too_many_requests",
	           "too many token requests from this address or for this name; retry in %u s",
	           wait);
	return 0;
}
