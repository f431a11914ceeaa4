/*
 * peft.c - the `peft` executable: a Lua 5.4 interpreter with the peft module
 * built in (structured like Lua's own lua.c).
 *
 *   peft [options] [script [args]]
 *
 * main() creates the state and runs pmain() under lua_pcall; everything else
 * runs protected. pmain opens the standard libraries, preloads the C core,
 * installs a searcher for the Lua sources compiled into the binary, loads
 * `peft` (built-in methods, then PEFT_PATH extensions) into the global
 * `peft`, loads each -l extension, runs -e chunks and the script, then the
 * REPL when asked for (-i) or when there is nothing else to do on a terminal.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "peft_internal.h"
#include "peft_main.h"
#include "peft_pool.h"
#include "peft_text.h"
#include "peft_version.h"

#define PROGNAME "peft"

static const char *progname = PROGNAME;

/* The state the SIGINT handler interrupts; only the handler uses it. */
static lua_State *globalL = NULL;

static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

static void laction(int sig) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  signal(sig, SIG_DFL);
  lua_sethook(globalL, lstop, flag, 1);
}

static void print_usage(FILE *out) {
  fprintf(out,
          "usage: %s [options] [script [args]]\n"
          "       %s COMMAND ... (see '%s help'; a script named like a word runs as ./name)\n"
          "Options:\n"
          "  -e CODE    run the Lua code CODE (peft is a global)\n"
          "  -l FILE    load FILE as an extension script (after PEFT_PATH)\n"
          "  -i         enter the interactive REPL after the other options\n"
          "  -v, --version  show the version\n"
          "  -h, --help     show this help\n"
          "  --         stop handling options\n"
          "  -          run standard input and stop handling options\n"
          "Environment:\n"
          "  PEFT_PATH  colon-separated directories whose *.lua files are loaded\n"
          "             as extensions at start-up\n"
          "With no arguments, starts the REPL on a terminal and runs standard\n"
          "input as a script otherwise.\n",
          progname, progname, progname);
}

/* Messages may hold text from files (a path, a key): control characters are
 * escaped for the terminal (see peft_text.h), newlines and tabs kept (a
 * traceback has them). */
void peft_message(const char *pname, const char *msg) {
  if (pname) fprintf(stderr, "%s: ", pname);
  size_t len = strlen(msg);
  if (peft_is_printable(msg, len, 1)) {
    fprintf(stderr, "%s\n", msg);
  } else {
    /* escaped in pieces, so that nothing needs an allocation */
    char buf[6 * 256];
    for (size_t at = 0; at < len;) {
      size_t n = len - at < 256 ? len - at : 256;
      /* do not cut a UTF-8 sequence: back up to the start of one */
      while (at + n < len && n > 4 && ((unsigned char)msg[at + n] & 0xC0) == 0x80) n--;
      fwrite(buf, 1, peft_printable(msg + at, n, buf, 1), stderr);
      at += n;
    }
    fputc('\n', stderr);
  }
  fflush(stderr);
}

int peft_report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    peft_message(progname, msg ? msg : "(error with no message)");
    lua_pop(L, 1);
  }
  return status;
}

/* Turns any error value into a message with a traceback, as lua.c does for
 * strings. Error objects with a __tostring (peft.Error: "script.lua:3:
 * TypeError: ...") print through it, with the traceback too. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) msg = lua_tostring(L, -1);
    else msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  /* a script reading one of the REPL's globals (PeftType, LoraConfig) learns where it is */
  if (strstr(msg, "(global '") != NULL) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "peft.repl");
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TTABLE) {
      lua_getfield(L, -1, "script_hint");
      lua_pushstring(L, msg);
      if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) msg = lua_tostring(L, -1);
    }
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int peft_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  globalL = L;
  signal(SIGINT, laction);
  int status = lua_pcall(L, narg, nres, base);
  signal(SIGINT, SIG_DFL);
  lua_remove(L, base);
  return status;
}

static void print_version(void) {
  printf("%s (%s, PEFT schema %s)\n", PEFT_RELEASE, LUA_RELEASE, PEFT_FOLLOWS);
  fflush(stdout);
}

