/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_imap.c: libFuzzer target for the IMAP data parser
 * (protocols/imap_parse.c) and the read-out built on it
 * (protocols/imap_fetch.c, imap_annot.c).
 *
 * The input is parsed as it is; then every value is walked and checked
 * to lie inside the input, lists to hold as many elements as they say,
 * and the parse to fail exactly with an error set.  Then the same bytes
 * go through the annotator as the server's lines of an IMAP session
 * ("* 1 FETCH " put before the first line), so FETCH, LIST, STATUS,
 * SEARCH and responses spanning literals are read out of garbage too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocols/annotate.h"
#include "../../protocols/imap_parse.h"

static void
out(void *ctx, const struct pp_event *ev)
{
	(void)ctx;
	if (ev->len > 0 && memchr(ev->text, '\0', ev->len) && ev->kind !=
	    PP_EV_RECV && ev->kind != PP_EV_INJECT)
		abort();	/* a message with a NUL in it */
}

static void
check_parse(const char *s, size_t n)
{
	static struct imap_parse p;
	bool ok = imap_parse(&p, s, n);
	if (!ok) {
		if (!p.err || p.errpos > n)
			abort();
		return;
	}
	if (p.err || p.n > IMAP_PARSE_MAX)
		abort();
	for (int i = 0; i < p.n; i++) {
		const struct imap_value *v = &p.v[i];
		uintptr_t b = (uintptr_t)s, vs = (uintptr_t)v->s;
		if (vs < b || vs + v->len > b + n)
			abort();
		if (v->type == IMAP_LIST) {
			int c = 0;
			for (const struct imap_value *e = imap_elem(&p, v, 0);
			    e; e = imap_next(&p, e))
				c++;
			if (c != v->count || imap_elem(&p, v, c))
				abort();
		}
		char buf[64];
		size_t l = imap_text(v, buf, sizeof(buf), NULL);
		if (l >= sizeof(buf) || buf[l] != '\0')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pp pp;
	static struct ann a;
	const char *s = (const char *)data;
	check_parse(s, size);

	pp_init(&pp, ann_event, &a);
	ann_init(&a, &pp, (size & 1) ? ANN_FULL : ANN_BRIEF, out, NULL);
	pp.proto = &proto_imap;
	pp.greeted = true;
	pp_feed(&pp, "* 1 FETCH ", 10);
	pp_feed(&pp, s, size);
	pp_feed(&pp, "\r\n", 2);
	pp_free(&pp);
	return 0;
}
