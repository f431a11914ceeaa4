-- peft.cli: the `peft COMMAND ...` command line. Each command is a module of
-- its own (peft.cli.<name>, loaded when run); this one parses arguments,
-- prints, dispatches, and holds what the commands share.
--
-- Every command takes --json, prints errors to stderr, and returns the exit
-- status: 0 success, 1 when what it checked is invalid, 2 on a usage error.
-- Colour only on a terminal, never when NO_COLOR is set (or with --json).
--
-- Text from files, paths and arguments reaches a terminal escaped: say and
-- eprint write one line each, with every control character written as
-- Python's repr writes it (\n, \x1b, ...; see core.printable), so that a key
-- holding ESC ] 0; retitles nothing and a newline in a directory name forges
-- no report line; the colour codes paint adds are the only ones let through.
-- JSON output stays exact (bytes that are not UTF-8, as in a path, are
-- written as \udcXX, Python's surrogateescape).
local peft = require "peft"
local core = peft.core
local config = peft.config
local errors = peft.errors

local M = {}

local null = core.null
local array_mt = core.json_array_mt
function M.arr(t) return setmetatable(t or {}, array_mt) end
M.null = null

-- output ----------------------------------------------------------------

local out = { stdout = io.stdout, stderr = io.stderr }
M.out = out

local function use_colour(fd)
  local nc = os.getenv("NO_COLOR")
  if nc ~= nil and nc ~= "" then return false end
  return core.isatty(fd)
end

local colours = { bold = "1", dim = "2", red = "31", green = "32", yellow = "33", blue = "34", cyan = "36" }
local sgr = { ["\27[0m"] = true }
for _, c in pairs(colours) do sgr["\27[" .. c .. "m"] = true end
local paint_on = false

function M.paint(name, s)
  if not paint_on then return s end
  return "\27[" .. colours[name] .. "m" .. s .. "\27[0m"
end

local printable = core.printable

-- The text escaped for a terminal; keep_lines leaves newlines and tabs.
-- With colour on, paint's codes stay.
local function shown(s, keep_lines)
  s = tostring(s)
  if not paint_on or not s:find("\27", 1, true) then return printable(s, keep_lines) end
  local parts, i = {}, 1
  while true do
    local a, b = s:find("\27%[%d+m", i)
    while a and not sgr[s:sub(a, b)] do a, b = s:find("\27%[%d+m", b + 1) end
    if not a then break end
    parts[#parts + 1] = printable(s:sub(i, a - 1), keep_lines)
    parts[#parts + 1] = s:sub(a, b)
    i = b + 1
  end
  parts[#parts + 1] = printable(s:sub(i), keep_lines)
  return table.concat(parts)
end

--- shown(s): s as say would show it
function M.shown(s) return shown(s) end

--- say(...): one line on stdout, escaped for a terminal
function M.say(...)
  out.stdout:write(shown(table.concat({ ... })), "\n")
end

--- say_text(s): text of several lines (help, JSON) on stdout, escaped but its newlines
function M.say_text(s)
  out.stdout:write(shown(s, true), "\n")
end

--- eprint(...): one line on stderr, escaped for a terminal
function M.eprint(...)
  out.stderr:write(shown(table.concat({ ... })), "\n")
end

function M.json_out(value)
  out.stdout:write(core.json_encode(value, 2, true), "\n")
end

-- commands --------------------------------------------------------------

-- name -> one-line summary, in the order help lists them; the module
-- peft.cli.<name> returns { usage =, options =, run =, details = }
local order = { "types", "show", "inspect", "diff", "ls", "plan", "validate", "check", "new", "schema", "migrate",
                "targets" }
local summaries = {
  types = "list every PeftType member, its method, and the TaskType members",
  show = "every field of a method's config: type, default, allowed values, help",
  inspect = "what an adapter config says: method, task, non-default fields, targets, rank, weights",
  diff = "the fields two adapter configs set differently (with the defaults), and how their weights differ",
  ls = "one line per adapter found: method, task, rank, alpha, targets, base model, peft_version, weights",
  plan = "what get_peft_model would create on a base model, and what save_pretrained writes",
  validate = "check adapter configs (files, or directories searched for adapter_config.json) and their weights",
  new = "build a config from defaults and FIELD=VALUE pairs; print it or save it",
  schema = "a JSON Schema (draft 2020-12) of a method's config, or of a command's --json output (--cli)",
  migrate = "upgrade an adapter from an older layout (BONE -> MISS), config and weights; a dry run shows the diff",
  check = "where an adapter works: every PEFT release and the serving engines, with what changes and the fix",
  targets = "list the targets of 'peft check': the PEFT releases and the serving engines, with their options",
}

local function command(name)
  local cmd = require("peft.cli." .. name)
  cmd.name, cmd.summary = name, summaries[name]
  return cmd
end

local UsageError = {}

function M.usage_error(fmt, ...)
  error(setmetatable({ message = string.format(fmt, ...) }, UsageError), 0)
end
local usage_error = M.usage_error

-- commands whose PATH arguments are resolved before they run (and --base, for every
-- command that takes it): a Hub id or cache repository becomes its snapshot directory;
-- one that is not cached stops the command (exit 1). inspect, diff, ls and validate
-- resolve each PATH themselves.
local RESOLVE_FIRST = { plan = true, migrate = true, check = true }

-- Parses argv (after the command name) against the command's options:
-- spec.options = { json = "flag", strict = "flag", o = "value", ... }
local function parse(cmd, argv)
  local opts, pos = {}, {}
  local i = 1
  local allowed = cmd.options or {}
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      for j = i + 1, #argv do pos[#pos + 1] = argv[j] end
      break
    elseif a == "-h" or a == "--help" then
      opts.help = true
    elseif a:sub(1, 1) == "-" and #a > 1 and not a:match("^%-%d") then
      local name, value = a:match("^%-%-?([%w%-_]+)=(.*)$")
      name = name or a:match("^%-%-?([%w%-_]+)$")
      if not name then usage_error("bad option '%s'", a) end
      local kind = allowed[name]
      if not kind then
        local names = {}
        for k in pairs(allowed) do names[#names + 1] = k end
        table.sort(names)
        usage_error("unknown option '%s'%s", a, config.suggest(name, names))
      end
      if kind == "flag" then
        if value then usage_error("option '--%s' takes no value", name) end
        opts[name] = true
      elseif kind == "list" then -- repeatable: every value is kept, in order
        if not value then
          i = i + 1
          value = argv[i]
          if value == nil then usage_error("option '%s' needs a value", a) end
        end
        opts[name] = opts[name] or {}
        table.insert(opts[name], value)
      else
        if not value then
          i = i + 1
          value = argv[i]
          if value == nil then usage_error("option '%s' needs a value", a) end
        end
        opts[name] = value
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return opts, pos
end

-- Resolves a method name, PeftType member or class name to a class.
function M.resolve_class(name)
  if config.classes[name] then return config.classes[name] end
  local m = peft.method(name) or peft.method(name:lower()) or peft.method(name:upper())
  if m then return m.config_cls end
  local candidates = {}
  for _, info in ipairs(peft.methods()) do
    candidates[#candidates + 1] = info.name
    candidates[#candidates + 1] = info.config_cls.name
  end
  usage_error("unknown method '%s'%s; 'peft types' lists them", name, config.suggest(name, candidates))
end

function M.method_of(cls)
  if cls.peft_type then return peft.method(cls.peft_type) end
end

function M.value_text(v)
  if v == nil or v == null then return "null" end
  if type(v) == "table" and config.is_config(v) then v = v:to_dict() end
  local ok, s = pcall(core.json_encode, v)
  return ok and s or tostring(v)
end

-- a character of regular-expression syntax: a target_modules string without one reads
-- as a module name, though PEFT takes it as a regular expression (new and plan say so)
M.REGEX_CHARS = "[%[%]%(%)%*%+%?%^%$|\\{}]"

-- loading helpers ---------------------------------------------------------

local loader -- peft.loader, on first use
-- (the loader only reads these)
local LOAD_OPTS = { [true] = { strict = true, quiet = true }, [false] = { strict = false, quiet = true } }
local LOAD_HOW = { [true] = { is_file = true }, [false] = { is_file = false } }
-- load(path, strict [, is_file]) -> { ok=, cfg=, warnings=, error= }
function M.load(path, strict, is_file)
  loader = loader or require "peft.loader"
  local warnings, ok, res = errors.capture_warnings1(loader.from_pretrained, path, LOAD_OPTS[strict and true or false],
    LOAD_HOW[is_file and true or false])
  if ok then
    local st = rawget(res, config.STATE) -- (what res:warnings() and res:source() read, without the look-ups)
    local list = {}
    for i, w in ipairs(st.warnings) do list[i] = w end
    return { ok = true, cfg = res, warnings = list, path = st.source }
  end
  return { ok = false, error = res, warnings = warnings, path = path }
end

function M.strip_path(msg, path)
  if path and msg:sub(1, #path + 2) == path .. ": " then return msg:sub(#path + 3) end
  return msg
end

--- error_json(e [, path]) -> { kind, message, field } as every --json output gives an error;
-- the message without the path in front (the entry names the path)
function M.error_json(e, path)
  local kind, field = "Error", null
  local msg = errors.message(e)
  if errors.is_error(e) then
    kind, msg, field = e.kind, e.message, e.field or null
    path = path or e.path
  end
  if path then
    msg = M.strip_path(msg, path)
    -- a directory given, the file named in the message
    local file = path:gsub("/+$", "") .. "/" .. config.CONFIG_NAME
    msg = M.strip_path(msg, file)
  end
  return { kind = kind, message = msg, field = field }
end

-- the Hub cache ----------------------------------------------------------

local hub -- peft.hub, on first use

--- resolve_path(arg) -> path | nil, message: arg itself, or the snapshot directory a
-- Hub cache repository directory or a Hub id (org/name[@revision]) names (see peft.hub)
function M.resolve_path(arg)
  hub = hub or require "peft.hub"
  local path, info = hub.resolve(arg)
  if path == nil then return nil, info end
  return path
end

--- load_arg(arg [, strict]) -> load's record for the path resolve_path makes of arg; for an
-- arg that names nothing, { ok = false, error = a FileNotFoundError, warnings = {}, path = arg }
function M.load_arg(arg, strict)
  local path, err = M.resolve_path(arg)
  if not path then
    return { ok = false, error = errors.new("FileNotFoundError", err, { path = arg }), warnings = {}, path = arg }
  end
  return M.load(path, strict)
end

--- hub_label(path) -> "org/name@main" for a path inside a Hub cache snapshot, else nil
function M.hub_label(path)
  hub = hub or require "peft.hub"
  local info = hub.describe(path)
  return info and hub.label(info) or nil
end

--- hub_json(path) -> { repo, commit, refs, subfolder } for a path inside a Hub cache snapshot, else null
function M.hub_json(path)
  hub = hub or require "peft.hub"
  local info = hub.describe(path)
  if not info then return null end
  return { repo = info.repo, commit = info.commit, refs = M.arr(info.refs), subfolder = info.subfolder or null }
end

-- the error entry of a path each_config cannot visit
local function missing_json(path, kind, msg)
  return { kind = kind, message = M.strip_path(msg, path), field = null }
end

--- each_config(arg, visit, visit_missing): every adapter_config.json under what arg names
-- (resolve_path: a Hub id or cache repository is its snapshot directory; a file is itself):
-- visit(path, is_regular_file [, beside]); visit_missing(path, error), error as error_json
-- gives it, for a path that does not exist (FileNotFoundError) or a directory that cannot
-- be read (OSError: no permission, a path longer than PATH_MAX: reported, as find reports them).
-- Directories are searched depth first in sorted order; links to files
-- count, links to directories are not followed; something else called
-- adapter_config.json (a FIFO, a dangling link) is visited, and refused
-- when it is read. beside(name), during a visit in a walk: whether the file's
-- directory holds name (from the walk's listing: no stat).
function M.each_config(arg, visit, visit_missing)
  local path, not_found = M.resolve_path(arg)
  if not path then return visit_missing(arg, missing_json(arg, "FileNotFoundError", not_found)) end
  local kind = core.stat(path)
  if kind == "directory" then
    local files, beside = core.walk_files(path, config.CONFIG_NAME)
    if not files then return visit_missing(path, missing_json(path, "OSError", beside)) end
    for p, reg, werr in files do
      if werr then visit_missing(p, missing_json(p, "OSError", werr)) else visit(p, reg, beside) end
    end
  elseif kind then
    visit(path, kind == "file")
  else
    visit_missing(path, missing_json(path, "FileNotFoundError", path .. ": no such file or directory"))
  end
end

-- diffs -----------------------------------------------------------------

local function split_lines(text)
  local lines = {}
  for l in (text .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = l end
  if #lines > 0 and lines[#lines] == "" and text:sub(-1) == "\n" then lines[#lines] = nil end
  return lines
end

--- unified_diff(a, b, a_name, b_name [, context]) -> lines of a unified diff (as
-- `diff -u` prints it: headers, @@ hunks with context, removed lines before added
-- ones); empty when the texts are equal. Line endings (LF or CRLF) are ignored.
function M.unified_diff(a, b, a_name, b_name, context)
  context = context or 3
  local x, y = split_lines(a), split_lines(b)
  local n, m = #x, #y
  -- longest common subsequence, from the end
  local L = {}
  for i = n + 1, 1, -1 do
    L[i] = {}
    for j = m + 1, 1, -1 do
      if i > n or j > m then L[i][j] = 0
      elseif x[i] == y[j] then L[i][j] = L[i + 1][j + 1] + 1
      else L[i][j] = math.max(L[i + 1][j], L[i][j + 1]) end
    end
  end
  -- the edit script: { op, a_line, b_line, text }, removals before additions in each change
  local ops, i, j = {}, 1, 1
  local dels, adds = {}, {}
  local function flush()
    for _, d in ipairs(dels) do ops[#ops + 1] = d end
    for _, d in ipairs(adds) do ops[#ops + 1] = d end
    dels, adds = {}, {}
  end
  while i <= n or j <= m do
    if i <= n and j <= m and x[i] == y[j] then
      flush()
      ops[#ops + 1] = { " ", i, j, x[i] }
      i, j = i + 1, j + 1
    elseif j <= m and (i > n or L[i][j + 1] >= L[i + 1][j]) then
      adds[#adds + 1] = { "+", i, j, y[j] }
      j = j + 1
    else
      dels[#dels + 1] = { "-", i, j, x[i] }
      i = i + 1
    end
  end
  flush()
  -- hunks: changes with `context` lines around them, merged when they touch
  local changed = {}
  for k, o in ipairs(ops) do if o[1] ~= " " then changed[#changed + 1] = k end end
  if #changed == 0 then return {} end
  local diff = { "--- " .. a_name, "+++ " .. b_name }
  local k = 1
  while k <= #changed do
    local first, last = changed[k], changed[k]
    while k < #changed and changed[k + 1] - last <= 2 * context + 1 do
      k = k + 1
      last = changed[k]
    end
    local from, to = math.max(1, first - context), math.min(#ops, last + context)
    local a_start, a_len, b_start, b_len = nil, 0, nil, 0
    for q = from, to do
      local o = ops[q]
      if o[1] ~= "+" then a_len = a_len + 1; a_start = a_start or o[2] end
      if o[1] ~= "-" then b_len = b_len + 1; b_start = b_start or o[3] end
    end
    -- an empty side starts at the line before (diff -u's convention)
    a_start = a_start or (ops[from][2] - 1)
    b_start = b_start or (ops[from][3] - 1)
    local function range(s, l) return l == 1 and tostring(s) or (s .. "," .. l) end
    diff[#diff + 1] = string.format("@@ -%s +%s @@", range(a_start, a_len), range(b_start, b_len))
    for q = from, to do diff[#diff + 1] = ops[q][1] .. ops[q][4] end
    k = k + 1
  end
  return diff
end

-- weights ---------------------------------------------------------------

local function commas(n) return require("peft.peft_model").commas(n) end

--- weights_lines(report [, base_dir]) -> the text lines of a peft.weights report
function M.weights_lines(w, base_dir)
  local paint = M.paint
  local lines = {}
  if not w.path then
    lines[1] = paint("red", "  weights: no adapter_model.safetensors beside the config")
    return lines
  end
  lines[1] = paint("bold", "  weights      ") .. w.path
  if w.read == false then
    lines[2] = "               " .. w.note
    return lines
  end
  if w.tensors then
    local dt = {}
    for _, k in ipairs(config.sorted_keys(w.dtypes)) do dt[#dt + 1] = k .. " x" .. w.dtypes[k] end
    lines[#lines + 1] = string.format("               %d tensors, %s parameters, dtypes %s", w.tensors,
      commas(w.parameters), table.concat(dt, ", "))
    for _, meth in ipairs(w.method_order) do
      local g = w.methods[meth]
      lines[#lines + 1] = string.format("               %s: %d keys in %d modules", meth, g.keys, #g.modules)
    end
    local counts = {}
    for _, r in pairs(w.ranks or {}) do counts[r] = (counts[r] or 0) + 1 end
    if next(counts) then
      local rv = {}
      for _, r in ipairs(config.sorted_keys(counts)) do rv[#rv + 1] = string.format("r=%s x%d", r, counts[r]) end
      lines[#lines + 1] = "               ranks found: " .. table.concat(rv, ", ")
    end
    if #w.other_keys > 0 then
      lines[#lines + 1] = string.format("               %d other keys (modules_to_save copies or trained base weights)",
        #w.other_keys)
    end
    if w.compared_with_base then
      lines[#lines + 1] = "               compared with the base model " .. tostring(base_dir)
    end
  end
  if #w.problems == 0 then
    lines[#lines + 1] = paint("green", "               the weights match the config")
  else
    for _, p in ipairs(w.problems) do lines[#lines + 1] = paint("red", "    mismatch: ") .. p end
  end
  return lines
end

--- weights_json(report) -> the report as --json gives it
function M.weights_json(w)
  local methods = {}
  for meth, g in pairs(w.methods or {}) do methods[meth] = { keys = g.keys, modules = M.arr(g.modules) } end
  return { ok = w.ok, path = w.path or null, read = w.read ~= false, note = w.note or null,
           tensors = w.tensors or null, parameters = w.parameters or null, dtypes = w.dtypes or {},
           methods = methods, ranks = w.ranks or {}, other_keys = M.arr(w.other_keys or {}),
           problems = M.arr(w.problems) }
end

-- help --------------------------------------------------------------------

local function overview()
  local lines = { "usage: peft COMMAND [ARGS] [--json]    or    peft [options] [script [args]]", "", "commands:" }
  for _, name in ipairs(order) do
    lines[#lines + 1] = string.format("  %-9s %s", name, summaries[name])
  end
  lines[#lines + 1] = "  help      this text, or 'peft help COMMAND' for one command"
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Exit status: 0 success, 1 invalid input, 2 usage error. Errors go to stderr."
  lines[#lines + 1] = "Run 'peft --help' for the interpreter's options; 'peft' alone starts the REPL."
  return table.concat(lines, "\n")
end

local function command_help(cmd)
  return "usage: " .. cmd.usage .. "\n" .. cmd.summary .. "\n" .. (cmd.details or "")
end

function M.commands() return order end

--- main(argv) -> exit status; argv[1] is the command.
function M.main(argv)
  local name = argv[1]
  paint_on = false
  if name == "help" then
    local topic = argv[2]
    if topic and not summaries[topic] then
      M.eprint("peft help: unknown command '", topic, "'", config.suggest(topic, order))
      return 2
    end
    M.say_text(topic and command_help(command(topic)) or overview())
    return 0
  end
  if not summaries[name] then
    M.eprint("peft: unknown command '", tostring(name), "'", config.suggest(tostring(name), order))
    return 2
  end
  local cmd = command(name)
  local rest = {}
  for i = 2, #argv do rest[#rest + 1] = argv[i] end
  local ok, opts, args = pcall(parse, cmd, rest)
  if not ok then
    if getmetatable(opts) == UsageError then
      M.eprint("peft ", name, ": ", opts.message, " (see 'peft help ", name, "')")
      return 2
    end
    error(opts, 0)
  end
  if opts.help then
    M.say_text(command_help(cmd))
    return 0
  end
  paint_on = not opts.json and use_colour(1)
  if RESOLVE_FIRST[name] then
    for i, a in ipairs(args) do
      local p, err = M.resolve_path(a)
      if not p then
        M.eprint("peft ", name, ": ", err)
        return 1
      end
      args[i] = p
    end
  end
  if opts.base then -- (parse sets it only for a command with a base option)
    local p, err = M.resolve_path(opts.base)
    if not p then
      M.eprint("peft ", name, ": --base ", err)
      return 1
    end
    opts.base = p
  end
  local okr, code = pcall(cmd.run, opts, args)
  if not okr then
    if getmetatable(code) == UsageError then
      M.eprint("peft ", name, ": ", code.message, " (see 'peft help ", name, "')")
      return 2
    end
    M.eprint("peft ", name, ": ", errors.message(code))
    return 1
  end
  return code
end

return M
