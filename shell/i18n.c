/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * i18n.c: picks the language of mailsh's messages (GNU gettext):
 * --lang, else LANGUAGE / LC_ALL / LC_MESSAGES / LANG.  Catalogues come
 * from build/locale next to the binary when run from the source tree,
 * else from the installed locale directory.
 */
#include "shell.h"
#include "datadir.h"

#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef MAILSH_NLS
#include <libintl.h>
#endif

void
i18n_init(void)
{
	setlocale(LC_ALL, "");
#ifdef MAILSH_NLS
	const char *env = getenv("MAILSH_LOCALEDIR");
	const char *use = env && *env ? env : datadir_locale();
	bindtextdomain("mailsh", use);
	bind_textdomain_codeset("mailsh", "UTF-8");
	textdomain("mailsh");
#endif
	/* a child of a shell run with --lang (the lab, the MITM proxy)
	 * speaks the shell's language, also in the "C" locale */
	const char *lang = getenv("MAILSH_LANG");
	if (lang && *lang)
		i18n_set_lang(lang);
	else if (strcmp(i18n_env_lang(), "de") == 0)
		i18n_set_lang("de");	/* also without a de_* locale */
}

/*
 * The language the environment asks for, as gettext reads it: the
 * locale (LC_ALL, else LC_MESSAGES, else LANG) decides unless it is C or
 * POSIX, and then LANGUAGE's first entry wins over it.  A de_DE.UTF-8
 * that is not installed still means German here (Debian's minimal
 * systems have no locales), so messages and lessons agree.
 */
const char *
i18n_env_lang(void)
{
	const char *loc = NULL;
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	for (size_t i = 0; i < 3 && !loc; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			loc = v;
	}
	if (!loc || strcmp(loc, "C") == 0 || strcmp(loc, "POSIX") == 0 ||
	    strncmp(loc, "C.", 2) == 0)
		return "en";
	const char *language = getenv("LANGUAGE");
	const char *pick = language && *language ? language : loc;
	return strncmp(pick, "de", 2) == 0 ? "de" : "en";
}

const char *
i18n_lang(void)
{
	const char *lang = getenv("MAILSH_LANG");
	return lang && strcmp(lang, "de") == 0 ? "de" : lang &&
	    strcmp(lang, "en") == 0 ? "en" : i18n_env_lang();
}

bool
i18n_set_lang(const char *lang)
{
	if (strcmp(lang, "de") != 0 && strcmp(lang, "en") != 0)
		return false;
	/* LANGUAGE wins over the locale, but gettext ignores it in the
	 * "C" locale: then use C.UTF-8, which it does not ignore. */
	setenv("LANGUAGE", lang, 1);
	setenv("MAILSH_LANG", lang, 1);	/* for child processes */
	const char *cur = setlocale(LC_MESSAGES, NULL);
	if (!cur || strcmp(cur, "C") == 0 || strcmp(cur, "POSIX") == 0)
		setlocale(LC_MESSAGES, "C.UTF-8");
#ifdef MAILSH_NLS
	textdomain("mailsh");	/* drop translations looked up so far */
#endif
	return true;
}
