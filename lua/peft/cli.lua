-- peft.cli: the `peft COMMAND ...` command line.
--
-- Every command takes --json, prints errors to stderr, and returns the exit
-- status: 0 success, 1 when what it checked is invalid, 2 on a usage error.
-- Colour only on a terminal, never when NO_COLOR is set (or with --json).
local peft = require "peft"
local core = peft.core
local config = peft.config
local types = peft.types
local errors = peft.errors

local M = {}

local null = core.null
local array_mt = core.json_array_mt
local function arr(t) return setmetatable(t or {}, array_mt) end

-- output ----------------------------------------------------------------

local out = { stdout = io.stdout, stderr = io.stderr }
M.out = out

local function use_colour(fd)
  local nc = os.getenv("NO_COLOR")
  if nc ~= nil and nc ~= "" then return false end
  return core.isatty(fd)
end

local colours = { bold = "1", dim = "2", red = "31", green = "32", yellow = "33", blue = "34", cyan = "36" }
local paint_on = false

local function paint(name, s)
  if not paint_on then return s end
  return "\27[" .. colours[name] .. "m" .. s .. "\27[0m"
end
M.paint = paint

local function say(...)
  out.stdout:write(...)
  out.stdout:write("\n")
end

local function json_out(value)
  out.stdout:write(core.json_encode(value, 2), "\n")
end

-- commands --------------------------------------------------------------

local commands, order = {}, {}

