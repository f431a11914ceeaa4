/*
 * peft_os.h - the file-system helpers the Lua side needs and stock Lua lacks:
 * stat, directory listing, bounded reads, directory creation and atomic
 * writes. Every function returns true/value on success and nil, message on an
 * expected failure (missing file, permission, full disk); only misuse raises.
 */
#ifndef PEFT_OS_H
#define PEFT_OS_H

#include <lua.h>

/* Largest file read_file accepts unless told otherwise (bytes). */
#define PEFT_READ_MAX_DEFAULT (64L * 1024 * 1024)

int peft_os_l_stat(lua_State *L);        /* stat(path) -> "file"|"directory"|"other" */
int peft_os_l_lstat(lua_State *L);       /* the same, "link" for a symbolic link */
int peft_os_l_realpath(lua_State *L);    /* realpath(path) -> absolute path without links */
int peft_os_l_listdir(lua_State *L);     /* listdir(path) -> sorted names */
int peft_os_l_read_file(lua_State *L);   /* read_file(path [, max]) -> string */
int peft_os_l_mkdir_p(lua_State *L);     /* mkdir_p(path) -> true */
int peft_os_l_write_atomic(lua_State *L);/* write_atomic(path, data) -> true */

int peft_os_l_isatty(lua_State *L);      /* isatty(fd) -> boolean */
int peft_os_l_term_columns(lua_State *L);/* term_columns([fd]) -> n | nil */
int peft_os_l_walk_files(lua_State *L);  /* walk_files(dir, name) -> iterator */

#endif
