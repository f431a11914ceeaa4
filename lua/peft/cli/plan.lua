-- peft plan: what get_peft_model builds on a base model, module by module, and
-- what save_pretrained writes (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local core, errors = peft.core, peft.errors
local say, paint, json_out, arr, null = cli.say, cli.paint, cli.json_out, cli.arr, cli.null
local usage_error = cli.usage_error

local shape_text = require("peft.weights").shape_text

local function param_json(p)
  return { name = p.name, shape = arr(p.shape), numel = p.numel, trainable = p.trainable and true or false,
           counted = p.counted and true or false }
end

local model_mod = require "peft.model"

local REGEX_CHARS = cli.REGEX_CHARS

-- the distinct last-n-segment suffixes of the model's module names (n: how many
-- segments a target has), the names a list entry can match
local function suffixes(model, n)
  local out, seen = {}, {}
  for _, p in ipairs(model.paths) do
    local segs = {}
    for seg in p:gmatch("[^%.]+") do segs[#segs + 1] = seg end
    if #segs >= n then
      local s = table.concat(segs, ".", #segs - n + 1)
      if not seen[s] then
        seen[s] = true
        out[#out + 1] = s
      end
    end
  end
  return out
end

-- the first module name a list entry matches (the name itself, or one ending with .entry), or nil
local function entry_match(model, t)
  for _, p in ipairs(model.paths) do
    if p == t or p:sub(-#t - 1) == "." .. t then return p end
  end
  return nil
end

--- unmatched(model, tm) -> { { target =, closest = {...}, note = } ... }: the entries of a
-- target_modules list that match no module, each with the module names closest to it;
-- for a string (one regular expression), a note on what it means
local function unmatched(model, tm)
  local out = {}
  if type(tm) == "string" then
    if tm == "all-linear" then return out end
    local ok, any = pcall(function()
      for _, p in ipairs(model.paths) do
        if model_mod.fullmatch(tm, p, "target_modules") then return true end
      end
      return false
    end)
    if ok and any then return out end
    local note
    local plain = not tm:find(REGEX_CHARS)
    local example = plain and entry_match(model, tm)
    if plain and tm:find(",", 1, true) then
      local parts = {}
      for part in tm:gmatch("[^,]+") do
        parts[#parts + 1] = core.json_encode((part:gsub("^%s+", ""):gsub("%s+$", "")))
      end
      note = string.format("target_modules is one string, %s, which PEFT reads as one regular expression that must"
        .. " match a whole module name, commas included; the list of names is [%s]", core.json_encode(tm),
        table.concat(parts, ", "))
    elseif example then
      note = string.format("target_modules is the string %s, a regular expression that must match a whole module"
        .. " name (such as %s); the list [%s] matches every module whose name ends with .%s", core.json_encode(tm),
        example, core.json_encode(tm), tm)
      return { { target = tm, closest = {}, note = note } }
    else
      note = "target_modules is a regular expression that must match a whole module name"
    end
    local segs = select(2, tm:gsub("%.", "")) + 1
    local closest = core.closest(tm, plain and suffixes(model, segs) or model.paths, 3)
    out[1] = { target = tm, closest = closest, note = note }
    return out
  end
  if type(tm) ~= "table" then return out end
  for _, t in ipairs(tm) do
    if type(t) == "string" and not entry_match(model, t) then
      local segs = select(2, t:gsub("%.", "")) + 1
      out[#out + 1] = { target = t, closest = core.closest(t, suffixes(model, segs), 3) }
    end
  end
  return out
end

local function unmatched_lines(list)
  local lines = {}
  for _, u in ipairs(list) do
    if u.note then lines[#lines + 1] = u.note end
    if #u.closest > 0 or not u.note then
      lines[#lines + 1] = string.format("%s matches no module%s", core.json_encode(u.target),
        #u.closest > 0 and ("; closest module names: " .. table.concat(u.closest, ", ")) or "")
    end
  end
  return lines
end

local function unmatched_json(list)
  local out = arr()
  for i, u in ipairs(list) do out[i] = { target = u.target, closest = arr(u.closest), note = u.note or null } end
  return out
end

return {
  usage = "peft plan CONFIG --base MODEL_DIR [--adapter NAME] [--json]   (MODEL_DIR: model.safetensors or a"
    .. " sharded index, with its config.json)",
  details = "Follows PEFT's get_peft_model: the target_modules PEFT picks for the model type when the config has\n"
    .. "none, the modules matched, every tensor added (name, shape, trainable or frozen), modules_to_save copies,\n"
    .. "trainable tokens, then PEFT's \"trainable params\" line; --json also lists the keys and shapes\n"
    .. "save_pretrained writes. Where PEFT refuses the config on this model, so does plan (exit 1).\n",
  options = { json = "flag", base = "value", adapter = "value" },
  run = function(opts, args)
    if #args ~= 1 then usage_error("expects one CONFIG") end
    if not opts.base then usage_error("needs --base MODEL_DIR") end
    local function failed(e, hints)
      if opts.json then
        json_out { ok = false, error = cli.error_json(e), hints = arr(hints or {}) }
      else
        cli.eprint("peft plan: ", errors.message(e))
        for _, l in ipairs(hints or {}) do cli.eprint("  ", l) end
      end
      return 1
    end
    local r = cli.load(args[1])
    if not r.ok then return failed(r.error) end
    local adapter = opts.adapter or "default"
    local okb, base = pcall(peft.model.describe, opts.base)
    if not okb then return failed(base) end
    local ok, pm = pcall(peft.peft_model.get_peft_model, base, r.cfg, adapter)
    local tm = r.cfg:get_class().field_map.target_modules and r.cfg.target_modules
    if not ok then
      -- nothing matched: say, for each target, which module names come closest
      local lines = {}
      if tm ~= nil and errors.message(pm):find("NoMatchingPeftModuleError", 1, true) then
        lines = unmatched_lines(unmatched(base, tm))
      end
      return failed(pm, lines)
    end
    local missed = tm ~= nil and unmatched(base, tm) or {}
    local entry = pm.adapters[adapter]
    local params = pm:adapter_parameters(adapter)
    local saved = pm:saved_tensors(adapter)
    local trainable, all = pm:trainable_parameters()
    local commas = peft.peft_model.commas
    local by_module, others, copies = {}, {}, {}
    for _, p in ipairs(params) do
      if p.module then
        by_module[p.module] = by_module[p.module] or {}
        table.insert(by_module[p.module], p)
      elseif p.origin == "modules_to_save" then
        copies[#copies + 1] = p
      else
        others[#others + 1] = p
      end
    end
    -- the modules in the order they were adapted (one entry per module)
    local modules, seen = {}, {}
    for _, t in ipairs(entry.modules) do
      if not seen[t.module.name] then
        seen[t.module.name] = true
        modules[#modules + 1] = t
      end
    end
    for _, p in ipairs(params) do
      if p.module and not seen[p.module] then -- parameters targeted by name
        seen[p.module] = true
        modules[#modules + 1] = { module = pm:record(p.module) or { name = p.module, kind = "other" } }
      end
    end
    local frozen_note, nothing
    if trainable == 0 and r.cfg.inference_mode then
      frozen_note = "inference_mode is true in the config: PEFT freezes every tensor of the adapter (it is"
        .. " loaded for inference, not for training), so nothing is trainable"
    elseif trainable == 0 then
      nothing = #params == 0 and "nothing was adapted: the adapter adds no tensor to this model"
        or "nothing is trained: every tensor the adapter adds is frozen or a buffer"
    end
    if opts.json then
      local mods = arr()
      for _, t in ipairs(modules) do
        local mm = t.module
        local ps = arr()
        for _, p in ipairs(by_module[mm.name] or {}) do ps[#ps + 1] = param_json(p) end
        mods[#mods + 1] = { name = mm.name, kind = mm.kind, in_features = mm.in_features or null,
                            out_features = mm.out_features or null, r = t.r or null, alpha = t.alpha or null,
                            params = ps }
      end
      local shared, cps, sv = arr(), arr(), arr()
      for _, p in ipairs(others) do shared[#shared + 1] = param_json(p) end
      for _, p in ipairs(copies) do cps[#cps + 1] = param_json(p) end
      for _, s in ipairs(saved) do sv[#sv + 1] = { key = s.key, shape = arr(s.shape) } end
      json_out { class = pm.class_name, method = entry.method.name, peft_type = r.cfg.peft_type, adapter = adapter,
                 base = opts.base, model_type = pm.base.model_type or null, modules = mods, shared = shared,
                 modules_to_save = cps, saved = sv, trainable_params = trainable, all_params = all,
                 trainable_percent = all > 0 and 100 * trainable / all or 0, line = pm:trainable_parameters_line(),
                 note = frozen_note or nothing or null, unmatched_targets = unmatched_json(missed), ok = not nothing }
      return nothing and 1 or 0
    end
    say(paint("bold", string.format("%s: %s adapter '%s' on %s", pm.class_name, entry.method.name, adapter,
      opts.base)))
    if r.cfg:get_class().field_map.target_modules and r.cfg.target_modules == nil and entry.ctx then
      say(string.format("  target_modules unset: PEFT's default for model type %s is %s", tostring(pm.base.model_type),
        peft.types.repr(entry.ctx.default_targets or entry.ctx.target_modules)))
    end
    local function param_line(p, prefix)
      return string.format("      %-48s %-16s %12s%s", p.name:sub(#prefix + 1), shape_text(p.shape), commas(p.numel),
        p.trainable and "" or (p.counted and "  (frozen)" or "  (buffer)"))
    end
    for _, t in ipairs(modules) do
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
    if #others > 0 then
      say("  " .. paint("cyan", "shared"))
      for _, p in ipairs(others) do say(param_line(p, "")) end
    end
    if #copies > 0 then
      say("  " .. paint("cyan", "modules_to_save") .. " (trainable copies)")
      for _, p in ipairs(copies) do say(param_line(p, "")) end
    end
    local n = 0
    for _, s in ipairs(saved) do n = n + require("peft.tuner").numel(s.shape) end
    say(string.format("  save_pretrained writes %d tensor%s (%s values)", #saved, #saved == 1 and "" or "s",
      commas(n)))
    for _, l in ipairs(unmatched_lines(missed)) do say(paint("yellow", "  note: ") .. l) end
    if frozen_note then say(paint("yellow", "  note: " .. frozen_note)) end
    say(pm:trainable_parameters_line())
    if nothing then
      cli.eprint("peft plan: ", nothing)
      return 1
    end
    return 0
  end,
}