/* arg table: script at index 0, its arguments 1..n, the interpreter and
 * options below 0 (as lua.c does). */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0;
  int narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = peft_docall(L, 0, 0);
  return peft_report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

static int pushargs(lua_State *L) {
  if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  int n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  int i;
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

static int handle_script(lua_State *L, char **argv) {
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = peft_docall(L, n, 0);
  }
  return peft_report(L, status);
}

/* require "peft" and make it the global `peft`. */
static int load_peft(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "peft");
  int status = peft_docall(L, 1, 1);
  if (status != LUA_OK) return peft_report(L, status);
  lua_setglobal(L, "peft");
  return LUA_OK;
}

/* Loads one -l extension; a failure is reported and start-up goes on. */
static void load_cli_extension(lua_State *L, const char *path) {
  lua_getglobal(L, "peft");
  lua_getfield(L, -1, "load_extension_safe");
  lua_remove(L, -2);
  lua_pushstring(L, path);
  int status = peft_docall(L, 1, 2);
  if (status != LUA_OK) {
    peft_report(L, status);
    return;
  }
  if (!lua_toboolean(L, -2)) {
    const char *msg = luaL_tolstring(L, -1, NULL);
    peft_message(progname, msg ? msg : "extension failed");
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
}

/* --- argument handling ------------------------------------------------- */

#define has_error 1 /* bad option */
#define has_i 2
#define has_v 4
#define has_e 8
#define has_h 16

/* Scans options; returns flags and sets *first to the script's index (or
 * argc when there is none). */
static int collectargs(char **argv, int *first) {
  int args = 0;
  int i;
  if (argv[0] == NULL) {
    *first = 0;
    return 0;
  }
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-') return args;
    if (strcmp(argv[i], "--version") == 0) {
      args |= has_v;
      continue;
    }
    if (strcmp(argv[i], "--help") == 0) {
      args |= has_h;
      continue;
    }
    switch (argv[i][1]) {
      case '-':
        if (argv[i][2] != '\0') return has_error;
        *first = i + 1;
        return args;
      case '\0': return args;
      case 'i':
        if (argv[i][2] != '\0') return has_error;
        args |= has_i;
        break;
      case 'v':
        if (argv[i][2] != '\0') return has_error;
        args |= has_v;
        break;
      case 'h':
        if (argv[i][2] != '\0') return has_error;
        args |= has_h;
        break;
      case 'e':
        args |= has_e;
        /* fall through */
      case 'l':
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') return has_error;
        }
        break;
      default: return has_error;
    }
  }
  *first = i;
  return args;
}

/* Runs -e and -l in the order given. */
static int runargs(lua_State *L, char **argv, int n) {
  for (int i = 1; i < n; i++) {
    int option = argv[i][1];
    if (option == 'e' || option == 'l') {
      const char *extra = argv[i] + 2;
      if (*extra == '\0') extra = argv[++i];
      if (option == 'e') {
        if (dostring(L, extra, "=(command line)") != LUA_OK) return 0;
      } else {
        load_cli_extension(L, extra);
      }
    }
  }
  return 1;
}

/* Whether the first argument is a command word rather than a script: no
 * '/' and no ".lua" ending (a script called like a command runs as ./name). */
static int is_command_word(const char *a) {
  size_t n = strlen(a);
  return a[0] != '-' && strchr(a, '/') == NULL && !(n >= 4 && strcmp(a + n - 4, ".lua") == 0);
}

/* Runs `peft COMMAND ...` through the Lua CLI (peft.cli), when the first
 * argument is a command word; one that names no command is reported as an
 * unknown command (exit 2), never run as a file of the current directory.
 * Returns -1 when the first argument is not a command word. */
static int try_command(lua_State *L, int argc, char **argv) {
  if (argc < 2 || !is_command_word(argv[1])) return -1;
  if (!peft_has_embedded("peft.cli")) return -1;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "peft.cli");
  if (peft_docall(L, 1, 1) != LUA_OK) {
    peft_report(L, LUA_ERRRUN);
    return 1;
  }
  lua_getfield(L, -1, "main");
  lua_remove(L, -2);
  lua_createtable(L, argc - 1, 0);
  for (int i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
  if (peft_docall(L, 1, 1) != LUA_OK) {
    peft_report(L, LUA_ERRRUN);
    return 1;
  }
  int code = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return code;
}

