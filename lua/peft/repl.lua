-- peft.repl: what the interactive REPL adds on top of the interpreter:
-- a pretty printer, tab completion and help(). The C loop (src/peft_repl.c)
-- calls setup() once, then print(...) for every result and complete(word)
-- for every <TAB>.
local peft = require "peft"
local registry = require "peft.registry"
local core = peft.core
local config = peft.config
local types = peft.types

local M = {}

local null = core.null

-- documentation of the API functions, for help(fn) ----------------------

local docs = {}

local function doc(fn, signature, text)
  if type(fn) == "function" then docs[fn] = { signature = signature, text = text } end
end

local function document_api()
  doc(peft.register_peft_method, "peft.register_peft_method{ name=, config_cls=, model_cls=, prefix=, is_mixed_compatible=, shares_prefix_with= }",
    "Registers a method; the C core checks every rule first and a failure (ValueError, KeyError) changes nothing.")
  doc(peft.add_peft_type, "peft.add_peft_type(NAME) -> NAME",
    "Adds a PeftType member (an upper-case identifier not already taken).")
  doc(peft.methods, "peft.methods() -> list", "Every registered method: name, peft_type, prefix, is_mixed_compatible, classes.")
  doc(peft.method, "peft.method(key) -> info | nil", "A registered method by PeftType member, method name or config class name.")
  doc(peft.declare_config, "peft.declare_config{ name=, parent=, peft_type=, doc=, fields={...}, post_init= } -> class",
    "Declares a config class; fields are { name, annotation, default, help, [options] }.")
  doc(peft.declare_helper, "peft.declare_helper{ name=, fields=, post_init= } -> class", "Declares a nested config (like EvaConfig).")
  doc(peft.declare_model, "peft.declare_model{ name=, prefix= } -> model class", "Declares a model class carrying its prefix.")
  doc(peft.load_extension, "peft.load_extension(path)",
    "Runs an extension script; if it raises, everything it added is rolled back and an ExtensionError names script and line.")
  doc(peft.get_peft_config, "peft.get_peft_config(tbl [, opts]) -> config", "Builds the config class named by tbl.peft_type.")
  doc(peft.from_pretrained, "peft.from_pretrained(path [, { strict=, quiet= }]) -> config",
    "Loads an adapter_config.json (or a directory holding one); unknown keys are kept with a warning.")
  doc(peft.from_json, "peft.from_json(text [, opts]) -> config", "Loads a config from JSON text.")
  doc(peft.capture_warnings, "peft.capture_warnings(fn, ...) -> warnings, ok, results...",
    "Runs fn protected and returns the warnings it emitted instead of printing them.")
  doc(peft.set_warning_handler, "peft.set_warning_handler(fn) -> previous handler", "Where warnings go (default: stderr).")
  local B = config.Base
  doc(B.to_dict, "cfg:to_dict() -> table", "Every field (null for None, sets as sorted lists) plus the unknown keys kept.")
  doc(B.to_json, "cfg:to_json() -> string", "Exactly what PEFT's save_pretrained writes (sorted keys, 2-space indent).")
  doc(B.save_pretrained, "cfg:save_pretrained(dir) -> path", "Writes dir/adapter_config.json atomically.")
  doc(B.validate, "cfg:validate() -> cfg", "Runs every check again on the current values.")
  doc(B.replace, "cfg:replace{ field = value, ... } -> new config", "A validated copy with some fields changed.")
  doc(B.copy, "cfg:copy() -> config", "An independent copy.")
  doc(B.diff, "cfg:diff([other]) -> list", "The fields that differ from the class defaults: { name, value, default };"
    .. " with another config, those the two hold differently: { name, value, other, default }.")
  doc(B.shown_fields, "cfg:shown_fields() -> list", "What the config shows: the fields given and those not at"
    .. " their default.")
  doc(B.warnings, "cfg:warnings() -> list", "The warnings recorded while the config was built or loaded.")
  doc(B.extra, "cfg:extra() -> table", "The keys kept from a file that the class does not know.")
  doc(B.field, "Class:field(name) -> descriptor", "A field's name, type, default, choices and help.")
  doc(B.defaults, "Class:defaults() -> table", "to_dict() of a config built with no arguments.")
  doc(B.lineage, "Class:lineage() -> list", "The class and its parents, up to PeftConfig.")
  doc(M.help, "help([x])", "Help on a class, a field (help('LoraConfig.r')), a method, an enum or an API function.")
