/*
 * handout.c: a lesson as a handout for a course (`mailsh lesson NAME
 * --handout md|html`).
 */
#include "lesson.h"

#include <stdbool.h>
#include <stdio.h>


static void
md_block(const char *s)
{
	printf("%s\n\n", s);
}

static void
html_text(const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '&': fputs("&amp;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		case '\n': fputs("<br>\n", stdout); break;
		default: putchar(*s);
		}
	}
}

void
lesson_handout(const struct lesson *l, int lang, bool html)
{
	const char *step_w = lang ? "Schritt" : "Step";
	const char *type_w = lang ? "Eingabe" : "Type";
	const char *hint_w = lang ? "Tipp" : "Hint";
	const char *why_w = lang ? "Was du gelernt hast" : "What you learned";
	const char *min_w = lang ? "Minuten" : "minutes";
	if (html) {
		printf("<!DOCTYPE html>\n<html lang=\"%s\"><head><meta "
		    "charset=\"utf-8\"><title>", lang ? "de" : "en");
		html_text(l->title[lang]);
		printf("</title></head><body>\n<h1>");
		html_text(l->title[lang]);
		printf("</h1>\n<p><em>");
		html_text(l->summary[lang]);
		printf("</em> (%d %s)</p>\n", l->minutes, min_w);
	} else {
		printf("# %s\n\n*%s* (%d %s)\n\n", l->title[lang],
		    l->summary[lang], l->minutes, min_w);
	}
	for (int i = 0; i < l->nsteps; i++) {
		const struct lesson_step *s = &l->step[i];
		const char *text = s->text[lang];
		const char *hint = s->hint[0][lang];
		if (html) {
			printf("<h2>%s %d</h2>\n<p>", step_w, i + 1);
			html_text(text);
			printf("</p>\n<p>%s:</p>\n<pre>", type_w);
			for (int k = 0; k < s->nsolution; k++) {
				html_text(s->solution[k]);
				putchar('\n');
			}
			printf("</pre>\n");
			if (hint) {
				printf("<p><small>%s: ", hint_w);
				html_text(hint);
				printf("</small></p>\n");
			}
		} else {
			printf("## %s %d\n\n", step_w, i + 1);
			md_block(text);
			printf("%s:\n\n", type_w);
			for (int k = 0; k < s->nsolution; k++)
				printf("    %s\n", s->solution[k]);
			printf("\n");
			if (hint)
				printf("> %s: %s\n\n", hint_w, hint);
		}
	}
	if (html) {
		printf("<h2>%s</h2>\n<p>", why_w);
		html_text(l->why[lang]);
		printf("</p>\n</body></html>\n");
	} else {
		printf("## %s\n\n", why_w);
		md_block(l->why[lang]);
	}
}

