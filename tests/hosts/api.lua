-- More of the API, for the spec that compares every Lua host with Lua 5.4's own module: the same output
-- means the same shape (names, values, error kinds and messages). Returns run(peft, fixtures, work) -> text;
-- work holds model/ (a small Llama written by the spec) and is written to.
return function(peft, fixtures, work)
  local out = {}
  local function say(...) out[#out + 1] = string.format(...) end
  local function err_of(fn, ...)
    local ok, e = pcall(fn, ...)
    if ok then return "no error" end
    if type(e) == "table" then return tostring(e.kind) .. ": " .. tostring(e.message) end
    return "string error: " .. tostring(e)
  end
  local dirs = fixtures .. "/configs/"

  -- enums and mappings
  say("PeftType[1]=%s #=%d TaskType.CAUSAL_LM=%s", peft.PeftType[1], #peft.PeftType, peft.TaskType.CAUSAL_LM)
  say("PeftType.LORAA -> %s", err_of(function() return peft.PeftType.LORAA end))
  say("PeftType('LORAA') -> %s %s", tostring(peft.PeftType("LORAA")), select(2, peft.PeftType("LORAA")))
  say("PeftType('LORA') -> %s", peft.PeftType("LORA"))
  say("mappings: config=%s tuner=%s prefix=%s mixed(OFT)=%s mixed(LORA)=%s",
    peft.PEFT_TYPE_TO_CONFIG_MAPPING.LORA.name, peft.PEFT_TYPE_TO_TUNER_MAPPING.LORA.name,
    peft.PEFT_TYPE_TO_PREFIX_MAPPING.LOHA, tostring(peft.PEFT_TYPE_TO_MIXED_MODEL_MAPPING.OFT),
    peft.PEFT_TYPE_TO_MIXED_MODEL_MAPPING.LORA.name)
  say("mapping write -> %s", err_of(function() peft.PEFT_TYPE_TO_PREFIX_MAPPING.LORA = "x" end))
  local ms = peft.methods()
  say("methods: first=%s last=%s adalora shares=%s", ms[1].name, ms[#ms].name,
    peft.method("adalora").shares_prefix_with)

  -- configs built and changed
  local c = peft.LoraConfig { r = 4, target_modules = { "q_proj" } }
  c.r = 32
  c.lora_dropout = 0.25
  c.target_modules = { "v_proj", "k_proj" }
  say("set: r=%d dropout=%s tm=%s", c.r, string.format("%.2f", c.lora_dropout), table.concat(c.target_modules, ","))
  say("set r='x' -> %s", err_of(function() c.r = "x" end))
  say("set lora_alfa -> %s", err_of(function() c.lora_alfa = 1 end))
  say("read lora_alfa -> %s", err_of(function() return c.lora_alfa end))
  say("LoraConfig{nope} -> %s", err_of(peft.LoraConfig, { r = 4, nope = 1 }))
  say("LoraConfig{r=0} -> %s", err_of(peft.LoraConfig, { r = 0 }))
  local d = c:to_dict()
  say("to_dict: r=%d peft_type=%s layers_pattern_is_null=%s tm=%s", d.r, d.peft_type,
    tostring(d.layers_pattern == peft.null), table.concat(d.target_modules, ","))
  say("class: %s peft_type=%s", c:get_class().name, c.peft_type)
  say("validate -> %s", tostring(c:validate() == c))
  c.layers_pattern = "layers"
  say("layers_pattern alone, validate -> %s", err_of(c.validate, c))
  c.layers_pattern = nil
  c.rank_pattern = { ["model.layers.0.self_attn.q_proj"] = 8 }
  say("rank_pattern: %d", c.rank_pattern["model.layers.0.self_attn.q_proj"])

  -- loading: warnings, unknown keys, strict, lenient, class-bound loaders
  local old = peft.from_pretrained(dirs .. "05-lora-old", { quiet = true })
  local ex = old:extra()
  say("old: warnings=%d merge_weights=%s enable_lora_is_null=%s", #old:warnings(), tostring(ex.merge_weights),
    tostring(ex.enable_lora == peft.null))
  local strict = err_of(peft.from_pretrained, dirs .. "05-lora-old", { strict = true })
  say("old, strict -> %s", (strict:gsub("^(%a+): .*/", "%1: .../")))
  local other = err_of(peft.LoraConfig.from_pretrained, dirs .. "11-ia3")
  say("LoraConfig.from_pretrained(ia3) -> %s", (other:gsub(": .*/configs/", ": .../")))
  say("LoraConfig.from_pretrained(adalora) -> %s",
    peft.LoraConfig.from_pretrained(dirs .. "10-adalora"):get_class().name)
  say("PeftConfig:from_pretrained(ia3) -> %s", peft.PeftConfig:from_pretrained(dirs .. "11-ia3"):get_class().name)
  local ada = '{"peft_type": "ADALORA", "target_modules": ["q_proj"], "tinit": 0, "tfinal": 0}'
  say("adalora without total_step -> %s", err_of(peft.from_json, ada))
  local lenient = peft.from_json(ada, { lenient = true, quiet = true })
  say("lenient: total_step=%s warning=%s", tostring(lenient.total_step), lenient:warnings()[1])
  say("from_json(broken) -> %s", err_of(peft.from_json, '{"peft_type": "LORA", "r": '))
  say("from_json(model config) -> %s", err_of(peft.from_json, '{"model_type": "llama"}'))
  say("get_peft_config -> r=%d", peft.get_peft_config { peft_type = "LORA", r = 4 }.r)
  say("get_peft_config{nope} -> %s", err_of(peft.get_peft_config, { peft_type = "LORA", nope = 1 }))
  say("from_pretrained(nil) -> %s", err_of(peft.from_pretrained, nil))

  -- saving
  c:save_pretrained(work .. "/saved")
  say("saved and loaded back: %s", tostring(peft.from_pretrained(work .. "/saved"):to_json() == c:to_json()))
  say("save into a file -> %s", (err_of(c.save_pretrained, c, work .. "/saved/adapter_config.json"):match("^%a+")))

  -- where an adapter works
  local r = peft.check(dirs .. "01-llama-lora", { "vllm" })
  local t = r.adapters[1].targets[1]
  say("check vllm: %s %s max_lora_rank=%d", t.target, t.verdict, t.knobs.max_lora_rank)
  say("check(missing) -> %s", (err_of(peft.check, work .. "/missing"):match("^%a+")))

  -- the model side
  local model = peft.describe_model(work .. "/model")
  say("model: type=%s modules=%d", model.model_type, #model.modules)
  local pm = peft.get_peft_model(model, peft.from_pretrained(dirs .. "01-llama-lora", { quiet = true }))
  local trainable, all = pm:trainable_parameters()
  say("plan: %s trainable=%d all=%d saved=%d", pm.class_name, trainable, all, #pm:saved_keys())
  say("plan: first saved %s", pm:saved_keys()[1])
  say("plan: %s", pm:trainable_parameters_line())
  say("plan on a bad target -> %s",
    err_of(peft.get_peft_model, model, peft.LoraConfig { target_modules = { "nope_proj" } }))
  return table.concat(out, "\n") .. "\n"
end
