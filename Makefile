# ugstore: one plain Makefile.  `make` builds ./ugstore; `make test` runs every
# suite; `make asan` runs the same suites under ASan+UBSan; `make run` starts
# the server on ./data.  No recursion, no generator.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wshadow
CPPFLAGS += -D_GNU_SOURCE -I.
LDLIBS  := -llmdb -ljansson -lmicrohttpd -luuid -lcrypt -lpthread -lm

SANITIZE ?=
ifeq ($(SANITIZE),1)
  BUILD   := build/asan
  CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
else
  BUILD   := build/rel
endif

PORT    ?= 8080
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

.PHONY: all deps run test asan unit http-test crash-test bench fuzz clean

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
test: deps
	@$(MAKE) --no-print-directory $(BIN) $(UNIT_BIN)
	@python3 tests/run.py --bin ./$(BIN) --unit-dir $(BUILD)/tests

asan:
	@$(MAKE) --no-print-directory test SANITIZE=1

bench: deps $(BIN)
	@sh tests/bench/run.sh ./$(BIN)
	@sh tests/bench/query.sh ./$(BIN)
	@sh tests/bench/slow.sh ./$(BIN)

# libFuzzer over the ql parser (needs clang): the seeds are the queries of
# tests/query/*.txt; new inputs accumulate in build/fuzz/corpus.
FUZZ_SECONDS ?= 600
FUZZ_DIR     := build/fuzz
FUZZ_SRC     := tests/fuzz/fuzz_ql.c query/lex.c query/parse.c query/print.c core/mem.c

fuzz:
	@sh tests/deps.sh clang
	@mkdir -p $(FUZZ_DIR)/corpus
	clang $(CPPFLAGS) $(WARN) -g -O1 -fno-omit-frame-pointer \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -o $(FUZZ_DIR)/fuzz_ql $(FUZZ_SRC) -lm
	@awk '/^#/ || /^%%MODE/ || index($$0, " \xe2\x87\x92 ") == 0 { next } \
	  { sub(/^%%(ESC|GEN) /, ""); n++; f = sprintf("$(FUZZ_DIR)/corpus/seed-%04d", n); \
	    printf "%s", substr($$0, 1, index($$0, " \xe2\x87\x92 ") - 1) > f; close(f) }' tests/query/*.txt
	$(FUZZ_DIR)/fuzz_ql -max_total_time=$(FUZZ_SECONDS) -max_len=4200 \
	  -dict=tests/fuzz/ql.dict -print_final_stats=1 $(FUZZ_DIR)/corpus

clean:
	rm -rf build ugstore

-include $(DEPS) $(UNIT_BIN:=.d)
