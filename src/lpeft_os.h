/*
 * lpeft_os.h - the file-system helpers the Lua side needs and stock Lua lacks:
 * stat, directory listing, bounded reads, directory creation and atomic
 * writes. Every function returns true/value on success and nil, message on an
 * expected failure (missing file, permission, full disk); only misuse raises.
 */
#ifndef LPEFT_OS_H
#define LPEFT_OS_H

#include <lua.h>

/* Largest file read_file accepts unless told otherwise (bytes). */
#define LPEFT_READ_MAX_DEFAULT (64L * 1024 * 1024)

int lpeft_os_stat(lua_State *L);        /* stat(path) -> "file"|"directory"|"other" */
int lpeft_os_lstat(lua_State *L);       /* the same, "link" for a symbolic link */
int lpeft_os_realpath(lua_State *L);    /* realpath(path) -> absolute path without links */
int lpeft_os_listdir(lua_State *L);     /* listdir(path) -> sorted names */
int lpeft_os_read_file(lua_State *L);   /* read_file(path [, max]) -> string (regular files only) */
int lpeft_os_mkdir_p(lua_State *L);     /* mkdir_p(path) -> true */
int lpeft_os_write_atomic(lua_State *L);/* write_atomic(path, data) -> true */

int lpeft_os_isatty(lua_State *L);      /* isatty(fd) -> boolean */
int lpeft_os_printable(lua_State *L);   /* printable(s [, keep_lines]) -> s, escaped for a terminal */
int lpeft_os_term_columns(lua_State *L);/* term_columns([fd]) -> n | nil */
int lpeft_os_walk_files(lua_State *L);  /* walk_files(dir, name) -> iterator: path, is_regular [, error] */

#endif
