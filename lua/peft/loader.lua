-- peft.loader: reading adapter configs the way PEFT does, with clearer
-- errors and without losing anything.
--
--   PeftConfig.from_pretrained(path [, opts])  directory or the file itself
--   PeftConfig.from_json(text [, opts])         text of an adapter_config.json
--   PeftConfig.from_peft_type(tbl [, opts])     a decoded table
--   peft.get_peft_config(tbl [, opts])          same as from_peft_type
-- opts.strict: unknown keys are an error instead of a warning.
-- opts.quiet:  warnings are recorded on the config (cfg:warnings()) only.
-- opts.lenient: the checks PEFT added in a later release than the file may
--              come from (AdaLoRA's total_step, ...) warn instead of failing.
-- opts.max_bytes: the largest text read or decoded (config.MAX_CONFIG_BYTES
--              unless given), for a file and a string alike.
-- opts.path:   (from_json) the file the text came from, named in messages.
-- A third argument, `how`, is for peft's own callers (the class-bound
-- loaders, get_peft_config, the CLI): how.cls (the class the loader was called
-- on: another method's file is refused), how.called_on, how.mode ("peft_type":
-- from_peft_type's rules, "get_peft_config": PEFT's function's), how.is_file
-- (the path is known to be a regular file).
--
-- Errors are values (see peft.errors) with kind FileNotFoundError,
-- JSONDecodeError, ValueError or TypeError, a message that starts with the
-- path when there is one, and fields path / field.
local core = require "peft.core"
local errors = require "peft.errors"
local config = require "peft.config"
local types = require "peft.types"
local class = require "peft.config.class"
local registry = require "peft.registry"

local M = {}

local null = core.null

local function peft_types()
  return core.types()
end

local function fail(opts, kind, message, extra)
  extra = extra or {}
  extra.path = extra.path or opts.path
  local prefix = opts.path and (opts.path .. ": ") or ""
  error(errors.new(kind, prefix .. message, extra), 0)
end

local function warn(opts, list, message)
  list[#list + 1] = message
  if not opts.quiet then errors.warn((opts.path and (opts.path .. ": ") or "") .. message) end
end

-- Recognises files that share the name but are not PEFT adapter configs: other
-- libraries' adapter configs first (AdapterHub's names a model_type too), then a
-- transformers model's config.json.
local function foreign_format(tbl)
  local inner = tbl.config
  if type(inner) == "table" and (tbl.model_class ~= nil or tbl.model_name ~= nil
      or inner.architecture ~= nil or inner.reduction_factor ~= nil) then
    return "this is an AdapterHub adapter config (written by the adapters library, formerly adapter-transformers:"
      .. " 'config', 'model_class', 'model_name'), not a PEFT one: it has no peft_type, and PEFT cannot load it"
  end
  if tbl.lora_parameters ~= nil or tbl.fine_tune_type ~= nil then
    return "this is an mlx-lm adapter config (written by mlx_lm.lora for Apple's MLX: 'lora_parameters',"
      .. " 'fine_tune_type'), not a PEFT one: it has no peft_type, and PEFT cannot load it"
  end
  if tbl.model_type ~= nil or tbl.architectures ~= nil then
    local mt = type(tbl.model_type) == "string" and (" (model_type '" .. tbl.model_type .. "')") or ""
    return "this is a transformers model config" .. mt .. ", not an adapter config (it has no peft_type); "
      .. "the adapter's own file is adapter_config.json beside the adapter weights"
  end
  return nil
end

-- where the valid peft_type values are listed (instead of all of them on one line)
local function types_pointer()
  local n = core.method_count()
  return string.format("a PeftType member such as LORA or IA3 ('peft types' or peft.PeftType lists the %d"
    .. " registered ones)", n)
end

-- the "(did you mean ...)" of a peft_type that is not a member, kept while the members
-- stay the same (the same unknown types come back file after file)
local type_hints, type_hints_key = {}, nil
local function unknown_type_hint(pt)
  local key = registry.generation .. ":" .. core.type_count()
  if key ~= type_hints_key then type_hints, type_hints_key = {}, key end
  local hint = type_hints[pt]
  if not hint then
    hint = config.suggest(pt, peft_types())
    if hint == "" then
      hint = " (not a PeftType member: a method from a newer or unmerged PEFT? an extension can add it"
        .. " with peft.add_peft_type and register_peft_method)"
    end
    type_hints[pt] = hint
  end
  return hint
end

-- peft_type -> class, for the types found so far (a registration adds, only a
-- roll-back takes away: kept while registry.generation stays)
local found, found_generation = {}, nil

--- Picks the class for a decoded config table. Returns cls, peft_type.
local function class_for(tbl, opts, warnings)
  local pt = tbl.peft_type
  if found_generation ~= registry.generation then
    found, found_generation = {}, registry.generation
  elseif found[pt] then
    return found[pt], pt
  end
  if pt == nil then
    local foreign = foreign_format(tbl)
    if foreign then fail(opts, "ValueError", foreign, { field = "peft_type" }) end
    fail(opts, "ValueError", "missing 'peft_type': an adapter config must name its method, " .. types_pointer(),
      { field = "peft_type" })
  end
  if pt == null then
    fail(opts, "ValueError", "'peft_type' is null; it must name the method, " .. types_pointer(),
      { field = "peft_type" })
  end
  if type(pt) ~= "string" then
    fail(opts, "ValueError", "'peft_type' must be a string, got " .. types.repr(pt), { field = "peft_type" })
  end
  if not core.type_index(pt) then
    local up = pt:upper()
    if up == "NONE" or up == "NULL" or pt == "" then
      fail(opts, "ValueError", string.format("'peft_type' is the string %s; it must name the method, %s",
        types.repr(pt), types_pointer()), { field = "peft_type" })
    end
    if core.type_index(up) then
      fail(opts, "ValueError", string.format(
        "'peft_type' is %s but PeftType members are upper-case: did you mean '%s'?", types.repr(pt), up),
        { field = "peft_type" })
    end
    local newer = config.newer_than_runtime(tbl.peft_version)
    if newer then
      fail(opts, "ValueError", "unknown 'peft_type' " .. types.repr(pt) .. ": " .. newer
        .. " (a method added after it; an extension can add it with peft.add_peft_type and register_peft_method)",
        { field = "peft_type" })
    end
    local hint = unknown_type_hint(pt)
    fail(opts, "ValueError", "unknown 'peft_type' " .. types.repr(pt) .. hint, { field = "peft_type" })
  end
  local cls = core.mapping_get("config", pt)
  if not cls then
    fail(opts, "ValueError", "PeftType " .. pt .. " has no registered method (an extension adds one with"
      .. " register_peft_method; 'peft types' lists those registered)", { field = "peft_type" })
  end
  found[pt] = cls
  return cls, pt
end

-- What the loader keeps of a class: its check_kwargs (looked up along the
-- class chain) and the names of the fields a file may not set (PEFT's
-- runtime_config); made again when a class changes (class.generation).
local plans = setmetatable({}, { __mode = "k" })
local function plan_of(cls)
  local plan = plans[cls]
  if plan and plan.generation == class.generation then return plan end
  local skip = {}
  for _, f in ipairs(cls.fields) do
    if f.to_dict == false then skip[#skip + 1] = f.name end
  end
  plan = { generation = class.generation, check_kwargs = cls.check_kwargs, skip = skip }
  plans[cls] = plan
  return plan
end

-- Errors raised while the constructor runs get the path from from_dict's
-- handler; the others (at_top) get it here.
local function raise(opts, at_top, kind, message, extra)
  if at_top then fail(opts, kind, message, extra) end
  error(errors.new(kind, message, extra), 0)
end

local function check_key(k, opts, at_top)
  if type(k) ~= "string" then
    raise(opts, at_top, "ValueError", "an adapter config must be a JSON object with string keys, got a key "
      .. types.repr(k))
  end
end

local UNKNOWN_SUGGESTED, UNKNOWN_LISTED = 5, 20

-- the "(did you mean ...)" of a key a class does not know, kept per class (the same
-- unknown keys come back file after file), for up to HINTS_KEPT keys a class
local HINTS, HINTS_KEPT = setmetatable({}, { __mode = "k" }), 256
local function unknown_hint(cls, key)
  local kept = HINTS[cls]
  if not kept then
    kept = { hints = {}, n = 0 }
    HINTS[cls] = kept
  end
  local hint = kept.hints[key]
  if not hint then
    local fs = {}
    for j, f in ipairs(cls.fields) do fs[j] = f.name end
    hint = config.suggest(key, fs)
    if kept.n < HINTS_KEPT then
      kept.hints[key] = hint
      kept.n = kept.n + 1
    end
  end
  return hint
end

-- Warns about (or, strict, fails on) the keys a class does not know (all
-- strings, checked by the caller).
local function report_unknown(cls, unknown, opts, warnings, at_top, how, newer)
  if #unknown == 0 then return end
  table.sort(unknown)
  if how.mode == "get_peft_config" then
    -- PEFT's get_peft_config calls the class with the dict: an unknown key is a TypeError
    raise(opts, at_top, "TypeError", string.format("%s got an unexpected keyword argument '%s'%s", cls.name,
      unknown[1], #unknown > 1 and string.format(" (and %d more)", #unknown - 1) or ""), { unknown = unknown })
  end
  -- the report stays linear in the number of keys: a suggestion (an edit
  -- distance to every field) for the first few, names for the first twenty
  local names = {}
  -- keys from a newer PEFT are not typos: no "did you mean", the version instead
  for i = 1, math.min(#unknown, UNKNOWN_LISTED) do
    local k = unknown[i]
    names[i] = "'" .. k .. "'" .. ((i <= UNKNOWN_SUGGESTED and not newer) and unknown_hint(cls, k) or "")
  end
  if #unknown > UNKNOWN_LISTED then names[#names + 1] = string.format("(and %d more)", #unknown - UNKNOWN_LISTED) end
  local msg = string.format("%d key%s unknown to %s: %s", #unknown, #unknown == 1 and "" or "s",
    cls.name, table.concat(names, ", "))
  if newer then msg = msg .. " (" .. newer .. ")" end
  if opts.strict then raise(opts, at_top, "ValueError", msg .. " (strict mode)", { unknown = unknown }) end
  warn(opts, warnings, msg .. "; kept as they are and written back on save")
end

-- The constructor's keep_unknown for a file's table (new_opts: what from_table
-- hands the constructor): the keys that are not fields are kept, and reported.
local function keep_unknown(unknown, new_opts)
  local opts, tbl, extra = new_opts.load_opts, new_opts.tbl, {}
  new_opts.extra = extra
  for _, k in ipairs(unknown) do
    check_key(k, opts, false)
    extra[k] = tbl[k]
  end
  report_unknown(new_opts.cls, unknown, opts, new_opts.warnings, false, new_opts.how,
    config.newer_than_runtime(tbl.peft_version))
end

-- from_table(tbl, opts, how [, nkeys [, owned]]): from_dict, and nkeys (from the
-- JSON decoder) is how many keys tbl holds, when known; owned: tbl was just
-- decoded and nobody else holds it (the constructor may make it the object's
-- values table)
local function from_table(tbl, opts, how, nkeys, owned)
  if type(tbl) ~= "table" or getmetatable(tbl) == core.json_array_mt then
    fail(opts, "ValueError", "an adapter config must be a JSON object, got " .. types.kind(tbl))
  end
  local warnings = {}
  if tbl.runtime_config ~= nil then
    warn(opts, warnings, "the file contains 'runtime_config', which is ignored: runtime settings are only valid at runtime")
  end
  local cls
  if tbl.peft_type == nil and how.mode == "peft_type" and how.called_on then
    -- from_peft_type without a peft_type builds the class it is called on, as PEFT's does
    cls = how.called_on
  elseif tbl.peft_type == nil and how.mode == "get_peft_config" then
    fail(opts, "KeyError", "get_peft_config needs a 'peft_type' key to pick the config class", { field = "peft_type" })
  else
    cls = class_for(tbl, opts, warnings)
  end
  if how.cls and how.cls ~= cls and not cls:is_subclass_of(how.cls) then
    fail(opts, "ValueError", string.format("peft_type %s is a %s, not a %s", tostring(tbl.peft_type),
      cls.name, how.cls.name), { field = "peft_type" })
  end
  -- PEFT runs a class's check_kwargs (OFT's refusal of files older than 0.14)
  -- only when it loads a file, not in from_peft_type
  local plan = plan_of(cls)
  local check_kwargs = how.mode == nil and plan.check_kwargs or nil
  local skip = plan.skip
  local plain = type(check_kwargs) ~= "function" and tbl.runtime_config == nil
  for i = 1, #skip do
    if tbl[skip[i]] ~= nil then plain = false end
  end
  local args, new_opts
  if plain then
    -- the common case: the table goes to the constructor as it is, which
    -- hands back the keys that are not fields (kept, and written on save:
    -- see keep_unknown, which reads the rest of new_opts)
    args = tbl
    new_opts = { extra = nil, quiet = opts.quiet, loading = true, nkeys = nkeys, lenient = opts.lenient,
                 adopt = owned, keep_unknown = keep_unknown, load_opts = opts, tbl = tbl, cls = cls,
                 warnings = warnings, how = how }
  else
    -- one pass: the fields the file may set, and the keys the class does
    -- not know (kept); runtime-only fields are left out
    local map = cls.field_map
    local known, extra, unknown = {}, {}, {}
    for k, v in pairs(tbl) do
      check_key(k, opts, true)
      if k ~= "runtime_config" then
        local f = map[k]
        if f and f.to_dict ~= false then
          known[k] = v
        else
          extra[k] = v
          unknown[#unknown + 1] = k
        end
      end
    end
    -- a class may look at the raw table first, as PEFT's check_kwargs does
    -- (OFT refuses configs older than 0.14)
    if type(check_kwargs) == "function" then
      local ok, res = pcall(check_kwargs, known, opts)
      if not ok then
        if errors.is_error(res) and opts.path and res.message:sub(1, #opts.path) ~= opts.path then
          res.message = opts.path .. ": " .. res.message
          res.path = opts.path
        end
        error(res, 0)
      end
      for _, w in ipairs(res or {}) do warn(opts, warnings, w) end
    end
    report_unknown(cls, unknown, opts, warnings, true, how, config.newer_than_runtime(tbl.peft_version))
    args = known
    new_opts = { extra = extra, quiet = opts.quiet, loading = true, checked = true, lenient = opts.lenient }
  end
  local ok, res = pcall(config.construct, cls, args, new_opts)
  if not ok then
    if errors.is_error(res) then
      if opts.path then
        res.message = opts.path .. ": " .. res.message
        res.path = opts.path
      end
      error(res, 0)
    end
    error(res, 0)
  end
  local st = rawget(res, config.STATE)
  if #warnings > 0 then
    -- the loader's warnings come first
    for _, w in ipairs(st.warnings) do warnings[#warnings + 1] = w end
    st.warnings = warnings
  end
  st.source = opts.path
  return res
end

--- from_peft_type(tbl [, opts]) -> config (how: see above; nkeys: how many keys tbl holds, when the
-- caller knows, as core.json_decode tells)
function M.from_dict(tbl, opts, how, nkeys)
  return from_table(tbl, opts or {}, how or {}, nkeys)
end

-- the slots the decoded object is made with besides its members: the
-- defaults the constructor puts in it (a file names most fields of its class)
local ROOM = 32

--- from_json(text [, opts]) -> config
function M.from_json(text, opts, how)
  opts = opts or {}
  if type(text) ~= "string" then
    fail(opts, "TypeError", "from_json expects a string, got " .. types.kind(text))
  end
  local limit = opts.max_bytes or config.MAX_CONFIG_BYTES
  if #text > limit then
    fail(opts, "ValueError", string.format("the config has %d bytes, more than the limit of %d", #text, limit))
  end
  local value, nkeys, line, col = core.json_decode_counted(text, ROOM)
  if value == nil then
    -- (an empty text is told apart only once the decoder has refused it)
    if text:match("^%s*$") then
      fail(opts, "JSONDecodeError", "the file is empty" .. (#text > 0 and " (only white space)" or ""))
    end
    local msg = nkeys
    local truncated = msg:find("end of the input", 1, true) or msg:find("unterminated", 1, true)
    fail(opts, "JSONDecodeError", "invalid JSON at " .. msg .. (truncated and " (is the file truncated?)" or ""),
      { line = line, column = col })
  end
  return from_table(value, opts, how or {}, nkeys, true)
end

--- Resolves a path to the adapter_config.json it names.
function M.config_path(path)
  local kind = core.stat(path)
  if not kind then
    error(errors.new("FileNotFoundError", path .. ": no such file or directory", { path = path }), 0)
  end
  if kind == "directory" then
    local file = path:gsub("/+$", "") .. "/" .. config.CONFIG_NAME
    if path == "/" then file = "/" .. config.CONFIG_NAME end
    -- something else of that name (a FIFO, a directory) is refused when read
    if not core.lstat(file) then
      error(errors.new("FileNotFoundError", path .. ": the directory has no " .. config.CONFIG_NAME,
        { path = path }), 0)
    end
    return file
  end
  return path
end

--- from_pretrained(path [, opts]) -> config
function M.from_pretrained(path, opts, how)
  opts = opts or {}
  how = how or {}
  if type(path) ~= "string" then
    errors.raise("TypeError", "from_pretrained expects a path, got " .. types.kind(path))
  end
  -- how.is_file: the caller knows path is a regular file (spares a stat)
  local file = how.is_file and path or M.config_path(path)
  local text, err = core.read_file(file, opts.max_bytes or config.MAX_CONFIG_BYTES)
  if not text then
    error(errors.new("OSError", err, { path = file }), 0)
  end
  return M.from_json(text, { strict = opts.strict, quiet = opts.quiet, path = file, max_bytes = opts.max_bytes,
                             lenient = opts.lenient }, how)
end

return M
