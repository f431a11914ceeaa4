# peft - build, test, install.
#   make                 build build/peft and build/lib/peft/core.so
#   make run             build, then the REPL on a terminal or a short tour
#   make test            every test (C and busted); ends with "N passed, M failed"
#   make sanitize        C tests and specs under ASan + UBSan
#   make install PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
CFLAGS ?= -O2 -g
LDFLAGS ?=
WARN := -Wall -Wextra -Wshadow -Wmissing-prototypes
LUA ?= lua5.4

BINDIR = $(PREFIX)/bin
LIBDIR = $(PREFIX)/lib/lua/5.4
LUADIR = $(PREFIX)/share/lua/5.4

# evaluated when used, i.e. after scripts/deps has installed pkg-config
LUA_CFLAGS = $(shell pkg-config --cflags lua5.4)
LUA_LIBS = $(shell pkg-config --libs lua5.4)
EDIT_LIBS = $(shell pkg-config --libs libedit)
PCRE_CFLAGS = $(shell pkg-config --cflags libpcre2-8)
PCRE_LIBS = $(shell pkg-config --libs libpcre2-8)

CORE_SRC := src/peft_types.c src/peft_registry.c src/peft_json.c src/peft_os.c src/peft_jtree.c \
  src/peft_safetensors.c src/lpeft_st.c src/lpeft_re.c src/lpeft.c
EXE_SRC := src/peft.c src/peft_repl.c
LIB_OBJ = $(CORE_OBJ) $(BUILD)/obj/peft_api.o $(BUILD)/obj/peft_embedded.o
LIB_PIC = $(CORE_PIC) $(BUILD)/pic/peft_api.o $(BUILD)/pic/peft_embedded.o
LUA_FILES := $(shell find lua -name '*.lua' | LC_ALL=C sort)
HEADERS := $(wildcard src/*.h)

CORE_OBJ := $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
CORE_PIC := $(CORE_SRC:src/%.c=$(BUILD)/pic/%.o)
EXE_OBJ := $(EXE_SRC:src/%.c=$(BUILD)/obj/%.o)
CTESTS := $(BUILD)/test_registry $(BUILD)/test_json $(BUILD)/test_safetensors $(BUILD)/test_api

DEPS_STAMP := build/.deps-ok
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=c11 -D_POSIX_C_SOURCE=200809L -Isrc $(LUA_CFLAGS) $(PCRE_CFLAGS)

.PHONY: all run test ctest spec sanitize install uninstall clean deps

all: $(BUILD)/peft $(BUILD)/lib/peft/core.so $(BUILD)/libpeft.a $(BUILD)/libpeft.so

deps: $(DEPS_STAMP)

$(DEPS_STAMP): scripts/deps
	@./scripts/deps
	@mkdir -p $(@D) && touch $@

$(BUILD)/obj/%.o: src/%.c $(HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/pic/%.o: src/%.c $(HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(BUILD)/peft_embedded.c: scripts/embed-lua $(LUA_FILES) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "EMBED $@"
	@$(LUA) scripts/embed-lua $@ lua $(LUA_FILES)

$(BUILD)/obj/peft_embedded.o: $(BUILD)/peft_embedded.c src/peft_embedded.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/pic/peft_embedded.o: $(BUILD)/peft_embedded.c src/peft_embedded.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(BUILD)/peft: $(LIB_OBJ) $(EXE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LUA_LIBS) $(EDIT_LIBS) $(PCRE_LIBS) -lm

# the C library for hosts: the core, the Lua sources and the C API (peft.h)
$(BUILD)/libpeft.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libpeft.so: $(LIB_PIC)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libpeft.so.0 -o $@ $^ $(LUA_LIBS) $(PCRE_LIBS) -lm

# the loadable module: no -llua, the interpreter provides the symbols
$(BUILD)/lib/peft/core.so: $(CORE_PIC)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -o $@ $^ $(PCRE_LIBS) -lm

# the pseudo-terminal driver the REPL specs use (a tool, not a test)
$(BUILD)/ptydrive: tests/c/ptydrive.c | $(DEPS_STAMP)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< -lutil

$(BUILD)/test_%: tests/c/test_%.c tests/c/ctest.h $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< $(LIB_OBJ) $(LUA_LIBS) $(PCRE_LIBS) -lm

run: all
	@if [ -t 0 ] && [ -t 1 ]; then ./$(BUILD)/peft; else ./$(BUILD)/peft scripts/tour.lua; fi

ctest: $(CTESTS)

test: all $(CTESTS) $(BUILD)/ptydrive
	@BUILD=$(BUILD) ./scripts/run-tests

sanitize:
	@$(MAKE) --no-print-directory BUILD=build/asan \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" all $(CTESTS:$(BUILD)/%=build/asan/%) build/asan/ptydrive
	@BUILD=build/asan SANITIZE=1 ./scripts/run-tests

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/peft $(DESTDIR)$(LUADIR)
	install -m 755 $(BUILD)/peft $(DESTDIR)$(BINDIR)/peft
	install -m 755 $(BUILD)/lib/peft/core.so $(DESTDIR)$(LIBDIR)/peft/core.so
	cd lua && for f in $$(find peft -name '*.lua'); do \
	  install -d $(DESTDIR)$(LUADIR)/$$(dirname $$f); \
	  install -m 644 $$f $(DESTDIR)$(LUADIR)/$$f; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/peft $(DESTDIR)$(LIBDIR)/peft/core.so
	rm -rf $(DESTDIR)$(LUADIR)/peft

clean:
	rm -rf build
