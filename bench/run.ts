/**
 * `pnpm bench`: every suite measures its baseline in the same run and prints
 * ratios. Runs inside a private network namespace (loopback only).
 * Pass suite names to run a subset: `pnpm bench spake text`.
 */
import { cleanup } from '@burrow/testkit';
import { browsersBench } from './browsers.js';
import { gatewayBench } from './gateway.js';
import { gatewayIdleBench } from './gateway-idle.js';
import { pageTransferBench } from './page-transfer.js';
import { transferBench } from './transfer.js';
import { filesBench } from './files.js';
import { webrtcBench } from './webrtc.js';
import { spakeBench, textBench } from './wormhole.js';
import { startupBench } from './startup.js';
import { holdFreedMemory } from './lib.js';

const SUITES: Record<string, () => Promise<void>> = {
  spake: spakeBench,
  text: textBench,
  transfer: transferBench,
  webrtc: webrtcBench,
  files: filesBench,
  browsers: browsersBench,
  gateway: gatewayBench,
  'gateway-idle': gatewayIdleBench,
  page: pageTransferBench,
  startup: startupBench,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in SUITES));
if (unknown.length) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`);
  process.exit(2);
}
console.log(`# Burrow benchmarks — ${new Date().toISOString()}, node ${process.version}`);
const releaseMemory = holdFreedMemory();
try {
  for (const [name, suite] of Object.entries(SUITES)) {
    if (wanted.length && !wanted.includes(name)) continue;
    await suite();
  }
} finally {
  releaseMemory();
  await cleanup();
}
