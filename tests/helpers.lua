-- Shared helpers for the busted specs.
local M = {}

M.PEFT_BIN = os.getenv("PEFT_BIN") or "build/peft"
M.CORE_DIR = os.getenv("PEFT_CORE_DIR") or "build/lib"
M.PTYDRIVE = os.getenv("PTYDRIVE") or "build/ptydrive"

--- repl(script [, opts]) -> transcript, status: runs the peft REPL on a
-- pseudo-terminal (tests/c/ptydrive.c), driven by script lines
-- ("expect TEXT", "send TEXT" with \n \t \xHH escapes, "wait").
function M.repl(script, opts)
  opts = opts or {}
  local r = M.run({ "-t", tostring(opts.timeout or 5000), "--", M.PEFT_BIN }, {
    cmd = M.PTYDRIVE, stdin = table.concat(script, "\n") .. "\n", env = opts.env })
  return r.out:gsub("\r", ""), r.code, r.err
end

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.q = sh_quote

--- A fresh temporary directory (removed by M.cleanup()).
local tmpdirs = {}
function M.tmpdir()
  local p = io.popen("mktemp -d /tmp/peft-spec.XXXXXX")
  local dir = p:read("l")
  p:close()
  tmpdirs[#tmpdirs + 1] = dir
  return dir
end

function M.cleanup()
  for _, d in ipairs(tmpdirs) do os.execute("rm -rf " .. sh_quote(d)) end
  tmpdirs = {}
end

function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- run(args [, opts]) -> { code=, out=, err= }
-- args: list of arguments to the peft executable (or opts.cmd for another
-- program); opts.stdin: text fed on standard input; opts.env: table of
-- environment variables; opts.sh_prefix: shell text run before the command
-- (e.g. "ulimit -f 0; ").
function M.run(args, opts)
  opts = opts or {}
  local dir = M.tmpdir()
  local parts = {}
  for k, v in pairs(opts.env or {}) do parts[#parts + 1] = k .. "=" .. sh_quote(v) end
  parts[#parts + 1] = sh_quote(opts.cmd or M.PEFT_BIN)
  for _, a in ipairs(args) do parts[#parts + 1] = sh_quote(a) end
  local cmd = (opts.sh_prefix or "") .. table.concat(parts, " ")
  if opts.stdin then
    M.write(dir .. "/in", opts.stdin)
    cmd = cmd .. " <" .. sh_quote(dir .. "/in")
  else
    cmd = cmd .. " </dev/null"
  end
  cmd = cmd .. " >" .. sh_quote(dir .. "/out") .. " 2>" .. sh_quote(dir .. "/err")
  local ok, how, code = os.execute(cmd)
  if how == "signal" then code = 128 + code end
  if ok then code = 0 end
  return { code = code, out = M.read(dir .. "/out") or "", err = M.read(dir .. "/err") or "" }
end

--- Calls fn and returns the error value it raises (fails if it does not).
function M.error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got none")
  return err
end

return M
