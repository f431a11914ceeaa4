-- scripts/check-release-facts.lua FIXTURE... [--verbose]
-- Compares what `peft check` says of each file of a release fixture (tests/fixtures/check/releases-*.json,
-- recorded by scripts/oracle/record-releases.py from each PEFT release's own loading code) with what each
-- release did: the verdict (ok, changed with the same lost settings, refused), and for refusals the text.
-- Prints one line per fixture and exits 1 when a fixture agrees on fewer than 98% of its pairs.
-- Run with the peft executable: build/peft scripts/check-release-facts.lua tests/fixtures/check/releases-heldout.json
local peft = require "peft"
local check = require "peft.check"
local registry = require "peft.target_registry"
local core = peft.core

local verbose = false
local files = {}
for _, a in ipairs(arg) do
  if a == "--verbose" then verbose = true else files[#files + 1] = a end
end
if #files == 0 then
  io.stderr:write("usage: peft scripts/check-release-facts.lua FIXTURE... [--verbose]\n")
  os.exit(2)
end

local status = 0
for _, path in ipairs(files) do
  local text = assert(core.read_file(path, 1 << 30))
  local fx = assert(core.json_decode(text))
  local pairs_, agreed, refusals, same_text = 0, 0, 0, 0
  for _, f in ipairs(fx.files) do
    local A = check.adapter_from_text(f.text, f.name)
    for i, v in ipairs(fx.releases) do
      local want = f.results[i]
      local wv = type(want) == "string" and want or want[1]
      local r = check.evaluate_release(A, registry.get("peft " .. v))
      local ok = r.verdict == wv
      if ok and wv == "changed" then
        local got = {}
        for _, x in ipairs(r.reasons) do got[#got + 1] = x.setting end
        table.sort(got)
        ok = table.concat(got, ",") == table.concat(want[2], ",")
      end
      -- the oracle's own placeholder for 0.0.x, and Python's JSON messages, are not the release's text to match
      if ok and wv == "refused" and not want[2]:find("^Unsupported") and not want[2]:find("^JSONDecodeError") then
        refusals = refusals + 1
        if r.reasons[1].message == want[2] then same_text = same_text + 1 end
      end
      pairs_ = pairs_ + 1
      if ok then
        agreed = agreed + 1
      elseif verbose then
        print(string.format("  %s %s: PEFT %s, peft check %s", f.name, v, core.json_encode(want), r.verdict))
      end
    end
  end
  local pct = 100 * agreed / pairs_
  print(string.format("%s: %d files x %d releases: %d/%d pairs agree (%.2f%%); refusal texts identical %d/%d",
    fx.set or path, #fx.files, #fx.releases, agreed, pairs_, pct, same_text, refusals))
  if pct < 98 then status = 1 end
end
os.exit(status)
