/**
 * A files-v1 sink in memory: partials and final files by path, so tests
 * can plant a partial (resume), corrupt one, and look at what arrived.
 */
import type { FilesSink, OfferedFile, PartialFile } from '../../src/index.js';

export class MemoryFilesSink implements FilesSink {
  /** Partial data by path (what an earlier attempt kept). */
  readonly partials = new Map<string, Uint8Array>();
  /** Files that got their final name. */
  readonly files = new Map<string, Uint8Array>();
  readonly dirs = new Set<string>();
  readonly log: string[] = [];

  async open(file: OfferedFile): Promise<PartialFile> {
    const sink = this;
    const kept = () => sink.partials.get(file.path) ?? new Uint8Array(0);
    const held = Math.min(kept().length, file.size);
    return {
      held,
      readHeld: () =>
        new ReadableStream<Uint8Array>({
          start(c) {
            const data = kept().subarray(0, held);
            for (let i = 0; i < data.length; i += 65536) c.enqueue(data.slice(i, i + 65536));
            c.close();
          },
        }),
      async write(from) {
        sink.log.push(`write ${file.path} from ${from}`);
        let data = kept().slice(0, from);
        sink.partials.set(file.path, data);
        return new WritableStream<Uint8Array>({
          write(chunk) {
            const next = new Uint8Array(data.length + chunk.length);
            next.set(data);
            next.set(chunk, data.length);
            data = next;
            sink.partials.set(file.path, data);
          },
        });
      },
      async commit() {
        if (sink.files.has(file.path)) throw new Error(`${file.path} exists`);
        sink.files.set(file.path, kept());
        sink.partials.delete(file.path);
        sink.log.push(`commit ${file.path}`);
      },
      async discard() {
        sink.partials.delete(file.path);
        sink.log.push(`discard ${file.path}`);
      },
    };
  }

  async mkdir(segments: readonly string[]): Promise<void> {
    this.dirs.add(segments.join('/'));
  }
}
