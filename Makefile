# peft - build, test, install.
#   make                 build build/peft and build/lib/peft/core.so
#   make run             build, then the REPL on a terminal or a short tour
#   make test            every test (C and busted); ends with "N passed, M failed"
#   make sanitize        C tests and specs under ASan + UBSan
#   make install PREFIX=/usr/local DESTDIR=
#   make clean

PREFIX ?= /usr/local
# the release, from the one place it is written
VERSION := $(shell sed -n 's/^\#define PEFT_RELEASE "peft \(.*\)"/\1/p' src/peft_version.h)
DESTDIR ?=
BUILD ?= build
CC ?= cc
CFLAGS ?= -O2 -g
LDFLAGS ?=
WARN := -Wall -Wextra -Wshadow -Wmissing-prototypes
LUA ?= lua5.4

BINDIR = $(PREFIX)/bin
LIBDIR_C = $(PREFIX)/lib
INCDIR = $(PREFIX)/include/peft
PKGDIR = $(PREFIX)/lib/pkgconfig
LIBDIR = $(PREFIX)/lib/lua/5.4
LUADIR = $(PREFIX)/share/lua/5.4

# evaluated when used, i.e. after scripts/deps has installed pkg-config
LUA_CFLAGS = $(shell pkg-config --cflags lua5.4)
LUA_LIBS = $(shell pkg-config --libs lua5.4)
PCRE_CFLAGS = $(shell pkg-config --cflags libpcre2-8)
PCRE_LIBS = $(shell pkg-config --libs libpcre2-8)
# The executable links Lua, libedit (with its terminfo, libbsd and libmd) and PCRE2 from
# their static archives (shipped in the same -dev packages): each shared library costs the
# dynamic loader time at every start. -Wl,-E exports the Lua API to C modules it loads.
EXE_STATIC_LIBS = $(filter-out -lm -ldl -lc,$(shell pkg-config --static --libs-only-l lua5.4 libedit libbsd libpcre2-8))
EXE_LIBS = -Wl,-E $(shell pkg-config --static --libs-only-L lua5.4 libedit libbsd libpcre2-8) \
  -Wl,-Bstatic $(EXE_STATIC_LIBS) -Wl,-Bdynamic -lm -ldl

# the C core (no Lua: peft_*) and the Lua bindings of the module peft.core (lpeft_*);
# scripts/gen-rockspec.lua reads this list
CORE_SRC := src/peft_types.c src/peft_registry.c src/peft_json.c src/peft_safetensors.c src/peft_text.c \
  src/lpeft_json.c src/lpeft_os.c src/lpeft_st.c src/lpeft_re.c src/lpeft_config.c src/lpeft.c
