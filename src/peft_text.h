/*
 * peft_text.h - text for a terminal (no Lua here).
 *
 * Text read from files and paths reaches people through the command line,
 * warnings and the REPL; a key or a directory name holding ESC ] 0;... BEL
 * would retitle their terminal, ESC [2J clear it, and a newline forge a
 * report line. peft_printable escapes, as Python's repr does: C0 control
 * characters and DEL (\t, \n, \r, else \xNN), the C1 controls U+0080 to
 * U+009F (\xNN), bytes that are not UTF-8 (\xNN), and the Unicode format
 * characters that reorder or hide text (U+200B-U+200F, U+2028-U+202E,
 * U+2060-U+2069, U+FEFF as \uXXXX). A backslash is left as it is.
 */
#ifndef PEFT_TEXT_H
#define PEFT_TEXT_H

#include <stddef.h>

/* Longest output for len bytes of input (6 bytes per input byte at most). */
#define PEFT_PRINTABLE_MAX(len) ((len) * 6)

/* Writes the printable form of s[0..len) to out (PEFT_PRINTABLE_MAX(len)
 * bytes at least; out may be NULL to measure) and returns its length.
 * keep_lines: newlines and tabs stay as they are (multi-line text). */
size_t peft_printable(const char *s, size_t len, char *out, int keep_lines);

/* The same into out[0..size), cut (at a character's boundary) when it does
 * not fit, and NUL-terminated; returns the length written. */
size_t peft_printable_into(const char *s, size_t len, char *out, size_t size, int keep_lines);

/* Whether s[0..len) is printable as it is. */
int peft_is_printable(const char *s, size_t len, int keep_lines);

#endif
