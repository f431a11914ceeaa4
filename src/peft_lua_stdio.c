/*
 * peft_lua_stdio.c - the standard streams of the private Lua inside
 * libpeft.so and the host modules.
 *
 * Those carry their own Lua 5.4, linked in from Debian's static liblua5.4.a
 * with every symbol made local, so that a host's own lua_* functions (LuaJIT,
 * Lua 5.1, nginx, Neovim) never meet it. That archive is built for programs:
 * its code is position-independent except for its references to the C
 * library's stdin, stdout and stderr, which a shared library cannot make.
 * The build renames those references (objcopy --redefine-sym) to the three
 * pointers below, set to the C library's streams when the library is loaded.
 */
#include <stdio.h>

FILE *peftlua_stdin, *peftlua_stdout, *peftlua_stderr;

__attribute__((constructor)) static void peftlua_stdio_init(void) {
  peftlua_stdin = stdin;
  peftlua_stdout = stdout;
  peftlua_stderr = stderr;
}
