-- get_peft_model and save_pretrained against what real PEFT did, for every recorded case
-- (tests/fixtures/model_oracle/*.json, see tests/oracle.lua): the PeftModel class, the
-- trainable and total counts, every added parameter's name, shape and requires_grad, the saved
-- keys and shapes; or a refusal of PEFT's exception class at the same step.
local oracle = require "oracle"

local DIR = "tests/fixtures/model_oracle/"
-- dev: the cases the model side was built against; h1..h4: the cases written for each group of
-- methods; heldout, heldout2: cases from other random streams, recorded only after the model side
-- was done (they measured it: 264/264 and 522/523 on the first run); heldout3: a third stream
-- (260/261 on the first run, the one a BONE case as below) and hand-written cases through the
-- loader's paths (unknown keys, nulls, empty dicts, repeated set items, table defaults), which
-- found lora_dropout null refused as a ValueError where PEFT raises a TypeError (now its class);
-- heldout4: a fourth stream (seed 9, 171/172 on the first run, the one a BONE case as below);
-- heldout5: a fifth (seed 10, 87/87 on the first run); h5-review: hand-written cases for what the
-- review of the model side touched (num_virtual_tokens of every type in the three prompt-learning
-- methods, lora_dropout that is no number, the init chain's ignored sub-configs, AdaLoRA's and
-- IA3's checks, save_projection false), which found a negative num_virtual_tokens built by prompt
-- tuning where torch refuses the embedding (now refused as torch does)
local FILES = { "dev", "h1-lora-family", "h2-projections", "h3-prompt-special", "h4-newer", "heldout", "heldout2",
                "heldout3", "heldout4", "heldout5", "h5-review" }

-- Cases whose recorded answer comes from the oracle's environment, not from PEFT itself; each
-- still gives the verdict named here (so this list cannot go stale silently).
local KNOWN = {
  -- our config loader refuses the null seed (a ValueError at load); PEFT builds the config
  -- and torch's manual_seed raises a RuntimeError when the model is built
  ["h1-waveft-llama-099-seed-null"] = "refusal differs",
  -- an LSTM with 0 layers: torch 1.13 (the oracle's) raises IndexError, torch 2 a ValueError
  ["h3-pt-llama-lstm-0layers"] = "refusal differs",
  -- an X-LoRA adapter path that does not exist: the oracle's stubbed hub answers with a
  -- JSONDecodeError; real PEFT raises ValueError "Can't find", as we do
  ["h3-xl-missing"] = "refusal differs",
  -- BONE is gone from PEFT (0.19): it refuses every BONE config with KeyError 'BONE'; we still
  -- load BONE configs (to migrate them) and so check them, and this one breaks a config rule
  ["heldout-bone-llama-0527-random"] = "refusal differs",
  ["heldout3-bone-llama-0261-random"] = "refusal differs",
  ["heldout4-bone-gpt2-0179-random"] = "refusal differs",
  -- num_virtual_tokens true: Python's bool is an int, so PEFT builds one virtual token (prompt
  -- tuning, p-tuning) or fails inside torch.empty (prefix tuning); our loader refuses a bool where
  -- the field is an integer, as it does for every integer field
  ["h5-prompt_tuning-nvt-true-llama"] = "we refuse where PEFT builds",
  ["h5-prompt_tuning-nvt-true-gpt2"] = "we refuse where PEFT builds",
  ["h5-p_tuning-nvt-true-llama"] = "we refuse where PEFT builds",
  ["h5-p_tuning-nvt-true-gpt2"] = "we refuse where PEFT builds",
  ["h5-prefix_tuning-nvt-true-llama"] = "refusal differs",
  ["h5-prefix_tuning-nvt-true-gpt2"] = "refusal differs",
}

describe("get_peft_model and save_pretrained agree with PEFT", function()
  for _, file in ipairs(FILES) do
    local data = oracle.load(DIR .. file .. ".json")
    local by_method, order = {}, {}
    for _, c in ipairs(data.cases) do
      if not by_method[c.method] then by_method[c.method] = {}; order[#order + 1] = c.method end
      table.insert(by_method[c.method], c)
    end
    for _, method in ipairs(order) do
      local cases = by_method[method]
      it(string.format("%s: %s (%d cases)", file, method, #cases), function()
        local wrong = {}
        for _, c in ipairs(cases) do
          local verdict, details = oracle.compare(c)
          local want = KNOWN[c.name] or "agree"
          if verdict ~= want then
            wrong[#wrong + 1] = c.name .. ": " .. verdict .. (want ~= "agree" and (" (known: " .. want .. ")") or "")
              .. "\n      " .. table.concat(details, "\n      ")
          end
        end
        assert(#wrong == 0, #wrong .. " of " .. #cases .. " cases differ:\n  " .. table.concat(wrong, "\n  "))
      end)
    end
  end
end)
