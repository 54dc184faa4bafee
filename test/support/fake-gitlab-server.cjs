// @ts-check
// The fake GitLab's server (test/support/fake-gitlab.ts): answers each request with the next
// status of a list (the last repeats), and appends what it saw to a JSON-lines log. Run as
// `node fake-gitlab-server.cjs` (FAKE_GITLAB_STATUSES, FAKE_GITLAB_LOG; prints its port), or
// required and served in the caller's own process.
"use strict";
const http = require("node:http");
const fs = require("node:fs");

/**
 * @param {number[]} statuses
 * @param {string} log
 * @returns {Promise<http.Server>} listening on a free port of 127.0.0.1
 */
function serve(statuses, log) {
  let n = 0;
  const server = http.createServer((req, res) => {
    const status = statuses[Math.min(n++, statuses.length - 1)];
    fs.appendFileSync(log, `${JSON.stringify({ path: req.url, token: req.headers["private-token"] ?? null, status })}\n`);
    res.writeHead(Number(status), { "content-type": "application/json" });
    res.end(status === 200 ? '{"version":"18.5.1","revision":"x"}' : `{"message":"${status}"}`);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

if (require.main === module) {
  serve(JSON.parse(String(process.env.FAKE_GITLAB_STATUSES)), String(process.env.FAKE_GITLAB_LOG)).then((server) => {
    const address = server.address();
    process.stdout.write(`${address && typeof address === "object" ? address.port : ""}\n`);
  });
}

module.exports = { serve };
