/*
 * peft_repl.c - the interactive loop of the `peft` executable.
 *
 * Like lua.c: a line is first tried as `return <line>` so that expressions
 * print their values; otherwise it runs as a statement; a chunk that ends in
 * <eof> is incomplete and continues on the next line (secondary prompt).
 *
 * On a terminal the lines come from libedit in its readline-compatible mode:
 * tab completion asks peft.repl.complete, history persists in PEFT_HISTORY
 * (default ~/.peft_history), and Ctrl-C abandons the line being typed: the
 * SIGINT handler only sets a flag, and the character reader (rl_getc_function)
 * turns the interrupted read into an accepted line that the loop discards.
 * From a pipe the loop reads stdin line by line without the line editor.
 *
 * Results are printed by peft.repl.print (the pretty printer); the first one
 * becomes the global `_`.
 */
#include <errno.h>
#include <signal.h>
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
#define HISTORY_MAX 1000

/* State shared with libedit's callbacks, which take no user pointer. It is
 * only set while peft_repl runs (a single REPL per process). */
static lua_State *repl_L = NULL;
static int repl_ref = LUA_NOREF; /* the peft.repl module, in the registry */
static volatile sig_atomic_t interrupted = 0;
static int discard_line = 0;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

/* Reads one character for libedit; an interrupted read ends the line (the
 * loop then discards it). */
static int repl_getc(FILE *in) {
  unsigned char c;
  for (;;) {
    if (interrupted) {
      interrupted = 0;
      discard_line = 1;
      return '\n';
    }
    ssize_t n = read(fileno(in), &c, 1);
    if (n == 1) return c;
    if (n == 0) return EOF;
    if (errno != EINTR) return EOF;
  }
}

/* --- completion -------------------------------------------------------- */

static char **matches = NULL;
static size_t nmatches = 0, next_match = 0;

static void free_matches(void) {
  for (size_t i = 0; i < nmatches; i++) free(matches[i]);
  free(matches);
  matches = NULL;
  nmatches = next_match = 0;
}

static char *match_generator(const char *text, int state) {
  (void)text;
  if (state == 0) next_match = 0;
  if (next_match < nmatches) {
    char *s = matches[next_match];
    matches[next_match++] = NULL; /* ownership goes to libedit */
    return s;
  }
  return NULL;
}

/* Calls repl.complete(text) (protected) and copies the results. */
static int collect(lua_State *L) {
  const char *text = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
  lua_getfield(L, -1, "complete");
  lua_pushstring(L, text);
  lua_call(L, 1, 1);
  luaL_checktype(L, -1, LUA_TTABLE);
  lua_Integer n = luaL_len(L, -1);
  if (n <= 0) return 0;
  matches = calloc((size_t)n, sizeof *matches);
  if (matches == NULL) return 0;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    const char *s = lua_tostring(L, -1);
    if (s != NULL) {
      char *copy = strdup(s);
      if (copy != NULL) matches[nmatches++] = copy;
    }
    lua_pop(L, 1);
  }
  return 0;
}

static char **complete(const char *text, int start, int end) {
  (void)start;
  (void)end;
  rl_attempted_completion_over = 1; /* never fall back to file names */
  free_matches();
  if (repl_L == NULL || repl_ref == LUA_NOREF) return NULL;
  int top = lua_gettop(repl_L);
  lua_pushcfunction(repl_L, collect);
  lua_pushlightuserdata(repl_L, (void *)text);
  if (lua_pcall(repl_L, 1, 0, 0) != LUA_OK) lua_pop(repl_L, 1); /* no completions */
  lua_settop(repl_L, top);
  if (nmatches == 0) return NULL;
  char **result = rl_completion_matches(text, match_generator);
  free_matches();
  return result;
}

/* --- reading lines ----------------------------------------------------- */

typedef struct line_source {
  int tty;
  char *history; /* file path or NULL */
} line_source;

/* Reads one line (without the newline) and pushes it. Returns 0 at EOF,
 * -2 when Ctrl-C abandoned the line. */
