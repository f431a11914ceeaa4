-- Ollama: an ADAPTER line names a safetensors adapter directory (or one GGUF file); it reads lora_alpha
-- only, converts llama and gemma2 architectures only ("unsupported architecture", #6858), then applies
-- the adapter with llama.cpp, whose rules follow.
local peft = require "peft"

peft.register_target {
  kind = "engine",
  name = "ollama",
  title = "Ollama",
  doc = "Ollama (Modelfile ADAPTER): llama and gemma2 only, safetensors, then llama.cpp's rules.",
  source = "convert/convert.go, convert/reader_safetensors.go",
}

--@definitions: the rules of the target declared above (built on first use)
local peft = require "peft"

peft.define("ollama", {
  rules = function(check)
    local rule = check.rule
    local ARCH = { llama = true, gemma2 = true }
    local out = {
      rule.weights_format { allow = { safetensors = true },
        error = "Ollama converts adapters from safetensors only (found adapter_model.bin)" },
      rule.setting { id = "architecture",
        when = function(_, _, A)
          local base = A.dict.base_model_name_or_path
          if type(base) ~= "string" then return false end
          local cfg = require("peft.core").read_file(base .. "/config.json", 1 << 24)
          local t = cfg and require("peft.core").json_decode(cfg)
          local mt = type(t) == "table" and t.model_type
          return type(mt) == "string" and not ARCH[mt] and mt
        end,
        error = "unsupported architecture '{what}' (Ollama converts llama and gemma2 adapters)",
        fix = "merge the adapter into the base model and import the merged model" },
    }
    -- then what llama.cpp says
    out[#out + 1] = rule.engine { name = "llama.cpp", id = "llama.cpp" }
    return out
  end,
})
