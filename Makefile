# SPDX-License-Identifier: GPL-3.0-or-later
# mailsh: one GNU Makefile.  make | make LINEEDIT=libedit | make check |
# make asan | make fuzz | make install PREFIX=... DESTDIR=...

VERSION    = 0.1.0
PREFIX    ?= /usr/local
BINDIR     = $(PREFIX)/bin
MANDIR     = $(PREFIX)/share/man/man1
MAN5DIR    = $(PREFIX)/share/man/man5
DOCDIR     = $(PREFIX)/share/doc/mailsh
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d
MAN1PAGES  = docs/mailsh.1 docs/mailsh-lab.1 docs/mailsh-mitm.1 \
             docs/mailsh-lesson.1
MAN5PAGES  = docs/mailsh-lessons.5
DOCS       = README.md docs/lessons.md docs/json.md \
             docs/mailsh-json.schema.json
LINEEDIT  ?= readline
PKG_CONFIG ?= pkg-config
CC        ?= cc

ifeq ($(LINEEDIT),libedit)
LE_CFLAGS := $(shell $(PKG_CONFIG) --cflags libedit) -DMAILSH_LIBEDIT
LE_LIBS   := $(shell $(PKG_CONFIG) --libs libedit)
else ifeq ($(LINEEDIT),readline)
LE_CFLAGS := $(shell $(PKG_CONFIG) --cflags readline)
LE_LIBS   := $(shell $(PKG_CONFIG) --libs readline)
else
$(error LINEEDIT must be readline or libedit)
endif
SSL_CFLAGS := $(shell $(PKG_CONFIG) --cflags openssl)
SSL_LIBS   := $(shell $(PKG_CONFIG) --libs openssl)

WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
# Warnings are errors only on request: `make WERROR=1` (CI, developers).
ifeq ($(WERROR),1)
WARN   += -Werror
endif
# snprintf truncates on purpose here (lengths are checked first); gcc's
# guesses about it change with -O levels, so it is not an error.  clang
# has no such warning.
ifeq ($(shell $(CC) --version 2>/dev/null | grep -c clang),0)
WARN   += -Wno-format-truncation
endif
CFLAGS ?= -O2 -g
LOCALEDIR  = $(PREFIX)/share/locale
LESSONDIR  = $(PREFIX)/share/mailsh/lessons
SYSCONFDIR ?= /etc
# CPPFLAGS (e.g. -D_FORTIFY_SOURCE=2 from dpkg-buildflags) go first in
# every compile rule; the installed paths are in build/paths.h (below).
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -DMAILSH_VERSION='"$(VERSION)"' \
          -DMAILSH_NLS $(WARN) $(SSL_CFLAGS) $(CFLAGS)

PROTO_SRC = protocols/util.c protocols/conn.c protocols/pcap.c protocols/pp.c \
            protocols/smtp.c protocols/pop3.c protocols/imap.c \
            protocols/annotate.c protocols/smtp_annot.c \
            protocols/pop3_annot.c protocols/imap_annot.c \
            protocols/imap_fetch.c protocols/imap_parse.c protocols/sasl.c
LAB_SRC   = lab/lab.c lab/loop.c lab/lconn.c lab/tls.c lab/users.c lab/store.c \
            lab/maildir.c lab/uidlist.c \
            lab/auth.c lab/smtpd.c lab/pop3d.c lab/ibox.c lab/imapd.c \
            lab/imapselect.c lab/imapappend.c \
            lab/imapfetch.c lab/imapsearch.c lab/imapbox.c lab/imapmatch.c \
            lab/imapmime.c lab/limits.c lab/turn.c lab/commit.c lab/worker.c \
            lab/mitm.c lab/mitm_proto.c lab/labmitm.c lab/child.c
SHELL_SRC = shell/main.c shell/repl.c shell/commands.c shell/history.c \
            shell/auth.c \
            shell/datadir.c \
            shell/output.c shell/i18n.c shell/lesson.c shell/lesson_file.c shell/handout.c shell/labrun.c \
            shell/config.c

B = build/$(LINEEDIT)
PROTO_OBJ = $(PROTO_SRC:%.c=build/%.o)
LAB_OBJ   = $(LAB_SRC:%.c=build/%.o)
SHELL_OBJ = $(SHELL_SRC:%.c=$(B)/%.o)

all: mailsh mo

