# Makefile: build, test, demo, bench and install the hub.
#
# Layout it relies on (files are found by name, so adding a file needs no
# edit here):
#   lib/*.c                 -> build/libhub.a
#   cmd/hub-X/*.c           -> build/bin/hub-X  (main.c + the rest as build/cmd/hub-X.a)
#   test/unit/test_*.c      -> build/test/test_*   (cmocka; may use any cmd archive)
#   test/tools/NAME/*.c     -> build/test/bin/NAME (test servers and stand-ins)
#   test/fuzz/fuzz_*.c      -> build/fuzz/...      (libFuzzer, clang, `make fuzz`)

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
BUILD      ?= build
CC         ?= cc

PKGS      := libpq libcurl libcjson openssl libmongoc-1.0 libbson-1.0 libmicrohttpd
# libpq and libcurl are opened on first use, not linked (lib/lazylib.h says why).
LINKED_PKGS := $(filter-out libpq libcurl,$(PKGS))
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(LINKED_PKGS))

WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
             -Wmissing-prototypes -Wno-unused-parameter
OPT       ?= -O2 -g
CFLAGS    ?= $(OPT)
ALL_CFLAGS = -std=c17 $(WARN) $(CFLAGS) $(SAN_FLAGS) -D_GNU_SOURCE \
             -DHUB_VERSION='"$(VERSION)"' -Ilib $(PKG_CFLAGS)
ALL_LDFLAGS = -Wl,--as-needed $(SAN_FLAGS) $(LDFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lm

ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ifeq ($(FUZZ),1)
SAN_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
endif

LIB_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(wildcard lib/*.c))
LIBHUB    := $(BUILD)/libhub.a
PROGRAMS  := $(notdir $(wildcard cmd/hub-*))
BINS      := $(PROGRAMS:%=$(BUILD)/bin/%)
CMD_ARCHIVES := $(PROGRAMS:%=$(BUILD)/cmd/%.a)
UNIT_BINS := $(patsubst test/unit/%.c,$(BUILD)/test/%,$(wildcard test/unit/test_*.c))
TOOLS     := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard test/tools/*/*.c)))))
TOOL_BINS := $(sort $(TOOLS:%=$(BUILD)/test/bin/%))
FUZZ_BINS := $(patsubst test/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard test/fuzz/fuzz_*.c))

.PHONY: all deps build-tests test test-run check-sanitize demo bench fuzz \
        install uninstall clean
.DEFAULT_GOAL := all
# Keep object files that only feed a test binary (make deletes them as intermediates otherwise).
.SECONDARY:

all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBHUB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# One program: main.o, its own archive, libhub.
define program_rules
$(BUILD)/cmd/$(1).a: $(patsubst %.c,$(BUILD)/%.o,$(filter-out cmd/$(1)/main.c,$(wildcard cmd/$(1)/*.c)))
	@mkdir -p $$(@D)
	@rm -f $$@
	$(AR) rcs $$@ $$^
$(BUILD)/bin/$(1): $(BUILD)/cmd/$(1)/main.o $(BUILD)/cmd/$(1).a $(LIBHUB)
	@mkdir -p $$(@D)
	$(CC) $(ALL_LDFLAGS) -o $$@ $$^ $(LDLIBS_ALL)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rules,$(p))))

$(BUILD)/test/test_%: $(BUILD)/test/unit/test_%.o $(CMD_ARCHIVES) $(LIBHUB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_ALL) -lcmocka

define tool_rules
$(BUILD)/test/bin/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard test/tools/$(1)/*.c)) $(LIBHUB)
	@mkdir -p $$(@D)
	$(CC) $(ALL_LDFLAGS) -o $$@ $$^ $(LDLIBS_ALL) -lpthread
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rules,$(t))))

build-tests: $(BINS) $(UNIT_BINS) $(TOOL_BINS)

# The two README commands install what is missing first, then re-enter make
# so that pkg-config runs after the -dev packages exist.
deps:
	@scripts/install-deps.sh

JOBS ?= $(shell nproc 2>/dev/null || echo 2)

test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) build-tests
	@HUB_BUILD=$(abspath $(BUILD)) test/run.sh

# Runs the suite on what is already built (no install step).
test-run: build-tests
	@HUB_BUILD=$(abspath $(BUILD)) test/run.sh

check-sanitize: deps
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/sanitize SANITIZE=1 CC=clang build-tests
	@HUB_SANITIZE=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  HUB_BUILD=$(abspath build/sanitize) test/run.sh

demo: deps
	@$(MAKE) --no-print-directory all $(TOOL_BINS)
	@HUB_BUILD=$(abspath $(BUILD)) scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory build-tests
	@HUB_BUILD=$(abspath $(BUILD)) test/bench/run.sh

$(BUILD)/fuzz/fuzz_%: $(BUILD)/test/fuzz/fuzz_%.o $(CMD_ARCHIVES) $(LIBHUB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL)

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build/fuzz-tree FUZZ=1 CC=clang fuzz-build
	@HUB_FUZZ_BUILD=$(abspath build/fuzz-tree) test/fuzz/run.sh

install: all
	@BUILD=$(BUILD) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) scripts/install.sh

uninstall:
	@PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) scripts/install.sh --uninstall

clean:
	rm -rf build

-include $(shell find $(BUILD) -type f -name '*.d' 2>/dev/null)
