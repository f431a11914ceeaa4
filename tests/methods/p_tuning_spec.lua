-- PromptEncoderConfig: encoder fields, the reparameterisation enum.
local peft = require "peft"
local helpers = require "helpers"

describe("PromptEncoderConfig", function()

  it("declares the PromptEncoderReparameterizationType enum", function()
    assert.are.same({ "MLP", "LSTM" }, peft.config.enum_members("PromptEncoderReparameterizationType"))
    local cfg = peft.PromptEncoderConfig { encoder_reparameterization_type = "LSTM", encoder_hidden_size = 128 }
    assert.are.equal("LSTM", cfg.encoder_reparameterization_type)
    assert.are.equal(128, cfg.encoder_hidden_size)
  end)

  it("keeps an integer encoder_dropout as given", function()
    assert.are.equal("integer", math.type(peft.PromptEncoderConfig { encoder_dropout = 0 }.encoder_dropout))
  end)

  it("rejects a non-integer encoder_num_layers", function()
    local err = helpers.error_of(peft.PromptEncoderConfig, { encoder_num_layers = "2" })
    assert.are.equal("TypeError", err.kind)
    assert.are.equal('PromptEncoderConfig.encoder_num_layers: expected an integer, got "2" (PEFT reads the file, but its model code needs an integer here: a size, a count or a seed)', err.message)
  end)
end)
