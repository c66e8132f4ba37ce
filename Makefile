# ugstore: one plain Makefile.  `make` builds ./ugstore; `make test` runs every
# suite; `make asan` runs the same suites under ASan+UBSan; `make run` starts
# the server on ./data; `make install` installs the binary, a systemd unit
# and a default config (DESTDIR and PREFIX respected).  No recursion, no
# generator.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wshadow
CPPFLAGS += -D_GNU_SOURCE -I.
LDLIBS  := -llmdb -ljansson -lmicrohttpd -luuid -lcrypt -lnettle -lpthread -lm

SANITIZE ?=
ifeq ($(SANITIZE),1)
  BUILD   := build/asan
  CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
  # shared read-only objects are checked unchanged each time they are taken
  CPPFLAGS += -DUGSTORE_CHECK_SHARED
else
  BUILD   := build/rel
endif

PORT    ?= 8080

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DOCDIR     ?= $(PREFIX)/share/doc/ugstore
INSTALL_BIN ?= $(BIN)
DATA    ?= ./data

CORE_SRC  := $(wildcard core/*.c)
QUERY_SRC := $(wildcard query/*.c)
HTTP_SRC  := $(filter-out http/main.c http/cli.c,$(wildcard http/*.c))
LIB_SRC   := $(CORE_SRC) $(QUERY_SRC) $(HTTP_SRC)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
CLI_OBJ   := $(BUILD)/http/main.o $(BUILD)/http/cli.o
DEPS      := $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

BIN := $(if $(filter 1,$(SANITIZE)),$(BUILD)/ugstore,ugstore)

.PHONY: all deps run test asan bench fuzz mutate clean install

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libugstore.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(BUILD)/libugstore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/check.h $(BUILD)/libugstore.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libugstore.a $(LDLIBS)

# Debian packages the build and the tests need; installed only when missing.
deps:
	@sh tests/deps.sh

run: deps $(BIN)
	./$(BIN) serve --port $(PORT) --data $(DATA) --bootstrap my-org/my-app

# Every suite; the last line is the runner's "N passed, M failed".
# TESTFLAGS passes options to tests/run.py (-k NAME, --fail-fast).
TESTFLAGS ?=
test: deps
	@$(MAKE) --no-print-directory $(BIN) $(UNIT_BIN)
	@python3 tests/run.py --bin ./$(BIN) --unit-dir $(BUILD)/tests $(TESTFLAGS)

# The suites under ASan+UBSan; then the ql and perm fuzz targets for 20 s, and
# the seeds of the http and json targets once each (their inputs change a
# store, so a short random run would not be repeatable).
asan:
	@$(MAKE) --no-print-directory test SANITIZE=1
	@$(MAKE) --no-print-directory fuzz FUZZ_TARGETS="ql perm" FUZZ_SECONDS=20
	@$(MAKE) --no-print-directory fuzz FUZZ_TARGETS="http json" FUZZ_SECONDS=0 FUZZ_FLAGS=-runs=0

# The bench's loader: core's write path, linked like the server.
build/rel/bench/load_q: tests/bench/load_q.c build/rel/libugstore.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O2 -o $@ $< build/rel/libugstore.a $(LDLIBS)

bench: deps $(BIN)
	@# every part runs; the target fails after them when one fell short
	@fail=0; for part in run query slow groups reindex durability soak; do \
	  sh tests/bench/$$part.sh ./$(BIN) || fail=1; done; exit $$fail

# libFuzzer (needs clang): `ql` over the ql parser, `perm` over the
# permission matcher, `http` over whole
# requests and `json` over request bodies, the last two against a real
# server and store in the fuzzing process (tests/fuzz/fuzz_server.h).  Each
# target runs FUZZ_SECONDS (FUZZ_FLAGS go to libFuzzer); tests/fuzz/run.sh
# writes the seeds, and new inputs accumulate in build/fuzz/<target>/corpus.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= ql perm http json
FUZZ_DIR     := build/fuzz
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined
FUZZ_QL_SRC  := query/lex.c query/parse.c query/print.c core/mem.c core/text.c
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/fuzz_ql: tests/fuzz/fuzz_ql.c $(FUZZ_QL_SRC)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lm

$(FUZZ_DIR)/fuzz_perm: tests/fuzz/fuzz_perm.c core/perm.c core/text.c core/mem.c
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_server.h $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(WARN) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)

fuzz:
	@sh tests/deps.sh clang
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@for t in $(FUZZ_TARGETS); do sh tests/fuzz/run.sh $$t $(FUZZ_SECONDS) $(FUZZ_FLAGS) || exit 1; done

# Deliberate bugs (tests/mutants/*.patch), one at a time on a scratch copy
# of the tree: each must make `make test` fail.  Minutes long; not in CI.
mutate: deps
	@python3 tests/mutants/run.py

# The config is installed only when none is there: an edited one is kept.
install: $(INSTALL_BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/ugstore \
	  $(DESTDIR)$(DOCDIR)
	install -m 755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/ugstore
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	  -e 's|@DOCDIR@|$(DOCDIR)|g' dist/ugstore.service.in > $(DESTDIR)$(UNITDIR)/ugstore.service
	chmod 644 $(DESTDIR)$(UNITDIR)/ugstore.service
	test -e $(DESTDIR)$(SYSCONFDIR)/ugstore/ugstore.conf || \
	  install -m 644 dist/ugstore.conf $(DESTDIR)$(SYSCONFDIR)/ugstore/ugstore.conf
	install -m 644 docs/operations.md docs/api.md $(DESTDIR)$(DOCDIR)/

clean:
	rm -rf build ugstore

-include $(DEPS) $(UNIT_BIN:=.d) $(wildcard $(FUZZ_DIR)/obj/*/*.d)