local function command(spec)
  commands[spec.name] = spec
  order[#order + 1] = spec.name
end

local UsageError = {}

local function usage_error(fmt, ...)
  error(setmetatable({ message = string.format(fmt, ...) }, UsageError), 0)
end

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
local function resolve_class(name)
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

local function method_of(cls)
  if cls.peft_type then return peft.method(cls.peft_type) end
end

local function value_text(v)
  if v == nil or v == null then return "null" end
  if type(v) == "table" and config.is_config(v) then v = v:to_dict() end
  local ok, s = pcall(core.json_encode, v)
  return ok and s or tostring(v)
end

-- types -----------------------------------------------------------------

command {
  name = "types",
  summary = "list every PeftType member, its method, and the TaskType members",
  usage = "peft types [--json]",
  options = { json = "flag" },
  run = function(opts)
    local rows = arr()
    for _, t in ipairs(peft.PeftType) do
      local m = peft.method(t)
      local row = { name = t, registered = m ~= nil }
      if m then
        row.method = m.name
        row.prefix = m.prefix
        row.is_mixed_compatible = m.is_mixed_compatible
        row.config_class = m.config_cls and m.config_cls.name or null
        row.model_class = m.model_cls and m.model_cls.name or null
        row.shares_prefix_with = m.shares_prefix_with or null
      end
      rows[#rows + 1] = row
    end
    local tasks = arr()
    for i, t in ipairs(peft.TaskType) do tasks[i] = t end
    if opts.json then
      json_out { peft_types = rows, task_types = tasks }
      return 0
    end
    local w = { 4, 6, 6 }
    for _, r in ipairs(rows) do
      w[1] = math.max(w[1], #r.name)
      w[2] = math.max(w[2], #(r.method or "-"))
      w[3] = math.max(w[3], #(r.prefix or "-"))
    end
    local fmt = "%-" .. w[1] .. "s  %-" .. w[2] .. "s  %-" .. w[3] .. "s  %-5s  %-28s  %s"
    say(paint("bold", fmt:format("PeftType", "method", "prefix", "mixed", "config class", "model class")))
    for _, r in ipairs(rows) do
      if r.registered then
        local prefix = r.prefix .. (r.shares_prefix_with ~= null and "*" or "")
        say(fmt:format(r.name, r.method, prefix, r.is_mixed_compatible and "yes" or "no",
          r.config_class, r.model_class))
      else
        say(paint("dim", fmt:format(r.name, "-", "-", "-", "(not registered)", "")))
      end
    end
    say("* shares the prefix of an earlier method, by declaration")
    say("")
    say(paint("bold", "TaskType") .. ": " .. table.concat(tasks, ", "))
    return 0
  end,
}

-- show ------------------------------------------------------------------

-- A value as JSON sees it: nil as null, config objects as their dict.
local function plain(v)
  if v == nil then return null end
  if config.is_config(v) then return v:to_dict() end
  return v
end

local function field_json(f)
  return {
    name = f.name, type = f.type, default = plain(f.default),
    help = f.help, declared_in = f.declared_in, choices = f.choices and arr(f.choices) or null,
    set = f.set or false, written = f.to_dict ~= false,
  }
end

local function nested_classes(cls)
  local out_list, seen = {}, {}
  local function walk(c)
    for _, f in ipairs(c.fields) do
      if f.nested and not seen[f.nested] then
        seen[f.nested] = true
        out_list[#out_list + 1] = config.classes[f.nested]
        walk(config.classes[f.nested])
      end
    end
  end
  walk(cls)
  return out_list
end

local function show_fields_text(cls, indent, emit)
  local lineage = cls:lineage()
  for i = #lineage, 1, -1 do
    local c = lineage[i]
    local own = {}
    for _, f in ipairs(cls.fields) do
      if f.declared_in == c.name then own[#own + 1] = f end
    end
    if #own > 0 then
      emit(indent .. paint("bold", "from " .. c.name) .. ":")
      for _, f in ipairs(own) do
        local default = f.default == nil and "null" or value_text(f.default)
        emit(indent .. "  " .. paint("cyan", f.name) .. "  " .. paint("dim", f.type) .. " = " .. default)
        emit(indent .. "      " .. f.help)
        if f.choices then
          local c2 = {}
          for j, v in ipairs(f.choices) do c2[j] = type(v) == "string" and ("'" .. v .. "'") or value_text(v) end
          emit(indent .. "      allowed: " .. table.concat(c2, ", "))
        end
        if f.set then emit(indent .. "      (a list is kept as a set: deduplicated and sorted)") end
        if f.to_dict == false then emit(indent .. "      (runtime only: never written to adapter_config.json)") end
      end
    end
  end
end

--- describe_class(cls [, emit]) -> text: the class, its method, and every
-- field grouped by the class that declares it, then its nested configs.
function M.describe_class(cls, emit)
  local lines
  if not emit then
    lines = {}
    emit = function(l) lines[#lines + 1] = l end
  end
  local m = method_of(cls)
  local head = paint("bold", cls.name)
  if m then
    head = head .. string.format("  (PeftType %s, method '%s', prefix '%s'%s, model %s)", m.peft_type, m.name,
      m.prefix, m.is_mixed_compatible and ", mixed-compatible" or "", m.model_cls and m.model_cls.name or "-")
  end
  emit(head)
  if cls.doc ~= "" then emit(cls.doc) end
  emit("")
  show_fields_text(cls, "", emit)
  for _, n in ipairs(nested_classes(cls)) do
    emit("")
    emit(paint("bold", "nested " .. n.name) .. ": " .. n.doc)
    show_fields_text(n, "  ", emit)
  end
  if lines then return table.concat(lines, "\n") end
end

command {
  name = "show",
  summary = "every field of a method's config: type, default, allowed values, help",
  usage = "peft show METHOD [--json]   (METHOD: a method name, a PeftType member or a class name)",
  options = { json = "flag" },
  run = function(opts, args)
    if #args ~= 1 then usage_error("expects one METHOD") end
    local cls = resolve_class(args[1])
    local m = method_of(cls)
    if opts.json then
      local fields = arr()
      for i, f in ipairs(cls.fields) do fields[i] = field_json(f) end
      local nested = {}
      for _, n in ipairs(nested_classes(cls)) do
        local nf = arr()
        for i, f in ipairs(n.fields) do nf[i] = field_json(f) end
        nested[n.name] = { doc = n.doc, fields = nf }
      end
      local lineage = arr()
      for i, c in ipairs(cls:lineage()) do lineage[i] = c.name end
      json_out {
        class = cls.name, peft_type = cls.peft_type or null, method = m and m.name or null,
        prefix = m and m.prefix or null, is_mixed_compatible = m and m.is_mixed_compatible or null,
        model_class = m and m.model_cls and m.model_cls.name or null, doc = cls.doc, lineage = lineage,
        is_prompt_learning = cls.is_prompt_learning, is_adaption_prompt = cls.is_adaption_prompt,
        fields = fields, nested = nested,
      }
      return 0
    end
    M.describe_class(cls, say)
    return 0
  end,
}

-- loading helpers ---------------------------------------------------------

-- load(path, strict [, is_file]) -> { ok=, cfg=, warnings=, error= }
local function load(path, strict, is_file)
  local warnings, ok, res = peft.capture_warnings(peft.from_pretrained, path,
    { strict = strict, quiet = true, is_file = is_file })
  if ok then
    return { ok = true, cfg = res, warnings = res:warnings(), path = res:source() }
  end
  return { ok = false, error = res, warnings = warnings, path = path }
end

local function error_json(e)
  if errors.is_error(e) then
    return { kind = e.kind, message = e.message, field = e.field or null }
  end
  return { kind = "Error", message = errors.message(e), field = null }
end

local function strip_path(msg, path)
  if path and msg:sub(1, #path + 2) == path .. ": " then return msg:sub(#path + 3) end
  return msg
end

-- inspect -----------------------------------------------------------------

local function target_modules_meaning(v)
  if v == nil or v == null then
    return "not set: PEFT chooses the modules from the model architecture (and fails for unknown ones)"
  end
  if v == "all-linear" then
    return "'all-linear': every linear layer except the output layer"
  end
  if type(v) == "string" then
    return "a regular expression that must match the whole module name: " .. v
  end
  local names = {}
  for i, x in ipairs(v) do names[i] = tostring(x) end
  return string.format("%d name%s, each matching a module whose name is equal to it or ends with '.' plus it: %s",
    #names, #names == 1 and "" or "s", table.concat(names, ", "))
end

-- rank / alpha summary for the methods that have them
local function rank_info(cfg)
  local cls = cfg:get_class()
  local fm = cls.field_map
  local info = {}
  local rank_field = fm.r and "r" or (fm.rank and "rank") or nil
  if not rank_field then return nil end
  info.rank_field = rank_field
  info.rank = cfg[rank_field]
  local alpha_field
  for _, n in ipairs { "lora_alpha", "alpha", "vera_alpha" } do
    if fm[n] then
      alpha_field = n
      break
    end
  end
  if alpha_field then
    info.alpha_field = alpha_field
    info.alpha = cfg[alpha_field]
    if type(info.rank) == "number" and type(info.alpha) == "number" and info.rank > 0 then
      if fm.use_rslora and cfg.use_rslora then
        info.scaling = info.alpha / math.sqrt(info.rank)
        info.scaling_rule = alpha_field .. " / sqrt(" .. rank_field .. ")  (rsLoRA)"
      else
        info.scaling = info.alpha / info.rank
        info.scaling_rule = alpha_field .. " / " .. rank_field
      end
    end
  end
  if fm.rank_pattern then info.rank_pattern = cfg.rank_pattern end
  if fm.alpha_pattern then info.alpha_pattern = cfg.alpha_pattern end
  return info
end

command {
  name = "inspect",
  summary = "what an adapter config says: method, task, non-default fields, targets, rank, warnings",
  usage = "peft inspect PATH [--base MODEL_DIR] [--strict] [--json]   (PATH: an adapter directory or"
    .. " adapter_config.json; with adapter_model.safetensors beside it, the weights are checked too)",
  options = { json = "flag", strict = "flag", base = "value" },
  run = function(opts, args)
    if #args ~= 1 then usage_error("expects one PATH") end
    local r = load(args[1], opts.strict)
    if not r.ok then
      if opts.json then
        json_out { path = args[1], ok = false, error = error_json(r.error), warnings = arr(r.warnings) }
      else
        out.stderr:write(paint("red", "invalid") .. ": " .. errors.message(r.error), "\n")
      end
      return 1
    end
    local cfg = r.cfg
    local cls = cfg:get_class()
    local m = method_of(cls)
    local diff = cfg:diff()
    local weights = M.check_weights(cfg, r.path, opts.base)
    local ri = rank_info(cfg)
    local extra = cfg:extra()
    local tm = cls.field_map.target_modules and cfg.target_modules
    if opts.json then
      local fields = arr()
      for i, d in ipairs(diff) do
        local v = d.value
        if type(v) == "table" and config.is_config(v) then v = v:to_dict() end
        fields[i] = { name = d.name, value = v == nil and null or v, default = d.default == nil and null or d.default }
      end
      local rank = null
      if ri then
        rank = { field = ri.rank_field, value = ri.rank == nil and null or ri.rank,
                 alpha_field = ri.alpha_field or null, alpha = ri.alpha == nil and null or ri.alpha,
                 scaling = ri.scaling or null, rank_pattern = ri.rank_pattern or null,
                 alpha_pattern = ri.alpha_pattern or null }
      end
      json_out {
        path = r.path, ok = true, class = cls.name, peft_type = cls.peft_type, method = m and m.name or null,
        task_type = cfg.task_type or null, base_model_name_or_path = cfg.base_model_name_or_path or null,
        peft_version = cfg:was_given("peft_version") and cfg.peft_version or null, non_default_fields = fields,
        target_modules = cls.field_map.target_modules and {
          value = tm == nil and null or tm, meaning = target_modules_meaning(tm) } or null,
        rank = rank, unknown_keys = extra, warnings = arr(r.warnings), weights = weights and weights.json or null,
      }
      return (weights and not weights.ok) and 1 or 0
    end
    say(paint("bold", r.path))
    say(string.format("  method       %s (%s) -> %s", m and m.name or "?", cls.peft_type or "?", cls.name))
    say(string.format("  task         %s", cfg.task_type or "none (task_type is null)"))
    say(string.format("  base model   %s%s", cfg.base_model_name_or_path or "not recorded",
      cfg.revision and (" @ " .. cfg.revision) or ""))
    say(string.format("  peft_version %s", cfg:was_given("peft_version") and cfg.peft_version
      or "not in the file (a save writes " .. tostring(cfg.peft_version) .. ", as PEFT does)"))
    if cls.field_map.target_modules then
      say("  targets      " .. target_modules_meaning(tm))
      if cls.field_map.exclude_modules and cfg.exclude_modules then
        say("  excluded     " .. target_modules_meaning(cfg.exclude_modules):gsub("matching", "excluding"))
      end
    end
    if ri then
      local line = string.format("  rank         %s = %s", ri.rank_field, value_text(ri.rank))
      if ri.alpha_field then line = line .. string.format(", %s = %s", ri.alpha_field, value_text(ri.alpha)) end
      if ri.scaling then line = line .. string.format("; scaling %s = %.6g", ri.scaling_rule, ri.scaling) end
      say(line)
      for _, p in ipairs { { "rank_pattern", ri.rank_pattern }, { "alpha_pattern", ri.alpha_pattern } } do
        local pat = p[2]
        if type(pat) == "table" and next(pat) then
          say("  " .. p[1] .. " (module-name pattern -> value, overriding the default for matching modules):")
          for _, k in ipairs(config.sorted_keys(pat)) do say("      " .. k .. " -> " .. value_text(pat[k])) end
        end
      end
    end
    say("")
    if #diff == 0 then
      say("  every other field has its default")
    else
      say(paint("bold", "  fields that differ from the defaults:"))
      for _, d in ipairs(diff) do
        say(string.format("    %s = %s  %s", paint("cyan", d.name), value_text(d.value),
          paint("dim", "(default " .. value_text(d.default) .. ")")))
      end
    end
    local ek = config.sorted_keys(extra)
    if #ek > 0 then
      say("")
      say(paint("bold", "  unknown keys, kept and written back on save:"))
      for _, k in ipairs(ek) do say("    " .. k .. " = " .. value_text(extra[k])) end
    end
    if #r.warnings > 0 then
      say("")
      say(paint("yellow", "  warnings:"))
      for _, w in ipairs(r.warnings) do say("    " .. w) end
    end
    if weights then
      say("")
      for _, l in ipairs(weights.lines) do say(l) end
      return weights.ok and 0 or 1
    end
    return 0
  end,
}

-- weights -----------------------------------------------------------------

local function shape_text(shape)
  local parts = {}
  for i, d in ipairs(shape) do parts[i] = tostring(d) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function module_of(key)
  local isolation = require "peft.isolation"
  local k = key
  if k:sub(1, #isolation.PREFIX) == isolation.PREFIX then k = k:sub(#isolation.PREFIX + 1) end
  return k
end

--- check_weights(cfg, config_path [, base_dir]) -> report | nil
-- When adapter_model.safetensors sits beside the config: what the weights
-- hold and whether they match the config (and the base model's shapes).
function M.check_weights(cfg, config_path, base_dir)
  local dir = config_path:match("^(.*)/[^/]*$") or "."
  local wpath = dir .. "/adapter_model.safetensors"
  if core.stat(wpath) ~= "file" then
    if base_dir then
      return { ok = false, lines = { paint("red", "  weights: no adapter_model.safetensors beside the config") },
               json = { ok = false, problems = arr { "no adapter_model.safetensors" } } }
    end
    return nil
  end
  local lines, problems = {}, arr()
  local function problem(fmt, ...)
    problems[#problems + 1] = string.format(fmt, ...)
  end
  local h, err = core.st_read_header(wpath)
  if not h then
    problem("%s", err)
    return { ok = false, lines = { paint("red", "  weights: " .. err) }, json = { ok = false, problems = problems } }
  end
  local isolation = require "peft.isolation"
  local m = method_of(cfg:get_class())
  local keys, shapes_by_key, dtypes, total = {}, {}, {}, 0
  for _, t in ipairs(h.tensors) do
    keys[#keys + 1] = t.name
    shapes_by_key[t.name] = t.shape
    dtypes[t.dtype] = (dtypes[t.dtype] or 0) + 1
    total = total + t.nelems
  end
  local iso = isolation.isolate(keys, { prefer = m and m.name })
  local dt = {}
  for _, k in ipairs(config.sorted_keys(dtypes)) do dt[#dt + 1] = k .. " x" .. dtypes[k] end
  lines[#lines + 1] = paint("bold", "  weights      ") .. wpath
  lines[#lines + 1] = string.format("               %d tensors, %s parameters, dtypes %s", #h.tensors,
    require("peft.peft_model").commas(total), table.concat(dt, ", "))
  for _, meth in ipairs(iso.order) do
    local g = iso.methods[meth]
    lines[#lines + 1] = string.format("               %s: %d keys in %d modules", meth, #g.keys, #g.modules)
    if m and meth ~= m.name and not (m.shares_prefix_with == meth or
        (require("peft").method(meth) or {}).shares_prefix_with == m.name) then
      problem("keys of method %s in a %s adapter", meth, m.name)
    end
  end
  local fm = cfg:get_class().field_map
  -- ranks found per module (LoRA family: the first dimension of lora_A)
  local ranks = {}
  for _, k in ipairs(keys) do
    local e = iso.entries[k]
    if e and (e.layer == "lora_A" or e.layer == "lora_embedding_A") and fm.r then
      local r = e.layer == "lora_A" and shapes_by_key[k][1] or shapes_by_key[k][1]
      ranks[e.module] = r
      local want = require("peft.model").pattern_value(fm.rank_pattern and cfg.rank_pattern, module_of(e.module),
        cfg.r)
      if cfg:get_class().name == "AdaLoraConfig" then want = nil end -- AdaLoRA prunes ranks while training
      if want and r ~= want then problem("%s has rank %d, the config says %d", module_of(e.module), r, want) end
    end
  end
  local rank_values = {}
  for _, r in pairs(ranks) do rank_values[r] = (rank_values[r] or 0) + 1 end
  if next(rank_values) then
    local rv = {}
    for _, r in ipairs(config.sorted_keys(rank_values)) do rv[#rv + 1] = string.format("r=%s x%d", r, rank_values[r]) end
    lines[#lines + 1] = "               ranks found: " .. table.concat(rv, ", ")
  end
  -- targeted modules versus target_modules
  local tm = fm.target_modules and cfg.target_modules
  local g = m and iso.methods[m.name]
  if g and tm ~= nil and not (type(tm) == "string" and tm:lower() == "all-linear") then
    for _, mod in ipairs(g.modules) do
      if not require("peft.model").matches(cfg, module_of(mod), tm) then
        problem("%s has adapter weights but target_modules does not select it", module_of(mod))
      end
    end
  end
  -- DoRA magnitudes
  if fm.use_dora and g then
    local with = {}
    for _, k in ipairs(keys) do
      local e = iso.entries[k]
      if e and e.layer == "lora_magnitude_vector" then with[e.module] = true end
    end
    for _, mod in ipairs(g.modules) do
      if cfg.use_dora and not with[mod] then problem("%s has no DoRA magnitude vector (use_dora is true)", module_of(mod)) end
      if not cfg.use_dora and with[mod] then problem("%s has a DoRA magnitude vector but use_dora is false", module_of(mod)) end
    end
  end
  -- modules_to_save
  if #iso.other > 0 then
    lines[#lines + 1] = string.format("               %d other keys (modules_to_save copies or trained base weights)",
      #iso.other)
  end
  local mts = fm.modules_to_save and cfg.modules_to_save
  if type(mts) == "table" then
    for _, name in ipairs(mts) do
      local found = false
      for _, k in ipairs(iso.other) do
        local mod = module_of(k):match("^(.*)%.[^%.]+$") or ""
        if mod:sub(-#name) == name then found = true end
      end
      if not found then problem("modules_to_save names %s but no weights of it are saved", types.repr(name)) end
    end
  end
  -- the base model's shapes
  if base_dir then
    local ok, pm = pcall(function()
      local base = require("peft.model").describe(base_dir)
      return require("peft.peft_model").get_peft_model(base, cfg)
    end)
    if not ok then
      problem("cannot compare with the base model: %s", errors.message(pm))
    else
      local expected = {}
      for _, p in ipairs(pm:adapter_parameters()) do
        if p.origin == "adapter" and p.saved ~= false then expected[isolation.to_saved(p.name, "default")] = p.shape end
      end
      for _, k in ipairs(keys) do
        local e = iso.entries[k]
        if e then
          local want = expected[k]
          if not want then
            problem("%s is not a parameter the base model would get", k)
          elseif shape_text(want) ~= shape_text(shapes_by_key[k]) then
            problem("%s has shape %s, the base model gives %s", k, shape_text(shapes_by_key[k]), shape_text(want))
          end
          expected[k] = nil
        end
      end
      for _, k in ipairs(config.sorted_keys(expected)) do problem("%s is missing from the weights", k) end
      lines[#lines + 1] = "               compared with the base model " .. base_dir
    end
  end
  if #problems == 0 then
    lines[#lines + 1] = paint("green", "               the weights match the config")
  else
    for _, p in ipairs(problems) do lines[#lines + 1] = paint("red", "    mismatch: ") .. p end
  end
  local json = { ok = #problems == 0, path = wpath, tensors = #h.tensors, parameters = total, dtypes = dtypes,
                 methods = {}, ranks = ranks, other_keys = arr(iso.other), problems = problems }
  for meth, gg in pairs(iso.methods) do json.methods[meth] = { keys = #gg.keys, modules = arr(gg.modules) } end
  return { ok = #problems == 0, lines = lines, json = json }
end

-- plan --------------------------------------------------------------------

command {
  name = "plan",
  summary = "what get_peft_model would create on a base model, and the trainable-parameters line",
  usage = "peft plan CONFIG --base MODEL_DIR [--adapter NAME] [--json]   (MODEL_DIR: model.safetensors or a"
    .. " sharded index)",
  options = { json = "flag", base = "value", adapter = "value" },
  run = function(opts, args)
    if #args ~= 1 then usage_error("expects one CONFIG") end
    if not opts.base then usage_error("needs --base MODEL_DIR") end
    local r = load(args[1])
    if not r.ok then
      out.stderr:write("peft plan: ", errors.message(r.error), "\n")
      return 1
    end
    local adapter = opts.adapter or "default"
    local ok, pm = pcall(function()
      local base = require("peft.model").describe(opts.base)
      return require("peft.peft_model").get_peft_model(base, r.cfg, adapter)
    end)
    if not ok then
      out.stderr:write("peft plan: ", errors.message(pm), "\n")
      return 1
    end
    local entry = pm.adapters[adapter]
    local trainable, all = pm:trainable_parameters()
    local commas = require("peft.peft_model").commas
    if opts.json then
      local mods = arr()
      local by_module = {}
      for _, t in ipairs(entry.modules) do
        local mm = t.module
        local e = { name = mm.name, kind = mm.kind, in_features = mm.in_features or null,
                    out_features = mm.out_features or null, r = t.r or null, alpha = t.alpha or null, params = arr() }
        by_module[mm.name] = e
        mods[#mods + 1] = e
      end
      local shared, copies = arr(), arr()
      for _, p in ipairs(entry.params) do
        local pj = { name = p.name, shape = arr(p.shape), numel = p.numel, trainable = p.trainable, counted = p.counted }
        if p.origin == "modules_to_save" then copies[#copies + 1] = pj
        elseif p.module and by_module[p.module] then table.insert(by_module[p.module].params, pj)
        else shared[#shared + 1] = pj end
      end
      json_out { class = pm.class_name, method = entry.method.name, peft_type = r.cfg.peft_type, adapter = adapter,
                 base = opts.base, modules = mods, shared = shared, modules_to_save = copies,
                 trainable_params = trainable, all_params = all,
                 trainable_percent = all > 0 and 100 * trainable / all or 0, line = pm:trainable_parameters_line() }
      return 0
    end
    say(paint("bold", string.format("%s: %s adapter '%s' on %s", pm.class_name, entry.method.name, adapter, opts.base)))
    local by_module = {}
    for _, p in ipairs(entry.params) do
      if p.module then
        by_module[p.module] = by_module[p.module] or {}
        table.insert(by_module[p.module], p)
      end
    end
    local function param_line(p, prefix)
      return string.format("      %-48s %-16s %12s%s", p.name:sub(#prefix + 1), shape_text(p.shape), commas(p.numel),
        p.trainable and "" or (p.counted and "  (frozen)" or "  (buffer)"))
    end
    for _, t in ipairs(entry.modules) do
      local mm = t.module
      local desc = mm.kind
      if mm.in_features then desc = string.format("%s %d -> %d", mm.kind, mm.in_features, mm.out_features) end
      if mm.num_embeddings then desc = string.format("%s %d x %d", mm.kind, mm.num_embeddings, mm.embedding_dim) end
      local extra = ""
      if t.r then extra = extra .. ", r=" .. tostring(t.r) end
      if t.alpha then extra = extra .. ", alpha=" .. tostring(t.alpha) end
      if t.feedforward then extra = extra .. ", feed-forward" end
      say("  " .. paint("cyan", mm.name) .. "  (" .. desc .. extra .. ")")
      for _, p in ipairs(by_module[mm.name] or {}) do say(param_line(p, mm.name .. ".")) end
    end
    local others = {}
    for _, p in ipairs(entry.params) do
      if not p.module then others[#others + 1] = p end
    end
    if #others > 0 then
      say("  " .. paint("cyan", "shared"))
      for _, p in ipairs(others) do say(param_line(p, "")) end
    end
    local copies = {}
    for _, p in ipairs(entry.params) do
      if p.origin == "modules_to_save" then copies[#copies + 1] = p end
    end
    if #copies > 0 then
      say("  " .. paint("cyan", "modules_to_save") .. " (trainable copies)")
      for _, p in ipairs(copies) do say(param_line(p, "")) end
    end
    say(pm:trainable_parameters_line())
    return 0
  end,
}

-- validate ----------------------------------------------------------------

-- Visits every adapter_config.json under path (a file is itself):
-- visit(path, is_regular_file); visit_missing(path) for a path that does
-- not exist, or (path, message) for a directory that cannot be read.
-- Directories are searched depth first in sorted order; links to files
-- count, links to directories are not followed.
local function each_config(path, visit, visit_missing)
  local kind = core.stat(path)
  if kind == "directory" then
    local files, err = core.walk_files(path, config.CONFIG_NAME)
    if not files then return visit_missing(path, err) end
    for p, reg in files do visit(p, reg) end
  elseif kind then
    visit(path, kind == "file")
  else
    visit_missing(path)
  end
end

local function progress(done, total)
  local cols = core.term_columns(2) or 80
  local label = string.format(" %d/%d", done, total)
  local width = math.max(10, math.min(50, cols - #label - 4))
  local filled = math.floor(width * done / total)
  out.stderr:write("\r[" .. string.rep("#", filled) .. string.rep(".", width - filled) .. "]" .. label)
  if done == total then out.stderr:write("\r" .. string.rep(" ", width + #label + 3) .. "\r") end
  out.stderr:flush()
end

command {
  name = "validate",
  summary = "check adapter configs (files, or directories searched for adapter_config.json)",
  usage = "peft validate PATH... [--strict] [--json]   (--strict: warnings and unknown keys fail too)",
  options = { json = "flag", strict = "flag" },
  run = function(opts, args)
    if #args == 0 then usage_error("expects at least one PATH") end
    local results = arr()
    local n_ok, n_warn, n_fail = 0, 0, 0
    local function missing(p, unreadable)
      n_fail = n_fail + 1
      results[#results + 1] = { path = p, status = "error",
        error = unreadable and { kind = "OSError", message = unreadable, field = null }
          or { kind = "FileNotFoundError", message = p .. ": no such file or directory", field = null },
        warnings = arr() }
    end
    local function check(p, is_file)
      local r = load(p, opts.strict, is_file)
      local status
      if not r.ok then
        status = "error"
        n_fail = n_fail + 1
      elseif #r.warnings > 0 then
        if opts.strict then
          status = "error"
          n_fail = n_fail + 1
        else
          status = "warning"
          n_warn = n_warn + 1
        end
      else
        status = "ok"
        n_ok = n_ok + 1
      end
      -- the text report lists only the files with something to say
      if opts.json or status ~= "ok" then
        local entry = { path = p, status = status, warnings = arr(r.warnings) }
        if not r.ok then entry.error = error_json(r.error) end
        if r.ok and opts.strict and #r.warnings > 0 then
          entry.error = { kind = "Warning", message = "warnings are failures in strict mode", field = null }
        end
        results[#results + 1] = entry
      end
    end
    if not opts.json and core.isatty(2) then
      -- a progress bar needs the count first
      local files, regular = {}, {}
      for _, a in ipairs(args) do
        each_config(a, function(p, reg)
          files[#files + 1] = p
          regular[p] = reg
        end, missing)
      end
      for i, p in ipairs(files) do
        check(p, regular[p])
        if #files >= 20 then progress(i, #files) end
      end
    else
      -- otherwise each file is checked as it is found: memory stays flat
      for _, a in ipairs(args) do each_config(a, check, missing) end
    end
    local total = n_ok + n_warn + n_fail
    if total == 0 then
      out.stderr:write("peft validate: no adapter_config.json found under ", table.concat(args, ", "),
        " (name other files directly)\n")
      return 1
    end
    if opts.json then
      json_out { files = results, summary = { files = total, valid = n_ok, warnings = n_warn, invalid = n_fail },
                 strict = opts.strict or false }
    else
      for _, e in ipairs(results) do
        if e.status == "error" then
          local msg = e.error.message
          if e.error.kind ~= "Warning" then
            say(paint("red", "FAIL") .. " " .. e.path .. ": " .. e.error.kind .. ": " .. strip_path(msg, e.path))
          end
          for _, w in ipairs(e.warnings) do say(paint("red", "FAIL") .. " " .. e.path .. ": warning: " .. w) end
        elseif e.status == "warning" then
          for _, w in ipairs(e.warnings) do say(paint("yellow", "WARN") .. " " .. e.path .. ": " .. w) end
        end
      end
      local summary = string.format("%d file%s: %d valid, %d with warnings, %d invalid", total,
        total == 1 and "" or "s", n_ok, n_warn, n_fail)
      say(n_fail > 0 and paint("red", summary) or (n_warn > 0 and paint("yellow", summary) or paint("green", summary)))
    end
    return n_fail > 0 and 1 or 0
  end,
}

-- new ---------------------------------------------------------------------

command {
  name = "new",
  summary = "build a config from defaults and FIELD=VALUE pairs; print it or save it",
  usage = "peft new METHOD [FIELD=VALUE ...] [-o DIR] [--json]   (VALUE is JSON when it parses, else a string)",
  options = { json = "flag", o = "value", output = "value" },
  run = function(opts, args)
    if #args < 1 then usage_error("expects a METHOD") end
    local cls = resolve_class(args[1])
    if not cls.peft_type then usage_error("'%s' is not a method's config class", args[1]) end
    local values = {}
    for i = 2, #args do
      local k, v = args[i]:match("^([%a_][%w_]*)=(.*)$")
      if not k then usage_error("expects FIELD=VALUE, got '%s'", args[i]) end
      local decoded = core.json_decode(v)
      if decoded == nil then decoded = v end
      values[k] = decoded
    end
    local warnings, ok, cfg = peft.capture_warnings(function() return cls.new(values, { quiet = true }) end)
    if not ok then
      out.stderr:write("peft new: ", errors.message(cfg), "\n")
      return 1
    end
    warnings = cfg:warnings()
    local dir = opts.o or opts.output
    local path
    if dir then
      local okw, err = pcall(cfg.save_pretrained, cfg, dir)
      if not okw then
        out.stderr:write("peft new: ", errors.message(err), "\n")
        return 1
      end
      path = err
    end
    if opts.json then
      json_out { config = cfg:to_dict(), warnings = arr(warnings), path = path or null }
    else
      for _, w in ipairs(warnings) do out.stderr:write("peft new: warning: ", w, "\n") end
      if path then say("wrote " .. path) else say(cfg:to_json()) end
    end
    return 0
  end,
}

-- schema ------------------------------------------------------------------

command {
  name = "schema",
  summary = "a JSON Schema (draft 2020-12) of a method's config",
  usage = "peft schema METHOD",
  options = { json = "flag" },
  run = function(_, args)
    if #args ~= 1 then usage_error("expects one METHOD") end
    local cls = resolve_class(args[1])
    json_out(require("peft.schema").schema(cls))
    return 0
  end,
}

-- migrate -----------------------------------------------------------------

-- A line diff (longest common subsequence), unified-style without hunks.
local function line_diff(a, b)
  local x, y = {}, {}
  for l in (a .. "\n"):gmatch("(.-)\n") do x[#x + 1] = l end
  for l in (b .. "\n"):gmatch("(.-)\n") do y[#y + 1] = l end
  local n, m = #x, #y
  local L = {}
  for i = n + 1, 1, -1 do
    L[i] = {}
    for j = m + 1, 1, -1 do
      if i > n or j > m then
        L[i][j] = 0
      elseif x[i] == y[j] then
        L[i][j] = L[i + 1][j + 1] + 1
      else
        L[i][j] = math.max(L[i + 1][j], L[i][j + 1])
      end
    end
  end
  local lines, i, j = {}, 1, 1
  while i <= n or j <= m do
    if i <= n and j <= m and x[i] == y[j] then
      lines[#lines + 1] = " " .. x[i]
      i, j = i + 1, j + 1
    elseif j <= m and (i > n or L[i][j + 1] >= L[i + 1][j]) then
      lines[#lines + 1] = "+" .. y[j]
      j = j + 1
    else
      lines[#lines + 1] = "-" .. x[i]
      i = i + 1
    end
  end
  return lines
end
M.line_diff = line_diff

command {
  name = "migrate",
  summary = "upgrade an adapter config from an older layout (BONE -> MISS); a dry run shows the diff",
  usage = "peft migrate PATH [--write] [--json]",
  options = { json = "flag", write = "flag" },
  run = function(opts, args)
    if #args ~= 1 then usage_error("expects one PATH") end
    local r = load(args[1])
    if not r.ok then
      out.stderr:write("peft migrate: ", errors.message(r.error), "\n")
      return 1
    end
    local cfg = r.cfg
    local old_text = assert(core.read_file(r.path))
    local new_cfg, what = cfg, nil
    if cfg:get_class().name == "BoneConfig" then
      new_cfg = cfg:migrate()
      what = "BONE -> MISS"
    end
    local new_text = new_cfg:to_json()
    local changed = what ~= nil
    local diff = {}
    if changed then diff = line_diff(old_text, new_text) end
    local written = false
    if changed and opts.write then
      local dir = r.path:match("^(.*)/[^/]*$") or "."
      local okw, err = pcall(new_cfg.save_pretrained, new_cfg, dir)
      if not okw then
        out.stderr:write("peft migrate: ", errors.message(err), "\n")
        return 1
      end
      written = true
    end
    if opts.json then
      json_out { path = r.path, changed = changed, migration = what or null, written = written,
                 diff = arr(diff) }
      return 0
    end
    if not changed then
      say(r.path .. ": already in the current layout (" .. cfg:get_class().name .. "); nothing to migrate")
      return 0
    end
    say(paint("bold", r.path .. ": " .. what) .. (written and " (written)" or " (dry run; --write applies it)"))
    for _, l in ipairs(diff) do
      local c = l:sub(1, 1)
      if c == "+" then say(paint("green", l)) elseif c == "-" then say(paint("red", l)) else say(l) end
    end
    return 0
  end,
}

-- help --------------------------------------------------------------------

local function overview()
  local lines = { "usage: peft COMMAND [ARGS] [--json]    or    peft [options] [script [args]]", "", "commands:" }
  for _, name in ipairs(order) do
    lines[#lines + 1] = string.format("  %-9s %s", name, commands[name].summary)
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

function M.is_command(name)
  return commands[name] ~= nil or name == "help"
end

function M.commands() return order end

--- main(argv) -> exit status; argv[1] is the command.
function M.main(argv)
  local name = argv[1]
  paint_on = false
  if name == "help" then
    local topic = argv[2]
    if topic and not commands[topic] then
      out.stderr:write("peft help: unknown command '", topic, "'", config.suggest(topic, order), "\n")
      return 2
    end
    say(topic and command_help(commands[topic]) or overview())
    return 0
  end
  local cmd = commands[name]
  if not cmd then
    out.stderr:write("peft: unknown command '", tostring(name), "'", config.suggest(tostring(name), order), "\n")
    return 2
  end
  local rest = {}
  for i = 2, #argv do rest[#rest + 1] = argv[i] end
  local ok, opts, args = pcall(parse, cmd, rest)
  if not ok then
    if getmetatable(opts) == UsageError then
      out.stderr:write("peft ", name, ": ", opts.message, " (see 'peft help ", name, "')\n")
      return 2
    end
    error(opts, 0)
  end
  if opts.help then
    say(command_help(cmd))
    return 0
  end
  paint_on = not opts.json and use_colour(1)
  local okr, code = pcall(cmd.run, opts, args)
  if not okr then
    if getmetatable(code) == UsageError then
      out.stderr:write("peft ", name, ": ", code.message, " (see 'peft help ", name, "')\n")
      return 2
    end
    out.stderr:write("peft ", name, ": ", errors.message(code), "\n")
    return 1
  end
  return code
end

return M
