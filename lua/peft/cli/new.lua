-- peft new: the command (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local core, errors = peft.core, peft.errors
local say, json_out, arr, null = cli.say, cli.json_out, cli.arr, cli.null
local usage_error = cli.usage_error

local REGEX_CHARS = cli.REGEX_CHARS

-- whether a field takes a list of strings as well as one string (target_modules,
-- exclude_modules): a string there is one regular expression
local function list_or_regex(f)
  local t = f.type or ""
  return t:find("list%[str%]") ~= nil and t:find("str%]?%]?$") ~= nil and t:find("Union") ~= nil
end

--- hints(cls, raw, decoded) -> warnings about values typed on the command line that
-- do not mean what they look like
local function typed_hints(cls, raw, values)
  local out = {}
  for k, text in pairs(raw) do
    local f = cls.field_map[k]
    local v = values[k]
    if f and type(v) == "string" and list_or_regex(f) then
      local names = {}
      local inner = v:match("^%[(.*)%]$") or v
      for part in inner:gmatch("[^,]+") do
        part = part:gsub("^%s+", ""):gsub("%s+$", ""):gsub("^[\"']", ""):gsub("[\"']$", "")
        if part ~= "" then names[#names + 1] = core.json_encode(part) end
      end
      local list_form = "[" .. table.concat(names, ",") .. "]"
      if v:match("^%[.*%]$") then
        out[#out + 1] = string.format("%s=%s is not valid JSON, so it is kept as the string %s, which PEFT reads as"
          .. " one regular expression (a character class); for a list of module names write '%s=%s'", k, text,
          core.json_encode(v), k, list_form)
      elseif v:find(",", 1, true) and not v:find(REGEX_CHARS) then
        out[#out + 1] = string.format("%s=%s is one string, which PEFT reads as one regular expression that must"
          .. " match a whole module name, commas included (it matches no module); for a list of names write"
          .. " '%s=%s'", k, text, k, list_form)
      end
    end
  end
  table.sort(out)
  return out
end

-- A Llama-shaped model (Llama 3.2 1B's sizes, 2 layers, shapes only) with a module for
-- each name the config's target_modules lists, for trying get_peft_model at `new`.
local function trial_model(cfg)
  local H, KV, I, V = 2048, 512, 8192, 128256
  local cls = cfg:get_class()
  local layers = 2
  local lt = cls.field_map.layers_to_transform and cfg.layers_to_transform
  if type(lt) == "number" then layers = math.max(layers, math.floor(lt) + 1) end
  if type(lt) == "table" then
    for _, i in ipairs(lt) do
      if type(i) == "number" then layers = math.max(layers, math.floor(i) + 1) end
    end
  end
  layers = math.min(layers, 256)
  local t = { { "model.embed_tokens.weight", { V, H } } }
  local extra = {}
  local tm = cls.field_map.target_modules and cfg.target_modules
  local known = { q_proj = true, k_proj = true, v_proj = true, o_proj = true, gate_proj = true, up_proj = true,
                  down_proj = true }
  if type(tm) == "table" then
    for _, name in ipairs(tm) do
      if type(name) == "string" and name:match("^[%w_]+$") and not known[name] then extra[#extra + 1] = name end
    end
  end
  for i = 0, layers - 1 do
    local p = "model.layers." .. i .. "."
    for _, x in ipairs {
      { "self_attn.q_proj.weight", { H, H } }, { "self_attn.k_proj.weight", { KV, H } },
      { "self_attn.v_proj.weight", { KV, H } }, { "self_attn.o_proj.weight", { H, H } },
      { "mlp.gate_proj.weight", { I, H } }, { "mlp.up_proj.weight", { I, H } }, { "mlp.down_proj.weight", { H, I } },
      { "input_layernorm.weight", { H } }, { "post_attention_layernorm.weight", { H } },
    } do
      t[#t + 1] = { p .. x[1], x[2] }
    end
    for _, name in ipairs(extra) do t[#t + 1] = { p .. "extra." .. name .. ".weight", { H, H } } end
  end
  t[#t + 1] = { "model.norm.weight", { H } }
  t[#t + 1] = { "lm_head.weight", { V, H } }
  return peft.model.describe(t, { origin = "a Llama-shaped model", config = {
    model_type = "llama", hidden_size = H, num_hidden_layers = layers, num_attention_heads = 32,
    num_key_value_heads = 8, intermediate_size = I, vocab_size = V } })
end

-- what depends on the model, not on the config: not reported at `new`
local MODEL_DEPENDENT = { "NoMatchingPeftModuleError", "Please specify target_modules", "not found in the base model",
                          "does not read", "this runtime", "layers_to_transform" }

--- build_warning(cfg) -> a warning when PEFT accepts cfg but its get_peft_model refuses it
local function build_warning(cfg)
  if cfg:get_class().name == "BoneConfig" then return nil end -- its own warning says what to do
  local ok, res = pcall(function() return peft.peft_model.get_peft_model(trial_model(cfg), cfg) end)
  if ok then return nil end
  if not errors.is_error(res) or res.kind == "NotImplementedError" then return nil end
  local msg = errors.message(res)
  for _, s in ipairs(MODEL_DEPENDENT) do
    if msg:find(s, 1, true) then return nil end
  end
  return "PEFT accepts this config, but its get_peft_model refuses it (tried on a Llama-shaped model): " .. msg
end

return {
  usage = "peft new METHOD [FIELD=VALUE ...] [-o DIR [--force]] [--json]   (VALUE is JSON when it parses, else"
    .. " a string)",
  details = "Prints the config (as save_pretrained writes it) or, with -o DIR, writes DIR/adapter_config.json; an\n"
    .. "existing one is replaced only with --force. A list is JSON: 'target_modules=[\"q_proj\",\"v_proj\"]'\n"
    .. "(target_modules=q_proj,v_proj is one string, which PEFT reads as one regular expression: a warning\n"
    .. "says so). A value PEFT accepts in the config but refuses when it builds the model (r=0) is warned about.\n",
  options = { json = "flag", o = "value", output = "value", force = "flag" },
  run = function(opts, args)
    if #args < 1 then usage_error("expects a METHOD") end
    local cls = cli.resolve_class(args[1])
    if not cls.peft_type then usage_error("'%s' is not a method's config class", args[1]) end
    local values, raw = {}, {}
    for i = 2, #args do
      local k, v = args[i]:match("^([%a_][%w_]*)=(.*)$")
      if not k then usage_error("expects FIELD=VALUE, got '%s'", args[i]) end
      local decoded = core.json_decode(v)
      if decoded == nil then decoded = v end
      values[k] = decoded
      raw[k] = v
    end
    local dir = opts.o or opts.output
    if opts.force and not dir then usage_error("--force goes with -o DIR") end
    local target = dir and (dir:gsub("/+$", "") .. "/" .. peft.CONFIG_NAME) -- ("/" -> "/adapter_config.json")
    if target and core.lstat(target) and not opts.force then
      cli.eprint("peft new: ", target, " exists; --force replaces it")
      return 1
    end
    local _, ok, cfg = peft.capture_warnings(function() return cls.new(values, { quiet = true }) end)
    if not ok then
      cli.eprint("peft new: ", errors.message(cfg))
      return 1
    end
    local warnings = cfg:warnings()
    for _, w in ipairs(typed_hints(cls, raw, values)) do warnings[#warnings + 1] = w end
    local bw = build_warning(cfg)
    if bw then warnings[#warnings + 1] = bw end
    local path
    if dir then
      local okw, err = pcall(cfg.save_pretrained, cfg, dir)
      if not okw then
        cli.eprint("peft new: ", errors.message(err))
        return 1
      end
      path = err
    end
    if opts.json then
      json_out { config = cfg:to_dict(), warnings = arr(warnings), path = path or null }
    else
      for _, w in ipairs(warnings) do cli.eprint("peft new: warning: ", w) end
      if path then say("wrote " .. path) else cli.say_text(cfg:to_json()) end
    end
    return 0
  end,
}
