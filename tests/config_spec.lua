-- The config class machinery itself: construction, field access, options
-- (check_type, type_error, set), class-bound loaders, derived values.
local peft = require "peft"
local helpers = require "helpers"

describe("config objects", function()
  it("read and write fields like a table, type-checking assignments", function()
    local cfg = peft.LoraConfig { r = 16 }
    assert.are.equal(16, cfg.r)
    cfg.r = 32
    assert.are.equal(32, cfg.r)
    local err = helpers.error_of(function() cfg.r = "big" end)
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('LoraConfig.r: expected an integer, got "big"', err.message)
    err = helpers.error_of(function() return cfg.rr end)
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("LoraConfig has no field 'rr' (did you mean 'r'?)", err.message)
    err = helpers.error_of(function() cfg.lora_alfa = 3 end)
    assert.are.equal("LoraConfig has no field 'lora_alfa' (did you mean 'lora_alpha'?)", err.message)
  end)

  it("refuse an unknown constructor field, naming the closest", function()
    local err = helpers.error_of(peft.LoraConfig, { lora_dropuot = 0.1 })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal("LoraConfig got an unknown field 'lora_dropuot' (did you mean 'lora_dropout'?)", err.message)
  end)

  it("know their class flags", function()
    assert.is_false(peft.LoraConfig{}.is_prompt_learning)
    assert.is_true(peft.PromptTuningConfig{}.is_prompt_learning)
    assert.is_true(peft.AdaptionPromptConfig{}.is_adaption_prompt)
    assert.is_true(peft.MultitaskPromptTuningConfig.is_prompt_learning)
  end)

  it("list and describe their fields, with the declaring class", function()
    local f = peft.AdaLoraConfig:field("rank_pattern")
    assert.are.equal("AdaLoraConfig", f.declared_in)
    assert.is_nil(f.default)
    assert.are.equal("LoraConfig", peft.AdaLoraConfig:field("r").declared_in)
    assert.are.equal("PeftConfig", peft.AdaLoraConfig:field("task_type").declared_in)
    local none, msg = peft.LoraConfig:field("rr")
    assert.is_nil(none)
    assert.are.equal("LoraConfig has no field 'rr' (did you mean 'r'?)", msg)
    local names = {}
    for _, c in ipairs(peft.MultitaskPromptTuningConfig:lineage()) do names[#names + 1] = c.name end
    assert.are.same({ "MultitaskPromptTuningConfig", "PromptTuningConfig", "PromptLearningConfig", "PeftConfig" }, names)
  end)

  it("report the fields that differ from the defaults", function()
    local d = peft.LoraConfig { r = 4, target_modules = { "q" } }:diff()
    assert.are.equal(2, #d)
    assert.are.equal("r", d[1].name)
    assert.are.equal(8, d[1].default)
    assert.are.equal("LoraConfig(r=4, target_modules=[\"q\"])", tostring(peft.LoraConfig { r = 4, target_modules = { "q" } }))
  end)

  it("compare equal by value", function()
    assert.are.equal(peft.LoraConfig { r = 4 }, peft.LoraConfig { r = 4 })
    assert.are_not.equal(peft.LoraConfig { r = 4 }, peft.LoraConfig { r = 5 })
  end)

  it("copy and replace, re-validating", function()
    local a = peft.LoraConfig { r = 4 }
    local b = a:replace { r = 8 }
    assert.are.equal(4, a.r)
    assert.are.equal(8, b.r)
    local err = helpers.error_of(a.replace, a, { layers_pattern = "layers" })
    assert.are.equal("ValueError", err.kind)
  end)
end)

describe("field options", function()
  it("check_type accepts what PEFT accepts beyond its annotation", function()
    local cfg = peft.LoraConfig { init_lora_weights = "lora_ga" }
    assert.are.equal("lora_ga", cfg.init_lora_weights)
    assert.are.equal("bool | Literal['gaussian', 'eva', 'olora', 'pissa', 'pissa_niter_[number of iters]', 'corda',"
      .. " 'loftq', 'orthogonal', 'mica']", peft.LoraConfig:field("init_lora_weights").type)
  end)

  it("type_error makes a wrongly typed value a TypeError, as in PEFT", function()
    local err = helpers.error_of(peft.LoraConfig, { target_parameters = "experts" })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal('LoraConfig.target_parameters: expected a list of strings or null, got "experts"', err.message)
  end)

  it("pissa_niter_N is accepted and other suffixes are not", function()
    assert.are.equal("pissa_niter_16", peft.LoraConfig { init_lora_weights = "pissa_niter_16" }.init_lora_weights)
    local err = helpers.error_of(peft.LoraConfig, { init_lora_weights = "pissa_niter_x" })
    assert.are.equal("ValueError", err.kind)
  end)
end)

describe("class-bound loaders", function()
  it("know the class they are called on, with . or :", function()
    local text = '{"peft_type": "IA3"}'
    assert.are.equal("IA3Config", peft.IA3Config.from_json(text):get_class().name)
    assert.are.equal("IA3Config", peft.IA3Config:from_json(text):get_class().name)
    local err = helpers.error_of(peft.LoraConfig.from_json, text)
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("peft_type IA3 is a IA3Config, not a LoraConfig", err.message)
    -- PeftConfig and a parent class accept their subclasses
    assert.are.equal("AdaLoraConfig",
      peft.LoraConfig.from_json('{"peft_type": "ADALORA", "total_step": 10}'):get_class().name)
  end)
end)

describe("prompt-learning configs", function()
  it("derive num_transformer_submodules from task_type when built", function()
    assert.are.equal(2, peft.PromptTuningConfig { task_type = "SEQ_2_SEQ_LM" }.num_transformer_submodules)
    assert.are.equal(1, peft.PrefixTuningConfig { task_type = "CAUSAL_LM" }.num_transformer_submodules)
    assert.are.equal(1, peft.PromptEncoderConfig { task_type = "SEQ_CLS" }.num_transformer_submodules)
    assert.is_nil(peft.PromptTuningConfig {}.num_transformer_submodules)
    assert.are.equal(3, peft.PromptTuningConfig { task_type = "CAUSAL_LM",
                                                  num_transformer_submodules = 3 }.num_transformer_submodules)
  end)

  it("keep what a loaded file says, so that load and save change nothing", function()
    local cfg = peft.from_json('{"peft_type": "PROMPT_TUNING", "task_type": "SEQ_2_SEQ_LM"}')
    assert.is_nil(cfg.num_transformer_submodules)
  end)
end)
