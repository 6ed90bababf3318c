# ALBM: dependency groups, version, man pages, `make install` and `make deb`.
# Included at the end of the top-level Makefile (kept apart so that the two evolve
# separately).  docs/operations.md says what is installed where and why.

# ---- dependency groups (scripts/deps.sh): `make` needs build, `make test` test ------------
.PHONY: deps-test deps-lab
deps-test:
	$(Q)bash scripts/deps.sh build test
deps-lab:
	$(Q)bash scripts/deps.sh build lab

# ---- version: compiled into src/common/version.c only ------------------------------------
# scripts/version.sh: git describe (or VERSION+git.COMMIT) in a checkout, the VERSION file
# in a tarball or a Debian build.  The stamp changes only when the version does, so a new
# commit recompiles one file.  `make ALBM_VERSION=X` overrides (debian/rules does).
ALBM_VERSION ?= $(shell sh scripts/version.sh)
VERSION_STAMP = $(BUILD)/gen/version.stamp
.PHONY: FORCE
FORCE:
$(VERSION_STAMP): FORCE
	@mkdir -p $(@D)
	$(Q)[ -n '$(ALBM_VERSION)' ] || { echo "no version (scripts/version.sh failed)" >&2; exit 1; }
	$(Q)echo '$(ALBM_VERSION)' | cmp -s - $@ || echo '$(ALBM_VERSION)' > $@
$(BUILD)/obj/src/common/version.o $(BUILD)/fuzzobj/src/common/version.o: $(VERSION_STAMP)
$(BUILD)/obj/src/common/version.o: CFLAGS += -DALBM_VERSION='"$(ALBM_VERSION)"'
$(BUILD)/fuzzobj/src/common/version.o: FUZZ_CFLAGS += -DALBM_VERSION='"$(ALBM_VERSION)"'

# ---- man pages (scdoc) --------------------------------------------------------------------
# docs/man/NAME.S.scd.in -> build/man/NAME.S.scd -> build/man/NAME.S.  The templates pull
# their reference sections from docs/*.md (`@md FILE [SECTION]@`, scripts/md2scd.awk), so
# the man pages and docs/ share one text.
MAN_SRCS := $(wildcard docs/man/*.scd.in)
MAN_PAGES := $(MAN_SRCS:docs/man/%.scd.in=$(BUILD)/man/%)
$(BUILD)/man/%.scd: docs/man/%.scd.in scripts/md2scd.awk $(wildcard docs/*.md)
	@mkdir -p $(@D)
	$(Q)awk -f scripts/md2scd.awk $< > $@.tmp && mv $@.tmp $@
$(BUILD)/man/%: $(BUILD)/man/%.scd
	@echo "  SCDOC   $@"
	$(Q)scdoc < $< > $@.tmp && mv $@.tmp $@

# ---- install ------------------------------------------------------------------------------
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
LIBDIR      ?= $(PREFIX)/lib
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(LIBDIR)/systemd/system
SYSUSERSDIR ?= $(LIBDIR)/sysusers.d
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
INSTALL     ?= install

# What a server runs (the lab tools stay in build/).
DIST_BINS := $(BUILD)/albmd $(BUILD)/albm-agent $(BUILD)/albmctl
DIST_UNITS := $(BUILD)/dist/albmd.service $(BUILD)/dist/albm-agent.service
# FORCE: the paths come from PREFIX and friends, which may differ from one call to the next
$(BUILD)/dist/%.service: dist/systemd/%.service.in FORCE
	@mkdir -p $(@D)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		-e 's|@DATADIR@|$(DATADIR)|g' $< > $@

.PHONY: dist-bins man units install uninstall deb
dist-bins: $(DIST_BINS) $(BUILD)/bpf/albm_xdp.bpf.o
man: $(MAN_PAGES)
units: $(DIST_UNITS)

# The config and /etc/default/albm-agent are installed only where none exists yet (an
# upgrade never overwrites what the operator wrote).  Without DESTDIR, as root, the
# `albm` system user is created with systemd-sysusers where it exists.
install: dist-bins man units
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)/albm $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/albm $(DESTDIR)$(SYSCONFDIR)/default \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DATADIR)/albm/grafana $(DESTDIR)$(DATADIR)/albm/systemd
	$(Q)$(INSTALL) -m 0755 $(DIST_BINS) $(DESTDIR)$(SBINDIR)/
	$(Q)$(INSTALL) -m 0644 $(BUILD)/bpf/albm_xdp.bpf.o $(DESTDIR)$(LIBDIR)/albm/
	$(Q)$(INSTALL) -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	$(Q)$(INSTALL) -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 0644 $(DIST_UNITS) $(DESTDIR)$(UNITDIR)/
	$(Q)$(INSTALL) -m 0644 dist/systemd/albmd-dr.conf $(DESTDIR)$(DATADIR)/albm/systemd/
	$(Q)$(INSTALL) -m 0644 dist/sysusers/albm.conf $(DESTDIR)$(SYSUSERSDIR)/albm.conf
	$(Q)$(INSTALL) -m 0644 dist/bash-completion/albmctl $(DESTDIR)$(BASHCOMPDIR)/albmctl
	$(Q)$(INSTALL) -m 0644 contrib/grafana/albm.json $(DESTDIR)$(DATADIR)/albm/grafana/
	$(Q)$(INSTALL) -m 0644 examples/albmd.conf $(DESTDIR)$(DATADIR)/albm/albmd.conf.example
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/albm/albmd.conf ] || \
		$(INSTALL) -m 0644 examples/albmd.conf $(DESTDIR)$(SYSCONFDIR)/albm/albmd.conf
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/default/albm-agent ] || \
		$(INSTALL) -m 0644 dist/default/albm-agent $(DESTDIR)$(SYSCONFDIR)/default/albm-agent
	$(Q)if [ -z '$(DESTDIR)' ] && [ "$$(id -u)" -eq 0 ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/albm.conf; fi
	@echo "installed under $(DESTDIR)$(PREFIX) and $(DESTDIR)$(SYSCONFDIR)/albm (docs/operations.md: next steps)"

uninstall:
	$(Q)rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(DIST_BINS))) \
		$(DESTDIR)$(LIBDIR)/albm/albm_xdp.bpf.o \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MAN_PAGES)))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(filter %.8,$(MAN_PAGES)))) \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(DIST_UNITS))) \
		$(DESTDIR)$(SYSUSERSDIR)/albm.conf $(DESTDIR)$(BASHCOMPDIR)/albmctl
	$(Q)rm -rf $(DESTDIR)$(DATADIR)/albm
	$(Q)rmdir $(DESTDIR)$(LIBDIR)/albm 2>/dev/null || true
	@echo "left in place: $(DESTDIR)$(SYSCONFDIR)/albm, $(DESTDIR)$(SYSCONFDIR)/default/albm-agent, the albm user"

# ---- Debian package: build/albm_VERSION_ARCH.deb, checked by lintian ----------------------
deb:
	$(Q)bash scripts/deb.sh $(BUILD)
