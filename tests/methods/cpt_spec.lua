-- CPTConfig: causal LM only, the context-token lists and their defaults,
-- and the model-shape fields CPT fixes.
local peft = require "peft"
local helpers = require "helpers"

describe("CPTConfig", function()
  it("refuses to be built without task_type CAUSAL_LM", function()
    local err = helpers.error_of(peft.CPTConfig, {})
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("CPTConfig.task_type: must be 'CAUSAL_LM' (the only task CPT supports), got null", err.message)
  end)

  it("refuses another task type", function()
    local err = helpers.error_of(peft.CPTConfig, { task_type = "SEQ_2_SEQ_LM" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('CPTConfig.task_type: must be \'CAUSAL_LM\' (the only task CPT supports), got "SEQ_2_SEQ_LM"',
      err.message)
  end)

  it("fills in PEFT's defaults for a causal LM", function()
    local cfg = peft.CPTConfig { task_type = "CAUSAL_LM" }
    assert.are.equal("CPT", cfg.peft_type)
    assert.are.same({ 0 }, cfg.cpt_token_ids)
    assert.are.same({ 1 }, cfg.cpt_mask)
    assert.are.same({ 1 }, cfg.cpt_tokens_type_mask)
    assert.are.equal(1, cfg.num_virtual_tokens)
    assert.are.equal(1, cfg.num_transformer_submodules)
    assert.are.equal("none", cfg.opt_weighted_loss_type)
    assert.are.equal(1.0, cfg.opt_loss_decay_factor)
    assert.are.equal(0.1, cfg.opt_projection_epsilon)
    assert.are.equal(0.1, cfg.opt_projection_format_epsilon)
    assert.is_true(cfg.is_prompt_learning)
  end)

  it("derives num_virtual_tokens and the masks from cpt_token_ids", function()
    local cfg = peft.CPTConfig { task_type = "CAUSAL_LM", cpt_token_ids = { 101, 7, 42 }, num_virtual_tokens = 10 }
    assert.are.equal(3, cfg.num_virtual_tokens)
    assert.are.same({ 1, 1, 1 }, cfg.cpt_mask)
    assert.are.same({ 1, 1, 1 }, cfg.cpt_tokens_type_mask)
    local d = cfg:to_dict()
    assert.are.same({ 1, 1, 1 }, d.cpt_mask)
    assert.is_truthy(cfg:to_json():find('"cpt_mask": [\n    1,', 1, true))
  end)

  it("writes empty lists as JSON arrays", function()
    local cfg = peft.CPTConfig { task_type = "CAUSAL_LM", cpt_token_ids = {} }
    assert.are.equal(0, cfg.num_virtual_tokens)
    assert.is_truthy(cfg:to_json():find('"cpt_mask": []', 1, true))
    assert.is_truthy(cfg:to_json():find('"cpt_tokens_type_mask": []', 1, true))
  end)

  it("keeps given masks of the right length", function()
    local cfg = peft.CPTConfig { task_type = "CAUSAL_LM", cpt_token_ids = { 5, 6 }, cpt_mask = { 1, 0 },
      cpt_tokens_type_mask = { 1, 2 } }
    assert.are.same({ 1, 0 }, cfg.cpt_mask)
    assert.are.same({ 1, 2 }, cfg.cpt_tokens_type_mask)
  end)

  it("rejects a cpt_mask of another length", function()
    local err = helpers.error_of(peft.CPTConfig, { task_type = "CAUSAL_LM", cpt_token_ids = { 5, 6 }, cpt_mask = { 1 } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("CPTConfig.cpt_mask: must have as many items as cpt_token_ids (2), got 1", err.message)
  end)

  it("rejects a cpt_tokens_type_mask of another length", function()
    local err = helpers.error_of(peft.CPTConfig,
      { task_type = "CAUSAL_LM", cpt_tokens_type_mask = { 1, 2, 3 } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("CPTConfig.cpt_tokens_type_mask: must have as many items as cpt_token_ids (1), got 3",
      err.message)
  end)

  it("clears the model-shape fields and uses one transformer stack", function()
    local cfg = peft.CPTConfig { task_type = "CAUSAL_LM", num_layers = 12, token_dim = 768, num_attention_heads = 12,
      num_transformer_submodules = 2 }
    assert.is_nil(cfg.num_layers)
    assert.is_nil(cfg.token_dim)
    assert.is_nil(cfg.num_attention_heads)
    assert.are.equal(1, cfg.num_transformer_submodules)
  end)

  it("accepts the 'decay' loss weighting and rejects others", function()
    local cfg = peft.CPTConfig { task_type = "CAUSAL_LM", opt_weighted_loss_type = "decay", opt_loss_decay_factor = 0.95 }
    assert.are.equal("decay", cfg.opt_weighted_loss_type)
    local err = helpers.error_of(peft.CPTConfig, { task_type = "CAUSAL_LM", opt_weighted_loss_type = "linear" })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal('CPTConfig.opt_weighted_loss_type: expected one of \'none\', \'decay\' or null, got "linear"', err.message)
  end)

  it("rejects token ids that are not integers", function()
    local err = helpers.error_of(peft.CPTConfig, { task_type = "CAUSAL_LM", cpt_token_ids = { 1, 2.5 } })
    assert.are.equal("ValueError", err.kind)
    assert.are.equal("CPTConfig.cpt_token_ids: expected a list of integers or null (item 2 is a float, expected an integer), got [1, 2.5]",
      err.message)
  end)

  it("survives a round trip through to_dict", function()
    local cfg = peft.CPTConfig { task_type = "CAUSAL_LM", cpt_token_ids = { 9, 8 } }
    local again = peft.CPTConfig(cfg:to_dict())
    assert.are.equal(cfg:to_json(), again:to_json())
  end)
end)
