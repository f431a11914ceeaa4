-- Threads (issue 14): tests/c/test_threads.c (eight threads, a runtime each, all at once) under
-- Valgrind's Helgrind, which must report no error: runtimes share nothing.
local helpers = require "helpers"

describe("threads with a runtime each", function()
  it("run under Helgrind without a data race or a lock-order problem", function()
    local bin = helpers.MAKE_BUILD .. "/test_threads"
    assert.is_true(os.execute("make -s BUILD=" .. helpers.MAKE_BUILD .. " " .. bin .. " >/dev/null 2>&1"))
    local r = helpers.run({ "--tool=helgrind", "-q", "--error-exitcode=9", bin }, { cmd = "valgrind",
      env = { PEFT_THREADS = "8" } })
    assert.are.equal(0, r.code, r.out .. r.err)
    assert.truthy(r.out:find("# test_threads: 1 passed, 0 failed", 1, true), r.out)
    assert.are.equal("", r.err)
  end)
end)
