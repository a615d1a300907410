// Entry of the bundled hashcash Worker (see hashcash-worker.ts).
import { serveHashcashJobs } from './hashcash-worker.js';

serveHashcashJobs(globalThis as unknown as Parameters<typeof serveHashcashJobs>[0]);
