// Entry of the bundled record Worker (see record-worker.ts); hashing Workers use WebAssembly SHA-256 where it runs.
import { serveRecordJobs } from './record-worker.js';
import { fastSha256 } from './wasm-sha256.js';

serveRecordJobs(globalThis as unknown as Parameters<typeof serveRecordJobs>[0], fastSha256);
