/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * i18n.h: marks translatable messages.
 *
 * Messages are English msgids; _() looks them up in the gettext catalogue
 * when mailsh is built with NLS (the default), N_() marks a string in a
 * table for extraction without translating it there.  Never call
 * gettext() itself with a string that can be empty: use _().
 */
#ifndef MAILSH_I18N_H
#define MAILSH_I18N_H

#ifdef MAILSH_NLS
#include <libintl.h>
/*
 * gettext("") returns the catalogue's header ("Project-Id-Version: ..."),
 * so an empty message is never looked up: _() of a table entry that may
 * be "" (an argument list, a missing text) gives "" back.  format_arg:
 * printf checks see through it, as through gettext().
 */
__attribute__((format_arg(1))) static inline const char *
i18n_tr(const char *s)
{
	return s && *s ? gettext(s) : s;
}
#define _(s) i18n_tr(s)
#else
#define _(s) (s)
#define ngettext(s, p, n) ((n) == 1 ? (s) : (p))
#endif
#define N_(s) (s)

#endif
