-- peft inspect: the command (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local config, errors = peft.config, peft.errors
local say, paint, json_out, arr, null = cli.say, cli.paint, cli.json_out, cli.arr, cli.null
local usage_error = cli.usage_error

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

-- one adapter: its JSON entry, or its text printed; returns the exit status
local function inspect_one(arg, opts)
  local r = cli.load_arg(arg, opts.strict)
  if not r.ok then
    if opts.json then
      return 1, { path = arg, ok = false, hub = null, error = cli.error_json(r.error, r.path),
                  warnings = arr(r.warnings) }
    end
    cli.eprint(paint("red", "invalid") .. ": " .. errors.message(r.error))
    return 1
  end
  local cfg = r.cfg
  local cls = cfg:get_class()
  local m = cli.method_of(cls)
  local diff = cfg:diff()
  local weights = peft.weights.check(cfg, r.path, { base = opts.base })
  local ri = rank_info(cfg)
  local extra = cfg:extra()
  local tm = cls.field_map.target_modules and cfg.target_modules
  local status = (weights and not weights.ok) and 1 or 0
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
    return status, {
      path = r.path, ok = true, hub = cli.hub_json(r.path), class = cls.name, peft_type = cls.peft_type,
      method = m and m.name or null, task_type = cfg.task_type or null,
      base_model_name_or_path = cfg.base_model_name_or_path or null,
      peft_version = cfg:was_given("peft_version") and cfg.peft_version or null, non_default_fields = fields,
      target_modules = cls.field_map.target_modules and {
        value = tm == nil and null or tm, meaning = target_modules_meaning(tm) } or null,
      rank = rank, unknown_keys = extra, warnings = arr(r.warnings),
      weights = weights and cli.weights_json(weights) or null,
    }
  end
  local label = cli.hub_label(r.path)
  say(paint("bold", r.path) .. (label and ("  (" .. label .. ")") or ""))
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
    local line = string.format("  rank         %s = %s", ri.rank_field, cli.value_text(ri.rank))
    if ri.alpha_field then line = line .. string.format(", %s = %s", ri.alpha_field, cli.value_text(ri.alpha)) end
    if ri.scaling then line = line .. string.format("; scaling %s = %.6g", ri.scaling_rule, ri.scaling) end
    say(line)
    for _, p in ipairs { { "rank_pattern", ri.rank_pattern }, { "alpha_pattern", ri.alpha_pattern } } do
      local pat = p[2]
      if type(pat) == "table" and next(pat) then
        say("  " .. p[1] .. " (module-name pattern -> value, overriding the default for matching modules):")
        for _, k in ipairs(config.sorted_keys(pat)) do say("      " .. k .. " -> " .. cli.value_text(pat[k])) end
      end
    end
  end
  say("")
  if #diff == 0 then
    say("  every other field has its default")
  else
    say(paint("bold", "  fields that differ from the defaults:"))
    for _, d in ipairs(diff) do
      say(string.format("    %s = %s  %s", paint("cyan", d.name), cli.value_text(d.value),
        paint("dim", "(default " .. cli.value_text(d.default) .. ")")))
    end
  end
  local ek = config.sorted_keys(extra)
  if #ek > 0 then
    say("")
    say(paint("bold", "  unknown keys, kept and written back on save:"))
    for _, k in ipairs(ek) do say("    " .. k .. " = " .. cli.value_text(extra[k])) end
  end
  if #r.warnings > 0 then
    say("")
    say(paint("yellow", "  warnings:"))
    for _, w in ipairs(r.warnings) do say("    " .. w) end
  end
  if weights then
    say("")
    for _, l in ipairs(cli.weights_lines(weights, opts.base)) do say(l) end
  end
  return status
end

return {
  rank_info = rank_info, -- (ls shows it too)
  usage = "peft inspect PATH... [--base MODEL_DIR] [--strict] [--json]   (PATH: an adapter directory, its"
    .. " adapter_config.json, a Hub cache repository directory or a Hub id org/name[@revision])",
  details = "With adapter_model.safetensors beside a config, the weights are checked too (with --base, against\n"
    .. "exactly what save_pretrained writes on that model). A Hub id is looked up in the local Hugging Face\n"
    .. "cache ($HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub), never downloaded. Several PATHs are\n"
    .. "inspected in turn; --json gives one object for one PATH, { \"adapters\": [...] } for several.\n"
    .. "Exit status 1 when a config is invalid or its weights do not match it.\n",
  options = { json = "flag", strict = "flag", base = "value" },
  run = function(opts, args)
    if #args == 0 then usage_error("expects at least one PATH") end
    local status, entries = 0, arr()
    for i, a in ipairs(args) do
      if i > 1 and not opts.json then say("") end
      local code, entry = inspect_one(a, opts)
      if code ~= 0 then status = 1 end
      entries[#entries + 1] = entry
    end
    if opts.json then
      if #args == 1 then json_out(entries[1]) else json_out { adapters = entries } end
    end
    return status
  end,
}
