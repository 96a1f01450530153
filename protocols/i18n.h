/*
 * i18n.h: marks translatable messages.
 *
 * Messages are English msgids; _() looks them up in the gettext catalogue
 * when mailsh is built with NLS (the default), N_() marks a string in a
 * table for extraction without translating it there.
 */
#ifndef MAILSH_I18N_H
#define MAILSH_I18N_H

#ifdef MAILSH_NLS
#include <libintl.h>
#define _(s) gettext(s)
#else
#define _(s) (s)
#define ngettext(s, p, n) ((n) == 1 ? (s) : (p))
#endif
#define N_(s) (s)

#endif
