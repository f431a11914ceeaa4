-- peft.release_migrate: an adapter config that an older (or newer) PEFT release loads with the same
-- behaviour as this runtime reads it (`peft migrate PATH --to-peft VERSION`).
--
--   local plan = require("peft.release_migrate").plan(path_or_adapter, "0.13.2")
--   plan.ok            -- true: plan.text is the config to write (plan.dict the table)
--   plan.dropped       -- { { key =, value =, why = } }: keys the release does not know, at their defaults
--   plan.written       -- { { key =, value =, why = } }: defaults written out because the release's differ
--   plan.renamed       -- { from =, to = } when the method has another name there (MISS <-> BONE), with
--                         plan.weights_rename = { from = ".miss_", to = ".bone_" }
--   plan.lost          -- when not ok: { { key =, value =, message = } } settings the release would lose
--   plan.refusal       -- when not ok: the release's own refusal of the result (a reason)
--
-- What it does: keys the release's config class does not know are dropped when they hold this runtime's
-- default (peft_version and the other metadata always); a setting that would be lost makes the whole
-- migration refuse, listing them; a method renamed between the releases gets its other name (and the
-- weights' keys with it); a default that differs in the release is written out. The result is then
-- checked with the release's own rules (peft.check): it must load there unchanged.
local core = require "peft.core"
local config = require "peft.config"
local errors = require "peft.errors"
local check = require "peft.check"
local registry = require "peft.target_registry"

local M = {}

local null = core.null

local function H() return require "peft.history" end

-- Methods PEFT renamed: the name in the file, the name in the release, when the release has only the
-- latter, and what the other name cannot express.
M.RENAMES = {
  { from = "MISS", to = "BONE", weights = { from = ".miss_", to = ".bone_" },
    refuse = function(d)
      if d.init_weights == "mini" then return "init_weights 'mini' (MiSS only: BONE has no equivalent)" end
      return nil
    end },
  { from = "BONE", to = "MISS", weights = { from = ".bone_", to = ".miss_" } },
}

-- Methods whose weights changed meaning at a release: an adapter trained on one side cannot be moved to
-- the other by rewriting its config.
M.BREAKS = {
  { peft_type = "OFT", at = "0.14.0",
    trained_after = function(d) return d.oft_block_size ~= nil end,
    message = "OFT's weights changed meaning in PEFT 0.14.0 (an adapter trained with 0.14 or later has "
      .. "oft_block_size): no release before 0.14.0 computes what it was trained to" },
}

local function release_of(version)
  local v = tostring(version):gsub("^v", "")
  local e = registry.get("peft " .. v)
  if not e or e.kind ~= "peft" or not registry.index_of(e) then
    local list = {}
    for _, t in ipairs(registry.list()) do
      if t.kind == "peft" then list[#list + 1] = t.version end
    end
    errors.raise("ValueError", string.format("--to-peft %s: not a PEFT release this runtime knows%s (releases: %s"
      .. " ... %s)", tostring(version), config.suggest(v, list), list[1] or "?", list[#list] or "?"))
  end
  return e
end

local function copy(t)
  local out = setmetatable({}, getmetatable(t))
  for k, v in pairs(t) do out[k] = v end
  return out
end

--- plan(src, version) -> the migration plan (see above); src: a path or an adapter view (peft.check)
function M.plan(src, version)
  local e = release_of(version)
  local A = type(src) == "table" and src or check.adapter(src)
  local i = registry.index_of(e)
  local v = e.version
  local out = { release = v, dropped = {}, written = {}, lost = {}, path = A.label }
  if A.json_error then errors.raise("JSONDecodeError", A.label .. ": " .. A.json_error) end
  if not A.is_object then errors.raise("ValueError", A.label .. ": an adapter config must be a JSON object") end
  local d = A.dict
  local pt = d.peft_type
  if type(pt) ~= "string" then
    errors.raise("ValueError", A.label .. ": the config names no peft_type; no release can load it")
  end
  local types = H().types
  local new = copy(d)
  -- the method, under its name in that release
  local t = types[pt]
  if not (t and check.in_spans(t[1], i)) then
    local found
    for _, r in ipairs(M.RENAMES) do
      local tt = types[r.to]
      if r.from == pt and tt and check.in_spans(tt[1], i) then found = r end
    end
    if not found then
      local first = t and (type(t[1]) == "number" and t[1] or t[1][1][1])
      out.refusal = { rule = "unknown-peft-type", message = string.format("PEFT %s has no method %s%s", v, pt,
        first and first > i and (" (it appeared in " .. H().releases[first] .. ")") or ""),
        fix = first and first > i and ("migrate to PEFT " .. H().releases[first] .. " or later") or nil }
      return out
    end
    local why = found.refuse and found.refuse(d)
    if why then
      out.lost[#out.lost + 1] = { key = "peft_type", value = pt, message = why }
      return out
    end
    new.peft_type = found.to
    out.renamed = { from = pt, to = found.to }
    out.weights_rename = found.weights
    t = types[found.to]
  end
  local cname = t[2]
  local hc = H().classes[cname]
  local head = A.head
  local heads = head.defaults
  for _, b in ipairs(M.BREAKS) do
    if b.peft_type == new.peft_type and i < registry.release_index()[b.at] and b.trained_after(d) then
      out.lost[#out.lost + 1] = { key = "peft_type", value = pt, message = b.message }
      return out
    end
  end
  -- values a release's Literal does not have yet (init_lora_weights 'pissa' before 0.11.0): the release
  -- fails when it builds the layers
  for key, since in pairs(hc.literals or {}) do
    local field, value = key:match("^([^=]+)=(.*)$")
    local fv = d[field]
    if since > i and type(fv) == "string"
       and (fv == value or (value:find("[number of iters]", 1, true) and fv:match("^pissa_niter_%d+$"))) then
      out.lost[#out.lost + 1] = { key = field, value = fv, message = string.format("%s = %s: PEFT %s does not "
        .. "have this value yet (it appeared in %s)", field, check.repr(fv), v, H().releases[since]) }
    end
  end
  if #out.lost > 0 then return out end
  -- keys the release does not know: dropped at their defaults, else lost
  local keys = {}
  for k in pairs(d) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    if k ~= "peft_type" and not check.in_spans(hc.fields[k], i) then
      local val = d[k]
      local known_here = heads[k] ~= nil or (A.cls and A.cls.field_map[k])
      if check.METADATA[k] or not known_here or check.same(val, heads[k]) then
        new[k] = nil
        out.dropped[#out.dropped + 1] = { key = k, value = val, why = check.METADATA[k] and "metadata"
          or (not known_here and "unknown to this runtime as well") or "holds its default" }
      else
        local since -- the first later release whose class has it
        for ri, name in ipairs(H().releases) do
          if not since and ri > i and check.in_spans(hc.fields[k], ri) then since = name end
        end
        out.lost[#out.lost + 1] = { key = k, value = val, message = string.format("%s = %s: PEFT %s has no such "
          .. "setting%s", k, check.repr(val), v, since and (" (it appeared in " .. since .. ")") or "") }
      end
    end
  end
  if #out.lost > 0 then return out end
  -- then what the release reads differently: its defaults, written out; and its own refusals
  local result
  for _ = 1, 4 do
    local text = core.json_encode(new, 2)
    local B = check.adapter_from_text(text, A.label)
    result = check.evaluate_release(B, e)
    if result.verdict ~= "changed" then break end
    local fixed = false
    for _, r in ipairs(result.reasons) do
      local k = r.setting
      -- a default that differs there, or a value this runtime reads otherwise: written as this runtime
      -- reads it (a setting the release does not have cannot be written: it stays lost)
      if k and r.rule ~= "dropped-setting" and not check.same(new[k], head.values[k]) then
        local hv = head.values[k]
        new[k] = hv == nil and null or hv
        out.written[#out.written + 1] = { key = k, value = new[k], why = r.message }
        fixed = true
      end
    end
    if not fixed then break end
  end
  if result.verdict == "refused" then
    local r = result.reasons[1]
    out.refusal = { rule = r.rule, message = r.message, fix = r.fix ~= null and r.fix or nil }
    return out
  end
  if result.verdict == "changed" then
    for _, r in ipairs(result.reasons) do
      out.lost[#out.lost + 1] = { key = r.setting, value = r.setting and d[r.setting], message = r.message }
    end
    return out
  end
  out.ok = true
  out.dict = new
  out.text = core.json_encode(new, 2)
  out.changed = #out.dropped > 0 or #out.written > 0 or out.renamed ~= nil
  return out
end

-- the command line: peft migrate PATH --to-peft VERSION [--write | -o DIR] [--json] --------------------------

local function dir_of(path) return path:match("^(.*)/[^/]*$") or "." end

--- cli(opts, args, helpers) -> exit status (called by peft.cli.migrate; helpers.header_bytes(h, rename))
function M.cli(opts, args, helpers)
  local cli = require "peft.cli"
  local say, paint, json_out, arr, out = cli.say, cli.paint, cli.json_out, cli.arr, cli.out
  local version = opts["to-peft"]
  local dest_dir = opts.o or opts.output
  local okr, rel = pcall(release_of, version)
  if not okr then cli.usage_error("%s", (errors.message(rel):gsub("^ValueError: ", ""))) end
  local okp, plan = pcall(function() return M.plan(args[1], rel.version) end)
  if not okp then
    out.stderr:write("peft migrate: ", errors.message(plan), "\n")
    return 1
  end
  local path = plan.path
  local function lines_of(list, f)
    local t = arr()
    for i, x in ipairs(list) do t[i] = f(x) end
    return t
  end
  if not plan.ok then
    if opts.json then
      json_out { path = path, release = plan.release, ok = false, written = false,
                 lost = lines_of(plan.lost, function(x) return { key = x.key or cli.null, message = x.message } end),
                 refusal = plan.refusal and { rule = plan.refusal.rule, message = plan.refusal.message,
                                              fix = plan.refusal.fix or cli.null } or cli.null }
    else
      if #plan.lost > 0 then
        out.stderr:write(string.format("peft migrate: %s: PEFT %s cannot load this adapter with the same behaviour; "
          .. "it would lose:\n", path, plan.release))
        for _, x in ipairs(plan.lost) do out.stderr:write("  ", x.message, "\n") end
      else
        out.stderr:write(string.format("peft migrate: %s: PEFT %s refuses the migrated config: %s%s\n", path,
          plan.release, plan.refusal.message, plan.refusal.fix and ("; fix: " .. plan.refusal.fix) or ""))
      end
    end
    return 1
  end
  local old_text = assert(core.read_file(path, config.MAX_CONFIG_BYTES))
  local new_text = plan.text
  if old_text:find("\r\n", 1, true) then new_text = new_text:gsub("\n", "\r\n") end
  local diff = cli.unified_diff(old_text, new_text, path, path .. " (for PEFT " .. plan.release .. ")")
  -- the weights: renamed with the method, copied with -o
  local wpath, wkind = require("peft.weights").find(path)
  local header
  if wpath and wkind == "safetensors" then
    local h, err = core.st_read_header(wpath)
    if not h then
      out.stderr:write("peft migrate: ", err, "\n")
      return 1
    end
    header = h
  end
  local rename
  if plan.weights_rename then
    local from, to = plan.weights_rename.from, plan.weights_rename.to
    rename = function(name) return (name:gsub(from:gsub("%p", "%%%0"), to)) end
  end
  local renamed = arr()
  if header and rename then
    for _, t in ipairs(header.tensors) do
      local to = rename(t.name)
      if to ~= t.name then renamed[#renamed + 1] = { from = t.name, to = to } end
    end
  end
  local written, target_dir = false, nil
  if (opts.write or dest_dir) and plan.changed then
    if wkind == "bin" and (rename or dest_dir) then
      out.stderr:write("peft migrate: ", wpath, " is a pickle file, which peft does not read or rewrite; nothing ",
        "written\n")
      return 1
    end
    local okw, err = pcall(function()
      local cfg_dest, w_dest
      if dest_dir then
        local d = dest_dir:gsub("/+$", "")
        if d == "" then d = "/" end
        local mk, merr = core.mkdir_p(d)
        if not mk then errors.raise("OSError", merr, { path = d }) end
        if core.realpath(d) == core.realpath(dir_of(path)) then
          cli.usage_error("-o names the adapter's own directory: use --write to migrate in place")
        end
        target_dir = d
        cfg_dest = d .. "/" .. config.CONFIG_NAME
        w_dest = header and (d .. "/" .. require("peft.weights").WEIGHTS_NAME)
      else
        target_dir = dir_of(path)
        cfg_dest = path
        w_dest = header and rename and wpath
      end
      if w_dest then
        local okh, herr = core.write_atomic(w_dest, helpers.header_bytes(header, rename), wpath,
          8 + header.header_size, header.data_size)
        if not okh then errors.raise("OSError", herr, { path = w_dest }) end
      end
      local okc, cerr = core.write_atomic(cfg_dest, new_text)
      if not okc then
        if w_dest and opts.write then
          local nh = core.st_read_header(w_dest)
          core.write_atomic(w_dest, helpers.header_bytes(header), w_dest, 8 + nh.header_size, nh.data_size)
        end
        errors.raise("OSError", cerr, { path = cfg_dest })
      end
    end)
    if not okw then
      if type(err) == "table" and getmetatable(err) and err.message and not errors.is_error(err) then error(err, 0) end
      out.stderr:write("peft migrate: ", errors.message(err), "\n")
      return 1
    end
    written = true
  end
  if opts.json then
    json_out { path = path, release = plan.release, ok = true, changed = plan.changed, written = written,
               output_dir = target_dir or cli.null, diff = arr(diff),
               dropped = lines_of(plan.dropped, function(x) return { key = x.key, why = x.why } end),
               defaults_written = lines_of(plan.written, function(x) return { key = x.key, value = x.value } end),
               renamed = plan.renamed and { from = plan.renamed.from, to = plan.renamed.to } or cli.null,
               weights = header and { path = wpath, renamed = renamed } or cli.null }
    return 0
  end
  if not plan.changed then
    say(path .. ": PEFT " .. plan.release .. " already loads it unchanged; nothing to migrate")
    return 0
  end
  local how = written and (dest_dir and (" (written to " .. target_dir .. ")") or " (written)")
    or " (dry run; --write applies it, -o DIR writes a copy)"
  say(paint("bold", path .. ": for PEFT " .. plan.release) .. how)
  for _, l in ipairs(diff) do
    local c = l:sub(1, 1)
    if l:sub(1, 3) == "---" or l:sub(1, 3) == "+++" then say(paint("bold", l))
    elseif c == "@" then say(paint("cyan", l))
    elseif c == "+" then say(paint("green", l))
    elseif c == "-" then say(paint("red", l))
    else say(l) end
  end
  if #plan.dropped > 0 then
    local keys = {}
    for i, x in ipairs(plan.dropped) do keys[i] = x.key end
    say(string.format("dropped (PEFT %s does not know them; they hold their defaults): %s", plan.release,
      table.concat(keys, ", ")))
  end
  for _, x in ipairs(plan.written) do say("written out: " .. x.why) end
  if plan.renamed then
    say(string.format("renamed: peft_type %s -> %s (PEFT %s has only %s)", plan.renamed.from, plan.renamed.to,
      plan.release, plan.renamed.to))
    if header then
      say(string.format("%s: %d of %d keys renamed (%s -> %s), tensor data unchanged", wpath, #renamed,
        #header.tensors, plan.weights_rename.from, plan.weights_rename.to))
    end
  end
  return 0
end

return M
