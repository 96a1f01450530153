/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_pp.c: libFuzzer target for the line engine and the protocol
 * tables: what a server sends goes to pp_feed, in several chunkings,
 * and every chunking must give the same events and the same result.
 *
 * The first byte picks options:
 *   bits 0-1  protocol: SMTP, POP3, IMAP, or none (greeting detection)
 *   bit 2     the protocol was guessed from the port
 *   bit 3     a STARTTLS is pending (IMAP tag "a1")
 *   bit 4     the greeting has been seen already
 *   bit 5     lines starting with '>' are typed by the user: they go
 *             through pp_classify_send and proto->send, between the
 *             server's lines
 *   bit 6     expand 0xFE k c into 1024 * k bytes c (long lines and
 *             literals from short inputs; 160 KiB at most)
 *   bit 7     a small reply limit (5000 bytes)
 *
 * Checked besides the sanitizers: the same events (hashed) and result
 * for every chunking; after a stop (PP_UPGRADE), pp->in followed by the
 * bytes not fed is the same too (its first PP_IN_CAP bytes); no received line longer than
 * PP_IN_CAP; pp_classify_send says what proto->send then does and
 * changes no state; a secret's kept prefix is inside the line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocols/pp.h"

#define EXPAND_MAX (160 * 1024)	/* > 2 * PP_IN_CAP */

struct fz {
	uint64_t hash;
	size_t nev;
};

/* The harness's own hashing needs no coverage feedback (it was most of
 * the time spent); 8 bytes at a time. */
#if defined(__clang__) && __clang_major__ >= 13
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define NO_COVERAGE
#endif

NO_COVERAGE static void
mix(struct fz *f, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = f->hash;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 1099511628211ull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	f->hash = h;
}

static void
mix_u64(struct fz *f, uint64_t v)
{
	mix(f, &v, sizeof(v));
}

static void
collect(void *ctx, const struct pp_event *ev)
{
	struct fz *f = ctx;
	f->nev++;
	mix_u64(f, (uint64_t)ev->kind);
	mix_u64(f, ev->len);
	mix(f, ev->text, ev->len);
	mix_u64(f, ev->redacted);
	if (ev->kind == PP_EV_RECV && ev->len > PP_IN_CAP)
		abort();
	if (ev->rl) {
		const struct pp_rline *rl = ev->rl;
		mix_u64(f, (uint64_t)rl->kind);
		mix_u64(f, (uint64_t)rl->status);
		mix_u64(f, (uint64_t)rl->code);
		mix_u64(f, (uint64_t)rl->last << 1 | rl->greeting);
		mix_u64(f, (uint64_t)rl->bare_lf << 1 | rl->unstuffed);
		mix_u64(f, (uint64_t)rl->truncated);
		mix_u64(f, (uint64_t)(rl->upgrade + 1));
		mix_u64(f, rl->literal);
		if (rl->tag)
			mix(f, rl->tag, strlen(rl->tag));
	}
}

static const struct pp_proto *
pick_proto(unsigned opt)
{
	switch (opt & 3) {
	case 0: return &proto_smtp;
	case 1: return &proto_pop3;
	case 2: return &proto_imap;
	default: return NULL;
	}
}

static bool
same_sinfo(const struct pp_sinfo *a, const struct pp_sinfo *b)
{
	return a->expect_reply == b->expect_reply &&
	    a->starttls == b->starttls && a->secret == b->secret &&
	    a->keep == b->keep && a->stuff == b->stuff &&
	    a->data == b->data && a->quit == b->quit;
}

/* A line the user types: classify, check, then do what pp_send does
 * to the session state (there is no connection to send on). */
static void
user_line(struct pp *pp, const char *line, size_t n)
{
	struct pp_pstate ps = pp->ps;
	bool in_data = pp->in_data, sasl = pp->sasl;
	bool starttls = pp->starttls, quit = pp->quit_sent;
	char tag[PP_TAG_MAX];
	memcpy(tag, pp->tag, sizeof(tag));

	struct pp_sinfo c;
	pp_classify_send(pp, line, n, &c);
	if (pp->in_data != in_data || pp->sasl != sasl ||
	    pp->starttls != starttls || pp->quit_sent != quit ||
	    memcmp(pp->tag, tag, sizeof(tag)) != 0 ||
	    pp->ps.data_sent != ps.data_sent ||
	    pp->ps.expect_multi != ps.expect_multi ||
	    pp->ps.client_literal != ps.client_literal ||
	    pp->ps.secret_literal != ps.secret_literal ||
	    pp->ps.literal_sync != ps.literal_sync)
		abort();		/* classify changed the session */

	struct pp_sinfo si = { .expect_reply = true };
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (pp->proto)
		pp->proto->send(pp, line, n, &si);
	if (!same_sinfo(&c, &si))
		abort();		/* classify and send disagree */
	if (si.secret && si.keep > n)
		abort();
	if (strnlen(pp->tag, sizeof(pp->tag)) >= sizeof(pp->tag))
		abort();
	if (si.expect_reply)
		pp->awaiting = true;
	if (si.starttls)
		pp->starttls = true;
	if (si.quit)
		pp->quit_sent = true;
}