static int read_line(lua_State *L, line_source *src, int firstline) {
  const char *prompt = firstline ? PROMPT : PROMPT2;
  if (src->tty) {
    discard_line = 0;
    char *line = readline(prompt);
    if (line == NULL) return 0;
    if (discard_line) {
      free(line);
      fputs("^C\n", stdout);
      fflush(stdout);
      return -2;
    }
    if (line[0] != '\0') {
      add_history(line);
      if (src->history) append_history(1, src->history);
    }
    lua_pushstring(L, line);
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

/* Tries to compile "return <line>"; on success leaves the function in place
 * of the line. */
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

/* Tries "return <buffer>" for the buffer at index 1; on success replaces the
 * buffer by the compiled function (so that it sits where loadline expects
 * the chunk: the caller removes index 1 afterwards... see loadline). */
static int addreturn_at(lua_State *L) {
  const char *buf = lua_tostring(L, 1);
  const char *retline = lua_pushfstring(L, "return %s;", buf);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  lua_remove(L, -2); /* the modified text */
  if (status != LUA_OK) lua_pop(L, 1); /* the error */
  return status;
}

/* Reads more lines until the chunk compiles or is a real error. Returns -2
 * when Ctrl-C abandoned the chunk. */
static int multiline(lua_State *L, line_source *src) {
  int first = 1;
  for (;;) {
    size_t len;
    /* after the first line, an expression spread over lines still prints */
    if (!first && addreturn_at(L) == LUA_OK) return LUA_OK;
    first = 0;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, line, len, "=stdin");
    if (!incomplete(L, status)) return status;
    int r = read_line(L, src, 0);
    if (r == -2) return -2;
    if (r == 0) {
      /* end of input in the middle of a chunk: report it */
      return luaL_loadbuffer(L, line, len, "=stdin");
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/* Leaves a compiled chunk (or an error message) on the stack. Returns -1 at
 * the end of the input and -2 for an abandoned line. */
static int loadline(lua_State *L, line_source *src) {
  lua_settop(L, 0);
  int r = read_line(L, src, 1);
  if (r <= 0) return r == 0 ? -1 : -2;
  if (lua_rawlen(L, 1) == 0) return -2; /* empty line: nothing to do */
  int status = addreturn(L);
  if (status != LUA_OK) status = multiline(L, src);
  if (status == -2) {
    lua_settop(L, 0);
    return -2;
  }
  lua_remove(L, 1); /* the line */
  return status;
}

/* Prints the results through repl.print and keeps the first in `_`. */
static void print_results(lua_State *L) {
  int n = lua_gettop(L);
  if (n == 0) return;
  lua_pushvalue(L, 1);
  lua_setglobal(L, "_");
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
  lua_getfield(L, -1, "print");
  lua_remove(L, -2);
  lua_insert(L, 1);
  if (peft_docall(L, n, 0) != LUA_OK) peft_report(L, LUA_ERRRUN);
}

/* require("peft.repl").setup() -> the module, kept in the registry. */
static int setup_repl(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "peft.repl");
  int status = peft_docall(L, 1, 1);
  if (status != LUA_OK) return peft_report(L, status);
  lua_getfield(L, -1, "setup");
  status = peft_docall(L, 0, 1);
  if (status != LUA_OK) {
    lua_pop(L, 1);
    return peft_report(L, status);
  }
  lua_pop(L, 1);
  repl_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return LUA_OK;
}

static char *history_path(void) {
  const char *env = getenv("PEFT_HISTORY");
  if (env != NULL) return env[0] ? strdup(env) : NULL; /* empty: no history */
  const char *home = getenv("HOME");
  if (home == NULL || home[0] == '\0') return NULL;
  size_t n = strlen(home) + sizeof "/.peft_history";
  char *p = malloc(n);
  if (p != NULL) snprintf(p, n, "%s/.peft_history", home);
  return p;
}

void peft_repl(lua_State *L, const char *progname) {
  (void)progname;
  line_source src = {isatty(0), NULL};
  if (setup_repl(L) != LUA_OK) return;
  struct sigaction sa, old_sa;
  if (src.tty) {
    repl_L = L;
    rl_readline_name = "peft";
    rl_catch_signals = 0;
    rl_getc_function = repl_getc;
    rl_attempted_completion_function = complete;
    rl_completer_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]";
    rl_completion_append_character = '\0';
    using_history();
    stifle_history(HISTORY_MAX);
    src.history = history_path();
    if (src.history) {
      read_history(src.history);
      FILE *f = fopen(src.history, "a"); /* make sure append_history has a file */
      if (f) fclose(f);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint; /* no SA_RESTART: the read returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);
  }
  int status;
  while ((status = loadline(L, &src)) != -1) {
    if (status == -2) continue;
    if (status == LUA_OK) status = peft_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) {
      print_results(L);
    } else {
      peft_report(L, status);
    }
    if (src.tty) sigaction(SIGINT, &sa, NULL); /* peft_docall resets it */
  }
  lua_settop(L, 0);
  if (src.tty) {
    sigaction(SIGINT, &old_sa, NULL);
    if (src.history) history_truncate_file(src.history, HISTORY_MAX);
    free(src.history);
    fputc('\n', stdout);
    fflush(stdout);
  }
  free_matches();
  luaL_unref(L, LUA_REGISTRYINDEX, repl_ref);
  repl_ref = LUA_NOREF;
  repl_L = NULL;
}
