// A hashing worker (started by hash-files.ts): takes files from the shared counter until none
// is left. Bundled to dist/modelsign-hash-worker.mjs beside the prebuilt client commands.
import { parentPort, workerData } from 'node:worker_threads';
import { alignedBuffer, CHUNK, hashShare, type ShareFile } from './hash-share.ts';

const { files, check, counters, progress } = workerData as { files: ShareFile[]; check: boolean; counters: Int32Array; progress: BigInt64Array };
hashShare(files, check, counters, alignedBuffer(CHUNK), (n) => Atomics.add(progress, 0, BigInt(n)), (id, result) => parentPort!.postMessage({ id, ...result }));
