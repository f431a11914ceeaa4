-- What each input under tests/fuzz/regressions/ must give (replayed by
-- tests/fuzz_regressions_spec.lua): every input has an entry and every entry
-- an input.
--   fuzz_config:      loads = true (and round-trips; contains: text the saved JSON holds)
--                     or error = { kind, message }
--   fuzz_safetensors: tensors = N, or error = message
return {
  fuzz_config = {
    ["oft-invalid-version-roundtrip"] = { loads = true, contains = '"num_cayl*ey_neumann_terms": 5' },
    ["encoded-surrogate"] = { error = { "JSONDecodeError", "invalid JSON at line 1, column 29: invalid UTF-8 in string" } },
    ["nul-in-peft-type"] = { error = { "ValueError", "unknown 'peft_type' \"LORA\\0X\" (not a PeftType member: a method "
      .. "from a newer or unmerged PEFT? an extension can add it with peft.add_peft_type and register_peft_method)" } },
    ["nul-in-task-type"] = { error = { "ValueError", "LoraConfig.task_type: invalid task type \"CAUSAL_LM\\0X\"; must be "
      .. "one of SEQ_CLS, SEQ_2_SEQ_LM, CAUSAL_LM, TOKEN_CLS, QUESTION_ANS, FEATURE_EXTRACTION (did you mean "
      .. "'CAUSAL_LM'?)" } },
    ["integers-beyond-64-bits"] = { loads = true, contains = '"x": -123456789012345678901234567890' },
    ["lone-surrogate-escape"] = { loads = true, contains = '"note": "\\ud800\\udbff\\udc00"' },
  },
  fuzz_safetensors = {
    ["valid-two-tensors"] = { tensors = 2 },
    ["depth-65"] = { error = "the header is not valid JSON: line 1, column 77: nesting too deep (more than 64 levels)" },
    ["header-length-past-limit"] = { error = "the header length 100000001 is larger than the limit of 100000000 bytes" },
    ["name-encoded-surrogate"] = { error = "the header is not valid JSON: line 1, column 4: invalid UTF-8 in string" },
    ["name-lone-surrogate-escape"] = { error = "the header is not valid JSON: line 1, column 4: a \\u escape of a "
      .. "surrogate without its pair" },
    ["name-not-utf8"] = { error = "the header is not valid JSON: line 1, column 4: invalid UTF-8 in string" },
    ["name-nul-escape"] = { error = "the header is not valid JSON: line 1, column 4: \\u0000 in a string is not accepted" },
    ["shape-overflow"] = { error = "tensor 'a': the shape has more elements than fit in 64 bits" },
  },
}
