-- peft check: where an adapter works (see peft.check; peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local check = require "peft.check"
local core, config, errors = peft.core, peft.config, peft.errors
local paint, json_out, arr, out = cli.paint, cli.json_out, cli.arr, cli.out
local usage_error = cli.usage_error

local byte = string.byte

-- s without its trailing blanks (a loop from the end: a pattern would backtrack over padded lines)
local function rstrip(s)
  local b = byte(s, -1)
  if b ~= 32 and b ~= 9 then return s end
  local n = #s - 1
  while n > 0 do
    b = byte(s, n)
    if b ~= 32 and b ~= 9 then break end
    n = n - 1
  end
  return s:sub(1, n)
end

local COLOUR = { ok = "green", changed = "yellow", refused = "red" }
local padded = {} -- width -> target -> the text before its verdict
local whole_lines = {} -- the table of padded for a width -> a verdict ending the line -> target -> the line
-- per width: indent (what comes before the other releases' runs), and per painted "ok": the oldest release's
-- entry -> the peft line
local width_lines = {}

-- the adapters a PATH names: a config file, an adapter directory, or a directory searched for them
local function each_adapter(path, visit, missing)
  local kind = core.stat(path)
  if kind == "directory" then
    local own = path:gsub("/+$", "") .. "/" .. config.CONFIG_NAME
    if core.stat(own) then return visit(own) end
    local files, err = core.walk_files(path, config.CONFIG_NAME)
    if not files then return missing(path, err) end
    local any = false
    for p in files do
      any = true
      visit(p)
    end
    if not any then missing(path, "no " .. config.CONFIG_NAME .. " under it") end
  elseif kind then
    visit(path, true)
  else
    missing(path, "no such file or directory")
  end
end

local WORDS = { ok = "ok      ", changed = "changed ", refused = "refused " }
local function verdict_word(v)
  return paint(COLOUR[v] or "bold", WORDS[v] or v)
end

local function reason_lines(r, indent)
  local lines = {}
  for _, x in ipairs(r.reasons) do
    lines[#lines + 1] = indent .. x.message
    local fix = x.fix
    if fix ~= nil and fix ~= cli.null then lines[#lines + 1] = indent .. paint("cyan", "fix: ") .. fix end
  end
  for _, x in ipairs(r.notes or {}) do lines[#lines + 1] = indent .. paint("dim", "note: " .. x.message) end
  return lines
end

-- prints one adapter's entry (from peft.check.check_adapter): with no target named, one line for the PEFT
-- releases and one per engine; else every reason of every target, each with its fix
local function print_entry(e, named)
  local lines = {}
  local head = e.path
  if e.config_class then
    head = head .. "  (" .. e.config_class .. ")"
  elseif e.load_error then
    head = head .. "  (this runtime: " .. cli.strip_path(e.load_error, e.path) .. ")"
  end
  lines[1] = rstrip(paint("bold", head))
  local width = 14
  local results = e.results
  for n = 1, #results do
    local w = #results[n].target + 2
    if w > width then width = w end
  end
  local fmt = "  %-" .. width .. "s %s"
  -- "  TARGET<blanks to width> ": what string.format(fmt, target, ...) puts before the verdict
  local pads = padded[width]
  if not pads then
    pads = {}
    padded[width] = pads
  end
  local function lead(target)
    local p = pads[target]
    if not p then
      p = string.format("  %-" .. width .. "s ", target)
      pads[target] = p
    end
    return p
  end
  if named then
    for _, t in ipairs(e.results) do
      local knob_text
      if t.kind == "engine" and t.knobs and next(t.knobs) then
        local parts = {}
        for _, k in ipairs(config.sorted_keys(t.knobs)) do parts[#parts + 1] = k .. "=" .. tostring(t.knobs[k]) end
        knob_text = table.concat(parts, ", ")
      end
      lines[#lines + 1] = string.format(fmt, t.target, verdict_word(t.verdict))
        .. (knob_text and paint("dim", " (" .. knob_text .. ")") or "")
      for _, l in ipairs(reason_lines(t, "      ")) do lines[#lines + 1] = l end
    end
    for i = 2, #lines do lines[i] = rstrip(lines[i]) end
    lines[#lines + 1] = ""
    out.stdout:write(table.concat(lines, "\n"))
    return
  end
  -- (every line is made without trailing blanks: those that end in a reason's text are stripped as they are
  -- made, the others never have them)
  local others = {}
  for _, run in ipairs(e.runs) do
    if run.from ~= e.oldest then
      others[#others + 1] = (run.from == run.to and run.from.version or (run.from.version .. "-" .. run.to.version))
        .. " " .. run.verdict
    end
  end
  local words, ending = {}, {} -- (verdict -> its painted word; -> the lines it ends, by target)
  local ok_word = verdict_word("ok")
  words.ok = ok_word
  local wl = width_lines[width]
  if not wl then
    wl = { indent = "  " .. string.rep(" ", width + 10) }
    width_lines[width] = wl
  end
  local oldest = e.oldest
  if oldest then
    -- (the same for every adapter whose oldest release it is, at this width and painted so)
    local per = wl[ok_word]
    if not per then
      per = {}
      wl[ok_word] = per
    end
    local line = per[oldest]
    if not line then
      line = string.format(fmt, "peft", ok_word) .. " from " .. oldest.version
        .. " (the oldest release that loads it unchanged)"
      per[oldest] = line
    end
    lines[2] = line
  else
    local r = e.results[1]
    lines[2] = rstrip(string.format(fmt, "peft", verdict_word(r.verdict)) .. " no release loads it unchanged"
      .. (r and r.reasons[1] and ("; " .. r.target .. ": " .. r.reasons[1].message) or ""))
  end
  if #others > 0 then lines[3] = wl.indent .. paint("dim", table.concat(others, ", ")) end
  local fix_mark = paint("cyan", " -- fix: ")
  local null = cli.null
  for n = 1, #results do
    local t = results[n]
    if t.kind == "engine" then
      local v = t.verdict
      local l
      local reasons = t.reasons
      local first = reasons[1]
      if first then
        local word = words[v]
        if not word then
          word = verdict_word(v)
          words[v] = word
        end
        -- (first_line and fix_of, inline)
        local count = #reasons
        local fix = first.fix
        local lt = pads[t.target] or lead(t.target)
        if fix ~= nil and fix ~= null then
          if count > 1 then
            l = lt .. word .. " " .. first.message .. " (+" .. (count - 1) .. " more)" .. fix_mark .. fix
          else
            l = lt .. word .. " " .. first.message .. fix_mark .. fix
          end
        elseif count > 1 then
          l = lt .. word .. " " .. first.message .. " (+" .. (count - 1) .. " more)"
        else
          l = lt .. word .. " " .. first.message
        end
        local b = byte(l, -1)
        if b == 32 or b == 9 then l = rstrip(l) end
      else
        -- the verdict ends the line: without its padding (what rstrip leaves of it); the line is the same
        -- for every adapter (kept per width, painted word and target)
        local by_target = ending[v]
        if not by_target then
          local last = rstrip(words[v] or verdict_word(v))
          local per = whole_lines[pads]
          if not per then
            per = {}
            whole_lines[pads] = per
          end
          by_target = per[last]
          if not by_target then
            by_target = {}
            per[last] = by_target
          end
          ending[v] = by_target
        end
        local target = t.target
        l = by_target[target]
        if not l then
          l = lead(target) .. rstrip(words[v] or verdict_word(v))
          by_target[target] = l
        end
      end
      lines[#lines + 1] = l
    end
  end
  lines[#lines + 1] = ""
  out.stdout:write(table.concat(lines, "\n"))
end

return {
  usage = "peft check PATH... [--peft VERSION]... [--engine NAME[:option=value,...]]... [--json]",
  details = "For each adapter (a directory, its adapter_config.json, or a directory searched for them) and each\n"
    .. "target, one verdict: ok (loads and behaves as the file says), changed (loads, but a setting is dropped\n"
    .. "or ignored: each is listed with its effect) or refused (the target's own error text); each changed or\n"
    .. "refused comes with the fix. --peft takes a release as PEFT spells it (0.6.2); --engine one of vllm,\n"
    .. "sglang, llama.cpp, mistral.rs, lorax, tgi, tensorrt-llm, mlx-lm, ollama, with the engine's options\n"
    .. "(vllm:max_lora_rank=64; 'peft targets' lists them). The weights beside the config are read (tensor\n"
    .. "names, DoRA magnitudes, embedding and lm_head copies), and added_tokens.json.\n"
    .. "With no target: every PEFT release (grouped), the oldest that loads the adapter unchanged, and one\n"
    .. "line per engine. Exit status: 0 when every named target is ok (with none named: when some PEFT\n"
    .. "release loads every adapter unchanged), 1 otherwise, 2 on a usage error.\n",
  options = { json = "flag", peft = "list", engine = "list" },
  run = function(opts, args)
    if #args == 0 then usage_error("expects at least one PATH") end
    local names = {}
    for _, v in ipairs(opts.peft or {}) do
      local ver = v:gsub("^v", "")
      local e = require("peft.target_registry").get("peft " .. ver)
      if not e then
        local list = {}
        for _, t in ipairs(require("peft.target_registry").list()) do
          if t.kind == "peft" then list[#list + 1] = t.version end
        end
        usage_error("--peft %s: not a PEFT release this runtime knows%s (releases: %s ... %s)", v,
          config.suggest(ver, list), list[1], list[#list])
      end
      names[#names + 1] = "peft " .. ver
    end
    for _, v in ipairs(opts.engine or {}) do
      local name = v:match("^([^:]+)") or v
      local e = require("peft.target_registry").get(name)
      if not e or e.kind ~= "engine" then
        local list = {}
        for _, t in ipairs(require("peft.target_registry").list()) do
          if t.kind == "engine" then list[#list + 1] = t.name end
        end
        usage_error("--engine %s: unknown engine%s; engines: %s", name, config.suggest(name, list),
          table.concat(list, ", "))
      end
      names[#names + 1] = v
    end
    local targets
    if #names > 0 then
      local ok, res = pcall(check.resolve_targets, names)
      if not ok then usage_error("%s", (errors.message(res):gsub("^ValueError: ", ""))) end
      targets = res
    end
    local adapters = arr()
    local status = 0
    local function missing(p, why)
      status = 1
      adapters[#adapters + 1] = { path = p, error = why }
      if not opts.json then out.stderr:write("peft check: ", p, ": ", why, "\n") end
    end
    local run = {} -- (what lies beside the configs, looked for once per directory)
    local function visit(p, not_dir)
      local A = check.adapter(p, not_dir, run)
      local ok, res = pcall(check.check_adapter, A, targets, { runs_by_verdict = not opts.json })
      if not ok then return missing(p, cli.strip_path(errors.message(res), p)) end
      if targets then
        for _, t in ipairs(res.results) do
          if t.verdict ~= "ok" then status = 1 end
        end
      elseif not res.oldest then
        status = 1
      end
      if opts.json then adapters[#adapters + 1] = check.entry_json(res) else print_entry(res, targets ~= nil) end
    end
    for _, a in ipairs(args) do each_adapter(a, visit, missing) end
    if opts.json then json_out { adapters = adapters } end
    return status
  end,
}
