/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_mime.c: libFuzzer target for the lab's MIME structure builder
 * (lab/imapmime.c): the input is a message file as the lab keeps it;
 * mime_parse reads it, then BODY and BODYSTRUCTURE are built, the
 * ENVELOPE of its header, and the parts 1, 1.1, 2.3.1 are resolved.
 * BODY(STRUCTURE) must be one balanced parenthesised list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../lab/imap_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
balanced(const struct gbuf *g)
{
	/* quoted strings and literals may hold parentheses: only the
	 * ends are checked */
	if (g->oom)
		return;
	if (g->len < 2 || g->p[0] != '(' || g->p[g->len - 1] != ')')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (fd < 0 && (fd = memfd_create("fuzz_mime", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	struct mime *m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	if (mime_parse(fd, m) == 0 && m->n > 0) {
		for (int ext = 0; ext < 2; ext++) {
			struct gbuf g = { 0 };
			mime_structure(&g, m, ext);
			balanced(&g);
			free(g.p);
		}
		struct gbuf g = { 0 };
		gb_envelope(&g, m->p[0].hdr ? m->p[0].hdr : "");
		free(g.p);
		static const int parts[][3] = { { 1 }, { 1, 1 }, { 2, 3, 1 } };
		static const int np[] = { 1, 2, 3 };
		for (size_t k = 0; k < 3; k++) {
			struct imap_sect s;
			memset(&s, 0, sizeof(s));
			s.nparts = np[k];
			memcpy(s.part, parts[k], sizeof(int) * (size_t)np[k]);
			int msg;
			int r = mime_resolve(m, &s, &msg);
			if (r >= m->n || msg >= m->n)
				abort();
		}
	}
	mime_free(m);
	free(m);
	return 0;
}
