/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * i18n.h: marks translatable messages.
 *
 * Messages are English msgids; _() looks them up in the gettext catalogue
 * when mailsh is built with NLS (the default), N_() marks a string in a
 * table for extraction without translating it there.  Never call
 * gettext() itself with a string that can be empty: use _().
 *
 * A short msgid that could mean several things ("from", "date",
 * "mailbox", "read") gets a context, so a translator sees which one is
 * meant (msgctxt in the catalogue): pgettext("IMAP flag", "read") where
 * it is used, or NC_("IMAP flag", "read") in a table and
 * pgettext_expr("IMAP flag", entry) where the entry is shown.  The
 * context is English for translators and never shown.
 */
#ifndef MAILSH_I18N_H
#define MAILSH_I18N_H

#ifdef MAILSH_NLS
#include <libintl.h>
#include <stddef.h>
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

/* The catalogue keys a msgid with a context as "CONTEXT\004MSGID". */
__attribute__((format_arg(2))) static inline const char *
pgettext_expr(const char *ctx, const char *s)
{
	char key[256];
	size_t c = __builtin_strlen(ctx), n = s ? __builtin_strlen(s) : 0;
	if (n == 0 || c + n + 2 > sizeof(key))
		return s;
	__builtin_memcpy(key, ctx, c);
	key[c] = '\004';
	__builtin_memcpy(key + c + 1, s, n + 1);
	const char *t = gettext(key);
	return t == key ? s : t;
}
#define pgettext(ctx, s) pgettext_expr(ctx, s)
#else
#define _(s) (s)
#define ngettext(s, p, n) ((n) == 1 ? (s) : (p))
#define pgettext(ctx, s) ((void)(ctx), (s))
#define pgettext_expr(ctx, s) ((void)(ctx), (s))
#endif
#define N_(s) (s)
#define NC_(ctx, s) (s)

#endif
