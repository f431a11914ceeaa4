-- peft.cli.output_schema: one JSON Schema (draft 2020-12) per command, describing
-- what `peft COMMAND --json` prints on standard output; `peft schema --cli COMMAND`
-- prints it. Every property listed is always present (null where it has no value),
-- unless a schema says otherwise; objects have no other properties.
--
-- Conventions shared by the commands: paths as given or found; `hub` is
-- { repo, commit, refs, subfolder } for a path inside a Hugging Face cache snapshot,
-- else null; an error is { kind, message, field } (kind: PEFT's exception class,
-- message: without the path in front, field: the config field at fault or null).
local config = require("peft").config

local M = {}

local DRAFT = "https://json-schema.org/draft/2020-12/schema"

-- building blocks ------------------------------------------------------------

local ANY = {}
local STR, INT, NUM, BOOL = { type = "string" }, { type = "integer" }, { type = "number" }, { type = "boolean" }
local NULL = { type = "null" }

local function opt(s) -- s or null
  if s.type and type(s.type) == "string" and not s.properties and not s.items and not s.enum then
    return { type = { s.type, "null" } }
  end
  return { anyOf = { s, NULL } }
end

local function list(items) return { type = "array", items = items } end

local function map(values) return { type = "object", additionalProperties = values } end

