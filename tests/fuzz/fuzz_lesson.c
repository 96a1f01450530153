/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_lesson.c: libFuzzer target for the lesson-file parser
 * (shell/lesson_file.c) with its regex guard: the input is a lesson
 * file; lesson_load parses it (every pattern through the guard, then
 * regcomp) and must either load it or say why in err.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../shell/lesson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		if ((fd = memfd_create("fuzz_lesson", 0)) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	struct lesson *l = calloc(1, sizeof(*l));
	char err[512] = "";
	if (!l)
		abort();
	int r = lesson_load(l, path, err, sizeof(err));
	if (r != 0 && err[0] == '\0')
		abort();	/* refused without saying why */
	lesson_free(l);		/* also after a failure (what was read) */
	free(l);
	return 0;
}