EXE_SRC := src/peft.c src/peft_repl.c src/peft_pool.c
LIB_OBJ = $(CORE_OBJ) $(BUILD)/obj/peft_api.o $(BUILD)/obj/peft_embedded.o
LIB_PIC = $(CORE_PIC) $(BUILD)/pic/peft_api.o $(BUILD)/pic/peft_embedded.o
LUA_FILES := $(shell find lua/peft -name '*.lua' | LC_ALL=C sort)
HEADERS := $(wildcard src/*.h)

CORE_OBJ := $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
CORE_PIC := $(CORE_SRC:src/%.c=$(BUILD)/pic/%.o)
EXE_OBJ := $(EXE_SRC:src/%.c=$(BUILD)/obj/%.o)
CTESTS := $(BUILD)/test_registry $(BUILD)/test_json $(BUILD)/test_safetensors $(BUILD)/test_api \
  $(BUILD)/test_alloc $(BUILD)/test_pool $(BUILD)/test_capi $(BUILD)/test_threads $(BUILD)/test_cxx \
  $(BUILD)/test_host_symbols $(BUILD)/test_open_cost $(BUILD)/test_alloc_capi
# what the specs run besides the C tests: the pseudo-terminal driver, and the
# executable whose saves honour the fault-injection variable
SPEC_TOOLS := $(BUILD)/ptydrive $(BUILD)/peft-faults

# Lua hosts other than 5.4 (see lua/host/): the C module peft.cmod for each PUC-Rio Lua below
# (LuaJIT loads libpeft.so through its FFI instead)
HOST_LUAS := 5.1 5.3
HOST_MODULES = $(HOST_LUAS:%=$(BUILD)/hosts/%/peft/cmod.so)

DEPS_STAMP := build/.deps-ok
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=c11 -D_POSIX_C_SOURCE=200809L -Isrc $(LUA_CFLAGS) $(PCRE_CFLAGS)

.PHONY: all run test test-alloc ctest spec sanitize valgrind install uninstall clean deps fuzz fuzz-build bench rock rock-install

all: $(BUILD)/peft $(BUILD)/lib/peft/core.so $(BUILD)/libpeft.a $(BUILD)/libpeft.so $(HOST_MODULES)

deps: $(DEPS_STAMP)

# NO_DEPS=1 (LuaRocks' builds): no package installs, what is there is used
$(DEPS_STAMP): scripts/deps
	@$(if $(NO_DEPS),true,./scripts/deps)
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
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(EXE_LIBS)

# a test build of the executable whose saves honour PEFT_FAULT_BEFORE_RENAME
# (they stop before the rename, as a crash would); release builds ignore it
$(BUILD)/fault/lpeft_os.o: src/lpeft_os.c $(HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DPEFT_FAULT_INJECTION -c $< -o $@

$(BUILD)/peft-faults: $(filter-out $(BUILD)/obj/lpeft_os.o,$(LIB_OBJ)) $(BUILD)/fault/lpeft_os.o $(EXE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(EXE_LIBS)

# the C library for hosts: the core, the Lua sources and the C API (peft.h)
$(BUILD)/libpeft.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

# libpeft.so and the host modules carry a Lua 5.4 of their own that no host sees: the objects
# of Debian's liblua5.4.a (position-independent code but for their references to stdin, stdout
# and stderr, renamed to the copies in src/peft_lua_stdio.c), linked with the library's objects
# into one relocatable object whose only global symbols are peft_* (every lua_*, luaL_* and
# luaopen_* is local), so a host's own Lua (LuaJIT, Lua 5.1, nginx, Neovim) and ours never meet.
LUA_ARCHIVE = $(shell pkg-config --variable=libdir lua5.4)/liblua5.4.a
$(BUILD)/lua54/liblua-private.a: | $(DEPS_STAMP)
	@rm -rf $(BUILD)/lua54 && mkdir -p $(BUILD)/lua54/o
	cd $(BUILD)/lua54/o && $(AR) x $(LUA_ARCHIVE)
	for o in $(BUILD)/lua54/o/*.o; do \
	  objcopy --redefine-sym stdin=peftlua_stdin --redefine-sym stdout=peftlua_stdout \
	    --redefine-sym stderr=peftlua_stderr $$o || exit 1; \
	done
	$(AR) rcs $@ $(BUILD)/lua54/o/*.o

$(BUILD)/pic/libpeft-private.o: $(LIB_PIC) $(BUILD)/pic/peft_lua_stdio.o $(BUILD)/lua54/liblua-private.a
	$(LD) -r -o $@.tmp $(LIB_PIC) $(BUILD)/pic/peft_lua_stdio.o --whole-archive $(BUILD)/lua54/liblua-private.a
	objcopy --wildcard --keep-global-symbol='peft_*' $@.tmp $@
	@rm -f $@.tmp

$(BUILD)/libpeft.so: $(BUILD)/pic/libpeft-private.o
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libpeft.so.0 -Wl,-z,defs -o $@ $^ $(PCRE_LIBS) -lm
	ln -sf libpeft.so $(BUILD)/libpeft.so.0

# peft.cmod for Lua 5.1 / 5.3: the module (against that Lua's headers, its lua_* left for the
# interpreter) and the library with its private Lua, in one file
$(BUILD)/hosts/%/lpeft_host.o: src/lpeft_host.c $(HEADERS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -std=c11 -fPIC -Isrc $(shell pkg-config --cflags lua$*) -c $< -o $@

# (DIR: hosts/5.1, hosts/5.3, or rock-5.x for LuaRocks, whose object is built below)
$(BUILD)/%/peft/cmod.so: $(BUILD)/%/lpeft_host.o $(BUILD)/pic/libpeft-private.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -o $@ $^ $(PCRE_LIBS) -lm

# the loadable module: no -llua, the interpreter provides the symbols
$(BUILD)/lib/peft/core.so: $(CORE_PIC)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -o $@ $^ $(PCRE_LIBS) -lm

# the pseudo-terminal driver the REPL specs use (a tool, not a test)
$(BUILD)/ptydrive: tests/c/ptydrive.c | $(DEPS_STAMP)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< -lutil

# allocation-failure test: the C core's allocations are wrapped at link time
$(BUILD)/test_alloc: tests/c/test_alloc.c tests/c/fail_alloc.h $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< $(LIB_OBJ) $(LUA_LIBS) $(PCRE_LIBS) -lm \
	  -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup

# the same for what issue 14 added to the C API
$(BUILD)/test_alloc_capi: tests/c/test_alloc_capi.c tests/c/fail_alloc.h tests/c/st_file.h $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< $(LIB_OBJ) $(LUA_LIBS) $(PCRE_LIBS) -lm \
	  -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup

# the executable's allocator; its malloc and calloc calls are wrapped to make them fail
$(BUILD)/test_pool: tests/c/test_pool.c tests/c/ctest.h $(BUILD)/obj/peft_pool.o
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< $(BUILD)/obj/peft_pool.o $(LUA_LIBS) -lm -Wl,--wrap=malloc,--wrap=calloc

# the C++ host: the installed headers from g++, against the library
$(BUILD)/test_cxx: tests/c/test_cxx.cpp tests/c/ctest.h $(HEADERS) $(BUILD)/libpeft.so
	$(CXX) $(CFLAGS) -Wall -Wextra -std=c++17 -Isrc -Itests/c -o $@ $< -L$(BUILD) -l:libpeft.so \
	  -Wl,-rpath,$(abspath $(BUILD))

# threads: one runtime each (run under Helgrind by tests/threads_spec.lua)
$(BUILD)/test_threads: tests/c/test_threads.c tests/c/ctest.h tests/c/st_file.h $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< $(LIB_OBJ) $(LUA_LIBS) $(PCRE_LIBS) -lm -lpthread

# a host that exports lua_* functions of its own (that abort), then loads libpeft.so
$(BUILD)/test_host_symbols: tests/c/test_host_symbols.c tests/c/ctest.h $(BUILD)/libpeft.so
	$(CC) $(CFLAGS) $(WARN) -std=c11 -D_POSIX_C_SOURCE=200809L -Isrc -Itests/c -rdynamic -o $@ $< -ldl \
	  -DPEFT_LIBRARY='"$(abspath $(BUILD))/libpeft.so"'

$(BUILD)/test_%: tests/c/test_%.c tests/c/ctest.h tests/c/st_file.h $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< $(LIB_OBJ) $(LUA_LIBS) $(PCRE_LIBS) -lm

$(BUILD)/benchrun: scripts/benchrun.c | $(DEPS_STAMP)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

# speed and memory against the floor (see scripts/bench); not part of make test
bench: all $(BUILD)/benchrun
	@BUILD=$(BUILD) ./scripts/bench $(BENCH_ARGS)

# --- LuaRocks (build.type "make", see scripts/gen-rockspec.lua): the module the Lua that runs
# luarocks needs, told by ROCK_LUA (its interpreter) and ROCK_LUA_INCDIR (its headers): for 5.4 peft.core
# and the Lua sources (the runtime itself); for 5.1 to 5.3 peft.cmod and lua/host/peft.lua; for LuaJIT
# libpeft.so, lua/host/peft.lua and the FFI binding. Installed into INST_LIBDIR and INST_LUADIR.
ROCK_LUA ?= lua5.4
ROCK_LUA_INCDIR ?=
ROCK_KIND = $(shell $(ROCK_LUA) -e 'io.write(type(jit) == "table" and "luajit" or _VERSION:sub(5))')
ROCK_MAKE = $(MAKE) --no-print-directory NO_DEPS=1

rock:
	@case "$(ROCK_KIND)" in \
	  5.4) $(ROCK_MAKE) $(BUILD)/lib/peft/core.so ;; \
	  5.1|5.2|5.3) $(ROCK_MAKE) $(BUILD)/rock-$(ROCK_KIND)/peft/cmod.so ;; \
	  luajit) $(ROCK_MAKE) $(BUILD)/libpeft.so ;; \
	  *) echo "peft: no module for Lua '$(ROCK_KIND)' ($(ROCK_LUA))" >&2; exit 1 ;; \
	esac

$(BUILD)/rock-%/lpeft_host.o: src/lpeft_host.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -std=c11 -fPIC -Isrc $(if $(ROCK_LUA_INCDIR),-I$(ROCK_LUA_INCDIR)) -c $< -o $@

rock-install:
	@test -n "$(INST_LIBDIR)" && test -n "$(INST_LUADIR)" || \
	  { echo "rock-install needs INST_LIBDIR and INST_LUADIR" >&2; exit 1; }
	install -d $(INST_LIBDIR)/peft $(INST_LUADIR)/peft
	@case "$(ROCK_KIND)" in \
	  5.4) install -m 755 $(BUILD)/lib/peft/core.so $(INST_LIBDIR)/peft/core.so && \
	    cd lua && for f in $$(find peft -name '*.lua'); do \
	      install -d $(INST_LUADIR)/$$(dirname $$f) && install -m 644 $$f $(INST_LUADIR)/$$f || exit 1; \
	    done ;; \
	  5.1|5.2|5.3) install -m 755 $(BUILD)/rock-$(ROCK_KIND)/peft/cmod.so $(INST_LIBDIR)/peft/cmod.so && \
	    install -m 644 lua/host/peft.lua $(INST_LUADIR)/peft.lua ;; \
	  luajit) install -m 755 $(BUILD)/libpeft.so $(INST_LIBDIR)/peft/libpeft.so && \
	    install -m 644 lua/host/peft.lua $(INST_LUADIR)/peft.lua && \
	    install -m 644 lua/host/peft/ffi.lua $(INST_LUADIR)/peft/ffi.lua ;; \
	  *) exit 1 ;; \
	esac

run: all
	@if [ -t 0 ] && [ -t 1 ]; then ./$(BUILD)/peft; else ./$(BUILD)/peft scripts/tour.lua; fi

ctest: $(CTESTS)

# the specs run lua5.4 on $(BUILD)/lib/peft/core.so and install $(BUILD) into
# scratch prefixes (PEFT_MAKE_BUILD): the normal build comes first
# every allocation of the allocation-failure tests in turn (make test samples them; CI runs this;
# test_alloc_capi's cold pass, a runtime opened for each run, takes every seventh)
test-alloc: $(BUILD)/test_alloc $(BUILD)/test_alloc_capi
	@PEFT_ALLOC_STEP=1 PEFT_ALLOC_OFFSET=1 ./$(BUILD)/test_alloc
	@PEFT_ALLOC_STEP=1 ./$(BUILD)/test_alloc_capi

test: all $(CTESTS) $(SPEC_TOOLS)
	@BUILD=$(BUILD) PEFT_MAKE_BUILD=$(BUILD) ./scripts/run-tests

# the same under ASan + UBSan: the tests and the executable from build/asan,
# the loadable module and the installs from the normal build (a sanitized
# module cannot load into a plain lua5.4)
sanitize: all
	@$(MAKE) --no-print-directory BUILD=build/asan \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" all $(CTESTS:$(BUILD)/%=build/asan/%) $(SPEC_TOOLS:$(BUILD)/%=build/asan/%)
	@BUILD=build/asan SANITIZE=1 PEFT_CORE_DIR=$(abspath $(BUILD))/lib PEFT_MAKE_BUILD=$(BUILD) ./scripts/run-tests

# fuzzing (clang's libFuzzer with ASan + UBSan): make fuzz FUZZ_TIME=seconds
# runs each target for that long on a corpus seeded from the tests' fixtures
# and the regression inputs under tests/fuzz/regressions/.
FUZZ_TIME ?= 60
FUZZ_CC ?= clang
FUZZ_TARGETS := fuzz_config fuzz_safetensors fuzz_registry
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -std=c11 -D_POSIX_C_SOURCE=200809L -Isrc $(LUA_CFLAGS) $(PCRE_CFLAGS)
FUZZ_SRC := $(CORE_SRC) src/peft_api.c

fuzz-build: $(FUZZ_TARGETS:%=build/fuzz/%)

build/fuzz/%: tests/fuzz/%.c $(FUZZ_SRC) $(HEADERS) $(BUILD)/peft_embedded.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -I$(BUILD) -o $@ $< $(FUZZ_SRC) $(BUILD)/peft_embedded.c $(LUA_LIBS) $(PCRE_LIBS) -lm

fuzz: fuzz-build $(BUILD)/peft
	@rm -rf build/fuzz/seeds && ./$(BUILD)/peft scripts/fuzz-seeds.lua build/fuzz/seeds
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t tests/fuzz/regressions/$$t; \
	  echo "== $$t for $(FUZZ_TIME)s"; \
	  ASAN_OPTIONS=detect_leaks=1 ./build/fuzz/$$t -max_total_time=$(FUZZ_TIME) -timeout=10 \
	    -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 -artifact_prefix=build/fuzz/$$t- \
	    build/fuzz/corpus/$$t build/fuzz/seeds/$$t tests/fuzz/regressions/$$t || exit 1; \
	done

# the whole suite under Valgrind's memcheck: the C tests, the specs' Lua
# process and every peft they start (slow: minutes)
valgrind: all $(CTESTS) $(SPEC_TOOLS)
	@BUILD=$(BUILD) VALGRIND=1 PEFT_MAKE_BUILD=$(BUILD) ./scripts/run-tests

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/peft $(DESTDIR)$(LUADIR) $(DESTDIR)$(LIBDIR_C) \
	  $(DESTDIR)$(INCDIR) $(DESTDIR)$(PKGDIR)
	install -m 755 $(BUILD)/peft $(DESTDIR)$(BINDIR)/peft
	install -m 755 $(BUILD)/lib/peft/core.so $(DESTDIR)$(LIBDIR)/peft/core.so
	cd lua && for f in $$(find peft -name '*.lua'); do \
	  install -d $(DESTDIR)$(LUADIR)/$$(dirname $$f); \
	  install -m 644 $$f $(DESTDIR)$(LUADIR)/$$f; \
	done
	install -m 644 src/peft.h src/peft_registry.h src/peft_safetensors.h $(DESTDIR)$(INCDIR)/
	install -m 644 $(BUILD)/libpeft.a $(DESTDIR)$(LIBDIR_C)/libpeft.a
	install -m 755 $(BUILD)/libpeft.so $(DESTDIR)$(LIBDIR_C)/libpeft.so.0
	ln -sf libpeft.so.0 $(DESTDIR)$(LIBDIR_C)/libpeft.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' scripts/peft.pc.in > $(DESTDIR)$(PKGDIR)/peft.pc
	@# Lua 5.1 and 5.3: peft.lua over the C module peft.cmod; LuaJIT (5.1's directories): the
	@# same peft.lua over peft/ffi.lua, which loads lib/lua/5.1/peft/libpeft.so (a link)
	for v in $(HOST_LUAS); do \
	  install -d $(DESTDIR)$(PREFIX)/lib/lua/$$v/peft $(DESTDIR)$(PREFIX)/share/lua/$$v && \
	  install -m 755 $(BUILD)/hosts/$$v/peft/cmod.so $(DESTDIR)$(PREFIX)/lib/lua/$$v/peft/cmod.so && \
	  install -m 644 lua/host/peft.lua $(DESTDIR)$(PREFIX)/share/lua/$$v/peft.lua || exit 1; \
	done
	install -d $(DESTDIR)$(PREFIX)/share/lua/5.1/peft
	install -m 644 lua/host/peft/ffi.lua $(DESTDIR)$(PREFIX)/share/lua/5.1/peft/ffi.lua
	ln -sf ../../../libpeft.so.0 $(DESTDIR)$(PREFIX)/lib/lua/5.1/peft/libpeft.so

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/peft $(DESTDIR)$(LIBDIR)/peft/core.so $(DESTDIR)$(PKGDIR)/peft.pc
	rm -f $(DESTDIR)$(LIBDIR_C)/libpeft.a $(DESTDIR)$(LIBDIR_C)/libpeft.so $(DESTDIR)$(LIBDIR_C)/libpeft.so.0
	rm -rf $(DESTDIR)$(INCDIR)
	rm -rf $(DESTDIR)$(LUADIR)/peft
	for v in $(HOST_LUAS); do \
	  rm -f $(DESTDIR)$(PREFIX)/lib/lua/$$v/peft/cmod.so $(DESTDIR)$(PREFIX)/share/lua/$$v/peft.lua; \
	done
	rm -f $(DESTDIR)$(PREFIX)/share/lua/5.1/peft/ffi.lua $(DESTDIR)$(PREFIX)/lib/lua/5.1/peft/libpeft.so

clean:
	rm -rf build
