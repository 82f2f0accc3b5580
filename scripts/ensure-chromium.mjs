// The e2e suite drives Debian's Chromium (never a downloaded browser). On a fresh
// machine it is not installed yet, so the test command installs it first.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';

if (existsSync(CHROMIUM)) process.exit(0);

console.log(`[ensure-chromium] ${CHROMIUM} missing: installing Debian's chromium package…`);
const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
const run = (args) => {
  const [cmd, ...rest] = [...asRoot, ...args];
  execFileSync(cmd, rest, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
};
try {
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', 'chromium']);
} catch (error) {
  console.error(
    `[ensure-chromium] could not install chromium (${error instanceof Error ? error.message : String(error)}).` +
      ' Install it with `apt-get install chromium` and run the tests again.',
  );
  process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`[ensure-chromium] apt-get finished but ${CHROMIUM} is still missing.`);
  process.exit(1);
}
