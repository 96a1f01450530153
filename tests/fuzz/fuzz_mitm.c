/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_mitm.c: libFuzzer target for the MITM's line rewriter
 * (lab/mitm_proto.c: mitm_client_line, mitm_server_line).  The first
 * input byte picks the modes (strip, strip-logindisabled, refuse,
 * inject, preauth; not tls-intercept, which needs sockets); then each
 * line goes to the server side if it starts with "S:" (without it),
 * else to the client side, as the proxy's loop hands them over: at
 * most MITM_LINE bytes, output drained after each line, literal
 * octets passed by, nothing more once the session is blind (TLS) or
 * dead.  The output buffers must never overflow ("internal: ...").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lab/mitm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mitm m;
	struct mconn *c = calloc(1, sizeof(*c));
	if (!c || size < 1)
		return free(c), 0;
	memset(&m, 0, sizeof(m));
	m.quiet = true;
	m.modes = data[0] & (M_PASS | M_STRIP | M_STRIPLD | M_REFUSE |
	    M_INJECT | M_PREAUTH);
	c->cfd = c->sfd = -1;
	const char *s = (const char *)data + 1;
	size_t left = size - 1;
	while (left > 0 && !c->blind && !c->dead) {
		bool server = left >= 2 && s[0] == 'S' && s[1] == ':';
		if (server)
			s += 2, left -= 2;
		struct half *h = server ? &c->down : &c->up;
		if (h->lit > 0) {	/* literal octets: passed by */
			size_t k = h->lit < left ? (size_t)h->lit : left;
			h->lit -= k;
			s += k, left -= k;
			continue;
		}
		const char *lf = memchr(s, '\n', left);
		size_t len = lf ? (size_t)(lf - s) + 1 : left;
		if (len > MITM_LINE)
			len = MITM_LINE;
		size_t n = len;
		if (n > 0 && s[n - 1] == '\n')
			n--;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (server)
			mitm_server_line(&m, c, s, len, s, n);
		else
			mitm_client_line(&m, c, s, len, s, n);
		if (c->dead && strstr(c->dead, "internal"))
			abort();
		c->up.outlen = c->down.outlen = 0;
		s += len, left -= len;
	}
	free(c);
	return 0;
}
