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
 * History: each line entered is appended to the file once, in libedit's format
 * (the "_HiStOrY_V2_" cookie, then one line per entry, blanks, backslashes and
 * control characters escaped as strvis(3) with VIS_WHITE escapes them). libedit's
 * own append_history writes the entry before the last one again.
 *
 * A compile error that Python habits explain (LoraConfig(r=8), [1, 2]) gets a
 * hint from peft.repl.syntax_hint under it. Long help is paged (repl.pager, set
 * here: $PAGER, else "less -R", only when stdout is a terminal).
 *
 * Results are printed by peft.repl.print (the pretty printer); the first one
 * becomes the global `_`.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* --- history ----------------------------------------------------------- */

#define HISTORY_COOKIE "_HiStOrY_V2_\n"

/* Appends one entry to the history file, escaped as libedit reads it back
 * (strunvis): space, tab, newline, other control characters and DEL as
 * \ooo, a backslash doubled; other bytes (UTF-8 included) as they are. A file
 * that is empty gets the cookie first. Failures are ignored (history is a
 * convenience). */
static void history_append(const char *path, const char *line) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  FILE *f = fdopen(fd, "a");
  if (f == NULL) {
    close(fd);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size == 0) fputs(HISTORY_COOKIE, f);
  for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
    if (*p == '\\') {
      fputs("\\\\", f);
    } else if (*p <= ' ' || *p == 0x7f) {
      fprintf(f, "\\%03o", *p);
    } else {
      fputc(*p, f);
    }
  }
  fputc('\n', f);
  fclose(f);
}

/* --- paging ------------------------------------------------------------ */

/* The terminal's height (0 when unknown). */
static int term_rows(void) {
  struct winsize ws;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws.ws_row;
  const char *lines = getenv("LINES");
  if (lines != NULL && atoi(lines) > 0) return atoi(lines);
  return 0;
}

/* repl.pager(text) -> true when the text went through the pager ($PAGER, else
 * "less -R"): only when stdout is a terminal and the text is longer than it is
 * high; false otherwise (also when the pager cannot be run), and the caller
 * prints it. SIGINT and SIGPIPE are ignored while the pager runs (it handles
 * Ctrl-C; quitting it early closes the pipe). */
static int l_pager(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  if (!isatty(STDOUT_FILENO)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  int rows = term_rows();
  if (rows == 0) rows = 24;
  size_t lines = 1;
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  if (lines < (size_t)rows) {
    lua_pushboolean(L, 0);
    return 1;
  }
  const char *pager = getenv("PAGER");
  if (pager == NULL || pager[0] == '\0') pager = "less -R";
  struct sigaction ign, old_int, old_pipe;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGINT, &ign, &old_int);
  sigaction(SIGPIPE, &ign, &old_pipe);
  fflush(stdout);
  int paged = 0;
  FILE *p = popen(pager, "w");
  if (p != NULL) {
    fwrite(text, 1, len, p);
    fputc('\n', p);
    int status = pclose(p);
    /* 127: the shell found no such command; then the text is printed here */
    paged = status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 127);
  }
  sigaction(SIGPIPE, &old_pipe, NULL);
  sigaction(SIGINT, &old_int, NULL);
  lua_pushboolean(L, paged);
  return 1;
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
      if (src->history) history_append(src->history, line);
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

/* Calls repl.syntax_hint(chunk, message) (protected) for the compile error on
 * top of the stack, the chunk at index 1; a hint is added under the message. */
static int hint_call(lua_State *L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
  lua_getfield(L, -1, "syntax_hint");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 1);
  return 1;
}

static void add_syntax_hint(lua_State *L) {
  if (repl_ref == LUA_NOREF || lua_type(L, -1) != LUA_TSTRING) return;
  int msg = lua_gettop(L);
  lua_pushcfunction(L, hint_call);
  lua_pushvalue(L, 1);   /* the chunk */
  lua_pushvalue(L, msg); /* the message */
  if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
    lua_pushvalue(L, msg);
    lua_pushliteral(L, "\n");
    lua_rotate(L, -3, 2); /* message, "\n", hint */
    lua_concat(L, 3);
    lua_replace(L, msg);
  } else {
    lua_pop(L, 1); /* nil or the error */
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
  if (status == LUA_ERRSYNTAX) add_syntax_hint(L);
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
  lua_pushcfunction(L, l_pager);
  lua_setfield(L, -2, "pager");
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
    if (src.history) read_history(src.history);
    fputs("help() explains the globals, help(LoraConfig) a class, help(LoraConfig.r) a field;"
          " <TAB> completes; Ctrl-D exits.\n", stdout);
    fflush(stdout);
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
