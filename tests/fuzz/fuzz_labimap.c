/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz_labimap.c: libFuzzer target for the lab's IMAP server
 * (lab/imapd.c): the input is what a client sends, split into lines
 * (and literals) and handed to the real protocol hooks in a fresh
 * state directory (tests/fuzz/labsession.c).
 */
#include <stdint.h>

#include "../../lab/imapd.h"
#include "labsession.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	labsession_run(&imapd_proto, data, size, true);
	return 0;
}
