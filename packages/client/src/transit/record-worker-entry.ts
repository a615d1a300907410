// Entry of the bundled record Worker (see record-worker.ts).
import { serveRecordJobs } from './record-worker.js';

serveRecordJobs(globalThis as unknown as Parameters<typeof serveRecordJobs>[0]);
