/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lineedit.h: GNU readline or libedit (make LINEEDIT=libedit), through
 * readline's callback interface which both provide.
 */
#ifndef MAILSH_LINEEDIT_H
#define MAILSH_LINEEDIT_H

#include <stdio.h>

#ifdef MAILSH_LIBEDIT
#include <editline/readline.h>
#else
#include <readline/history.h>
#include <readline/readline.h>
#endif

#endif
