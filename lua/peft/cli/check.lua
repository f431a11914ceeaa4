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
-- The summary's lines that adapters share, per width and painting (keyed by the painted "ok": colour is
-- decided per run of the command, and one process may run it more than once). Each is keyed by what it is
-- made of, never by the registry's state: an entry's version, a result's contents never change.
local styles = {} -- width -> painted "ok" -> the lines and their parts (see style_of)

-- t[k], made an empty table first if it is not there
local function child(t, k)
  local c = t[k]
  if c == nil then
    c = {}
    t[k] = c
  end
  return c
end

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

-- the summary's shared lines for a column width, with colour as it now is (made on first use, see styles)
local function style_of(width, ok_word)
  local by_paint = child(styles, width)
  local st = by_paint[ok_word]
  if st then return st end
  st = {
    width = width,
    pads = {}, -- target -> "  TARGET<blanks to width> ": what the column format puts before the verdict
    oldest = {}, -- the oldest release's entry -> the peft line (each line kept here ends in its newline)
    -- the other releases' runs, a tree by each run's from, to and verdict, a path per list of runs; .line at
    -- its end (false: no line). A few dozen lists of runs cover a corpus.
    runs = {},
    -- an engine's result -> its line: most results are shared by the adapters they apply to (an engine's ok
    -- result, one whose only reason has the same text for every adapter: see peft.check's found)
    results = setmetatable({}, { __mode = "k" }),
    indent = "  " .. string.rep(" ", width + 10), -- (what comes before the other releases' runs)
    fix_mark = paint("cyan", " -- fix: "),
    words = { ok = ok_word }, -- verdict -> its painted word
  }
  by_paint[ok_word] = st
  return st
end

-- "  TARGET<blanks to width> ": what the column format puts before the verdict (kept in st.pads)
local function pad_of(st, target)
  local lt = st.pads[target]
  if not lt then
    lt = string.format("  %-" .. st.width .. "s ", target)
    st.pads[target] = lt
  end
  return lt
end

-- a verdict's painted word (kept in st.words)
local function word_of(st, v)
  local word = st.words[v]
  if not word then
    word = verdict_word(v)
    st.words[v] = word
  end
  return word
end

-- an engine's line in the summary, with its newline: its verdict and first reason, with that reason's fix
-- (made without trailing blanks: a line that ends in a reason's text is stripped, the verdict alone is put
-- unpadded)
local function engine_line(t, st)
  local word = word_of(st, t.verdict)
  local lt = pad_of(st, t.target)
  local reasons = t.reasons
  local first = reasons[1]
  if not first then return lt .. rstrip(word) .. "\n" end
  local count = #reasons
  local more = count > 1 and (" (+" .. (count - 1) .. " more)") or ""
  local fix = first.fix
  if fix == nil or fix == cli.null then
    return rstrip(lt .. word .. " " .. first.message .. more) .. "\n"
  end
  -- (one concatenation: each would copy the line so far)
  return rstrip(lt .. word .. " " .. first.message .. more .. st.fix_mark .. fix) .. "\n"
end

-- the line of the other releases' runs (those not starting at the oldest that loads the adapter unchanged),
-- with its newline, or false when there are none
local function others_line(st, runs, oldest)
  local node = st.runs
  for n = 1, #runs do
    local run = runs[n]
    local from = run.from
    if from ~= oldest then
      node = child(child(child(node, from), run.to), run.verdict)
    end
  end
  local line = node.line
  if line == nil then
    local parts = {}
    for _, run in ipairs(runs) do
      if run.from ~= oldest then
        parts[#parts + 1] = (run.from == run.to and run.from.version or (run.from.version .. "-" .. run.to.version))
          .. " " .. run.verdict
      end
    end
    line = #parts > 0 and (st.indent .. paint("dim", table.concat(parts, ", ")) .. "\n")
    node.line = line
  end
  return line
end

-- the pieces of a summary, written in one call (one list for every adapter: its first n are the summary's)
local pieces = {}
local unpack = table.unpack

-- prints one adapter's entry (from peft.check.check_adapter): with no target named, one line for the PEFT
-- releases and one per engine; else every reason of every target, each with its fix
local function print_entry(e, named)
  local head = e.path
  if e.config_class then
    head = head .. "  (" .. e.config_class .. ")"
  elseif e.load_error then
    head = head .. "  (this runtime: " .. cli.strip_path(e.load_error, e.path) .. ")"
  end
  head = rstrip(paint("bold", head))
  local width = 14
  local results = e.results
  for n = 1, #results do
    local w = #results[n].target + 2
    if w > width then width = w end
  end
  if named then
    local lines = { head }
    local fmt = "  %-" .. width .. "s %s"
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
  -- the head, then lines that end in their newline (most of them kept, see style_of), written as they are:
  -- joined, each would be copied once more
  local ok_word = verdict_word("ok")
  local st = style_of(width, ok_word)
  local oldest = e.oldest
  local peft_line
  if oldest then
    peft_line = st.oldest[oldest]
    if not peft_line then
      peft_line = pad_of(st, "peft") .. ok_word .. " from " .. oldest.version
        .. " (the oldest release that loads it unchanged)\n"
      st.oldest[oldest] = peft_line
    end
  else
    local r = e.results[1]
    peft_line = rstrip(pad_of(st, "peft") .. word_of(st, r.verdict) .. " no release loads it unchanged"
      .. (r and r.reasons[1] and ("; " .. r.target .. ": " .. r.reasons[1].message) or "")) .. "\n"
  end
  pieces[1], pieces[2], pieces[3] = head, "\n", peft_line
  local n = 3
  local others = others_line(st, e.runs, oldest)
  if others then
    n = 4
    pieces[4] = others
  end
  local by_result = st.results
  for i = 1, #results do
    local t = results[i]
    if t.kind == "engine" then
      local l = by_result[t]
      if not l then
        l = engine_line(t, st)
        by_result[t] = l
      end
      n = n + 1
      pieces[n] = l
    end
  end
  out.stdout:write(unpack(pieces, 1, n))
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