end

-- kinds of values -------------------------------------------------------

local function is_enum(v) return v == peft.PeftType or v == peft.TaskType end

local mappings = {
  "PEFT_TYPE_TO_CONFIG_MAPPING", "PEFT_TYPE_TO_TUNER_MAPPING", "PEFT_TYPE_TO_PREFIX_MAPPING",
  "PEFT_TYPE_TO_MIXED_MODEL_MAPPING",
}
local function mapping_name(v)
  for _, n in ipairs(mappings) do
    if rawequal(peft[n], v) then return n end
  end
end

local function is_method_info(v)
  return type(v) == "table" and getmetatable(v) == nil and type(rawget(v, "name")) == "string"
    and type(rawget(v, "peft_type")) == "string" and type(rawget(v, "prefix")) == "string"
    and rawget(v, "config_cls") ~= nil
end

local function is_field(v)
  return type(v) == "table" and getmetatable(v) == nil and type(rawget(v, "name")) == "string"
    and rawget(v, "node") ~= nil and rawget(v, "declared_in") ~= nil
end

-- formatting ------------------------------------------------------------

local LIMIT = 500 -- items shown per table before saying how many were left out

local function key_text(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  return "[" .. (type(k) == "string" and string.format("%q", k) or tostring(k)) .. "]"
end

local format

local function format_table(t, indent, seen, opts)
  if seen[t] then return "<cycle>" end
  seen[t] = true
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  local n = #keys
  local is_arr = types.is_array(t)
  if n == 0 then
    seen[t] = nil
    return getmetatable(t) == core.json_array_mt and "[]" or "{}"
  end
  if is_arr then
    table.sort(keys)
  else
    table.sort(keys, function(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      if ta == "string" or ta == "number" then return a < b end
      return tostring(a) < tostring(b)
    end)
  end
  local limit = opts.limit or LIMIT
  local parts = {}
  for i = 1, math.min(n, limit) do
    local k = keys[i]
    local v = format(t[k], indent .. "  ", seen, opts)
    parts[i] = is_arr and v or (key_text(k) .. " = " .. v)
  end
  seen[t] = nil
  local open, close = is_arr and "[" or "{", is_arr and "]" or "}"
  local one = open .. table.concat(parts, ", ") .. close
  local more = ""
  if n > limit then
    more = string.format("\n%s  ... %d more item%s not shown: peft.repl.show(x, { limit = math.huge }) shows all",
      indent, n - limit, n - limit == 1 and "" or "s")
  end
  if #one + #indent <= 78 and not one:find("\n", 1, true) and more == "" then return one end
  return open .. "\n" .. indent .. "  " .. table.concat(parts, ",\n" .. indent .. "  ") .. more .. "\n" .. indent .. close
end

-- A config as its class and the fields it was given or holds away from the defaults
-- (cfg:shown_fields); at the top level, a comment names the unknown keys kept (inside
-- a table a comment would swallow the rest of the line).
local function format_config(cfg, indent)
  local cls = cfg:get_class()
  local parts = {}
  for _, d in ipairs(cfg:shown_fields()) do
    local v = d.value
    if config.is_config(v) then v = v:to_dict() end
    parts[#parts + 1] = d.name .. "=" .. types.repr(v)
  end
  local extra = config.sorted_keys(cfg:extra())
  local one = cls.name .. "(" .. table.concat(parts, ", ") .. ")"
  local tail = (#extra > 0 and indent == "") and ("  -- unknown keys kept: " .. table.concat(extra, ", ")) or ""
  if #one + #indent <= 78 then return one .. tail end
  return cls.name .. "(\n" .. indent .. "  " .. table.concat(parts, ",\n" .. indent .. "  ") .. "\n" .. indent .. ")" .. tail
end

local function format_class(cls)
  local m = cls.peft_type and peft.method(cls.peft_type)
  local names = {}
  for i, c in ipairs(cls:lineage()) do names[i] = c.name end
  local what = cls.kind == "helper" and "nested config class" or "config class"
  local info = m and string.format("PeftType %s, method '%s', prefix '%s'; ", m.peft_type, m.name, m.prefix) or ""
  return string.format("%s %s (%s%s; %d fields) -- help(%s)", what, cls.name, info,
    table.concat(names, " < "), #cls.fields, cls.name)
end

local function format_enum(e)
  local names = {}
  for i, v in ipairs(e) do names[i] = v end
  local title = e == peft.PeftType and "PeftType" or "TaskType"
  return string.format("%s: %d members\n  %s", title, #names, table.concat(names, ", "):gsub(("[^\n]"):rep(70) .. "[^,]*, ",
    function(s) return s .. "\n  " end))
end

local function format_method(m)
  return string.format("method %s: PeftType %s, prefix '%s'%s%s, config %s, model %s", m.name, m.peft_type, m.prefix,
    m.shares_prefix_with and (" (shared with " .. m.shares_prefix_with .. ")") or "",
    m.is_mixed_compatible and ", mixed-compatible" or "", m.config_cls and m.config_cls.name or "-",
    m.model_cls and m.model_cls.name or "-")
end

local function format_field(f)
  local lines = { string.format("%s.%s: %s = %s", f.declared_in, f.name, f.type,
    f.default == nil and "null" or types.repr(config.is_config(f.default) and f.default:to_dict() or f.default)),
    "  " .. f.help }
  if f.choices then
    local c = {}
    for i, v in ipairs(f.choices) do c[i] = type(v) == "string" and ("'" .. v .. "'") or tostring(v) end
    lines[#lines + 1] = "  allowed: " .. table.concat(c, ", ")
  end
  return table.concat(lines, "\n")
end

function format(v, indent, seen, opts)
  indent, seen, opts = indent or "", seen or {}, opts or {}
  local t = type(v)
  if v == nil then return "nil" end
  if v == null then return "null" end
  if t == "string" then
    if v:find("\n", 1, true) and indent == "" then return v end -- text (JSON, help) reads better raw
    local s = string.format("%q", v):gsub("\\\n", "\\n")
    -- (a comment only on a line of its own: inside a table it would hide the rest)
    if indent ~= "" then return s end
    if core.type_index(v) then return s .. "  -- PeftType." .. v end
    if core.task_index(v) then return s .. "  -- TaskType." .. v end
    return s
  end
  if t == "number" then
    if math.type(v) == "float" then return (core.json_encode(v):gsub("^NaN$", "nan")) end
    return tostring(v)
  end
  if t == "function" then
    local d = docs[v]
    if d then return "function " .. d.signature .. " -- help() for more" end
    return tostring(v)
  end
  if t ~= "table" then return tostring(v) end
  if config.is_config(v) then return format_config(v, indent) end
  if config.is_class(v) then return format_class(v) end
  if peft.is_model_class(v) then return string.format("model class %s (prefix '%s')", v.name, tostring(v.prefix)) end
  if is_enum(v) then return format_enum(v) end
  local mname = mapping_name(v)
  if mname then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = k .. " -> " .. (type(x) == "string" and x or tostring(x.name or x)) end
    return mname .. " (" .. #parts .. " entries)\n  " .. table.concat(parts, "\n  ")
  end
  if peft.errors.is_error(v) then return tostring(v) end
  if is_method_info(v) then return format_method(v) end
  if is_field(v) then return format_field(v) end
  local mt = getmetatable(v)
  if mt and mt.__tostring then return tostring(v) end
  return format_table(v, indent, seen, opts)
end

M.format = format

--- show(x [, opts]): prints x; opts.limit = items per table (default 500).
-- what the REPL prints reaches a terminal: control characters from files
-- (a key holding ESC ] 0;...) are escaped, newlines and tabs kept
function M.show(v, opts)
  io.stdout:write(core.printable(format(v, "", {}, opts or {}), true), "\n")
end

--- print(...): the REPL's printer for the values of an expression.
function M.print(...)
  local n = select("#", ...)
  for i = 1, n do io.stdout:write(core.printable(format((select(i, ...))), true), "\n") end
  io.stdout:flush()
end

-- completion ------------------------------------------------------------

-- what completion offers on configs and their classes: fields after '.', methods
-- after ':', never the machinery (metatables, fill plans, post_init, ...)
local OBJECT_METHODS = { "to_dict", "to_json", "save_pretrained", "copy", "replace", "validate", "diff", "repr",
                         "warnings", "extra", "was_given", "source", "get_class", "shown_fields" }
local CLASS_ATTRIBUTES = { "name", "peft_type", "doc", "parent", "fields", "is_prompt_learning",
                           "is_adaption_prompt" }
local CLASS_METHODS = { "from_pretrained", "from_json", "from_dict", "from_peft_type", "field", "defaults", "lineage",
                        "is_subclass_of" }
-- functions a class table holds that are not methods of its objects
local CLASS_INTERNALS = { new = true, post_init = true, check_kwargs = true, fill = true, object_mt = true,
                          values_mt = true }

-- the methods a config's class chain adds (BoneConfig's migrate)
local function class_chain_methods(cls, add)
  local c = cls
  while c do
    registry.load_pending(c)
    for k, x in pairs(c) do
      if type(k) == "string" and type(x) == "function" and not CLASS_INTERNALS[k] then add(k) end
    end
    c = rawget(c, "parent")
  end
end

local function identifiers_of(v, with_methods)
  local names, seen = {}, {}
  local function add(k)
    if type(k) == "string" and k:match("^[%a_][%w_]*$") and not seen[k] then
      seen[k] = true
      names[#names + 1] = k
    end
  end
  if type(v) == "string" then
    for k in pairs(string) do add(k) end
    return names
  end
  if type(v) ~= "table" then return names end
  if config.is_config(v) then
    if with_methods then
      for _, k in ipairs(OBJECT_METHODS) do add(k) end
      class_chain_methods(v:get_class(), add)
    else
      for _, f in ipairs(v:get_class().fields) do add(f.name) end
    end
    return names
  end
  if config.is_class(v) then
    if with_methods then
      for _, k in ipairs(CLASS_METHODS) do add(k) end
    else
      -- a class's methods are called with '.' as well (LoraConfig.from_pretrained(path))
      for _, f in ipairs(v.fields) do add(f.name) end
      for _, k in ipairs(CLASS_ATTRIBUTES) do add(k) end
      for _, k in ipairs(CLASS_METHODS) do add(k) end
    end
    return names
  end
  local ok = pcall(function()
    for k in pairs(v) do add(k) end
  end)
  if not ok then
    for k in next, v do add(k) end
  end
  if v == peft then
    for _, n in ipairs(config.order) do add(n) end
  end
  -- names reached through __index tables
  local mt, depth = getmetatable(v), 0
  while type(mt) == "table" and type(rawget(mt, "__index")) == "table" and depth < 10 do
    for k in pairs(mt.__index) do add(k) end
    mt = getmetatable(mt.__index)
    depth = depth + 1
  end
  if with_methods and type(v) == "table" then
    -- keep functions only after ':'
    local fns = {}
    for _, k in ipairs(names) do
      local okk, x = pcall(function() return v[k] end)
      if okk and type(x) == "function" then fns[#fns + 1] = k end
    end
    names = fns
  end
  return names
end

-- Resolves "a.b.c" from the globals, without raising.
local function resolve(path)
  local v = _G
  for part in path:gmatch("[^%.]+") do
    if not part:match("^[%a_][%w_]*$") then return nil end
    local ok, x = pcall(function() return v[part] end)
    if not ok or x == nil then return nil end
    v = x
  end
  return v
end

--- complete(word) -> sorted list of completions of word (an expression
-- prefix such as "PeftType.LO", "LoraConfig.", "cfg:to_" or "pe").
function M.complete(word)
  local base, sep, partial = word:match("^(.-)([%.:])([%w_]*)$")
  local candidates, prefix = {}, ""
  if base and base ~= "" then
    local v = resolve(base)
    if v == nil then return {} end
    candidates = identifiers_of(v, sep == ":")
    prefix = base .. sep
  else
    partial = word
    for k in pairs(_G) do
      if type(k) == "string" then candidates[#candidates + 1] = k end
    end
    for _, kw in ipairs { "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto",
                          "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until",
                          "while" } do
      candidates[#candidates + 1] = kw
    end
  end
  local out, seen = {}, {}
  for _, c in ipairs(candidates) do
    if c:sub(1, #partial) == partial and not seen[c] then
      seen[c] = true
      out[#out + 1] = prefix .. c
    end
  end
  table.sort(out)
  return out
end

-- help ------------------------------------------------------------------

local function class_help(cls)
  return require("peft.cli.show").describe_class(cls)
end

local function overview()
  return table.concat({
    "peft REPL: Lua 5.4 with the peft runtime loaded.",
    "  Globals: peft, PeftType, TaskType, help, and every config class (LoraConfig, IA3Config, ...).",
    "  Try:  PeftType.LORA    peft.methods()    LoraConfig{ r = 16 }    help(LoraConfig)",
    "        help('LoraConfig.r')   cfg = peft.from_pretrained('path/to/adapter')   cfg:to_json()",
    "  <TAB> completes names (PeftType.LO<TAB>, LoraConfig.<TAB>, cfg:<TAB>); _ is the last result.",
    "  help(x) explains a class, a field, a config, a method (help('lora')), an enum or an API function.",
    "  help(LoraConfig.r) or help('LoraConfig.r') explains a field; LoraConfig.r is its descriptor.",
    "  Lua, not Python: LoraConfig{ r = 8 } (braces), true/false/nil, lists as { 'q_proj', 'v_proj' }.",
    "  Ctrl-C abandons the current line; Ctrl-D exits. Long help pages through $PAGER (else less -R).",
  }, "\n")
end

-- Long text on a terminal goes through a pager ($PAGER, else less -R): M.pager is set
-- by the C loop (src/peft_repl.c), and says whether it paged; never when stdout is
-- not a terminal.
local function emit(text)
  text = core.printable(text, true)
  if M.pager and M.pager(text) then return end
  io.stdout:write(text, "\n")
  io.stdout:flush()
end

--- help([x]): prints help on x (or an overview).
function M.help(x)
  local text
  if x == nil then
    text = overview()
  elseif type(x) == "string" then
    local cname, fname = x:match("^([%w_]+)%.([%w_]+)$")
    if cname and config.classes[cname] then
      local f, msg = config.classes[cname]:field(fname)
      text = f and format_field(f) or msg
    elseif config.classes[x] then
      text = class_help(config.classes[x])
    elseif peft.method(x) then
      local m = peft.method(x)
      text = format_method(m) .. "\n\n" .. class_help(m.config_cls)
    elseif x == "PeftType" or x == "TaskType" then
      text = format_enum(peft[x])
    else
      text = "no help for " .. string.format("%q", x) .. config.suggest(x, (function()
        local c = {}
        for _, n in ipairs(config.order) do c[#c + 1] = n end
        for _, m in ipairs(peft.methods()) do c[#c + 1] = m.name end
        return c
      end)())
    end
  elseif config.is_class(x) then
    text = class_help(x)
  elseif config.is_config(x) then
    text = format_config(x, "") .. "\n\n" .. class_help(x:get_class())
  elseif is_field(x) then
    text = format_field(x)
  elseif is_enum(x) then
    text = format_enum(x)
  elseif is_method_info(x) then
    text = format_method(x) .. "\n\n" .. class_help(x.config_cls)
  elseif type(x) == "function" and docs[x] then
    text = docs[x].signature .. "\n  " .. docs[x].text
  else
    text = "no help for " .. format(x) .. "; help() lists what there is"
  end
  emit(text)
end

-- Python habits -----------------------------------------------------------

local PYTHON_NAMES = {
  True = "true", False = "false",
  None = "nil (or peft.null, JSON's null, where a value must be there)",
}

--- syntax_hint(chunk, message) -> a hint line for a compile error that Python habits
-- explain (the C loop adds it under the error), or nil
function M.syntax_hint(chunk, msg)
  if type(chunk) ~= "string" or type(msg) ~= "string" then return nil end
  local name, args = chunk:match("([%a_][%w_%.]*)%s*(%b())")
  if name and args and args:match("^%(%s*[%a_][%w_]*%s*=[^=]") and msg:find("near '='", 1, true) then
    local inner = args:sub(2, -2):gsub("%s*=%s*", " = "):gsub("%f[%w]True%f[^%w]", "true")
      :gsub("%f[%w]False%f[^%w]", "false"):gsub("%f[%w]None%f[^%w]", "nil"):gsub("%[", "{ "):gsub("%]", " }")
    return string.format("hint: Lua passes fields in a table, with braces: %s{ %s }", name, inner)
  end
  if msg:find("near '['", 1, true) or msg:find("unexpected symbol near '%['") then
    return "hint: Lua writes a list with braces: { \"q_proj\", \"v_proj\" }"
  end
  if chunk:find("!=", 1, true) then return "hint: Lua writes 'not equal' as ~=" end
  if chunk:find("^%s*#") then return "hint: a Lua comment starts with --" end
  return nil
end

-- In the REPL, reading True, False or None (undefined in Lua, so silently nil) is an
-- error naming Lua's spelling: LoraConfig{ use_dora = True } would otherwise set nothing.
local function python_names()
  local mt = getmetatable(_G)
  if mt == nil then
    mt = {}
    setmetatable(_G, mt)
  end
  local previous = mt.__index
  mt.__index = function(t, k)
    local lua_word = PYTHON_NAMES[k]
    if lua_word then
      error(string.format("NameError: %s is Python's; Lua writes %s", k, lua_word), 2)
    end
    if type(previous) == "function" then return previous(t, k) end
    if type(previous) == "table" then return previous[k] end
    return nil
  end
end

--- script_hint(message) -> the message, with a hint when a script reads a global the
-- REPL defines (PeftType, LoraConfig, help) but scripts do not; called by the
-- executable's error handler
function M.script_hint(msg)
  if type(msg) ~= "string" then return msg end
  local name = msg:match("%(global '([%a_][%w_]*)'%)")
  if not name or rawget(_G, name) ~= nil then return msg end
  local where
  if name == "PeftType" or name == "TaskType" or config.classes[name] then
    where = "peft." .. name
  elseif name == "help" then
    where = "require('peft.repl').help"
  else
    return msg
  end
  return msg .. string.format(" (%s is a global of the REPL, peft -i; in a script or -e it is %s)", name, where)
end

-- In the REPL, Class.field is the field's descriptor (LoraConfig.r: its type, default
-- and help, what help(LoraConfig.r) shows); class attributes keep their meaning
-- (LoraConfig.peft_type is "LORA").
local function class_fields()
  local class_mt = require("peft.config.class").class_mt
  local previous = class_mt.__index
  class_mt.__index = function(cls, k)
    local v = previous(cls, k)
    if v == nil and type(k) == "string" and k ~= "fields" and k ~= "field_map" then
      local fields = cls.fields
      local fm = fields and rawget(cls, "field_map")
      if fm and fm[k] then return fm[k] end
    end
    return v
  end
end

--- setup(): the REPL's globals. Returns the module.
function M.setup()
  document_api()
  python_names()
  class_fields()
  _G.peft = peft
  _G.PeftType = peft.PeftType
  _G.TaskType = peft.TaskType
  _G.help = M.help
  for _, name in ipairs(config.order) do
    if _G[name] == nil then _G[name] = config.classes[name] end
  end
  return M
end

return M