static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int *exit_code = (int *)lua_touserdata(L, 3);
  int script;
  luaL_checkversion(L);
  if (argv[0] && argv[0][0]) progname = argv[0];
  luaL_openlibs(L);
  peft_install_modules(L);

  int args = collectargs(argv, &script);
  if (args == has_error) {
    print_usage(stderr);
    *exit_code = 2;
    return 0;
  }
  if (args & has_h) {
    print_usage(stdout);
    return 0;
  }
  if (args & has_v) {
    print_version();
    return 0;
  }
  createargtable(L, argv, argc, script);
  if (load_peft(L) != LUA_OK) {
    *exit_code = 1;
    return 0;
  }
  if (args == 0 && script == 1 && argc > 1) {
    int code = try_command(L, argc, argv);
    if (code >= 0) {
      *exit_code = code;
      return 0;
    }
  }
  if (!runargs(L, argv, script)) {
    *exit_code = 1;
    return 0;
  }
  if (script < argc && handle_script(L, argv + script) != LUA_OK) {
    *exit_code = 1;
    return 0;
  }
  if (args & has_i) {
    peft_repl(L, progname);
  } else if (script == argc && !(args & has_e)) {
    if (isatty(0)) {
      print_version();
      peft_repl(L, progname);
    } else if (dochunk(L, luaL_loadfile(L, NULL)) != LUA_OK) {
      *exit_code = 1;
    }
  }
  return 0;
}

/* Under AddressSanitizer the state uses the C library allocator, so that every
   Lua object is a heap block the sanitizer can check; otherwise the pool. */
#if defined(__SANITIZE_ADDRESS__)
#define PEFT_SYSTEM_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PEFT_SYSTEM_ALLOC 1
#endif
#endif

#ifdef PEFT_SYSTEM_ALLOC
static void *system_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}
#endif

/* What luaL_newstate would install, for a state made with lua_newstate: a
   panic message, and warn() output that is off until "@on" (as in lua5.4). */
static int panic(lua_State *L) {
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  fprintf(stderr, "%s: PANIC: unprotected error in call to Lua API (%s)\n", progname,
          msg ? msg : "error object is not a string");
  fflush(stderr);
  return 0; /* Lua aborts */
}

typedef struct {
  int on;   /* warnings are shown */
  int cont; /* the last piece said more is coming */
} warn_state;

static void warnf(void *ud, const char *msg, int tocont) {
  warn_state *w = ud;
  if (!w->cont && msg[0] == '@') { /* a control message, not shown */
    if (strcmp(msg + 1, "on") == 0) w->on = 1;
    else if (strcmp(msg + 1, "off") == 0) w->on = 0;
    return;
  }
  if (w->on) {
    if (!w->cont) fputs("Lua warning: ", stderr);
    fputs(msg, stderr);
    if (!tocont) fputc('\n', stderr);
    fflush(stderr);
  }
  w->cont = tocont;
}

int main(int argc, char **argv) {
  int exit_code = 0;
  warn_state warn = {0, 0};
#ifdef PEFT_SYSTEM_ALLOC
  peft_pool *pool = NULL;
  lua_State *L = lua_newstate(system_alloc, NULL);
#else
  peft_pool *pool = peft_pool_new();
  lua_State *L = pool ? lua_newstate(peft_pool_lalloc, pool) : NULL;
#endif
  if (L == NULL) {
    peft_message(argv[0], "cannot create state: not enough memory");
    peft_pool_delete(pool);
    return EXIT_FAILURE;
  }
  lua_atpanic(L, panic);
  lua_setwarnf(L, warnf, &warn);
  /* generational from the start: switching later costs a full mark of what start-up
     built, and collecting while the method scripts run keeps the heap (and the page
     faults that grow it) smaller than deferring all collection until after them */
  lua_gc(L, LUA_GCGEN, 0, 0);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  lua_pushlightuserdata(L, &exit_code);
  int status = lua_pcall(L, 3, 0, 0);
  if (status != LUA_OK) {
    peft_report(L, status);
    exit_code = 1;
  }
  lua_close(L);
  peft_pool_delete(pool);
  return exit_code;
}
