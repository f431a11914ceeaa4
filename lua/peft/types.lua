-- peft.types: field types written as PEFT's own annotations.
--
-- A config field declares its type with the annotation PEFT uses, for example
--   "int", "Optional[Union[list[str], str]]", "Literal['none', 'all']",
--   "bool | Literal['gaussian', 'pissa_niter_[number of iters]']",
--   "Optional[EvaConfig]", "Union[str, TaskType]".
-- parse() turns it into a small tree; check() tests a Lua value against the
-- tree and normalises it (arrays get the JSON array metatable, nested config
-- tables become config objects); describe() says in words what is expected.
--
-- Values: None is nil or the JSON null (core.null); lists are Lua arrays;
-- dicts are tables with string keys; int is a Lua integer, float any number.
local core = require "peft.core"

local M = {}

local null = core.null
local array_mt = core.json_array_mt

M.null = null

function M.is_none(v) return v == nil or v == null end

-- parsing ---------------------------------------------------------------

local function tokenize(s)
  local toks, i = {}, 1
  while i <= #s do
    local c = s:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif c:match("[%[%],|]") then
      toks[#toks + 1] = { t = c }
      i = i + 1
    elseif c == "'" or c == '"' then
      local j = s:find(c, i + 1, true)
      if not j then error("unterminated string in type annotation: " .. s, 0) end
      toks[#toks + 1] = { t = "str", v = s:sub(i + 1, j - 1) }
      i = j + 1
    else
      local w = s:match("^[%w_%.%-]+", i)
      if not w then error("unexpected '" .. c .. "' in type annotation: " .. s, 0) end
      toks[#toks + 1] = { t = "name", v = w }
      i = i + #w
    end
  end
  return toks
end

local SIMPLE = { int = true, float = true, str = true, bool = true, dict = true, list = true,
                 set = true, tuple = true, Any = true, object = true }

local function parse(s)
  local toks, pos = tokenize(s), 1
  local function peek() return toks[pos] end
  local function take(t)
    local tok = toks[pos]
    if not tok or (t and tok.t ~= t) then
      error(string.format("bad type annotation '%s' (expected %s at token %d)", s, t or "more", pos), 0)
    end
    pos = pos + 1
    return tok
  end
  local union
  local function literal_value()
    local tok = take()
    if tok.t == "str" then return tok.v end
    if tok.t == "name" then
      if tok.v == "True" then return true end
      if tok.v == "False" then return false end
      if tok.v == "None" then return null end
      local n = tonumber(tok.v)
      if n then return n end
    end
    error("bad Literal value in type annotation '" .. s .. "'", 0)
  end
  local function args(fn)
    take("[")
    local list = { fn() }
    while peek() and peek().t == "," do
      take(",")
      list[#list + 1] = fn()
    end
    take("]")
    return list
  end
  local function primary()
    local tok = take("name")
    local name = tok.v
    local has_args = peek() and peek().t == "["
    if name == "None" then return { k = "none" } end
    if name == "Optional" then
      local a = args(union)
      return { k = "union", alts = { a[1], { k = "none" } } }
    elseif name == "Union" then
      return { k = "union", alts = args(union) }
    elseif name == "Literal" then
      return { k = "literal", values = args(literal_value) }
    elseif name == "list" or name == "set" or name == "List" or name == "Set" then
      if not has_args then return { k = "list", of = { k = "any" }, set = name:lower() == "set" } end
      return { k = "list", of = args(union)[1], set = name:lower() == "set" }
    elseif name == "tuple" or name == "Tuple" then
      if not has_args then return { k = "list", of = { k = "any" } } end
      return { k = "tuple", items = args(union) }
    elseif name == "dict" or name == "Dict" then
      if not has_args then return { k = "dict", val = { k = "any" } } end
      local a = args(union)
      return { k = "dict", key = a[1], val = a[2] or { k = "any" } }
    elseif SIMPLE[name] then
      if name == "Any" or name == "object" then return { k = "any" } end
      return { k = name }
    else
      -- an enum (TaskType, PeftType, PromptTuningInit...) or a nested config
      -- class (EvaConfig...), resolved by name when a value is checked
      return { k = "named", name = name }
    end
  end
  function union()
    local alts = { primary() }
    while peek() and peek().t == "|" do
      take("|")
      alts[#alts + 1] = primary()
    end
    if #alts == 1 then return alts[1] end
    return { k = "union", alts = alts }
  end
  local node = union()
  if pos <= #toks then error("trailing tokens in type annotation '" .. s .. "'", 0) end
  -- flatten nested unions
  local function flatten(n)
    if n.k == "union" then
      local out = {}
      for _, a in ipairs(n.alts) do
        a = flatten(a)
        if a.k == "union" then
          for _, b in ipairs(a.alts) do out[#out + 1] = b end
        else
          out[#out + 1] = a
        end
      end
      n.alts = out
    elseif n.k == "list" then
      n.of = flatten(n.of)
    elseif n.k == "dict" then
      n.val = flatten(n.val)
    end
    return n
  end
  return flatten(node)
end

local cache = {}

--- parse(annotation) -> node (cached); raises on a malformed annotation.
function M.parse(annotation)
  local n = cache[annotation]
  if not n then
    n = parse(annotation)
    cache[annotation] = n
  end
  return n
end

-- describing ------------------------------------------------------------

local describe

local function lit(v)
  if v == null then return "null" end
  if type(v) == "string" then return "'" .. v .. "'" end
  return tostring(v)
end

function describe(n, plural)
  local k = n.k
  if k == "int" then return plural and "integers" or "an integer" end
  if k == "float" then return plural and "numbers" or "a number" end
  if k == "str" then return plural and "strings" or "a string" end
  if k == "bool" then return plural and "booleans" or "a boolean" end
  if k == "none" then return "null" end
  if k == "any" then return plural and "values" or "any value" end
  if k == "list" then return (plural and "lists of " or "a list of ") .. describe(n.of, true) end
  if k == "tuple" then
    local parts = {}
    for i, it in ipairs(n.items) do parts[i] = describe(it) end
    return (plural and "lists of " or "a list of ") .. #n.items .. " (" .. table.concat(parts, ", ") .. ")"
  end
  if k == "dict" then
    if n.val.k == "any" then return plural and "objects" or "an object" end
    return (plural and "objects" or "an object") .. " whose values are " .. describe(n.val, true)
  end
  if k == "literal" then
    local parts = {}
    for i, v in ipairs(n.values) do parts[i] = lit(v) end
    if #parts == 1 then return parts[1] end
    return "one of " .. table.concat(parts, ", ")
  end
  if k == "named" then return (plural and "" or "a ") .. n.name end
  if k == "union" then
    local parts = {}
    for i, a in ipairs(n.alts) do parts[i] = describe(a, plural) end
    if #parts == 2 then return parts[1] .. " or " .. parts[2] end
    return table.concat(parts, ", ", 1, #parts - 1) .. " or " .. parts[#parts]
  end
  return "?"
end

local described = setmetatable({}, { __mode = "k" }) -- node -> its text (parsed nodes are shared)
M.describe = function(n)
  local d = described[n]
  if not d then
    d = describe(n)
    described[n] = d
  end
  return d
end

--- The values a Literal (possibly inside Optional/Union) allows, or nil.
function M.choices(n)
  if n.k == "literal" then return n.values end
  if n.k == "union" then
    local out
    for _, a in ipairs(n.alts) do
      if a.k == "literal" then
        out = out or {}
        for _, v in ipairs(a.values) do out[#out + 1] = v end
      end
    end
    return out
  end
  return nil
end

--- Whether None is accepted by the type.
function M.allows_none(n)
  if n.k == "none" or n.k == "any" then return true end
  if n.k == "union" then
    for _, a in ipairs(n.alts) do
      if a.k == "none" or a.k == "any" then return true end
    end
  end
  if n.k == "literal" then
    for _, v in ipairs(n.values) do if v == null then return true end end
  end
  return false
end

-- values ----------------------------------------------------------------

local function is_array(t)
  if getmetatable(t) == array_mt then return true end
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n == #t
end

local function is_object(t)
  if getmetatable(t) == array_mt then return next(t) == nil end
  for k in pairs(t) do
    if type(k) ~= "string" then return false end
  end
  return true
end

M.is_array = is_array
M.is_object = is_object

--- A short printable form of a value for error messages, JSON-like.
function M.repr(v)
  if v == nil or v == null then return "null" end
  local t = type(v)
  if t == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  if t == "number" then
    if math.type(v) == "float" then
      local ok, s = pcall(core.json_encode, v)
      return ok and s or tostring(v)
    end
    return tostring(v)
  end
  if t == "boolean" then return tostring(v) end
  if t == "table" then
    local mt = getmetatable(v)
    if mt and mt.__peft_instance then return tostring(v) end
    local ok, s = pcall(core.json_encode, v)
    if ok then
      if #s > 80 then s = s:sub(1, 77) .. "..." end
      return s
    end
    return "a table"
  end
  return "a " .. t
end

--- The JSON kind of a value, for messages: "a string", "an integer", ...
function M.kind(v)
  if v == nil or v == null then return "null" end
  local t = type(v)
  if t == "number" then return math.type(v) == "integer" and "an integer" or "a float" end
  if t == "table" then
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__peft_instance then return "a " .. tostring(mt.__name) end
    if next(v) == nil then return "an empty table" end
    return is_array(v) and "a list" or "an object"
  end
  if t == "string" then return "a string" end
  if t == "boolean" then return "a boolean" end
  return "a " .. t
end

-- A Literal value with a "[...]" placeholder (PEFT's
-- 'pissa_niter_[number of iters]') accepts that prefix followed by digits.
local function literal_match(allowed, v)
  if allowed == v then return true end
  if type(allowed) == "string" and type(v) == "string" then
    local prefix = allowed:match("^(.-)%[[^%]]*%]$")
    if prefix and prefix ~= "" and v:sub(1, #prefix) == prefix and v:sub(#prefix + 1):match("^%d+$") then
      return true
    end
  end
  return false
end

--- check(node, value, resolve) -> ok, normalised value | ok=false, reason
-- resolve(name) returns a resolver for named types:
--   { check = function(value) -> ok, normalised | false, reason, describe = "..." }
-- Each node is compiled once into a checker closure (node.fn). A value that
-- needs no change is returned as it is (a decoded JSON list or object is
-- not copied); a Lua table without the JSON array metatable is copied into
-- one that has it.
local compile

local function compile_list(n, kind)
  local item_fn = kind == "list" and compile(n.of) or nil
  local items = kind == "tuple" and n.items or nil
  local item_fns
  if items then
    item_fns = {}
    for i, it in ipairs(items) do item_fns[i] = compile(it) end
  end
  return function(v, resolve)
    if type(v) ~= "table" then return false end
    local mt = getmetatable(v)
    if mt ~= nil and mt ~= array_mt then return false end
    if mt == nil and not is_array(v) then return false end
    local len = #v
    if items and len ~= #items then
      return false, string.format("expected %d items, got %d", #items, len)
    end
    local out = mt == nil and setmetatable({}, array_mt) or nil
    for i = 1, len do
      local x = v[i]
      local ok, nx = (item_fn or item_fns[i])(x, resolve)
      if not ok then
        return false, string.format("item %d is %s, expected %s", i, M.kind(x),
          describe(items and items[i] or n.of))
      end
      if nx == nil then nx = null end
      if nx ~= x and not out then
        out = setmetatable({}, array_mt)
        for j = 1, i - 1 do out[j] = v[j] end
      end
      if out then out[i] = nx end
    end
    return true, out or v
  end
end

local function compile_dict(n)
  local key_fn = n.key and n.key.k ~= "any" and compile(n.key) or nil
  local val_any = n.val.k == "any"
  local val_fn = compile(n.val)
  return function(v, resolve)
    if type(v) ~= "table" then return false end
    local mt = getmetatable(v)
    if mt ~= nil and mt ~= array_mt then return false end
    if not is_object(v) then return false end
    if val_any and not key_fn then return true, v end
    local out
    for key, item in pairs(v) do
      if key_fn and not key_fn(key, resolve) then
        return false, "key " .. M.repr(key) .. " is not " .. describe(n.key)
      end
      local ok, nv = val_fn(item, resolve)
      if not ok then
        return false, string.format("value of %s is %s, expected %s", M.repr(key), M.kind(item), describe(n.val))
      end
      if nv == nil then nv = null end
      if nv ~= item and not out then
        out = {}
        for k2, x2 in pairs(v) do out[k2] = x2 end
      end
      if out then out[key] = nv end
    end
    return true, out or v
  end
end

function compile(n)
  if n.fn then return n.fn end
  local k = n.k
  local fn
  if k == "any" then
    fn = function(v) return true, v end
  elseif k == "none" then
    fn = function(v)
      if v == nil or v == null then return true, nil end
      return false
    end
  elseif k == "int" then
    fn = function(v)
      if math.type(v) == "integer" then return true, v end
      return false
    end
  elseif k == "float" then
    fn = function(v)
      if type(v) == "number" then return true, v end
      return false
    end
  elseif k == "str" then
    fn = function(v)
      if type(v) == "string" then return true, v end
      return false
    end
  elseif k == "bool" then
    fn = function(v)
      if type(v) == "boolean" then return true, v end
      return false
    end
  elseif k == "literal" then
    local set, patterned = {}, {}
    for _, a in ipairs(n.values) do
      if a ~= null then set[a] = true end
      if type(a) == "string" and a:find("[", 1, true) then patterned[#patterned + 1] = a end
    end
    fn = function(v)
      if v == nil then return false end
      if set[v] then return true, v end
      for _, a in ipairs(patterned) do
        if literal_match(a, v) then return true, v end
      end
      return false
    end
  elseif k == "list" or k == "tuple" then
    fn = compile_list(n, k)
  elseif k == "dict" then
    fn = compile_dict(n)
  elseif k == "named" then
    local name = n.name
    fn = function(v, resolve)
      if v == nil or v == null then return false end
      local r = resolve and resolve(name)
      if not r then return true, v end -- unknown name: accept (documented)
      return r.check(v)
    end
  elseif k == "union" then
    local fns = {}
    for i, a in ipairs(n.alts) do fns[i] = compile(a) end
    fn = function(v, resolve)
      local first_reason
      for _, f in ipairs(fns) do
        local ok, nv = f(v, resolve)
        if ok then return true, nv end
        if nv and not first_reason then first_reason = nv end
      end
      return false, first_reason
    end
  else
    fn = function() return false end
  end
  -- non-null checks: None only where the type says so
  if k ~= "none" and k ~= "any" and k ~= "union" and k ~= "literal" then
    local inner = fn
    fn = function(v, resolve)
      if v == nil or v == null then return false end
      return inner(v, resolve)
    end
  end
  n.fn = fn
  return fn
end

--- accepted_as_is(node [, set]) -> bits, literals: what check() passes
-- through unchanged, in the FILL_* bits of src/lpeft_config.h (0 when the
-- type is not simple enough to say), and the strings of its Literals. set:
-- the field keeps lists as sets (the field pass sorts one that is not, and drops repeats).
-- Null is left to allows_none.
local FILL = require("peft.core").FILL -- the codes of src/lpeft_config.h
M.FILL = FILL

function M.accepted_as_is(n, set)
  local alts = n.k == "union" and n.alts or { n }
  local bits, literals, table_alts = 0, nil, 0
  for _, a in ipairs(alts) do
    local k = a.k
    if k == "str" then
      bits = bits | FILL.STR
    elseif k == "int" then
      bits = bits | FILL.INT
    elseif k == "float" then
      bits = bits | FILL.NUMBER
    elseif k == "bool" then
      bits = bits | FILL.BOOL
    elseif k == "literal" then
      for _, v in ipairs(a.values) do
        -- a "[...]" placeholder stands for many strings: those go to check()
        if type(v) == "string" and not v:find("[", 1, true) then
          literals = literals or {}
          literals[v] = true
          bits = bits | FILL.LITERAL
        end
      end
    elseif k == "list" then
      table_alts = table_alts + 1
      if a.of.k == "str" then bits = bits | FILL.STR_LIST | (set and FILL.SORTED or 0) end
    elseif k == "dict" then
      table_alts = table_alts + 1
      if a.val.k == "any" and (a.key == nil or a.key.k == "any" or a.key.k == "str") then
        bits = bits | FILL.DICT
      end
    elseif k == "tuple" or k == "named" then
      -- a named type is an enum (strings, checked against its members) or
      -- a nested config (a table)
      table_alts = table_alts + 1
    elseif k ~= "none" then
      return 0, nil -- any: left to check()
    end
  end
  -- with two kinds of table in the union, which one a table is depends on
  -- the order of the alternatives: left to check()
  if table_alts > 1 then bits = bits & ~(FILL.STR_LIST | FILL.SORTED | FILL.DICT) end
  return bits, literals
end

local function check(n, v, resolve)
  return (n.fn or compile(n))(v, resolve)
end

M.check = check
M.compile = compile

return M
