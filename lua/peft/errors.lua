-- peft.errors: error values and the warning channel.
--
-- Errors that callers may want to tell apart are values, not strings:
--   { kind = "ValueError" | "KeyError" | "TypeError" | "AttributeError"
--            | "FileNotFoundError" | "JSONDecodeError" | "ExtensionError" ...,
--     message = "...", where = "script.lua:3", [field], [path], [cause] }
-- where: the caller's file and line, as error(msg, 2) would name it at the
-- boundary of the API (the innermost function that is not peft's own), or
-- nil when there is none (a CLI command). tostring(err) -->
-- "script.lua:3: KeyError: There is already a prefix called 'lora_'";
-- message(err) leaves the place out (what the CLI prints about a file).
-- They are raised with error(); catch them with pcall and look at err.kind.
--
-- Warnings go to one handler per module instance; the default writes
-- "peft: warning: <message>" to stderr. set_warning_handler replaces it (and
-- returns the previous one); capture_warnings runs a function and returns the
-- warnings it emitted.
local core = require "peft.core"

local M = {}

-- peft's own files: where an error is raised is the first place outside them
core.internal_source((debug.getinfo(1, "S").source:match("^(.*)errors%.lua$")) or "@peft/")

local error_mt = core.error_mt

--- Creates an error value. Extra fields (field, path, cause...) are copied.
function M.new(kind, message, extra)
  local e = core.new_error(kind, message)
  if extra then
    for k, v in pairs(extra) do e[k] = v end
  end
  return e
end

--- Raises an error value; level as for error().
function M.raise(kind, message, extra, level)
  error(M.new(kind, message, extra), level or 2)
end

function M.is_error(v)
  return core.is_error(v)
end

--- A printable message for any error value (string, error object, other);
-- for an error object, "kind: message" without its place.
function M.message(v)
  if type(v) == "string" then return v end
  if core.is_error(v) then return tostring(v.kind or "Error") .. ": " .. tostring(v.message) end
  local mt = getmetatable(v)
  if mt and mt.__tostring then return tostring(v) end
  return string.format("(error object is a %s value)", type(v))
end

M.error_mt = error_mt

-- warning channel --------------------------------------------------------

-- the message may hold text from a file: escaped for the terminal
local function default_handler(message)
  io.stderr:write("peft: warning: ", core.printable(tostring(message)), "\n")
end

local handler = default_handler
local sinks = {} -- stack of capture lists (innermost last)

--- Emits a warning: to the innermost capture, else to the handler.
function M.warn(message)
  local sink = sinks[#sinks]
  if sink then
    sink[#sink + 1] = message
  else
    handler(message)
  end
end

function M.set_warning_handler(fn)
  assert(fn == nil or type(fn) == "function", "warning handler must be a function or nil")
  local old = handler
  handler = fn or default_handler
  return old
end

--- capture_warnings(fn, ...) -> warnings, ok, results...
-- Runs fn in protected mode; warnings it emits are collected, not printed.
function M.capture_warnings(fn, ...)
  local list = {}
  local n = #sinks + 1
  sinks[n] = list
  local res = table.pack(pcall(fn, ...))
  sinks[n] = nil
  return list, table.unpack(res, 1, res.n)
end

--- capture_warning1(fn, ...) -> warnings, ok, result: capture_warnings for a
-- function of one result (without packing what it returns).
function M.capture_warnings1(fn, ...)
  local list = {}
  local n = #sinks + 1
  sinks[n] = list
  local ok, res = pcall(fn, ...)
  sinks[n] = nil
  return list, ok, res
end

return M
