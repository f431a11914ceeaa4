-- The program of issue 14's "done when": the same output under every host (lua5.1, lua5.3, lua5.4,
-- LuaJIT, nginx's Lua module, Neovim; tests/hosts/program.c and program.cpp do the same in C and C++).
-- Written in the Lua that 5.1 to 5.4 and LuaJIT share; returns a function
--   run(peft, fixtures, work) -> text
-- fixtures: tests/fixtures/hosts (configs.txt names the 20 adapter directories under configs/);
-- work: an empty directory to save into. Numbers are printed with %d, so 5.1 and 5.4 agree.
return function(peft, fixtures, work)
  local out = {}
  local function say(...) out[#out + 1] = string.format(...) end

  local function list_text(v)
    if v == nil then return "null" end
    if type(v) == "string" then return "re:" .. v end
    return table.concat(v, ",")
  end
  -- a field that the class may not have: "-" when it has none
  local function field(cfg, name)
    local ok, v = pcall(function() return cfg[name] end)
    if not ok then return false end
    return true, v
  end

  say("PeftType members: %d, TaskType members: %d, methods: %d", #peft.PeftType, #peft.TaskType, #peft.methods())

  -- 20 real configs
  local index = assert(io.open(fixtures .. "/configs.txt"))
  local n = 0
  for name in index:lines() do
    n = n + 1
    local cfg = peft.from_pretrained(fixtures .. "/configs/" .. name)
    local has_r, r = field(cfg, "r")
    local has_tm, tm = field(cfg, "target_modules")
    say("%s: %s %s task=%s r=%s target_modules=%s warnings=%d", name, cfg:get_class().name, cfg.peft_type,
      tostring(cfg.task_type or "null"), has_r and (r and string.format("%d", r) or "null") or "-",
      has_tm and list_text(tm) or "-", #cfg:warnings())
  end
  index:close()
  say("configs loaded: %d", n)

  -- a LoRA config built, saved, loaded back
  local built = peft.LoraConfig { r = 8, lora_alpha = 16, target_modules = { "v_proj", "q_proj" },
                                  task_type = peft.TaskType.CAUSAL_LM }
  say("built: %s r=%d lora_alpha=%d target_modules=%s", built:get_class().name, built.r, built.lora_alpha,
    list_text(built.target_modules))
  built:save_pretrained(work .. "/built")
  local back = peft.from_pretrained(work .. "/built")
  say("loaded back: %s r=%d lora_alpha=%d target_modules=%s task=%s same_json=%s", back:get_class().name, back.r,
    back.lora_alpha, list_text(back.target_modules), back.task_type, tostring(back:to_json() == built:to_json()))

  -- the registry
  for _, key in ipairs { "lora", "LOHA", "IA3Config" } do
    local m = peft.method(key)
    say("method %s: name=%s peft_type=%s prefix=%s mixed=%s config=%s model=%s", key, m.name, m.peft_type, m.prefix,
      tostring(m.is_mixed_compatible), m.config_cls.name, m.model_cls.name)
  end
  say("method nope: %s", tostring(peft.method("nope")))
  say("prefix of LOKR: %s", peft.PEFT_TYPE_TO_PREFIX_MAPPING.LOKR)
  say("PeftType('LORAA'): %s", tostring((peft.PeftType("LORAA"))))

  -- errors as values
  local ok, err = pcall(peft.from_pretrained, work .. "/missing")
  say("missing: %s %s", tostring(ok), err.kind)
  ok, err = pcall(peft.from_json, '{"peft_type": "LORA", "r": "16"}')
  say("bad r: %s %s", tostring(ok), err.kind)
  return table.concat(out, "\n") .. "\n"
end