mailsh: $(PROTO_OBJ) $(LAB_OBJ) $(SHELL_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(SSL_LIBS) $(LE_LIBS)

# The paths compiled in, rewritten only when PREFIX (or another of them)
# changes, so `make && make install PREFIX=/usr` rebuilds what uses them.
# A build/paths.h next to the binary also tells it that it runs from the
# source tree (shell/datadir.c).
build/paths.h: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' '/* written by make: the installed paths */' \
	    '#define MAILSH_BINDIR "$(BINDIR)"' \
	    '#define MAILSH_LESSONDIR "$(LESSONDIR)"' \
	    '#define MAILSH_LOCALEDIR "$(LOCALEDIR)"' \
	    '#define MAILSH_SYSCONFDIR "$(SYSCONFDIR)"' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
FORCE:

build/lab/child.o $(B)/shell/datadir.o: build/paths.h

build/protocols/%.o: protocols/%.c protocols/*.h protocols/*.def
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

build/lab/%.o: lab/%.c lab/*.h protocols/*.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/shell/%.o: shell/%.c shell/*.h protocols/*.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LE_CFLAGS) -c -o $@ $<

# ---- translations (GNU gettext: msgfmt, xgettext, msgmerge) ----
# build/locale/LANG/LC_MESSAGES/mailsh.mo is found next to the binary when
# mailsh runs from the source tree; `make pot` re-extracts the messages
# (the .def tables are C fragments: --language=C makes xgettext read them)
# and merges them into every po/LANG.po listed in po/LINGUAS.  It is
# stable: references name files without line numbers, and a template
# that differs only in its POT-Creation-Date is not rewritten, so on a
# clean tree po/ stays as it is (tests/pot.sh).
LINGUAS  := $(strip $(shell sed -e 's/\#.*//' po/LINGUAS))
MO_FILES = $(LINGUAS:%=build/locale/%/LC_MESSAGES/mailsh.mo)
POT_SRC  = $(sort $(wildcard protocols/*.c protocols/*.def shell/*.c lab/*.c))
MSGFMT   ?= msgfmt
XGETTEXT ?= xgettext
MSGMERGE ?= msgmerge
MSGINIT  ?= msginit
XGETTEXT_FLAGS = --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ \
            --keyword=NC_:1c,2 --keyword=pgettext:1c,2 \
            --keyword=pgettext_expr:1c,2 --add-comments=TRANSLATORS: \
            --sort-by-file --add-location=file

mo: $(MO_FILES)

build/locale/%/LC_MESSAGES/mailsh.mo: po/%.po
	@mkdir -p $(@D)
	$(MSGFMT) --check -o $@ $<

pot:
	$(XGETTEXT) $(XGETTEXT_FLAGS) \
	    --package-name=mailsh --package-version=$(VERSION) \
	    --msgid-bugs-address= -o po/mailsh.pot.new $(POT_SRC)
	sed -i -e '1i # SPDX-License-Identifier: GPL-3.0-or-later' \
	    -e '/^# SOME DESCRIPTIVE TITLE\.$$/d' \
	    -e "/^# Copyright (C) YEAR THE PACKAGE'S COPYRIGHT HOLDER$$/d" \
	    -e '/^# FIRST AUTHOR <EMAIL@ADDRESS>, YEAR\.$$/d' po/mailsh.pot.new
	if [ -f po/mailsh.pot ] && diff -q -I '^"POT-Creation-Date: ' \
	    po/mailsh.pot po/mailsh.pot.new >/dev/null; then \
	    rm po/mailsh.pot.new; \
	else \
	    mv po/mailsh.pot.new po/mailsh.pot; \
	fi
	for l in $(LINGUAS); do \
	    if [ -f po/$$l.po ]; then \
	        $(MSGMERGE) --quiet --update --backup=none --previous \
	            --sort-by-file --add-location=file \
	            po/$$l.po po/mailsh.pot || exit 1; \
	    else \
	        $(MSGINIT) --no-translator --locale=$$l -i po/mailsh.pot \
	            -o po/$$l.po || exit 1; \
	    fi; \
	done

# ---- tests ----
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
UNIT_TESTS = tests/unit/test_util tests/unit/test_pp tests/unit/test_annot \
             tests/unit/test_pcap \
             tests/unit/test_imapmatch tests/unit/test_sasl

tests/unit/%: tests/unit/%.c $(PROTO_OBJ)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes $(LDFLAGS) \
	    -o $@ $< $(PROTO_OBJ) $(SSL_LIBS) $(CMOCKA_LIBS)

# the LIST pattern matcher of the lab stands alone
tests/unit/test_imapmatch: tests/unit/test_imapmatch.c build/lab/imapmatch.o
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes $(LDFLAGS) \
	    -o $@ $< build/lab/imapmatch.o $(CMOCKA_LIBS)

unit: $(UNIT_TESTS)

check: mailsh mo unit
	tests/run

test: check

# AddressSanitizer + UBSan build of everything, then the whole suite.
asan:
	$(MAKE) clean-objs
	$(MAKE) CFLAGS="-O1 -g -fsanitize=address,undefined \
	    -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" \
	    SKIP_SUITES="fuzz $(SKIP_SUITES)" check
	$(MAKE) clean-objs

# libFuzzer targets for the parsers (clang).
FUZZ_CC ?= clang
FUZZ_TARGETS = tests/fuzz/fuzz_pp tests/fuzz/fuzz_b64 tests/fuzz/fuzz_imap \
               tests/fuzz/fuzz_sasl
tests/fuzz/%: tests/fuzz/%.c $(PROTO_SRC) protocols/*.h
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 -D_GNU_SOURCE -g -O1 \
	    -fsanitize=fuzzer,address,undefined $(SSL_CFLAGS) -o $@ $< \
	    $(PROTO_SRC) $(SSL_LIBS)
# The lab's servers run without lab/loop.c: tests/fuzz/labsession.c
# stands in for it (the lconn_* calls on a buffer, one session per input).
FUZZ_LAB_SRC = $(filter-out lab/loop.c,$(LAB_SRC)) tests/fuzz/labsession.c
FUZZ_LAB = tests/fuzz/fuzz_labimap tests/fuzz/fuzz_labsmtp \
           tests/fuzz/fuzz_labpop3 tests/fuzz/fuzz_mime tests/fuzz/fuzz_mitm
FUZZ_TARGETS += $(FUZZ_LAB)
$(FUZZ_LAB): tests/fuzz/%: tests/fuzz/%.c $(FUZZ_LAB_SRC) \
    $(PROTO_SRC) lab/*.h protocols/*.h tests/fuzz/labsession.h build/paths.h
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 -D_GNU_SOURCE -g -O1 \
	    -fsanitize=fuzzer,address,undefined $(SSL_CFLAGS) -o $@ $< \
	    $(FUZZ_LAB_SRC) $(PROTO_SRC) $(SSL_LIBS) -pthread
FUZZ_TARGETS += tests/fuzz/fuzz_lesson
tests/fuzz/fuzz_lesson: tests/fuzz/fuzz_lesson.c shell/lesson_file.c \
    shell/lesson.h
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 -D_GNU_SOURCE -g -O1 \
	    -fsanitize=fuzzer,address,undefined -o $@ $< shell/lesson_file.c
fuzz: $(FUZZ_TARGETS)

# ---- install ----
install: mailsh mo
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(MAN5DIR)
	install -m 755 mailsh $(DESTDIR)$(BINDIR)/mailsh
	install -m 644 $(MAN1PAGES) $(DESTDIR)$(MANDIR)/
	install -m 644 $(MAN5PAGES) $(DESTDIR)$(MAN5DIR)/
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
	    $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(DOCDIR)
	install -m 644 completions/mailsh.bash $(DESTDIR)$(BASHCOMPDIR)/mailsh
	install -m 644 completions/_mailsh $(DESTDIR)$(ZSHCOMPDIR)/_mailsh
	install -m 644 completions/mailsh.fish \
	    $(DESTDIR)$(FISHCOMPDIR)/mailsh.fish
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(LESSONDIR)
	install -m 644 lessons/*.lesson $(DESTDIR)$(LESSONDIR)/
	for l in $(LINGUAS); do \
	    install -d $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES && \
	    install -m 644 build/locale/$$l/LC_MESSAGES/mailsh.mo \
	        $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/mailsh.mo || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mailsh
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(notdir $(MAN1PAGES))) \
	    $(addprefix $(DESTDIR)$(MAN5DIR)/,$(notdir $(MAN5PAGES)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/mailsh $(DESTDIR)$(ZSHCOMPDIR)/_mailsh \
	    $(DESTDIR)$(FISHCOMPDIR)/mailsh.fish
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	rm -f $(addprefix $(DESTDIR)$(LESSONDIR)/,$(notdir $(wildcard lessons/*.lesson)))
	rmdir $(DESTDIR)$(LESSONDIR) $(DESTDIR)$(PREFIX)/share/mailsh 2>/dev/null || true
	for l in $(LINGUAS); do \
	    rm -f $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/mailsh.mo; \
	done

# The release tarball: what git tracks at HEAD, in mailsh-VERSION/.
dist:
	git archive --format=tar.gz --prefix=mailsh-$(VERSION)/ \
	    -o mailsh-$(VERSION).tar.gz HEAD
	@echo mailsh-$(VERSION).tar.gz

clean-objs:
	rm -rf build mailsh $(UNIT_TESTS)

clean: clean-objs
	rm -f $(FUZZ_TARGETS)

.PHONY: all mo pot unit check test asan fuzz install uninstall dist clean \
        clean-objs FORCE
