/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_labpop3.c: libFuzzer target for the lab's POP3 server
 * (lab/pop3d.c): the input is what a client sends, split into lines
 * (and literals) and handed to the real protocol hooks in a fresh
 * state directory (tests/fuzz/labsession.c).
 */
#include <stdint.h>

#include "../../lab/pop3d.h"
#include "labsession.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	labsession_run(&pop3d_proto, data, size, false);
	return 0;
}