struct result {
	int r;
	uint64_t hash;
	size_t nev;
	unsigned long replies;
	uint64_t rest_hash;	/* pp->in then the bytes not fed */
	size_t restlen;
};

/* One run.  chunk 0: each piece at once; SIZE_MAX: random sizes. */
static void
run(unsigned opt, const char *d, size_t n, size_t chunk, uint32_t seed,
    struct result *res)
{
	static struct pp pp;	/* big: keep it off the stack */
	struct fz f = { .hash = 14695981039346656037ull };
	pp_init(&pp, collect, &f);
	pp.proto = pick_proto(opt);
	pp.guessed = (opt & 4) != 0;
	if (opt & 8) {
		pp.starttls = true;
		strcpy(pp.tag, "a1");
	}
	pp.greeted = (opt & 16) != 0;
	if (opt & 128)
		pp.max_reply = 5000;

	size_t pos = 0;
	int r = MS_OK;
	while (pos < n && r == MS_OK) {
		/* the next piece: a user line or server bytes */
		const char *lf = memchr(d + pos, '\n', n - pos);
		size_t end = lf ? (size_t)(lf - d) + 1 : n;
		if ((opt & 32) && d[pos] == '>') {
			size_t len = end - pos - 1 - (lf != NULL);
			user_line(&pp, d + pos + 1, len);
			pos = end;
			continue;
		}
		if (!(opt & 32))
			end = n;
		while (pos < end && r == MS_OK) {
			size_t k = end - pos;
			if (chunk == SIZE_MAX) {
				seed = seed * 1103515245u + 12345u;
				size_t want = 1 + (seed >> 16) % 300;
				if (want < k)
					k = want;
			} else if (chunk > 0 && chunk < k) {
				k = chunk;
			}
			r = pp_feed(&pp, d + pos, k);
			pos += k;
			if (pp.inlen > PP_IN_CAP)
				abort();
		}
	}
	res->r = r;
	res->hash = f.hash;
	res->nev = f.nev;
	res->replies = pp.replies;
	/* After PP_UPGRADE pp_feed keeps at most PP_IN_CAP bytes of what
	 * follows (the rest of that call is dropped): compare that much. */
	struct fz rh = { .hash = 14695981039346656037ull };
	size_t more = r == PP_UPGRADE ? n - pos : 0;
	if (more > PP_IN_CAP - pp.inlen)
		more = PP_IN_CAP - pp.inlen;
	size_t inlen = r == PP_UPGRADE ? pp.inlen : 0;
	static char rest[PP_IN_CAP];	/* one hash of the joined bytes */
	memcpy(rest, pp.in, inlen);
	memcpy(rest + inlen, d + pos, more);
	mix(&rh, rest, inlen + more);
	res->rest_hash = rh.hash;
	res->restlen = inlen + more;
	if (r != MS_OK && r != MS_ECLOSED && r != PP_UPGRADE)
		abort();
	pp_free(&pp);
}

/* Expands 0xFE k c into 1024 * k copies of c (at most EXPAND_MAX). */
static size_t
expand(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o < EXPAND_MAX; i++) {
		if (in[i] == 0xfe && i + 2 < n) {
			size_t k = (size_t)in[i + 1] * 1024;
			if (k > EXPAND_MAX - o)
				k = EXPAND_MAX - o;
			memset(out + o, in[i + 2], k);
			o += k;
			i += 2;
			continue;
		}
		out[o++] = (char)in[i];
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[EXPAND_MAX];
	if (size < 1)
		return 0;
	unsigned opt = data[0];
	const char *d = (const char *)data + 1;
	size_t n = size - 1;
	if (opt & 64) {
		n = expand(data + 1, size - 1, buf);
		d = buf;
	}
	struct result base;
	run(opt, d, n, 0, 0, &base);
	static const size_t chunks[] = { 1, 3, 64, 1000, 4096, SIZE_MAX };
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		/* Small pieces are slow on long lines: the engine looks
		 * for the LF from the start of the line again each time
		 * (quadratic within a line of up to PP_IN_CAP bytes). */
		if ((chunks[i] <= 3 && n > 8192) ||
		    (chunks[i] <= 64 && n > 32768))
			continue;
		struct result o;
		run(opt, d, n, chunks[i], (uint32_t)(size * 31 + i), &o);
		if (o.r != base.r || o.hash != base.hash ||
		    o.nev != base.nev || o.replies != base.replies ||
		    o.restlen != base.restlen ||
		    o.rest_hash != base.rest_hash) {
			fprintf(stderr, "chunking %zu differs: r %d/%d, "
			    "events %zu/%zu, replies %lu/%lu, rest %zu/%zu\n",
			    chunks[i], o.r, base.r, o.nev, base.nev,
			    o.replies, base.replies, o.restlen,
			    base.restlen);
			abort();
		}
	}
	return 0;
}