-- obj(props [, optional]): every property required but those named in optional
local function obj(props, optional, desc)
  local req = {}
  local skip = {}
  for _, k in ipairs(optional or {}) do skip[k] = true end
  for k in pairs(props) do
    if not skip[k] then req[#req + 1] = k end
  end
  table.sort(req)
  return { type = "object", properties = props, required = req, additionalProperties = false, description = desc }
end

local function const(v) return { const = v } end

local ERROR = obj({
  kind = { type = "string", description = "PEFT's exception class: ValueError, TypeError, FileNotFoundError, ..." },
  message = { type = "string", description = "what is wrong, without the path in front" },
  field = opt(STR),
}, nil, "an error")

local HUB = opt(obj({
  repo = STR, commit = STR, refs = list(STR), subfolder = opt(STR),
}, nil, "where a path inside a Hugging Face cache snapshot comes from"))

local WEIGHTS = obj({
  ok = { type = "boolean", description = "the weights agree with the config" },
  path = opt(STR), read = BOOL, note = opt(STR),
  tensors = opt(INT), parameters = opt(INT),
  dtypes = map(INT),
  methods = map(obj { keys = INT, modules = list(STR) }),
  ranks = map(ANY),
  other_keys = list(STR),
  problems = list(STR),
}, nil, "the check of adapter_model.safetensors against the config")

local FIELD = obj({
  name = STR, type = { type = "string", description = "the field's annotation, as PEFT writes it" },
  default = ANY, help = STR, declared_in = STR, choices = opt(list(ANY)),
  set = { type = "boolean", description = "a list is kept as a set: deduplicated and sorted" },
  written = { type = "boolean", description = "written to adapter_config.json (false: runtime only)" },
})

local PARAM = obj { name = STR, shape = list(INT), numel = INT, trainable = BOOL, counted = BOOL }

local REASON = obj({ rule = STR, message = STR, fix = opt(STR), setting = ANY, keys = list(STR) },
  { "setting", "keys" })

-- the commands -----------------------------------------------------------------

local S = {}

S.types = obj({
  peft_types = list(obj {
    name = STR, registered = BOOL, method = opt(STR), prefix = opt(STR), is_mixed_compatible = opt(BOOL),
    config_class = opt(STR), model_class = opt(STR), shares_prefix_with = opt(STR),
  }),
  task_types = list(STR),
}, nil, "peft types --json: every PeftType member (null where no method is registered) and the TaskType members")

S.show = obj({
  class = STR, peft_type = opt(STR), method = opt(STR), prefix = opt(STR), is_mixed_compatible = opt(BOOL),
  model_class = opt(STR), doc = STR, lineage = list(STR), is_prompt_learning = BOOL, is_adaption_prompt = BOOL,
  fields = list(FIELD),
  nested = map(obj { doc = STR, fields = list(FIELD) }),
}, nil, "peft show METHOD --json: a config class and every field")

local INSPECTED = {
  oneOf = {
    obj({
      path = { type = "string", description = "the adapter_config.json read" },
      ok = const(true), hub = HUB, class = STR, peft_type = STR, method = opt(STR), task_type = opt(STR),
      base_model_name_or_path = opt(STR),
      peft_version = { type = { "string", "null" }, description = "as written in the file; null when it has none" },
      non_default_fields = list(obj { name = STR, value = ANY, default = ANY }),
      target_modules = opt(obj { value = ANY, meaning = STR }),
      rank = opt(obj {
        field = STR, value = ANY, alpha_field = opt(STR), alpha = ANY, scaling = opt(NUM),
        rank_pattern = ANY, alpha_pattern = ANY,
      }),
      unknown_keys = map(ANY),
      warnings = list(STR),
      weights = opt(WEIGHTS),
    }),
    obj({ path = { type = "string", description = "the PATH given" }, ok = const(false), hub = NULL,
          error = ERROR, warnings = list(STR) }),
  },
}

S.inspect = {
  description = "peft inspect PATH... --json: one PATH gives one adapter object, several give { adapters: [...] }",
  oneOf = { INSPECTED, obj { adapters = list(INSPECTED) } },
}

local SIDE = obj { path = STR, class = STR, hub = HUB, weights = opt(STR) }
local COUNT = obj { tensors = INT, parameters = INT }
S.diff = obj({
  a = SIDE, b = SIDE,
  same = { type = "boolean", description = "no field, unknown key or tensor differs (the exit status is 0)" },
  fields = list(obj({
    name = STR,
    a = ANY, b = ANY, default = ANY,
    in_a = { type = "boolean", description = "a's class has the field (false: only b's has it)" },
    in_b = BOOL,
    unknown_key = { type = "boolean", description = "a key the class does not know, kept from the file" },
  })),
  weights = {
    description = "null unless both have adapter_model.safetensors",
    oneOf = {
      NULL,
      obj { error = STR },
      obj({
        a = COUNT, b = COUNT, only_in_a = list(STR), only_in_b = list(STR),
        shape = list(obj { name = STR, a = list(INT), b = list(INT) }),
        dtype = list(obj { name = STR, a = STR, b = STR }),
        same_values = { type = "integer", description = "tensors alike in both, with the same bytes" },
        different_values = list(STR),
        unread = { type = "integer", description = "tensors whose bytes could not be read" },
        same = BOOL,
      }),
    },
  },
}, nil, "peft diff A B --json: what differs between two adapters")

S.ls = obj({
  adapters = list(obj({
    path = STR, hub = HUB,
    ok = { type = "boolean", description = "the config loads (false: error says why; the other values are null)" },
    error = opt(ERROR),
    class = opt(STR), peft_type = opt(STR), method = opt(STR), task_type = opt(STR),
    r = ANY, alpha = ANY, target_modules = ANY, base_model_name_or_path = opt(STR),
    peft_version = { type = { "string", "null" }, description = "as written in the file; null when it has none" },
    weights = { enum = { "safetensors", "bin", json_null = true }, description = "the weights file beside it" },
    weights_path = opt(STR),
    warnings = { type = "integer", description = "how many warnings loading gave" },
  })),
}, nil, "peft ls PATH... --json: one entry per adapter_config.json found")

S.plan = {
  description = "peft plan CONFIG --base MODEL_DIR --json: what get_peft_model builds, or why it cannot",
  oneOf = {
    obj({
      ok = { type = "boolean", description = "false when nothing is trainable (exit status 1; note says why)" },
      class = STR, method = STR, peft_type = STR, adapter = STR, base = STR, model_type = opt(STR),
      modules = list(obj {
        name = STR, kind = STR, in_features = opt(INT), out_features = opt(INT), r = ANY, alpha = ANY,
        params = list(PARAM),
      }),
      shared = list(PARAM), modules_to_save = list(PARAM),
      saved = list(obj { key = STR, shape = list(INT) }),
      trainable_params = INT, all_params = INT, trainable_percent = NUM, line = STR, note = opt(STR),
      unmatched_targets = list(obj { target = STR, closest = list(STR), note = opt(STR) }),
    }),
    obj({ ok = const(false), error = ERROR,
          hints = { type = "array", items = STR, description = "for each target that matches nothing, the closest"
            .. " module names" } }),
  },
}

local VALIDATED = obj({
  path = STR,
  status = { enum = { "ok", "warning", "error" } },
  class = opt(STR), peft_type = opt(STR), method = opt(STR), hub = HUB,
  warnings = list(STR), error = opt(ERROR), weights = opt(WEIGHTS),
})
S.validate = obj({
  files = list(VALIDATED),
  summary = obj {
    files = INT,
    ok = { type = "integer", description = "files with status ok" },
    warning = { type = "integer", description = "files with status warning" },
    error = { type = "integer", description = "files with status error" },
  },
  strict = BOOL,
}, nil, "peft validate PATH... --json: every file checked and the counts by status")

S.new = obj({ config = map(ANY), warnings = list(STR), path = opt(STR) }, nil,
  "peft new METHOD ... --json: the config as save_pretrained writes it, the warnings, the file written")

S.schema = {
  description = "peft schema METHOD (or --cli COMMAND): a JSON Schema, draft 2020-12",
  type = "object", required = { "$schema" },
  properties = { ["$schema"] = const(DRAFT) },
}

local RENAME = obj { from = STR, to = STR }
S.migrate = {
  description = "peft migrate PATH [--to-peft VERSION] --json",
  oneOf = {
    obj({
      path = STR, changed = BOOL,
      migration = { type = { "string", "null" }, description = "BONE -> MISS; null when there is nothing to do" },
      written = BOOL, output_dir = opt(STR), diff = list(STR), notes = list(STR),
      weights = opt(obj { path = STR, format = { enum = { "safetensors", "bin" } }, link = BOOL,
                          renamed = list(RENAME) }),
    }),
    obj({
      path = STR, release = STR, ok = const(true), changed = BOOL, written = BOOL, output_dir = opt(STR),
      diff = list(STR), dropped = list(obj { key = STR, why = STR }),
      defaults_written = list(obj { key = STR, value = ANY }), renamed = opt(RENAME),
      weights = opt(obj { path = STR, renamed = ANY }),
    }),
    obj({
      path = STR, release = STR, ok = const(false), written = const(false),
      lost = list(obj { key = opt(STR), message = STR }),
      refusal = opt(obj { rule = STR, message = STR, fix = opt(STR) }),
    }),
  },
}

local RESULT = obj({
  target = STR, verdict = { enum = { "ok", "changed", "refused" } }, reasons = list(REASON),
  engine = STR, knobs = map(ANY), also = list(REASON), peft_version = STR, notes = list(REASON),
}, { "engine", "knobs", "also", "peft_version", "notes" })
S.check = obj({
  adapters = list({
    oneOf = {
      obj({
        path = STR, config_class = STR, peft_type = STR, load_error = STR, targets = list(RESULT),
        releases = list(obj { from = STR, to = STR, verdict = { enum = { "ok", "changed", "refused" } },
                              reasons = list(REASON) }),
        oldest_release = opt(STR),
      }, { "config_class", "peft_type", "load_error", "releases", "oldest_release" }),
      obj { path = STR, error = STR },
    },
  }),
}, nil, "peft check PATH... --json: each adapter's verdict for each target")

S.targets = obj({
  targets = list(obj({
    kind = { enum = { "peft", "engine" } }, name = STR, title = STR, doc = opt(STR),
    version = STR, loading = STR,
    knobs = map(obj { default = ANY, flag = opt(STR), help = opt(STR) }),
  }, { "version", "loading", "knobs" })),
}, nil, "peft targets --json: the PEFT releases and engines peft check knows")

-- null in an enum: JSON null (a Lua table cannot hold nil)
local function fix_nulls(s, null)
  if type(s) ~= "table" then return s end
  if s.enum and s.enum.json_null then
    s.enum.json_null = nil
    s.enum[#s.enum + 1] = null
  end
  for _, v in pairs(s) do fix_nulls(v, null) end
  return s
end

--- commands() -> the commands with a --json output, sorted
function M.commands() return config.sorted_keys(S) end

--- get(command) -> the schema (a fresh table), or nil
function M.get(command)
  local s = S[command]
  if not s then return nil end
  local core = require("peft").core
  local out = fix_nulls(config.deepcopy(s), core.null)
  out["$schema"] = DRAFT

  out.title = "peft " .. command .. " --json"
  -- empty lists must stay JSON arrays
  local function arrays(t, seen)
    if type(t) ~= "table" or seen[t] then return end
    seen[t] = true
    for k, v in pairs(t) do
      if (k == "required" or k == "enum" or k == "oneOf" or k == "anyOf") and type(v) == "table" then
        setmetatable(v, core.json_array_mt)
      end
      arrays(v, seen)
    end
  end
  arrays(out, {})
  return out
end

return M
