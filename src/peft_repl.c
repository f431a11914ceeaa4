/*
 * peft_repl.c - the interactive loop of the `peft` executable.
 *
 * Like lua.c: a line is first tried as `return <line>` so that expressions
 * print their values; otherwise it runs as a statement; a chunk that ends in
 * <eof> is incomplete and continues on the next line. On a terminal the
 * lines come from libedit (readline-compatible); from a pipe, from stdin.
 *
 * Values are printed by peft.repl.print when that module exists (pretty
 * printer), else with tostring.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include <lauxlib.h>
#include <lua.h>

#include "peft_main.h"

#define PROMPT "peft> "
#define PROMPT2 "...> "
#define MAXINPUT 4096

typedef struct line_source {
  int tty;
} line_source;

/* Reads one line (without the newline) and pushes it. Returns 0 at EOF. */
static int read_line(lua_State *L, line_source *src, int firstline) {
  const char *prompt = firstline ? PROMPT : PROMPT2;
  if (src->tty) {
    char *line = readline(prompt);
    if (line == NULL) return 0;
    lua_pushstring(L, line);
    if (line[0] != '\0') add_history(line);
    free(line);
    return 1;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  int c, any = 0;
  while ((c = getchar()) != EOF) {
    any = 1;
    if (c == '\n') break;
    luaL_addchar(&b, (char)c);
  }
  luaL_pushresult(&b);
  if (!any) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* Whether a compile error means "the chunk is not finished yet". */
static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    const char *eof = "<eof>";
    size_t leof = strlen(eof);
    if (msg != NULL && lmsg >= leof && strcmp(msg + lmsg - leof, eof) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Tries to compile "return <line>"; on success leaves the function and
 * drops the line. */
static int addreturn(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2); /* the modified line */
  } else {
    lua_pop(L, 2); /* the error and the modified line */
  }
  return status;
}

/* Reads more lines until the chunk compiles or is a real error. */
static int multiline(lua_State *L, line_source *src) {
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, line, len, "=stdin");
    if (!incomplete(L, status)) return status;
    if (!read_line(L, src, 0)) return status; /* EOF mid-chunk: report it */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/* Leaves a compiled chunk (or an error message) on the stack. Returns -1 at
 * the end of the input. */
static int loadline(lua_State *L, line_source *src) {
  lua_settop(L, 0);
  if (!read_line(L, src, 1)) return -1;
  int status = addreturn(L);
  if (status != LUA_OK) status = multiline(L, src);
  lua_remove(L, 1); /* the line */
  return status;
}

/* Prints the values on the stack through peft.repl.print if available. */
static void print_results(lua_State *L) {
  int n = lua_gettop(L);
  if (n == 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "peft");
  int have_printer = 0;
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_getfield(L, -1, "repl_print");
    have_printer = lua_isfunction(L, -1);
    if (!have_printer) lua_pop(L, 1);
  }
  if (have_printer) {
    lua_remove(L, -2); /* peft table */
    lua_insert(L, 1);
    if (peft_docall(L, n, 0) != LUA_OK) peft_report(L, LUA_ERRRUN);
    return;
  }
  lua_pop(L, 1);
  for (int i = 1; i <= n; i++) {
    size_t len;
    const char *s = luaL_tolstring(L, i, &len);
    fwrite(s, 1, len, stdout);
    fputs(i < n ? "\t" : "\n", stdout);
    lua_pop(L, 1);
  }
  fflush(stdout);
}

void peft_repl(lua_State *L, const char *progname) {
  line_source src = {isatty(0)};
  int status;
  (void)progname;
  while ((status = loadline(L, &src)) != -1) {
    if (status == LUA_OK) status = peft_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) {
      print_results(L);
    } else {
      peft_report(L, status);
    }
  }
  lua_settop(L, 0);
  if (src.tty) {
    fputc('\n', stdout);
    fflush(stdout);
  }
}
