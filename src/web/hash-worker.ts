// A Web Worker of the verify page: reads one file at a time as a stream (never the whole file
// in memory) and feeds each chunk to SHA-256 and the content check (core/file-check.ts) in the
// same pass, telling the page how far it got.
import { FileCheck } from '../core/file-check.ts';
import type { FromWorker, ToWorker } from './hash-protocol.ts';
import { newSha256 } from './sha256.ts';

const scope = self as unknown as { postMessage(message: FromWorker): void; addEventListener(type: 'message', listener: (event: MessageEvent<ToWorker>) => void): void };
const PROGRESS_BYTES = 4 * 1024 * 1024;

async function check(message: ToWorker): Promise<void> {
  const { hasher, kind } = await newSha256();
  scope.postMessage({ type: 'hasher', id: message.id, ...kind });
  const check = new FileCheck(message.path, message.file.size, hasher);
  // A zip's end records and directory, read ahead by position (File.slice) before the stream.
  for (let range = check.wanted(); range; range = check.wanted()) {
    check.provide(new Uint8Array(await message.file.slice(range.at, range.at + range.length).arrayBuffer()));
  }
  const reader = message.file.stream().getReader();
  let sinceProgress = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    check.push(value);
    sinceProgress += value.length;
    if (sinceProgress >= PROGRESS_BYTES) {
      scope.postMessage({ type: 'progress', id: message.id, bytes: sinceProgress });
      sinceProgress = 0;
    }
  }
  if (sinceProgress > 0) scope.postMessage({ type: 'progress', id: message.id, bytes: sinceProgress });
  scope.postMessage({ type: 'done', id: message.id, result: check.finish() });
}

scope.addEventListener('message', (event) => {
  check(event.data).catch((err: unknown) => {
    // Chromium says "TypeError: network error" or NotReadableError for a file that changed or went
    // away after it was picked, or that it may not read: no use to a user as it stands.
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const reason = `the browser could not read it (changed, moved or not readable since it was picked; ${detail})`;
    scope.postMessage({ type: 'error', id: event.data.id, message: reason });
  });
});
