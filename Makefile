# Builds and installs libberth (shared and static), berth.h and berth.pc.
#
#   make install PREFIX=/usr/local       # or DESTDIR=... for packaging
#
# Afterwards `pkg-config --cflags --libs berth` (shared) and
# `gcc -static ... $(pkg-config --static --cflags --libs berth)` (static) work.

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
CARGO      ?= cargo
TARGET_DIR ?= target/release

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
ABI     := $(shell sed -n 's/.*ABI_VERSION: u32 = \([0-9]*\);/\1/p' ffi/src/abi_version.rs)

.PHONY: build install uninstall

build:
	$(CARGO) build --release --locked -p berth-ffi

install: build
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 0755 $(TARGET_DIR)/libberth.so $(DESTDIR)$(LIBDIR)/libberth.so.$(VERSION)
	ln -sf libberth.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libberth.so.$(ABI)
	ln -sf libberth.so.$(ABI) $(DESTDIR)$(LIBDIR)/libberth.so
	install -m 0644 $(TARGET_DIR)/libberth.a $(DESTDIR)$(LIBDIR)/libberth.a
	install -m 0644 include/berth.h $(DESTDIR)$(INCLUDEDIR)/berth.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    pkgconfig/berth.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/berth.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libberth.so* $(DESTDIR)$(LIBDIR)/libberth.a \
	      $(DESTDIR)$(INCLUDEDIR)/berth.h $(DESTDIR)$(LIBDIR)/pkgconfig/berth.pc
