/* peft_main.h - shared by the executable's main (peft.c) and its REPL. */
#ifndef PEFT_MAIN_H
#define PEFT_MAIN_H

#include <lua.h>

/* Prints "pname: msg" to stderr. */
void peft_message(const char *pname, const char *msg);
/* Prints and pops the error message on top of the stack if status != OK. */
int peft_report(lua_State *L, int status);
/* lua_pcall with a traceback handler and Ctrl-C handling. */
int peft_docall(lua_State *L, int narg, int nres);
/* The interactive loop; returns at end of input. */
void peft_repl(lua_State *L, const char *progname);

#endif
